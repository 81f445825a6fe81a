// Default environment of the C++ tests: the variables CTest is meant to pass (see
// tests/CMakeLists.txt), set before main() unless the real environment already has them.
#include <cstdlib>

namespace {

struct EnvDefault {
  const char* name;
  const char* value;
};

constexpr EnvDefault kDefaults[] = {
#include "test_env.inc"
};

const bool kApplied = [] {
  for (const auto& d : kDefaults) setenv(d.name, d.value, /*overwrite=*/0);
  return true;
}();

}  // namespace

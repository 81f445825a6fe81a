// Build and runtime facts for `clintorch --version` and logs.
#pragma once

#include <string>

namespace clintorch {

// e.g. "clintorch 0.1.0\nLibTorch 2.15.0\nCUDA: compiled in (13.2), available: no (0 devices)"
std::string version_report();

}  // namespace clintorch

// libFuzzer target over config.json parsing (BertConfig::load: JSON, then every field checked).
#include <cstdint>

#include "fuzz_util.h"
#include "model/config.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = clintorch::fuzz::write_input(data, size, "config.json");
  try {
    const auto config = clintorch::model::BertConfig::load(path);
    (void)config;
  } catch (const clintorch::Error&) {
  }
  return 0;
}

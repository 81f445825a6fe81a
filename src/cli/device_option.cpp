// --device of every command: one parser (model::select_device), usage errors exit 2.
#include "cli/commands.h"
#include "model/device.h"
#include "util/error.h"

namespace clintorch::cli {

c10::Device device_option(const std::string& name) {
  try {
    return model::select_device(name, "--device");
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

}  // namespace clintorch::cli

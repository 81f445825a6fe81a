// Minimal thread-safe logging to stderr. Never log raw input text (PHI): log file:line instead.
#pragma once

#include <string>
#include <vector>

#include "util/choice.h"

namespace clintorch {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kSilent = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();

void log_debug(const std::string& message);
void log_info(const std::string& message);
void log_warning(const std::string& message);
void log_error(const std::string& message);

template <>
struct ChoiceNames<LogLevel> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"debug", "info", "warning", "error", "silent"};
    return kNames;
  }
};

}  // namespace clintorch

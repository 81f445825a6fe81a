#include "util/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace clintorch {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mutex;

void emit(LogLevel level, const char* tag, const std::string& message) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "%s%s\n", tag, message.c_str());
  std::fflush(stderr);
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

void log_debug(const std::string& message) { emit(LogLevel::kDebug, "[debug] ", message); }
void log_info(const std::string& message) { emit(LogLevel::kInfo, "", message); }
void log_warning(const std::string& message) { emit(LogLevel::kWarning, "warning: ", message); }
void log_error(const std::string& message) { emit(LogLevel::kError, "error: ", message); }

}  // namespace clintorch

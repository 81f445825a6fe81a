#include "train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace clintorch::train {

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) != 0;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", s / 3600, (s / 60) % 60, s % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", s);
  }
  return buf;
}

ProgressBar::ProgressBar(const ProgressOptions& options)
    : enabled_(options.mode == ProgressMode::kAlways ||
               (options.mode == ProgressMode::kAuto && stderr_is_terminal())),
      total_(options.total_steps) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(int64_t step, double loss, double learning_rate, double tokens_per_second,
                         double elapsed_seconds, double steps_per_second) {
  if (!enabled_) return;
  const int bar_width = 24;
  const double frac = total_ > 0 ? static_cast<double>(step) / static_cast<double>(total_) : 0.0;
  const int filled = static_cast<int>(frac * bar_width);
  std::string bar(static_cast<size_t>(bar_width), ' ');
  for (int i = 0; i < filled && i < bar_width; ++i) bar[static_cast<size_t>(i)] = '#';
  const double eta =
      steps_per_second > 0 ? static_cast<double>(total_ - step) / steps_per_second : NAN;
  char line[256];
  const int n = std::snprintf(
      line, sizeof line, "\r[%s] %lld/%lld  loss %.4f  lr %.3g  %.0f tok/s  %s<%s", bar.c_str(),
      static_cast<long long>(step), static_cast<long long>(total_), loss, learning_rate,
      tokens_per_second, format_duration(elapsed_seconds).c_str(), format_duration(eta).c_str());
  const size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  std::string out(line, std::min(len, sizeof line - 1));
  if (out.size() < width_) out.append(width_ - out.size(), ' ');
  width_ = std::max(width_, out.size());
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
  std::fflush(stderr);
  drawn_ = false;
}

void ProgressBar::finish() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\n", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace clintorch::train

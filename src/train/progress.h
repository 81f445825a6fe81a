// The training progress line on stderr: step/total, loss, learning rate, tokens/s, elapsed and
// ETA, redrawn in place ("\r") when stderr is a terminal. Without a terminal (logs, CI) the
// trainer prints plain log lines every logging_steps instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/choice.h"

namespace clintorch::train {

enum class ProgressMode {
  kAuto,    // draw only when stderr is a terminal
  kAlways,  // draw
  kNever,   // log lines only
};

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kAuto;
  // Optimizer steps of the whole run. Default 0.
  int64_t total_steps = 0;
};

class ProgressBar {
 public:
  explicit ProgressBar(const ProgressOptions& options);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Whether the bar is drawn at all.
  bool enabled() const { return enabled_; }
  // Redraws the line after optimizer step `step` (1-based). `steps_per_second` measures this run
  // (a resumed run starts its clock at the resumed step).
  void update(int64_t step, double loss, double learning_rate, double tokens_per_second,
              double elapsed_seconds, double steps_per_second);
  // Clears the line so that a log line can be printed; the next update() redraws it.
  void clear();
  // Ends the line (newline) for good.
  void finish();

 private:
  bool enabled_ = false;
  bool drawn_ = false;
  int64_t total_ = 0;
  size_t width_ = 0;
};

// "1h02m03s", "4m05s", "7s".
std::string format_duration(double seconds);

// True when stderr is a terminal.
bool stderr_is_terminal();

}  // namespace clintorch::train

namespace clintorch {
template <>
struct ChoiceNames<train::ProgressMode> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"auto", "always", "never"};
    return kNames;
  }
};
}  // namespace clintorch

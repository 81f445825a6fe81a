// metrics.jsonl: one JSON object per line per logging or evaluation event, e.g.
//   {"step":100,"epoch":0.5,"split":"train","time":1732230000.1,"loss":0.42,"learning_rate":4e-05}
// Appends (a resumed run continues the file) and flushes every line. Non-finite values are null.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace clintorch::train {

class MetricsLog {
 public:
  // Opens `path` for appending (creates it and its folder).
  explicit MetricsLog(const std::string& path);

  // Writes {"step", "epoch", "split", "time", <name>: <value>...} as one line.
  void log(int64_t step, double epoch, const std::string& split,
           const std::vector<std::pair<std::string, double>>& values);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace clintorch::train

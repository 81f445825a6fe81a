#include "train/metrics_log.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "train/tensorboard.h"
#include "util/error.h"

namespace clintorch::train {

MetricsLog::MetricsLog(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) fail(path, "cannot create its folder: " + ec.message());
  out_.open(path, std::ios::app);
  if (!out_) fail(path, "cannot open the metrics log for writing");
}

void MetricsLog::log(int64_t step, double epoch, const std::string& split,
                     const std::vector<std::pair<std::string, double>>& values) {
  nlohmann::ordered_json record;
  record["step"] = step;
  record["epoch"] = epoch;
  record["split"] = split;
  record["time"] = wall_time_now();
  for (const auto& [name, value] : values) {
    if (std::isfinite(value)) {
      record[name] = value;
    } else {
      record[name] = nullptr;
    }
  }
  out_ << record.dump() << '\n';
  out_.flush();
  if (!out_) fail(path_, "writing the metrics log failed (disk full?)");
}

}  // namespace clintorch::train

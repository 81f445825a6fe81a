// TensorBoard event files (scalars), written without TensorFlow or protobuf: TFRecord framing
// (length, masked CRC32C of the length, the Event bytes, masked CRC32C of the bytes) around
// hand-encoded Event protos (wall_time, step, file_version, summary.value{tag, simple_value}).
// `tensorboard` and its EventAccumulator read these files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clintorch::train {

// CRC-32C (Castagnoli), as TFRecord uses.
uint32_t crc32c(const void* data, size_t size);
// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t size);

// One serialized Event proto holding scalar values for `step` at `wall_time` (seconds since the
// epoch).
std::string encode_scalar_event(double wall_time, int64_t step,
                                const std::vector<std::pair<std::string, float>>& values);
// The first Event of every file: file_version "brain.Event:2".
std::string encode_file_version_event(double wall_time);
// TFRecord framing of one record.
std::string frame_record(const std::string& data);

class TensorBoardWriter {
 public:
  // Creates `log_dir` (and parents) and a new event file
  // "events.out.tfevents.<seconds>.<host>.<pid>.<n>" in it.
  explicit TensorBoardWriter(const std::string& log_dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // One scalar, e.g. add_scalar("train/loss", 0.42, 100). wall_time: now when not given.
  void add_scalar(const std::string& tag, double value, int64_t step,
                  std::optional<double> wall_time = std::nullopt);
  // Several scalars of one step in one event.
  void add_scalars(const std::vector<std::pair<std::string, double>>& values, int64_t step,
                   std::optional<double> wall_time = std::nullopt);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);

  std::string path_;
  std::ofstream out_;
};

// Seconds since the epoch, with sub-second precision.
double wall_time_now();

}  // namespace clintorch::train

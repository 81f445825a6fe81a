#include "train/tensorboard.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace clintorch::train {
namespace {

// Protobuf wire format helpers (little-endian, base-128 varints).
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void put_tag(std::string& out, uint32_t field, uint32_t wire_type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}
template <class T>
void put_fixed(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86/ARM little-endian, as the wire format
  out.append(bytes, sizeof(T));
}
void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

// Event fields (tensorflow/core/util/event.proto) and Summary fields (summary.proto).
constexpr uint32_t kEventWallTime = 1;     // double
constexpr uint32_t kEventStep = 2;         // int64
constexpr uint32_t kEventFileVersion = 3;  // string
constexpr uint32_t kEventSummary = 5;      // Summary
constexpr uint32_t kSummaryValue = 1;      // repeated Summary.Value
constexpr uint32_t kValueTag = 1;          // string
constexpr uint32_t kValueSimpleValue = 2;  // float

std::string event_header(double wall_time, int64_t step) {
  std::string out;
  put_tag(out, kEventWallTime, 1);
  put_fixed<double>(out, wall_time);
  if (step != 0) {
    put_tag(out, kEventStep, 0);
    put_varint(out, static_cast<uint64_t>(step));  // negative: 10-byte two's complement
  }
  return out;
}

const uint32_t* crc_table() {
  static uint32_t table[256];
  static bool ready = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)ready;
  return table;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  const uint32_t* table = crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string encode_scalar_event(double wall_time, int64_t step,
                                const std::vector<std::pair<std::string, float>>& values) {
  std::string summary;
  for (const auto& [tag, value] : values) {
    std::string v;
    put_bytes(v, kValueTag, tag);
    put_tag(v, kValueSimpleValue, 5);
    put_fixed<float>(v, value);
    put_bytes(summary, kSummaryValue, v);
  }
  std::string event = event_header(wall_time, step);
  put_bytes(event, kEventSummary, summary);
  return event;
}

std::string encode_file_version_event(double wall_time) {
  std::string event = event_header(wall_time, 0);
  put_bytes(event, kEventFileVersion, "brain.Event:2");
  return event;
}

std::string frame_record(const std::string& data) {
  std::string out;
  const uint64_t length = data.size();
  put_fixed<uint64_t>(out, length);
  put_fixed<uint32_t>(out, masked_crc32c(out.data(), sizeof(uint64_t)));
  out += data;
  put_fixed<uint32_t>(out, masked_crc32c(data.data(), data.size()));
  return out;
}

double wall_time_now() {
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

TensorBoardWriter::TensorBoardWriter(const std::string& log_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(log_dir, ec);
  if (ec) fail(log_dir, "cannot create the TensorBoard folder: " + ec.message());
  static std::atomic<int> counter{0};
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  const double now = wall_time_now();
  const std::string name = "events.out.tfevents." + std::to_string(static_cast<int64_t>(now)) +
                           "." + host + "." + std::to_string(getpid()) + "." +
                           std::to_string(counter++);
  path_ = (fs::path(log_dir) / name).string();
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) fail(path_, "cannot create the TensorBoard event file");
  write_record(encode_file_version_event(now));
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (out_.is_open()) out_.flush();
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step,
                                   std::optional<double> wall_time) {
  add_scalars({{tag, value}}, step, wall_time);
}

void TensorBoardWriter::add_scalars(const std::vector<std::pair<std::string, double>>& values,
                                    int64_t step, std::optional<double> wall_time) {
  std::vector<std::pair<std::string, float>> as_float;
  as_float.reserve(values.size());
  for (const auto& [tag, v] : values) as_float.emplace_back(tag, static_cast<float>(v));
  write_record(encode_scalar_event(wall_time ? *wall_time : wall_time_now(), step, as_float));
}

void TensorBoardWriter::flush() {
  out_.flush();
  if (!out_) fail(path_, "writing the TensorBoard event file failed (disk full?)");
}

void TensorBoardWriter::write_record(const std::string& data) {
  const std::string record = frame_record(data);
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
  if (!out_) fail(path_, "writing the TensorBoard event file failed (disk full?)");
}

}  // namespace clintorch::train

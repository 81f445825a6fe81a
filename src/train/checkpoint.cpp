#include "train/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/durable.h"
#include "io/model_path.h"
#include "io/safetensors.h"
#include "io/tensor_store.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::train {
namespace {

namespace fs = std::filesystem;

constexpr char kPrefix[] = "checkpoint-";

template <typename T>
T get_field(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end())
    fail(where, std::string("no \"") + key + "\" field", "is this a clintorch checkpoint?");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(where, std::string("\"") + key + "\" has the wrong type: " + it->dump());
  }
}

NamedTensorList read_tensors(const std::string& path) {
  const io::TensorStore store = io::TensorStore::open(path);
  NamedTensorList out;
  for (const auto& name : store.names()) out.emplace_back(name, store.get(name));
  return out;
}

}  // namespace

nlohmann::json TrainerState::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["global_step"] = global_step;
  j["epoch"] = epoch;
  j["max_steps"] = max_steps;
  j["data_epoch"] = data_epoch;
  j["data_batch"] = data_batch;
  j["micro_step"] = micro_step;
  j["scheduler_step"] = scheduler_step;
  j["num_input_tokens_seen"] = num_input_tokens_seen;
  j["best_metric"] = best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr);
  j["best_model_checkpoint"] = best_model_checkpoint.empty()
                                   ? nlohmann::json(nullptr)
                                   : nlohmann::json(best_model_checkpoint);
  j["metric_for_best_model"] = metric_for_best_model;
  j["evals_without_improvement"] = evals_without_improvement;
  j["nonfinite_skipped"] = nonfinite_skipped;
  j["nonfinite_in_a_row"] = nonfinite_in_a_row;
  j["log_history"] = log_history;
  return j;
}

TrainerState TrainerState::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "trainer_state.json must hold a JSON object");
  TrainerState s;
  s.global_step = get_field<int64_t>(j, "global_step", where);
  s.epoch = get_field<double>(j, "epoch", where);
  s.max_steps = get_field<int64_t>(j, "max_steps", where);
  s.data_epoch = get_field<int64_t>(j, "data_epoch", where);
  s.data_batch = get_field<int64_t>(j, "data_batch", where);
  s.micro_step = get_field<int64_t>(j, "micro_step", where);
  s.scheduler_step = get_field<int64_t>(j, "scheduler_step", where);
  s.num_input_tokens_seen = j.value("num_input_tokens_seen", int64_t{0});
  if (j.contains("best_metric") && j["best_metric"].is_number()) {
    s.best_metric = j["best_metric"].get<double>();
  }
  if (j.contains("best_model_checkpoint") && j["best_model_checkpoint"].is_string()) {
    s.best_model_checkpoint = j["best_model_checkpoint"].get<std::string>();
  }
  s.metric_for_best_model = j.value("metric_for_best_model", std::string());
  s.evals_without_improvement = j.value("evals_without_improvement", int64_t{0});
  s.nonfinite_skipped = j.value("nonfinite_skipped", int64_t{0});
  s.nonfinite_in_a_row = j.value("nonfinite_in_a_row", int64_t{0});
  if (j.contains("log_history") && j["log_history"].is_array()) s.log_history = j["log_history"];
  return s;
}

NamedTensorList rng_states() {
  NamedTensorList out;
  out.emplace_back("cpu", at::detail::getDefaultCPUGenerator().get_state());
  if (torch::cuda::is_available()) {
    for (int i = 0; i < static_cast<int>(torch::cuda::device_count()); ++i) {
      const c10::Device device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i));
      at::Generator gen = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(gen.mutex());
      out.emplace_back("cuda:" + std::to_string(i), gen.get_state());
    }
  }
  return out;
}

void set_rng_states(const NamedTensorList& states) {
  for (const auto& [name, state] : states) {
    if (name == "cpu") {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
    } else if (name.rfind("cuda:", 0) == 0 && torch::cuda::is_available()) {
      const int index = std::stoi(name.substr(5));
      if (index >= static_cast<int>(torch::cuda::device_count())) continue;
      at::Generator gen = at::globalContext().defaultGenerator(
          c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
    }
  }
}

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) fail(tmp, "cannot be written", "check free space and permissions");
  }
  io::fsync_path(tmp);
  io::rename_durable(tmp, path);
}

namespace {

// Test hook (tests/python/test_train_kill.py): CLINTORCH_TEST_CHECKPOINT_DELAY_MS=N pauses N ms
// after each file of a checkpoint, so that a kill at a random moment often lands mid-write.
void test_pause() {
  static const int ms = [] {
    const char* v = std::getenv("CLINTORCH_TEST_CHECKPOINT_DELAY_MS");
    return v ? std::atoi(v) : 0;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void write_checkpoint_files(const fs::path& dir, const CheckpointWriteInput& in) {
  in.write_model(dir.string());
  test_pause();
  NamedTensorList optimizer;
  optimizer.reserve(in.optimizer.size());
  for (const auto& [k, t] : in.optimizer) optimizer.emplace_back(k, t.detach().to(torch::kCPU));
  io::write_safetensors((dir / "optimizer.safetensors").string(), optimizer);
  test_pause();
  io::write_safetensors((dir / "rng_state.safetensors").string(), rng_states());
  write_file_atomic((dir / "trainer_state.json").string(), in.state.to_json().dump(2) + "\n");
  write_file_atomic((dir / "recipe.yaml").string(), in.recipe_yaml);
  test_pause();
  // Durable before it gets its name: every file synced, the manifest written last.
  io::seal_folder(dir.string());
  test_pause();
}

}  // namespace

void remove_partial_checkpoints(const std::string& output_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(output_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(std::string(".") + kPrefix, 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".tmp") == 0) {
      fs::remove_all(entry.path(), ec);
    }
  }
}

std::string write_checkpoint(const std::string& output_dir, const CheckpointWriteInput& in) {
  const std::string name = kPrefix + std::to_string(in.state.global_step);
  const fs::path final_dir = fs::path(output_dir) / name;
  const fs::path tmp_dir = fs::path(output_dir) / ("." + name + ".tmp");
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);  // leftovers of killed runs are cleared when training starts
  fs::create_directories(tmp_dir, ec);
  if (ec) fail(tmp_dir.string(), "cannot be created: " + ec.message());
  try {
    write_checkpoint_files(tmp_dir, in);
  } catch (const Error& e) {
    // A failed write (e.g. a full disk) leaves the earlier checkpoints as they were and frees
    // what it had written.
    fs::remove_all(tmp_dir, ec);
    fail(final_dir.string(), std::string("is not written: ") + e.what(),
         "the earlier checkpoints are intact; free disk space and resume with "
         "resume_from_checkpoint: last");
  }
  // Replaces an older checkpoint of the same step (a rerun after overwrite_output_dir).
  io::replace_folder(tmp_dir.string(), final_dir.string());
  return final_dir.string();
}

LoadedCheckpoint read_checkpoint(const std::string& dir, bool verified) {
  if (const auto problem = verified ? std::nullopt : io::verify_manifest(dir)) {
    fail(dir, "is not a complete checkpoint: " + *problem,
         "resume from an earlier checkpoint-N, or with resume_from_checkpoint: last, which "
         "takes the newest complete one");
  }
  LoadedCheckpoint out;
  out.dir = dir;
  const std::string state_path = (fs::path(dir) / "trainer_state.json").string();
  std::ifstream in(state_path);
  if (!in) {
    fail(state_path, "cannot be read",
         "resume_from_checkpoint needs a checkpoint-N folder written by `clintorch train`");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(state_path, std::string("not valid JSON: ") + e.what());
  }
  out.state = TrainerState::from_json(j, state_path);
  out.optimizer = read_tensors((fs::path(dir) / "optimizer.safetensors").string());
  out.rng = read_tensors((fs::path(dir) / "rng_state.safetensors").string());
  return out;
}

std::vector<std::string> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return {};
  for (const auto& entry : fs::directory_iterator(output_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    const int64_t step = io::checkpoint_step(entry.path().filename().string());
    if (step < 0 || !fs::exists(entry.path() / "trainer_state.json", ec)) continue;
    found.emplace_back(step, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::vector<std::string> rotate_checkpoints(const std::string& output_dir, int64_t limit,
                                            const std::string& keep) {
  std::vector<std::string> deleted;
  if (limit <= 0) return deleted;
  std::vector<std::string> all = list_checkpoints(output_dir);
  const auto same = [](const std::string& a, const std::string& b) {
    std::error_code ec;
    return !b.empty() && fs::equivalent(a, b, ec);
  };
  int64_t excess = static_cast<int64_t>(all.size()) - limit;
  for (const auto& dir : all) {
    if (excess <= 0) break;
    if (same(dir, keep)) continue;
    // The newest checkpoint stays (a resume needs it).
    if (dir == all.back()) break;
    std::error_code ec;
    io::remove_folder(dir, ec);  // never half-deleted under its checkpoint-N name
    if (ec) {
      log_warning("could not delete " + dir + ": " + ec.message());
      continue;
    }
    deleted.push_back(dir);
    --excess;
  }
  return deleted;
}

}  // namespace clintorch::train

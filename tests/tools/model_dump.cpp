// model_dump: a developer and test tool (not part of the clintorch CLI). It loads a HuggingFace
// BERT directory with our loader, runs our encoder on the inputs of a safetensors file and writes
// every output with our safetensors writer, so the Python tests can compare them with
// transformers. It can also export the loaded model, and report load memory for the benchmark.
//
//   model_dump --model DIR --inputs in.safetensors --out out.safetensors
//              [--hidden-states] [--attentions] [--bf16] [--no-pooler] [--strict]
//              [--device cpu|cuda] [--export OUT_DIR] [--report report.json]
//   model_dump --model DIR --load-only      # load, print peak memory as JSON
//   model_dump --baseline                   # start LibTorch only, print memory as JSON
//   model_dump --check F1 F2 ...            # open each checkpoint file, read every tensor;
//                                           # one JSON line per file: {"file", "ok", "error"}
//
// Inputs: input_ids (batch, seq) int64; optional attention_mask and token_type_ids, same shape.
// Outputs (float32): last_hidden_state, pooler_output, hidden_states.N, attentions.N.
// Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors.h"
#include "io/tensor_store.h"
#include "model/autocast.h"
#include "model/pretrained.h"
#include "util/error.h"

namespace {

using clintorch::fail;

// Peak and current resident memory from /proc/self/status (kB -> bytes).
nlohmann::json memory_report() {
  nlohmann::json j;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"VmHWM", "VmRSS", "RssAnon", "RssFile"}) {
      const std::string prefix = std::string(key) + ":";
      if (line.rfind(prefix, 0) == 0) j[key] = std::stoll(line.substr(prefix.size())) * 1024;
    }
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  j["ru_maxrss"] = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  return j;
}

at::Tensor optional_input(const clintorch::io::TensorStore& inputs, const std::string& name,
                          const c10::Device& device) {
  if (!inputs.contains(name)) return {};
  return inputs.get(name).to(device);
}

int run(int argc, char** argv) {
  CLI::App app{"Run clintorch's BERT encoder on given inputs and dump every output"};
  std::string model_dir, inputs_path, out_path, export_dir, report_path, device_name = "cpu";
  bool hidden = false, attentions = false, bf16 = false, no_pooler = false, strict = false;
  bool load_only = false, baseline = false, unpad = false;
  std::vector<std::string> check_files;
  app.add_option("--model", model_dir, "HuggingFace BERT directory");
  app.add_option("--inputs", inputs_path,
                 "safetensors with input_ids [attention_mask] [token_type_ids]");
  app.add_option("--out", out_path, "safetensors file for the outputs");
  app.add_flag("--hidden-states", hidden, "also write hidden_states.N");
  app.add_flag("--attentions", attentions, "also write attentions.N");
  app.add_flag("--bf16", bf16, "run under bf16 autocast");
  app.add_flag("--unpad", unpad, "run the unpadded encoder path (ForwardOptions::unpad)");
  app.add_flag("--no-pooler", no_pooler, "build the encoder without pooler");
  app.add_flag("--strict", strict, "missing or unexpected weights are an error");
  app.add_option("--device", device_name, "cpu or cuda");
  app.add_option("--export", export_dir, "write the loaded model as a HF directory");
  app.add_option("--report", report_path,
                 "write the load report (loaded/missing/unexpected) as JSON");
  app.add_flag("--load-only", load_only, "load the model, print memory figures as JSON");
  app.add_flag("--baseline", baseline, "start LibTorch only, print memory figures as JSON");
  app.add_option("--check", check_files, "checkpoint files to open and read completely");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (baseline) {
    // The same start-up work as a load, minus the model: LibTorch initialised, one tiny op.
    (void)torch::ones({2, 2}).sum().item<float>();
    std::printf("%s\n", memory_report().dump().c_str());
    return 0;
  }
  if (!check_files.empty()) {
    for (const auto& file : check_files) {
      nlohmann::json line = {{"file", file}, {"ok", true}};
      try {
        const auto store = clintorch::io::TensorStore::open(file);
        for (const auto& name : store.names()) (void)store.get(name);
        line["tensors"] = store.size();
      } catch (const clintorch::Error& e) {
        line["ok"] = false;
        line["error"] = e.what();
      }
      // Names in a damaged file may hold invalid UTF-8: replace, do not throw.
      std::printf("%s\n",
                  line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    return 0;
  }
  if (model_dir.empty()) throw clintorch::UsageError("--model is required");
  const c10::Device device(device_name);
  clintorch::model::PretrainedOptions options;
  options.strict = strict;
  options.add_pooling_layer = !no_pooler;
  options.device = device;
  auto bert = clintorch::model::load_pretrained_bert(model_dir, options);
  if (load_only) {
    nlohmann::json j = memory_report();
    int64_t params = 0;
    for (const auto& p : bert.model->parameters()) params += p.numel() * p.element_size();
    j["parameter_bytes"] = params;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  if (!report_path.empty()) {
    nlohmann::json j = {{"loaded", bert.report.loaded},
                        {"missing", bert.report.missing},
                        {"unexpected", bert.report.unexpected}};
    std::ofstream(report_path) << j.dump(2);
  }
  if (!export_dir.empty()) {
    clintorch::model::save_pretrained(export_dir, bert.config, bert.model, model_dir);
  }
  if (inputs_path.empty()) return 0;
  if (out_path.empty()) throw clintorch::UsageError("--inputs needs --out");

  const auto inputs = clintorch::io::TensorStore::open(inputs_path);
  const at::Tensor input_ids = inputs.get("input_ids").to(device);
  const at::Tensor mask = optional_input(inputs, "attention_mask", device);
  const at::Tensor types = optional_input(inputs, "token_type_ids", device);

  torch::NoGradGuard no_grad;
  clintorch::model::ForwardOptions fwd;
  fwd.output_hidden_states = hidden;
  fwd.output_attentions = attentions;
  fwd.unpad = unpad;
  clintorch::model::BertModelOutput out;
  {
    clintorch::model::AutocastScope autocast(device.type(), c10::ScalarType::BFloat16, bf16);
    out = bert.model->forward(input_ids, mask, types, fwd);
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  auto add = [&](const std::string& name, const at::Tensor& t) {
    tensors.emplace_back(name, t.to(torch::kCPU, torch::kFloat32).contiguous());
  };
  add("last_hidden_state", out.last_hidden_state);
  if (out.pooler_output.defined()) add("pooler_output", out.pooler_output);
  for (size_t i = 0; i < out.hidden_states.size(); ++i) {
    add("hidden_states." + std::to_string(i), out.hidden_states[i]);
  }
  for (size_t i = 0; i < out.attentions.size(); ++i) {
    add("attentions." + std::to_string(i), out.attentions[i]);
  }
  clintorch::io::write_safetensors(
      out_path, tensors,
      {{"last_hidden_state_dtype", c10::toString(out.last_hidden_state.scalar_type())}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const clintorch::UsageError& e) {
    std::fprintf(stderr, "model_dump: %s\n", e.what());
    return 2;
  } catch (const clintorch::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error: %s\n", e.what());
    return 1;
  }
}

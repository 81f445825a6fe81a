// head_dump: a developer and test tool (not part of the clintorch CLI). It runs many cases in one
// process (LibTorch starts once): each loads a HuggingFace directory into a TaskModel with our
// loader, runs it on a batch read from a safetensors file and writes every output, so the Python
// tests can compare them with transformers. A case can also export the model.
//
//   head_dump --cases cases.json
//
// cases.json: a list of objects with the keys
//   model     HF directory to load (required)
//   head      registry name; "" or absent = the head config.json names
//   options   HeadOptions as JSON (model/heads/head.h), default {}
//   strict, ignore_mismatched_sizes   TaskLoadOptions, default false
//   resize_vocab   resize the token embeddings to this many rows after loading
//   inputs    safetensors file with the batch tensors (every tensor becomes a batch entry)
//   out       safetensors file for the outputs: loss, loss_sum, loss_weight, logits,
//             start_logits, end_logits, positions, decoded (float32 / int64); plus OUT.json with
//             the head info, the load report and the exported config, or {"error": message}
//   params    list of parameter names to write as "param.NAME" (e.g. to check initialisation)
//   export    directory to save the model to (save_pretrained), tokenizer files from `tokenizer`
//             (default: the model directory)
//   train     run in training mode (dropout on), default false
// A case that throws clintorch::Error writes {"error": message} to OUT.json and the run goes on.
// Exit status: 0 ok, 1 bad cases file, 2 bad usage.
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors.h"
#include "io/tensor_store.h"
#include "model/heads/registry.h"
#include "model/heads/task_model.h"
#include "util/error.h"

namespace {

using clintorch::fail;
namespace model = clintorch::model;

void write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2);
  if (!out) fail(path, "cannot write");
}

void run_case(const nlohmann::json& c) {
  const std::string out_path = c.at("out").get<std::string>();
  nlohmann::json summary;
  try {
    const std::string dir = c.at("model").get<std::string>();
    model::HeadOptions options;
    if (c.contains("options")) options = model::HeadOptions::from_json(c["options"], "options");
    model::TaskLoadOptions load;
    load.strict = c.value("strict", false);
    load.ignore_mismatched_sizes = c.value("ignore_mismatched_sizes", false);
    auto task = model::load_task_model(dir, c.value("head", std::string()), options, load);
    if (c.contains("resize_vocab"))
      task.model->resize_token_embeddings(c["resize_vocab"].get<int64_t>());
    task.model->train(c.value("train", false));

    const model::HeadInfo info = task.model->info();
    summary["info"] = {{"name", info.name},
                       {"dataset_tasks", info.dataset_tasks},
                       {"metric_family", info.metric_family},
                       {"hf_architecture", info.hf_architecture},
                       {"uses_pooler", info.uses_pooler},
                       {"required_tokens", task.model->head().required_tokens()},
                       {"labels", task.model->head().labels()}};
    summary["report"] = {{"loaded", task.report.loaded},
                         {"missing", task.report.missing},
                         {"unexpected", task.report.unexpected}};
    summary["config"] = task.model->hf_config();
    std::vector<std::string> names;
    for (const auto& [name, t] : task.model->hf_tensors()) names.push_back(name);
    summary["tensor_names"] = names;

    std::vector<std::pair<std::string, at::Tensor>> tensors;
    auto add = [&](const std::string& name, const at::Tensor& t) {
      if (!t.defined()) return;
      const at::Tensor cpu = t.detach().to(torch::kCPU);
      tensors.emplace_back(
          name,
          (cpu.is_floating_point() ? cpu.to(torch::kFloat32) : cpu.to(torch::kLong)).contiguous());
    };
    if (c.contains("params")) {
      const auto params = task.model->named_parameters(/*recurse=*/true);
      for (const auto& name : c["params"].get<std::vector<std::string>>()) {
        const at::Tensor* p = params.find(name);
        if (p == nullptr) fail("params", "no parameter named " + name);
        add("param." + name, *p);
      }
    }
    if (c.contains("inputs")) {
      const auto store = clintorch::io::TensorStore::open(c["inputs"].get<std::string>());
      model::Batch batch;
      for (const auto& name : store.names()) batch[name] = store.get(name);
      torch::NoGradGuard no_grad;
      const model::HeadOutput out = task.model->forward(batch);
      add("loss", out.loss);
      add("loss_sum", out.loss_sum);
      add("loss_weight", out.loss_weight);
      add("logits", out.logits);
      add("start_logits", out.start_logits);
      add("end_logits", out.end_logits);
      add("positions", out.positions);
      add("decoded", task.model->decode(out, batch));
    }
    if (!tensors.empty()) clintorch::io::write_safetensors(out_path, tensors);
    if (c.contains("export")) {
      task.model->save_pretrained(c["export"].get<std::string>(), c.value("tokenizer", dir));
    }
  } catch (const clintorch::Error& e) {
    summary = {{"error", e.what()}};
  }
  write_json(out_path + ".json", summary);
}

int run(int argc, char** argv) {
  CLI::App app{"Run clintorch task heads on given batches and dump every output"};
  std::string cases_path;
  app.add_option("--cases", cases_path, "JSON list of cases")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::ifstream in(cases_path);
  if (!in) fail(cases_path, "cannot open");
  nlohmann::json cases;
  try {
    in >> cases;
  } catch (const nlohmann::json::exception& e) {
    fail(cases_path, std::string("not JSON: ") + e.what());
  }
  for (const auto& c : cases) run_case(c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const clintorch::UsageError& e) {
    std::fprintf(stderr, "head_dump: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

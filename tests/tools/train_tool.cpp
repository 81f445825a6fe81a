// clintorch_train_tool: drives src/train/ pieces from the Python parity tests
// (tests/python/test_optim.py, test_tensorboard.py). Not installed; CTest passes its path to the
// tests as CLINTORCH_TRAIN_TOOL.
//
//   clintorch_train_tool schedule SPEC.json    learning rates of every step, as JSON on stdout
//   clintorch_train_tool adamw SPEC.json       runs AdamW + schedule + clipping over given grads
//   clintorch_train_tool tensorboard SPEC.json writes the given scalars (event file +
//   metrics.jsonl)
//
// Tensors travel as raw little-endian float32 files; SPEC.json names them (see the tests).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "train/metrics_log.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "train/tensorboard.h"
#include "util/error.h"

namespace ct = clintorch::train;
using json = nlohmann::ordered_json;

namespace {

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) clintorch::fail(path, "cannot be read");
  return json::parse(in);
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) clintorch::fail(path, "cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

void write_floats(const std::string& path, const std::vector<torch::Tensor>& tensors) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& t : tensors) {
    const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    out.write(reinterpret_cast<const char*>(c.data_ptr<float>()),
              static_cast<std::streamsize>(c.numel() * sizeof(float)));
  }
}

ct::ScheduleOptions schedule_options(const json& s, int64_t total) {
  ct::ScheduleOptions o;
  o.type = ct::parse_schedule_type(s.at("type").get<std::string>());
  o.total_steps = total;
  o.warmup_steps = ct::resolve_warmup_steps(s.value("warmup_steps", int64_t{0}),
                                            s.value("warmup_ratio", 0.0), total);
  return o;
}

// {"type", "warmup_steps", "warmup_ratio", "total_steps", "initial_lr", "extra_steps"}
json schedule_case(const json& spec) {
  const int64_t total = spec.at("total_steps");
  const ct::ScheduleOptions o = schedule_options(spec, total);
  auto p = torch::zeros({1}, torch::requires_grad());
  ct::ParamGroup g;
  g.name = "all";
  g.param_names = {"p"};
  g.params = {p};
  g.initial_lr = spec.at("initial_lr");
  g.lr = g.initial_lr;
  ct::AdamW opt({g});
  ct::LrScheduler scheduler(opt, o);
  json lrs = json::array();
  const int64_t steps = total + spec.value("extra_steps", int64_t{0});
  for (int64_t s = 0; s <= steps; ++s) {
    lrs.push_back(scheduler.last_lr()[0]);
    scheduler.step();
  }
  json out;
  out["warmup_steps"] = o.warmup_steps;
  out["lr"] = lrs;
  return out;
}

// {"cases": [schedule_case spec...]} -> [result...]
int cmd_schedule(const json& spec) {
  json out = json::array();
  for (const auto& c : spec.at("cases")) out.push_back(schedule_case(c));
  std::cout << out.dump() << "\n";
  return 0;
}

// {"params": [{"name", "shape"}], "init": FILE, "grads": FILE, "out": FILE, "steps",
//  "learning_rate", "weight_decay", "beta1", "beta2", "eps", "max_grad_norm",
//  "layerwise_lr_decay", "num_layers", "freeze_embeddings", "freeze_layers", "fused",
//  "schedule": {"type", "warmup_steps", "warmup_ratio"}, "grad_scale", "found_inf_steps",
//  "device": "cpu" | "cuda"}
int cmd_adamw(const json& spec) {
  const torch::Device device(spec.value("device", std::string("cpu")));
  const std::vector<float> init = read_floats(spec.at("init"));
  const std::vector<float> grads = read_floats(spec.at("grads"));
  ct::NamedParameters named;
  size_t offset = 0;
  for (const auto& p : spec.at("params")) {
    const std::vector<int64_t> shape = p.at("shape");
    auto t = torch::empty(shape, torch::kFloat32);
    std::memcpy(t.data_ptr<float>(), init.data() + offset, t.numel() * sizeof(float));
    offset += t.numel();
    t = t.to(device);
    named.emplace_back(p.at("name").get<std::string>(), t.requires_grad_(true));
  }
  const size_t total_numel = offset;
  if (init.size() != total_numel) clintorch::fail("init", "size mismatch");

  ct::FreezeOptions freeze;
  freeze.embeddings = spec.value("freeze_embeddings", false);
  freeze.layers = spec.value("freeze_layers", int64_t{0});
  const auto frozen = ct::freeze_parameters(named, freeze);

  ct::ParamGroupOptions go;
  go.learning_rate = spec.at("learning_rate");
  go.weight_decay = spec.at("weight_decay");
  go.layerwise_lr_decay = spec.value("layerwise_lr_decay", 1.0);
  go.num_layers = spec.value("num_layers", int64_t{0});
  ct::AdamWOptions ao;
  ao.beta1 = spec.at("beta1");
  ao.beta2 = spec.at("beta2");
  ao.eps = spec.at("eps");
  ao.fused = spec.value("fused", true);
  ct::AdamW opt(ct::build_param_groups(named, go), ao);

  const int64_t steps = spec.at("steps");
  if (grads.size() != total_numel * static_cast<size_t>(steps))
    clintorch::fail("grads", "size mismatch");
  ct::LrScheduler scheduler(opt, schedule_options(spec.at("schedule"), steps));
  const double max_grad_norm = spec.at("max_grad_norm");
  const double grad_scale = spec.value("grad_scale", 0.0);
  const std::vector<int64_t> inf_steps = spec.value("found_inf_steps", std::vector<int64_t>{});
  std::vector<torch::Tensor> params;  // model order, as HF Trainer's clip_grad_norm_
  for (const auto& [name, t] : named) params.push_back(t);

  json norms = json::array(), lrs = json::array();
  for (int64_t s = 0; s < steps; ++s) {
    size_t off = static_cast<size_t>(s) * total_numel;
    for (auto& [name, t] : named) {
      if (t.requires_grad()) {
        auto g = torch::empty(t.sizes(), torch::kFloat32);
        std::memcpy(g.data_ptr<float>(), grads.data() + off, g.numel() * sizeof(float));
        t.mutable_grad() = g.to(device);
      }
      off += t.numel();
    }
    if (max_grad_norm > 0)
      norms.push_back(ct::clip_grad_norm(params, max_grad_norm).item<double>());
    lrs.push_back(scheduler.last_lr());
    if (grad_scale > 0) {
      // fp16 loss scaling: the kernel unscales, and skips the step where found_inf is 1.
      const bool inf = std::find(inf_steps.begin(), inf_steps.end(), s) != inf_steps.end();
      opt.step(torch::full({}, grad_scale, torch::TensorOptions().device(device)),
               torch::full({}, inf ? 1.0f : 0.0f, torch::TensorOptions().device(device)));
    } else {
      opt.step();
    }
    scheduler.step();
    opt.zero_grad();
  }
  std::vector<torch::Tensor> finals;
  for (const auto& [name, t] : named) finals.push_back(t);
  write_floats(spec.at("out"), finals);

  json out;
  out["frozen"] = frozen;
  json groups = json::array();
  for (const auto& g : opt.groups()) {
    groups.push_back({{"name", g.name},
                      {"params", g.param_names},
                      {"initial_lr", g.initial_lr},
                      {"weight_decay", g.weight_decay}});
  }
  out["groups"] = groups;
  out["grad_norms"] = norms;
  out["lrs"] = lrs;
  json excluded = json::array();
  for (const auto& [name, t] : named) {
    if (ct::excluded_from_weight_decay(name)) excluded.push_back(name);
  }
  out["excluded_from_weight_decay"] = excluded;
  std::cout << out.dump() << "\n";
  return 0;
}

// {"log_dir", "metrics": FILE, "events": [{"step", "wall_time", "values": {tag: value}}]}
int cmd_tensorboard(const json& spec) {
  ct::TensorBoardWriter writer(spec.at("log_dir").get<std::string>());
  ct::MetricsLog metrics(spec.at("metrics").get<std::string>());
  for (const auto& e : spec.at("events")) {
    std::vector<std::pair<std::string, double>> values;
    for (const auto& [tag, v] : e.at("values").items()) values.emplace_back(tag, v.get<double>());
    const int64_t step = e.at("step");
    if (values.size() == 1) {
      writer.add_scalar(values[0].first, values[0].second, step, e.at("wall_time").get<double>());
    } else {
      writer.add_scalars(values, step, e.at("wall_time").get<double>());
    }
    metrics.log(step, e.value("epoch", 0.0), e.value("split", "train"), values);
  }
  writer.flush();
  std::cout << json{{"event_file", writer.path()}}.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: clintorch_train_tool schedule|adamw|tensorboard SPEC.json\n");
    return 2;
  }
  try {
    const std::string cmd = argv[1];
    const json spec = read_json(argv[2]);
    if (cmd == "schedule") return cmd_schedule(spec);
    if (cmd == "adamw") return cmd_adamw(spec);
    if (cmd == "tensorboard") return cmd_tensorboard(spec);
    std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

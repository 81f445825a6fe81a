// AdamW state save/restore (resume continues bitwise), scheduler jumps, parameter grouping and
// freezing rules. Parity with torch.optim.AdamW / HF schedules is in tests/python/test_optim.py.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "train/optim.h"
#include "train/schedule.h"
#include "util/error.h"

namespace ct = clintorch::train;

namespace {

ct::NamedParameters make_params(int64_t seed) {
  torch::manual_seed(seed);
  return {
      {"bert.embeddings.word_embeddings.weight", torch::randn({10, 4}).requires_grad_()},
      {"bert.embeddings.LayerNorm.weight", torch::ones({4}).requires_grad_()},
      {"bert.encoder.layer.0.attention.self.query.weight", torch::randn({4, 4}).requires_grad_()},
      {"bert.encoder.layer.0.attention.self.query.bias", torch::zeros({4}).requires_grad_()},
      {"bert.encoder.layer.1.output.dense.weight", torch::randn({4, 4}).requires_grad_()},
      {"bert.encoder.layer.1.output.LayerNorm.bias", torch::zeros({4}).requires_grad_()},
      {"classifier.weight", torch::randn({3, 4}).requires_grad_()},
      {"classifier.bias", torch::zeros({3}).requires_grad_()}};
}

void set_grads(ct::NamedParameters& named, int64_t step) {
  torch::manual_seed(1000 + step);
  for (auto& [name, p] : named) {
    if (p.requires_grad()) p.mutable_grad() = torch::randn_like(p) * 0.1;
  }
}

struct TrainRun {
  ct::NamedParameters named;
  std::unique_ptr<ct::AdamW> opt;
  std::unique_ptr<ct::LrScheduler> sched;
  explicit TrainRun(bool fused) : named(make_params(0)) {
    ct::ParamGroupOptions g;
    g.learning_rate = 1e-2;
    g.weight_decay = 0.1;
    g.layerwise_lr_decay = 0.7;
    g.num_layers = 2;
    ct::AdamWOptions o;
    o.fused = fused;
    opt = std::make_unique<ct::AdamW>(ct::build_param_groups(named, g), o);
    ct::ScheduleOptions s;
    s.type = ct::ScheduleType::kLinear;
    s.warmup_steps = 2;
    s.total_steps = 10;
    sched = std::make_unique<ct::LrScheduler>(*opt, s);
  }
  void steps(int64_t from, int64_t to) {
    std::vector<at::Tensor> params;
    for (auto& [n, p] : named) params.push_back(p);
    for (int64_t s = from; s < to; ++s) {
      set_grads(named, s);
      ct::clip_grad_norm(params, 0.5);
      opt->step();
      sched->step();
      opt->zero_grad();
    }
  }
};

}  // namespace

TEST(Optim, ResumeFromSavedStateContinuesBitwise) {
  for (bool fused : {true, false}) {
    TrainRun straight(fused);
    straight.steps(0, 10);

    TrainRun first(fused);
    first.steps(0, 4);
    // Checkpoint: parameters and optimizer state, copied.
    std::vector<at::Tensor> saved_params;
    for (auto& [n, p] : first.named) saved_params.push_back(p.detach().clone());
    ct::NamedParameters saved_state;
    for (auto& [n, t] : first.opt->state()) saved_state.emplace_back(n, t.clone());
    EXPECT_EQ(saved_state.size(), 3 * first.named.size());

    TrainRun resumed(fused);
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < saved_params.size(); ++i)
        resumed.named[i].second.copy_(saved_params[i]);
    }
    resumed.opt->load_state(saved_state);
    resumed.sched->set_step(4);
    resumed.steps(4, 10);
    for (size_t i = 0; i < straight.named.size(); ++i) {
      EXPECT_TRUE(torch::equal(straight.named[i].second, resumed.named[i].second))
          << (fused ? "fused " : "single ") << straight.named[i].first;
    }
  }
}

// An optimizer step changes every updated parameter's version counter (the fused kernel does
// not on its own): evaluation's packed weights (model::PackedLinear) key on it.
TEST(Optim, StepBumpsTheParametersVersions) {
  for (bool fused : {true, false}) {
    TrainRun run(fused);
    std::vector<int64_t> before;
    for (auto& [n, p] : run.named) before.push_back(p._version());
    run.steps(0, 1);
    for (size_t i = 0; i < run.named.size(); ++i) {
      EXPECT_GT(run.named[i].second._version(), before[i])
          << (fused ? "fused " : "single ") << run.named[i].first;
    }
  }
}

TEST(Optim, LoadStateRejectsUnknownNamesAndShapes) {
  TrainRun run(true);
  run.steps(0, 1);
  auto state = run.opt->state();
  state.emplace_back("nope/step", torch::zeros({}));
  EXPECT_THROW(run.opt->load_state(state), clintorch::Error);
  auto bad = run.opt->state();
  bad[1].second = torch::zeros({7});
  EXPECT_THROW(run.opt->load_state(bad), clintorch::Error);
}

TEST(Optim, GroupsSplitDecayAndDepth) {
  auto named = make_params(0);
  ct::ParamGroupOptions g;
  g.learning_rate = 1.0;
  g.weight_decay = 0.01;
  g.layerwise_lr_decay = 0.5;
  g.num_layers = 2;
  const auto groups = ct::build_param_groups(named, g);
  std::map<std::string, double> lr_of, wd_of;
  for (const auto& group : groups) {
    for (const auto& n : group.param_names) {
      lr_of[n] = group.initial_lr;
      wd_of[n] = group.weight_decay;
    }
  }
  EXPECT_EQ(lr_of["bert.embeddings.word_embeddings.weight"], 0.125);  // 0.5^3
  EXPECT_EQ(lr_of["bert.encoder.layer.0.attention.self.query.weight"], 0.25);
  EXPECT_EQ(lr_of["bert.encoder.layer.1.output.dense.weight"], 0.5);
  EXPECT_EQ(lr_of["classifier.weight"], 1.0);
  EXPECT_EQ(wd_of["bert.embeddings.LayerNorm.weight"], 0.0);
  EXPECT_EQ(wd_of["bert.encoder.layer.0.attention.self.query.bias"], 0.0);
  EXPECT_EQ(wd_of["classifier.weight"], 0.01);
}

TEST(Optim, FreezingRemovesParametersFromTheGroups) {
  auto named = make_params(0);
  ct::FreezeOptions f;
  f.embeddings = true;
  f.layers = 1;
  const auto frozen = ct::freeze_parameters(named, f);
  EXPECT_EQ(frozen, (std::vector<std::string>{"bert.embeddings.word_embeddings.weight",
                                              "bert.embeddings.LayerNorm.weight",
                                              "bert.encoder.layer.0.attention.self.query.weight",
                                              "bert.encoder.layer.0.attention.self.query.bias"}));
  size_t trainable = 0;
  for (const auto& g : ct::build_param_groups(named, ct::ParamGroupOptions{})) {
    trainable += g.params.size();
  }
  EXPECT_EQ(trainable, named.size() - frozen.size());
}

TEST(Optim, ScheduleEdgeCases) {
  ct::ScheduleOptions o;
  o.type = ct::ScheduleType::kLinear;
  o.warmup_steps = 0;
  o.total_steps = 0;
  EXPECT_EQ(ct::lr_multiplier(o, 0), 0.0);
  EXPECT_EQ(ct::total_training_steps(-1, 3.0, 10, 4), 9);  // ceil(10 / 4) = 3 per epoch
  EXPECT_EQ(ct::total_training_steps(-1, 0.5, 10, 1), 5);
  EXPECT_EQ(ct::total_training_steps(7, 3.0, 10, 1), 7);
  EXPECT_EQ(ct::resolve_warmup_steps(0, 0.06, 100), 6);
  EXPECT_THROW(ct::parse_schedule_type("cosin"), clintorch::Error);
}

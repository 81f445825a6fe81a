// The encoder modules and the checkpoint loader: HF parameter names, key matching (prefixes,
// legacy names, missing/unexpected, strict), errors for shape and vocabulary mismatches, input
// checks, autocast, embedding resizing. Numerical parity with transformers is tested in
// tests/python/test_model_parity.py.
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "io/safetensors.h"
#include "io/state_dict.h"
#include "model/autocast.h"
#include "model/bert.h"
#include "model/pretrained.h"
#include "test_helpers.h"
#include "util/cuda_support.h"
#include "util/error.h"

namespace fs = std::filesystem;
using clintorch::model::BertConfig;
using clintorch::model::BertModel;

namespace {

BertConfig tiny_config() {
  return clintorch::test::tiny_bert_config(50, 32);
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("clintorch_model_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A model directory written with our own writer: config.json + model.safetensors (`prefix` on
// every key) + optionally vocab.txt with `vocab_lines` tokens.
fs::path write_model_dir(const std::string& name, const BertConfig& config, BertModel& model,
                         const std::string& prefix = "", int vocab_lines = -1) {
  const fs::path dir = temp_dir(name);
  std::ofstream(dir / "config.json") << config.to_json().dump();
  clintorch::io::write_safetensors((dir / "model.safetensors").string(),
                                   clintorch::model::encoder_tensors(model, prefix));
  if (vocab_lines >= 0) {
    std::ofstream vocab(dir / "vocab.txt");
    for (int i = 0; i < vocab_lines; ++i) vocab << "t" << i << "\n";
  }
  return dir;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clintorch::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BertModel, ParametersCarryTransformersNames) {
  const BertConfig c = tiny_config();
  BertModel model(c);
  std::set<std::string> names;
  for (const auto& p : model->named_parameters()) names.insert(p.key());
  // 5 embedding tensors, 16 per layer, 2 for the pooler.
  EXPECT_EQ(names.size(), 5u + 16u * c.num_hidden_layers + 2u);
  for (const char* n :
       {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias", "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.0.attention.self.key.bias", "encoder.layer.1.attention.self.value.weight",
        "encoder.layer.1.attention.output.dense.weight",
        "encoder.layer.1.attention.output.LayerNorm.bias",
        "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.bias",
        "encoder.layer.0.output.LayerNorm.weight", "pooler.dense.weight", "pooler.dense.bias"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  BertModel no_pooler(c, /*add_pooling_layer=*/false);
  for (const auto& p : no_pooler->named_parameters())
    EXPECT_EQ(p.key().rfind("pooler", 0), std::string::npos);
  // transformers' initialisation: LayerNorm 1/0, biases 0, padding row 0.
  EXPECT_TRUE(torch::all(model->embeddings->LayerNorm->weight == 1).item<bool>());
  EXPECT_TRUE(torch::all(model->pooler->dense->bias == 0).item<bool>());
  EXPECT_TRUE(torch::all(model->word_embeddings()->weight[0] == 0).item<bool>());
}

TEST(BertModel, ForwardShapesAndOptionalOutputs) {
  const BertConfig c = tiny_config();
  BertModel model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::randint(1, c.vocab_size, {3, 7});
  at::Tensor mask = torch::ones({3, 7}, torch::kLong);
  mask.index_put_({1, torch::indexing::Slice(4)}, 0);
  clintorch::model::ForwardOptions opts;
  opts.output_hidden_states = true;
  opts.output_attentions = true;
  const auto out = model->forward(ids, mask, {}, opts);
  EXPECT_EQ(out.last_hidden_state.sizes(), (std::vector<int64_t>{3, 7, 16}));
  EXPECT_EQ(out.pooler_output.sizes(), (std::vector<int64_t>{3, 16}));
  ASSERT_EQ(out.hidden_states.size(), 3u);
  ASSERT_EQ(out.attentions.size(), 2u);
  EXPECT_EQ(out.attentions[0].sizes(), (std::vector<int64_t>{3, 4, 7, 7}));
  // Padded keys get no attention; every row sums to one.
  EXPECT_LT(out.attentions[1][1].narrow(-1, 4, 3).abs().max().item<float>(), 1e-30);
  EXPECT_TRUE(torch::allclose(out.attentions[0].sum(-1), torch::ones({3, 4, 7})));
  EXPECT_TRUE(torch::equal(out.hidden_states.back(), out.last_hidden_state));
  // The fused path (no attentions asked) gives the same states.
  const auto fused = model->forward(ids, mask);
  EXPECT_TRUE(torch::allclose(fused.last_hidden_state, out.last_hidden_state, 1e-5, 1e-5));
  EXPECT_TRUE(fused.hidden_states.empty() && fused.attentions.empty());
}

// Inference without gradients runs the packed oneDNN projections (model/packed_linear.h) where
// LibTorch has them; a weight changed in place (an optimizer step, a load) repacks, so the output
// follows the weights: it equals the unpacked path's (gradient mode on) before and after.
TEST(BertModel, PackedInferenceFollowsWeightChanges) {
  const BertConfig c = tiny_config();
  BertModel model(c);
  model->eval();
  const at::Tensor ids = torch::randint(1, c.vocab_size, {3, 7});
  at::Tensor mask = torch::ones({3, 7}, torch::kLong);
  mask.index_put_({1, torch::indexing::Slice(4)}, 0);
  clintorch::model::ForwardOptions opts;
  opts.unpad = true;
  // Real positions only: the packed path also fills the padding positions its bucketed row count
  // takes in.
  const at::Tensor real = mask.to(torch::kBool);
  auto packed = [&] {
    torch::NoGradGuard no_grad;
    return model->forward(ids, mask, {}, opts).last_hidden_state.index({real});
  };
  auto plain = [&] {
    return model->forward(ids, mask, {}, opts).last_hidden_state.detach().index({real});
  };
  const at::Tensor before = packed();
  EXPECT_TRUE(torch::allclose(before, plain(), 1e-5, 1e-5));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.mul_(1.5);  // in place, as an optimizer step
  }
  const at::Tensor after = packed();
  EXPECT_FALSE(torch::allclose(after, before, 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(after, plain(), 1e-5, 1e-5));
}

TEST(BertModel, BadInputsAreErrors) {
  const BertConfig c = tiny_config();
  BertModel model(c);
  torch::NoGradGuard no_grad;
  EXPECT_NE(error_of([&] {
              model->forward(torch::full({1, 3}, 50, torch::kLong));
            }).find("outside 0..49"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              model->forward(torch::ones({1, 33}, torch::kLong));
            }).find("max_position_embeddings"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] {
        model->forward(torch::ones({1, 3}, torch::kLong), {}, torch::full({1, 3}, 2, torch::kLong));
      }).find("token_type_ids"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              model->forward(torch::ones({1, 3}, torch::kLong), torch::ones({1, 4}));
            }).find("attention_mask"),
            std::string::npos);
  EXPECT_NE(error_of([&] { model->forward(torch::ones({3}, torch::kLong)); }).find("(batch, seq)"),
            std::string::npos);
}

TEST(BertModel, AutocastRunsMatmulsInBf16OnCpu) {
  const BertConfig c = tiny_config();
  BertModel model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::randint(1, c.vocab_size, {2, 5});
  const auto fp32 = model->forward(ids);
  at::Tensor inner;
  {
    clintorch::model::AutocastScope scope(torch::kCPU);
    inner = model->encoder->layer->at<clintorch::model::BertLayerImpl>(0).intermediate->dense(
        fp32.last_hidden_state);
    const auto bf16 = model->forward(ids);
    EXPECT_FALSE(torch::equal(bf16.last_hidden_state, fp32.last_hidden_state));
    EXPECT_TRUE(torch::allclose(bf16.last_hidden_state.to(torch::kFloat), fp32.last_hidden_state,
                                0.1, 0.1));
  }
  EXPECT_EQ(inner.scalar_type(), torch::kBFloat16);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(torch::kCPU));  // restored after the scope
  EXPECT_TRUE(torch::equal(model->forward(ids).last_hidden_state, fp32.last_hidden_state));
}

TEST(BertModel, ResizeTokenEmbeddingsKeepsRowsAndUsesTheMean) {
  BertModel model(tiny_config());
  const at::Tensor before = model->word_embeddings()->weight.clone();
  model->resize_token_embeddings(54);
  const at::Tensor after = model->word_embeddings()->weight;
  EXPECT_EQ(model->config().vocab_size, 54);
  EXPECT_EQ(after.sizes(), (std::vector<int64_t>{54, 16}));
  EXPECT_TRUE(torch::equal(after.narrow(0, 0, 50), before));
  EXPECT_TRUE(torch::allclose(after[53], before.mean(0)));
  // The module registered under the HF name is the new one.
  EXPECT_EQ(model->named_parameters()["embeddings.word_embeddings.weight"].size(0), 54);
  torch::NoGradGuard no_grad;
  EXPECT_NO_THROW(model->forward(torch::full({1, 2}, 53, torch::kLong)));
}

TEST(KeyMatching, PrefixesLegacyNamesAndIgnoredBuffers) {
  using clintorch::io::LoadOptions;
  using clintorch::io::LoadReport;
  EXPECT_EQ(clintorch::io::normalize_key("bert.embeddings.LayerNorm.gamma"),
            "bert.embeddings.LayerNorm.weight");
  EXPECT_EQ(clintorch::io::normalize_key("encoder.layer.3.output.LayerNorm.beta"),
            "encoder.layer.3.output.LayerNorm.bias");
  EXPECT_EQ(clintorch::io::normalize_key("cls.predictions.bias"), "cls.predictions.bias");

  const std::vector<std::string> bare = {"embeddings.word_embeddings.weight",
                                         "pooler.dense.weight"};
  // A task checkpoint into the bare encoder: prefix stripped, head keys unexpected.
  LoadReport r;
  auto m = clintorch::io::match_keys(
      {"bert.embeddings.word_embeddings.weight", "bert.pooler.dense.weight", "cls.predictions.bias",
       "bert.embeddings.position_ids"},
      bare, LoadOptions{}, &r);
  EXPECT_EQ(m.at("pooler.dense.weight"), "bert.pooler.dense.weight");
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"cls.predictions.bias"});
  EXPECT_TRUE(r.missing.empty());
  // A base checkpoint into a task model: prefix added, the head is missing.
  m = clintorch::io::match_keys(
      {"embeddings.word_embeddings.LayerNorm.gamma"},
      {"bert.embeddings.word_embeddings.LayerNorm.weight", "classifier.weight"}, LoadOptions{}, &r);
  EXPECT_EQ(m.at("bert.embeddings.word_embeddings.LayerNorm.weight"),
            "embeddings.word_embeddings.LayerNorm.gamma");
  EXPECT_EQ(r.missing, std::vector<std::string>{"classifier.weight"});
  EXPECT_TRUE(r.unexpected.empty());
}

TEST(Checkpoint, LoadsOurOwnExportWithEitherKeyStyle) {
  const BertConfig c = tiny_config();
  BertModel source(c);
  for (const std::string prefix : {"", "bert."}) {
    const fs::path dir =
        write_model_dir("keys" + std::to_string(prefix.size()), c, source, prefix, 50);
    clintorch::model::PretrainedOptions opts;
    opts.strict = true;
    auto loaded = clintorch::model::load_pretrained_bert(dir.string(), opts);
    EXPECT_TRUE(loaded.report.missing.empty() && loaded.report.unexpected.empty());
    EXPECT_EQ(loaded.report.loaded.size(), source->named_parameters().size());
    torch::NoGradGuard no_grad;
    source->eval();
    const at::Tensor ids = torch::randint(1, 50, {2, 6});
    EXPECT_TRUE(torch::equal(loaded.model->forward(ids).last_hidden_state,
                             source->forward(ids).last_hidden_state));
    fs::remove_all(dir);
  }
}

TEST(Checkpoint, StrictModeListsUnexpectedKeys) {
  const BertConfig c = tiny_config();
  BertModel source(c);
  const fs::path dir = temp_dir("strict");
  std::ofstream(dir / "config.json") << c.to_json().dump();
  auto tensors = clintorch::model::encoder_tensors(source, "bert.");
  tensors.emplace_back("cls.predictions.bias", torch::zeros({50}));
  clintorch::io::write_safetensors((dir / "model.safetensors").string(), tensors);
  clintorch::model::PretrainedOptions opts;
  opts.strict = true;
  const std::string msg =
      error_of([&] { clintorch::model::load_pretrained_bert(dir.string(), opts); });
  EXPECT_NE(msg.find("unexpected keys: [cls.predictions.bias]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  opts.strict = false;
  const auto loaded = clintorch::model::load_pretrained_bert(dir.string(), opts);
  EXPECT_EQ(loaded.report.unexpected, std::vector<std::string>{"cls.predictions.bias"});
  fs::remove_all(dir);
}

TEST(Checkpoint, ShapeMismatchNamesFileAndTensorAndWritesNothing) {
  BertConfig c = tiny_config();
  BertModel source(c);
  const fs::path dir = write_model_dir("shape", c, source);
  BertConfig wrong = c;
  wrong.intermediate_size = 20;  // config.json no longer describes the weights
  std::ofstream(dir / "config.json") << wrong.to_json().dump();
  const std::string msg = error_of([&] { clintorch::model::load_pretrained_bert(dir.string()); });
  EXPECT_NE(msg.find((dir / "model.safetensors").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("'encoder.layer.0.intermediate.dense.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[24, 16]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[20, 16]"), std::string::npos) << msg;

  // load_into checks every shape before writing any parameter.
  BertModel target(wrong);
  const at::Tensor before = target->word_embeddings()->weight.clone();
  const auto store = clintorch::io::TensorStore::open((dir / "model.safetensors").string());
  EXPECT_THROW(clintorch::io::load_into(store, clintorch::model::encoder_tensors(target)),
               clintorch::Error);
  EXPECT_TRUE(torch::equal(target->word_embeddings()->weight, before));
  fs::remove_all(dir);
}

TEST(Checkpoint, VocabularySizeMismatchesAreNamed) {
  const BertConfig c = tiny_config();
  BertModel source(c);
  // config.json vocab_size differs from the embedding rows.
  fs::path dir = write_model_dir("vocab1", c, source);
  BertConfig wrong = c;
  wrong.vocab_size = 60;
  std::ofstream(dir / "config.json") << wrong.to_json().dump();
  std::string msg = error_of([&] { clintorch::model::load_pretrained_bert(dir.string()); });
  EXPECT_NE(msg.find("embeddings.word_embeddings.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[50, 16]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("vocab_size 60"), std::string::npos) << msg;
  fs::remove_all(dir);
  // vocab.txt has more tokens than the embeddings have rows.
  dir = write_model_dir("vocab2", c, source, "", 51);
  msg = error_of([&] { clintorch::model::load_pretrained_bert(dir.string()); });
  EXPECT_NE(msg.find("vocab.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("51 tokens"), std::string::npos) << msg;
  fs::remove_all(dir);
  // Fewer tokens than rows is fine (vocabularies padded to a multiple of 8, ...).
  dir = write_model_dir("vocab3", c, source, "", 45);
  EXPECT_NO_THROW(clintorch::model::load_pretrained_bert(dir.string()));
  fs::remove_all(dir);
}

TEST(Checkpoint, MissingFilesAreNamed) {
  const fs::path dir = temp_dir("missing");
  std::string msg =
      error_of([&] { clintorch::model::load_pretrained_bert((dir / "nope").string()); });
  EXPECT_NE(msg.find("nope"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such directory"), std::string::npos) << msg;
  msg = error_of([&] { clintorch::model::load_pretrained_bert(dir.string()); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pytorch_model.bin"), std::string::npos) << msg;
  clintorch::io::write_safetensors((dir / "model.safetensors").string(), {{"x", torch::ones({1})}});
  msg = error_of([&] { clintorch::model::load_pretrained_bert(dir.string()); });
  EXPECT_NE(msg.find((dir / "config.json").string()), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(BertModel, RunsOnCudaWhenPresent) {
  clintorch::load_cuda_support();
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the GPU path is not run here";
  const BertConfig c = tiny_config();
  BertModel model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::randint(1, c.vocab_size, {2, 6});
  at::Tensor mask = torch::ones({2, 6}, torch::kLong);
  mask.index_put_({1, torch::indexing::Slice(3)}, 0);
  const auto cpu = model->forward(ids, mask);
  model->to(torch::kCUDA);
  const auto gpu = model->forward(ids.cuda(), mask.cuda());
  EXPECT_TRUE(torch::allclose(gpu.last_hidden_state.cpu(), cpu.last_hidden_state, 1e-4, 1e-4));
  {
    clintorch::model::AutocastScope scope(torch::kCUDA);
    const auto bf16 = model->forward(ids.cuda(), mask.cuda());
    EXPECT_TRUE(torch::allclose(bf16.last_hidden_state.to(torch::kFloat).cpu(),
                                cpu.last_hidden_state, 0.1, 0.1));
  }
}

TEST(BertModel, TrainsWithDropoutAndKeepsThePaddingRowFrozen) {
  const BertConfig c = tiny_config();
  BertModel model(c);
  model->train();
  const at::Tensor ids = torch::tensor({{2, 5, 7, 0, 0}, {2, 9, 4, 11, 3}}, torch::kLong);
  const at::Tensor mask = (ids != 0).to(torch::kLong);
  for (const bool attentions : {false, true}) {
    model->zero_grad();
    clintorch::model::ForwardOptions opts;
    opts.output_attentions = attentions;
    const auto a = model->forward(ids, mask, {}, opts);
    const auto b = model->forward(ids, mask, {}, opts);
    EXPECT_FALSE(torch::equal(a.last_hidden_state, b.last_hidden_state)) << "dropout is off";
    (a.last_hidden_state.sum() + a.pooler_output.sum()).backward();
    const at::Tensor grad = model->word_embeddings()->weight.grad();
    ASSERT_TRUE(grad.defined());
    EXPECT_EQ(grad[0].abs().sum().item<float>(), 0.0f) << "padding_idx row received a gradient";
    EXPECT_GT(grad[5].abs().sum().item<float>(), 0.0f);
    EXPECT_TRUE(model->encoder->layer->at<clintorch::model::BertLayerImpl>(1)
                    .attention->self->query->weight.grad()
                    .abs()
                    .sum()
                    .item<float>() > 0);
  }
}

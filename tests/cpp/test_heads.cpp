// Task heads: the CRF against brute force over every tag sequence (NLL, Viterbi, BIO constraints),
// the registry, parameter names, initialisation, option checks, saving and loading a TaskModel.
// Numerical parity of each head with its transformers class is tested in
// tests/python/test_heads_parity.py and test_heads_export.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <tuple>

#include "model/autocast.h"
#include "model/heads/crf.h"
#include "model/heads/registry.h"
#include "model/heads/task_model.h"
#include "test_helpers.h"
#include "util/error.h"

namespace fs = std::filesystem;
using clintorch::model::Batch;
using clintorch::model::BertConfig;
using clintorch::model::HeadOptions;
using clintorch::model::LinearChainCrf;

namespace {

BertConfig tiny_config() {
  return clintorch::test::tiny_bert_config(40, 32);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clintorch::Error& e) {
    return e.what();
  }
  return "";
}

// ---- brute force over every tag sequence, in double precision -------------------------------

struct Chain {
  std::vector<std::vector<double>> trans;  // [from][to]
  std::vector<double> start, end;
  std::vector<std::vector<bool>> allowed;  // empty = all allowed
  std::vector<bool> allowed_start;
};

Chain chain_of(const LinearChainCrf& crf, const clintorch::model::CrfConstraints& c) {
  const int64_t k = crf->num_tags();
  Chain ch;
  ch.trans.assign(k, std::vector<double>(k));
  ch.start.resize(k);
  ch.end.resize(k);
  for (int64_t i = 0; i < k; ++i) {
    ch.start[i] = crf->start_transitions[i].item<double>();
    ch.end[i] = crf->end_transitions[i].item<double>();
    for (int64_t j = 0; j < k; ++j) ch.trans[i][j] = crf->transitions[i][j].item<double>();
  }
  if (!c.empty()) {
    ch.allowed.assign(k, std::vector<bool>(k));
    ch.allowed_start.resize(k);
    for (int64_t i = 0; i < k; ++i) {
      ch.allowed_start[i] = c.allowed_start[i].item<bool>();
      for (int64_t j = 0; j < k; ++j) ch.allowed[i][j] = c.allowed[i][j].item<bool>();
    }
  }
  return ch;
}

bool path_allowed(const Chain& ch, const std::vector<int64_t>& path) {
  if (ch.allowed.empty() || path.empty()) return true;
  if (!ch.allowed_start[path[0]]) return false;
  for (size_t t = 1; t < path.size(); ++t) {
    if (!ch.allowed[path[t - 1]][path[t]]) return false;
  }
  return true;
}

double path_score(const Chain& ch, const at::Tensor& em /* (len, k) */,
                  const std::vector<int64_t>& path) {
  double s = ch.start[path[0]] + em[0][path[0]].item<double>();
  for (size_t t = 1; t < path.size(); ++t) {
    s += ch.trans[path[t - 1]][path[t]] + em[t][path[t]].item<double>();
  }
  return s + ch.end[path.back()];
}

// Every path of length `len` over `k` tags.
std::vector<std::vector<int64_t>> all_paths(int64_t len, int64_t k) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> p(len, 0);
  while (true) {
    out.push_back(p);
    int64_t i = len - 1;
    while (i >= 0 && ++p[i] == k) p[i--] = 0;
    if (i < 0) return out;
  }
}

// (log Z over allowed paths, best allowed path) of one sequence.
std::pair<double, std::vector<int64_t>> brute_force(const Chain& ch, const at::Tensor& em,
                                                    int64_t len) {
  const int64_t k = em.size(1);
  double max_score = -std::numeric_limits<double>::infinity();
  std::vector<int64_t> best;
  std::vector<double> scores;
  for (const auto& path : all_paths(len, k)) {
    if (!path_allowed(ch, path)) continue;
    const double s = path_score(ch, em, path);
    scores.push_back(s);
    if (s > max_score) {
      max_score = s;
      best = path;
    }
  }
  double sum = 0;
  for (double s : scores) sum += std::exp(s - max_score);
  return {max_score + std::log(sum), best};
}

void randomise(LinearChainCrf& crf) {
  torch::NoGradGuard no_grad;
  crf->transitions.copy_(torch::randn_like(crf->transitions));
  crf->start_transitions.copy_(torch::randn_like(crf->start_transitions));
  crf->end_transitions.copy_(torch::randn_like(crf->end_transitions));
}

// Checks nll() and viterbi() of `crf` against brute force on random emissions with rows of the
// given lengths (gold tags drawn among the allowed paths).
void check_against_brute_force(LinearChainCrf& crf, const clintorch::model::CrfConstraints& c,
                               const std::vector<int64_t>& lengths, int64_t max_len,
                               uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t k = crf->num_tags(), batch = static_cast<int64_t>(lengths.size());
  const at::Tensor em = torch::randn({batch, max_len, k}) * 2;
  at::Tensor mask = torch::zeros({batch, max_len}, torch::kBool);
  at::Tensor tags = torch::full({batch, max_len}, -100, torch::kLong);
  const Chain ch = chain_of(crf, c);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < lengths[b]; ++t) mask[b][t] = true;
    // A random allowed gold path.
    std::vector<std::vector<int64_t>> candidates;
    for (const auto& p : all_paths(lengths[b], k)) {
      if (path_allowed(ch, p)) candidates.push_back(p);
    }
    if (lengths[b] == 0) continue;
    const auto& gold =
        candidates[torch::randint(static_cast<int64_t>(candidates.size()), {1}).item<int64_t>()];
    for (int64_t t = 0; t < lengths[b]; ++t) tags[b][t] = gold[t];
  }
  const at::Tensor nll = crf->nll(em, tags, mask);
  const auto paths = crf->viterbi(em, mask);
  for (int64_t b = 0; b < batch; ++b) {
    if (lengths[b] == 0) {
      EXPECT_EQ(nll[b].item<double>(), 0.0);
      EXPECT_TRUE(paths[b].empty());
      continue;
    }
    const at::Tensor row = em[b].to(torch::kFloat64);
    const auto [log_z, best] = brute_force(ch, row, lengths[b]);
    std::vector<int64_t> gold(lengths[b]);
    for (int64_t t = 0; t < lengths[b]; ++t) gold[t] = tags[b][t].item<int64_t>();
    const double expected = log_z - path_score(ch, row, gold);
    EXPECT_NEAR(nll[b].item<double>(), expected, 1e-4 * std::max(1.0, std::abs(expected)))
        << "row " << b << " length " << lengths[b];
    EXPECT_EQ(paths[b], best) << "row " << b << " length " << lengths[b];
  }
}

}  // namespace

// ---- CRF --------------------------------------------------------------------------------------

TEST(Crf, NllAndViterbiMatchBruteForceWithMasksAndVariableLengths) {
  for (int64_t k : {2, 3, 4}) {
    LinearChainCrf crf(k);
    for (uint64_t seed = 0; seed < 3; ++seed) {
      torch::manual_seed(100 + seed);
      randomise(crf);
      check_against_brute_force(crf, {}, {5, 3, 1, 0, 4}, 5, seed);
    }
  }
}

TEST(Crf, BioConstraintsForbidExactlyTheInvalidTransitions) {
  const std::vector<std::string> labels = {"O", "B-DRUG", "I-DRUG", "B-DOSE", "I-DOSE"};
  const auto c = clintorch::model::bio_constraints(labels);
  ASSERT_FALSE(c.empty());
  auto allowed = [&](int from, int to) { return c.allowed[from][to].item<bool>(); };
  for (int to = 0; to < 5; ++to) {
    const bool inside = labels[to][0] == 'I';
    EXPECT_EQ(c.allowed_start[to].item<bool>(), !inside) << "START -> " << labels[to];
    EXPECT_TRUE(c.allowed_end[to].item<bool>());
    for (int from = 0; from < 5; ++from) {
      const bool same_type =
          labels[from].size() > 2 &&
          labels[from].substr(2) == (labels[to].size() > 2 ? labels[to].substr(2) : "");
      const bool expected = !inside || (labels[from] != "O" && same_type);
      EXPECT_EQ(allowed(from, to), expected) << labels[from] << " -> " << labels[to];
    }
  }
  EXPECT_FALSE(allowed(0, 2));  // O -> I-DRUG
  EXPECT_FALSE(allowed(1, 4));  // B-DRUG -> I-DOSE
  EXPECT_FALSE(allowed(2, 4));  // I-DRUG -> I-DOSE
  EXPECT_TRUE(allowed(1, 2));   // B-DRUG -> I-DRUG
  EXPECT_TRUE(allowed(2, 2));   // I-DRUG -> I-DRUG
  EXPECT_TRUE(allowed(4, 1));   // I-DOSE -> B-DRUG
  EXPECT_EQ(c.begin_of, (std::vector<int64_t>{-1, -1, 1, -1, 3}));

  // Not BIO: no constraints. An I-X without B-X: unconstrained (IO tagging).
  EXPECT_TRUE(clintorch::model::bio_constraints({"O", "S-X", "E-X"}).empty());
  const auto io = clintorch::model::bio_constraints({"O", "I-X", "B-Y", "I-Y"});
  EXPECT_TRUE(io.allowed[0][1].item<bool>());
  EXPECT_FALSE(io.allowed[0][3].item<bool>());
}

TEST(Crf, ConstrainedNllAndViterbiMatchBruteForceOverAllowedPaths) {
  const std::vector<std::string> labels = {"O", "B-A", "I-A", "B-B", "I-B"};
  const auto c = clintorch::model::bio_constraints(labels);
  LinearChainCrf crf(5, c);
  for (uint64_t seed = 0; seed < 3; ++seed) {
    torch::manual_seed(200 + seed);
    randomise(crf);
    check_against_brute_force(crf, c, {4, 2, 1, 3}, 4, seed);
  }
}

TEST(Crf, ViterbiNeverProducesAForbiddenTransitionEvenWhenEmissionsPushForIt) {
  const std::vector<std::string> labels = {"O", "B-A", "I-A", "B-B", "I-B"};
  const auto c = clintorch::model::bio_constraints(labels);
  LinearChainCrf crf(5, c);
  // Emissions strongly favour I-A first, then alternating I-B / I-A: every favoured transition
  // except I-X -> I-X of one type is forbidden.
  at::Tensor em = torch::zeros({2, 6, 5});
  const int64_t favoured[2][6] = {{2, 4, 2, 4, 0, 2}, {0, 2, 2, 4, 4, 0}};
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 6; ++t) em[b][t][favoured[b][t]] = 8.0;
  }
  const auto mask = torch::ones({2, 6}, torch::kBool);
  const auto paths = crf->viterbi(em, mask);
  const Chain ch = chain_of(crf, c);
  for (const auto& p : paths) {
    ASSERT_EQ(p.size(), 6u);
    EXPECT_TRUE(path_allowed(ch, p));
  }
  // Without constraints the same emissions decode to the forbidden argmax path.
  LinearChainCrf unconstrained_crf(5);
  const auto unconstrained = unconstrained_crf->viterbi(em, mask);
  EXPECT_EQ(unconstrained[0], (std::vector<int64_t>{2, 4, 2, 4, 0, 2}));
  EXPECT_FALSE(path_allowed(ch, unconstrained[0]));
}

TEST(Crf, InvalidGoldIXIsReadAsBXSoTheLossStaysFinite) {
  const auto c = clintorch::model::bio_constraints({"O", "B-A", "I-A"});
  LinearChainCrf crf(3, c);
  torch::manual_seed(3);
  randomise(crf);
  const at::Tensor em = torch::randn({1, 4, 3});
  const at::Tensor mask = torch::ones({1, 4}, torch::kBool);
  const at::Tensor invalid = torch::tensor({{2, 2, 0, 2}}, torch::kLong);   // I-A I-A O I-A
  const at::Tensor repaired = torch::tensor({{1, 2, 0, 1}}, torch::kLong);  // B-A I-A O B-A
  EXPECT_TRUE(torch::equal(crf->repair(invalid, mask), repaired));
  const double a = crf->nll(em, invalid, mask).item<double>();
  const double b = crf->nll(em, repaired, mask).item<double>();
  EXPECT_TRUE(std::isfinite(a));
  EXPECT_DOUBLE_EQ(a, b);
  EXPECT_LT(a, 50.0);
}

TEST(Crf, GradientsReachEveryParameter) {
  LinearChainCrf crf(3);
  torch::manual_seed(5);
  randomise(crf);
  const at::Tensor em = torch::randn({2, 4, 3}, torch::requires_grad());
  const at::Tensor mask = torch::tensor({{1, 1, 1, 1}, {1, 1, 0, 0}}, torch::kBool);
  const at::Tensor tags = torch::tensor({{0, 1, 2, 1}, {2, 2, -100, -100}}, torch::kLong);
  crf->nll(em, tags, mask).sum().backward();
  for (const auto& p : crf->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0);
  }
  // Padding positions get no gradient.
  EXPECT_EQ(em.grad()[1].narrow(0, 2, 2).abs().sum().item<double>(), 0.0);
}

TEST(Crf, CompactPositionsMovesSelectedTokensToTheFrontInOrder) {
  const at::Tensor select =
      torch::tensor({{0, 1, 0, 1, 1}, {1, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}, torch::kBool);
  auto [index, mask] = clintorch::model::compact_positions(select);
  EXPECT_TRUE(torch::equal(index, torch::tensor({{1, 3, 4}, {0, 0, 0}, {0, 0, 0}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(mask, torch::tensor({{1, 1, 1}, {1, 0, 0}, {0, 0, 0}}, torch::kBool)));
}

// ---- registry ---------------------------------------------------------------------------------

TEST(HeadRegistry, KnowsEveryHeadAndItsAliases) {
  const std::vector<std::string> expected = {"mlm", "token_classification",
                                             "sequence_classification", "question_answering",
                                             "relation_extraction"};
  EXPECT_EQ(clintorch::model::head_names(), expected);
  for (const auto& name : expected) {
    EXPECT_EQ(clintorch::model::make_head(name)->info().name, name);
  }
  EXPECT_EQ(clintorch::model::make_head("ner")->info().name, "token_classification");
  EXPECT_EQ(clintorch::model::make_head("qa")->info().name, "question_answering");
  EXPECT_EQ(clintorch::model::make_head("re")->info().name, "relation_extraction");
  EXPECT_EQ(clintorch::model::make_head("classification")->info().name, "sequence_classification");
}

TEST(HeadRegistry, UnknownNameSuggestsTheClosest) {
  const std::string e = error_of([] { clintorch::model::make_head("token_clasification"); });
  EXPECT_NE(e.find("unknown head 'token_clasification'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'token_classification'?"), std::string::npos) << e;
  EXPECT_NE(e.find("mlm, token_classification"), std::string::npos) << e;
  const std::string far = error_of([] { clintorch::model::make_head("translation"); });
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
}

TEST(HeadRegistry, HeadNameFromConfig) {
  using clintorch::model::head_name_from_config;
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertForMaskedLM"}}}), "mlm");
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertForPreTraining"}}}), "mlm");
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertForTokenClassification"}}}),
            "token_classification");
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertForSequenceClassification"}}}),
            "sequence_classification");
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertForQuestionAnswering"}}}),
            "question_answering");
  EXPECT_EQ(head_name_from_config({{"architectures", {"ClintorchBertForRelationExtraction"}}}),
            "relation_extraction");
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertForSequenceClassification"}},
                                   {"clintorch", {{"head", "relation_extraction"}}}}),
            "relation_extraction");
  EXPECT_EQ(head_name_from_config({{"architectures", {"BertModel"}}}), "");
  EXPECT_EQ(head_name_from_config(nlohmann::json::object()), "");
}

// ---- TaskModel ------------------------------------------------------------------------------

namespace {

std::set<std::string> head_param_names(const std::string& head, const HeadOptions& options) {
  auto model = clintorch::model::create_task_model(head, tiny_config(), options);
  std::set<std::string> names;
  bool pooler = false;
  for (const auto& [name, t] : model->hf_tensors()) {
    if (name.rfind("bert.", 0) != 0) names.insert(name);
    if (name.rfind("bert.pooler.", 0) == 0) pooler = true;
  }
  if (pooler) names.insert("<pooler>");
  return names;
}

HeadOptions with_labels(std::vector<std::string> labels) {
  HeadOptions o;
  o.labels = std::move(labels);
  return o;
}

}  // namespace

TEST(TaskModel, ParameterNamesAreThoseOfTheTransformersClass) {
  using S = std::set<std::string>;
  EXPECT_EQ(head_param_names("mlm", {}),
            (S{"cls.predictions.bias", "cls.predictions.transform.dense.weight",
               "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
               "cls.predictions.transform.LayerNorm.bias"}));
  EXPECT_EQ(head_param_names("token_classification", with_labels({"O", "B-X", "I-X"})),
            (S{"classifier.weight", "classifier.bias"}));
  HeadOptions crf = with_labels({"O", "B-X", "I-X"});
  crf.crf = true;
  EXPECT_EQ(head_param_names("token_classification", crf),
            (S{"classifier.weight", "classifier.bias", "crf.transitions", "crf.start_transitions",
               "crf.end_transitions"}));
  EXPECT_EQ(head_param_names("sequence_classification", with_labels({"a", "b"})),
            (S{"<pooler>", "classifier.weight", "classifier.bias"}));
  EXPECT_EQ(head_param_names("question_answering", {}),
            (S{"qa_outputs.weight", "qa_outputs.bias"}));
  EXPECT_EQ(head_param_names("relation_extraction", with_labels({"none", "treats"})),
            (S{"classifier.weight", "classifier.bias"}));
  HeadOptions cls = with_labels({"none", "treats"});
  cls.pooling = "cls";
  EXPECT_EQ(head_param_names("relation_extraction", cls),
            (S{"<pooler>", "classifier.weight", "classifier.bias"}));
}

TEST(TaskModel, HeadsAreInitialisedAsTransformersDoes) {
  BertConfig config = tiny_config();
  config.hidden_size = 256;
  config.num_attention_heads = 4;
  config.initializer_range = 0.02;
  torch::manual_seed(0);
  auto model = clintorch::model::create_task_model("token_classification", config,
                                                   with_labels(std::vector<std::string>(64, "x")));
  const auto params = model->named_parameters();
  const at::Tensor w = params["classifier.weight"];  // (64, 256)
  EXPECT_NEAR(w.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.001);
  EXPECT_EQ(params["classifier.bias"].abs().sum().item<double>(), 0.0);

  auto mlm = clintorch::model::create_task_model("mlm", config);
  const auto p = mlm->named_parameters();
  EXPECT_EQ(p["cls.predictions.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(p["cls.predictions.transform.LayerNorm.weight"], torch::ones({256})));
  EXPECT_NEAR(p["cls.predictions.transform.dense.weight"].std().item<double>(), 0.02, 0.001);
}

TEST(TaskModel, OptionErrorsNameTheProblem) {
  auto create = [](const std::string& head, const HeadOptions& o) {
    return error_of([&] { clintorch::model::create_task_model(head, tiny_config(), o); });
  };
  EXPECT_NE(create("token_classification", {}).find("no labels"), std::string::npos);
  HeadOptions w = with_labels({"a", "b", "c"});
  w.class_weights = {1.0, 2.0};
  EXPECT_NE(create("sequence_classification", w).find("2 values given for 3 labels"),
            std::string::npos);
  HeadOptions p = with_labels({"a", "b"});
  p.problem_type = "multi_label_clasification";
  const std::string e = create("sequence_classification", p);
  EXPECT_NE(e.find("did you mean 'multi_label_classification'"), std::string::npos) << e;
  HeadOptions pool = with_labels({"a", "b"});
  pool.pooling = "entity";
  EXPECT_NE(create("relation_extraction", pool).find("unknown pooling 'entity'"),
            std::string::npos);
  // One label means regression, as transformers' num_labels == 1.
  EXPECT_EQ(clintorch::model::make_head("sequence_classification", with_labels({"score"}))
                ->info()
                .metric_family,
            "regression");

  const std::string opt = error_of([] {
    clintorch::model::HeadOptions::from_json({{"lables", {"a"}}}, "recipe.yaml: task");
  });
  EXPECT_NE(opt.find("unknown head option 'lables' (did you mean 'labels'?)"), std::string::npos)
      << opt;
}

TEST(TaskModel, MissingBatchTensorIsAClearError) {
  auto model = clintorch::model::create_task_model("relation_extraction", tiny_config(),
                                                   with_labels({"none", "treats"}));
  model->eval();
  Batch batch = {{"input_ids", torch::randint(5, 40, {2, 7})},
                 {"entity_position", torch::zeros({2, 2}, torch::kLong)}};
  const std::string e = error_of([&] { model->forward(batch); });
  EXPECT_NE(e.find("no 'entity_positions' tensor (did you mean 'entity_position'?)"),
            std::string::npos)
      << e;
  batch.erase("entity_position");
  batch["entity_positions"] = torch::tensor({{1, 3}, {2, 9}}, torch::kLong);
  const std::string range = error_of([&] { model->forward(batch); });
  EXPECT_NE(range.find("outside the sequence"), std::string::npos) << range;
}

TEST(TaskModel, MlmMaskedOnlyLogitsEqualTheFullLogitsAtMaskedPositions) {
  torch::manual_seed(1);
  auto model = clintorch::model::create_task_model("mlm", tiny_config());
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::randint(5, 40, {3, 9});
  at::Tensor labels = torch::full({3, 9}, -100, torch::kLong);
  labels[0][2] = 7;
  labels[1][5] = 11;
  labels[2][0] = 3;
  labels[2][8] = 30;
  const auto masked = model->forward({{"input_ids", ids}, {"labels", labels}});
  ASSERT_EQ(masked.logits.sizes(), (std::vector<int64_t>{4, 40}));
  EXPECT_TRUE(torch::equal(masked.positions, torch::tensor({2, 14, 18, 26}, torch::kLong)));
  const auto full = model->forward({{"input_ids", ids}});  // no labels: every position
  ASSERT_EQ(full.logits.sizes(), (std::vector<int64_t>{3, 9, 40}));
  EXPECT_FALSE(full.loss.defined());
  const at::Tensor rows = full.logits.reshape({-1, 40}).index_select(0, masked.positions);
  EXPECT_LT((rows - masked.logits).abs().max().item<double>(), 1e-5);
  const at::Tensor reference = torch::nn::functional::cross_entropy(
      full.logits.reshape({-1, 40}), labels.reshape({-1}));  // ignore_index -100
  EXPECT_NEAR(masked.loss.item<double>(), reference.item<double>(), 1e-5);
  EXPECT_NEAR((masked.loss_sum / masked.loss_weight).item<double>(), masked.loss.item<double>(),
              1e-6);
  EXPECT_EQ(masked.loss_weight.item<double>(), 4.0);
  // prediction_mask selects rows without labels (fill-mask).
  const auto some = model->forward({{"input_ids", ids}, {"prediction_mask", labels != -100}});
  EXPECT_TRUE(torch::equal(some.positions, masked.positions));
  EXPECT_FALSE(some.loss.defined());
}

TEST(TaskModel, ResizingTheVocabularyKeepsTheMlmDecoderTied) {
  torch::manual_seed(2);
  auto model = clintorch::model::create_task_model("mlm", tiny_config());
  model->eval();
  model->resize_token_embeddings(44);
  EXPECT_EQ(model->config().vocab_size, 44);
  const auto params = model->named_parameters();
  EXPECT_EQ(params["cls.predictions.bias"].size(0), 44);
  torch::NoGradGuard no_grad;
  const auto out = model->forward({{"input_ids", torch::tensor({{1, 42, 43}}, torch::kLong)}});
  EXPECT_EQ(out.logits.size(2), 44);
  // The tied decoder: changing an embedding row changes that token's logit (a random change: the
  // LayerNorm output sums to zero, so adding a constant to the row would not show).
  const at::Tensor change = torch::randn({16});
  params["bert.embeddings.word_embeddings.weight"][43].add_(change);
  const auto after = model->forward({{"input_ids", torch::tensor({{1, 5, 6}}, torch::kLong)}});
  const auto before = [&] {
    params["bert.embeddings.word_embeddings.weight"][43].sub_(change);
    return model->forward({{"input_ids", torch::tensor({{1, 5, 6}}, torch::kLong)}});
  }();
  const at::Tensor diff = (after.logits - before.logits).abs().amax({0, 1});  // (vocab)
  EXPECT_GT(diff[43].item<double>(), 1e-3);
  EXPECT_EQ(diff.narrow(0, 0, 43).max().item<double>(), 0.0);
}

TEST(TaskModel, SaveAndLoadRoundTripKeepsHeadLabelsAndOutputs) {
  const fs::path dir =
      fs::temp_directory_path() / ("clintorch_heads_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  HeadOptions options = with_labels({"O", "B-DRUG", "I-DRUG"});
  options.crf = true;
  torch::manual_seed(4);
  auto model = clintorch::model::create_task_model("ner", tiny_config(), options);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  model->eval();
  model->save_pretrained(dir.string(), "");
  std::ifstream in(dir / "config.json");
  const nlohmann::json config = nlohmann::json::parse(in);
  EXPECT_EQ(config["architectures"], nlohmann::json({"BertForTokenClassification"}));
  EXPECT_EQ(config["id2label"], nlohmann::json({{"0", "O"}, {"1", "B-DRUG"}, {"2", "I-DRUG"}}));
  EXPECT_EQ(config["label2id"], nlohmann::json({{"O", 0}, {"B-DRUG", 1}, {"I-DRUG", 2}}));
  EXPECT_EQ(config["clintorch"]["crf"], true);

  auto loaded = clintorch::model::load_task_model(dir.string());  // head from config.json
  EXPECT_EQ(loaded.model->info().name, "token_classification");
  EXPECT_EQ(loaded.model->head().labels(), options.labels);
  EXPECT_TRUE(loaded.report.missing.empty());
  EXPECT_TRUE(loaded.report.unexpected.empty());
  torch::NoGradGuard no_grad;
  const Batch batch = {{"input_ids", torch::randint(5, 40, {2, 6})},
                       {"attention_mask", torch::tensor({{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}})}};
  const auto a = model->forward(batch);
  const auto b = loaded.model->forward(batch);
  EXPECT_TRUE(torch::equal(a.logits, b.logits));
  EXPECT_TRUE(torch::equal(model->decode(a, batch), loaded.model->decode(b, batch)));

  // Other labels on the same head weights: an error, or a fresh head when asked.
  const std::string e = error_of([&] {
    clintorch::model::load_task_model(dir.string(), "", with_labels({"O", "B-DOSE", "I-DOSE"}));
  });
  EXPECT_NE(e.find("trained on the labels [O, B-DRUG, I-DRUG]"), std::string::npos) << e;
  EXPECT_NE(e.find("ignore_mismatched_sizes"), std::string::npos) << e;
  clintorch::model::TaskLoadOptions reinit;
  reinit.ignore_mismatched_sizes = true;
  auto fresh = clintorch::model::load_task_model(
      dir.string(), "", with_labels({"O", "B-DOSE", "I-DOSE", "B-DRUG"}), reinit);
  std::set<std::string> missing(fresh.report.missing.begin(), fresh.report.missing.end());
  EXPECT_TRUE(missing.count("classifier.weight"));
  EXPECT_TRUE(missing.count("crf.transitions"));
  EXPECT_TRUE(fresh.report.unexpected.empty());

  // Skipping the initialisation the checkpoint overwrites changes nothing that was loaded, and a
  // head the checkpoint lacks is still initialised as transformers does (not left as garbage).
  clintorch::model::TaskLoadOptions skip;
  skip.skip_init = true;
  auto fast = clintorch::model::load_task_model(dir.string(), "", {}, skip);
  EXPECT_TRUE(fast.report.missing.empty());
  EXPECT_TRUE(torch::equal(fast.model->forward(batch).logits, a.logits));
  skip.ignore_mismatched_sizes = true;
  auto fast_fresh = clintorch::model::load_task_model(
      dir.string(), "", with_labels({"O", "B-DOSE", "I-DOSE", "B-DRUG"}), skip);
  const auto named = fast_fresh.model->named_parameters();
  const at::Tensor w = named["classifier.weight"], bias = named["classifier.bias"];
  EXPECT_TRUE(torch::isfinite(w).all().item<bool>());
  EXPECT_NEAR(w.std().item<double>(), tiny_config().initializer_range,
              0.3 * tiny_config().initializer_range);
  EXPECT_TRUE(torch::equal(bias, torch::zeros_like(bias)));
  EXPECT_TRUE(
      torch::equal(named["bert.encoder.layer.0.output.dense.weight"],
                   loaded.model->named_parameters()["bert.encoder.layer.0.output.dense.weight"]));
  fs::remove_all(dir);
}

TEST(TaskModel, EveryHeadRunsUnderBf16AutocastWithAFloat32Loss) {
  torch::manual_seed(7);
  const at::Tensor ids = torch::randint(5, 40, {2, 8});
  const at::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0, 0}});
  at::Tensor token_labels = torch::randint(0, 3, {2, 8});
  token_labels.select(1, 0).fill_(-100);
  at::Tensor mlm_labels = torch::full({2, 8}, -100, torch::kLong);
  mlm_labels[0][3] = 9;
  mlm_labels[1][2] = 4;
  HeadOptions crf = with_labels({"O", "B-X", "I-X"});
  crf.crf = true;
  HeadOptions pair = with_labels({"a", "b"});
  const std::vector<std::tuple<std::string, HeadOptions, Batch>> cases = {
      {"mlm", {}, {{"labels", mlm_labels}}},
      {"token_classification", with_labels({"O", "B-X", "I-X"}), {{"labels", token_labels}}},
      {"token_classification", crf, {{"labels", token_labels}}},
      {"sequence_classification", pair, {{"labels", torch::tensor({0, 1})}}},
      {"question_answering",
       {},
       {{"start_positions", torch::tensor({1, 0})}, {"end_positions", torch::tensor({3, 0})}}},
      {"relation_extraction",
       pair,
       {{"labels", torch::tensor({1, 0})}, {"entity_positions", torch::tensor({{1, 3}, {2, 4}})}}},
  };
  for (const auto& [head, options, targets] : cases) {
    auto model = clintorch::model::create_task_model(head, tiny_config(), options);
    model->eval();
    Batch batch = targets;
    batch["input_ids"] = ids;
    batch["attention_mask"] = mask;
    torch::NoGradGuard no_grad;
    const auto fp32 = model->forward(batch);
    clintorch::model::HeadOutput bf16;
    {
      clintorch::model::AutocastScope autocast(c10::DeviceType::CPU);
      bf16 = model->forward(batch);
    }
    ASSERT_TRUE(bf16.loss.defined()) << head;
    EXPECT_EQ(bf16.loss.scalar_type(), torch::kFloat32) << head;
    EXPECT_TRUE(torch::isfinite(bf16.loss).item<bool>()) << head;
    EXPECT_NEAR(bf16.loss.item<double>(), fp32.loss.item<double>(),
                0.05 * std::max(1.0, std::abs(fp32.loss.item<double>())))
        << head;
    EXPECT_TRUE(model->decode(bf16, batch).defined()) << head;
  }
}

TEST(TaskModel, QuestionAnsweringDecodePicksTheBestContextSpanOrNoAnswer) {
  HeadOptions options;
  options.max_answer_length = 2;
  auto head = clintorch::model::make_head("question_answering", options);
  clintorch::model::HeadOutput out;
  // [CLS] q q [SEP] c c c [SEP]: context = segment 1 (positions 4..7).
  out.start_logits = torch::tensor({{5.0, 9.0, 0.0, 0.0, 1.0, 3.0, 0.0, 0.0}});
  out.end_logits = torch::tensor({{5.0, 0.0, 9.0, 0.0, 4.0, 0.0, 0.0, 2.5}});
  const Batch batch = {{"token_type_ids", torch::tensor({{0, 0, 0, 0, 1, 1, 1, 1}})}};
  // Best in the context: start 5 (3.0) ... end 7 is 3 tokens away (> max 2); end 5 (0.0) or 6
  // (0.0); start 4 + end 4 = 5.0 beats start 5 + end 5/6 = 3.0.
  EXPECT_TRUE(torch::equal(head->decode(out, batch), torch::tensor({{4, 4}}, torch::kLong)));
  options.null_score_threshold = 0.0;  // [CLS] scores 10 > 5: no answer
  auto v2 = clintorch::model::make_head("question_answering", options);
  EXPECT_TRUE(torch::equal(v2->decode(out, batch), torch::tensor({{0, 0}}, torch::kLong)));
  options.null_score_threshold = 6.0;  // 10 - 5 = 5 < 6: answer
  auto lenient = clintorch::model::make_head("question_answering", options);
  EXPECT_TRUE(torch::equal(lenient->decode(out, batch), torch::tensor({{4, 4}}, torch::kLong)));
}

TEST(TaskModel, SingleLabelTargetsOfTheWrongKindAreAClearError) {
  auto model = clintorch::model::create_task_model("sequence_classification", tiny_config(),
                                                   with_labels({"a", "b", "c"}));
  model->eval();
  const Batch batch = {{"input_ids", torch::randint(5, 40, {2, 5})},
                       {"labels", torch::tensor({{0.0, 1.0, 1.0}, {1.0, 0.0, 0.0}})}};
  const std::string e = error_of([&] { model->forward(batch); });
  EXPECT_NE(e.find("problem_type: multi_label_classification"), std::string::npos) << e;
}

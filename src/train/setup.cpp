#include "train/setup.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/task_registry.h"
#include "eval/inference.h"
#include "model/device.h"
#include "model/pretrained.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::train {
namespace {

namespace fs = std::filesystem;

// Keeps the features of the first `n` examples (features are in example order).
void keep_first_examples(data::Dataset& dataset, int64_t n) {
  auto* task = dynamic_cast<data::TaskDataset*>(&dataset);
  if (task == nullptr) return;
  auto& f = task->features;
  size_t keep = 0;
  while (keep < f.size() && f[keep].example < static_cast<uint32_t>(n)) ++keep;
  f.resize(keep);
  task->update_lengths();
}

std::shared_ptr<data::Dataset> open_mlm(const Recipe& r, const std::string& path,
                                        const tok::Tokenizer& tokenizer,
                                        const data::CacheOptions& cache) {
  return data::MlmCorpus::open({path}, tokenizer, mlm_corpus_options(r), masking_options(r), cache);
}

}  // namespace

tok::TokenizerOptions tokenizer_options(const Recipe& r, const TokenizerSettings& file) {
  tok::TokenizerOptions o;
  o.do_lower_case = r.tokenizer.do_lower_case ? r.tokenizer.do_lower_case : file.do_lower_case;
  o.strip_accents = r.tokenizer.strip_accents ? r.tokenizer.strip_accents : file.strip_accents;
  o.tokenize_chinese_chars = r.tokenizer.tokenize_chinese_chars ? r.tokenizer.tokenize_chinese_chars
                                                                : file.tokenize_chinese_chars;
  return o;
}

data::DataOptions data_options(const Recipe& r) {
  data::DataOptions o;
  o.task = r.task_id();
  o.format = data::task_format(o.task, r.data.format, r.where("data.format"));
  data::ReaderOptions& rd = o.reader;
  rd.token_column = static_cast<int>(r.data.token_column);
  rd.label_column = static_cast<int>(r.data.tag_column);
  rd.tokens_key = r.data.tokens_field;
  rd.tags_key = r.data.tags_field;
  rd.text_key = r.data.text_column;
  rd.entities_key = r.data.entities_field;
  if (r.is_set("data.tag_scheme")) rd.tag_scheme = choice_name(r.data.tag_scheme);
  rd.text_column = r.data.text_column;
  rd.text_pair_column = r.data.text_pair_column;
  rd.label_columns = r.data.label_columns.empty() ? std::vector<std::string>{r.data.label_column}
                                                  : r.data.label_columns;
  if (data::task_spec(o.task).data().problem_type) {
    rd.problem_type = r.task.problem_type;
  }
  if (!r.data.label_separator.empty()) rd.label_separator = r.data.label_separator;
  if (r.is_set("data.has_header")) rd.header = r.data.has_header ? "true" : "false";
  if (r.task.re_input == ReInput::kMasked) {  // relation_extraction only (the key is task-bound)
    rd.entity_markers.clear();
  }
  data::FeatureOptions& f = o.features;
  f.max_seq_length = static_cast<size_t>(r.tokenizer.max_seq_length);
  f.doc_stride = static_cast<size_t>(r.data.doc_stride);
  f.label_all_tokens = r.data.label_all_tokens;
  f.unknown_labels = r.data.unseen_label_policy;
  f.problem_type = rd.problem_type;
  if (r.training.threads > 0) f.num_threads = static_cast<size_t>(r.training.threads);
  o.cache.enabled = !r.data.cache_dir.empty();
  o.cache.dir = r.data.cache_dir;
  o.labels = r.task.labels;
  return o;
}

model::HeadOptions head_options(const Recipe& r) {
  model::HeadOptions o;
  o.labels = r.task.labels;
  const data::TaskDataOps& ops = data::task_spec(r.task_id()).data();
  if (ops.problem_type) o.problem_type = choice_name(r.task.problem_type);
  o.class_weights = r.task.class_weights;
  o.thresholds = r.task.thresholds;
  o.crf = r.task.crf;  // bound to token_classification
  if (ops.entity_pair) {
    o.pooling = r.task.re_input == ReInput::kMasked ? "cls" : "entity_start";
  }
  o.max_answer_length = r.task.max_answer_length;
  if (r.task.version_2_with_negative) o.null_score_threshold = r.task.null_score_diff_threshold;
  return o;
}

data::MlmCorpusOptions mlm_corpus_options(const Recipe& r) {
  data::MlmCorpusOptions o;
  o.document_split = r.data.document_boundary;
  o.line_by_line = r.data.line_by_line;
  o.max_seq_length = static_cast<size_t>(r.tokenizer.max_seq_length);
  if (r.training.threads > 0) o.num_threads = static_cast<size_t>(r.training.threads);
  return o;
}

data::MaskingOptions masking_options(const Recipe& r) {
  data::MaskingOptions o;
  o.mlm_probability = r.data.mlm_probability;
  o.mask_replace_prob = r.data.mask_replace_prob;
  o.random_replace_prob = r.data.random_replace_prob;
  o.whole_word_mask = r.data.whole_word_mask;
  return o;
}

eval::TaskEvalOptions task_eval_options(const Recipe& r, const std::vector<std::string>& labels) {
  eval::TaskEvalOptions o;
  o.batch_size = static_cast<size_t>(r.training.per_device_eval_batch_size);
  o.autocast = r.training.bf16 ? "bf16" : r.training.fp16 ? "fp16" : "";
  o.seqeval_mode = choice_name(r.evaluation.seqeval_mode);
  o.tag_scheme = r.is_set("data.tag_scheme") ? choice_name(r.data.tag_scheme)
                                             : eval::strict_tag_scheme(labels);
  o.negative_label = r.task.negative_label;
  o.window_aggregation = r.data.window_aggregation;
  o.qa.max_answer_length = static_cast<size_t>(r.task.max_answer_length);
  o.qa.n_best_size = static_cast<size_t>(r.task.n_best_size);
  o.qa.version_2_with_negative = r.task.version_2_with_negative;
  o.qa.null_score_diff_threshold = r.task.null_score_diff_threshold;
  o.mlm_seed = static_cast<uint64_t>(r.training.seed);
  return o;
}

c10::Device resolve_device(const Recipe& r) {
  return model::select_device(r.training.device, r.where("training.device"));
}

namespace {

// The MLM corpus (packed blocks) for training, validation (a file or a held-out share) and test.
void open_mlm_data(const Recipe& r, const SetupOptions& options, RunSetup& s) {
  std::shared_ptr<data::Dataset> corpus =
      open_mlm(r, r.data.train_file, *s.tokenizer, s.data.cache);
  if (corpus->size() == 0) {
    fail(r.where("data.train_file"),
         "data.train_file: " + r.data.train_file + " yields no " +
             std::to_string(r.tokenizer.max_seq_length) + "-token block",
         "give more text, a smaller tokenizer.max_seq_length, or data.line_by_line: true");
  }
  if (r.data.validation_split_percentage > 0 && r.data.validation_file.empty()) {
    auto parts = data::split_dataset(corpus, r.data.validation_split_percentage / 100.0,
                                     static_cast<uint64_t>(r.training.seed));
    s.train = parts.first;
    if (options.validation) s.validation = parts.second;
  } else {
    s.train = corpus;
  }
  if (options.validation && !r.data.validation_file.empty()) {
    s.validation = open_mlm(r, r.data.validation_file, *s.tokenizer, s.data.cache);
  }
  if (options.test && !r.data.test_file.empty()) {
    s.test = open_mlm(r, r.data.test_file, *s.tokenizer, s.data.cache);
  }
}

// The task's files; the training file fixes the label map (also when only evaluating).
void load_task_data(const Recipe& r, const SetupOptions& options, RunSetup& s) {
  if (r.data.validation_split_percentage > 0) {
    fail(r.where("data.validation_split_percentage"),
         "data.validation_split_percentage applies to the mlm task only",
         "give data.validation_file instead");
  }
  const std::shared_ptr<data::TaskDataset> train_task =
      data::load_task_dataset(r.data.train_file, *s.tokenizer, s.data);
  if (train_task->features.empty()) {
    fail(r.where("data.train_file"),
         "data.train_file: " + r.data.train_file + " holds no examples");
  }
  if (r.data.max_train_samples) keep_first_examples(*train_task, *r.data.max_train_samples);
  const data::LabelMap* labels = train_task->labels.empty() ? nullptr : &train_task->labels;
  if (options.train) s.train = train_task;
  if (options.validation && !r.data.validation_file.empty()) {
    s.validation = data::load_task_dataset(r.data.validation_file, *s.tokenizer, s.data, labels);
  }
  if (options.test && !r.data.test_file.empty()) {
    s.test = data::load_task_dataset(r.data.test_file, *s.tokenizer, s.data, labels);
  }
  if (s.head.labels.empty()) s.head.labels = train_task->labels.labels();
  if (s.head.labels.empty() && data::task_spec(r.task_id()).data().problem_type) {
    const int64_t n = std::max<int64_t>(r.task.num_labels, 1);
    for (int64_t i = 0; i < n; ++i) s.head.labels.push_back("LABEL_" + std::to_string(i));
  }
}

// The task model from model.pretrained (its head fresh when the checkpoint has none or one for
// other labels) or, from random weights, from model.config.
void create_model(const Recipe& r, RunSetup& s) {
  const auto apply_dropout = [&r](model::BertConfig& config) {
    if (r.model.hidden_dropout_prob) config.hidden_dropout_prob = *r.model.hidden_dropout_prob;
    if (r.model.attention_probs_dropout_prob) {
      config.attention_probs_dropout_prob = *r.model.attention_probs_dropout_prob;
    }
    if (r.model.classifier_dropout) config.classifier_dropout = *r.model.classifier_dropout;
  };
  if (!r.model.pretrained.empty()) {
    model::BertCheckpoint ckpt = model::BertCheckpoint::open(r.model.pretrained);
    model::BertConfig config = ckpt.config;
    apply_dropout(config);
    s.model = model::create_task_model(data::task_name(r.task_id()), config, s.head);
    // The head starts fresh when the checkpoint has none, or one for other labels.
    s.load_report = s.model->load_weights(r.model.pretrained, /*strict=*/false,
                                          /*ignore_mismatched_sizes=*/true);
  } else {
    model::BertConfig config = model::BertConfig::load(r.model.config);
    apply_dropout(config);
    const int64_t vocab = static_cast<int64_t>(s.tokenizer->vocab_size());
    if (config.vocab_size < vocab) config.vocab_size = vocab;
    s.model = model::create_task_model(data::task_name(r.task_id()), config, s.head);
  }
  const int64_t vocab = static_cast<int64_t>(s.tokenizer->vocab_size());
  if (s.model->config().vocab_size < vocab) s.model->resize_token_embeddings(vocab);
  if (r.model.dtype == ParamDtype::kBFloat16) s.model->to(torch::kBFloat16);
  s.model->evaluation_settings =
      eval::evaluation_settings(task_eval_options(r, s.model->head().labels()));
  s.model->train();
}

}  // namespace

RunSetup setup_run(const Recipe& r, const RecipeCheck& check, const SetupOptions& options) {
  RunSetup s;
  torch::manual_seed(static_cast<uint64_t>(r.training.seed));

  // Tokenizer.
  const tok::TokenizerOptions tok_options = tokenizer_options(r, check.tokenizer);
  s.tokenizer_settings = check.tokenizer;
  if (!check.tokenizer.path.empty()) {
    log_info("tokenizer settings from " + check.tokenizer.path + " (do_lower_case " +
             (tok_options.do_lower_case ? (*tok_options.do_lower_case ? "true" : "false")
                                        : "from the model") +
             ")");
  }
  if (!r.tokenizer.vocab_file.empty()) {
    s.tokenizer = std::make_shared<tok::Tokenizer>(
        tok::Tokenizer::from_vocab_file(r.tokenizer.vocab_file, tok_options));
  } else {
    s.tokenizer =
        std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_dir(check.model.dir, tok_options));
    s.tokenizer_dir = check.model.dir;
  }
  s.data = data_options(r);
  if (!options.cache) s.data.cache.enabled = false;
  s.head = head_options(r);
  const bool mlm = data::task_spec(s.data.task).data().corpus;
  if (s.head.pooling == "entity_start") {  // relation_extraction with entity markers
    data::add_entity_markers(*s.tokenizer, s.head.entity_markers);
  }
  if (mlm) {
    open_mlm_data(r, options, s);
  } else {
    load_task_data(r, options, s);
  }
  if (s.validation && r.data.max_eval_samples) {
    keep_first_examples(*s.validation, *r.data.max_eval_samples);
  }
  if (options.model) create_model(r, s);
  return s;
}

void write_tokenizer_files(const std::string& dir, const Recipe& r, const RunSetup& s) {
  const tok::TokenizerOptions given = tokenizer_options(r, s.tokenizer_settings);
  const bool overrides = given.do_lower_case || given.strip_accents ||
                         given.tokenize_chinese_chars || !r.tokenizer.vocab_file.empty();
  fs::create_directories(dir);
  const auto copy = [&](const fs::path& from, const std::string& name) {
    std::error_code ec;
    fs::copy_file(from, fs::path(dir) / name, fs::copy_options::overwrite_existing, ec);
    if (ec) fail((fs::path(dir) / name).string(), "cannot be written: " + ec.message());
  };
  nlohmann::json config = nlohmann::json::object();
  if (!s.tokenizer_dir.empty()) {
    const fs::path src(s.tokenizer_dir);
    copy(src / "vocab.txt", "vocab.txt");
    if (fs::exists(src / "special_tokens_map.json")) {
      copy(src / "special_tokens_map.json", "special_tokens_map.json");
    }
    // tokenizer.json carries its own normaliser: copied only when nothing overrides it.
    if (!overrides && fs::exists(src / "tokenizer.json"))
      copy(src / "tokenizer.json", "tokenizer.json");
    if (fs::exists(src / "tokenizer_config.json")) {
      std::ifstream in(src / "tokenizer_config.json");
      try {
        config = nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception&) {
        config = nlohmann::json::object();
      }
      if (!config.is_object()) config = nlohmann::json::object();
    }
  } else {
    copy(r.tokenizer.vocab_file, "vocab.txt");
  }
  if (!config.contains("tokenizer_class")) config["tokenizer_class"] = "BertTokenizer";
  config["do_lower_case"] = s.tokenizer->do_lower_case();
  if (given.strip_accents) config["strip_accents"] = s.tokenizer->strip_accents();
  config["tokenize_chinese_chars"] = s.tokenizer->tokenize_chinese_chars();
  const std::string path = (fs::path(dir) / "tokenizer_config.json").string();
  std::ofstream out(path);
  out << config.dump(2) << "\n";
  if (!out) fail(path, "cannot be written", "check free space and permissions");
}

}  // namespace clintorch::train

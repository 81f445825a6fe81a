// Recipes: every error class (unknown key/section, wrong type, out of range, bad extends, extends
// cycle, bad --set, duplicate key, YAML syntax, rules between keys, missing files) gives a clear
// message with file:line:column, a non-zero exit and nothing written to the output folder; and
// the good paths (defaults, extends, --set, relative paths, --dump-config round trip).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/labels.h"
#include "data/windows.h"
#include "test_helpers.h"
#include "tokenizer/tokenizer.h"
#include "train/recipe.h"
#include "train/recipe_check.h"
#include "train/schedule.h"
#include "train/setup.h"
#include "util/error.h"

namespace fs = std::filesystem;
using clintorch::test::run_clintorch;
using clintorch::train::load_recipe;
using clintorch::train::load_recipe_from_string;
using clintorch::train::Recipe;

namespace {

// A fresh folder with a fake model (config.json, vocab.txt, empty weights), a small train file
// and helpers to write recipes. Removed at the end of the test.
class RecipeDir {
 public:
  RecipeDir() {
    std::string pattern = (fs::temp_directory_path() / "clintorch_recipe_XXXXXX").string();
    root_ = mkdtemp(pattern.data());
    fs::create_directories(root_ / "model");
    write("model/config.json",
          R"({"model_type": "bert", "max_position_embeddings": 512, "num_hidden_layers": 2,
              "hidden_size": 32, "vocab_size": 100})");
    write("model/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    write("model/model.safetensors", "x");
    write("data/train.conll", "Chest O\npain B-PROBLEM\n");
    write("data/dev.conll", "Fever B-PROBLEM\n");
  }
  ~RecipeDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void write(const std::string& relative, const std::string& text) const {
    const fs::path p = root_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string path(const std::string& relative) const { return (root_ / relative).string(); }
  fs::path out() const { return root_ / "out"; }

  // A valid recipe body; `extra` is appended (more sections or keys).
  std::string good(const std::string& extra = "") const {
    return "model:\n  pretrained: model\n"
           "task:\n  name: token_classification\n"
           "data:\n  train_file: data/train.conll\n  validation_file: data/dev.conll\n"
           "output:\n  output_dir: " +
           out().string() + "\n" + extra;
  }

 private:
  fs::path root_;
};

// Runs `clintorch train` (the command that would write) on the recipe: it must fail with status 1
// and every `expected` fragment, and the output folder must not exist afterwards. With
// `also_validate`, `clintorch validate` must fail the same way.
void expect_cli_error(const RecipeDir& dir, const std::string& recipe_args,
                      const std::vector<std::string>& expected, bool also_validate = false) {
  std::vector<std::string> commands = {"train"};
  if (also_validate) commands.push_back("validate");
  for (const auto& command : commands) {
    const auto r = run_clintorch(command + " " + recipe_args);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    for (const auto& fragment : expected) {
      EXPECT_NE(r.output.find(fragment), std::string::npos)
          << command << ": missing '" << fragment << "' in\n"
          << r.output;
    }
    EXPECT_FALSE(fs::exists(dir.out())) << command << " wrote the output folder";
  }
}

// The same checks in-process (fast): load_recipe + check_recipe_files must throw clintorch::Error
// with every fragment, and leave the output folder absent.
void expect_error(const RecipeDir& dir, const std::string& recipe,
                  const std::vector<std::string>& overrides,
                  const std::vector<std::string>& expected) {
  try {
    const Recipe r = load_recipe(dir.path(recipe), overrides);
    clintorch::train::check_recipe_files(r);
    clintorch::train::check_output_dir(r);
    ADD_FAILURE() << recipe << ": no error";
  } catch (const clintorch::Error& e) {
    const std::string message = e.what();
    for (const auto& fragment : expected) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << recipe << ": missing '" << fragment << "' in\n"
          << message;
    }
  }
  EXPECT_FALSE(fs::exists(dir.out()));
}

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

}  // namespace

// ------------------------------------------------------------------------------ error classes
// Each class: one run of the CLI (status 1, the message, nothing written), then variants
// in-process.

TEST(Recipe, UnknownKeyNamesLineColumnAndSuggests) {
  RecipeDir dir;
  dir.write("r.yaml", dir.good("training:\n  learning_rate: 3e-5\n  warmpu_steps: 10\n"));
  expect_cli_error(dir, quoted(dir.path("r.yaml")),
                   {dir.path("r.yaml") + ":12:3: unknown key 'warmpu_steps' in section "
                                         "'training' (did you mean 'warmup_steps'?)",
                    "hint: run 'clintorch validate --list-keys'"},
                   /*also_validate=*/true);
  dir.write("s.yaml", dir.good("evaluation:\n  learning_rate: 1e-4\n"));
  expect_error(dir, "s.yaml", {},
               {":11:3: unknown key 'learning_rate' in section 'evaluation' (did you mean "
                "'training.learning_rate'?)",
                "belongs to section 'training'"});
}

TEST(Recipe, UnknownSectionSuggests) {
  RecipeDir dir;
  dir.write("r.yaml", dir.good("trainig:\n  seed: 1\n"));
  expect_cli_error(dir, quoted(dir.path("r.yaml")),
                   {":10:1: unknown section 'trainig' (did you mean 'training'?)"});
  dir.write("s.yaml", dir.good("learning_rate: 1e-4\n"));
  expect_error(dir, "s.yaml", {},
               {":10:1: unknown section 'learning_rate' (did you mean 'training.learning_rate'?)"});
}

TEST(Recipe, WrongTypes) {
  RecipeDir dir;
  dir.write("a.yaml", dir.good("training:\n  learning_rate: fast\n"));
  expect_cli_error(dir, quoted(dir.path("a.yaml")),
                   {":11:18: training.learning_rate: expected a number, got 'fast'"});
  dir.write("b.yaml", dir.good("training:\n  per_device_train_batch_size: 8.5\n"));
  expect_error(dir, "b.yaml", {},
               {"training.per_device_train_batch_size: expected an integer, got '8.5'"});
  dir.write("c.yaml", dir.good("training:\n  seed: \"42\"\n"));
  expect_error(dir, "c.yaml", {},
               {"training.seed: expected an integer, got the quoted string '42'",
                "hint: remove the quotes"});
  dir.write("d.yaml", dir.good("training:\n  bf16: maybe\n"));
  expect_error(dir, "d.yaml", {}, {"training.bf16: expected true or false, got 'maybe'"});
  dir.write("e.yaml",
            "model: {pretrained: model}\ntask:\n  name: token_classification\n  labels: O\n"
            "data: {train_file: data/train.conll}\noutput: {output_dir: " +
                dir.out().string() + "}\n");
  expect_error(dir, "e.yaml", {}, {":4:11: task.labels: expected a list of strings, got 'O'"});
  dir.write("f.yaml", dir.good("training:\n  learning_rate:\n"));
  expect_error(dir, "f.yaml", {},
               {":11:3: training.learning_rate: no value given; expected a number"});
  dir.write("g.yaml", dir.good("training: [1, 2]\n"));
  expect_error(dir, "g.yaml", {}, {"section 'training' must be a mapping of keys, got a list"});
}

TEST(Recipe, OutOfRangeValuesAndChoices) {
  RecipeDir dir;
  dir.write("a.yaml", dir.good("training:\n  warmup_ratio: 1.5\n"));
  expect_cli_error(dir, quoted(dir.path("a.yaml")),
                   {":11:17: training.warmup_ratio: 1.5 is out of range: expected a number in "
                    "[0, 1)"});
  dir.write("b.yaml", dir.good("training:\n  max_steps: 0\n"));
  expect_error(dir, "b.yaml", {},
               {"training.max_steps: 0 is out of range: expected -1 or an integer >= 1"});
  dir.write("c.yaml", dir.good("training:\n  lr_scheduler_type: cosin\n"));
  expect_error(dir, "c.yaml", {},
               {"training.lr_scheduler_type: 'cosin' is not one of linear, cosine, constant, "
                "constant_with_warmup (did you mean 'cosine'?)"});
  dir.write("d.yaml", dir.good("training:\n  device: gpu\n"));
  expect_error(dir, "d.yaml", {}, {"training.device: 'gpu' is not a device"});
  dir.write("e.yaml",
            "model: {pretrained: model}\ntask:\n  name: token_classification\n"
            "  class_weights:\n    - 1.0\n    - -2.0\ndata: {train_file: data/train.conll}\n"
            "output: {output_dir: " +
                dir.out().string() + "}\n");
  expect_error(dir, "e.yaml", {},
               {":6:7: task.class_weights[1]: -2 is out of range: expected a number > 0"});
}

TEST(Recipe, BadExtends) {
  RecipeDir dir;
  dir.write("r.yaml", "extends: missing_base.yaml\n" + dir.good());
  expect_cli_error(dir, quoted(dir.path("r.yaml")),
                   {dir.path("r.yaml") + ":1:10: extends: base recipe " +
                    dir.path("missing_base.yaml") + " not found"});
  dir.write("s.yaml", "extends: {a: 1}\n" + dir.good());
  expect_error(dir, "s.yaml", {},
               {"extends: expected a file name or a list of file names, got a mapping"});
  // An error inside a base names the base file.
  dir.write("bad_base.yaml", "training:\n  seed: -3\n");
  dir.write("t.yaml", "extends: bad_base.yaml\n" + dir.good());
  expect_error(dir, "t.yaml", {},
               {dir.path("bad_base.yaml") +
                ":2:9: training.seed: -3 is out of range: expected an integer >= 0"});
}

TEST(Recipe, ExtendsCycle) {
  RecipeDir dir;
  dir.write("a.yaml", "extends: sub/b.yaml\n" + dir.good());
  dir.write("sub/b.yaml", "extends: [../c.yaml]\n");
  dir.write("c.yaml", "extends: a.yaml\ntraining: {seed: 3}\n");
  expect_cli_error(
      dir, quoted(dir.path("a.yaml")),
      {dir.path("c.yaml") + ":1:10: extends cycle: " + dir.path("a.yaml") + " -> " +
       dir.path("sub/b.yaml") + " -> " + dir.path("c.yaml") + " -> " + dir.path("a.yaml")});
  dir.write("self.yaml", "extends: self.yaml\n");
  expect_error(dir, "self.yaml", {}, {"extends cycle"});
}

TEST(Recipe, BadSetOverrides) {
  RecipeDir dir;
  dir.write("r.yaml", dir.good());
  expect_cli_error(dir, quoted(dir.path("r.yaml")) + " --set training.learning_rate=abc",
                   {"--set training.learning_rate=abc: training.learning_rate: expected a "
                    "number, got 'abc'"},
                   /*also_validate=*/true);
  expect_error(dir, "r.yaml", {"training.learning_rate"},
               {"--set training.learning_rate: expected section.key=value"});
  expect_error(dir, "r.yaml", {"learning_rate=1e-4"},
               {"'learning_rate' is not section.key (did you mean 'training.learning_rate'?)"});
  expect_error(dir, "r.yaml", {"trainin.seed=1"},
               {"unknown section 'trainin' (did you mean 'training'?)"});
  expect_error(dir, "r.yaml", {"training.sed=1"},
               {"unknown key 'sed' in section 'training' (did you mean 'seed'?)"});
  expect_error(dir, "r.yaml", {"training.learning_rate=[1"}, {"the value is not valid YAML"});
  expect_error(dir, "r.yaml", {"extends=x.yaml"}, {"extends cannot be overridden"});
  expect_error(dir, "r.yaml", {"training.max_grad_norm=-1"},
               {"--set training.max_grad_norm=-1: training.max_grad_norm: -1 is out of range"});
}

TEST(Recipe, DuplicateKeysAndYamlSyntax) {
  RecipeDir dir;
  dir.write("a.yaml", dir.good("training:\n  seed: 1\n  seed: 2\n"));
  expect_cli_error(dir, quoted(dir.path("a.yaml")),
                   {":12:3: duplicate key 'seed' (first at line 11)"});
  dir.write("b.yaml", dir.good("training:\n  seed: [1, 2\n"));
  expect_cli_error(dir, quoted(dir.path("b.yaml")), {"b.yaml:", "YAML syntax error"});
  dir.write("c.yaml", "");
  expect_error(dir, "c.yaml", {}, {"the recipe is empty"});
  dir.write("d.yaml", "- a\n- b\n");
  expect_error(dir, "d.yaml", {}, {"a recipe must be a mapping of sections, got a list"});
  expect_error(dir, "nope.yaml", {}, {"nope.yaml: recipe file not found"});
}

TEST(Recipe, RulesBetweenKeys) {
  RecipeDir dir;
  dir.write("a.yaml", dir.good("training:\n  device: cpu\n  fp16: true\n"));
  expect_cli_error(dir, quoted(dir.path("a.yaml")),
                   {":12:9: training.fp16: fp16 needs a CUDA device", "hint: use bf16 on CPU"});
  dir.write("b.yaml", dir.good("training:\n  warmup_steps: 10\n  warmup_ratio: 0.1\n"));
  expect_error(dir, "b.yaml", {},
               {"training.warmup_ratio: warmup_steps and warmup_ratio are both set"});
  dir.write("c.yaml", dir.good());
  expect_error(dir, "c.yaml", {"task.problem_type=regression"},
               {"--set task.problem_type=regression: task.problem_type: does not apply to "
                "task.name 'token_classification'"});
  expect_error(dir, "c.yaml", {"training.lr_scheduler_type=constant", "training.warmup_steps=5"},
               {"'constant' takes no warmup", "constant_with_warmup"});
  expect_error(dir, "c.yaml", {"evaluation.eval_strategy=steps", "data.validation_file=\"\""},
               {"evaluation.eval_strategy: 'steps' but there is no evaluation data"});
  expect_error(dir, "c.yaml", {"data.doc_stride=126"},
               {"data.doc_stride: 126 leaves windows no new tokens"});
  expect_error(dir, "c.yaml", {"evaluation.load_best_model_at_end=true"},
               {"evaluation.load_best_model_at_end: needs evaluation"});
  dir.write("d.yaml", "task: {name: mlm}\ndata: {train_file: data}\noutput: {output_dir: " +
                          dir.out().string() + "}\n");
  expect_error(dir, "d.yaml", {}, {"model.pretrained: no model given"});
  dir.write("e.yaml",
            "model: {pretrained: model}\ndata: {train_file: data}\noutput: "
            "{output_dir: " +
                dir.out().string() + "}\n");
  expect_error(dir, "e.yaml", {}, {"task.name: is required"});
}

TEST(Recipe, MissingFilesAndModelLimits) {
  RecipeDir dir;
  dir.write("a.yaml", dir.good() + "tokenizer:\n  max_seq_length: 1024\n");
  expect_cli_error(dir, quoted(dir.path("a.yaml")),
                   {":11:19: tokenizer.max_seq_length: 1024 exceeds the model's "
                    "max_position_embeddings 512"},
                   /*also_validate=*/true);
  dir.write("b.yaml", dir.good());
  expect_error(dir, "b.yaml", {"data.train_file=nothere.conll"},
               {"data.train_file: ", "nothere.conll does not exist"});
  expect_error(dir, "b.yaml", {"model.pretrained=" + dir.path("data")},
               {"model.pretrained: ", "has no config.json"});
  expect_error(dir, "b.yaml", {"training.freeze_layers=3"},
               {"training.freeze_layers: 3 exceeds the model's 2 layers"});
  dir.write("model/config.json", "{\"max_position_embeddings\": 64,\n  oops}");
  expect_error(dir, "b.yaml", {}, {dir.path("model/config.json") + ":2:", "not valid JSON"});
}

TEST(Recipe, TrainRefusesANonEmptyOutputDirAndWritesNothing) {
  RecipeDir dir;
  dir.write("r.yaml", dir.good());
  fs::create_directories(dir.out());
  dir.write("out/keep.txt", "x");
  const auto r = run_clintorch("train " + quoted(dir.path("r.yaml")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("output.output_dir: " + dir.out().string() + " is not empty"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.out()), fs::directory_iterator{}), 1);
  // validate only warns.
  const auto v = run_clintorch("validate " + quoted(dir.path("r.yaml")));
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_NE(v.output.find("warning: output.output_dir"), std::string::npos) << v.output;
}

// ------------------------------------------------------------------------------ good paths

TEST(Recipe, DefaultsComeFromTheDeclarationTable) {
  RecipeDir dir;
  const Recipe r = load_recipe_from_string(dir.good(), "inline.yaml", dir.path(""));
  EXPECT_EQ(r.training.learning_rate, 5e-5);
  EXPECT_EQ(r.training.lr_scheduler_type, clintorch::train::ScheduleType::kLinear);
  EXPECT_EQ(r.training.max_steps, -1);
  EXPECT_EQ(r.tokenizer.max_seq_length, 128);
  EXPECT_FALSE(r.tokenizer.do_lower_case.has_value());
  EXPECT_EQ(r.model.pretrained, dir.path("model"));
  EXPECT_TRUE(r.is_set("task.name"));
  EXPECT_FALSE(r.is_set("training.seed"));
  EXPECT_EQ(r.where("task.name"), "inline.yaml:4:9");
}

TEST(Recipe, ExtendsLaterWinsSetWinsLastPathsRelativeToTheirFile) {
  RecipeDir dir;
  dir.write("bases/base.yaml",
            "model: {pretrained: ../model}\n"
            "training: {learning_rate: 1e-4, seed: 7, warmup_steps: 3}\n"
            "data: {train_file: ../data/train.conll}\n");
  dir.write("bases/other.yaml", "training: {seed: 8}\n");
  dir.write("r.yaml",
            "extends: [bases/base.yaml, bases/other.yaml]\n"
            "task: {name: token_classification}\n"
            "training: {learning_rate: 2e-5}\n"
            "output: {output_dir: " +
                dir.out().string() + "}\n");
  const Recipe r = load_recipe(dir.path("r.yaml"), {"training.warmup_steps=5"});
  EXPECT_EQ(r.training.learning_rate, 2e-5);         // the recipe over its base
  EXPECT_EQ(r.training.seed, 8);                     // the later base over the earlier
  EXPECT_EQ(r.training.warmup_steps, 5);             // --set over everything
  EXPECT_EQ(r.model.pretrained, dir.path("model"));  // relative to bases/
  EXPECT_EQ(r.data.train_file, dir.path("data/train.conll"));
  EXPECT_EQ(r.where("training.seed"), dir.path("bases/other.yaml") + ":1:18");
  EXPECT_EQ(r.where("training.warmup_steps"), "--set training.warmup_steps=5");
  ASSERT_EQ(r.sources.size(), 3u);
  EXPECT_EQ(r.sources.back(), dir.path("r.yaml"));
  // The files check passes and writes nothing.
  const auto check = clintorch::train::check_recipe_files(r);
  EXPECT_EQ(check.model.max_position_embeddings, 512);
  EXPECT_EQ(check.model.num_hidden_layers, 2);
  EXPECT_FALSE(fs::exists(dir.out()));
}

// tokenizer.config (a configs/ folder, or its tokenizer_config.json) and the tokenizer_config.json
// beside model.config give the tokenizer settings; the recipe's tokenizer keys win over both.
TEST(Recipe, TokenizerConfigGivesSettingsAndTheKeysWin) {
  using clintorch::train::check_recipe_files;
  using clintorch::train::tokenizer_options;
  RecipeDir dir;
  dir.write("cfg/tokenizer_config.json", R"({"do_lower_case": false, "strip_accents": null})");
  dir.write("r.yaml", dir.good("tokenizer:\n  config: cfg\n"));
  const Recipe r = load_recipe(dir.path("r.yaml"));
  const auto check = check_recipe_files(r);
  EXPECT_NE(check.tokenizer.path.find("cfg/tokenizer_config.json"), std::string::npos);
  EXPECT_EQ(check.tokenizer.do_lower_case, std::optional<bool>(false));
  EXPECT_FALSE(check.tokenizer.strip_accents.has_value());  // null: left to the model's files
  EXPECT_EQ(tokenizer_options(r, check.tokenizer).do_lower_case, std::optional<bool>(false));
  const Recipe keyed = load_recipe(dir.path("r.yaml"), {"tokenizer.do_lower_case=true"});
  EXPECT_EQ(tokenizer_options(keyed, check_recipe_files(keyed).tokenizer).do_lower_case,
            std::optional<bool>(true));
  // Without tokenizer.config nothing is read for a model folder.
  EXPECT_TRUE(check_recipe_files(load_recipe(dir.path("r.yaml"), {"tokenizer.config=''"}))
                  .tokenizer.path.empty());

  // model.config: the tokenizer_config.json beside its config.json, as a model folder's.
  dir.write("new/config.json",
            R"({"model_type": "bert", "max_position_embeddings": 512, "num_hidden_layers": 2,
                "hidden_size": 32, "vocab_size": 100})");
  dir.write("new/tokenizer_config.json", R"({"do_lower_case": false})");
  dir.write("m.yaml",
            "model:\n  config: new/config.json\ntokenizer:\n  vocab_file: model/vocab.txt\n"
            "task:\n  name: token_classification\ndata:\n  train_file: data/train.conll\n"
            "output:\n  output_dir: " +
                dir.out().string() + "\n");
  const auto from_model_config = check_recipe_files(load_recipe(dir.path("m.yaml"))).tokenizer;
  EXPECT_EQ(from_model_config.do_lower_case, std::optional<bool>(false));
  EXPECT_TRUE(from_model_config.tokenize_chinese_chars == std::nullopt);

  // Errors name the file and the field, never a value from the data.
  dir.write("bad/tokenizer_config.json", R"({"tokenize_chinese_chars": 1})");
  dir.write("b.yaml", dir.good("tokenizer:\n  config: bad\n"));
  expect_error(dir, "b.yaml", {},
               {"bad/tokenizer_config.json",
                "\"tokenize_chinese_chars\" must be true, false or null", "tokenizer.config"});
  dir.write("j.yaml", dir.good("tokenizer:\n  config: bad/tokenizer_config.json\n"));
  dir.write("bad/tokenizer_config.json", "{\"do_lower_case\": tru");
  expect_error(dir, "j.yaml", {}, {"tokenizer_config.json:1:", "not valid JSON"});
  dir.write("a.yaml", dir.good("tokenizer:\n  config: absent\n"));
  expect_error(dir, "a.yaml", {}, {"tokenizer.config", "absent", "does not exist"});
}

TEST(Recipe, SetValuesAreTypedAsYaml) {
  RecipeDir dir;
  const Recipe r = load_recipe_from_string(
      dir.good(), "inline.yaml", dir.path(""),
      {"task.labels=[O, B-PROBLEM, I-PROBLEM]", "training.bf16=true", "model.hidden_dropout_prob=0",
       "data.max_train_samples=null", "training.resume_from_checkpoint=last"});
  EXPECT_EQ(r.task.labels, (std::vector<std::string>{"O", "B-PROBLEM", "I-PROBLEM"}));
  EXPECT_TRUE(r.training.bf16);
  ASSERT_TRUE(r.model.hidden_dropout_prob.has_value());
  EXPECT_EQ(*r.model.hidden_dropout_prob, 0.0);
  EXPECT_FALSE(r.data.max_train_samples.has_value());
  EXPECT_EQ(r.training.resume_from_checkpoint, "last");
}

TEST(Recipe, EnvironmentVariablesInPaths) {
  RecipeDir dir;
  setenv("CLINTORCH_TEST_MODEL_DIR", dir.path("model").c_str(), 1);
  const Recipe r = load_recipe_from_string(dir.good(), "inline.yaml", dir.path(""),
                                           {"model.pretrained=${CLINTORCH_TEST_MODEL_DIR}"});
  EXPECT_EQ(r.model.pretrained, dir.path("model"));
  unsetenv("CLINTORCH_TEST_MODEL_DIR");
  try {
    load_recipe_from_string(dir.good(), "inline.yaml", dir.path(""),
                            {"model.pretrained=${CLINTORCH_TEST_MODEL_DIR}/x"});
    FAIL() << "expected an error";
  } catch (const clintorch::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("environment variable CLINTORCH_TEST_MODEL_DIR is not set"),
        std::string::npos)
        << e.what();
  }
}

// Choices are enums once loaded; one_of narrows an enum's names (eval_strategy has no 'best');
// each enum's names are what the layer's own parser reads, so the recipe and the CLI agree.
TEST(Recipe, ChoicesLoadAsEnumsAndNameWhatTheLayersParse) {
  namespace ct = clintorch::train;
  namespace cd = clintorch::data;
  RecipeDir dir;
  const Recipe r = load_recipe_from_string(
      dir.good(), "inline.yaml", dir.path(""),
      {"training.lr_scheduler_type=cosine", "evaluation.save_strategy=epoch",
       "data.tag_scheme=iobes", "evaluation.seqeval_mode=strict", "logging.log_level=warning",
       "logging.progress_bar=never", "model.dtype=bfloat16"});
  EXPECT_EQ(r.task_id(), cd::Task::kTokenClassification);
  EXPECT_EQ(r.training.lr_scheduler_type, ct::ScheduleType::kCosine);
  EXPECT_EQ(r.evaluation.save_strategy, ct::Strategy::kEpoch);
  EXPECT_EQ(r.data.tag_scheme, cd::TagScheme::kIOBES);
  EXPECT_EQ(r.evaluation.seqeval_mode, clintorch::eval::NerMode::kStrict);
  EXPECT_EQ(r.logging.log_level, clintorch::LogLevel::kWarning);
  EXPECT_EQ(r.logging.progress_bar, ct::ProgressMode::kNever);
  EXPECT_EQ(r.model.dtype, ct::ParamDtype::kBFloat16);
  try {
    load_recipe_from_string(dir.good(), "inline.yaml", dir.path(""),
                            {"evaluation.eval_strategy=best"});
    ADD_FAILURE() << "eval_strategy best loaded";
  } catch (const clintorch::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'best' is not one of no, steps, epoch"),
              std::string::npos)
        << e.what();
  }
  for (const std::string& name : clintorch::choice_names<ct::ScheduleType>()) {
    EXPECT_EQ(clintorch::choice_name(ct::parse_schedule_type(name)), name);
  }
  for (const std::string& name : clintorch::choice_names<cd::TagScheme>()) {
    EXPECT_EQ(clintorch::choice_name(cd::parse_tag_scheme(name)), name);
  }
  for (const std::string& name : clintorch::choice_names<cd::ProblemType>()) {
    EXPECT_EQ(clintorch::choice_name(cd::parse_problem_type(name)), name);
  }
  for (const std::string& name : clintorch::choice_names<cd::WindowAggregation>()) {
    EXPECT_EQ(clintorch::choice_name(cd::parse_window_aggregation(name)), name);
  }
  for (const std::string& name : clintorch::choice_names<cd::UnknownLabels>()) {
    EXPECT_EQ(clintorch::choice_name(cd::parse_unknown_labels(name)), name);
  }
  for (const std::string& name : clintorch::choice_names<clintorch::eval::NerMode>()) {
    EXPECT_EQ(clintorch::choice_name(clintorch::eval::parse_ner_mode(name)), name);
  }
  for (const std::string& name : clintorch::choice_names<cd::Task>()) {
    EXPECT_EQ(clintorch::choice_name(cd::parse_task(name)), name);
  }
}

TEST(Recipe, DumpConfigRoundTrips) {
  RecipeDir dir;
  dir.write("r.yaml",
            "model: {pretrained: model}\n"
            "task: {name: token_classification, labels: [O, B-PROBLEM], crf: true}\n"
            "data: {train_file: data/train.conll, validation_file: data/dev.conll}\n"
            "training: {learning_rate: 3.0e-5, warmup_ratio: 0.06, max_grad_norm: 0.1}\n"
            "evaluation: {eval_strategy: epoch}\n"
            "output: {output_dir: " +
                dir.out().string() + "}\n");
  const auto first = run_clintorch("validate " + quoted(dir.path("r.yaml")) +
                                   " --set training.seed=3 --dump-config");
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("learning_rate: 3.0e-05"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("crf: true"), std::string::npos) << first.output;
  EXPECT_EQ(first.output.find("problem_type"), std::string::npos)  // not a NER key
      << first.output;
  dir.write("dumped.yaml", first.output);
  const auto second =
      run_clintorch("validate " + quoted(dir.path("dumped.yaml")) + " --dump-config");
  ASSERT_EQ(second.status, 0) << second.output;
  // Same content apart from the first comment line (it names the source files).
  auto body = [](const std::string& s) { return s.substr(s.find('\n') + 1); };
  EXPECT_EQ(body(first.output), body(second.output));
  EXPECT_FALSE(fs::exists(dir.out()));
}

TEST(Recipe, ListKeysCoversEverySection) {
  const auto r = run_clintorch("validate --list-keys");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const auto& s : clintorch::train::recipe_sections()) {
    EXPECT_NE(r.output.find("#### `" + s + "`"), std::string::npos) << s;
  }
  for (const auto& k : clintorch::train::recipe_keys()) {
    EXPECT_NE(r.output.find("| `" + k.name + "` |"), std::string::npos) << k.name;
    EXPECT_FALSE(k.doc.empty()) << k.section << "." << k.name;
  }
}

// The task registry is the one table of tasks and formats (issue #17): recipe validation and the
// readers must agree on every (task, format) pair, the accepted ones and the rejected ones, so
// that `validate` never says ok to a recipe whose data `train` cannot read.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/readers.h"
#include "data/task_registry.h"
#include "model/heads/registry.h"
#include "train/recipe.h"
#include "util/error.h"

namespace data = clintorch::data;

namespace {

// Does a recipe of this task with data.format = `format` pass load_recipe's checks?
bool recipe_accepts(const std::string& task, const std::string& format) {
  const std::string yaml =
      "model: {config: config.json}\n"
      "task: {name: " +
      task +
      "}\n"
      "data: {train_file: train.txt, format: " +
      format +
      "}\n"
      "evaluation: {eval_strategy: 'no', save_strategy: 'no'}\n"
      "output: {output_dir: out}\n";
  try {
    clintorch::train::load_recipe_from_string(yaml, "registry.yaml", "/tmp");
    return true;
  } catch (const clintorch::Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.format"), std::string::npos)
        << task << "/" << format << ": the only error expected is the format's\n"
        << e.what();
    return false;
  }
}

// Do the readers accept it: the registry's reader format, which resolve_format (what every
// reader calls first) accepts for the task?
bool readers_accept(data::Task task, const std::string& format) {
  data::Format f;
  try {
    f = data::task_format(task, format, "data.format");
  } catch (const clintorch::Error&) {
    return false;
  }
  if (f == data::Format::kAuto) return true;
  try {
    return data::resolve_format(f, task, "file.any") == f;
  } catch (const clintorch::Error&) {
    return false;
  }
}

}  // namespace

TEST(TaskRegistry, ValidateAndReadersAgreeOnEveryTaskFormatPair) {
  std::vector<std::string> names = data::all_format_names();
  names.push_back("xml");  // a name no task reads
  size_t accepted = 0, rejected = 0;
  for (const data::TaskSpec& spec : data::task_registry()) {
    for (const std::string& format : names) {
      const bool by_recipe = recipe_accepts(spec.name, format);
      const bool by_readers = readers_accept(spec.task, format);
      EXPECT_EQ(by_recipe, by_readers) << spec.name << " / " << format;
      EXPECT_EQ(by_readers, data::task_reads_format(spec.task, format));
      (by_readers ? accepted : rejected) += 1;
    }
  }
  EXPECT_GT(accepted, data::task_registry().size());
  EXPECT_GT(rejected, data::task_registry().size());
}

TEST(TaskRegistry, PairsValidateUsedToAcceptAreRejected) {
  EXPECT_FALSE(data::task_reads_format(data::Task::kTokenClassification, "tsv"));
  EXPECT_FALSE(data::task_reads_format(data::Task::kSequenceClassification, "blue_tsv"));
  EXPECT_FALSE(data::task_reads_format(data::Task::kMlm, "jsonl"));
  try {
    data::task_format(data::Task::kTokenClassification, "tsv", "r.yaml:4:11");
    FAIL() << "tsv is not a NER format";
  } catch (const clintorch::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("r.yaml:4:11"), std::string::npos) << m;
    EXPECT_NE(m.find("cannot be read for task 'token_classification'"), std::string::npos) << m;
    EXPECT_NE(m.find("conll"), std::string::npos) << m;  // the hint lists the task's formats
  }
}

TEST(TaskRegistry, EveryFormatOfTheReadersBelongsToATask) {
  // Every reader format some task reads is reachable by a name, and every name maps back.
  for (const data::TaskSpec& spec : data::task_registry()) {
    EXPECT_FALSE(spec.formats.empty()) << spec.name;
    EXPECT_NE(spec.detect, nullptr) << spec.name;
    for (const data::FormatName& f : spec.formats) {
      EXPECT_EQ(data::task_format(spec.task, f.name, "x"), f.format) << spec.name << "/" << f.name;
      EXPECT_NE(data::format_name(f.format), "?") << f.name;
    }
  }
}

TEST(TaskRegistry, NamesAndAliasesComeFromTheHeadRegistry) {
  for (const data::TaskSpec& spec : data::task_registry()) {
    EXPECT_EQ(clintorch::model::canonical_head_name(spec.name), spec.name);
    EXPECT_EQ(data::parse_task(spec.name), spec.task);
    EXPECT_EQ(data::task_name(spec.task), spec.name);
  }
  EXPECT_EQ(data::parse_task("ner"), data::Task::kTokenClassification);
  EXPECT_EQ(data::parse_task("re"), data::Task::kRelationExtraction);
  EXPECT_THROW(data::parse_task("nerr"), clintorch::Error);
}

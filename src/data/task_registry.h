// The task registry: one entry per task, the one place that says what a task is called, which
// head it trains and which file formats it reads (under which names, and how `auto` chooses).
// Recipe validation (data.format), the readers, `clintorch evaluate --format`, `validate
// --list-keys` and the format table of docs/recipes.md all read this table, so they cannot
// disagree.
//
//   const data::TaskSpec& ner = data::task_spec(data::Task::kTokenClassification);
//   data::task_format(data::Task::kRelationExtraction, "jsonl", "data.format");  // kReJsonl
//
// Task names and aliases are the head registry's (model/heads/registry.h): a task is named after
// the head it trains. Adding a task or a format: CONTRIBUTING.md.
#pragma once

#include <string>
#include <vector>

#include "data/readers.h"
#include "data/task_data.h"

namespace clintorch::data {

// A name a recipe (data.format) or a command (--format) may give, and the reader format it
// selects for the task.
struct FormatName {
  std::string name;
  Format format;
};

struct TaskSpec {
  Task task;
  // The canonical name = the head's registry name (e.g. "token_classification").
  std::string name;
  // The formats the task reads, by every accepted name; the first name of each format is the
  // one documented. "auto" is always accepted and is not listed.
  std::vector<FormatName> formats;
  // What "auto" picks for a file: from its extension (and for NER JSONL its first line).
  Format (*detect)(const std::string& path);
  // One line for docs/recipes.md / --list-keys: how auto decides.
  std::string auto_rule;
  // What the data layer does for the task (src/data/tasks/<task>.cpp).
  const TaskDataOps& (*data)();
};

// Every task, in head registry order.
const std::vector<TaskSpec>& task_registry();
const TaskSpec& task_spec(Task task);

// Every format name some task accepts, "auto" first, without duplicates (registry order).
std::vector<std::string> all_format_names();
// The documented names of the task's formats ("auto" not included).
std::vector<std::string> task_format_names(Task task);

// "formats of TASK: auto, conll, ...": the hint of every error about a task's formats.
std::string task_formats_hint(Task task);
// True when `task` reads the format `name` ("auto" included).
bool task_reads_format(Task task, const std::string& name);
// The reader format of `name` for `task` (kAuto for "auto"). Throws Error "WHERE: format 'x'
// cannot be read for task 't'" with the task's formats as the hint otherwise.
Format task_format(Task task, const std::string& name, const std::string& where);

}  // namespace clintorch::data

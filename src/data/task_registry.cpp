#include "data/task_registry.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "data/text_io.h"
#include "model/heads/registry.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::data {

namespace {

bool is_json_extension(const std::string& ext) {
  return ext == "jsonl" || ext == "json" || ext == "ndjson";
}

std::string first_nonblank_line(const std::string& path) {
  LineReader lr(path);
  std::string line;
  while (lr.next(line)) {
    if (!strip_unicode(line).empty()) return line;
  }
  return "";
}

Format detect_mlm(const std::string&) {
  return Format::kText;
}

Format detect_qa(const std::string&) {
  return Format::kSquad;
}

// .jsonl/.json/.ndjson: tokens/tags JSONL, or text/entities JSONL when the first object has
// "text" and no "tokens"; anything else is CoNLL (.conll, .iob, .bio, .tsv, .txt, ...).
Format detect_ner(const std::string& path) {
  if (!is_json_extension(file_extension(path))) return Format::kConll;
  const std::string first = first_nonblank_line(path);
  if (first.empty()) return Format::kNerJsonl;  // the reader reports the empty file
  const nlohmann::json v = parse_json(first, path, 1);
  return v.is_object() && v.contains("text") && !v.contains("tokens") ? Format::kNerSpansJsonl
                                                                      : Format::kNerJsonl;
}

Format detect_classification(const std::string& path) {
  const std::string ext = file_extension(path);
  if (ext == "csv") return Format::kCsv;
  if (ext == "tsv" || ext == "tab") return Format::kTsv;
  if (is_json_extension(ext)) return Format::kJsonl;
  fail(path, "cannot tell the format from the extension '." + ext + "'",
       "name the file .csv, .tsv or .jsonl, or set the format explicitly");
}

Format detect_re(const std::string& path) {
  return is_json_extension(file_extension(path)) ? Format::kReJsonl : Format::kBlueTsv;
}

}  // namespace

const std::vector<TaskSpec>& task_registry() {
  static const std::vector<TaskSpec> table = {
      {Task::kMlm,
       "mlm",
       {{"text", Format::kText}},
       &detect_mlm,
       "text (a file, or a folder of .txt files)",
       &mlm_data_ops},
      {Task::kTokenClassification,
       "token_classification",
       {{"conll", Format::kConll},
        {"jsonl", Format::kNerJsonl},
        {"ner_jsonl", Format::kNerJsonl},
        {"jsonl_spans", Format::kNerSpansJsonl},
        {"ner_spans_jsonl", Format::kNerSpansJsonl}},
       &detect_ner,
       ".jsonl/.json: jsonl (tokens/tags) or jsonl_spans (text/entities, from the first line); "
       "any other extension: conll",
       &ner_data_ops},
      {Task::kSequenceClassification,
       "sequence_classification",
       {{"csv", Format::kCsv}, {"tsv", Format::kTsv}, {"jsonl", Format::kJsonl}},
       &detect_classification,
       ".csv: csv, .tsv/.tab: tsv, .jsonl/.json: jsonl",
       &classification_data_ops},
      {Task::kQuestionAnswering,
       "question_answering",
       {{"squad", Format::kSquad}},
       &detect_qa,
       "squad",
       &qa_data_ops},
      {Task::kRelationExtraction,
       "relation_extraction",
       {{"blue_tsv", Format::kBlueTsv},
        {"jsonl", Format::kReJsonl},
        {"re_jsonl", Format::kReJsonl},
        {"csv", Format::kCsv},
        {"tsv", Format::kTsv}},
       &detect_re,
       ".jsonl/.json: jsonl (text with head/tail spans); any other extension: blue_tsv",
       &re_data_ops},
  };
  return table;
}

const TaskSpec& task_spec(Task task) {
  for (const TaskSpec& spec : task_registry()) {
    if (spec.task == task) return spec;
  }
  fail("task", "task " + std::to_string(static_cast<int>(task)) + " is not in the registry");
}

Task parse_task(const std::string& name) {
  const std::string canonical = model::canonical_head_name(name);
  std::vector<std::string> names;
  for (const TaskSpec& spec : task_registry()) {
    if (spec.name == canonical) return spec.task;
    names.push_back(spec.name);
  }
  fail("task", "unknown task '" + name + "'" + did_you_mean(name, names),
       "the tasks are: " + join(names, ", "));
}

std::string task_name(Task task) {
  return task_spec(task).name;
}

std::vector<std::string> all_format_names() {
  std::vector<std::string> out{"auto"};
  for (const TaskSpec& spec : task_registry()) {
    for (const FormatName& f : spec.formats) {
      if (std::find(out.begin(), out.end(), f.name) == out.end()) out.push_back(f.name);
    }
  }
  return out;
}

std::vector<std::string> task_format_names(Task task) {
  std::vector<std::string> out;
  std::vector<Format> seen;
  for (const FormatName& f : task_spec(task).formats) {
    if (std::find(seen.begin(), seen.end(), f.format) != seen.end()) continue;
    seen.push_back(f.format);
    out.push_back(f.name);
  }
  return out;
}

std::string task_formats_hint(Task task) {
  return "formats of " + task_name(task) + ": auto, " + join(task_format_names(task), ", ");
}

bool task_reads_format(Task task, const std::string& name) {
  if (name == "auto") return true;
  const auto& formats = task_spec(task).formats;
  return std::any_of(formats.begin(), formats.end(),
                     [&](const FormatName& f) { return f.name == name; });
}

Format task_format(Task task, const std::string& name, const std::string& where) {
  if (name == "auto") return Format::kAuto;
  for (const FormatName& f : task_spec(task).formats) {
    if (f.name == name) return f.format;
  }
  const std::vector<std::string> all = all_format_names();
  const bool known = std::find(all.begin(), all.end(), name) != all.end();
  fail(where,
       known ? "format '" + name + "' cannot be read for task '" + task_name(task) + "'"
             : "unknown data format '" + name + "'" + did_you_mean(name, all),
       task_formats_hint(task));
}

Format resolve_format(Format format, Task task, const std::string& path) {
  const TaskSpec& spec = task_spec(task);
  if (format == Format::kAuto) return spec.detect(path);
  for (const FormatName& f : spec.formats) {
    if (f.format == format) return format;
  }
  fail(path, "format '" + format_name(format) + "' cannot be read for task '" + spec.name + "'",
       task_formats_hint(task));
}

}  // namespace clintorch::data

namespace clintorch {

const std::vector<std::string>& ChoiceNames<data::Task>::names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names(data::task_registry().size());
    for (const data::TaskSpec& spec : data::task_registry()) {
      names.at(static_cast<size_t>(spec.task)) = spec.name;
    }
    return names;
  }();
  return kNames;
}

}  // namespace clintorch

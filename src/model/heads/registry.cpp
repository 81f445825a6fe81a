#include "model/heads/registry.h"

#include <algorithm>
#include <map>

#include "util/error.h"
#include "util/strings.h"

// The heads, one line each. A line HEAD(NAME) registers the head "NAME", whose file
// src/model/heads/NAME.cpp defines
//   std::unique_ptr<TaskHead> make_NAME_head(const HeadOptions& options);
// The order is the order of head_names() (and of the architecture lookup in
// head_name_from_config: sequence_classification precedes relation_extraction, which exports
// BertForSequenceClassification too when it pools [CLS]).
#define CLINTORCH_TASK_HEADS(HEAD) \
  HEAD(mlm)                        \
  HEAD(token_classification)       \
  HEAD(sequence_classification)    \
  HEAD(question_answering)         \
  HEAD(relation_extraction)

namespace clintorch::model {

#define CLINTORCH_DECLARE_HEAD(NAME) \
  std::unique_ptr<TaskHead> make_##NAME##_head(const HeadOptions& options);
CLINTORCH_TASK_HEADS(CLINTORCH_DECLARE_HEAD)
#undef CLINTORCH_DECLARE_HEAD

namespace {

using Factory = std::unique_ptr<TaskHead> (*)(const HeadOptions&);

const std::vector<std::pair<std::string, Factory>>& factories() {
#define CLINTORCH_HEAD_ENTRY(NAME) {#NAME, &make_##NAME##_head},
  static const std::vector<std::pair<std::string, Factory>> table = {
      CLINTORCH_TASK_HEADS(CLINTORCH_HEAD_ENTRY)};
#undef CLINTORCH_HEAD_ENTRY
  return table;
}

// The task aliases, the only list of them: data::parse_task (data/task_registry.cpp) reads it.
const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> table = {
      {"ner", "token_classification"},
      {"classification", "sequence_classification"},
      {"qa", "question_answering"},
      {"re", "relation_extraction"}};
  return table;
}

}  // namespace

const std::vector<std::string>& head_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, factory] : factories()) out.push_back(name);
    return out;
  }();
  return names;
}

std::string canonical_head_name(const std::string& name) {
  for (const auto& [known, factory] : factories()) {
    if (known == name) return known;
  }
  auto it = aliases().find(name);
  return it == aliases().end() ? std::string() : it->second;
}

std::unique_ptr<TaskHead> make_head(const std::string& name, const HeadOptions& options) {
  const std::string canonical = canonical_head_name(name);
  for (const auto& [known, factory] : factories()) {
    if (known == canonical) return factory(options);
  }
  std::vector<std::string> candidates = head_names();
  for (const auto& [alias, target] : aliases()) candidates.push_back(alias);
  std::string list;
  for (const auto& n : head_names()) list += (list.empty() ? "" : ", ") + n;
  fail("task head", "unknown head '" + name + "'" + did_you_mean(name, candidates),
       "the heads are: " + list);
}

std::string head_name_from_config(const nlohmann::json& config) {
  if (config.contains("clintorch") && config["clintorch"].is_object() &&
      config["clintorch"].contains("head") && config["clintorch"]["head"].is_string()) {
    const std::string name = canonical_head_name(config["clintorch"]["head"].get<std::string>());
    if (!name.empty()) return name;
  }
  if (!config.contains("architectures") || !config["architectures"].is_array() ||
      config["architectures"].empty() || !config["architectures"][0].is_string()) {
    return "";
  }
  const std::string arch = config["architectures"][0].get<std::string>();
  if (arch == "BertForPreTraining") return "mlm";  // MLM + NSP: its MLM part loads
  for (const auto& [name, factory] : factories()) {
    if (factory({})->info().hf_architecture == arch) return name;
  }
  return "";
}

}  // namespace clintorch::model

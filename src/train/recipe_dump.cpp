// The merged recipe as YAML (--dump-config, the run's recipe.yaml).
#include <algorithm>

#include "train/recipe_schema.h"

namespace clintorch::train {

using namespace recipe_detail;

namespace {

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

std::string dump_recipe(const Recipe& recipe) {
  YAML::Emitter e;
  e.SetIndent(2);
  e << YAML::BeginMap;
  for (const auto& section : sections()) {
    e << YAML::Key << section.name << YAML::Value << YAML::BeginMap;
    for (const auto& k : table()) {
      if (k.section != section.name) continue;
      if (!k.spec.task_names.empty() && !contains(k.spec.task_names, choice_name(recipe.task_id())))
        continue;
      e << YAML::Key << k.name << YAML::Value;
      k.emit(recipe, e);
    }
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  std::string header = "# clintorch recipe, merged from: " + join(recipe.sources, ", ") + "\n";
  return header + e.c_str() + "\n";
}

}  // namespace clintorch::train

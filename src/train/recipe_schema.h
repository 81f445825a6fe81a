// Internal to the recipe code (src/train/recipe*.cpp): the key table built from the X-macro
// lists in recipe.h, and the checks that read the key declarations themselves.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "train/recipe.h"
#include "train/recipe_values.h"

namespace clintorch::train {
namespace recipe_detail {

struct KeyDecl {
  std::string section;
  std::string name;
  std::string type;
  std::string doc;
  std::string default_text;
  Spec spec;
  std::function<void(Recipe&, const YAML::Node&, const Ctx&)> assign;
  std::function<void(const Recipe&, YAML::Emitter&)> emit;
  std::function<bool(const Recipe&)> is_empty;  // a string key holding ""
  std::string full() const { return section + "." + name; }
};

struct SectionDecl {
  const char* name;
  const char* doc;
};

// The sections, in recipe order, and every key, in declaration order.
const std::vector<SectionDecl>& sections();
const std::vector<KeyDecl>& table();
const std::vector<std::string>& section_names();
// The declaration of section.name, or nullptr.
const KeyDecl* find_key(const std::string& section, const std::string& name);
// " (did you mean ...)" for a key unknown in `section` (the key in another section, else the
// nearest key of the section); sets *hint.
std::string key_suggestion(const std::string& section, const std::string& name, std::string* hint);

}  // namespace recipe_detail

// Required keys are set, and keys bound to some tasks (`.tasks(...)`) are set only for those.
void check_declared_keys(const Recipe& recipe);

}  // namespace clintorch::train

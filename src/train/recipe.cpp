// Recipe loading: YAML parsing with locations, `extends`, `--set` overrides; each key is read by
// its declaration (recipe_schema.cpp), then validate_recipe checks the rules between keys.
#include <filesystem>
#include <map>

#include "data/text_io.h"
#include "train/recipe.h"
#include "train/recipe_schema.h"

namespace clintorch::train {
namespace {

using namespace recipe_detail;

// A recipe is UTF-8 (as YAML requires; yaml-cpp does not check): invalid bytes in a label or a
// path would come back changed from dump_recipe (found by the recipe fuzz target: two labels
// that differed only in invalid bytes became one). data::check_utf8_text checks it.

class Loader {
 public:
  Recipe recipe;

  void load_file(const fs::path& file, const std::string& requested_from) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(file), ec);
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].first == canonical) {
        std::string chain;
        for (size_t j = i; j < stack_.size(); ++j) chain += stack_[j].second + " -> ";
        fail(requested_from, "extends cycle: " + chain + file.string(),
             "a recipe cannot extend itself, directly or through its bases");
      }
    }
    if (!fs::exists(file, ec)) {
      if (stack_.empty()) fail(file.string(), "recipe file not found");
      fail(requested_from, "extends: base recipe " + file.string() + " not found",
           "paths in extends are relative to the folder of the recipe that names them");
    }
    if (!fs::is_regular_file(file, ec)) fail(file.string(), "is not a file");

    const std::string text = data::read_file(file.string());
    data::check_utf8_text(text, file.string());
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      fail(location(file.string(), e.mark), "YAML syntax error: " + e.msg);
    }
    stack_.emplace_back(canonical, file.string());
    apply_document(root, file.string(), fs::absolute(file).parent_path(), /*allow_extends=*/true);
    stack_.pop_back();
    recipe.sources.push_back(file.string());
  }

  void apply_document(const YAML::Node& root, const std::string& file, const fs::path& dir,
                      bool allow_extends) {
    if (root.IsNull()) fail(file, "the recipe is empty", "a recipe is a mapping of sections");
    if (!root.IsMap()) {
      fail(location(file, root.Mark()),
           "a recipe must be a mapping of sections, got " + node_text(root),
           "sections: " + join(section_names(), ", "));
    }
    check_duplicates(root, file);
    // Bases first: the file's own values override theirs.
    for (const auto& entry : root) {
      if (entry.first.Scalar() != "extends") continue;
      const std::string where = location(file, entry.first.Mark());
      if (!allow_extends) fail(where, "extends is not allowed here");
      std::vector<std::pair<std::string, std::string>> bases;  // path, where
      if (entry.second.IsScalar()) {
        bases.emplace_back(entry.second.Scalar(), location(file, entry.second.Mark()));
      } else if (entry.second.IsSequence()) {
        for (const auto& item : entry.second) {
          if (!item.IsScalar()) {
            fail(location(file, item.Mark()),
                 "extends: expected a file name, got " + node_text(item));
          }
          bases.emplace_back(item.Scalar(), location(file, item.Mark()));
        }
      } else {
        fail(where, "extends: expected a file name or a list of file names, got " +
                        node_text(entry.second));
      }
      for (const auto& [base, base_where] : bases) {
        if (base.empty()) fail(base_where, "extends: empty file name");
        fs::path p(base);
        if (p.is_relative()) p = dir / p;
        load_file(p.lexically_normal(), base_where);
      }
    }
    for (const auto& entry : root) {
      const YAML::Node& key = entry.first;
      const std::string where = location(file, key.Mark());
      if (!key.IsScalar()) fail(where, "a section name must be a plain word");
      const std::string section = key.Scalar();
      if (section == "extends") continue;
      if (std::find(section_names().begin(), section_names().end(), section) ==
          section_names().end()) {
        std::string hint = "sections: " + join(section_names(), ", ");
        std::string suggestion = did_you_mean(section, section_names());
        for (const auto& k : table()) {
          if (k.name == section) {
            suggestion = " (did you mean '" + k.section + "." + section + "'?)";
            hint = "keys go inside their section, e.g. '" + k.section + ": {" + section + ": ...}'";
            break;
          }
        }
        fail(where, "unknown section '" + section + "'" + suggestion, hint);
      }
      const YAML::Node& body = entry.second;
      if (body.IsNull()) continue;  // "training:" with nothing under it
      if (!body.IsMap()) {
        fail(location(file, body.Mark().is_null() ? key.Mark() : body.Mark()),
             "section '" + section + "' must be a mapping of keys, got " + node_text(body));
      }
      check_duplicates(body, file);
      for (const auto& item : body) {
        const std::string item_where = location(file, item.first.Mark());
        if (!item.first.IsScalar()) fail(item_where, "a key must be a plain word");
        const std::string name = item.first.Scalar();
        const KeyDecl* decl = find_key(section, name);
        if (!decl) {
          std::string hint;
          const std::string suggestion = key_suggestion(section, name, &hint);
          fail(item_where, "unknown key '" + name + "' in section '" + section + "'" + suggestion,
               hint);
        }
        Ctx c;
        c.file = file;
        c.key = decl->full();
        c.base_dir = dir;
        const YAML::Mark value_mark = item.second.Mark();
        c.where = location(
            file, (item.second.IsNull() || value_mark.is_null()) ? item.first.Mark() : value_mark);
        decl->assign(recipe, item.second, c);
        recipe.origins[decl->full()] = c.where;
      }
    }
  }

  void apply_override(const std::string& text) {
    const std::string where = "--set " + text;
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      fail(where, "expected section.key=value", "e.g. --set training.learning_rate=3e-5");
    }
    const std::string full = text.substr(0, eq);
    const std::string value = text.substr(eq + 1);
    const auto dot = full.find('.');
    if (full == "extends") fail(where, "extends cannot be overridden with --set");
    if (dot == std::string::npos) {
      // Suggest the full name of the key with this (or the nearest) bare name.
      std::vector<std::string> names;
      for (const auto& k : table()) names.push_back(k.name);
      const std::string nearest = closest_match(full, names);
      std::string suggestion;
      for (const auto& k : table()) {
        if (!nearest.empty() && k.name == nearest) {
          suggestion = " (did you mean '" + k.full() + "'?)";
          break;
        }
      }
      fail(where, "'" + full + "' is not section.key" + suggestion,
           "e.g. --set training.learning_rate=3e-5");
    }
    const std::string section = full.substr(0, dot);
    const std::string name = full.substr(dot + 1);
    if (std::find(section_names().begin(), section_names().end(), section) ==
        section_names().end()) {
      fail(where, "unknown section '" + section + "'" + did_you_mean(section, section_names()),
           "sections: " + join(section_names(), ", "));
    }
    const KeyDecl* decl = find_key(section, name);
    if (!decl) {
      std::string hint;
      const std::string suggestion = key_suggestion(section, name, &hint);
      fail(where, "unknown key '" + name + "' in section '" + section + "'" + suggestion, hint);
    }
    data::check_utf8_text(value, where);
    YAML::Node node;
    try {
      node = YAML::Load(value);
    } catch (const YAML::ParserException& e) {
      fail(where, "the value is not valid YAML: " + e.msg, "quote it: --set 'key=\"...\"'");
    }
    Ctx c;
    c.key = decl->full();
    c.where = where;
    c.base_dir = fs::current_path();
    decl->assign(recipe, node, c);
    recipe.origins[decl->full()] = where;
  }

 private:
  static void check_duplicates(const YAML::Node& map, const std::string& file) {
    std::map<std::string, int> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) continue;
      const auto [it, inserted] = seen.emplace(entry.first.Scalar(), entry.first.Mark().line + 1);
      if (!inserted) {
        fail(location(file, entry.first.Mark()),
             "duplicate key '" + entry.first.Scalar() + "' (first at line " +
                 std::to_string(it->second) + ")",
             "keep one of them");
      }
    }
  }

  std::vector<std::pair<fs::path, std::string>> stack_;  // files being loaded: canonical, shown
};

}  // namespace

std::string Recipe::where(const std::string& key) const {
  const auto it = origins.find(key);
  if (it != origins.end()) return it->second;
  return sources.empty() ? std::string("recipe") : sources.back();
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  Loader loader;
  loader.load_file(fs::path(path).lexically_normal(), path);
  for (const auto& o : overrides) loader.apply_override(o);
  validate_recipe(loader.recipe);
  return loader.recipe;
}

Recipe load_recipe_from_string(const std::string& yaml, const std::string& name,
                               const std::string& base_dir,
                               const std::vector<std::string>& overrides) {
  Loader loader;
  data::check_utf8_text(yaml, name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    fail(location(name, e.mark), "YAML syntax error: " + e.msg);
  }
  loader.apply_document(root, name, fs::absolute(base_dir.empty() ? "." : base_dir),
                        /*allow_extends=*/false);
  loader.recipe.sources.push_back(name);
  for (const auto& o : overrides) loader.apply_override(o);
  validate_recipe(loader.recipe);
  return loader.recipe;
}

}  // namespace clintorch::train

// The recipe's key table (from the X-macro lists in recipe.h), the declared-key checks, and the
// key reference (--list-keys, docs/recipes.md).
#include "train/recipe_schema.h"

#include <sstream>
#include <stdexcept>

#include "data/task_registry.h"

namespace clintorch::train {
namespace recipe_detail {
namespace {

// The choice enum inside T (T itself, or the T of std::optional<T>), void when T is none.
template <class T>
struct ChoiceOf {
  using type = std::conditional_t<is_choice_v<T>, T, void>;
};
template <class T>
struct ChoiceOf<std::optional<T>> : ChoiceOf<T> {};

// A key's spec as declared, completed for named enums (every name when one_of gave none) and
// checked against the enum and the task registry (a mistake in recipe.h fails every load).
template <class T>
Spec complete_spec(const char* section, const char* name, Spec spec) {
  const std::string key = std::string(section) + "." + name;
  using E = typename ChoiceOf<T>::type;
  if constexpr (!std::is_void_v<E>) {
    for (const std::string& choice : spec.choices) {
      if (!choice_from_name<E>(choice)) {
        throw std::logic_error("recipe.h: " + key + ": one_of names '" + choice +
                               "', which its enum does not have");
      }
    }
    if (spec.choices.empty()) spec.choices = choice_names<E>();
  }
  for (const std::string& task : spec.task_names) {
    if (!choice_from_name<data::Task>(task)) {
      throw std::logic_error("recipe.h: " + key + ": .tasks() names '" + task +
                             "', which the task registry does not have");
    }
  }
  return spec;
}

template <class S, class T>
KeyDecl make_key(const char* section, S Recipe::*member, T S::*field, const char* name,
                 const Spec& declared, const char* doc) {
  const Spec spec = complete_spec<T>(section, name, declared);
  KeyDecl k;
  k.section = section;
  k.name = name;
  k.type = spec.is_path ? std::string("path") : Conv<T>::type();
  if constexpr (!std::is_void_v<typename ChoiceOf<T>::type>) k.type = "string";  // task.name too
  k.doc = doc;
  k.spec = spec;
  k.default_text = Conv<T>::text(S{}.*field);
  k.assign = [member, field, spec](Recipe& r, const YAML::Node& node, const Ctx& c) {
    T value = Conv<T>::parse(node, c, spec);
    if constexpr (std::is_same_v<T, std::string>) {
      if (spec.is_path) value = resolve_path(value, spec, c);
    }
    Conv<T>::check(value, spec, c);
    (r.*member).*field = std::move(value);
  };
  k.emit = [member, field](const Recipe& r, YAML::Emitter& e) {
    Conv<T>::emit(e, (r.*member).*field);
  };
  k.is_empty = [member, field](const Recipe& r) {
    if constexpr (std::is_same_v<T, std::string>) {
      return ((r.*member).*field).empty();
    } else if constexpr (!std::is_void_v<typename ChoiceOf<T>::type> && !is_choice_v<T>) {
      return !((r.*member).*field).has_value();  // an optional choice (task.name)
    } else {
      (void)r;
      (void)member;  // captured for the branches above (clang: -Wunused-lambda-capture)
      (void)field;
      return false;
    }
  };
  return k;
}

#define CLINTORCH_RECIPE_KEY(type, name, def, constraint, doc) \
  make_key<Sec, type>(kName, kMember, &Sec::name, #name, constraint, doc),

#define CLINTORCH_RECIPE_SECTION(member, KEYS)             \
  {                                                        \
    using Sec = decltype(Recipe::member);                  \
    const char* kName = #member;                           \
    Sec Recipe::*kMember = &Recipe::member;                \
    std::vector<KeyDecl> keys{KEYS(CLINTORCH_RECIPE_KEY)}; \
    table.insert(table.end(), keys.begin(), keys.end());   \
  }

std::vector<KeyDecl> build_table() {
  std::vector<KeyDecl> table;
  CLINTORCH_RECIPE_SECTION(model, CLINTORCH_RECIPE_MODEL_KEYS)
  CLINTORCH_RECIPE_SECTION(tokenizer, CLINTORCH_RECIPE_TOKENIZER_KEYS)
  CLINTORCH_RECIPE_SECTION(task, CLINTORCH_RECIPE_TASK_KEYS)
  CLINTORCH_RECIPE_SECTION(data, CLINTORCH_RECIPE_DATA_KEYS)
  CLINTORCH_RECIPE_SECTION(training, CLINTORCH_RECIPE_TRAINING_KEYS)
  CLINTORCH_RECIPE_SECTION(evaluation, CLINTORCH_RECIPE_EVALUATION_KEYS)
  CLINTORCH_RECIPE_SECTION(output, CLINTORCH_RECIPE_OUTPUT_KEYS)
  CLINTORCH_RECIPE_SECTION(logging, CLINTORCH_RECIPE_LOGGING_KEYS)
  CLINTORCH_RECIPE_SECTION(distributed, CLINTORCH_RECIPE_DISTRIBUTED_KEYS)
  return table;
}

#undef CLINTORCH_RECIPE_SECTION
#undef CLINTORCH_RECIPE_KEY

}  // namespace

const std::vector<SectionDecl>& sections() {
  static const std::vector<SectionDecl> kSections = {
      {"model", "The encoder to fine-tune or pretrain"},
      {"tokenizer", "Overrides of the model's tokenizer settings"},
      {"task", "The task head and its options"},
      {"data", "Data files, their format, long-input windows, batching and MLM masking"},
      {"training", "Optimizer, schedule, precision, device, seed"},
      {"evaluation", "Evaluation during training, best checkpoint, early stopping, checkpoints"},
      {"output", "Where results go"},
      {"logging", "Log lines, TensorBoard, progress bar"},
      {"distributed", "Data-parallel training across processes (torchrun, Slurm)"},
  };
  return kSections;
}

const std::vector<KeyDecl>& table() {
  static const std::vector<KeyDecl> kTable = build_table();
  return kTable;
}

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const auto& s : sections()) out.emplace_back(s.name);
    return out;
  }();
  return kNames;
}

namespace {

std::vector<std::string> key_names(const std::string& section) {
  std::vector<std::string> out;
  for (const auto& k : table()) {
    if (k.section == section) out.push_back(k.name);
  }
  return out;
}

}  // namespace

const KeyDecl* find_key(const std::string& section, const std::string& name) {
  for (const auto& k : table()) {
    if (k.section == section && k.name == name) return &k;
  }
  return nullptr;
}

// "did you mean" for a key unknown in `section`: the key in another section, else the nearest
// key of this section.
std::string key_suggestion(const std::string& section, const std::string& name, std::string* hint) {
  for (const auto& k : table()) {
    if (k.name == name && k.section != section) {
      *hint = "'" + name + "' belongs to section '" + k.section + "': write it under " + k.section +
              ":";
      return " (did you mean '" + k.section + "." + name + "'?)";
    }
  }
  *hint = "run 'clintorch validate --list-keys' to see every key";
  return did_you_mean(name, key_names(section));
}

}  // namespace recipe_detail

using namespace recipe_detail;

namespace {

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

void check_declared_keys(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  // Required keys.
  for (const auto& k : table()) {
    if (k.spec.is_required && k.is_empty(r)) {
      std::string hint = k.doc;
      if (!k.spec.choices.empty()) hint = "one of " + join(k.spec.choices, ", ");
      bad(k.full(), "is required", hint);
    }
  }
  // Keys that apply only to some tasks.
  const std::string& task = choice_name(r.task_id());
  for (const auto& k : table()) {
    if (!k.spec.task_names.empty() && r.is_set(k.full()) && !contains(k.spec.task_names, task)) {
      bad(k.full(), "does not apply to task.name '" + task + "'",
          "it applies to " + join(k.spec.task_names, ", ") + "; remove it");
    }
  }
}

std::vector<std::string> recipe_sections() {
  return section_names();
}

std::vector<RecipeKeyInfo> recipe_keys() {
  std::vector<RecipeKeyInfo> out;
  for (const auto& k : table()) {
    RecipeKeyInfo info;
    info.section = k.section;
    info.name = k.name;
    info.type = k.type;
    info.default_value = k.default_text;
    info.doc = k.doc;
    info.tasks = join(k.spec.task_names, ", ");
    const bool integer = k.type.find("int") != std::string::npos;
    std::vector<std::string> parts;
    if (!k.spec.choices.empty()) parts.push_back("one of: " + join(k.spec.choices, ", "));
    const std::string range = describe_range(k.spec, integer);
    if (!range.empty()) parts.push_back(range);
    if (k.spec.is_device) parts.push_back("auto, cpu, cuda or cuda:N");
    if (k.spec.is_required) parts.push_back("required");
    if (!k.spec.path_keyword.empty()) parts.push_back("or `" + k.spec.path_keyword + "`");
    info.constraint = join(parts, "; ");
    out.push_back(info);
  }
  return out;
}

std::string recipe_keys_markdown() {
  auto escape = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '|') out += "\\";
      out += c;
    }
    return out;
  };
  std::ostringstream md;
  const auto keys = recipe_keys();
  for (const auto& section : sections()) {
    md << "#### `" << section.name << "`: " << section.doc << "\n\n";
    md << "| key | type | default | accepts | meaning |\n|---|---|---|---|---|\n";
    for (const auto& k : keys) {
      if (k.section != section.name) continue;
      std::string accepts = k.constraint;
      if (!k.tasks.empty())
        accepts += std::string(accepts.empty() ? "" : "; ") + "tasks: " + k.tasks;
      md << "| `" << k.name << "` | " << k.type << " | `" << escape(k.default_value) << "` | "
         << escape(accepts) << " | " << escape(k.doc) << " |\n";
    }
    md << "\n";
  }
  // The task registry's formats (data/task_registry.cpp): what data.format accepts per task.
  md << "#### Tasks and the formats they read (`data.format`)\n\n";
  md << "| task | formats | `auto` picks |\n|---|---|---|\n";
  for (const data::TaskSpec& t : data::task_registry()) {
    std::string names;
    for (const data::FormatName& f : t.formats) {
      if (!names.empty()) names += ", ";
      names += "`" + f.name + "`";
    }
    md << "| `" << t.name << "` | " << names << " | " << escape(t.auto_rule) << " |\n";
  }
  md << "\n";
  return md.str();
}

}  // namespace clintorch::train

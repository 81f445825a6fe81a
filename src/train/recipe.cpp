// Recipe loading: the key table (built from the X-macro lists in recipe.h), YAML parsing with
// locations, `extends`, `--set` overrides, checks, the YAML dump and the key reference.
#include "train/recipe.h"
#include "train/recipe_schema.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <type_traits>

#include "data/task_registry.h"
#include "io/model_path.h"
#include "util/device_spec.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::train {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------ constraints

// What a key accepts beyond its C++ type (see the builder list in recipe.h).
struct Spec {
  bool has_min = false, has_max = false;
  double min = 0, max = 0;
  bool min_open = false, max_open = false;  // open bounds: > min, < max
  std::vector<double> extra_values;         // exact numbers accepted outside the range
  std::vector<std::string> choices;         // allowed strings (empty: any)
  std::vector<std::string> task_names;      // tasks the key applies to (empty: all)
  bool is_path = false;
  bool relative_to_cwd = false;  // output paths: relative to the current directory
  bool is_required = false;
  bool is_device = false;
  std::string path_keyword;  // a literal word a path key accepts unresolved (e.g. "last")
  bool model_id = false;     // a path key that also accepts a HF model id (io/model_path.h)

  Spec ge(double v) const { return bound_lo(v, false); }
  Spec gt(double v) const { return bound_lo(v, true); }
  Spec le(double v) const { return bound_hi(v, false); }
  Spec lt(double v) const { return bound_hi(v, true); }
  Spec or_value(double v) const {
    Spec s = *this;
    s.extra_values.push_back(v);
    return s;
  }
  Spec tasks(const char* names) const {
    Spec s = *this;
    s.task_names = split(names);
    return s;
  }
  Spec required() const {
    Spec s = *this;
    s.is_required = true;
    return s;
  }
  Spec device() const {
    Spec s = *this;
    s.is_device = true;
    return s;
  }
  Spec keyword(const char* word) const {
    Spec s = *this;
    s.path_keyword = word;
    return s;
  }
  Spec cwd() const {
    Spec s = *this;
    s.relative_to_cwd = true;
    return s;
  }
  Spec or_model_id() const {
    Spec s = *this;
    s.model_id = true;
    return s;
  }

  static std::vector<std::string> split(const std::string& names) {
    std::vector<std::string> out;
    std::string current;
    for (char c : names) {
      if (c == '|') {
        out.push_back(current);
        current.clear();
      } else {
        current += c;
      }
    }
    if (!current.empty()) out.push_back(current);
    return out;
  }

 private:
  Spec bound_lo(double v, bool open) const {
    Spec s = *this;
    s.has_min = true;
    s.min = v;
    s.min_open = open;
    return s;
  }
  Spec bound_hi(double v, bool open) const {
    Spec s = *this;
    s.has_max = true;
    s.max = v;
    s.max_open = open;
    return s;
  }
};

Spec any() {
  return Spec{};
}
Spec ge(double v) {
  return Spec{}.ge(v);
}
Spec gt(double v) {
  return Spec{}.gt(v);
}
Spec in(double lo, double hi) {
  return Spec{}.ge(lo).le(hi);
}
Spec in_open_hi(double lo, double hi) {
  return Spec{}.ge(lo).lt(hi);
}
Spec one_of(const char* names) {
  Spec s;
  s.choices = Spec::split(names);
  return s;
}
// task.name: the task registry's names.
Spec task_choices() {
  Spec s;
  for (const data::TaskSpec& t : data::task_registry()) s.choices.push_back(t.name);
  return s;
}
// data.format: every name some task reads (validate_recipe checks it against the task).
Spec format_choices() {
  Spec s;
  s.choices = data::all_format_names();
  return s;
}
Spec path() {
  Spec s;
  s.is_path = true;
  return s;
}

// Shortest text that reads back as the same double, always with a '.' or an exponent so that
// YAML readers see a float ("5.0e-05", "1.0", "0.15").
std::string format_double(double v) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  std::string text = buffer;
  const auto e = text.find('e');
  if (text.find('.') == std::string::npos) {
    if (e == std::string::npos) {
      text += ".0";
    } else {
      text.insert(e, ".0");
    }
  }
  return text;
}

std::string format_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return format_double(v);
}

std::string describe_range(const Spec& spec, bool integer) {
  if (!spec.has_min && !spec.has_max) return "";
  std::string kind = integer ? "an integer" : "a number";
  std::string text;
  if (spec.has_min && spec.has_max) {
    text = kind + " in " + std::string(spec.min_open ? "(" : "[") + format_number(spec.min) + ", " +
           format_number(spec.max) + (spec.max_open ? ")" : "]");
  } else if (spec.has_min) {
    text = kind + (spec.min_open ? " > " : " >= ") + format_number(spec.min);
  } else {
    text = kind + (spec.max_open ? " < " : " <= ") + format_number(spec.max);
  }
  for (double v : spec.extra_values) text = format_number(v) + " or " + text;
  return text;
}

bool in_range(const Spec& spec, double v) {
  for (double extra : spec.extra_values) {
    if (v == extra) return true;
  }
  if (spec.has_min && (spec.min_open ? !(v > spec.min) : !(v >= spec.min))) return false;
  if (spec.has_max && (spec.max_open ? !(v < spec.max) : !(v <= spec.max))) return false;
  return true;
}

bool valid_device(const std::string& s) {
  return parse_device_spec(s).has_value();
}

// ------------------------------------------------------------------------------ value context

// Where a value comes from, for messages and relative paths.
struct Ctx {
  std::string file;   // the YAML file, or "" for --set
  std::string where;  // "file:line:col" or "--set section.key=value"
  std::string key;    // "section.key"
  fs::path base_dir;  // relative input paths resolve here

  [[noreturn]] void error(const std::string& what, const std::string& hint = "") const {
    fail(where, key + ": " + what, hint);
  }
};

std::string location(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

std::string node_text(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "an empty value";
}

const std::string& plain_scalar(const YAML::Node& node, const Ctx& c, const char* expected) {
  if (node.IsNull()) {
    c.error(std::string("no value given; expected ") + expected,
            "remove the key to keep its default");
  }
  if (!node.IsScalar()) c.error(std::string("expected ") + expected + ", got " + node_text(node));
  if (node.Tag() == "!") {
    c.error(std::string("expected ") + expected + ", got the quoted string '" + node.Scalar() + "'",
            "remove the quotes");
  }
  return node.Scalar();
}

// ------------------------------------------------------------------------------ typed values

template <class T>
struct Conv;

template <>
struct Conv<bool> {
  static std::string type() { return "bool"; }
  static bool parse(const YAML::Node& node, const Ctx& c, const Spec&) {
    const std::string& s = plain_scalar(node, c, "true or false");
    static const char* kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char* kFalse[] = {"false", "False", "FALSE", "no", "No",
                                   "NO",    "off",   "Off",   "OFF"};
    for (const char* t : kTrue) {
      if (s == t) return true;
    }
    for (const char* f : kFalse) {
      if (s == f) return false;
    }
    c.error("expected true or false, got '" + s + "'");
  }
  static void check(bool, const Spec&, const Ctx&) {}
  static std::string text(bool v) { return v ? "true" : "false"; }
  static void emit(YAML::Emitter& e, bool v) { e << (v ? "true" : "false"); }
};

template <>
struct Conv<int64_t> {
  static std::string type() { return "int"; }
  static int64_t parse(const YAML::Node& node, const Ctx& c, const Spec&) {
    const std::string& s = plain_scalar(node, c, "an integer");
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE ||
        std::isspace(static_cast<unsigned char>(s[0]))) {
      c.error("expected an integer, got '" + s + "'");
    }
    return static_cast<int64_t>(v);
  }
  static void check(int64_t v, const Spec& spec, const Ctx& c) {
    if (!in_range(spec, static_cast<double>(v))) {
      c.error(std::to_string(v) + " is out of range: expected " + describe_range(spec, true));
    }
  }
  static std::string text(int64_t v) { return std::to_string(v); }
  static void emit(YAML::Emitter& e, int64_t v) { e << std::to_string(v); }
};

template <>
struct Conv<double> {
  static std::string type() { return "float"; }
  static double parse(const YAML::Node& node, const Ctx& c, const Spec&) {
    const std::string& s = plain_scalar(node, c, "a number");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) ||
        std::isspace(static_cast<unsigned char>(s[0]))) {
      c.error("expected a number, got '" + s + "'");
    }
    return v;
  }
  static void check(double v, const Spec& spec, const Ctx& c) {
    if (!in_range(spec, v)) {
      c.error(format_number(v) + " is out of range: expected " + describe_range(spec, false));
    }
  }
  static std::string text(double v) { return format_double(v); }
  static void emit(YAML::Emitter& e, double v) { e << format_double(v); }
};

template <>
struct Conv<std::string> {
  static std::string type() { return "string"; }
  static std::string parse(const YAML::Node& node, const Ctx& c, const Spec&) {
    if (node.IsNull()) c.error("no value given; expected a string", "use \"\" for an empty value");
    if (!node.IsScalar()) c.error("expected a string, got " + node_text(node));
    return node.Scalar();
  }
  static void check(const std::string& v, const Spec& spec, const Ctx& c) {
    if (!spec.choices.empty() &&
        std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end()) {
      c.error("'" + v + "' is not one of " + join(spec.choices, ", ") +
              did_you_mean(v, spec.choices));
    }
    if (spec.is_device && !valid_device(v)) {
      c.error("'" + v + "' is not a device", "use auto, cpu, cuda or cuda:N (e.g. cuda:0)");
    }
  }
  static std::string text(const std::string& v) { return "\"" + v + "\""; }
  static void emit(YAML::Emitter& e, const std::string& v) { e << YAML::DoubleQuoted << v; }
};

template <class T>
struct Conv<std::vector<T>> {
  static std::string type() { return "list of " + Conv<T>::type() + "s"; }
  static std::vector<T> parse(const YAML::Node& node, const Ctx& c, const Spec& spec) {
    if (node.IsNull()) c.error("no value given; expected a " + type(), "use [] for an empty list");
    if (!node.IsSequence()) {
      c.error("expected a " + type() + ", got " + node_text(node),
              "write a YAML list, e.g. [a, b] or one '- item' per line");
    }
    std::vector<T> out;
    for (size_t i = 0; i < node.size(); ++i) {
      Ctx item = c;
      item.key = c.key + "[" + std::to_string(i) + "]";
      if (!c.file.empty() && !node[i].Mark().is_null())
        item.where = location(c.file, node[i].Mark());
      if (!node[i].IsScalar()) item.error("expected a single value, got " + node_text(node[i]));
      out.push_back(Conv<T>::parse(node[i], item, spec));
      Conv<T>::check(out.back(), spec, item);  // each element, located at its own line:col
    }
    return out;
  }
  static void check(const std::vector<T>&, const Spec&, const Ctx&) {}  // done in parse()
  static std::string text(const std::vector<T>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Conv<T>::text(v[i]);
    return out + "]";
  }
  static void emit(YAML::Emitter& e, const std::vector<T>& v) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : v) Conv<T>::emit(e, item);
    e << YAML::EndSeq;
  }
};

template <class T>
struct Conv<std::optional<T>> {
  static std::string type() { return Conv<T>::type() + " or null"; }
  static std::optional<T> parse(const YAML::Node& node, const Ctx& c, const Spec& spec) {
    if (node.IsNull()) return std::nullopt;
    if (node.IsScalar() && node.Tag() == "?" && (node.Scalar() == "null" || node.Scalar() == "~")) {
      return std::nullopt;
    }
    return Conv<T>::parse(node, c, spec);
  }
  static void check(const std::optional<T>& v, const Spec& spec, const Ctx& c) {
    if (v) Conv<T>::check(*v, spec, c);
  }
  static std::string text(const std::optional<T>& v) { return v ? Conv<T>::text(*v) : "null"; }
  static void emit(YAML::Emitter& e, const std::optional<T>& v) {
    if (v) {
      Conv<T>::emit(e, *v);
    } else {
      e << YAML::Null;
    }
  }
};

// ------------------------------------------------------------------------------ paths

// Expands ${VAR} from the environment.
std::string expand_env(const std::string& raw, const Ctx& c) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
      const size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) c.error("unclosed '${' in '" + raw + "'");
      const std::string name = raw.substr(i + 2, close - i - 2);
      const char* value = std::getenv(name.c_str());
      if (!value) {
        c.error("environment variable " + name + " is not set",
                "export " + name + "=... before running, or write the path itself");
      }
      out += value;
      i = close;
    } else {
      out += raw[i];
    }
  }
  return out;
}

// The site-packages folders of the project venv: $CLINTORCH_VENV, $VIRTUAL_ENV, then `.venv` in
// `start` or a parent, in the current directory or a parent, and in the folder of the running
// executable or a parent (build/clintorch finds the checkout's .venv).
std::vector<fs::path> venv_site_packages(const fs::path& start, std::vector<std::string>& tried) {
  std::vector<fs::path> venvs;
  for (const char* var : {"CLINTORCH_VENV", "VIRTUAL_ENV"}) {
    if (const char* v = std::getenv(var)) venvs.emplace_back(v);
  }
  std::vector<fs::path> roots = {fs::absolute(start), fs::current_path()};
  std::error_code exe_ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", exe_ec);
  if (!exe_ec && exe.has_parent_path()) roots.push_back(exe.parent_path());
  std::set<std::string> seen;
  for (fs::path dir : roots) {
    for (;;) {
      if (seen.insert((dir / ".venv").string()).second) venvs.push_back(dir / ".venv");
      if (!dir.has_parent_path() || dir.parent_path() == dir) break;
      dir = dir.parent_path();
    }
  }
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& venv : venvs) {
    tried.push_back(venv.string());
    const fs::path lib = venv / "lib";
    if (!fs::is_directory(lib, ec)) continue;
    for (const auto& entry : fs::directory_iterator(lib, ec)) {
      const fs::path site = entry.path() / "site-packages";
      if (entry.path().filename().string().rfind("python", 0) == 0 && fs::is_directory(site, ec)) {
        out.push_back(site);
      }
    }
  }
  return out;
}

fs::path resolve_venv(const std::string& spec, const Ctx& c) {
  const std::string rest = spec.substr(5);  // after "venv:"
  const std::string package = rest.substr(0, rest.find('/'));
  if (package.empty()) c.error("'" + spec + "' names no package", "write venv:PACKAGE/SUBFOLDER");
  std::vector<std::string> tried;
  for (const auto& site : venv_site_packages(c.base_dir, tried)) {
    if (fs::is_directory(site / package)) return (site / rest).lexically_normal();
  }
  c.error("package '" + package + "' not found in a project venv (looked in " +
              std::to_string(tried.size()) + " places, from " + tried.front() + ")",
          "run 'make setup' to create .venv, or set CLINTORCH_VENV to the venv folder");
}

std::string resolve_path(const std::string& raw, const Spec& spec, const Ctx& c) {
  if (raw.empty()) return raw;
  if (!spec.path_keyword.empty() && raw == spec.path_keyword) return raw;
  std::string text = expand_env(raw, c);
  if (text.rfind("venv:", 0) == 0) return resolve_venv(text, c).string();
  if (text == "~" || text.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (!home) c.error("'~' used but HOME is not set");
    text = std::string(home) + text.substr(1);
  }
  fs::path p(text);
  if (p.is_relative()) p = (spec.relative_to_cwd ? fs::current_path() : c.base_dir) / p;
  std::error_code ec;
  if (spec.model_id && !fs::exists(p, ec) && io::looks_like_model_id(text)) {
    // Not a folder here: a HF model id (ORG/NAME[@REV]) from the local HF cache, or an Error
    // saying how to download it.
    return io::resolve_model_dir(text, c.where + ": " + c.key);
  }
  return p.lexically_normal().string();
}

// ------------------------------------------------------------------------------ the key table

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

template <class S, class T>
KeyDecl make_key(const char* section, S Recipe::*member, T S::*field, const char* name,
                 const Spec& spec, const char* doc) {
  KeyDecl k;
  k.section = section;
  k.name = name;
  k.type = spec.is_path ? std::string("path") : Conv<T>::type();
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
    } else {
      (void)r;
      return false;
    }
  };
  return k;
}

struct SectionDecl {
  const char* name;
  const char* doc;
};

const SectionDecl kSections[] = {
    {"model", "The encoder to fine-tune or pretrain"},
    {"tokenizer", "Overrides of the model's tokenizer settings"},
    {"task", "The task head and its options"},
    {"data", "Data files, their format, long-input windows, batching and MLM masking"},
    {"training", "Optimizer, schedule, precision, device, seed"},
    {"evaluation", "Evaluation during training, best checkpoint, early stopping, checkpoints"},
    {"output", "Where results go"},
    {"logging", "Log lines, TensorBoard, progress bar"},
};

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
  return table;
}

#undef CLINTORCH_RECIPE_SECTION
#undef CLINTORCH_RECIPE_KEY

const std::vector<KeyDecl>& table() {
  static const std::vector<KeyDecl> kTable = build_table();
  return kTable;
}

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const auto& s : kSections) out.emplace_back(s.name);
    return out;
  }();
  return kNames;
}

std::vector<std::string> key_names(const std::string& section) {
  std::vector<std::string> out;
  for (const auto& k : table()) {
    if (k.section == section) out.push_back(k.name);
  }
  return out;
}

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

// ------------------------------------------------------------------------------ loading

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

    YAML::Node root;
    try {
      root = YAML::LoadFile(file.string());
    } catch (const YAML::ParserException& e) {
      fail(location(file.string(), e.mark), "YAML syntax error: " + e.msg);
    } catch (const YAML::BadFile&) {
      fail(file.string(), "cannot be read");
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

// ------------------------------------------------------------------------------ cross-key rules

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

std::string Recipe::where(const std::string& key) const {
  const auto it = origins.find(key);
  if (it != origins.end()) return it->second;
  return sources.empty() ? std::string("recipe") : sources.back();
}

void check_declared_keys(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  const std::string& task = r.task.name;
  // Required keys.
  for (const auto& k : table()) {
    if (k.spec.is_required && k.is_empty(r)) {
      std::string hint = k.doc;
      if (!k.spec.choices.empty()) hint = "one of " + join(k.spec.choices, ", ");
      bad(k.full(), "is required", hint);
    }
  }
  // Keys that apply only to some tasks.
  for (const auto& k : table()) {
    if (!k.spec.task_names.empty() && r.is_set(k.full()) && !contains(k.spec.task_names, task)) {
      bad(k.full(), "does not apply to task.name '" + task + "'",
          "it applies to " + join(k.spec.task_names, ", ") + "; remove it");
    }
  }
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

std::string dump_recipe(const Recipe& recipe) {
  YAML::Emitter e;
  e.SetIndent(2);
  e << YAML::BeginMap;
  for (const auto& section : kSections) {
    e << YAML::Key << section.name << YAML::Value << YAML::BeginMap;
    for (const auto& k : table()) {
      if (k.section != section.name) continue;
      if (!k.spec.task_names.empty() && !contains(k.spec.task_names, recipe.task.name)) continue;
      e << YAML::Key << k.name << YAML::Value;
      k.emit(recipe, e);
    }
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  std::string header = "# clintorch recipe, merged from: " + join(recipe.sources, ", ") + "\n";
  return header + e.c_str() + "\n";
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
  for (const auto& section : kSections) {
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

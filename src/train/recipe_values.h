// Internal to the recipe code (src/train/recipe*.cpp): what a key accepts (Spec and its
// builders), where a value comes from (Ctx), and the YAML converters of each C++ key type (Conv).
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "util/choice.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::train::recipe_detail {

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

inline Spec any() {
  return Spec{};
}
inline Spec ge(double v) {
  return Spec{}.ge(v);
}
inline Spec gt(double v) {
  return Spec{}.gt(v);
}
inline Spec in(double lo, double hi) {
  return Spec{}.ge(lo).le(hi);
}
inline Spec in_open_hi(double lo, double hi) {
  return Spec{}.ge(lo).lt(hi);
}
inline Spec one_of(const char* names) {
  Spec s;
  s.choices = Spec::split(names);
  return s;
}
// data.format: every name some task reads (validate_recipe checks it against the task).
Spec format_choices();
inline Spec path() {
  Spec s;
  s.is_path = true;
  return s;
}

// Shortest text that reads back as the same double, always with a '.' or an exponent so that
// YAML readers see a float ("5.0e-05", "1.0", "0.15").
std::string format_double(double v);
std::string format_number(double v);
// "an integer in [1, 8]", "a number > 0", ...; "" without bounds.
std::string describe_range(const Spec& spec, bool integer);
bool in_range(const Spec& spec, double v);
// auto | cpu | cuda | cuda:N (util/device_spec.h)
bool valid_device(const std::string& s);

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

// "file:line:col" of a YAML mark ("file" when it has none).
std::string location(const std::string& file, const YAML::Mark& mark);
// 'value', "a list", "a mapping" or "an empty value", for messages.
std::string node_text(const YAML::Node& node);
// The scalar of an unquoted YAML value; an error for null, lists, maps and quoted strings.
const std::string& plain_scalar(const YAML::Node& node, const Ctx& c, const char* expected);

// Expands ${VAR}, ~ and venv:PKG/SUB, then resolves a relative path against the recipe's folder
// (or the current directory for spec.cwd()); a path key with or_model_id() also takes HF ids.
std::string resolve_path(const std::string& raw, const Spec& spec, const Ctx& c);

// ------------------------------------------------------------------------------ typed values

template <class T, class = void>
struct Conv;

// Named enums (util/choice.h): written as their name; `one_of` narrows the names accepted.
template <class E>
struct Conv<E, std::enable_if_t<is_choice_v<E>>> {
  static std::string type() { return "string"; }
  static const std::vector<std::string>& accepted(const Spec& spec) {
    return spec.choices.empty() ? choice_names<E>() : spec.choices;
  }
  static E parse(const YAML::Node& node, const Ctx& c, const Spec& spec) {
    const std::vector<std::string>& names = accepted(spec);
    if (node.IsNull()) {
      c.error("no value given; expected one of " + join(names, ", "),
              "remove the key to keep its default");
    }
    if (!node.IsScalar())
      c.error("expected one of " + join(names, ", ") + ", got " + node_text(node));
    const std::string& v = node.Scalar();
    if (std::find(names.begin(), names.end(), v) == names.end()) {
      c.error("'" + v + "' is not one of " + join(names, ", ") + did_you_mean(v, names));
    }
    return *choice_from_name<E>(v);
  }
  static void check(E, const Spec&, const Ctx&) {}
  static std::string text(E v) { return "\"" + choice_name(v) + "\""; }
  static void emit(YAML::Emitter& e, E v) { e << YAML::DoubleQuoted << choice_name(v); }
};

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

}  // namespace clintorch::train::recipe_detail

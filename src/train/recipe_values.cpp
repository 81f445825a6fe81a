// Formatting and checking of recipe values (see recipe_values.h).
#include "train/recipe_values.h"

#include <cstdio>

#include "data/task_registry.h"
#include "util/device_spec.h"

namespace clintorch::train::recipe_detail {

Spec format_choices() {
  Spec s;
  s.choices = data::all_format_names();
  return s;
}

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

}  // namespace clintorch::train::recipe_detail

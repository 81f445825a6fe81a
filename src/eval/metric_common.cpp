#include "eval/metric_common.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace clintorch::eval {

ZeroDivision parse_zero_division(const std::string& text) {
  if (text == "warn" || text == "0" || text == "0.0") return ZeroDivision::kZero;
  if (text == "1" || text == "1.0") return ZeroDivision::kOne;
  if (text == "nan" || text == "NaN") return ZeroDivision::kNaN;
  fail("zero_division", "unknown value '" + text + "'", "use one of: warn, 0, 1, nan");
}

std::string to_string(ZeroDivision zero_division) {
  switch (zero_division) {
    case ZeroDivision::kZero:
      return "0";
    case ZeroDivision::kOne:
      return "1";
    case ZeroDivision::kNaN:
      return "nan";
  }
  return "0";
}

double zero_division_value(ZeroDivision zero_division) {
  switch (zero_division) {
    case ZeroDivision::kZero:
      return 0.0;
    case ZeroDivision::kOne:
      return 1.0;
    case ZeroDivision::kNaN:
      return std::numeric_limits<double>::quiet_NaN();
  }
  return 0.0;
}

nlohmann::json number_or_null(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

nlohmann::json to_json(const Scores& scores) {
  return nlohmann::json{{"precision", number_or_null(scores.precision)},
                        {"recall", number_or_null(scores.recall)},
                        {"f1", number_or_null(scores.f1)},
                        {"support", scores.support}};
}

double numpy_sum(const double* a, size_t n) {
  // numpy's pairwise_sum for float64 (numpy/_core/src/umath/loops_utils.h.src).
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

double numpy_mean(const std::vector<double>& a) {
  if (a.empty()) return std::numeric_limits<double>::quiet_NaN();
  return numpy_sum(a) / static_cast<double>(a.size());
}

size_t utf8_length(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string pad_left(const std::string& text, size_t width) {
  const size_t length = utf8_length(text);
  return length >= width ? text : std::string(width - length, ' ') + text;
}

std::string report_header(size_t width) {
  std::string out = pad_left("", width);
  out += ' ';
  for (const char* h : {"precision", "recall", "f1-score", "support"}) {
    out += ' ';
    out += pad_left(h, 9);
  }
  out += "\n\n";
  return out;
}

std::string report_row(const std::string& name, size_t width, const Scores& scores, int digits) {
  std::string out = pad_left(name, width);
  out += ' ';
  for (double v : {scores.precision, scores.recall, scores.f1}) {
    out += ' ';
    out += pad_left(format_fixed(v, digits), 9);
  }
  out += ' ';
  out += pad_left(std::to_string(scores.support), 9);
  out += '\n';
  return out;
}

std::string format_fixed(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

}  // namespace clintorch::eval

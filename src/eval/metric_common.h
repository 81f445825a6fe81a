// Types and helpers shared by the evaluation metrics (NER, QA, classification, regression).
// No torch here: every metric takes plain std::vector inputs so any layer can call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace clintorch::eval {

// What a precision, recall or F1 with a zero denominator becomes: the `zero_division` argument of
// scikit-learn and seqeval.
enum class ZeroDivision {
  kZero,  // 0.0, as the references' default "warn" (without the warning) and zero_division=0
  kOne,   // 1.0
  kNaN,   // NaN; scikit-learn only: its averages then skip those entries
};

// Parses "warn", "0", "1" or "nan" (the spellings the references accept); throws Error otherwise.
ZeroDivision parse_zero_division(const std::string& text);
std::string to_string(ZeroDivision zero_division);
double zero_division_value(ZeroDivision zero_division);

// Precision, recall and F1 of one class or of one average, with its support (gold items counted).
struct Scores {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  int64_t support = 0;
};

// One named row of a report: a class, an entity type, a label, or an average.
struct NamedScores {
  std::string name;
  Scores scores;
};

// {"precision", "recall", "f1", "support"}; NaN becomes null (JSON has no NaN).
nlohmann::json to_json(const Scores& scores);
// A double as JSON: the number, or null when NaN or infinite.
nlohmann::json number_or_null(double value);

// Sum of a[0..n) in the order numpy's np.sum uses for a contiguous float64 array (pairwise
// summation with 8 partial sums, blocks of 128), so averages equal the references bit for bit.
double numpy_sum(const double* a, size_t n);
inline double numpy_sum(const std::vector<double>& a) {
  return numpy_sum(a.data(), a.size());
}
// np.mean: numpy_sum / n; NaN when empty.
double numpy_mean(const std::vector<double>& a);

// Number of code points in a UTF-8 string (Python's len()), for aligning report columns.
size_t utf8_length(const std::string& text);

// `text` right-aligned in `width` code points (Python's "{:>{width}}").
std::string pad_left(const std::string& text, size_t width);

// The header and one row of a seqeval / scikit-learn text report: the name right-aligned in
// `width`, then precision, recall, F1 (`digits` decimals) and the support in columns of 9.
std::string report_header(size_t width);
std::string report_row(const std::string& name, size_t width, const Scores& scores, int digits);

// "%.{digits}f" of a value, "nan" for NaN (Python's format of a float).
std::string format_fixed(double value, int digits);

}  // namespace clintorch::eval

// Pearson and Spearman correlations following SciPy's computation (see regression_metrics.h),
// checked against SciPy in tests/python/test_metrics_parity.py.
#include "eval/regression_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>

#include "eval/metric_common.h"
#include "util/error.h"

namespace clintorch::eval {
namespace {

constexpr const char* kWhere = "regression metrics";

void check_inputs(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) {
    fail(kWhere,
         std::to_string(x.size()) + " gold values but " + std::to_string(y.size()) + " predictions",
         "predict exactly one value per gold example");
  }
  if (x.size() < 2) {
    fail(kWhere, "a correlation needs at least 2 examples, got " + std::to_string(x.size()),
         "evaluate on a larger set");
  }
  for (const auto* v : {&x, &y}) {
    for (size_t i = 0; i < v->size(); ++i) {
      if (!std::isfinite((*v)[i])) {
        fail(kWhere,
             std::string(v == &x ? "gold" : "predicted") + " value " + std::to_string(i) +
                 " is not a finite number",
             "check the data file and the model's outputs");
      }
    }
  }
}

bool is_constant(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double a) { return a == v.front(); });
}

// scipy.stats.pearsonr: centre, scale by the largest deviation, normalise, dot, clip.
double pearson_unchecked(const std::vector<double>& x, const std::vector<double>& y) {
  if (is_constant(x) || is_constant(y)) return std::numeric_limits<double>::quiet_NaN();
  const size_t n = x.size();
  auto normalised = [n](const std::vector<double>& v) {
    const double mean = numpy_mean(v);
    std::vector<double> centred(n);
    double max_abs = 0.0;
    for (size_t i = 0; i < n; ++i) {
      centred[i] = v[i] - mean;
      max_abs = std::max(max_abs, std::fabs(centred[i]));
    }
    std::vector<double> squares(n);
    for (size_t i = 0; i < n; ++i) {
      const double s = centred[i] / max_abs;
      squares[i] = s * s;
    }
    const double norm = max_abs * std::sqrt(numpy_sum(squares));
    for (double& c : centred) c /= norm;
    return centred;
  };
  const std::vector<double> a = normalised(x), b = normalised(y);
  std::vector<double> products(n);
  for (size_t i = 0; i < n; ++i) products[i] = a[i] * b[i];
  double r = std::clamp(numpy_sum(products), -1.0, 1.0);
  if (n == 2) r = std::round(r);  // SciPy returns exactly +-1 for two points
  return r;
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && values[order[j]] == values[order[i]]) ++j;
    const double rank = static_cast<double>(i + 1) + static_cast<double>(j - i - 1) / 2;
    for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_inputs(x, y);
  return pearson_unchecked(x, y);
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_inputs(x, y);
  if (is_constant(x) || is_constant(y)) return std::numeric_limits<double>::quiet_NaN();
  return pearson_unchecked(average_ranks(x), average_ranks(y));
}

RegressionReport regression_report(const std::vector<double>& gold,
                                   const std::vector<double>& predicted) {
  RegressionReport report;
  report.pearson = pearson_correlation(gold, predicted);
  report.spearman = spearman_correlation(gold, predicted);
  report.num_examples = static_cast<int64_t>(gold.size());
  return report;
}

nlohmann::json to_json(const RegressionReport& report) {
  return nlohmann::json{{"pearson", number_or_null(report.pearson)},
                        {"spearman", number_or_null(report.spearman)},
                        {"num_examples", report.num_examples}};
}

std::string format_table(const RegressionReport& report, int digits) {
  return "pearson  " + format_fixed(report.pearson, digits) + "\nspearman " +
         format_fixed(report.spearman, digits) + "\nexamples " +
         std::to_string(report.num_examples) + "\n";
}

}  // namespace clintorch::eval

// Regression metrics equal to SciPy 1.17: Pearson's r (scipy.stats.pearsonr) and Spearman's rho
// (scipy.stats.spearmanr, average ranks for ties), as used for STS tasks (BIOSSES, ClinicalSTS).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace clintorch::eval {

struct RegressionReport {
  // Correlation of predictions with the gold scores; NaN when either side is constant (SciPy
  // returns NaN and warns there).
  double pearson = 0.0;
  double spearman = 0.0;
  int64_t num_examples = 0;
};

// scipy.stats.rankdata(values, method="average"): ranks from 1, ties get the mean of their ranks.
std::vector<double> average_ranks(const std::vector<double>& values);

// scipy.stats.pearsonr(x, y).statistic. Throws Error when the lengths differ, when there are
// fewer than 2 values, or on a NaN or infinite value.
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
// scipy.stats.spearmanr(x, y).statistic: Pearson's r of the average ranks. Same errors.
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

RegressionReport regression_report(const std::vector<double>& gold,
                                   const std::vector<double>& predicted);

// {"pearson", "spearman", "num_examples"} (NaN as null).
nlohmann::json to_json(const RegressionReport& report);
std::string format_table(const RegressionReport& report, int digits = 4);

}  // namespace clintorch::eval

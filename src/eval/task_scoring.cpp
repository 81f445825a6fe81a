#include "eval/task_scoring.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "util/error.h"

namespace clintorch::eval {

const TaskEvalOps& task_eval_ops(data::Task task) {
  static const std::vector<const TaskEvalOps*> table = {
      &mlm_eval_ops(), &ner_eval_ops(), &classification_eval_ops(), &qa_eval_ops(), &re_eval_ops()};
  for (const TaskEvalOps* ops : table) {
    if (ops->task == task) return *ops;
  }
  fail(kWhere, "no evaluation for task " + data::task_name(task));
}

// Base JSON of one example's prediction: its id (when the file gave one) and line.
nlohmann::json prediction_base(const std::string& id, size_t line) {
  nlohmann::json j = nlohmann::json::object();
  if (!id.empty()) j["id"] = id;
  if (line > 0) j["line"] = line;
  return j;
}

// Softmax of one row of logits (float64 for stable sums).
std::vector<double> softmax(const float* logits, size_t n) {
  std::vector<double> p(n);
  double mx = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(static_cast<double>(logits[i]) - mx);
  for (double& x : p) x /= sum;
  return p;
}

double sigmoid(float x) {
  return 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
}

// The index of each example's first feature (features are in example order).
std::vector<size_t> first_features(const data::TaskDataset& d) {
  std::vector<size_t> first(d.num_examples(), SIZE_MAX);
  for (size_t i = 0; i < d.features.size(); ++i) {
    const uint32_t e = d.features[i].example;
    if (e < first.size() && first[e] == SIZE_MAX) first[e] = i;
  }
  return first;
}

std::string loss_table(const TaskEvalResult& r) {
  std::ostringstream out;
  for (const auto& [name, value] : r.scalars) out << name << " = " << value << "\n";
  return out.str();
}

}  // namespace clintorch::eval

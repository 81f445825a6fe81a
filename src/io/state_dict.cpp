#include "io/state_dict.h"

#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "util/error.h"
#include "util/log.h"

namespace clintorch::io {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "[a, b, c, ... (N more)]" for messages.
std::string list_keys(const std::vector<std::string>& keys, size_t limit = 20) {
  std::string s = "[";
  for (size_t i = 0; i < keys.size() && i < limit; ++i) s += (i ? ", " : "") + keys[i];
  if (keys.size() > limit) s += ", ... (" + std::to_string(keys.size() - limit) + " more)";
  return s + "]";
}

}  // namespace

std::string normalize_key(const std::string& key) {
  if (ends_with(key, "LayerNorm.gamma")) return key.substr(0, key.size() - 5) + "weight";
  if (ends_with(key, "LayerNorm.beta")) return key.substr(0, key.size() - 4) + "bias";
  return key;
}

std::map<std::string, std::string> match_keys(const std::vector<std::string>& checkpoint_keys,
                                              const std::vector<std::string>& target_names,
                                              const LoadOptions& options, LoadReport* report) {
  const std::string prefix = options.base_prefix.empty() ? "" : options.base_prefix + ".";
  const std::set<std::string> targets(target_names.begin(), target_names.end());
  auto has_prefix = [&](const std::string& k) { return !prefix.empty() && starts_with(k, prefix); };
  const bool checkpoint_prefixed = std::any_of(checkpoint_keys.begin(), checkpoint_keys.end(),
                                               [&](const auto& k) { return has_prefix(k); });
  const bool targets_prefixed = std::any_of(target_names.begin(), target_names.end(),
                                            [&](const auto& k) { return has_prefix(k); });

  std::map<std::string, std::string> matched;  // target -> checkpoint key
  std::vector<std::string> unexpected;
  for (const auto& key : checkpoint_keys) {
    std::string name = normalize_key(key);
    if (checkpoint_prefixed && !targets_prefixed && has_prefix(name)) {
      name = name.substr(prefix.size());
    } else if (targets_prefixed && !checkpoint_prefixed && !prefix.empty() &&
               !targets.count(name)) {
      name = prefix + name;
    }
    if (targets.count(name) && !matched.count(name)) {
      matched[name] = key;
      continue;
    }
    const std::string bare = has_prefix(name) ? name.substr(prefix.size()) : name;
    const bool ignored =
        std::any_of(options.ignore_unexpected.begin(), options.ignore_unexpected.end(),
                    [&](const std::string& pattern) { return bare == pattern || name == pattern; });
    if (!ignored) unexpected.push_back(key);
  }
  if (report) {
    report->unexpected = unexpected;
    report->missing.clear();
    for (const auto& t : target_names) {
      if (!matched.count(t)) report->missing.push_back(t);
    }
  }
  return matched;
}

LoadReport load_into(const TensorStore& store, const NamedTensors& targets,
                     const LoadOptions& options) {
  LoadReport report;
  std::vector<std::string> names;
  names.reserve(targets.size());
  for (const auto& [name, tensor] : targets) names.push_back(name);
  const auto matched = match_keys(store.names(), names, options, &report);

  if (options.strict && (!report.missing.empty() || !report.unexpected.empty())) {
    std::string what = "does not match " + options.model_name + " exactly (strict loading):";
    if (!report.missing.empty()) what += "\n  missing keys: " + list_keys(report.missing);
    if (!report.unexpected.empty()) what += "\n  unexpected keys: " + list_keys(report.unexpected);
    fail(store.source(), what,
         "the checkpoint belongs to another architecture or size; turn strict loading off to "
         "accept it with these differences");
  }
  // Every shape first, so a mismatch leaves the model untouched.
  for (const auto& [name, tensor] : targets) {
    auto it = matched.find(name);
    if (it == matched.end()) continue;
    const TensorEntry& e = store.at(it->second);
    if (e.shape != tensor.sizes().vec()) {
      fail(e.path,
           "tensor '" + e.name + "' has shape " + e.shape_string() + " but " + options.model_name +
               " expects " + shape_to_string(tensor.sizes().vec()) +
               (name == e.name ? "" : " for " + name),
           "config.json does not describe this checkpoint (wrong config.json, or weights of "
           "another model size)");
    }
  }
  for (const auto& [name, tensor] : targets) {
    auto it = matched.find(name);
    if (it == matched.end()) continue;
    store.copy_into(it->second, tensor);
    // copy_into writes the storage directly: bump the version as an in-place op would, so that
    // what keys on it (model::PackedLinear's packed copy) sees the new weights.
    if (!tensor.is_inference()) torch::autograd::impl::bump_version(tensor);
    report.loaded.push_back(name);
    report.source_key[name] = it->second;
  }
  if (options.warn && !report.unexpected.empty()) {
    log_warning("some weights of " + store.source() + " were not used when initializing " +
                options.model_name + ": " + list_keys(report.unexpected));
  }
  if (options.warn && !report.missing.empty()) {
    log_warning("some weights of " + options.model_name + " were not initialized from " +
                store.source() + " and are newly initialized: " + list_keys(report.missing));
  }
  return report;
}

}  // namespace clintorch::io

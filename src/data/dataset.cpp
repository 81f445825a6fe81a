#include "data/dataset.h"

#include <algorithm>
#include <exception>
#include <set>
#include <thread>

#include "data/task_registry.h"
#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::data {

size_t TaskDataset::num_examples() const {
  return task_spec(task).data().num_examples(*this);
}

std::vector<uint32_t> TaskDataset::windows_per_example() const {
  std::vector<uint32_t> out(num_examples(), 0);
  for (const auto& f : features) ++out.at(f.example);
  return out;
}

void TaskDataset::update_lengths() {
  lengths_.resize(features.size());
  for (size_t i = 0; i < features.size(); ++i) {
    lengths_[i] = static_cast<uint32_t>(features[i].length());
  }
}

// ------------------------------------------------------------------------------- collation

Batch TaskDataset::collate(const std::vector<size_t>& indices, uint64_t,
                           size_t pad_to_multiple_of) const {
  Batch b;
  b.feature_indices = indices;
  const auto n = static_cast<int64_t>(indices.size());
  size_t longest = 0;
  for (size_t i : indices) longest = std::max(longest, features.at(i).length());
  const auto s = static_cast<int64_t>(padded_length(longest, pad_to_multiple_of));
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  b.input_ids = torch::full({n, s}, static_cast<int64_t>(pad_id), i64);  // (batch, seq)
  b.attention_mask = torch::zeros({n, s}, i64);                          // (batch, seq)
  b.token_type_ids = torch::zeros({n, s}, i64);                          // (batch, seq)
  int64_t* ids = b.input_ids.data_ptr<int64_t>();
  int64_t* mask = b.attention_mask.data_ptr<int64_t>();
  int64_t* types = b.token_type_ids.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const Feature& f = features[indices[static_cast<size_t>(r)]];
    for (size_t j = 0; j < f.length(); ++j) {
      ids[r * s + static_cast<int64_t>(j)] = f.input_ids[j];
      mask[r * s + static_cast<int64_t>(j)] = 1;
      types[r * s + static_cast<int64_t>(j)] = f.token_type_ids[j];
    }
    b.num_tokens += static_cast<int64_t>(f.length());
  }
  const TaskDataOps& ops = task_spec(task).data();
  if (ops.collate_inputs) ops.collate_inputs(*this, indices, b);  // also for prediction batches
  if (labeled) ops.collate_targets(*this, indices, s, b);
  return b;
}

// ------------------------------------------------------------------------------- labels

LabelMap collect_labels(const TaskDataset& d, const ReaderOptions& reader) {
  return task_spec(d.task).data().collect_labels(d, reader);
}

// ------------------------------------------------------------------------------- building

namespace {

// Runs fn(i) for i in [0, n) on up to `threads` threads; rethrows the error of the smallest i.
template <typename Fn>
void parallel_for(size_t n, size_t threads, Fn fn) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<size_t>(1, n / 64));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::exception_ptr> errors(threads);
  std::vector<size_t> error_at(threads, SIZE_MAX);
  std::vector<std::thread> pool;
  const size_t chunk = (n + threads - 1) / threads;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t]() {
      const size_t begin = t * chunk, end = std::min(n, begin + chunk);
      for (size_t i = begin; i < end; ++i) {
        try {
          fn(i);
        } catch (...) {
          errors[t] = std::current_exception();
          error_at[t] = i;
          return;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  size_t best = SIZE_MAX, which = 0;
  for (size_t t = 0; t < threads; ++t) {
    if (error_at[t] < best) {
      best = error_at[t];
      which = t;
    }
  }
  if (best != SIZE_MAX) std::rethrow_exception(errors[which]);
}

}  // namespace

void build_features(TaskDataset& d, const tok::Tokenizer& tokenizer, const FeatureOptions& o,
                    const std::vector<std::string>& markers) {
  const TaskSpec& spec = task_spec(d.task);
  const TaskDataOps& ops = spec.data();
  if (o.unknown_labels == UnknownLabels::kMapToO && !ops.word_index) {
    fail("unknown_labels", "map_to_o applies to NER only", "use error or ignore");
  }
  const size_t n = d.num_examples();
  std::vector<std::vector<Feature>> per(n);
  FeatureOptions fo = o;
  fo.problem_type = d.problem_type;
  if (ops.word_index) d.words.assign(n, WordIndex{});
  parallel_for(n, o.num_threads,
               [&](size_t i) { ops.build(d, i, tokenizer, fo, markers, per[i]); });
  size_t total = 0;
  for (const auto& p : per) total += p.size();
  d.features.clear();
  d.features.reserve(total);
  for (auto& p : per) {
    for (auto& f : p) d.features.push_back(std::move(f));
  }
  d.pad_id = tokenizer.pad_id();
  d.update_lengths();
}

// ------------------------------------------------------------------------------- cache

namespace {

constexpr uint64_t kFeatureCacheMagic = 0x3130544145465443ULL;  // "CTFEAT01"
constexpr uint64_t kFeatureCacheVersion = 1;

void hash_options(Hasher& h, const DataOptions& o, const LabelMap& labels) {
  const ReaderOptions& r = o.reader;
  h.add_u64(static_cast<uint64_t>(o.task)).add_u64(static_cast<uint64_t>(o.format));
  h.add_u64(static_cast<uint64_t>(r.token_column)).add_u64(static_cast<uint64_t>(r.label_column));
  h.add(r.column_separator).add(r.tokens_key).add(r.tags_key).add(r.text_key);
  h.add(r.entities_key).add(r.id_key).add(r.tag_scheme).add(r.target_scheme);
  for (const auto& s : r.label_names) h.add(s);
  h.add(r.text_column).add(r.text_pair_column);
  for (const auto& s : r.label_columns) h.add(s);
  h.add_u64(static_cast<uint64_t>(r.problem_type)).add(r.label_separator).add(r.header);
  h.add_u64(r.tsv_quoting).add(r.on_bad_answer).add(r.head_key).add(r.tail_key);
  for (const auto& s : r.entity_markers) h.add(s);
  h.add_u64(r.labeled);
  const FeatureOptions& f = o.features;
  h.add_u64(f.max_seq_length).add_u64(f.doc_stride).add_u64(f.label_all_tokens);
  h.add_u64(static_cast<uint64_t>(f.unknown_labels)).add_u64(f.lstrip_question);
  h.add_u64(labels.size());
  for (const auto& l : labels.labels()) h.add(l);
}

void write_feature(BinaryWriter& w, const Feature& f) {
  w.vec(f.input_ids);
  w.vec(f.token_type_ids);
  w.vec(f.token_labels);
  w.vec(f.word_ids);
  w.pod(f.label);
  w.vec(f.targets);
  w.pod(f.start_position);
  w.pod(f.end_position);
  w.vec(f.context_offsets);
  w.pod(f.head_marker);
  w.pod(f.tail_marker);
  w.pod(f.example);
  w.pod(f.window);
  w.pod(f.token_begin);
  w.pod(f.token_count);
}

void read_feature(BinaryReader& r, Feature& f) {
  r.vec(f.input_ids);
  r.vec(f.token_type_ids);
  r.vec(f.token_labels);
  r.vec(f.word_ids);
  f.label = r.pod<int32_t>();
  r.vec(f.targets);
  f.start_position = r.pod<int32_t>();
  f.end_position = r.pod<int32_t>();
  r.vec(f.context_offsets);
  f.head_marker = r.pod<int32_t>();
  f.tail_marker = r.pod<int32_t>();
  f.example = r.pod<uint32_t>();
  f.window = r.pod<uint32_t>();
  f.token_begin = r.pod<uint32_t>();
  f.token_count = r.pod<uint32_t>();
}

bool read_cache(const std::string& file, uint64_t key, TaskDataset& d) {
  BinaryReader r(file);
  if (!r.ok()) return false;
  if (r.pod<uint64_t>() != kFeatureCacheMagic || r.pod<uint64_t>() != kFeatureCacheVersion ||
      r.pod<uint64_t>() != key || r.pod<uint64_t>() != d.num_examples()) {
    return false;
  }
  const auto nf = r.pod<uint64_t>();
  if (!r.ok() || nf > (uint64_t{1} << 32)) return false;
  std::vector<Feature> features(nf);
  for (auto& f : features) read_feature(r, f);
  const auto nw = r.pod<uint64_t>();
  if (!r.ok() || nw > d.num_examples()) return false;
  std::vector<WordIndex> words(nw);
  for (auto& w : words) {
    w.num_tokens = r.pod<uint32_t>();
    r.vec(w.word_first_token);
  }
  if (r.pod<uint64_t>() != kFeatureCacheMagic || !r.ok()) return false;
  for (const auto& f : features) {
    if (f.example >= d.num_examples() || f.token_type_ids.size() != f.input_ids.size())
      return false;
  }
  d.features = std::move(features);
  d.words = std::move(words);
  return true;
}

void write_cache(const std::string& file, uint64_t key, const TaskDataset& d) {
  BinaryWriter w(file);
  w.pod(kFeatureCacheMagic);
  w.pod(kFeatureCacheVersion);
  w.pod(key);
  w.pod<uint64_t>(d.num_examples());
  w.pod<uint64_t>(d.features.size());
  for (const auto& f : d.features) write_feature(w, f);
  w.pod<uint64_t>(d.words.size());
  for (const auto& wi : d.words) {
    w.pod(wi.num_tokens);
    w.vec(wi.word_first_token);
  }
  w.pod(kFeatureCacheMagic);
  if (!w.commit()) log_warning("data cache: could not write " + file + "; continuing without it");
}

}  // namespace

// ------------------------------------------------------------------------------- loading

std::shared_ptr<TaskDataset> load_task_dataset(const std::string& path,
                                               const tok::Tokenizer& tokenizer,
                                               const DataOptions& options, const LabelMap* labels) {
  const TaskDataOps& ops = task_spec(options.task).data();
  if (ops.corpus) {
    fail("task", task_name(options.task) +
                     " reads text corpora (data::MlmCorpus::open), not task "
                     "files");
  }
  auto d = std::make_shared<TaskDataset>();
  d->task = options.task;
  d->path = path;
  d->problem_type = ops.problem_type ? options.reader.problem_type : ProblemType::kSingleLabel;
  d->format = resolve_format(options.format, options.task, path);
  const ReaderOptions& ro = options.reader;
  ops.read(*d, ro, tokenizer);
  if (labels) {
    d->labels = *labels;
  } else if (!options.labels.empty()) {
    d->labels = LabelMap(options.labels);
  } else {
    d->labels = collect_labels(*d, ro);
  }
  if (d->labeled && d->labels.empty() && d->problem_type != ProblemType::kRegression &&
      ops.label_map) {
    fail(path, "no labels found", "check label_columns / tags_key");
  }
  // Cache lookup.
  std::string dir = options.cache.enabled ? cache_dir(options.cache) : "";
  uint64_t key = 0;
  if (!dir.empty()) {
    Hasher h;
    h.add("clintorch-features").add_u64(kFeatureCacheVersion);
    h.add_u64(file_fingerprint(path)).add_u64(tokenizer_fingerprint(tokenizer));
    hash_options(h, options, d->labels);
    key = h.digest();
    d->cache_file = dir + "/features-" + hex_key(key) + ".bin";
    if (read_cache(d->cache_file, key, *d)) {
      d->from_cache = true;
      d->pad_id = tokenizer.pad_id();
      d->update_lengths();
      log_debug("data: " + path + ": features read from " + d->cache_file);
      return d;
    }
  }
  build_features(*d, tokenizer, options.features, ro.entity_markers);
  if (!dir.empty()) write_cache(d->cache_file, key, *d);
  return d;
}

}  // namespace clintorch::data

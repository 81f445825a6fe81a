#include "data/dataset.h"

#include <algorithm>
#include <exception>
#include <set>
#include <thread>

#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::data {

size_t TaskDataset::num_examples() const {
  switch (task) {
    case Task::kTokenClassification:
      return ner.size();
    case Task::kSequenceClassification:
      return cls.size();
    case Task::kQuestionAnswering:
      return qa.size();
    case Task::kRelationExtraction:
      return re.size();
    case Task::kMlm:
      return 0;
  }
  return 0;
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
  // RE entity markers (also for unlabeled, prediction batches).
  if (task == Task::kRelationExtraction) {
    bool any = false;
    for (size_t i : indices) any = any || features[i].head_marker >= 0;
    if (any) {
      b.entity_positions = torch::empty({n, 2}, i64);  // (batch, 2)
      int64_t* p = b.entity_positions.data_ptr<int64_t>();
      for (int64_t r = 0; r < n; ++r) {
        const Feature& f = features[indices[static_cast<size_t>(r)]];
        p[2 * r] = f.head_marker;
        p[2 * r + 1] = f.tail_marker;
      }
    }
  }
  if (!labeled) return b;
  switch (task) {
    case Task::kTokenClassification: {
      b.labels = torch::full({n, s}, int64_t{-100}, i64);  // (batch, seq)
      int64_t* l = b.labels.data_ptr<int64_t>();
      for (int64_t r = 0; r < n; ++r) {
        const Feature& f = features[indices[static_cast<size_t>(r)]];
        for (size_t j = 0; j < f.token_labels.size(); ++j) {
          l[r * s + static_cast<int64_t>(j)] = f.token_labels[j];
          b.num_label_tokens += f.token_labels[j] != -100;
        }
      }
      break;
    }
    case Task::kSequenceClassification:
    case Task::kRelationExtraction: {
      if (problem_type == ProblemType::kSingleLabel || task == Task::kRelationExtraction) {
        b.labels = torch::empty({n}, i64);  // (batch)
        int64_t* l = b.labels.data_ptr<int64_t>();
        for (int64_t r = 0; r < n; ++r) {
          l[r] = features[indices[static_cast<size_t>(r)]].label;
          b.num_label_tokens += l[r] != -100;
        }
      } else if (problem_type == ProblemType::kMultiLabel) {
        const auto c = static_cast<int64_t>(labels.size());
        b.labels = torch::zeros({n, c}, torch::kFloat32);  // (batch, num_labels)
        float* l = b.labels.data_ptr<float>();
        for (int64_t r = 0; r < n; ++r) {
          const auto& t = features[indices[static_cast<size_t>(r)]].targets;
          std::copy(t.begin(), t.end(), l + r * c);
        }
        b.num_label_tokens = n;
      } else {
        b.labels = torch::empty({n}, torch::kFloat32);  // (batch)
        float* l = b.labels.data_ptr<float>();
        for (int64_t r = 0; r < n; ++r) {
          l[r] = features[indices[static_cast<size_t>(r)]].targets.at(0);
        }
        b.num_label_tokens = n;
      }
      break;
    }
    case Task::kQuestionAnswering: {
      b.start_positions = torch::empty({n}, i64);  // (batch)
      b.end_positions = torch::empty({n}, i64);    // (batch)
      int64_t* sp = b.start_positions.data_ptr<int64_t>();
      int64_t* ep = b.end_positions.data_ptr<int64_t>();
      for (int64_t r = 0; r < n; ++r) {
        const Feature& f = features[indices[static_cast<size_t>(r)]];
        sp[r] = f.start_position;
        ep[r] = f.end_position;
      }
      b.num_label_tokens = n;
      break;
    }
    case Task::kMlm:
      break;
  }
  return b;
}

// ------------------------------------------------------------------------------- labels

LabelMap collect_labels(const TaskDataset& d, const ReaderOptions& reader) {
  std::vector<std::string> all;
  switch (d.task) {
    case Task::kTokenClassification:
      for (const auto& ex : d.ner) all.insert(all.end(), ex.tags.begin(), ex.tags.end());
      break;
    case Task::kSequenceClassification:
      if (d.problem_type == ProblemType::kRegression) return LabelMap();
      if (d.problem_type == ProblemType::kMultiLabel && reader.label_columns.size() > 1) {
        return LabelMap(reader.label_columns);
      }
      for (const auto& ex : d.cls) all.insert(all.end(), ex.labels.begin(), ex.labels.end());
      break;
    case Task::kRelationExtraction:
      for (const auto& ex : d.re) {
        if (ex.labeled) all.push_back(ex.label);
      }
      break;
    case Task::kQuestionAnswering:
    case Task::kMlm:
      return LabelMap();
  }
  return LabelMap::sorted(all);
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
  if (o.unknown_labels == UnknownLabels::kMapToO && d.task != Task::kTokenClassification) {
    fail("unknown_labels", "map_to_o applies to NER only", "use error or ignore");
  }
  const size_t n = d.num_examples();
  std::vector<std::vector<Feature>> per(n);
  FeatureOptions fo = o;
  fo.problem_type = d.problem_type;
  if (d.task == Task::kTokenClassification) d.words.assign(n, WordIndex{});
  parallel_for(n, o.num_threads, [&](size_t i) {
    const auto idx = static_cast<uint32_t>(i);
    switch (d.task) {
      case Task::kTokenClassification:
        build_ner_features(tokenizer, d.ner[i], idx, d.labels, fo, d.path, per[i], d.words[i]);
        break;
      case Task::kSequenceClassification:
        build_cls_features(tokenizer, d.cls[i], idx, d.labels, fo, d.path, per[i]);
        break;
      case Task::kQuestionAnswering:
        build_qa_features(tokenizer, d.qa[i], idx, fo, d.path, per[i]);
        break;
      case Task::kRelationExtraction:
        build_re_features(tokenizer, d.re[i], idx, d.labels, fo, d.path, markers, per[i]);
        break;
      case Task::kMlm:
        break;
    }
  });
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
  if (options.task == Task::kMlm) {
    fail("task", "MLM corpora are opened with data::MlmCorpus::open, not load_task_dataset");
  }
  auto d = std::make_shared<TaskDataset>();
  d->task = options.task;
  d->path = path;
  d->problem_type = options.task == Task::kSequenceClassification ? options.reader.problem_type
                                                                  : ProblemType::kSingleLabel;
  d->format = resolve_format(options.format, options.task, path);
  const ReaderOptions& ro = options.reader;
  switch (options.task) {
    case Task::kTokenClassification:
      d->ner = read_ner(path, d->format, ro, &tokenizer);
      d->labeled = ro.labeled;
      break;
    case Task::kSequenceClassification:
      d->cls = read_classification(path, d->format, ro);
      d->labeled = !d->cls.empty() && d->cls.front().labeled;
      break;
    case Task::kQuestionAnswering:
      d->qa = read_squad(path, ro);
      d->labeled = ro.labeled;
      break;
    case Task::kRelationExtraction:
      d->re = read_relations(path, d->format, ro);
      d->labeled = !d->re.empty() && d->re.front().labeled;
      break;
    case Task::kMlm:
      break;
  }
  if (labels) {
    d->labels = *labels;
  } else if (!options.labels.empty()) {
    d->labels = LabelMap(options.labels);
  } else {
    d->labels = collect_labels(*d, ro);
  }
  if (d->labeled && d->labels.empty() && d->problem_type != ProblemType::kRegression &&
      d->task != Task::kQuestionAnswering) {
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

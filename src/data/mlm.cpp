#include "data/mlm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "data/rng.h"
#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::data {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------- masking

MlmMasker::MlmMasker(const MaskingOptions& o, int32_t mask_id, size_t vocab_size)
    : options_(o), mask_id_(mask_id), vocab_size_(vocab_size) {
  auto in01 = [](double v) { return v >= 0.0 && v <= 1.0; };
  if (!in01(o.mlm_probability)) fail("mlm_probability", "must be between 0 and 1");
  if (!in01(o.mask_replace_prob)) fail("mask_replace_prob", "must be between 0 and 1");
  if (!in01(o.random_replace_prob)) fail("random_replace_prob", "must be between 0 and 1");
  if (o.mask_replace_prob + o.random_replace_prob > 1.0 + 1e-12) {
    fail("mask_replace_prob", "mask_replace_prob + random_replace_prob must not exceed 1");
  }
  if (mask_id < 0) fail("tokenizer", "has no [MASK] token, which masked-LM training needs");
  if (vocab_size == 0) fail("tokenizer", "empty vocabulary");
}

void MlmMasker::apply(int64_t* ids, int64_t* labels, const uint8_t* no_mask,
                      const uint8_t* word_start, size_t rows, size_t seq, uint64_t key) const {
  const double p = options_.mlm_probability;
  const double pm = options_.mask_replace_prob;
  const double pr = options_.random_replace_prob;
  const bool wwm = options_.whole_word_mask;
  for (size_t r = 0; r < rows; ++r) {
    Rng rng(mix_seed(key, r, 0x4D4C4DULL));
    bool word_selected = false;
    for (size_t j = 0; j < seq; ++j) {
      const size_t i = r * seq + j;
      labels[i] = -100;
      if (no_mask[i]) {
        word_selected = false;
        continue;
      }
      bool selected;
      if (wwm) {
        const bool new_word =
            j == 0 || no_mask[i - 1] || (word_start != nullptr && word_start[i] != 0);
        if (new_word) word_selected = rng.bernoulli(p);
        selected = word_selected;
      } else {
        selected = rng.bernoulli(p);
      }
      if (!selected) continue;
      labels[i] = ids[i];
      const double u = rng.uniform();
      if (u < pm) {
        ids[i] = mask_id_;
      } else if (u < pm + pr) {
        ids[i] = static_cast<int64_t>(rng.below(vocab_size_));
      }
    }
  }
}

// ------------------------------------------------------------------------------- corpus files

std::vector<std::string> list_corpus_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  if (paths.empty()) fail("corpus", "no corpus files given");
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec)) found.push_back(it->path().string());
      }
      if (ec) fail(p, "cannot list folder (" + ec.message() + ")");
      std::sort(found.begin(), found.end());
      if (found.empty()) fail(p, "folder holds no files");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      fail(p, "no such file or folder", "check the corpus path");
    }
  }
  return files;
}

// ------------------------------------------------------------------------------- corpus

namespace {

constexpr uint64_t kMlmMagic = 0x3130304D4C4D5443ULL;  // "CTMLM001"
constexpr uint64_t kMlmVersion = 1;
constexpr size_t kHeaderWords = 8;

struct Header {
  uint64_t magic, version, key, num_tokens, num_seqs, num_docs, max_seq_length, line_by_line;
};
static_assert(sizeof(Header) == kHeaderWords * 8, "header layout");

}  // namespace

struct MlmCorpusBuilder {
  MlmCorpusBuilder(const tok::Tokenizer& t, const MlmCorpusOptions& o, std::FILE* f)
      : tokenizer(t), options(o), out(f) {}
  const tok::Tokenizer& tokenizer;
  const MlmCorpusOptions& options;
  std::FILE* out = nullptr;
  uint64_t num_tokens = 0;
  uint64_t num_docs = 0;
  std::vector<uint64_t> offsets{0};
  std::vector<uint32_t> buffer;
  bool write_ok = true;

  void flush_buffer() {
    if (!buffer.empty() && std::fwrite(buffer.data(), 4, buffer.size(), out) != buffer.size()) {
      write_ok = false;
    }
    num_tokens += buffer.size();
    buffer.clear();
  }

  void emit_sequence(const tok::Encoding& e, size_t begin, size_t end) {
    const auto cls = static_cast<uint32_t>(tokenizer.cls_id());
    const auto sep = static_cast<uint32_t>(tokenizer.sep_id());
    buffer.push_back(cls | kTokenSpecial);
    for (size_t i = begin; i < end; ++i) {
      uint32_t v = static_cast<uint32_t>(e.ids[i]);
      if (v > kTokenIdMask) fail("tokenizer", "token id too large for the MLM token file");
      // HF whole-word rule: a new word starts after a gap in the offsets (or at the start).
      if (i == begin || e.offsets[i].begin != e.offsets[i - 1].end) v |= kTokenWordStart;
      buffer.push_back(v);
    }
    buffer.push_back(sep | kTokenSpecial);
    if (options.line_by_line) offsets.push_back(num_tokens + buffer.size());
  }

  void tokenize_chunk(std::vector<std::string>& docs) {
    if (docs.empty()) return;
    tok::EncodeOptions eo;
    eo.add_special_tokens = false;
    eo.return_tokens = false;
    const tok::BatchEncoding be = tokenizer.encode_batch(docs, eo, options.num_threads);
    const size_t room = options.max_seq_length - 2;
    for (const auto& e : be.encodings) {
      if (e.size() == 0) continue;
      ++num_docs;
      if (options.line_by_line) {
        for (size_t s = 0; s < e.size(); s += room)
          emit_sequence(e, s, std::min(e.size(), s + room));
      } else {
        emit_sequence(e, 0, e.size());
      }
      if (buffer.size() > (size_t{1} << 22)) flush_buffer();
    }
    flush_buffer();
    docs.clear();
  }

  void run(const std::vector<std::string>& files) {
    std::vector<std::string> docs;
    size_t bytes = 0;
    const bool blank = options.document_split == DocumentSplit::kBlankLine;
    for (const auto& file : files) {
      LineReader lr(file);
      std::string line, doc;
      bool in_doc = false;
      auto push = [&](std::string&& d) {
        bytes += d.size();
        docs.push_back(std::move(d));
        if (docs.size() >= options.chunk_documents || bytes > (size_t{64} << 20)) {
          tokenize_chunk(docs);
          bytes = 0;
        }
      };
      while (lr.next(line)) {
        const bool empty = strip_unicode(line).empty();
        if (!blank) {
          if (!empty) push(std::move(line));
          continue;
        }
        if (empty) {
          if (in_doc) push(std::move(doc));
          doc.clear();
          in_doc = false;
        } else {
          if (in_doc) doc.push_back('\n');
          doc += line;
          in_doc = true;
        }
      }
      if (blank && in_doc) push(std::move(doc));
    }
    tokenize_chunk(docs);
  }
};

MlmCorpus::MlmCorpus(const MaskingOptions& masking, int32_t mask_id, size_t vocab_size,
                     int32_t pad_id)
    : masker_(masking, mask_id, vocab_size), pad_id_(pad_id) {}

MlmCorpus::~MlmCorpus() {
  if (map_) ::munmap(map_, map_size_);
}

void MlmCorpus::map_file(const std::string& path, int fd) {
  if (map_) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    tokens_ = nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path, "cannot stat the MLM token file");
  map_size_ = static_cast<size_t>(st.st_size);
  if (map_size_ < sizeof(Header)) fail(path, "MLM token file is truncated");
  map_ = ::mmap(nullptr, map_size_, PROT_READ, MAP_SHARED, fd, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    fail(path, std::string("cannot map the MLM token file (") + std::strerror(errno) + ")");
  }
  Header h;
  std::memcpy(&h, map_, sizeof(h));
  num_tokens_ = h.num_tokens;
  num_documents_ = h.num_docs;
  max_seq_length_ = h.max_seq_length;
  line_by_line_ = h.line_by_line != 0;
  const size_t need =
      sizeof(Header) + h.num_tokens * 4 + (line_by_line_ ? (h.num_seqs + 1) * 8 : 0);
  if (map_size_ < need || h.max_seq_length == 0) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    fail(path, "MLM token file is truncated");
  }
  tokens_ = reinterpret_cast<const uint32_t*>(static_cast<const char*>(map_) + sizeof(Header));
  lengths_.clear();
  offsets_.clear();
  if (line_by_line_) {
    const auto* off = reinterpret_cast<const uint64_t*>(static_cast<const char*>(map_) +
                                                        sizeof(Header) + h.num_tokens * 4);
    offsets_.assign(off, off + h.num_seqs + 1);
    lengths_.reserve(h.num_seqs);
    for (uint64_t i = 0; i < h.num_seqs; ++i) {
      lengths_.push_back(static_cast<uint32_t>(offsets_[i + 1] - offsets_[i]));
    }
  } else {
    lengths_.assign(h.num_tokens / h.max_seq_length, static_cast<uint32_t>(h.max_seq_length));
  }
}

namespace {

void check_not_empty(const MlmCorpus& c, const std::vector<std::string>& paths,
                     const MlmCorpusOptions& options) {
  if (c.size() > 0) return;
  fail(paths.front(),
       "the corpus gives no " + std::string(options.line_by_line ? "sequence" : "full block") +
           " of " + std::to_string(options.max_seq_length) + " tokens (" +
           std::to_string(c.num_tokens()) + " tokens in all)",
       "add text or lower max_seq_length");
}

}  // namespace

// Long on purpose: the cache lookup (key, validation, reuse) and the build it falls back to
// share the key, the file names and the options; the steps follow each other once.
std::shared_ptr<MlmCorpus> MlmCorpus::open(const std::vector<std::string>& paths,
                                           const tok::Tokenizer& tokenizer,
                                           const MlmCorpusOptions& options,
                                           const MaskingOptions& masking,
                                           const CacheOptions& cache) {
  if (options.max_seq_length < 3) fail("max_seq_length", "must be at least 3");
  if (options.chunk_documents == 0) fail("chunk_documents", "must be positive");
  auto corpus = std::make_shared<MlmCorpus>(masking, tokenizer.mask_id(), tokenizer.vocab_size(),
                                            tokenizer.pad_id());
  const std::vector<std::string> files = list_corpus_files(paths);
  Hasher h;
  h.add("clintorch-mlm").add_u64(kMlmVersion);
  for (const auto& f : files) h.add(f).add_u64(file_fingerprint(f));
  h.add_u64(tokenizer_fingerprint(tokenizer));
  h.add(choice_name(options.document_split))
      .add_u64(options.line_by_line)
      .add_u64(options.max_seq_length);
  const uint64_t key = h.digest();

  const std::string dir = cache.enabled ? cache_dir(cache) : "";
  std::string path;
  if (!dir.empty()) {
    path = dir + "/mlm-" + hex_key(key) + ".tok";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      Header hd{};
      const bool ok = ::pread(fd, &hd, sizeof(hd), 0) == static_cast<ssize_t>(sizeof(hd)) &&
                      hd.magic == kMlmMagic && hd.version == kMlmVersion && hd.key == key;
      if (ok) {
        bool mapped = false;
        try {
          corpus->map_file(path, fd);
          mapped = true;
        } catch (const Error&) {
          // a damaged file: rebuild it below
        }
        if (mapped) {
          ::close(fd);
          corpus->from_cache_ = true;
          corpus->cache_file_ = path;
          log_debug("mlm corpus: tokens read from " + path);
          check_not_empty(*corpus, paths, options);
          return corpus;
        }
      }
      ::close(fd);
    }
  }
  // Build: stream the corpus into a token file.
  int fd = -1;
  std::string tmp;
  if (!path.empty()) {
    tmp = path + ".tmp." + std::to_string(::getpid());
    fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) {
    const char* tdir = std::getenv("TMPDIR");
    std::string templ = std::string(tdir && *tdir ? tdir : "/tmp") + "/clintorch-mlm-XXXXXX";
    fd = ::mkstemp(templ.data());
    if (fd < 0) fail(templ, "cannot create a temporary file for the MLM token stream");
    ::unlink(templ.c_str());
    tmp.clear();
    path.clear();
  }
  std::FILE* out = ::fdopen(::dup(fd), "wb");
  if (!out) fail("mlm corpus", "cannot write the token file");
  MlmCorpusBuilder b(tokenizer, options, out);
  Header hd{kMlmMagic, kMlmVersion, key, 0, 0, 0, options.max_seq_length, options.line_by_line};
  b.write_ok = std::fwrite(&hd, sizeof(hd), 1, out) == 1;
  try {
    b.run(files);
  } catch (...) {
    std::fclose(out);
    ::close(fd);
    if (!tmp.empty()) ::unlink(tmp.c_str());
    throw;
  }
  if (options.line_by_line) {
    b.write_ok =
        b.write_ok && std::fwrite(b.offsets.data(), 8, b.offsets.size(), out) == b.offsets.size();
  }
  hd.num_tokens = b.num_tokens;
  hd.num_seqs = options.line_by_line ? b.offsets.size() - 1 : b.num_tokens / options.max_seq_length;
  hd.num_docs = b.num_docs;
  b.write_ok =
      b.write_ok && std::fseek(out, 0, SEEK_SET) == 0 && std::fwrite(&hd, sizeof(hd), 1, out) == 1;
  b.write_ok = (std::fclose(out) == 0) && b.write_ok;
  if (!b.write_ok) {
    ::close(fd);
    if (!tmp.empty()) ::unlink(tmp.c_str());
    fail("mlm corpus", "could not write the token file (disk full?)");
  }
  if (!tmp.empty()) {
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      log_warning("data cache: could not keep " + path);
      ::unlink(tmp.c_str());
      path.clear();
    }
  }
  corpus->map_file(path.empty() ? "mlm token file" : path, fd);
  ::close(fd);
  corpus->cache_file_ = path;
  check_not_empty(*corpus, paths, options);
  log_info("mlm corpus: " + std::to_string(corpus->num_documents_) + " documents, " +
           std::to_string(corpus->num_tokens_) + " tokens, " + std::to_string(corpus->size()) +
           (options.line_by_line ? " sequences"
                                 : " blocks of " + std::to_string(options.max_seq_length)));
  return corpus;
}

std::pair<uint64_t, uint64_t> MlmCorpus::range(size_t i) const {
  if (i >= lengths_.size()) fail("mlm corpus", "sequence index out of range");
  if (line_by_line_) return {offsets_[i], offsets_[i + 1]};
  const uint64_t b = static_cast<uint64_t>(i) * max_seq_length_;
  return {b, b + max_seq_length_};
}

std::vector<int32_t> MlmCorpus::sequence_ids(size_t i) const {
  const auto [b, e] = range(i);
  std::vector<int32_t> out;
  out.reserve(e - b);
  for (uint64_t k = b; k < e; ++k) out.push_back(static_cast<int32_t>(tokens_[k] & kTokenIdMask));
  return out;
}

std::vector<uint8_t> MlmCorpus::sequence_special(size_t i) const {
  const auto [b, e] = range(i);
  std::vector<uint8_t> out;
  out.reserve(e - b);
  for (uint64_t k = b; k < e; ++k) out.push_back((tokens_[k] & kTokenSpecial) != 0);
  return out;
}

Batch MlmCorpus::collate(const std::vector<size_t>& indices, uint64_t rng_key,
                         size_t pad_to_multiple_of) const {
  Batch b;
  b.feature_indices = indices;
  const auto n = static_cast<int64_t>(indices.size());
  size_t longest = 0;
  for (size_t i : indices) longest = std::max<size_t>(longest, lengths_.at(i));
  const auto s = static_cast<int64_t>(padded_length(longest, pad_to_multiple_of));
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  b.input_ids = torch::full({n, s}, static_cast<int64_t>(pad_id_), i64);  // (batch, seq)
  b.attention_mask = torch::zeros({n, s}, i64);                           // (batch, seq)
  b.token_type_ids = torch::zeros({n, s}, i64);                           // (batch, seq)
  b.labels = torch::empty({n, s}, i64);                                   // (batch, seq)
  std::vector<uint8_t> no_mask(static_cast<size_t>(n * s), 1);
  std::vector<uint8_t> word_start(static_cast<size_t>(n * s), 0);
  int64_t* ids = b.input_ids.data_ptr<int64_t>();
  int64_t* att = b.attention_mask.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const auto [beg, end] = range(indices[static_cast<size_t>(r)]);
    for (uint64_t k = beg; k < end; ++k) {
      const auto j = static_cast<int64_t>(k - beg);
      const uint32_t v = tokens_[k];
      ids[r * s + j] = static_cast<int64_t>(v & kTokenIdMask);
      att[r * s + j] = 1;
      no_mask[static_cast<size_t>(r * s + j)] = (v & kTokenSpecial) != 0;
      word_start[static_cast<size_t>(r * s + j)] = (v & kTokenWordStart) != 0;
    }
    b.num_tokens += static_cast<int64_t>(end - beg);
  }
  int64_t* labels = b.labels.data_ptr<int64_t>();
  masker_.apply(ids, labels, no_mask.data(), word_start.data(), static_cast<size_t>(n),
                static_cast<size_t>(s), rng_key);
  for (int64_t i = 0; i < n * s; ++i) b.num_label_tokens += labels[i] != -100;
  return b;
}

}  // namespace clintorch::data

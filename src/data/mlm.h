// Masked-language-model data: a plain-text corpus (files or folders; one document per line or
// blank-line-separated documents) tokenised once, streaming, into a memory-mapped token file in
// the cache, then served as fixed max_seq_length blocks (HF run_mlm group_texts) or one sequence
// per document (line_by_line); and the masking of HF DataCollatorForLanguageModeling, applied
// afresh for every batch from a seed derived from (seed, epoch, step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/batching.h"
#include "data/cache.h"
#include "data/document_split.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {

struct MaskingOptions {
  // Share of (non-special) tokens selected for prediction. Default 0.15.
  double mlm_probability = 0.15;
  // Share of the selected tokens replaced by [MASK]. Default 0.8.
  double mask_replace_prob = 0.8;
  // Share of the selected tokens replaced by a random token (uniform over the whole vocabulary,
  // as HF); the rest (1 - mask - random) stay unchanged. Default 0.1.
  double random_replace_prob = 0.1;
  // Select whole words: the selection probability is put on each word's first token and every
  // token of a selected word is masked (HF's offset-based word rule). The replacement shares
  // above still apply per token (Google BERT's whole-word masking); HF v5 instead forces all
  // [MASK]: set mask_replace_prob 1 to reproduce it. Default false.
  bool whole_word_mask = false;
};

// Applies MLM masking in place. Thread-safe (stateless).
class MlmMasker {
 public:
  MlmMasker(const MaskingOptions& options, int32_t mask_id, size_t vocab_size);
  // ids: (rows, seq) row-major, replaced in place; labels: (rows, seq) output, the original id
  // at selected positions and -100 elsewhere; no_mask: (rows, seq) 1 for special tokens and
  // padding, which are never selected; word_start: (rows, seq) 1 where a token starts a word
  // (only read with whole_word_mask; may be null). `key` seeds the draw (same key, same masks).
  void apply(int64_t* ids, int64_t* labels, const uint8_t* no_mask, const uint8_t* word_start,
             size_t rows, size_t seq, uint64_t key) const;
  const MaskingOptions& options() const { return options_; }

 private:
  MaskingOptions options_;
  int32_t mask_id_;
  size_t vocab_size_;
};

struct MlmCorpusOptions {
  // Default one document per line.
  DocumentSplit document_split = DocumentSplit::kLine;
  // HF --line_by_line: every document is its own sequence ([CLS] doc [SEP]); a document longer
  // than max_seq_length continues in further sequences instead of being truncated. Default
  // false: documents are concatenated and cut into full blocks (HF group_texts; the last
  // partial block is dropped).
  bool line_by_line = false;
  // Block / sequence length in tokens, specials included. Default 512.
  size_t max_seq_length = 512;
  // Tokenisation threads (0 = hardware threads). Default 0.
  size_t num_threads = 0;
  // Documents tokenised per step while streaming (bounds memory). Default 4096.
  size_t chunk_documents = 4096;
};

// The token stream of a corpus, memory-mapped. As a Dataset it yields masked batches.
class MlmCorpus : public Dataset {
 public:
  // Tokenises (or finds in the cache) the text files in `paths`; a folder contributes its
  // regular files, recursively, in name order (hidden files skipped). With the cache off, the
  // stream goes to an anonymous temporary file. Errors name FILE:LINE (invalid UTF-8).
  static std::shared_ptr<MlmCorpus> open(const std::vector<std::string>& paths,
                                         const tok::Tokenizer& tokenizer,
                                         const MlmCorpusOptions& options,
                                         const MaskingOptions& masking, const CacheOptions& cache);
  ~MlmCorpus() override;
  MlmCorpus(const MlmCorpus&) = delete;
  MlmCorpus& operator=(const MlmCorpus&) = delete;

  // Dataset: one feature per block / sequence.
  size_t size() const override { return lengths_.size(); }
  const std::vector<uint32_t>& lengths() const override { return lengths_; }
  Batch collate(const std::vector<size_t>& indices, uint64_t rng_key,
                size_t pad_to_multiple_of = 0) const override;

  // Tokens in the stream (specials included) and documents read.
  uint64_t num_tokens() const { return num_tokens_; }
  uint64_t num_documents() const { return num_documents_; }
  // Token ids and flags of sequence i.
  std::vector<int32_t> sequence_ids(size_t i) const;
  std::vector<uint8_t> sequence_special(size_t i) const;  // 1 = special token
  bool from_cache() const { return from_cache_; }
  const std::string& cache_file() const { return cache_file_; }
  const MlmMasker& masker() const { return masker_; }

  MlmCorpus(const MaskingOptions& masking, int32_t mask_id, size_t vocab_size, int32_t pad_id);

 private:
  friend struct MlmCorpusBuilder;
  void map_file(const std::string& path, int fd);
  std::pair<uint64_t, uint64_t> range(size_t i) const;

  MlmMasker masker_;
  int32_t pad_id_;
  bool line_by_line_ = false;
  size_t max_seq_length_ = 0;
  uint64_t num_tokens_ = 0;
  uint64_t num_documents_ = 0;
  std::vector<uint32_t> lengths_;
  std::vector<uint64_t> offsets_;     // line_by_line: start of each sequence (+ end)
  const uint32_t* tokens_ = nullptr;  // packed id | flags << 30
  void* map_ = nullptr;
  size_t map_size_ = 0;
  bool from_cache_ = false;
  std::string cache_file_;
};

// Token flags in the packed stream.
constexpr uint32_t kTokenSpecial = 1u << 30;
constexpr uint32_t kTokenWordStart = 1u << 31;
constexpr uint32_t kTokenIdMask = (1u << 30) - 1;

// The text files a list of paths names (folders expanded, sorted). Throws for a missing path.
std::vector<std::string> list_corpus_files(const std::vector<std::string>& paths);

}  // namespace clintorch::data

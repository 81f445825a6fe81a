// Linear-time WordPiece (internal): LinMaxMatch of Song et al., "Fast WordPiece Tokenization"
// (EMNLP 2021). The vocabulary becomes two byte tries, one for word-initial pieces (root R) and
// one for `##` continuation pieces (root S, strings without the prefix). Every node v gets a
// failure link f(v) and failure pops F(v): the pieces that greedy longest-match-first emits when
// the match cannot be extended past v, and the node (in the S trie) where matching resumes. A
// word is then tokenised in one left-to-right pass with no backtracking, producing exactly the
// output of HF's greedy MaxMatch (or "no match": the whole word becomes [UNK]).
//
// The tries are stored as a double array (base/check), so one transition is two array reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clintorch::tok::detail {

class WordPieceTrie {
 public:
  static constexpr int32_t kNull = -1;

  // Builds the tries. `vocab[id]` is the token of id; tokens starting with `prefix` go to the
  // continuation trie (without the prefix), all others to the initial trie. Empty strings are
  // ignored.
  void build(const std::vector<std::string_view>& vocab, std::string_view prefix);

  int32_t initial_root() const { return root_; }
  int32_t suffix_root() const { return suffix_root_; }

  // The child of `node` along `byte`, or kNull.
  int32_t step(int32_t node, uint8_t byte) const {
    const int32_t next = cells_[static_cast<size_t>(node)].base + byte;
    return cells_[static_cast<size_t>(next)].check == node ? next : kNull;
  }
  int32_t fail(int32_t node) const { return fail_[static_cast<size_t>(node)]; }
  // Failure pops of `node`: token ids [pops_begin, pops_begin + pops_count).
  const int32_t* pops(int32_t node) const {
    return pops_.data() + pops_start_[static_cast<size_t>(node)];
  }
  uint32_t pops_count(int32_t node) const {
    return pops_start_[static_cast<size_t>(node) + 1] - pops_start_[static_cast<size_t>(node)];
  }
  // Number of word bytes a token covers (its length, minus the prefix for continuation pieces).
  uint32_t piece_length(int32_t id) const { return piece_len_[static_cast<size_t>(id)]; }

  size_t num_nodes() const { return num_nodes_; }

 private:
  struct Cell {
    int32_t base = 0;
    int32_t check = -1;  // parent cell, -1 when free, -2 for a root
  };
  std::vector<Cell> cells_;
  std::vector<int32_t> fail_;
  std::vector<uint32_t> pops_start_;  // per cell, with one extra entry at the end
  std::vector<int32_t> pops_;
  std::vector<uint32_t> piece_len_;
  int32_t root_ = 0;
  int32_t suffix_root_ = 0;
  size_t num_nodes_ = 0;
};

}  // namespace clintorch::tok::detail

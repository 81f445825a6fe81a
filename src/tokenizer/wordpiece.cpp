// Construction of the LinMaxMatch tries (see wordpiece.h).
#include "tokenizer/wordpiece.h"

#include <algorithm>
#include <deque>
#include <utility>

namespace clintorch::tok::detail {
namespace {

// A plain pointer trie, used only while building.
struct BuildNode {
  std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
  int32_t token = -1;
  int32_t fail = -1;
  std::vector<int32_t> pops;
  int32_t cell = -1;
};

int32_t child_of(const std::vector<BuildNode>& nodes, int32_t node, uint8_t byte) {
  const auto& ch = nodes[static_cast<size_t>(node)].children;
  auto it =
      std::lower_bound(ch.begin(), ch.end(), byte,
                       [](const std::pair<uint8_t, int32_t>& e, uint8_t b) { return e.first < b; });
  return (it != ch.end() && it->first == byte) ? it->second : -1;
}

int32_t insert(std::vector<BuildNode>& nodes, int32_t root, std::string_view s) {
  int32_t node = root;
  for (const char ch : s) {
    const auto byte = static_cast<uint8_t>(ch);
    int32_t next = child_of(nodes, node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes.size());
      nodes.emplace_back();
      auto& children = nodes[static_cast<size_t>(node)].children;
      children.insert(
          std::upper_bound(children.begin(), children.end(), std::make_pair(byte, int32_t{-1}),
                           [](const auto& a, const auto& b) { return a.first < b.first; }),
          {byte, next});
    }
    node = next;
  }
  return node;
}

}  // namespace

// Long on purpose: one construction (tries, failure links, double-array placement) whose phases
// share the same node arrays; split, each part would need most of them as parameters.
void WordPieceTrie::build(const std::vector<std::string_view>& vocab, std::string_view prefix) {
  std::vector<BuildNode> nodes(2);
  const int32_t r = 0, s = 1;
  piece_len_.assign(vocab.size(), 0);
  for (size_t id = 0; id < vocab.size(); ++id) {
    std::string_view tok = vocab[id];
    if (tok.empty()) continue;
    int32_t root = r;
    if (!prefix.empty() && tok.size() > prefix.size() &&
        tok.compare(0, prefix.size(), prefix) == 0) {
      tok.remove_prefix(prefix.size());
      root = s;
    }
    piece_len_[id] = static_cast<uint32_t>(tok.size());
    const int32_t node = insert(nodes, root, tok);
    // A duplicate string keeps its first id (the loader rejects duplicates anyway).
    if (nodes[static_cast<size_t>(node)].token < 0)
      nodes[static_cast<size_t>(node)].token = static_cast<int32_t>(id);
  }

  // Failure links and pops, breadth first over both tries (a link always points to a shallower
  // node of the continuation trie, so it is ready when needed).
  std::deque<int32_t> queue{r, s};
  std::vector<int32_t> order;
  order.reserve(nodes.size());
  while (!queue.empty()) {
    const int32_t u = queue.front();
    queue.pop_front();
    order.push_back(u);
    for (const auto& [byte, v] : nodes[static_cast<size_t>(u)].children) {
      BuildNode& nv = nodes[static_cast<size_t>(v)];
      if (nv.token >= 0) {
        nv.pops = {nv.token};
        nv.fail = s;
      } else {
        const BuildNode& nu = nodes[static_cast<size_t>(u)];
        std::vector<int32_t> pops = nu.pops;
        int32_t z = nu.fail;
        while (z >= 0 && child_of(nodes, z, byte) < 0) {
          const auto& zp = nodes[static_cast<size_t>(z)].pops;
          pops.insert(pops.end(), zp.begin(), zp.end());
          z = nodes[static_cast<size_t>(z)].fail;
        }
        if (z >= 0) {
          nv.fail = child_of(nodes, z, byte);
          nv.pops = std::move(pops);
        } else {
          nv.fail = -1;
          nv.pops.clear();
        }
      }
      queue.push_back(v);
    }
  }

  // Double-array placement, in BFS order. Free cells form a sorted doubly-linked list, so the
  // search for a base only visits free cells.
  std::vector<int32_t> next_free, prev_free;  // -1 ends the list
  std::vector<char> used;
  int32_t free_head = -1, free_tail = -1;
  auto grow = [&](size_t n) {
    const size_t old = cells_.size();
    if (n <= old) return;
    size_t size = std::max<size_t>(old * 2, 1024);
    while (size < n) size *= 2;
    cells_.resize(size);
    used.resize(size, 0);
    next_free.resize(size, -1);
    prev_free.resize(size, -1);
    for (size_t c = old; c < size; ++c) {
      prev_free[c] = free_tail;
      next_free[c] = -1;
      if (free_tail >= 0) {
        next_free[static_cast<size_t>(free_tail)] = static_cast<int32_t>(c);
      } else {
        free_head = static_cast<int32_t>(c);
      }
      free_tail = static_cast<int32_t>(c);
    }
  };
  auto take = [&](size_t c) {
    used[c] = 1;
    const int32_t p = prev_free[c], n = next_free[c];
    if (p >= 0)
      next_free[static_cast<size_t>(p)] = n;
    else
      free_head = n;
    if (n >= 0)
      prev_free[static_cast<size_t>(n)] = p;
    else
      free_tail = p;
  };
  cells_.clear();
  grow(1024);
  take(0);
  take(1);
  nodes[r].cell = 0;
  nodes[s].cell = 1;
  cells_[0].check = cells_[1].check = -2;
  int32_t max_base = 0;
  for (const int32_t u : order) {
    BuildNode& nu = nodes[static_cast<size_t>(u)];
    const auto& ch = nu.children;
    if (ch.empty()) continue;
    const size_t c0 = ch.front().first;
    const size_t span = ch.back().first;
    size_t base = 0;
    for (int32_t pos = free_head;; pos = next_free[static_cast<size_t>(pos)]) {
      if (pos < 0) {  // no fit among the free cells: append after the end
        base = cells_.size();
        grow(base + 257);
        break;
      }
      if (static_cast<size_t>(pos) <= c0) continue;  // base must be >= 1
      base = static_cast<size_t>(pos) - c0;
      grow(base + span + 1);
      bool ok = true;
      for (const auto& e : ch) {
        if (used[base + e.first]) {
          ok = false;
          break;
        }
      }
      if (ok) break;
    }
    grow(base + 257);
    cells_[static_cast<size_t>(nu.cell)].base = static_cast<int32_t>(base);
    max_base = std::max(max_base, static_cast<int32_t>(base));
    for (const auto& e : ch) {
      const size_t cell = base + e.first;
      take(cell);
      cells_[cell].check = nu.cell;
      nodes[static_cast<size_t>(e.second)].cell = static_cast<int32_t>(cell);
    }
  }
  cells_.resize(static_cast<size_t>(max_base) + 256 + 2);
  root_ = 0;
  suffix_root_ = 1;
  num_nodes_ = nodes.size();

  fail_.assign(cells_.size(), kNull);
  std::vector<std::vector<int32_t>*> pops_of(cells_.size(), nullptr);
  for (auto& n : nodes) {
    const auto cell = static_cast<size_t>(n.cell);
    fail_[cell] = n.fail >= 0 ? nodes[static_cast<size_t>(n.fail)].cell : kNull;
    pops_of[cell] = &n.pops;
  }
  pops_start_.assign(cells_.size() + 1, 0);
  pops_.clear();
  for (size_t cell = 0; cell < cells_.size(); ++cell) {
    pops_start_[cell] = static_cast<uint32_t>(pops_.size());
    if (pops_of[cell]) pops_.insert(pops_.end(), pops_of[cell]->begin(), pops_of[cell]->end());
  }
  pops_start_[cells_.size()] = static_cast<uint32_t>(pops_.size());
}

}  // namespace clintorch::tok::detail

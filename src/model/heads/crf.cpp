#include "model/heads/crf.h"

#include <torch/torch.h>

#include <map>

#include "util/error.h"

namespace clintorch::model {

namespace {

struct Tag {
  char kind = '?';  // 'O', 'B', 'I', or '?' for a label of another scheme
  std::string type;
};

Tag parse_tag(const std::string& label) {
  if (label == "O") return {'O', ""};
  if (label == "B" || label == "I") return {label[0], ""};
  if (label.size() > 2 && (label[0] == 'B' || label[0] == 'I') && label[1] == '-') {
    return {label[0], label.substr(2)};
  }
  return {'?', ""};
}

}  // namespace

CrfConstraints bio_constraints(const std::vector<std::string>& labels) {
  const int64_t k = static_cast<int64_t>(labels.size());
  std::vector<Tag> tags;
  std::map<std::string, int64_t> begin_id;
  for (int64_t i = 0; i < k; ++i) {
    tags.push_back(parse_tag(labels[i]));
    if (tags.back().kind == '?') return {};  // not BIO: no constraints
    if (tags.back().kind == 'B') begin_id[tags.back().type] = i;
  }
  CrfConstraints c;
  c.allowed = torch::ones({k, k}, torch::kBool);
  c.allowed_start = torch::ones({k}, torch::kBool);
  c.allowed_end = torch::ones({k}, torch::kBool);
  c.begin_of.assign(k, -1);
  auto allowed = c.allowed.accessor<bool, 2>();
  auto start = c.allowed_start.accessor<bool, 1>();
  for (int64_t j = 0; j < k; ++j) {
    if (tags[j].kind != 'I' || !begin_id.count(tags[j].type)) continue;  // only I-X is limited
    c.begin_of[j] = begin_id[tags[j].type];
    start[j] = false;
    for (int64_t i = 0; i < k; ++i) {
      allowed[i][j] = (tags[i].kind == 'B' || tags[i].kind == 'I') && tags[i].type == tags[j].type;
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
LinearChainCrfImpl::LinearChainCrfImpl(int64_t num_tags, CrfConstraints constraints)
    : num_tags_(num_tags), constraints_(std::move(constraints)) {
  if (num_tags < 1) fail("crf", "needs at least one tag, got " + std::to_string(num_tags));
  transitions = register_parameter("transitions", torch::zeros({num_tags, num_tags}));
  start_transitions = register_parameter("start_transitions", torch::zeros({num_tags}));
  end_transitions = register_parameter("end_transitions", torch::zeros({num_tags}));
}

namespace {

at::Tensor penalty(const at::Tensor& allowed, const at::Tensor& like) {
  const at::Tensor a = allowed.to(like.device());
  return torch::where(a, torch::zeros({}, like.options()),
                      torch::full({}, LinearChainCrfImpl::kForbidden, like.options()));
}

}  // namespace

at::Tensor LinearChainCrfImpl::effective_transitions() const {
  const at::Tensor t = transitions.to(torch::kFloat32);
  return constraints_.empty() ? t : t + penalty(constraints_.allowed, t);
}
at::Tensor LinearChainCrfImpl::effective_start() const {
  const at::Tensor t = start_transitions.to(torch::kFloat32);
  return constraints_.empty() ? t : t + penalty(constraints_.allowed_start, t);
}
at::Tensor LinearChainCrfImpl::effective_end() const {
  const at::Tensor t = end_transitions.to(torch::kFloat32);
  return constraints_.empty() ? t : t + penalty(constraints_.allowed_end, t);
}

at::Tensor LinearChainCrfImpl::log_partition(const at::Tensor& emissions,
                                             const at::Tensor& mask) const {
  const at::Tensor em = emissions.to(torch::kFloat32);                  // (batch, len, tags)
  const at::Tensor keep = mask.to(torch::kBool);                        // (batch, len)
  const at::Tensor trans = effective_transitions().unsqueeze(0);        // (1, tags, tags)
  at::Tensor alpha = effective_start().unsqueeze(0) + em.select(1, 0);  // (batch, tags)
  for (int64_t t = 1; t < em.size(1); ++t) {
    // (batch, from, 1) + (1, from, to) -> sum over `from` in log space
    const at::Tensor next = torch::logsumexp(alpha.unsqueeze(2) + trans, 1) + em.select(1, t);
    alpha = torch::where(keep.select(1, t).unsqueeze(1), next, alpha);
  }
  return torch::logsumexp(alpha + effective_end().unsqueeze(0), 1);  // (batch)
}

at::Tensor LinearChainCrfImpl::path_score(const at::Tensor& emissions, const at::Tensor& tags,
                                          const at::Tensor& mask) const {
  const at::Tensor em = emissions.to(torch::kFloat32);  // (batch, len, tags)
  const at::Tensor keep = mask.to(torch::kBool);        // (batch, len)
  const at::Tensor keepf = keep.to(torch::kFloat32);
  const at::Tensor y =
      torch::where(keep, tags.to(torch::kLong), torch::zeros_like(tags, torch::kLong));
  at::Tensor score = (em.gather(2, y.unsqueeze(2)).squeeze(2) * keepf).sum(1);  // (batch)
  score = score + effective_start().index_select(0, y.select(1, 0));
  const int64_t len = em.size(1);
  if (len > 1) {
    const at::Tensor prev = y.narrow(1, 0, len - 1), next = y.narrow(1, 1, len - 1);
    const at::Tensor steps = torch::take(effective_transitions(), prev * num_tags_ + next);
    score = score + (steps * keepf.narrow(1, 1, len - 1)).sum(1);
  }
  const at::Tensor last = (keep.sum(1) - 1).clamp_min(0);  // (batch)
  const at::Tensor last_tag = y.gather(1, last.unsqueeze(1)).squeeze(1);
  return score + effective_end().index_select(0, last_tag);
}

at::Tensor LinearChainCrfImpl::repair(const at::Tensor& tags, const at::Tensor& mask) const {
  if (constraints_.empty() || constraints_.begin_of.empty()) return tags;
  const at::Tensor keep = mask.to(torch::kBool);
  const at::Tensor y =
      torch::where(keep, tags.to(torch::kLong), torch::zeros_like(tags, torch::kLong));
  const at::Tensor begin_of = torch::tensor(constraints_.begin_of, torch::kLong)
                                  .to(y.device())
                                  .index_select(0, y.view(-1))
                                  .view(y.sizes());  // (batch, len)
  const at::Tensor allowed = constraints_.allowed.to(y.device());
  const at::Tensor start_ok =
      constraints_.allowed_start.to(y.device()).index_select(0, y.select(1, 0)).unsqueeze(1);
  at::Tensor ok = start_ok;  // (batch, 1)
  const int64_t len = y.size(1);
  if (len > 1) {
    const at::Tensor prev = y.narrow(1, 0, len - 1), next = y.narrow(1, 1, len - 1);
    ok = torch::cat({start_ok, torch::take(allowed, prev * num_tags_ + next)}, 1);  // (batch, len)
  }
  const at::Tensor bad = keep & ~ok & (begin_of >= 0);
  return torch::where(bad, begin_of, y);
}

at::Tensor LinearChainCrfImpl::nll(const at::Tensor& emissions, const at::Tensor& tags,
                                   const at::Tensor& mask) const {
  const at::Tensor keep = mask.to(torch::kBool);
  const at::Tensor gold = repair(tags, keep);
  const at::Tensor nll = log_partition(emissions, keep) - path_score(emissions, gold, keep);
  return torch::where(keep.any(1), nll, torch::zeros_like(nll));  // (batch)
}

std::vector<std::vector<int64_t>> LinearChainCrfImpl::viterbi(const at::Tensor& emissions,
                                                              const at::Tensor& mask) const {
  torch::NoGradGuard no_grad;
  const at::Tensor em = emissions.to(torch::kFloat32);  // (batch, len, tags)
  const at::Tensor keep = mask.to(torch::kBool);
  const at::Tensor trans = effective_transitions().unsqueeze(0);        // (1, from, to)
  at::Tensor score = effective_start().unsqueeze(0) + em.select(1, 0);  // (batch, tags)
  std::vector<at::Tensor> backpointers;  // entry t-1: best `from` for each `to` at step t
  for (int64_t t = 1; t < em.size(1); ++t) {
    auto [best, from] = (score.unsqueeze(2) + trans).max(1);  // (batch, to) each
    score = torch::where(keep.select(1, t).unsqueeze(1), best + em.select(1, t), score);
    backpointers.push_back(from);
  }
  const at::Tensor last = (score + effective_end().unsqueeze(0)).argmax(1).cpu();  // (batch)
  const at::Tensor lengths = keep.sum(1).cpu();
  const at::Tensor bp = backpointers.empty()
                            ? at::Tensor()
                            : torch::stack(backpointers).cpu();  // (len-1, batch, tags)
  std::vector<std::vector<int64_t>> paths(em.size(0));
  for (int64_t b = 0; b < em.size(0); ++b) {
    const int64_t n = lengths[b].item<int64_t>();
    if (n == 0) continue;
    std::vector<int64_t>& path = paths[b];
    path.assign(n, 0);
    path[n - 1] = last[b].item<int64_t>();
    if (n > 1) {
      auto acc = bp.accessor<int64_t, 3>();
      for (int64_t t = n - 1; t >= 1; --t) path[t - 1] = acc[t - 1][b][path[t]];
    }
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
std::pair<at::Tensor, at::Tensor> compact_positions(const at::Tensor& select) {
  const at::Tensor sel = select.to(torch::kBool);  // (batch, seq)
  if (sel.dim() != 2 || sel.size(1) == 0)
    fail("crf", "the label mask must be (batch, seq), seq > 0");
  const at::Tensor counts = sel.sum(1);  // (batch)
  const int64_t n = std::max<int64_t>(1, counts.max().item<int64_t>());
  // A stable descending sort of the 0/1 mask puts the selected positions first, in order.
  const at::Tensor order = std::get<1>(torch::sort(sel.to(torch::kInt8), /*stable=*/true, /*dim=*/1,
                                                   /*descending=*/true));  // (batch, seq)
  const at::Tensor mask =
      torch::arange(n, counts.options()).unsqueeze(0) < counts.unsqueeze(1);  // (batch, n)
  const at::Tensor index =
      torch::where(mask, order.narrow(1, 0, n), torch::zeros({}, order.options()));
  return {index, mask};
}

}  // namespace clintorch::model

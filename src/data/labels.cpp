#include "data/labels.h"

#include <algorithm>
#include <set>

#include "util/error.h"
#include "util/strings.h"

namespace clintorch::data {

LabelMap::LabelMap(std::vector<std::string> labels) {
  for (auto& l : labels) {
    if (ids_.count(l)) fail("labels", "label '" + l + "' is listed twice");
    ids_.emplace(l, static_cast<int32_t>(labels_.size()));
    labels_.push_back(std::move(l));
  }
}

LabelMap LabelMap::sorted(const std::vector<std::string>& labels) {
  std::set<std::string> unique(labels.begin(), labels.end());
  return LabelMap(std::vector<std::string>(unique.begin(), unique.end()));
}

int32_t LabelMap::id(std::string_view label) const {
  const auto it = ids_.find(std::string(label));
  return it == ids_.end() ? -1 : it->second;
}

const std::string& LabelMap::label(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= labels_.size()) {
    fail("labels", "label id " + std::to_string(id) + " is out of range (" +
                       std::to_string(labels_.size()) + " labels)");
  }
  return labels_[static_cast<size_t>(id)];
}

int32_t LabelMap::add(const std::string& label) {
  const int32_t existing = id(label);
  if (existing >= 0) return existing;
  const auto id = static_cast<int32_t>(labels_.size());
  ids_.emplace(label, id);
  labels_.push_back(label);
  return id;
}

std::vector<int32_t> LabelMap::b_to_i() const {
  std::vector<int32_t> out(labels_.size());
  for (size_t i = 0; i < labels_.size(); ++i) {
    const std::string& l = labels_[i];
    out[i] = static_cast<int32_t>(i);
    if (l.rfind("B-", 0) == 0) {
      // Python's str.replace("B-", "I-") replaces every occurrence.
      std::string repl;
      for (size_t k = 0; k < l.size();) {
        if (l.compare(k, 2, "B-") == 0) {
          repl += "I-";
          k += 2;
        } else {
          repl.push_back(l[k++]);
        }
      }
      const int32_t j = id(repl);
      if (j >= 0) out[i] = j;
    }
  }
  return out;
}

TagScheme parse_tag_scheme(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (const auto scheme = choice_from_name<TagScheme>(n)) return *scheme;
  if (n == "bio" || n == "iob") return TagScheme::kIOB2;
  if (n == "bioes") return TagScheme::kIOBES;
  fail("tag_scheme",
       "unknown tag scheme '" + name + "'" + did_you_mean(n, choice_names<TagScheme>()),
       "use iob2 (B-/I-/O), iobes (B-/I-/E-/S-/O), iob1 or none");
}

std::string tag_scheme_name(TagScheme scheme) {
  return choice_name(scheme);
}

std::pair<char, std::string_view> split_tag(std::string_view tag) {
  if (tag == "O") return {'O', {}};
  if (tag.size() == 1 && (tag[0] == 'B' || tag[0] == 'I' || tag[0] == 'E' || tag[0] == 'S')) {
    return {tag[0], {}};
  }
  if (tag.size() >= 3 && tag[1] == '-' &&
      (tag[0] == 'B' || tag[0] == 'I' || tag[0] == 'E' || tag[0] == 'S')) {
    return {tag[0], tag.substr(2)};
  }
  return {0, {}};
}

TagScheme detect_tag_scheme(const std::vector<std::string>& distinct_tags) {
  bool all_prefixed = true, has_es = false;
  for (const auto& t : distinct_tags) {
    const char p = split_tag(t).first;
    if (p == 0) all_prefixed = false;
    if (p == 'E' || p == 'S') has_es = true;
  }
  if (!all_prefixed) return TagScheme::kNone;
  return has_es ? TagScheme::kIOBES : TagScheme::kIOB2;
}

namespace {

std::string make_tag(char prefix, std::string_view type) {
  std::string t(1, prefix);
  if (!type.empty()) {
    t.push_back('-');
    t.append(type);
  }
  return t;
}

void check_prefixes(const std::vector<std::string>& tags, TagScheme scheme) {
  const std::string allowed = scheme == TagScheme::kIOBES ? "BIESO" : "BIO";
  for (size_t i = 0; i < tags.size(); ++i) {
    const char p = split_tag(tags[i]).first;
    if (p == 0 || allowed.find(p) == std::string::npos) {
      fail("tag " + std::to_string(i + 1),
           "tag '" + tags[i] + "' is not a valid " + tag_scheme_name(scheme) + " tag",
           scheme == TagScheme::kIOBES ? "IOBES tags are O, B-X, I-X, E-X, S-X"
                                       : "IOB tags are O, B-X, I-X (set tag_scheme: none to use "
                                         "labels as they are)");
    }
  }
}

}  // namespace

std::vector<TagSpan> tags_to_spans(const std::vector<std::string>& tags, TagScheme scheme) {
  std::vector<TagSpan> spans;
  if (scheme == TagScheme::kNone) return spans;
  bool open = false;
  TagSpan cur;
  auto close = [&](size_t end) {
    if (open) {
      cur.end = end;
      spans.push_back(cur);
      open = false;
    }
  };
  for (size_t i = 0; i < tags.size(); ++i) {
    const auto [p, type] = split_tag(tags[i]);
    switch (p) {
      case 'B':
      case 'S':
        close(i);
        cur = TagSpan{i, i, std::string(type)};
        open = true;
        if (p == 'S') close(i + 1);
        break;
      case 'I':
      case 'E':
        if (!open || cur.type != type) {
          close(i);
          cur = TagSpan{i, i, std::string(type)};
          open = true;
        }
        if (p == 'E') close(i + 1);
        break;
      default:  // 'O' or unknown
        close(i);
        break;
    }
  }
  close(tags.size());
  return spans;
}

std::vector<std::string> spans_to_tags(const std::vector<TagSpan>& spans, size_t n,
                                       TagScheme scheme) {
  std::vector<std::string> tags(n, "O");
  for (const auto& s : spans) {
    const size_t len = s.end - s.begin;
    if (len == 0) continue;
    if (scheme == TagScheme::kIOBES) {
      if (len == 1) {
        tags[s.begin] = make_tag('S', s.type);
        continue;
      }
      tags[s.begin] = make_tag('B', s.type);
      for (size_t i = s.begin + 1; i + 1 < s.end; ++i) tags[i] = make_tag('I', s.type);
      tags[s.end - 1] = make_tag('E', s.type);
    } else {
      tags[s.begin] = make_tag('B', s.type);
      for (size_t i = s.begin + 1; i < s.end; ++i) tags[i] = make_tag('I', s.type);
    }
  }
  return tags;
}

std::vector<std::string> convert_tags(const std::vector<std::string>& tags, TagScheme from,
                                      TagScheme to) {
  if (from == TagScheme::kNone || to == TagScheme::kNone || from == to) return tags;
  check_prefixes(tags, from);
  return spans_to_tags(tags_to_spans(tags, from), tags.size(), to);
}

}  // namespace clintorch::data

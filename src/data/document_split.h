// How an MLM corpus is cut into documents (the recipe's data.document_boundary).
#pragma once

#include <string>
#include <vector>

#include "util/choice.h"

namespace clintorch::data {

enum class DocumentSplit {
  kLine,       // one document per line; empty lines skipped
  kBlankLine,  // runs of non-empty lines, joined with '\n'
};

}  // namespace clintorch::data

namespace clintorch {
template <>
struct ChoiceNames<data::DocumentSplit> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"line", "blank_line"};
    return kNames;
  }
};
}  // namespace clintorch

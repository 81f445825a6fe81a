#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::tok {

BatchEncoding Tokenizer::encode_words_pair_batch(
    const std::vector<std::vector<std::string>>& firsts,
    const std::vector<std::vector<std::string>>& seconds, const EncodeOptions& options) const {
  if (options.padding != Padding::kNone) {
    throw UsageError("--padding is not supported for pairs of pre-split words");
  }
  if (firsts.size() != seconds.size()) {
    throw Error("encode_words_pair_batch: " + std::to_string(firsts.size()) + " firsts but " +
                std::to_string(seconds.size()) + " seconds");
  }
  BatchEncoding batch;
  for (size_t k = 0; k < firsts.size(); ++k) {
    const std::vector<std::string_view> a(firsts[k].begin(), firsts[k].end());
    const std::vector<std::string_view> b(seconds[k].begin(), seconds[k].end());
    Encoding e = encode_words_pair(a, b, options);
    std::vector<Encoding> overflowing = std::move(e.overflowing);
    e.overflowing.clear();
    batch.encodings.push_back(std::move(e));
    batch.overflow_to_sample_mapping.push_back(k);
    for (auto& window : overflowing) {
      batch.encodings.push_back(std::move(window));
      batch.overflow_to_sample_mapping.push_back(k);
    }
  }
  return batch;
}

}  // namespace clintorch::tok

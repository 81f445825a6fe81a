// Helpers for the data-layer tests: a tokenizer, temporary files, error expectations.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "test_helpers.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace clintorch::test {

// The MiniLM tokenizer (CLINTORCH_MINILM_DIR), else the shared uncased vocab; nullptr if none.
inline std::shared_ptr<tok::Tokenizer> test_tokenizer() {
  static std::shared_ptr<tok::Tokenizer> cached;
  if (cached) return cached;
  tok::TokenizerOptions o;
  o.warn_cased_vocab_lowercased = false;
  if (const char* m = std::getenv("CLINTORCH_MINILM_DIR");
      m && *m && std::filesystem::exists(std::string(m) + "/vocab.txt")) {
    cached = std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_dir(m, o));
  } else {
    const std::string v = shared_datasets() + "/vocab_bert-base-uncased/vocab.txt";
    if (std::filesystem::exists(v)) {
      cached = std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_vocab_file(v, o));
    }
  }
  return cached;
}

#define CLINTORCH_NEED_TOKENIZER(var)             \
  auto var = ::clintorch::test::test_tokenizer(); \
  if (!var) GTEST_SKIP() << "no tokenizer: CLINTORCH_MINILM_DIR and the shared vocab are absent"

// The message of the clintorch::Error thrown by fn ("" when none was thrown; a non-Error
// exception fails the test).
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected clintorch::Error, got std::exception: " << e.what();
    return e.what();
  }
  return "";
}

}  // namespace clintorch::test

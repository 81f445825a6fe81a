// libFuzzer target over one dataset reader, chosen at build time by CLINTORCH_FUZZ_FORMAT (the
// reader's format name: conll, ner_jsonl, ner_spans_jsonl, csv, tsv, jsonl, squad, blue_tsv,
// re_jsonl, text). The first input byte picks reader options (labelled or not, tag schemes,
// problem type, header, quoting, pair column, ...); the rest is the file. The file is read the
// way `clintorch train` reads it: through data::read_* with the task's format, or, for text, into
// an MLM corpus (tokenised, cache off).
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "data/mlm.h"
#include "data/readers.h"
#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#ifndef CLINTORCH_FUZZ_FORMAT
#define CLINTORCH_FUZZ_FORMAT "conll"
#endif

namespace data = clintorch::data;
namespace tok = clintorch::tok;

namespace {

const std::string kFormat = CLINTORCH_FUZZ_FORMAT;

const tok::Tokenizer& tokenizer() {
  static const tok::Tokenizer t = [] {
    const std::string vocab = clintorch::fuzz::work_dir() + "/vocab.txt";
    std::ofstream out(vocab);
    for (const char* w : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[E1]", "[/E1]", "[E2]",
                          "[/E2]", "a", "##a", "b", "##b", "the", "pain", "##s", ",", ".", "1"}) {
      out << w << "\n";
    }
    out.close();
    return tok::Tokenizer::from_vocab_file(vocab);
  }();
  return t;
}

data::ReaderOptions options_from(uint8_t b) {
  data::ReaderOptions o;
  o.labeled = (b & 1) == 0;
  static const char* kSchemes[] = {"auto", "iob1", "iob2", "iobes"};
  o.tag_scheme = kSchemes[(b >> 1) & 3];
  o.target_scheme = (b & 8) ? "iobes" : "same";
  o.problem_type = static_cast<data::ProblemType>(((b >> 4) & 3) % 3);
  o.header = (b & 0x40) ? "auto" : "true";
  o.tsv_quoting = (b & 0x80) != 0;
  if (b & 0x80) o.text_pair_column = "text_b";
  if ((b & 0x30) == 0x10) o.label_columns = {"a", "b", "c"};  // multi-label 0/1 columns
  o.on_bad_answer = (b & 0x20) ? "skip" : "error";
  o.label_names = {"O", "B-X", "I-X"};
  if (b & 0x40) o.column_separator = "tab";
  return o;
}

void read(const std::string& path, uint8_t option_byte) {
  const data::ReaderOptions o = options_from(option_byte);
  if (kFormat == "conll") {
    data::read_ner(path, data::Format::kConll, o);
  } else if (kFormat == "ner_jsonl") {
    data::read_ner(path, data::Format::kNerJsonl, o);
  } else if (kFormat == "ner_spans_jsonl") {
    data::read_ner(path, data::Format::kNerSpansJsonl, o, &tokenizer());
  } else if (kFormat == "csv") {
    data::read_classification(path, data::Format::kCsv, o);
  } else if (kFormat == "tsv") {
    data::read_classification(path, data::Format::kTsv, o);
  } else if (kFormat == "jsonl") {
    data::read_classification(path, data::Format::kJsonl, o);
  } else if (kFormat == "squad") {
    data::read_squad(path, o);
  } else if (kFormat == "blue_tsv") {
    data::read_relations(path, data::Format::kBlueTsv, o);
  } else if (kFormat == "re_jsonl") {
    data::read_relations(path, data::Format::kReJsonl, o);
  } else if (kFormat == "text") {
    data::MlmCorpusOptions mo;
    mo.document_split =
        (option_byte & 1) ? data::DocumentSplit::kBlankLine : data::DocumentSplit::kLine;
    mo.line_by_line = (option_byte & 2) != 0;
    mo.max_seq_length = 8 + (option_byte >> 2) % 24;
    mo.num_threads = 1;
    mo.chunk_documents = 1 + (option_byte >> 4);
    data::CacheOptions cache;
    cache.enabled = false;
    const auto& t = tokenizer();
    auto corpus = data::MlmCorpus::open({path}, t, mo, data::MaskingOptions{}, cache);
    (void)corpus;
  } else {
    std::fprintf(stderr, "unknown CLINTORCH_FUZZ_FORMAT %s\n", kFormat.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string ext = kFormat == "conll"                         ? ".conll"
                          : kFormat == "csv"                         ? ".csv"
                          : kFormat == "squad"                       ? ".json"
                          : kFormat == "text"                        ? ".txt"
                          : kFormat.find("tsv") != std::string::npos ? ".tsv"
                                                                     : ".jsonl";
  const std::string path = clintorch::fuzz::write_input(data + 1, size - 1, "data" + ext);
  try {
    read(path, data[0]);
  } catch (const clintorch::Error&) {
  }
  return 0;
}

// clintorch_data_tool: a test helper that runs the data layer on a file and dumps what it built
// as JSON lines, so the Python tests can compare it with the HF reference logic
// (tokenize_and_align_labels, prepare_train_features, group_texts, ...). Not installed.
//
//   clintorch_data_tool features --task ner --model DIR --input FILE [options] --out OUT.jsonl
//   clintorch_data_tool mlm --model DIR --input PATH... [--line-by-line] --out OUT.jsonl
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/mlm.h"
#include "data/qa_postprocess.h"
#include "data/task_registry.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

using namespace clintorch;

namespace {

struct Common {
  std::string model, vocab, out;
  bool lowercase = false, no_lowercase = false;
  std::string cache_dir;
  bool no_cache = false;
  size_t max_seq_length = 128, doc_stride = 32;
};

tok::Tokenizer load_tokenizer(const Common& c) {
  tok::TokenizerOptions o;
  if (c.lowercase) o.do_lower_case = true;
  if (c.no_lowercase) o.do_lower_case = false;
  o.warn_cased_vocab_lowercased = false;
  if (!c.model.empty()) return tok::Tokenizer::from_dir(c.model, o);
  if (!c.vocab.empty()) return tok::Tokenizer::from_vocab_file(c.vocab, o);
  throw UsageError("give --model DIR or --vocab FILE");
}

void add_common(CLI::App* app, Common& c) {
  app->add_option("--model", c.model, "HF model directory (tokenizer files)");
  app->add_option("--vocab", c.vocab, "vocab.txt");
  app->add_flag("--lowercase", c.lowercase);
  app->add_flag("--no-lowercase", c.no_lowercase);
  app->add_option("--out", c.out, "output JSONL")->required();
  app->add_option("--cache-dir", c.cache_dir);
  app->add_flag("--no-cache", c.no_cache);
  app->add_option("--max-seq-length", c.max_seq_length);
  app->add_option("--doc-stride", c.doc_stride);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"clintorch data-layer test tool"};
  app.require_subcommand(1);
  Common common;

  // ---- features
  std::string task = "ner", format = "auto", input, scheme = "auto", target = "same";
  std::string text_col = "text", pair_col, problem = "single_label", unknown = "error";
  std::vector<std::string> label_cols{"label"}, labels;
  std::string labels_from;
  bool label_all = false, unlabeled = false, markers = false, with_examples = false;
  std::string qa_logits, qa_out;
  bool qa_v2 = false;
  size_t n_best = 20, max_answer = 30;
  auto* feat = app.add_subcommand("features", "dump features");
  add_common(feat, common);
  feat->add_option("--task", task);
  feat->add_option("--format", format);
  feat->add_option("--input", input)->required();
  feat->add_option("--tag-scheme", scheme);
  feat->add_option("--target-scheme", target);
  feat->add_option("--text-column", text_col);
  feat->add_option("--text-pair-column", pair_col);
  feat->add_option("--label-column", label_cols);
  feat->add_option("--problem-type", problem);
  feat->add_option("--unknown-labels", unknown);
  feat->add_option("--labels", labels, "label list in id order");
  feat->add_option("--labels-from", labels_from, "take the label map of this (train) file");
  feat->add_flag("--label-all-tokens", label_all);
  feat->add_flag("--unlabeled", unlabeled);
  feat->add_flag("--add-markers", markers);
  feat->add_flag("--examples", with_examples, "also dump the examples");
  feat->add_option("--qa-logits", qa_logits, "JSON {start: [[...]], end: [[...]]} per feature");
  feat->add_option("--qa-out", qa_out, "write postprocessed QA predictions (JSONL)");
  feat->add_flag("--v2", qa_v2, "SQuAD v2 null answers");
  feat->add_option("--n-best", n_best);
  feat->add_option("--max-answer-length", max_answer);

  // ---- mlm
  std::vector<std::string> corpus;
  bool line_by_line = false;
  std::string split = "line";
  size_t max_blocks = SIZE_MAX;
  auto* mlm = app.add_subcommand("mlm", "dump MLM blocks");
  add_common(mlm, common);
  mlm->add_option("--input", corpus)->required();
  mlm->add_flag("--line-by-line", line_by_line);
  mlm->add_option("--document-split", split);
  mlm->add_option("--max-blocks", max_blocks);

  try {
    app.parse(argc, argv);
    tok::Tokenizer tokenizer = load_tokenizer(common);
    std::ofstream out(common.out);
    data::CacheOptions cache;
    cache.enabled = !common.no_cache;
    cache.dir = common.cache_dir;
    if (*feat) {
      data::DataOptions o;
      o.task = data::parse_task(task);
      o.format = data::task_format(o.task, format, "--format");
      o.reader.tag_scheme = scheme;
      o.reader.target_scheme = target;
      o.reader.text_column = text_col;
      o.reader.text_pair_column = pair_col;
      o.reader.label_columns = label_cols;
      o.reader.problem_type = data::parse_problem_type(problem);
      o.reader.labeled = !unlabeled;
      o.features.max_seq_length = common.max_seq_length;
      o.features.doc_stride = common.doc_stride;
      o.features.label_all_tokens = label_all;
      o.features.unknown_labels = data::parse_unknown_labels(unknown);
      o.cache = cache;
      o.labels = labels;
      if (markers) data::add_entity_markers(tokenizer);
      std::shared_ptr<data::TaskDataset> train;
      if (!labels_from.empty()) train = data::load_task_dataset(labels_from, tokenizer, o);
      auto d = data::load_task_dataset(input, tokenizer, o, train ? &train->labels : nullptr);
      nlohmann::json head{{"labels", d->labels.labels()},
                          {"num_examples", d->num_examples()},
                          {"num_features", d->features.size()},
                          {"from_cache", d->from_cache},
                          {"format", data::format_name(d->format)}};
      out << head.dump() << "\n";
      for (const auto& f : d->features) {
        nlohmann::json j{{"example", f.example},         {"window", f.window},
                         {"input_ids", f.input_ids},     {"token_type_ids", f.token_type_ids},
                         {"token_begin", f.token_begin}, {"token_count", f.token_count}};
        if (!f.token_labels.empty()) j["labels"] = f.token_labels;
        if (!f.word_ids.empty()) j["word_ids"] = f.word_ids;
        if (f.label != -100) j["label"] = f.label;
        if (!f.targets.empty()) j["targets"] = f.targets;
        if (f.start_position >= 0) {
          j["start_position"] = f.start_position;
          j["end_position"] = f.end_position;
        }
        if (!f.context_offsets.empty()) {
          nlohmann::json offs = nlohmann::json::array();
          for (const auto& c : f.context_offsets) {
            offs.push_back(c.begin < 0 ? nlohmann::json(nullptr)
                                       : nlohmann::json({c.begin, c.end}));
          }
          j["offsets"] = offs;
        }
        if (f.head_marker >= 0) j["markers"] = {f.head_marker, f.tail_marker};
        out << j.dump() << "\n";
      }
      if (!qa_logits.empty()) {
        std::ifstream in(qa_logits);
        const auto j = nlohmann::json::parse(in);
        const auto n = static_cast<int64_t>(d->features.size());
        int64_t seq = 0;
        for (const auto& f : d->features)
          seq = std::max<int64_t>(seq, static_cast<int64_t>(f.length()));
        auto st = torch::full({n, seq}, -1e4f);
        auto en = torch::full({n, seq}, -1e4f);
        for (int64_t i = 0; i < n; ++i) {
          const auto& a = j.at("start").at(static_cast<size_t>(i));
          const auto& b = j.at("end").at(static_cast<size_t>(i));
          for (size_t k = 0; k < a.size(); ++k) {
            st[i][static_cast<int64_t>(k)] = a[k].get<float>();
            en[i][static_cast<int64_t>(k)] = b[k].get<float>();
          }
        }
        data::QaPostprocessOptions po;
        po.version_2_with_negative = qa_v2;
        po.n_best_size = n_best;
        po.max_answer_length = max_answer;
        std::ofstream qo(qa_out);
        for (const auto& p : data::postprocess_qa(*d, st, en, po)) {
          qo << nlohmann::json{{"id", p.id},
                               {"text", p.text},
                               {"start", p.start},
                               {"end", p.end},
                               {"probability", p.probability},
                               {"null_score_diff", p.null_score_diff}}
                    .dump()
             << "\n";
        }
      }
      if (with_examples) {
        for (const auto& ex : d->ner) {
          out << nlohmann::json{{"words", ex.words}, {"tags", ex.tags}, {"line", ex.line}}.dump()
              << "\n";
        }
        for (const auto& ex : d->cls) {
          out << nlohmann::json{{"text", ex.text}, {"labels", ex.labels}, {"line", ex.line}}.dump()
              << "\n";
        }
        for (const auto& ex : d->re) {
          out << nlohmann::json{{"text", ex.text}, {"label", ex.label}, {"line", ex.line}}.dump()
              << "\n";
        }
      }
    } else if (*mlm) {
      data::MlmCorpusOptions mo;
      mo.max_seq_length = common.max_seq_length;
      mo.line_by_line = line_by_line;
      const auto document_split = choice_from_name<data::DocumentSplit>(split);
      if (!document_split) throw std::runtime_error("unknown --split '" + split + "'");
      mo.document_split = *document_split;
      auto c = data::MlmCorpus::open(corpus, tokenizer, mo, data::MaskingOptions{}, cache);
      out << nlohmann::json{{"num_tokens", c->num_tokens()},
                            {"num_documents", c->num_documents()},
                            {"num_sequences", c->size()},
                            {"from_cache", c->from_cache()}}
                 .dump()
          << "\n";
      for (size_t i = 0; i < c->size() && i < max_blocks; ++i) {
        out << nlohmann::json{{"input_ids", c->sequence_ids(i)},
                              {"special_tokens_mask", c->sequence_special(i)}}
                   .dump()
            << "\n";
      }
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

// The SQuAD v1.1 / v2 reader: every answer checked against its context (docs/tasks-and-formats.md).
#include "data/readers.h"
#include "data/readers/reader_util.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace clintorch::data {

using nlohmann::json;

// ------------------------------------------------------------------------------- SQuAD

namespace {

const json& member(const json& obj, const char* key, json::value_t type, const std::string& path,
                   size_t line, const std::string& what) {
  const auto it = obj.find(key);
  const bool ok =
      it != obj.end() &&
      (it->type() == type || (type == json::value_t::number_integer && it->is_number_integer()));
  if (!ok) {
    fail(where(path, line),
         what + " needs '" + key + "' (" +
             (type == json::value_t::array    ? "a list"
              : type == json::value_t::string ? "a string"
                                              : "an integer") +
             ")",
         "SQuAD layout: {\"data\": [{\"paragraphs\": [{\"context\", \"qas\": [{\"id\", "
         "\"question\", \"answers\": [{\"text\", \"answer_start\"}]}]}]}]}");
  }
  return *it;
}

}  // namespace

// Long on purpose: one walk over the SQuAD nesting (data > paragraphs > qas > answers), each
// level carrying the line numbers its errors cite.
std::vector<QaExample> read_squad(const std::string& path, const ReaderOptions& o) {
  const std::string text = read_file(path);
  if (strip_unicode(text).empty()) empty_file(path);
  check_utf8_text(text, path);
  const json root = parse_json_with_lines(text, path);
  if (!root.is_object()) fail(where(path, 1), "expected a JSON object with a 'data' list");
  const json& data =
      member(root, "data", json::value_t::array, path, json_line(root, 1), "the file");
  const bool skip_bad = o.on_bad_answer == "skip";
  if (!skip_bad && o.on_bad_answer != "error") {
    fail("on_bad_answer", "unknown value '" + o.on_bad_answer + "'", "use error or skip");
  }
  std::vector<QaExample> out;
  size_t skipped = 0, skipped_line = 0;
  std::set<std::string> ids;
  for (const auto& article : data) {
    const size_t aln = json_line(article, 1);
    if (!article.is_object()) fail(where(path, aln), "each 'data' item must be an object");
    std::string title;
    if (article.contains("title") && article["title"].is_string()) title = article["title"];
    const json& paragraphs =
        member(article, "paragraphs", json::value_t::array, path, aln, "an article");
    for (const auto& para : paragraphs) {
      const size_t pln = json_line(para, aln);
      if (!para.is_object()) fail(where(path, pln), "each paragraph must be an object");
      const std::string& context =
          member(para, "context", json::value_t::string, path, pln, "a paragraph")
              .get_ref<const std::string&>();
      const auto starts = code_point_starts(context);
      const size_t n_chars = starts.size() - 1;
      const json& qas = member(para, "qas", json::value_t::array, path, pln, "a paragraph");
      for (const auto& qa : qas) {
        const size_t qln = json_line(qa, pln);
        if (!qa.is_object()) fail(where(path, qln), "each 'qas' item must be an object");
        QaExample ex;
        ex.line = qln;
        ex.title = title;
        ex.context = context;
        ex.id = id_of(qa, "id");
        if (ex.id.empty()) fail(where(path, qln), "question without an 'id'");
        if (!ids.insert(ex.id).second) {
          fail(where(path, qln), "question id '" + ex.id + "' appears twice",
               "ids identify predictions; make them unique");
        }
        ex.question = member(qa, "question", json::value_t::string, path, qln, "a question")
                          .get<std::string>();
        if (qa.contains("is_impossible") && qa["is_impossible"].is_boolean()) {
          ex.is_impossible = qa["is_impossible"].get<bool>();
        }
        const auto an = qa.find("answers");
        if (an != qa.end() && !an->is_null()) {
          if (!an->is_array()) fail(where(path, qln), "'answers' must be a list");
          size_t k = 0;
          for (const auto& a : *an) {
            ++k;
            const size_t ln = json_line(a, qln);
            if (!a.is_object()) fail(where(path, ln), "each answer must be an object");
            const std::string atext =
                member(a, "text", json::value_t::string, path, ln, "an answer").get<std::string>();
            const long long s =
                member(a, "answer_start", json::value_t::number_integer, path, ln, "an answer")
                    .get<long long>();
            const size_t len = code_point_count(atext);
            const std::string loc = where(path, ln);
            const auto bad = [&](const std::string& what) {
              if (!skip_bad) {
                fail(loc, "answer " + std::to_string(k) + " of question '" + ex.id + "' " + what,
                     "answer_start counts Unicode code points (Python str indices) from the start "
                     "of the context; set on_bad_answer: skip to drop such answers");
              }
              if (!skipped) skipped_line = ln;
              ++skipped;
            };
            if (s < 0 || static_cast<size_t>(s) + len > n_chars || len == 0) {
              bad("has answer_start " + std::to_string(s) + " and " + std::to_string(len) +
                  " characters, outside the context (" + std::to_string(n_chars) + " characters)");
              continue;
            }
            const uint32_t b = starts[static_cast<size_t>(s)];
            const uint32_t e = starts[static_cast<size_t>(s) + len];
            if (std::string_view(context).substr(b, e - b) != atext) {
              bad("does not match the context at answer_start " + std::to_string(s));
              continue;
            }
            ex.answers.push_back(QaAnswer{atext, static_cast<size_t>(s), ByteSpan{b, e}});
          }
        }
        if (o.labeled && ex.answers.empty() && !ex.is_impossible) {
          const bool had = an != qa.end() && an->is_array() && !an->empty();
          if (!had) {
            fail(where(path, qln), "question '" + ex.id + "' has no answer span",
                 "give 'answers' [{\"text\", \"answer_start\"}], or mark an unanswerable question "
                 "with \"is_impossible\": true (SQuAD v2)");
          }
          continue;  // every answer was skipped (reported above)
        }
        out.push_back(std::move(ex));
      }
    }
  }
  if (skipped) {
    log_warning(path + ": skipped " + std::to_string(skipped) +
                " answers that do not match their context (first on line " +
                std::to_string(skipped_line) + ")");
  }
  if (out.empty()) empty_file(path);
  return out;
}

}  // namespace clintorch::data

// clintorch fill-mask: text lines with [MASK] in, JSONL with the top-k tokens per mask out.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "infer/fill_mask.h"
#include "infer/inputs.h"
#include "util/error.h"

namespace clintorch::cli {
namespace {

struct FillMaskArgs {
  std::string model;
  std::string input = "-";
  std::string input_format = "auto";
  std::string output = "-";
  std::string device = "cpu";
  infer::FillMaskOptions options;
};

void append_string(std::string& out, const std::string& s) {
  out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void run_fill_mask(const FillMaskArgs& args) {
  const infer::InputFormat format = infer::parse_input_format(args.input_format, "--input-format");
  if (args.options.top_k == 0) throw UsageError("--top-k must be at least 1");
  if (args.options.batch_size == 0) throw UsageError("--batch-size must be at least 1");
  infer::FillMaskOptions options = args.options;
  options.device = device_option(args.device);
  const infer::FillMasker masker(args.model, options);
  infer::TextSource source(args.input, format);
  infer::TextOutput output(args.output);
  std::vector<infer::TextRecord> chunk;
  while (source.next_chunk(options.batch_size * 4, chunk)) {
    std::vector<std::string> texts, where;
    for (auto& r : chunk) {
      texts.push_back(std::move(r.text));
      where.push_back(r.where());
    }
    const auto results = masker.run(texts, where);
    std::string out;
    for (size_t i = 0; i < chunk.size(); ++i) {
      out += "{\"line\":" + std::to_string(chunk[i].line);
      if (!chunk[i].id.is_null()) out += ",\"id\":" + chunk[i].id.dump();
      out += ",\"masks\":[";
      const auto& masks = results[i].masks;
      for (size_t m = 0; m < masks.size(); ++m) {
        out += (m ? ",{\"position\":" : "{\"position\":") + std::to_string(masks[m].position) +
               ",\"predictions\":[";
        const auto& cands = masks[m].candidates;
        for (size_t c = 0; c < cands.size(); ++c) {
          out += c ? ",{\"token_id\":" : "{\"token_id\":";
          out += std::to_string(cands[c].token_id) + ",\"token_str\":";
          append_string(out, cands[c].token_str);
          out += ",\"score\":";
          infer::append_float(out, cands[c].score);
          out += ",\"sequence\":";
          append_string(out, cands[c].sequence);
          out += "}";
        }
        out += "]}";
      }
      out += "]}\n";
    }
    output.write(out);
  }
  output.close();
}

}  // namespace

void add_fill_mask(CLI::App& app) {
  auto args = std::make_shared<FillMaskArgs>();
  CLI::App* sub = app.add_subcommand(
      "fill-mask",
      "Predict the tokens behind [MASK]: text lines in, JSONL with the top-k tokens per mask out "
      "(as HF pipeline(\"fill-mask\"))");
  sub->add_option("--model", args->model,
                  "BertForMaskedLM folder or HF model id (ORG/NAME[@REV], from the HF cache)")
      ->required();
  sub->add_option("--top-k", args->options.top_k, "Candidates per mask (default 5)");
  sub->add_option("--input", args->input, "Input file, '-' = stdin (default)");
  sub->add_option("--input-format", args->input_format,
                  "auto (jsonl for *.jsonl, default), text (one text per line) or jsonl "
                  "({\"text\": ..., \"id\": ...} per line)");
  sub->add_option("--output", args->output, "JSONL output file, '-' = stdout (default)");
  sub->add_option("--batch-size", args->options.batch_size, "Texts per forward pass (default 32)");
  sub->add_option("--threads", args->options.threads, "Tokenizer threads (0 = all cores)");
  sub->add_option("--device", args->device, kDeviceHelp);
  sub->callback([args]() { run_fill_mask(*args); });
}

}  // namespace clintorch::cli

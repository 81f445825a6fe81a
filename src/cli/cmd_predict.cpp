// `clintorch predict --model DIR --input FILE --output FILE`: streamed prediction on raw text or
// JSONL, one JSON object per input line. See src/eval/predict.h and docs/inference.md "Evaluate,
// prediction and export".
#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/scoring.h"
#include "data/windows.h"
#include "eval/inference.h"
#include "eval/predict.h"
#include "model/autocast.h"
#include "util/error.h"

namespace clintorch::cli {

void add_predict(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "predict", "Predict on raw text or JSONL; writes JSONL (NER: character spans)");
  struct Args {
    std::string model;
    eval::PredictOptions predict;
    std::string device = "cpu";
    std::string dtype = "auto";
    ScoringArgs scoring;
  };
  auto a = std::make_shared<Args>();
  eval::PredictOptions& p = a->predict;
  sub->add_option("--model", a->model,
                  "Model directory (an export, a checkpoint or a trainer output_dir)")
      ->required();
  sub->add_option("--input", p.input, "Input file, one document per line ('-' = stdin)")
      ->required();
  sub->add_option("--output", p.output, "Output JSONL file ('-' = stdout)")->required();
  sub->add_option("--format", p.format,
                  "Input format: text, jsonl, or auto (jsonl for .jsonl/.json)")
      ->check(CLI::IsMember({"auto", "text", "jsonl"}))
      ->capture_default_str();
  sub->add_option("--batch-size", p.eval.batch_size, "Windows per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--threads", p.threads,
                  "Threads for the model (intra-op) and tokenisation (0 = all cores)")
      ->capture_default_str();
  sub->add_option("--max-seq-length", p.max_seq_length,
                  "Tokens per window (0 = min(512, the model's positions))")
      ->capture_default_str();
  sub->add_option("--doc-stride", p.doc_stride,
                  "Tokens shared by consecutive windows (0 = min(128, max-seq-length/4))")
      ->capture_default_str();
  sub->add_option("--chunk-lines", p.chunk_lines, "Lines read and predicted at a time")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_flag("--include-text", p.include_text,
                "NER: add each entity's text to the output (may copy PHI)");
  sub->add_option("--text-key", p.text_key, "JSONL key of the text")->capture_default_str();
  sub->add_option("--pair-key", p.pair_key, "JSONL key of the second text (classification)")
      ->capture_default_str();
  sub->add_option("--id-key", p.id_key, "JSONL key of the id")->capture_default_str();
  sub->add_option("--device", a->device, kDeviceHelp)->capture_default_str();
  sub->add_option("--dtype", a->dtype,
                  "auto (bf16 on a CPU with AVX512-BF16/AMX, else fp32), fp32 or bf16")
      ->capture_default_str();
  add_scoring_options(*sub, a->scoring, /*metrics=*/false);
  sub->callback([a, sub]() {
    capture_scoring(*sub, a->scoring);
    eval::PredictOptions o = a->predict;
    if (o.threads > 0) torch::set_num_threads(static_cast<int>(o.threads));
    o.eval.device = device_option(a->device);
    o.eval.autocast = model::inference_autocast(a->dtype, o.eval.device.type());
    eval::InferenceLoadOptions lo;
    lo.device = o.eval.device;
    eval::InferenceModel m = eval::load_inference_model(a->model, lo);
    apply_scoring(o.eval, m, a->scoring);
    const eval::PredictReport r = eval::predict_file(m, o);
    std::fprintf(stderr, "predicted %zu documents (%zu lines, %zu empty skipped) in %.1f s\n",
                 r.predicted, r.lines, r.skipped_empty, r.seconds);
  });
}

}  // namespace clintorch::cli

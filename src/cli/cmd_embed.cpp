// clintorch embed: text lines or JSONL in, one vector per text out (.npy float32 or JSONL).
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/text_io.h"
#include "infer/embed.h"
#include "infer/inputs.h"
#include "io/npy.h"
#include "model/autocast.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::cli {
namespace {

struct EmbedArgs {
  std::string model;
  std::string input = "-";
  std::string input_format = "auto";
  std::string output;
  std::string output_format = "auto";
  std::string pooling = "mean";
  int layer = -1;
  bool layer_given = false;
  int last_n_layers = 0;
  bool normalize = false;
  size_t max_seq_length = 0;
  size_t stride = 32;
  bool stride_given = false;
  size_t batch_size = 32;
  size_t threads = 0;
  std::string device = "cpu";
  std::string dtype = "auto";
};

void run_embed(const EmbedArgs& args) {
  const infer::InputFormat format = infer::parse_input_format(args.input_format, "--input-format");
  std::string out_format = args.output_format;
  if (out_format == "auto") {
    out_format = data::file_extension(args.output) == "npy" ? "npy" : "jsonl";
  }
  if (out_format != "npy" && out_format != "jsonl") {
    throw UsageError("--output-format: unknown format '" + args.output_format +
                     "' (use auto, npy or jsonl)");
  }
  if (out_format == "npy" && args.output == "-") {
    throw UsageError(
        "--output -: .npy needs a file (its header is written last); use "
        "--output-format jsonl for stdout");
  }
  if (args.batch_size == 0) throw UsageError("--batch-size must be at least 1");
  if (args.threads > 0) torch::set_num_threads(static_cast<int>(args.threads));

  infer::EmbedOptions o;
  o.pooling = infer::parse_pooling(args.pooling);
  if (args.layer_given) o.layer = args.layer;
  o.last_n_layers = args.last_n_layers;
  o.normalize = args.normalize;
  o.max_seq_length = args.max_seq_length;
  if (args.stride_given) o.stride = args.stride;
  o.batch_size = args.batch_size;
  o.threads = args.threads;
  o.device = device_option(args.device);
  o.autocast = model::inference_autocast(args.dtype, o.device.type());
  const infer::Embedder embedder(args.model, o);
  const int64_t dim = embedder.dim();

  infer::TextSource source(args.input, format);
  std::unique_ptr<io::NpyWriter> npy;
  std::unique_ptr<infer::TextOutput> jsonl;
  if (out_format == "npy") {
    npy = std::make_unique<io::NpyWriter>(args.output, dim);
  } else {
    jsonl = std::make_unique<infer::TextOutput>(args.output);
  }
  size_t texts = 0;
  std::vector<infer::TextRecord> chunk;
  // Chunks of many batches: windows are sorted by length inside a chunk (less padding), and
  // memory stays flat whatever the input size.
  while (source.next_chunk(args.batch_size * 16, chunk)) {
    std::vector<std::string> batch;
    batch.reserve(chunk.size());
    for (auto& r : chunk) batch.push_back(std::move(r.text));
    const std::vector<float> rows = embedder.embed(batch);
    texts += chunk.size();
    if (npy) {
      npy->append(rows.data(), chunk.size());
      continue;
    }
    std::string out;
    for (size_t i = 0; i < chunk.size(); ++i) {
      out += "{\"line\":" + std::to_string(chunk[i].line);
      if (!chunk[i].id.is_null()) out += ",\"id\":" + chunk[i].id.dump();
      out += ",\"embedding\":[";
      for (int64_t d = 0; d < dim; ++d) {
        if (d) out += ',';
        infer::append_float(out, rows[i * static_cast<size_t>(dim) + static_cast<size_t>(d)]);
      }
      out += "]}\n";
    }
    jsonl->write(out);
  }
  if (npy) npy->finish();
  if (jsonl) jsonl->close();
  log_info("embed: " + std::to_string(texts) + " text(s) -> " +
           (args.output == "-" ? std::string("stdout") : args.output) + " (" + std::to_string(dim) +
           " dims, windows of " + std::to_string(embedder.max_seq_length()) + " tokens)");
}

}  // namespace

void add_embed(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* sub = app.add_subcommand(
      "embed",
      "Embed texts: text lines or JSONL in, one pooled vector per text out (.npy or JSONL)");
  sub->add_option("--model", args->model,
                  "BERT model folder or HF model id (ORG/NAME[@REV], from the HF cache)")
      ->required();
  sub->add_option("--output", args->output,
                  "FILE.npy (float32, N x D) or FILE.jsonl ({\"line\", \"id\", \"embedding\"}); "
                  "'-' = JSONL on stdout")
      ->required();
  sub->add_option("--output-format", args->output_format, "auto (by extension), npy or jsonl");
  sub->add_option("--input", args->input, "Input file, '-' = stdin (default)");
  sub->add_option("--input-format", args->input_format,
                  "auto (jsonl for *.jsonl, default), text (one text per line) or jsonl "
                  "({\"text\": ..., \"id\": ...} per line)");
  sub->add_option("--pooling", args->pooling,
                  "cls, mean (over real tokens, default; sentence-transformers' mean) or max");
  CLI::Option* layer = sub->add_option(
      "--layer", args->layer,
      "Hidden state to pool: 0 = embeddings .. num_layers = last; -1 = last (default)");
  sub->add_option("--last-n-layers", args->last_n_layers,
                  "Average the last N hidden states before pooling");
  sub->add_flag("--normalize", args->normalize, "L2-normalise each vector");
  sub->add_option("--max-seq-length", args->max_seq_length,
                  "Window length in tokens (default: sentence_bert_config.json, else the "
                  "tokenizer's model_max_length); longer texts are windowed and averaged");
  CLI::Option* stride = sub->add_option(
      "--stride", args->stride, "Tokens shared by consecutive windows of a long text (default 32)");
  sub->add_option("--batch-size", args->batch_size, "Windows per forward pass (default 32)");
  sub->add_option("--threads", args->threads,
                  "Threads for the model and the tokenizer (0 = LibTorch's default, all cores)");
  sub->add_option("--device", args->device, kDeviceHelp);
  sub->add_option("--dtype", args->dtype,
                  "auto (bf16 on a CPU with AVX512-BF16/AMX, else fp32), fp32 or bf16")
      ->capture_default_str();
  sub->callback([args, layer, stride]() {
    args->layer_given = layer->count() > 0;
    args->stride_given = stride->count() > 0;
    run_embed(*args);
  });
}

}  // namespace clintorch::cli

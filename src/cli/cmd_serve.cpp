// `clintorch serve --model [NAME=]DIR ...`: the HTTP inference server (serve/server.h).
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "serve/server.h"

namespace clintorch::cli {

void add_serve(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "serve", "Serve models over HTTP/JSON with dynamic batching (predict, embed, metrics)");
  struct Args {
    std::vector<std::string> models;
    serve::ServeOptions o;
    size_t threads = 0;
    bool no_access_log = false;
  };
  auto a = std::make_shared<Args>();
  serve::ServeOptions& o = a->o;
  sub->add_option("--model", a->models,
                  "[NAME=]DIR: an export, checkpoint or trainer output (repeatable; the one "
                  "without a name is 'default')")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  sub->add_option("--port", o.port, "Port (0: any free one, logged)")->capture_default_str();
  sub->add_option("--threads", a->threads, "Intra-op threads of the models (0 = all cores)")
      ->capture_default_str();
  sub->add_option("--http-threads", o.http_threads, "Threads reading and tokenising requests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-batch-tokens", o.model.max_batch_tokens,
                  "Tokens per forward batch across requests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-wait-ms", o.model.max_wait_ms,
                  "Longest wait for more requests after the first of a batch")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--max-queue", o.model.max_queue,
                  "Documents waiting per model before requests get 503")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-body-bytes", o.max_body_bytes, "Largest request body (413 beyond)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-text-bytes", o.model.max_text_bytes,
                  "Bytes of text per request (413 beyond)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--read-timeout", o.read_timeout_s, "Seconds a client may take to send")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--api-key-file", o.api_key_file,
                  "File with the key requests send as 'Authorization: Bearer KEY'");
  sub->add_option("--dtype", o.model.dtype,
                  "auto (bf16 on a CPU with AVX512-BF16/AMX, else fp32), fp32 or bf16")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  sub->add_option("--device", o.model.device, kDeviceHelp)->capture_default_str();
  sub->add_option("--pooling", o.model.pooling, "Embeddings: cls, mean or max")
      ->check(CLI::IsMember({"cls", "mean", "max"}))
      ->capture_default_str();
  sub->add_flag("--no-access-log", a->no_access_log, "No line per request on stderr");
  sub->callback([a]() {
    serve::ServeOptions opts = a->o;
    opts.access_log = !a->no_access_log;
    for (const std::string& m : a->models) {
      const size_t eq = m.find('=');
      if (eq != std::string::npos && eq > 0 && m.find('/') > eq) {
        opts.models.emplace_back(m.substr(0, eq), m.substr(eq + 1));
      } else {
        opts.models.emplace_back("default", m);
      }
    }
    if (a->threads > 0) torch::set_num_threads(static_cast<int>(a->threads));
    const int code = serve::serve(opts);
    if (code != 0) std::exit(code);
  });
}

}  // namespace clintorch::cli

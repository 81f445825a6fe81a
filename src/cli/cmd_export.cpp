// `clintorch export --checkpoint DIR --out DIR`: a trainer checkpoint (or the best / newest one of
// a trainer output_dir) as a HuggingFace model directory. See docs/inference.md "Evaluate, predict,
// export".
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "eval/inference.h"

namespace clintorch::cli {

void add_export(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("export", "Export a checkpoint as a HuggingFace model directory");
  struct Args {
    std::string checkpoint;
    std::string out;
    std::string head;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("--checkpoint", args->checkpoint,
                  "A checkpoint (OUTPUT_DIR/checkpoint-N), a trainer output_dir (its best, else "
                  "newest checkpoint) or a model directory")
      ->required();
  sub->add_option("--out", args->out, "Folder to write (config.json, model.safetensors, tokenizer)")
      ->required();
  sub->add_option("--head", args->head,
                  "Task head to load the checkpoint as (default: the one config.json names)");
  sub->callback([args]() {
    const std::string src = eval::export_checkpoint(args->checkpoint, args->out, args->head);
    std::fprintf(stderr, "exported %s -> %s\n", src.c_str(), args->out.c_str());
  });
}

}  // namespace clintorch::cli

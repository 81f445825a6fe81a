// Subcommands whose implementation lands with later issues. Each moves to its own
// cmd_<name>.cpp when it is implemented.
#include "cli/commands.h"

namespace clintorch::cli {

void add_evaluate(CLI::App& app) {
  add_placeholder(app, "evaluate", "Evaluate a model on a dataset and write metrics", 8);
}
void add_predict(CLI::App& app) {
  add_placeholder(app, "predict", "Predict on raw text or JSONL; writes JSONL with spans", 8);
}
void add_export(CLI::App& app) {
  add_placeholder(app, "export", "Export a checkpoint as a HuggingFace model directory", 8);
}

}  // namespace clintorch::cli

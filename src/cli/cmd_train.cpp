// `clintorch train RECIPE [--set section.key=value ...] [--dump-config]`: checks the recipe, its
// files and data, then runs the training (train/trainer.h). Exit codes: 0 done, 1 bad input or a
// failure, 2 bad usage, 130/143 after SIGINT/SIGTERM (a checkpoint was written first).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "train/distributed.h"
#include "train/recipe.h"
#include "train/trainer.h"
#include "util/error.h"

namespace clintorch::cli {

void add_train(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("train", "Train from a YAML recipe (MLM pretraining or fine-tuning)");
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    bool dump = false;
    int64_t stop_after_steps = 0;
    std::string dump_batches;
    std::string dump_weights;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("recipe", args->recipe, "The YAML recipe")->required();
  sub->add_option("--set", args->overrides,
                  "Override a key: section.key=value (typed as YAML); repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_flag("--dump-config", args->dump,
                "Print the merged recipe as YAML and exit (checks the keys, not the files)");
  // Test and debug aids (docs/training.md): hidden from --help.
  sub->add_option("--stop-after-steps", args->stop_after_steps,
                  "Stop as after SIGTERM (checkpoint, no export) after N optimizer steps; exit 0")
      ->check(CLI::NonNegativeNumber)
      ->group("");
  sub->add_option("--dump-batches", args->dump_batches,
                  "Write every training micro-batch as DIR/step<S>_micro<M>.safetensors")
      ->group("");
  sub->add_option("--dump-weights", args->dump_weights,
                  "Write this process's final parameters as DIR/rank<R>.safetensors")
      ->group("");
  sub->callback([args]() {
    const train::Recipe recipe = train::load_recipe(args->recipe, args->overrides);
    if (args->dump) {
      std::printf("%s", train::dump_recipe(recipe).c_str());
      return;
    }
    train::TrainOptions options;
    // Launched by torchrun or srun: join the process group (docs/training.md "Several processes and
    // machines"); otherwise one process.
    const train::LaunchEnv env = train::launch_env_from_environment();
    if (env.distributed()) {
      options.process_group =
          train::ProcessGroup::create(env, std::chrono::seconds(recipe.distributed.timeout_s));
    }
    options.stop_after_steps = args->stop_after_steps;
    options.dump_batches_dir = args->dump_batches;
    options.dump_weights_dir = args->dump_weights;
    const train::TrainResult result = train::run_training(recipe, options);
    if (result.exit_code != 0) {
      std::fflush(stdout);
      std::fflush(stderr);
      std::exit(result.exit_code);
    }
  });
}

}  // namespace clintorch::cli

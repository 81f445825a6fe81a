// `clintorch train RECIPE [--set section.key=value ...] [--dump-config]`. The options and the
// recipe checks are in place; the training loop lands with issue #7.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "train/recipe.h"
#include "train/recipe_check.h"
#include "util/error.h"

namespace clintorch::cli {

void add_train(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("train", "Train from a YAML recipe (MLM pretraining or fine-tuning)");
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    bool dump = false;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("recipe", args->recipe, "The YAML recipe")->required();
  sub->add_option("--set", args->overrides,
                  "Override a key: section.key=value (typed as YAML); repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_flag("--dump-config", args->dump,
                "Print the merged recipe as YAML and exit (checks the keys, not the files)");
  sub->callback([args]() {
    const train::Recipe recipe = train::load_recipe(args->recipe, args->overrides);
    if (args->dump) {
      std::printf("%s", train::dump_recipe(recipe).c_str());
      return;
    }
    // Everything is checked before anything is written to output_dir.
    train::check_recipe_files(recipe);
    train::check_output_dir(recipe);
    throw UsageError(
        "'train': the recipe is valid, but the training loop is not implemented yet "
        "(tracked in issue #7)");
  });
}

}  // namespace clintorch::cli

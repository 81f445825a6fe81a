// `clintorch validate RECIPE [--set section.key=value ...] [--dump-config]`: loads a recipe with
// its bases and overrides, checks every key, the rules between keys and the files it names, and
// reads the data files through the same readers as `train` (so a file `train` cannot read fails
// here with the same FILE:LINE error), without training or writing anything. `--list-keys`
// prints the key reference (Markdown).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "train/recipe.h"
#include "train/recipe_check.h"
#include "train/setup.h"
#include "util/error.h"

namespace clintorch::cli {

void add_validate(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("validate", "Check a recipe, its files and labels without training");
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    bool dump = false;
    bool list_keys = false;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("recipe", args->recipe, "The YAML recipe");
  sub->add_option("--set", args->overrides,
                  "Override a key: section.key=value (typed as YAML), e.g. "
                  "training.learning_rate=3e-5; repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_flag("--dump-config", args->dump, "Print the merged recipe as YAML (after the checks)");
  sub->add_flag("--list-keys", args->list_keys, "Print every recipe key as Markdown tables");
  sub->callback([args]() {
    if (args->list_keys) {
      std::printf("%s", train::recipe_keys_markdown().c_str());
      return;
    }
    if (args->recipe.empty()) throw UsageError("validate: a RECIPE file is required");
    const train::Recipe recipe = train::load_recipe(args->recipe, args->overrides);
    const train::RecipeCheck check = train::check_recipe_files(recipe);
    for (const auto& w : check.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (args->dump) {
      std::printf("%s", train::dump_recipe(recipe).c_str());
      return;
    }
    train::SetupOptions so;
    so.model = false;
    so.cache = false;
    const train::RunSetup data = train::setup_run(recipe, check, so);
    auto size_of = [](const std::shared_ptr<data::Dataset>& d) {
      return d ? " (" + std::to_string(d->size()) + " features)" : std::string();
    };
    const auto& m = check.model;
    std::printf("%s: ok\n", args->recipe.c_str());
    std::printf("  task:   %s\n", data::task_name(recipe.task_id()).c_str());
    std::printf("  model:  %s (%s, %lld layers, hidden %lld, max_position_embeddings %lld)\n",
                m.dir.empty() ? m.config_path.c_str() : m.dir.c_str(),
                m.model_type.empty() ? "?" : m.model_type.c_str(),
                static_cast<long long>(m.num_hidden_layers), static_cast<long long>(m.hidden_size),
                static_cast<long long>(m.max_position_embeddings));
    std::printf("  train:  %s%s\n", recipe.data.train_file.c_str(), size_of(data.train).c_str());
    if (!recipe.data.validation_file.empty()) {
      std::printf("  eval:   %s%s\n", recipe.data.validation_file.c_str(),
                  size_of(data.validation).c_str());
    }
    if (!recipe.data.test_file.empty()) {
      std::printf("  test:   %s%s\n", recipe.data.test_file.c_str(), size_of(data.test).c_str());
    }
    std::printf("  output: %s\n", recipe.output.output_dir.c_str());
  });
}

}  // namespace clintorch::cli

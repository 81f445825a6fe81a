// libFuzzer target over the recipe loader: YAML text through load_recipe_from_string (parse, every
// key typed and checked, the rules between keys), then dump_recipe and a reload of the dump, which
// must load again (dump_recipe promises round-trip text).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "train/recipe.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  const std::string& dir = clintorch::fuzz::work_dir();
  clintorch::train::Recipe recipe;
  try {
    recipe = clintorch::train::load_recipe_from_string(yaml, "fuzz.yaml", dir);
  } catch (const clintorch::Error&) {
    return 0;
  }
  const std::string dumped = clintorch::train::dump_recipe(recipe);
  try {
    clintorch::train::load_recipe_from_string(dumped, "dump.yaml", dir);
  } catch (const clintorch::Error& e) {
    std::fprintf(stderr, "a dumped recipe does not load again: %s\n", e.what());
    std::abort();
  }
  return 0;
}

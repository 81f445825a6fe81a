// Internal to the recipe code (recipe.cpp, recipe_rules.cpp): the checks that read the key
// declarations themselves.
#pragma once

#include "train/recipe.h"

namespace clintorch::train {

// Required keys are set, and keys bound to some tasks (`.tasks(...)`) are set only for those.
void check_declared_keys(const Recipe& recipe);

}  // namespace clintorch::train

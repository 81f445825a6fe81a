#!/usr/bin/env bash
# The main job on embedded defaults. Until the training loop lands (issue #7) this is the CLI's
# self-check and the validation of recipes/quickstart.yaml; afterwards it trains that recipe.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BUILD_DIR:-build}/clintorch
"$bin" --version
"$bin" selfcheck
"$bin" validate recipes/quickstart.yaml

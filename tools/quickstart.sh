#!/usr/bin/env bash
# The main job on embedded defaults. Until the trainer lands (issue #7) this is the CLI's
# self-check; afterwards it runs recipes/quickstart.yaml.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BUILD_DIR:-build}/clintorch
"$bin" --version
"$bin" selfcheck

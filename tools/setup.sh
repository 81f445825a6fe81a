#!/usr/bin/env bash
# One idempotent set-up for `make quickstart` and `make test`:
#   1. Debian packages (installed when root, else the exact apt-get line is printed),
#   2. the project-local Python venv (.venv/) from requirements.txt (skipped when unchanged),
#   3. CMake configure (once) and an incremental build.
# Nothing is downloaded except through apt and pip.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

BUILD_DIR=${BUILD_DIR:-build}
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

say() { printf '[setup] %s\n' "$*"; }

# ---------------------------------------------------------------- 1. Debian packages
apt_pkgs=(build-essential cmake pkg-config git ccache
  libyaml-cpp-dev libgtest-dev
  libutf8proc-dev nlohmann-json3-dev libcli11-dev libgloo-dev libcpp-httplib-dev)
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_pkgs+=(python3-venv)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    $line
  else
    say "missing Debian packages: ${missing[*]}"
    say "run as root, then re-run this command:"
    printf '\n    sudo apt-get update && sudo %s\n\n' "$line"
    exit 1
  fi
else
  say "Debian packages: all present"
fi

# ---------------------------------------------------------------- 2. Python venv
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating virtualenv $VENV ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv "$VENV"
fi
req_sum=$(sha256sum requirements.txt | cut -d' ' -f1)
stamp="$VENV/.clintorch-requirements.sha256"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$req_sum" ]]; then
  say "installing pinned Python packages into $VENV (torch wheel with LibTorch, HF references):"
  grep -vE '^\s*(#|$)' requirements.txt | sed 's/^/[setup]   /'
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$req_sum" >"$stamp"
else
  say "Python packages: up to date ($VENV)"
fi

# ---------------------------------------------------------------- 3. configure + build
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  say "configuring CMake in $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCLINTORCH_PYTHON="$root/$VENV/bin/python" \
    ${CMAKE_ARGS:-}
fi
say "building ($JOBS jobs)"
cmake --build "$BUILD_DIR" -j "$JOBS"
say "done: $BUILD_DIR/clintorch"

"""The installable library (issue 16): `cmake --install` of this build into a temporary prefix,
then examples/ (a C++ program that loads a model and predicts through the library) configured with
find_package(clintorch) against that prefix, built, and run; its predictions equal `clintorch
predict`'s. Also a parent project that takes clintorch with add_subdirectory and links one layer."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, clintorch_bin, minilm_dir, run_cli  # noqa: F401 (fixtures)
from train_util import write_tiny_ner_model

TEXTS = ["Patient denies chest pain .", "White blood cell count elevated ."]


def sh(*args, cwd=None, timeout=900):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}:\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


def test_installed_package_builds_and_runs_the_example(clintorch_bin, minilm_dir, tmp_path):
    build_dir = Path(clintorch_bin).parent
    prefix = tmp_path / "prefix"
    sh("cmake", "--install", build_dir, "--prefix", prefix)
    assert (prefix / "lib" / "cmake" / "clintorch" / "clintorchConfig.cmake").is_file()
    assert (prefix / "include" / "clintorch" / "eval" / "predict.h").is_file()
    assert sh(prefix / "bin" / "clintorch", "--version").stdout.startswith("clintorch ")

    ex = tmp_path / "example"
    sh("cmake", "-S", SOURCE_DIR / "examples", "-B", ex, f"-DCMAKE_PREFIX_PATH={prefix}",
       "-DCMAKE_BUILD_TYPE=Release")
    sh("cmake", "--build", ex, "-j", "2")
    model = tmp_path / "model"
    write_tiny_ner_model(model, minilm_dir)
    ours = sh(ex / "predict_example", model, *TEXTS).stdout.splitlines()

    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    run_cli(clintorch_bin, "predict", "--model", model, "--input", tmp_path / "in.txt",
            "--output", tmp_path / "out.jsonl", "--dtype", "fp32", check=True)
    cli = (tmp_path / "out.jsonl").read_text().splitlines()
    a = [json.loads(l) for l in ours]
    b = [json.loads(l) for l in cli]
    assert [r["line"] for r in a] == [1, 2]
    for x, y in zip(a, b):
        assert [(e["start"], e["end"], e["label"]) for e in x["entities"]] == \
            [(e["start"], e["end"], e["label"]) for e in y["entities"]]


def test_add_subdirectory_from_a_parent_project(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "CMakeLists.txt").write_text(f"""cmake_minimum_required(VERSION 3.25)
project(parent LANGUAGES CXX)
add_subdirectory("{SOURCE_DIR}" clintorch)
add_executable(app main.cpp)
target_link_libraries(app PRIVATE clintorch::util)
""")
    (parent / "main.cpp").write_text("""#include "util/strings.h"
#include <iostream>
int main() { std::cout << clintorch::join({"clin", "torch"}, "") << "\\n"; }
""")
    b = tmp_path / "b"
    cfg = sh("cmake", "-S", parent, "-B", b, "-DCMAKE_BUILD_TYPE=Release")
    # Tests, benchmarks and install rules are the top-level project's only.
    cache = (b / "CMakeCache.txt").read_text()
    assert "CLINTORCH_BUILD_TESTS:BOOL=OFF" in cache, cfg.stdout[-2000:]
    sh("cmake", "--build", b, "--target", "app", "-j", "2")
    assert sh(b / "app").stdout.strip() == "clintorch"

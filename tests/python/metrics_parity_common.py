"""Shared helpers of the metric parity tests (test_metrics_*.py): they run our C++ metrics through
the test driver tests/tools/metrics_tool.cpp (one JSON case per line in, one result per line out)
and compare every number with a reference implementation.

Numbers must agree to within 1e-12 (relative to the value for percentages); the largest difference
seen is printed with the counts, so a run shows how close "equal" was.
"""
import json
import math
import os
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("CLINTORCH_SOURCE_DIR", Path(__file__).resolve().parents[2]))
TOL = 1e-12
MIN_CASES = 1000  # randomised cases per metric family (issue #8, "Done when")


@pytest.fixture(scope="module")
def tool():
    path = os.environ.get("CLINTORCH_METRICS_TOOL",
                          str(SOURCE_DIR / "build" / "tests" / "clintorch_metrics_tool"))
    if not Path(path).exists():
        pytest.fail(f"metrics test driver not found at {path}; build first (make test does)")
    return path


def run_tool(tool_path, cases):
    """Runs the driver over all cases; returns one dict per case ({"result"} or {"error"})."""
    text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    proc = subprocess.run([tool_path], input=text.encode("utf-8"), capture_output=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    # split on "\n" only: str.splitlines() would also split inside strings at U+2028, U+0085...
    lines = proc.stdout.decode("utf-8").split("\n")[:-1]
    assert len(lines) == len(cases), f"{len(lines)} results for {len(cases)} cases"
    return [json.loads(line) for line in lines]


def _isnan(x):
    return isinstance(x, float) and math.isnan(x)


class Mismatches:
    """Collects differences so a failure lists the first few with the case that produced them."""

    def __init__(self):
        self.items = []
        self.compared = 0
        self.max_diff = 0.0

    def check(self, ok, what, case):
        self.compared += 1
        if not ok:
            self.items.append((what, case))

    def number(self, ours, ref, what, case, relative=False):
        """ours: a number or None (our JSON for NaN); ref: a number, possibly NaN or None."""
        self.compared += 1
        ref_nan = ref is None or _isnan(float(ref))
        if ours is None or ref_nan:
            if not (ours is None and ref_nan):
                self.items.append((f"{what}: ours {ours} ref {ref}", case))
            return
        diff = abs(float(ours) - float(ref))
        if relative:
            diff /= max(1.0, abs(float(ref)))
        self.max_diff = max(self.max_diff, diff)
        if diff > TOL:
            self.items.append((f"{what}: ours {ours!r} ref {float(ref)!r}", case))

    def assert_none(self, family, n_cases, n_random=None):
        print(f"\n{family}: {n_cases} cases, {self.compared} values compared, "
              f"{len(self.items)} mismatches, max |diff| {self.max_diff:.3g}")
        if self.items:
            shown = "\n".join(f"- {w}\n  case: {json.dumps(c, ensure_ascii=False)[:600]}"
                              for w, c in self.items[:8])
            pytest.fail(f"{family}: {len(self.items)} mismatches, first ones:\n{shown}")
        if n_random is not None:
            assert n_random >= MIN_CASES


def compare_scores(m, ours, ref, name, case, keys=("precision", "recall", "f1")):
    """ours: our {"precision","recall","f1","support"}; ref: a seqeval/sklearn report row."""
    ref_keys = {"precision": "precision", "recall": "recall", "f1": "f1-score"}
    for k in keys:
        m.number(ours[k], ref[ref_keys[k]], f"{name}.{k}", case)
    if ref.get("support") is not None:
        m.check(int(ours["support"]) == int(ref["support"]),
                f"{name}.support: ours {ours['support']} ref {ref['support']}", case)

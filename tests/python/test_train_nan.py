"""A diverging run (issue 14, numerics): training.nan_policy stop ends the run at the first
non-finite loss or gradient norm with a diagnostic naming the step and the first non-finite
gradient; skip skips such steps, counts them in metrics.jsonl and stops after nan_skip_limit in a
row. Either way no checkpoint holds a non-finite weight and no non-finite evaluation is the best.

The divergence: AdamW with a learning rate of 1e30 moves every weight by ~1e30 in one step, so the
next forward pass overflows."""
import json

import numpy as np
from safetensors.numpy import load_file

from conftest import run_cli
from train_util import ner_recipe, write_recipe

def diverging(tmp_path, minilm_dir, name, **training):
    return write_recipe(tmp_path / f"{name}.yaml", ner_recipe(
        minilm_dir, tmp_path / name, validation=True,
        evaluation={"eval_strategy": "steps", "eval_steps": 1, "save_strategy": "steps",
                    "save_steps": 1, "metric_for_best_model": "loss"},
        **{"learning_rate": 1e30, "max_steps": 12, "warmup_ratio": 0.0, "seed": 1, "threads": 1,
           **training}))


def assert_checkpoints_finite(out):
    checkpoints = sorted(out.glob("checkpoint-*"))
    assert checkpoints, "no checkpoint was written before the divergence"
    for c in checkpoints:
        for name, t in load_file(c / "model.safetensors").items():
            assert np.isfinite(t).all(), f"{c.name}: {name}"
        state = json.loads((c / "trainer_state.json").read_text())
        best = state.get("best_metric")
        assert best is None or np.isfinite(best)


def test_stop_names_the_step_and_the_gradient(clintorch_bin, minilm_dir, tmp_path):
    proc = run_cli(clintorch_bin, "train", diverging(tmp_path, minilm_dir, "stop"))
    assert proc.returncode != 0
    err = proc.stderr
    assert "training.nan_policy" in err and "first non-finite gradient" in err, err[-2000:]
    assert "the weights were not updated" in err
    assert_checkpoints_finite(tmp_path / "stop")


def test_skip_counts_and_stops_after_the_limit(clintorch_bin, minilm_dir, tmp_path):
    path = diverging(tmp_path, minilm_dir, "skip", nan_policy="skip", nan_skip_limit=3)
    proc = run_cli(clintorch_bin, "train", path)
    assert proc.returncode != 0
    assert "3 steps in a row" in proc.stderr and "nan_skip_limit" in proc.stderr, proc.stderr
    assert proc.stderr.count("step skipped") == 3
    out = tmp_path / "skip"
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    skipped = [r["nonfinite_skipped"] for r in records if r["split"] == "train"]
    assert skipped[0] == 0 and skipped[-1] == 2 and skipped == sorted(skipped)
    assert_checkpoints_finite(out)

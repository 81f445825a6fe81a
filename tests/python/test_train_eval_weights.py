"""Evaluation during training scores the weights of that step. Inference runs the projections as
oneDNN GEMMs on packed copies of the weights (model/packed_linear.h), repacked when a weight's
version counter changes; the fused AdamW kernel does not bump it on its own (the optimizer does),
and a stale copy would score every later evaluation with the first one's weights. So the last
in-training evaluation must equal `clintorch evaluate` of the final export on the same file."""
import json

import pytest

from conftest import SOURCE_DIR, run_cli
from train_util import write_recipe

NER_DIR = SOURCE_DIR / "datasets" / "ner_clinical_sample"


def test_last_evaluation_scores_the_final_weights(clintorch_bin, minilm_dir, tmp_path):
    out = tmp_path / "out"
    path = write_recipe(tmp_path / "ner.yaml", {
        "model": {"pretrained": str(minilm_dir)},
        "tokenizer": {"max_seq_length": 64},
        "task": {"name": "token_classification"},
        "data": {"train_file": str(NER_DIR / "train.conll"),
                 "validation_file": str(NER_DIR / "dev.conll")},
        "training": {"learning_rate": 3e-4, "per_device_train_batch_size": 8, "max_steps": 20,
                     "device": "cpu", "seed": 3, "threads": 2},
        "evaluation": {"eval_strategy": "steps", "eval_steps": 10, "save_strategy": "no"},
        "output": {"output_dir": str(out)},
        "logging": {"tensorboard": False, "progress_bar": "never"},
    })
    proc = run_cli(clintorch_bin, "train", path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["split"] == "eval"]
    assert [r["step"] for r in evals] == [10, 20]
    scored = tmp_path / "final.json"
    proc = run_cli(clintorch_bin, "evaluate", "--model", out / "export", "--data",
                   NER_DIR / "dev.conll", "--output", scored)
    assert proc.returncode == 0, proc.stderr
    final = json.loads(scored.read_text())["scalars"]
    # The two evaluations differ (training moved the weights), and the last is the export's.
    assert evals[0]["eval_loss"] != pytest.approx(evals[1]["eval_loss"], rel=1e-3)
    assert evals[1]["eval_loss"] == pytest.approx(final["loss"], rel=1e-5)
    assert evals[1]["eval_f1"] == pytest.approx(final["f1"], abs=1e-9)

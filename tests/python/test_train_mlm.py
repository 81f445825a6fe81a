"""Continued MLM pretraining of the real all-MiniLM-L6-v2 checkpoint on the synthetic notes in
datasets/mlm_clinical_sample (recipes/mlm_minilm.yaml, shortened): the loss on the held-out 10%
(validation_split_percentage) falls between the evaluation before the first step
(eval_on_start) and the one after the last step."""
import json

from conftest import SOURCE_DIR, clintorch_bin  # noqa: F401 (fixtures)
from train_util import metrics, train


def test_mlm_held_out_loss_decreases(clintorch_bin, tmp_path):
    out = tmp_path / "mlm"
    proc = train(clintorch_bin, SOURCE_DIR / "recipes" / "mlm_minilm.yaml",
                 "--set", f"output.output_dir={out}",
                 "--set", "tokenizer.max_seq_length=64",
                 "--set", "training.max_steps=10",
                 "--set", "training.learning_rate=1e-4",
                 "--set", "training.per_device_train_batch_size=8",
                 "--set", "training.device=cpu",
                 "--set", "evaluation.eval_strategy=steps",
                 "--set", "evaluation.eval_steps=10",
                 "--set", "evaluation.eval_on_start=true",
                 "--set", "evaluation.save_strategy=no",
                 "--set", "logging.progress_bar=never")
    evals = metrics(out, "eval")
    assert [e["step"] for e in evals] == [0, 10], proc.stderr
    before, after = evals[0]["eval_loss"], evals[-1]["eval_loss"]
    assert after < before - 0.5, (before, after)
    assert evals[-1]["eval_perplexity"] < evals[0]["eval_perplexity"]
    # The export is a BertForMaskedLM folder.
    config = json.loads((out / "export" / "config.json").read_text())
    assert config["architectures"] == ["BertForMaskedLM"]

"""Bitwise resume: on the CPU in deterministic mode, with dropout ON and gradient accumulation, a
run interrupted after k optimizer steps (the checkpoint the trainer writes on SIGTERM, here
triggered by --stop-after-steps) and resumed with resume_from_checkpoint: last ends with
parameters bitwise equal to the uninterrupted run's, and logs the same losses. Interruptions in
the middle of an epoch and at an epoch boundary are both covered."""
import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import clintorch_bin, minilm_dir  # noqa: F401 (fixtures)
from train_util import metrics, ner_recipe, train, write_recipe
from train_util import model_dir  # noqa: F401 (fixture)

STEPS = 12


def recipe(model_dir, out):
    # 160 sentences, batch 8: 20 micro-batches = 10 optimizer steps per epoch with accumulation 2,
    # so 12 steps cross an epoch boundary.
    r = ner_recipe(model_dir, out, max_steps=STEPS, gradient_accumulation_steps=2,
                   per_device_train_batch_size=8, warmup_steps=2, weight_decay=0.01,
                   deterministic=True, threads=1)
    return r


@pytest.fixture(scope="module")
def uninterrupted(clintorch_bin, model_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    out = tmp / "run"
    train(clintorch_bin, write_recipe(tmp / "r.yaml", recipe(model_dir, out)))
    return out


@pytest.mark.parametrize("stop_at", [5, 10])
def test_resumed_run_is_bitwise_equal(clintorch_bin, model_dir, uninterrupted, tmp_path, stop_at):
    out = tmp_path / "run"
    r = recipe(model_dir, out)
    path = write_recipe(tmp_path / "r.yaml", r)
    first = train(clintorch_bin, path, "--stop-after-steps", stop_at)
    ckpt = out / f"checkpoint-{stop_at}"
    assert ckpt.is_dir(), first.stderr
    assert not (out / "export").exists()
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["global_step"] == stop_at
    assert (ckpt / "optimizer.safetensors").is_file() and (ckpt / "rng_state.safetensors").is_file()
    assert (ckpt / "config.json").is_file() and (ckpt / "vocab.txt").is_file()

    r["training"]["resume_from_checkpoint"] = "last"
    train(clintorch_bin, write_recipe(tmp_path / "resume.yaml", r))

    full = load_file(uninterrupted / "export" / "model.safetensors")
    resumed = load_file(out / "export" / "model.safetensors")
    assert full.keys() == resumed.keys()
    for name in full:
        assert torch.equal(full[name], resumed[name]), f"{name} differs after resuming"
    assert (uninterrupted / "export" / "model.safetensors").read_bytes() == \
        (out / "export" / "model.safetensors").read_bytes()
    # The logged losses of the resumed part equal the uninterrupted run's (metrics.jsonl is
    # appended by the resumed run).
    a = [(m["step"], m["loss"]) for m in metrics(uninterrupted)]
    b = [(m["step"], m["loss"]) for m in metrics(out)]
    assert b == a


def test_dropout_is_on(clintorch_bin, model_dir, uninterrupted, tmp_path):
    # Guards the test above: the same run without dropout ends elsewhere, so the resumed run had
    # to reproduce the dropout masks (the RNG state in the checkpoint).
    out = tmp_path / "run"
    r = recipe(model_dir, out)
    r["model"]["hidden_dropout_prob"] = 0.0
    r["model"]["attention_probs_dropout_prob"] = 0.0
    train(clintorch_bin, write_recipe(tmp_path / "r.yaml", r))
    a = load_file(uninterrupted / "export" / "model.safetensors")
    b = load_file(out / "export" / "model.safetensors")
    assert not torch.equal(a["classifier.weight"], b["classifier.weight"])

"""`clintorch train` end to end on a tiny model: TensorBoard event files that tensorboard's
EventAccumulator reads, metrics.jsonl, checkpoint layout and rotation, nothing written when the
recipe or its data fail validation, and SIGTERM (finish the step, checkpoint, exit 143, resume)."""
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import clintorch_bin, minilm_dir  # noqa: F401 (fixtures)
from train_util import NER_DIR, metrics, ner_recipe, train, write_recipe
from train_util import model_dir  # noqa: F401 (fixture)


def with_eval(r, **evaluation):
    r["data"]["validation_file"] = str(NER_DIR / "dev.conll")
    r["evaluation"] = {"eval_strategy": "steps", "eval_steps": 4, **evaluation}
    return r


def test_tensorboard_and_metrics(clintorch_bin, model_dir, tmp_path):
    out = tmp_path / "run"
    r = with_eval(ner_recipe(model_dir, out, max_steps=8), save_strategy="steps", save_steps=4,
                  save_total_limit=1, eval_on_start=True)
    r["logging"]["tensorboard"] = True
    r["data"]["test_file"] = str(NER_DIR / "test.conll")
    train(clintorch_bin, write_recipe(tmp_path / "r.yaml", r))

    logs = list((out / "runs").glob("events.out.tfevents.*"))
    assert len(logs) == 1
    acc = EventAccumulator(str(out / "runs"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    for tag in ("train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_per_second",
                "eval/loss", "test/loss"):
        assert tag in tags, f"{tag} missing from {sorted(tags)}"
    train_rows = metrics(out)
    events = acc.Scalars("train/loss")
    assert [e.step for e in events] == [m["step"] for m in train_rows] == list(range(1, 9))
    for e, m in zip(events, train_rows):
        assert e.value == pytest.approx(m["loss"], rel=1e-6)
    # eval_on_start (step 0) and every 4 steps.
    assert [e.step for e in acc.Scalars("eval/loss")] == [0, 4, 8]
    evals = metrics(out, "eval")
    assert [m["step"] for m in evals] == [0, 4, 8] and all("eval_loss" in m for m in evals)
    assert len(metrics(out, "test")) == 1

    # save_total_limit 1 keeps the best checkpoint and the newest.
    state = json.loads((out / "trainer_state.json").read_text())
    kept = sorted(p.name for p in out.glob("checkpoint-*"))
    best = Path(state["best_model_checkpoint"]).name
    assert best in kept and "checkpoint-8" in kept and len(kept) <= 2
    assert state["global_step"] == 8 and state["log_history"]
    assert (out / "recipe.yaml").is_file()
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
        assert (out / "export" / name).is_file()


def test_bad_data_writes_nothing(clintorch_bin, model_dir, tmp_path):
    dev = tmp_path / "dev.conll"
    text = (NER_DIR / "dev.conll").read_text().splitlines()
    text[5] = "Zyxwvutsr\tB-UNSEEN"
    dev.write_text("\n".join(text) + "\n")
    for existing in (False, True):
        out = tmp_path / f"run{int(existing)}"
        if existing:
            out.mkdir()
        r = with_eval(ner_recipe(model_dir, out, max_steps=2))
        r["data"]["validation_file"] = str(dev)
        proc = train(clintorch_bin, write_recipe(tmp_path / "r.yaml", r), check=False)
        assert proc.returncode == 1, proc.stderr
        # FILE:LINE of the sentence holding the unknown label.
        assert f"{dev}:" in proc.stderr and "B-UNSEEN" in proc.stderr
        assert "Zyxwvutsr" not in proc.stderr  # no input text in messages (PHI)
        assert out.exists() == existing
        if existing:
            assert list(out.iterdir()) == []


@pytest.mark.parametrize("override,message", [
    ({"training": {"fp16": True}}, "fp16 needs CUDA"),
    ({"training": {"resume_from_checkpoint": "last"}}, "holds no checkpoint"),
])
def test_run_errors_write_nothing(clintorch_bin, model_dir, tmp_path, override, message):
    out = tmp_path / "run"
    r = ner_recipe(model_dir, out, max_steps=2)
    for section, keys in override.items():
        r[section].update(keys)
    r["training"]["device"] = "auto"
    proc = train(clintorch_bin, write_recipe(tmp_path / "r.yaml", r), check=False)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    assert not out.exists()


def test_sigterm_checkpoints_and_resumes(clintorch_bin, model_dir, tmp_path):
    out = tmp_path / "run"
    r = ner_recipe(model_dir, out, max_steps=100000, gradient_accumulation_steps=2)
    path = write_recipe(tmp_path / "r.yaml", r)
    proc = subprocess.Popen([clintorch_bin, "train", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    log = out / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 2:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "training ended before it could be signalled"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "SIGTERM" in stderr and "exit code 143" in stderr
    ckpts = list(out.glob("checkpoint-*"))
    assert len(ckpts) == 1, stderr
    state = json.loads((ckpts[0] / "trainer_state.json").read_text())
    step = state["global_step"]
    assert ckpts[0].name == f"checkpoint-{step}" and step >= 2
    assert state["micro_step"] == 0
    assert not (out / "export").exists()
    assert not list(out.glob(".checkpoint-*"))  # no temporary folder left behind

    r["training"]["resume_from_checkpoint"] = "last"
    proc = train(clintorch_bin, write_recipe(tmp_path / "resume.yaml", r), "--stop-after-steps",
                 step + 2)
    assert f"resumed from {ckpts[0]} at step {step}" in proc.stderr
    assert (out / f"checkpoint-{step + 2}").is_dir()

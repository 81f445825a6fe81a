"""Kill test (issue 14): training is SIGKILLed at 20 random moments, many of them in the middle of
a checkpoint write (CLINTORCH_TEST_CHECKPOINT_DELAY_MS pauses after each file of a checkpoint,
which widens that window), and each time restarted with resume_from_checkpoint: last. Afterwards:
- every checkpoint-N folder that exists after a kill is complete (its manifest lists every file
  with its size), and half-written ones only ever exist as .checkpoint-N.tmp;
- each resume loads a complete checkpoint-N and never warns about a damaged one;
- the final parameters are bitwise equal to those of an uninterrupted run (CPU, deterministic)."""
import json
import os
import random
import signal
import subprocess
import time

from safetensors.torch import load_file
import torch

from conftest import clintorch_bin, minilm_dir  # noqa: F401 (fixtures)
from train_util import ner_recipe, train, write_recipe
from train_util import model_dir  # noqa: F401 (fixture)

# Long enough that no killed run can reach the end (each checkpoint write takes at least
# 4 x DELAY_MS, and the killed runs save every step); the other runs save nothing and are quick.
STEPS = 300
KILLS = 20
DELAY_MS = 60


def recipe(model_dir, out, resume=False, save=True):
    evaluation = {"save_strategy": "steps", "save_steps": 1, "save_total_limit": 3} if save \
        else {"save_strategy": "no"}
    r = ner_recipe(model_dir, out, evaluation=evaluation, max_steps=STEPS,
                   gradient_accumulation_steps=2, warmup_steps=2, deterministic=True, threads=1)
    r["output"]["overwrite_output_dir"] = True
    if resume:
        r["training"]["resume_from_checkpoint"] = "last"
    return r


def complete(ckpt):
    manifest = ckpt / "manifest.json"
    if not manifest.is_file():
        return False
    files = json.loads(manifest.read_text())["files"]
    return all((ckpt / n).is_file() and (ckpt / n).stat().st_size == e["size"]
               for n, e in files.items())


def test_twenty_kills_then_resume_equal_the_uninterrupted_run(clintorch_bin, model_dir, tmp_path):
    full = tmp_path / "full"
    train(clintorch_bin, write_recipe(tmp_path / "full.yaml", recipe(model_dir, full, save=False)))

    out = tmp_path / "killed"
    fresh = write_recipe(tmp_path / "fresh.yaml", recipe(model_dir, out))
    resume = write_recipe(tmp_path / "resume.yaml", recipe(model_dir, out, resume=True))
    env = dict(os.environ, CLINTORCH_TEST_CHECKPOINT_DELAY_MS=str(DELAY_MS))
    rng = random.Random(14)
    mid_write = 0
    resumed_from = []
    for kill in range(KILLS):
        started = sorted(out.glob("checkpoint-*"))
        path = resume if started else fresh
        proc = subprocess.Popen([clintorch_bin, "train", str(path)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Start-up (model, data) takes about a second; kill somewhere in the first few steps.
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, f"kill {kill}: run ended before it ({err})"
        assert "skipping" not in err, f"kill {kill}: a resume met a damaged checkpoint:\n{err}"
        resumed_from += [l for l in err.splitlines() if "resumed from" in l]
        partial = list(out.glob(".checkpoint-*.tmp"))
        mid_write += bool(partial)
        for ckpt in out.glob("checkpoint-*"):
            assert complete(ckpt), f"kill {kill}: {ckpt.name} has its name but is incomplete"

    # The last run finishes (no pause, no kill, no more checkpoints).
    done = train(clintorch_bin, write_recipe(tmp_path / "finish.yaml",
                                             recipe(model_dir, out, resume=True, save=False)))
    assert "skipping" not in done.stderr, done.stderr
    assert not list(out.glob(".checkpoint-*.tmp")), "a partial checkpoint was left behind"
    # The kills landed in many places, several of them in the middle of a checkpoint write.
    assert mid_write >= 3, f"only {mid_write} of {KILLS} kills landed mid-write"
    assert resumed_from, "no killed run got as far as resuming"
    for line in resumed_from:
        assert ".tmp" not in line, line

    a = load_file(full / "export" / "model.safetensors")
    b = load_file(out / "export" / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} differs after {KILLS} kills"
    print(f"{KILLS} kills, {mid_write} in the middle of a checkpoint write, "
          f"{len(resumed_from)} resumes")

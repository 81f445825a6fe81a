"""Durable checkpoints (issue 14): every file is synced and a manifest (sizes, CRC-32C) is written
last, then the folder is renamed into place. Resuming verifies the manifest: an explicitly named
damaged checkpoint is an error naming the file; `last` skips damaged or incomplete ones with a
warning and takes the newest complete one."""
import json

from conftest import run_cli
from train_util import ner_recipe, write_recipe

def recipe(tmp_path, minilm_dir, **training):
    return write_recipe(tmp_path / "r.yaml", ner_recipe(
        minilm_dir, tmp_path / "out", evaluation={"save_strategy": "steps", "save_steps": 2},
        **{"learning_rate": 1e-4, "max_steps": 4, "seed": 2, "threads": 1, **training}))


def test_checkpoints_carry_a_manifest_that_resume_verifies(clintorch_bin, minilm_dir, tmp_path):
    path = recipe(tmp_path, minilm_dir)
    proc = run_cli(clintorch_bin, "train", path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    for c in ("checkpoint-2", "checkpoint-4", "export"):
        manifest = json.loads((out / c / "manifest.json").read_text())
        files = manifest["files"]
        assert "model.safetensors" in files
        for name, entry in files.items():
            assert (out / c / name).stat().st_size == entry["size"], (c, name)
            assert len(entry["crc32c"]) == 8
    assert not list(out.glob(".*tmp"))  # nothing half-written left behind

    # One byte flipped in the newest checkpoint's weights.
    weights = out / "checkpoint-4" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    more = ["--set", "training.max_steps=6"]
    proc = run_cli(clintorch_bin, "train", path, "--set",
                   f"training.resume_from_checkpoint={out / 'checkpoint-4'}", *more)
    assert proc.returncode != 0
    assert "is not a complete checkpoint" in proc.stderr
    assert "model.safetensors: its checksum does not match" in proc.stderr, proc.stderr
    proc = run_cli(clintorch_bin, "train", path, "--set", "training.resume_from_checkpoint=last",
                   *more)
    assert proc.returncode == 0, proc.stderr
    assert "skipping" in proc.stderr and "checkpoint-4" in proc.stderr
    assert "resumed from " + str(out / "checkpoint-2") in proc.stderr, proc.stderr

    # With every checkpoint incomplete, `last` says so instead of loading one.
    for c in out.glob("checkpoint-*"):
        (c / "manifest.json").unlink()
    proc = run_cli(clintorch_bin, "train", path, "--set", "training.resume_from_checkpoint=last",
                   "--set", "training.max_steps=8")
    assert proc.returncode != 0
    assert "no checkpoint in" in proc.stderr and "is complete" in proc.stderr, proc.stderr

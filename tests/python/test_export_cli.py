"""`clintorch export`: from a trainer output_dir (best_model_checkpoint of the newest
checkpoint's trainer_state.json, else the newest checkpoint-N, else output_dir/export) or one
checkpoint, each head type (MaskedLM, TokenClassification, SequenceClassification,
QuestionAnswering) is written as a HF directory that transformers' AutoModelFor* loads as it is
(no missing / unexpected weights, id2label kept) and whose logits equal both the source
checkpoint's (transformers) and ours (head_dump on the export) within 1e-4; trainer files stay
behind; bad folders are clear errors."""
import json
import shutil

import pytest
import torch

from conftest import run_cli
from eval_util import hf_tokenizer, make_model
from heads_util import Cases, max_abs

TOL = 1e-4
KINDS = {
    "mlm": ("AutoModelForMaskedLM", ["logits"]),
    "ner": ("AutoModelForTokenClassification", ["logits"]),
    "cls": ("AutoModelForSequenceClassification", ["logits"]),
    "qa": ("AutoModelForQuestionAnswering", ["start_logits", "end_logits"]),
}
TEXTS = ["Chest pain radiating to the left arm.", "No fever; troponin negative twice today."]


def trainer_run(root, kind, minilm_dir, best):
    """A fake trainer output_dir: checkpoint-5 and checkpoint-10 (different weights) with trainer
    files; the newest state names checkpoint-5 as best when `best`."""
    models = {}
    for step, seed in ((5, 1), (10, 2)):
        ckpt = root / f"checkpoint-{step}"
        _, models[step] = make_model(kind, ckpt, minilm_dir, seed=seed)
        (ckpt / "optimizer.pt").write_bytes(b"not a model")
        (ckpt / "scheduler.pt").write_bytes(b"not a model")
        state = {"global_step": step,
                 "best_model_checkpoint": str(root / "checkpoint-5") if best else None}
        (ckpt / "trainer_state.json").write_text(json.dumps(state))
    return models


@torch.no_grad()
def test_export_each_head_loads_in_transformers_with_equal_logits(clintorch_bin, tmp_path,
                                                                   minilm_dir):
    import transformers

    cases = Cases(tmp_path / "cases")
    expected = {}
    for kind, (auto_name, keys) in KINDS.items():
        run = tmp_path / f"run_{kind}"
        models = trainer_run(run, kind, minilm_dir, best=True)
        out = tmp_path / f"export_{kind}"
        r = run_cli(clintorch_bin, "export", "--checkpoint", run, "--out", out)
        assert r.returncode == 0, r.stderr
        assert "checkpoint-5" in r.stderr
        assert not (out / "trainer_state.json").exists() and not (out / "optimizer.pt").exists()
        assert (out / "vocab.txt").exists()
        auto = getattr(transformers, auto_name)
        model, info = auto.from_pretrained(str(out), output_loading_info=True)
        model.eval()
        assert not info["missing_keys"] and not info["unexpected_keys"], info
        assert not info["mismatched_keys"], info
        src = models[5]
        if kind in ("ner", "cls"):
            assert model.config.id2label == src.config.id2label
            assert model.config.label2id == src.config.label2id
        tok = hf_tokenizer(out)
        enc = tok(TEXTS, padding=True, return_tensors="pt")
        ours_out, theirs = model(**enc), src(**enc)
        for key in keys:
            assert max_abs(getattr(ours_out, key), getattr(theirs, key)) < TOL, (kind, key)
            # Not the newest checkpoint's weights.
            assert max_abs(getattr(ours_out, key), getattr(models[10](**enc), key)) > 1e-3
            expected[(kind, key)] = getattr(theirs, key)
        cases.add(kind, out, inputs=dict(enc))
    cases.run()
    for (kind, key), ref in expected.items():
        tensors, summary = cases.out(kind)
        assert max_abs(tensors[key], ref) < TOL, (kind, key)


def test_export_resolves_newest_checkpoint_export_folder_and_errors(clintorch_bin, tmp_path,
                                                                    minilm_dir):
    from safetensors.torch import load_file

    def weights(d):
        return load_file(str(d / "model.safetensors"))

    def same(a, b):
        wa, wb = weights(a), weights(b)
        return all(torch.equal(wa[k], wb[k]) for k in wa if k in wb)

    run = tmp_path / "run"
    trainer_run(run, "ner", minilm_dir, best=False)
    out = tmp_path / "out_newest"
    r = run_cli(clintorch_bin, "export", "--checkpoint", run, "--out", out)
    assert r.returncode == 0, r.stderr
    assert same(out, run / "checkpoint-10") and not same(out, run / "checkpoint-5")
    # One checkpoint given directly.
    out = tmp_path / "out_direct"
    r = run_cli(clintorch_bin, "export", "--checkpoint", run / "checkpoint-5", "--out", out)
    assert r.returncode == 0, r.stderr
    assert same(out, run / "checkpoint-5")
    # An output_dir with only export/ (e.g. checkpoints deleted).
    only = tmp_path / "only_export"
    only.mkdir()
    shutil.copytree(run / "checkpoint-5", only / "export")
    r = run_cli(clintorch_bin, "export", "--checkpoint", only, "--out", tmp_path / "out_export")
    assert r.returncode == 0, r.stderr
    assert same(tmp_path / "out_export", only / "export")
    # A best checkpoint that is gone.
    state = run / "checkpoint-10" / "trainer_state.json"
    state.write_text(json.dumps({"best_model_checkpoint": str(run / "checkpoint-7")}))
    r = run_cli(clintorch_bin, "export", "--checkpoint", run, "--out", tmp_path / "x")
    assert r.returncode == 1 and "checkpoint-7" in r.stderr, r.stderr
    # Empty or missing folders, exporting onto the source.
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli(clintorch_bin, "export", "--checkpoint", empty, "--out", tmp_path / "y")
    assert r.returncode == 1 and "no checkpoint-N" in r.stderr, r.stderr
    r = run_cli(clintorch_bin, "export", "--checkpoint", tmp_path / "nope", "--out", tmp_path / "y")
    assert r.returncode == 1 and "no such model directory" in r.stderr, r.stderr
    r = run_cli(clintorch_bin, "export", "--checkpoint", run / "checkpoint-5", "--out",
                run / "checkpoint-5")
    assert r.returncode == 1 and "is the checkpoint being exported" in r.stderr, r.stderr
    r = run_cli(clintorch_bin, "export", "--checkpoint", run)
    assert r.returncode == 2, r.stderr

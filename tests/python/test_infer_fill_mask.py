"""clintorch fill-mask against transformers' pipeline("fill-mask") on a small random
BertForMaskedLM saved by HF (MiniLM's uncased vocabulary): identical top-5 ids, scores within 1e-5,
the same token_str and sequence strings; HF model ids from a fake HF cache; error cases."""
import json
import os
import shutil

import pytest
import torch
from conftest import run_cli

TEXTS = [
    "The patient was started on [MASK] for hypertension.",
    "[MASK] denies chest pain, shortness of breath or fever.",
    "History of type 2 diabetes mellitus, on [MASK] 500 mg twice daily.",
    "She was admitted to the ICU with septic [MASK] .",
    "No acute distress, lungs clear to [MASK] bilaterally.",
    "Follow up in two [MASK] with the cardiology clinic!",
    "The [MASK] showed a small left pleural effusion.",
    "Aspirin 81 mg daily was continued. BP 130/80, HR [MASK]?",
]
MULTI = "The [MASK] was treated with [MASK] and discharged home."


@pytest.fixture(scope="module")
def mlm_dir(tmp_path_factory, minilm_dir):
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, max_position_embeddings=128,
                        initializer_range=0.2)  # larger weights: peaked, well-separated scores
    model = BertForMaskedLM(config).eval()
    out = tmp_path_factory.mktemp("mlm")
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(minilm_dir).save_pretrained(out)
    return out


def hf_fill_mask(model_dir, texts, top_k=5):
    from transformers import pipeline

    fill = pipeline("fill-mask", model=str(model_dir), tokenizer=str(model_dir), top_k=top_k,
                    device="cpu")
    return [fill(t) for t in texts]


def ours(clintorch_bin, model, texts, tmp_path, *extra, env=None):
    src = tmp_path / "in.txt"
    src.write_text("".join(t + "\n" for t in texts))
    out = tmp_path / "out.jsonl"
    proc = run_cli_env(clintorch_bin, env, "fill-mask", "--model", model, "--input", src,
                       "--output", out, *extra)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def run_cli_env(bin_path, env, *args):
    import subprocess

    return subprocess.run([bin_path, *map(str, args)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def check_equal(ours_masks, hf_masks):
    assert len(ours_masks) == len(hf_masks)
    for mine, theirs in zip(ours_masks, hf_masks):
        preds = mine["predictions"]
        assert [p["token_id"] for p in preds] == [h["token"] for h in theirs]
        for p, h in zip(preds, theirs):
            assert abs(p["score"] - h["score"]) < 1e-5, (p, h)
            assert p["token_str"] == h["token_str"]
            assert p["sequence"] == h["sequence"]


def test_single_masks_equal_the_hf_pipeline(clintorch_bin, mlm_dir, tmp_path):
    hf = hf_fill_mask(mlm_dir, TEXTS)
    mine = ours(clintorch_bin, mlm_dir, TEXTS, tmp_path, "--batch-size", "3")
    assert [r["line"] for r in mine] == list(range(1, len(TEXTS) + 1))
    for record, theirs in zip(mine, hf):
        assert len(record["masks"]) == 1
        check_equal(record["masks"], [theirs])
    # The scores are real probabilities, not all alike (a random model could be flat).
    assert max(p["score"] for r in mine for p in r["masks"][0]["predictions"]) > 0.01


def test_several_masks_and_top_k(clintorch_bin, mlm_dir, tmp_path):
    hf = hf_fill_mask(mlm_dir, [MULTI], top_k=3)[0]  # one list per mask
    mine = ours(clintorch_bin, mlm_dir, [MULTI], tmp_path, "--top-k", "3")[0]
    assert len(mine["masks"]) == 2
    check_equal(mine["masks"], hf)


def test_model_id_from_a_fake_hf_cache(clintorch_bin, mlm_dir, tmp_path, monkeypatch):
    commit = "1234567890abcdef1234567890abcdef12345678"
    repo = tmp_path / "hf" / "hub" / "models--acme--tiny-mlm"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit + "\n")
    shutil.copytree(mlm_dir, repo / "snapshots" / commit)
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    env = {"HF_HOME": str(tmp_path / "hf")}
    by_dir = ours(clintorch_bin, mlm_dir, TEXTS[:2], tmp_path)
    by_id = ours(clintorch_bin, "acme/tiny-mlm", TEXTS[:2], tmp_path, env=env)
    assert by_id == by_dir
    missing = run_cli_env(clintorch_bin, env, "fill-mask", "--model", "acme/other-mlm",
                          "--input", "/dev/null")
    assert missing.returncode == 1
    assert "huggingface-cli download acme/other-mlm" in missing.stderr
    assert str(tmp_path / "hf" / "hub" / "models--acme--other-mlm") in missing.stderr


def test_errors_name_the_line_and_never_the_text(clintorch_bin, mlm_dir, minilm_dir, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("Started on [MASK] today.\nSecret patient Johnson has no mask here.\n")
    proc = run_cli(clintorch_bin, "fill-mask", "--model", mlm_dir, "--input", src)
    assert proc.returncode == 1
    assert f"{src}:2: no [MASK] token in the text" in proc.stderr
    assert "Johnson" not in proc.stderr
    # A model without an MLM head (MiniLM is a sentence-embedding BertModel).
    proc = run_cli(clintorch_bin, "fill-mask", "--model", minilm_dir, input_text="a [MASK] b\n")
    assert proc.returncode == 1
    assert "has no masked-language-model head" in proc.stderr
    proc = run_cli(clintorch_bin, "fill-mask", "--model", mlm_dir, "--top-k", "0",
                   input_text="a [MASK]\n")
    assert proc.returncode == 2

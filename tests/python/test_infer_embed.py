"""clintorch embed against the Python references on the real all-MiniLM-L6-v2:
sentence-transformers' own embeddings (mean pooling + normalize), and cls/mean/max/layer poolings
computed from transformers outputs on 1,000 PubMedQA sentences (cosine >= 0.99999 each); long
texts windowed and averaged; .npy and JSONL outputs."""
import json
from pathlib import Path
import re

import numpy as np
import pytest
import torch
from conftest import run_cli

SHORT = [
    "Chest pain radiating to the left arm.",
    "No known drug allergies.",
    "Patient is a 67-year-old male with a history of COPD and CHF.",
    "",
    "Metformin 500 mg PO BID; lisinopril 10 mg daily.",
    "Héllo wörld — naïve café résumé.",
]


def embed(clintorch_bin, model, texts, tmp_path, *extra, name="out.npy"):
    src = tmp_path / "in.txt"
    src.write_text("".join(t + "\n" for t in texts))
    out = tmp_path / name
    if "--dtype" not in extra:  # parity with the fp32 references (auto is bf16 on some CPUs)
        extra = ("--dtype", "fp32", *extra)
    proc = run_cli(clintorch_bin, "embed", "--model", model, "--input", src, "--output", out,
                   *extra)
    assert proc.returncode == 0, proc.stderr
    if name.endswith(".npy"):
        return np.load(out)
    return [json.loads(line) for line in out.read_text().splitlines()]


def cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=1, keepdims=True).clip(1e-12)
    return (a * b).sum(1)


@pytest.fixture(scope="module")
def hf_model(minilm_dir):
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(1)  # a shared 2-core CI machine: a second thread mostly spins
    return AutoTokenizer.from_pretrained(minilm_dir), AutoModel.from_pretrained(minilm_dir).eval()


def hf_hidden_states(hf_model, texts, batch_size=64):
    """Per batch: (text indices, attention_mask, hidden_states tuple) from transformers; texts
    of similar length are batched together (the reference is per text, so order is free)."""
    tok, model = hf_model
    order = sorted(range(len(texts)), key=lambda i: len(tok(texts[i])["input_ids"]))
    for i in range(0, len(texts), batch_size):
        which = order[i:i + batch_size]
        enc = tok([texts[j] for j in which], padding=True, truncation=True, max_length=256,
                  return_tensors="pt")
        with torch.inference_mode():
            out = model(**enc, output_hidden_states=True)
        yield which, enc["attention_mask"], out.hidden_states


def pool(hidden, mask, how):
    m = mask.unsqueeze(-1).float()
    if how == "cls":
        return hidden[:, 0]
    if how == "mean":
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return hidden.masked_fill(m == 0, -1e9).max(1).values


def test_equals_sentence_transformers(clintorch_bin, minilm_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(minilm_dir), device="cpu").encode(SHORT, batch_size=4)
    mine = embed(clintorch_bin, minilm_dir, SHORT, tmp_path, "--pooling", "mean", "--normalize",
                 "--batch-size", "4")
    assert mine.dtype == np.float32 and mine.shape == st.shape == (len(SHORT), 384)
    assert cosines(mine, st).min() >= 0.99999
    assert np.abs(mine - st).max() < 1e-5


def pubmedqa_sentences(shared, hf_model, n=1000, max_tokens=40):
    """The first n sentences of the PubMedQA contexts of at most max_tokens tokens (short enough
    for the 2-core CI budget; longer inputs are covered by the windowing test)."""
    data = json.loads((shared / "qa_PubMedQA" / "ori_pqal.json").read_text())
    tok = hf_model[0]
    out = []
    for key in sorted(data):
        for context in data[key]["CONTEXTS"]:
            for s in re.split(r"(?<=[.!?])\s+", context):
                if s and len(tok(s)["input_ids"]) <= max_tokens:
                    out.append(s)
                if len(out) == n:
                    return out
    return out


def test_1000_pubmedqa_sentences_every_pooling(clintorch_bin, minilm_dir, shared_datasets, hf_model,
                                               tmp_path):
    texts = pubmedqa_sentences(shared_datasets, hf_model)
    assert len(texts) == 1000
    # name: (our options, reference from (mask, hidden_states), number of sentences)
    cases = {
        "cls": (["--pooling", "cls"], lambda m, hs: pool(hs[-1], m, "cls"), 1000),
        "mean": (["--pooling", "mean"], lambda m, hs: pool(hs[-1], m, "mean"), 1000),
        "max": (["--pooling", "max"], lambda m, hs: pool(hs[-1], m, "max"), 1000),
        "layer3_mean_norm": (["--pooling", "mean", "--layer", "3", "--normalize"],
                             lambda m, hs: torch.nn.functional.normalize(pool(hs[3], m, "mean")),
                             1000),
        "last2_cls": (["--pooling", "cls", "--last-n-layers", "2"],
                      lambda m, hs: pool(torch.stack(hs[-2:]).mean(0), m, "cls"), 200),
        "embeddings_max": (["--pooling", "max", "--layer", "0"],
                           lambda m, hs: pool(hs[0], m, "max"), 200),
    }
    refs = {name: np.zeros((len(texts), 384), dtype=np.float32) for name in cases}
    for which, mask, hs in hf_hidden_states(hf_model, texts):
        for name, (_, ref, _) in cases.items():
            refs[name][which] = ref(mask, hs).numpy()
    for name, (options, _, n) in cases.items():
        mine = embed(clintorch_bin, minilm_dir, texts[:n], tmp_path, *options, "--batch-size", "64",
                     "--threads", "1")
        assert mine.shape == (n, 384), name
        cos = cosines(mine, refs[name][:n])
        assert cos.min() >= 0.99999, (name, int(cos.argmin()), float(cos.min()))


def test_long_texts_are_windowed_and_averaged(clintorch_bin, minilm_dir, hf_model, tmp_path):
    tok, model = hf_model
    long_text = " ".join(SHORT) * 3
    texts = [long_text, "Short one.", long_text[:150]]
    mine = embed(clintorch_bin, minilm_dir, texts, tmp_path, "--max-seq-length", "32", "--stride",
                 "8", "--normalize")
    refs = []
    for t in texts:
        enc = tok(t, truncation=True, max_length=32, stride=8, return_overflowing_tokens=True,
                  padding=True, return_tensors="pt")
        enc.pop("overflow_to_sample_mapping")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        windows = pool(hidden, enc["attention_mask"], "mean")
        refs.append(torch.nn.functional.normalize(windows.mean(0, keepdim=True)).numpy()[0])
    assert len(tok(long_text, truncation=True, max_length=32, stride=8,
                   return_overflowing_tokens=True)["input_ids"]) > 3  # really several windows
    assert cosines(mine, np.stack(refs)).min() >= 0.99999


def test_jsonl_in_and_out(clintorch_bin, minilm_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"n{i}", "text": t}) + "\n"
                           for i, t in enumerate(SHORT[:3])))
    out = tmp_path / "out.jsonl"
    proc = run_cli(clintorch_bin, "embed", "--model", minilm_dir, "--input", src, "--output", out,
                   "--dtype", "fp32")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["n0", "n1", "n2"]
    npy = embed(clintorch_bin, minilm_dir, SHORT[:3], tmp_path)
    assert np.abs(np.array([r["embedding"] for r in rows], dtype=np.float32) - npy).max() == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"txt": "Secret Johnson"}\n')
    proc = run_cli(clintorch_bin, "embed", "--model", minilm_dir, "--input", bad, "--output",
                   tmp_path / "x.npy")
    assert proc.returncode == 1 and f"{bad}:2" in proc.stderr and "Johnson" not in proc.stderr
    assert not (tmp_path / "x.npy").exists() and not (tmp_path / "x.npy.partial").exists()
    proc = run_cli(clintorch_bin, "embed", "--model", minilm_dir, "--output", tmp_path / "y.npy",
                   "--layer", "7", input_text="a\n")
    assert proc.returncode == 2 and "--layer 7" in proc.stderr


def cpu_has_bf16():
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def test_bf16_embeddings_stay_close_to_fp32(clintorch_bin, minilm_dir, tmp_path):
    """--dtype bf16 (what auto picks on a CPU with AVX512-BF16 or AMX): bf16 matmuls keep about
    three significant digits, so the cosine to the fp32 embedding stays above 0.999."""
    if not cpu_has_bf16():
        pytest.skip("this CPU has no AVX512-BF16/AMX: --dtype bf16 would be emulated, slowly")
    fp32 = embed(clintorch_bin, minilm_dir, SHORT, tmp_path, "--dtype", "fp32", name="a.npy")
    bf16 = embed(clintorch_bin, minilm_dir, SHORT, tmp_path, "--dtype", "bf16", name="b.npy")
    auto = embed(clintorch_bin, minilm_dir, SHORT, tmp_path, "--dtype", "auto", name="c.npy")
    assert cosines(bf16, fp32).min() >= 0.999
    assert np.array_equal(auto, bf16)

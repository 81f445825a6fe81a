"""The documented conversions of PubMedQA and HoC (tools/convert_*.py), read by our JSONL
classification reader, against the counts stated in ../shared/datasets/SOURCES.md."""
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = os.environ.get("CLINTORCH_DATA_TOOL")
SOURCE = Path(os.environ.get("CLINTORCH_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def load(tmp_path, *args):
    out = tmp_path / "f.jsonl"
    proc = subprocess.run([TOOL, "features", *map(str, args), "--out", str(out), "--no-cache"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(l) for l in lines[1:]]


def test_pubmedqa_conversion(shared_datasets, minilm_dir, tmp_path):
    src = shared_datasets / "qa_PubMedQA"
    if not (src / "ori_pqal.json").exists():
        pytest.skip(f"{src} absent")
    out = tmp_path / "pqa"
    subprocess.run([sys.executable, str(SOURCE / "tools" / "convert_pubmedqa.py"), str(src),
                    str(out)], check=True, capture_output=True)
    counts = collections.Counter()
    sizes = {}
    for split in ("train", "dev", "test"):
        rows = [json.loads(l) for l in (out / f"{split}.jsonl").read_text().splitlines()]
        sizes[split] = len(rows)
        counts.update(r["label"] for r in rows)
    assert sizes["test"] == 500 and sizes["train"] + sizes["dev"] == 500
    assert counts == {"yes": 552, "no": 338, "maybe": 110}  # SOURCES.md
    head, feats = load(tmp_path, "--task", "classification", "--model", minilm_dir, "--input",
                       out / "test.jsonl", "--labels-from", out / "train.jsonl",
                       "--text-pair-column", "text_pair", "--max-seq-length", 256,
                       "--doc-stride", 64)
    assert head["labels"] == ["maybe", "no", "yes"]
    assert head["num_examples"] == 500
    assert {f["example"] for f in feats} == set(range(500))
    multi = sum(1 for f in feats if f["window"] > 0)
    assert multi > 0, "some question+abstract pairs exceed 256 tokens and must be windowed"
    for f in feats:
        assert len(f["input_ids"]) <= 256
        assert f["token_type_ids"][-1] == 1
    print(f"PubMedQA test: 500 examples -> {len(feats)} windows")


def test_hoc_conversion(shared_datasets, minilm_dir, tmp_path):
    src = shared_datasets / "cls_HoC"
    if not (src / "labels").is_dir():
        pytest.skip(f"{src} absent")
    # The label-occurrence counts of SOURCES.md, recomputed from the raw files: checks the
    # reading of the '<' / 'AND' / '--' layout the converter relies on.
    occ = collections.Counter()
    for f in (src / "labels").iterdir():
        for g in f.read_text(encoding="utf-8").split("<"):
            for p in g.split("AND"):
                t = p.split("--")[0].strip()
                if t:
                    occ[t] += 1
    assert occ["Sustaining proliferative signaling"] == 1079 and occ["NULL"] == 11
    out = tmp_path / "hoc"
    subprocess.run([sys.executable, str(SOURCE / "tools" / "convert_hoc.py"), str(src), str(out)],
                   check=True, capture_output=True)
    total = 0
    label_set = set()
    for split in ("train", "dev", "test"):
        rows = [json.loads(l) for l in (out / f"{split}.jsonl").read_text().splitlines()]
        total += len(rows)
        for r in rows:
            label_set.update(r["labels"])
    assert total == 1852
    assert len(label_set) == 10 and "NULL" not in label_set
    head, feats = load(tmp_path, "--task", "classification", "--problem-type", "multi_label",
                       "--model", minilm_dir, "--input", out / "train.jsonl",
                       "--max-seq-length", 512, "--doc-stride", 128)
    assert head["labels"] == sorted(label_set)
    assert all(len(f["targets"]) == 10 for f in feats)
    positives = sum(1 for f in feats if f["window"] == 0 for t in f["targets"] if t == 1.0)
    rows = [json.loads(l) for l in (out / "train.jsonl").read_text().splitlines()]
    assert positives == sum(len(r["labels"]) for r in rows)
    print(f"HoC train: {head['num_examples']} abstracts, {len(feats)} windows")


def test_mtsamples_csv_equals_python_csv(shared_datasets, minilm_dir, tmp_path):
    """Our RFC 4180 reader against Python's csv module on the clinical mtsamples CSV. The shared
    copy is cut inside its last record (SOURCES.md): we report that record's line; the complete
    part (first 325 lines, as docs/tasks-and-formats.md says) reads identically."""
    import csv
    import io
    src = shared_datasets / "cls_mtsamples" / "mtsamples.csv"
    if not src.exists():
        pytest.skip(f"{src} absent")
    args = ["--task", "classification", "--model", minilm_dir, "--text-column", "transcription",
            "--label-column", "medical_specialty", "--max-seq-length", 512, "--doc-stride", 128]
    out = tmp_path / "f.jsonl"
    proc = subprocess.run([TOOL, "features", *map(str, args), "--input", str(src), "--out",
                           str(out), "--no-cache"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert f"{src}:326: unterminated quoted field" in proc.stderr
    assert "PREOPERATIVE" not in proc.stderr  # no text in errors
    text = src.read_text(encoding="utf-8")
    complete = "\n".join(text.split("\n")[:325]) + "\n"
    part = tmp_path / "mtsamples_complete.csv"
    part.write_text(complete, encoding="utf-8")
    ref = list(csv.DictReader(io.StringIO(complete, newline="")))
    head, rows = load(tmp_path, *args, "--input", part, "--examples")
    examples = [r for r in rows if "text" in r]
    assert len(examples) == len(ref) == 321
    for e, r in zip(examples, ref):
        assert e["text"] == r["transcription"]
        assert e["labels"] == [r["medical_specialty"].strip()]
    assert head["labels"] == sorted({r["medical_specialty"].strip() for r in ref})
    windows = [r for r in rows if "window" in r]
    assert max(w["window"] for w in windows) > 0, "long transcriptions are windowed"
    print(f"mtsamples: {len(examples)} records equal to Python csv, {len(windows)} windows")


def test_mtsamples_text_for_mlm(shared_datasets, minilm_dir, tmp_path):
    src = shared_datasets / "cls_mtsamples" / "mtsamples.csv"
    if not src.exists():
        pytest.skip(f"{src} absent")
    txt = tmp_path / "mt.txt"
    proc = subprocess.run([sys.executable, str(SOURCE / "tools" / "csv_column_to_text.py"), str(src),
                           "transcription", str(txt)], capture_output=True, text=True, check=True)
    assert "dropped the last 1 line" in proc.stderr
    n = len(txt.read_text(encoding="utf-8").splitlines())
    out = tmp_path / "m.jsonl"
    subprocess.run([TOOL, "mlm", "--model", str(minilm_dir), "--input", str(txt), "--out", str(out),
                    "--no-cache", "--max-seq-length", "512", "--max-blocks", "0"], check=True,
                   capture_output=True)
    head = json.loads(out.read_text().splitlines()[0])
    assert head["num_documents"] == n > 300
    assert head["num_sequences"] == head["num_tokens"] // 512
    print(f"mtsamples transcriptions: {n} documents, {head['num_tokens']} tokens, "
          f"{head['num_sequences']} blocks of 512")

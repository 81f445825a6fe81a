"""`clintorch predict` and `clintorch evaluate` against transformers, seqeval and scikit-learn on
small random models with a real vocabulary (the MiniLM tokenizer files):
- predict NER: every entity slices the original line exactly (text[start:end]); for lines that
  fit one window the entities equal those transformers' BertForTokenClassification predicts
  (first sub-token of each word, seqeval's entity reading); long lines go through windows;
- predict classification and relation extraction (BLUE-masked text): label and probabilities
  equal transformers' softmax; QA: the answer is the context's slice at the span;
- predict streams: peak RSS on 10,000 lines is that on 1,000 lines (small margin);
- bad input: missing model, mismatched tokenizer, empty line (skipped, named), non-JSON line
  (FILE:LINE, text not echoed);
- evaluate NER / classification: metrics equal seqeval / scikit-learn on transformers'
  predictions for the same files, and the loss equals the token-weighted cross-entropy."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import SOURCE_DIR, run_cli
from eval_util import (CLS_LABELS, hf_text_entities, hf_tokenizer, hf_word_tags,
                       make_model)

NOTES = SOURCE_DIR / "datasets" / "mlm_clinical_sample" / "notes.txt"
NER_DEV = SOURCE_DIR / "datasets" / "ner_clinical_sample" / "dev.conll"
CLS_TRAIN = SOURCE_DIR / "datasets" / "cls_csv" / "train.csv"
RE_BLUE = SOURCE_DIR / "datasets" / "re_blue" / "train.tsv"
MAX_LEN = 64


def cli(bin_path, *args):
    """The CLI with one intra-op thread: the models are tiny, and OpenMP threads on a busy 2-core
    machine only slow them down."""
    return run_cli(bin_path, *args, "--threads", 1)


@pytest.fixture(scope="module")
def models(tmp_path_factory, minilm_dir):
    tmp = tmp_path_factory.mktemp("models")
    out = {}
    for i, kind in enumerate(["ner", "cls", "qa", "mlm"]):
        out[kind] = make_model(kind, tmp / kind, minilm_dir, seed=10 + i)
    return out


def read_jsonl(path):
    return [json.loads(l) for l in Path(path).read_text(encoding="utf-8").splitlines()]


def sample_lines():
    lines = [l for l in NOTES.read_text(encoding="utf-8").splitlines() if l.strip()]
    # Some long documents (several windows) and non-ASCII text.
    lines.append(" ".join(lines[:12]))
    lines.append("Pt c/o douleur thoracique — troponine négative ×2; naïve to β-blockers.")
    lines.append("  leading and trailing spaces\tand a tab  ")
    return lines


def test_predict_ner_spans_slice_the_text_and_match_transformers(models, clintorch_bin, tmp_path):
    model_dir, hf = models["ner"]
    tok = hf_tokenizer(model_dir)
    lines = sample_lines()
    inp = tmp_path / "in.txt"
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = cli(clintorch_bin, "predict", "--model", model_dir, "--input", inp, "--output", out,
                "--include-text", "--max-seq-length", MAX_LEN, "--doc-stride", 16,
                "--batch-size", 7, "--chunk-lines", 50, "--dtype", "fp32")
    assert r.returncode == 0, r.stderr
    records = read_jsonl(out)
    assert [rec["id"] for rec in records] == list(range(1, len(lines) + 1))
    n_entities = n_compared = 0
    windowed = 0
    for rec, text in zip(records, lines):
        for e in rec["entities"]:
            assert 0 <= e["start"] < e["end"] <= len(text)
            assert text[e["start"]:e["end"]] == e["text"]
            assert e["label"] in {"PROBLEM", "TEST", "TREATMENT"}
            assert 0.0 <= e["score"] <= 1.0
            n_entities += 1
        expected = hf_text_entities(hf, tok, text, MAX_LEN)
        got = {(e["start"], e["end"], e["label"]) for e in rec["entities"]}
        if expected is not None:
            assert got == expected, rec["line"]
            n_compared += 1
        else:
            windowed += 1
    assert n_entities > 50
    assert n_compared > 100 and windowed > 100
    # Without --include-text: the same spans, no text.
    plain = tmp_path / "plain.jsonl"
    r = cli(clintorch_bin, "predict", "--model", model_dir, "--input", inp, "--output", plain,
                "--max-seq-length", MAX_LEN, "--doc-stride", 16, "--dtype", "fp32")
    assert r.returncode == 0, r.stderr
    for a, b in zip(read_jsonl(plain), records):
        assert all("text" not in e for e in a["entities"])
        assert [(e["start"], e["end"], e["label"]) for e in a["entities"]] == \
               [(e["start"], e["end"], e["label"]) for e in b["entities"]]


@torch.no_grad()
def test_predict_classification_and_qa_match_transformers(models, clintorch_bin, tmp_path):
    model_dir, hf = models["cls"]
    tok = hf_tokenizer(model_dir)
    lines = sample_lines()[:40]
    inp = tmp_path / "cls.jsonl"
    inp.write_text("".join(json.dumps({"id": f"doc{i}", "text": t}) + "\n"
                           for i, t in enumerate(lines)), encoding="utf-8")
    out = tmp_path / "cls_out.jsonl"
    r = cli(clintorch_bin, "predict", "--model", model_dir, "--input", inp, "--output", out,
            "--dtype", "fp32")
    assert r.returncode == 0, r.stderr
    records = read_jsonl(out)
    assert [rec["id"] for rec in records] == [f"doc{i}" for i in range(len(lines))]
    for rec, text in zip(records, lines):
        probs = torch.softmax(hf(**tok(text, return_tensors="pt")).logits[0].double(), -1)
        assert rec["label"] == CLS_LABELS[int(probs.argmax())]
        for i, name in enumerate(CLS_LABELS):
            assert abs(rec["probabilities"][name] - float(probs[i])) < 1e-4

    # Relation extraction, BLUE-masked text, [CLS] pooling (a BertForSequenceClassification).
    re_dir = tmp_path / "re"
    shutil.copytree(model_dir, re_dir)
    config = json.loads((re_dir / "config.json").read_text())
    config["clintorch"] = {"head": "relation_extraction", "pooling": "cls"}
    (re_dir / "config.json").write_text(json.dumps(config))
    texts = [l.split("\t")[0] for l in RE_BLUE.read_text().splitlines() if l.strip()]
    inp = tmp_path / "re.txt"
    inp.write_text("\n".join(texts) + "\n")
    r = cli(clintorch_bin, "predict", "--model", re_dir, "--input", inp, "--output", out,
            "--dtype", "fp32")
    assert r.returncode == 0, r.stderr
    records = read_jsonl(out)
    assert len(records) == len(texts)
    for rec, text in zip(records, texts):
        probs = torch.softmax(hf(**tok(text, return_tensors="pt")).logits[0].double(), -1)
        assert rec["label"] == CLS_LABELS[int(probs.argmax())]
        assert abs(rec["probability"] - float(probs.max())) < 1e-4

    qa_dir, _ = models["qa"]
    squad = json.loads((SOURCE_DIR / "datasets" / "qa_squad" / "train.json").read_text())
    items = [(q["question"], p["context"]) for d in squad["data"] for p in d["paragraphs"]
             for q in p["qas"]]
    inp = tmp_path / "qa.jsonl"
    inp.write_text("".join(json.dumps({"question": q, "context": c}) + "\n" for q, c in items))
    out = tmp_path / "qa_out.jsonl"
    r = cli(clintorch_bin, "predict", "--model", qa_dir, "--input", inp, "--output", out,
                "--max-seq-length", 48, "--doc-stride", 16, "--dtype", "fp32")
    assert r.returncode == 0, r.stderr
    for rec, (q, c) in zip(read_jsonl(out), items):
        assert rec["answer"] == c[rec["start"]:rec["end"]] and rec["answer"]
        assert 0.0 <= rec["score"] <= 1.0


def peak_rss_kib(cmd):
    """Peak RSS of `cmd` (KiB), measured in a fresh Python process that runs only it."""
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "sys.stderr.buffer.write(p.stderr)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(p.returncode)\n")
    p = subprocess.run([sys.executable, "-c", code, *map(str, cmd)], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip())


def test_predict_memory_does_not_grow_with_the_input(models, clintorch_bin, tmp_path):
    model_dir, _ = models["ner"]
    lines = sample_lines()
    rss = {}
    for n in (1000, 10000):
        inp = tmp_path / f"in{n}.txt"
        inp.write_text("\n".join(lines[i % len(lines)] for i in range(n)) + "\n")
        out = tmp_path / f"out{n}.jsonl"
        rss[n] = peak_rss_kib([clintorch_bin, "predict", "--model", model_dir, "--input", inp,
                               "--output", out, "--threads", 1])
        assert sum(1 for _ in out.open()) == n
    # Same chunks, same peak: allow 10% + 24 MiB for allocator noise.
    assert rss[10000] <= rss[1000] * 1.10 + 24 * 1024, rss


def test_predict_bad_input_is_a_clear_error(models, clintorch_bin, tmp_path, minilm_dir):
    model_dir, _ = models["ner"]
    out = tmp_path / "out.jsonl"
    ok = tmp_path / "ok.txt"
    ok.write_text("Chest pain.\n")

    r = cli(clintorch_bin, "predict", "--model", tmp_path / "missing", "--input", ok,
                "--output", out)
    assert r.returncode == 1 and "no such model directory" in r.stderr, r.stderr

    # A tokenizer with more tokens than the model's embeddings.
    from transformers import BertForTokenClassification

    from eval_util import labels_config, save_model
    from model_util import random_bert

    small = random_bert(labels_config(["O", "B-X", "I-X"], vocab_size=500),
                        BertForTokenClassification, 1)
    bad = save_model(small, tmp_path / "bad_tok", minilm_dir)
    r = cli(clintorch_bin, "predict", "--model", bad, "--input", ok, "--output", out)
    assert r.returncode == 1, r.stderr
    assert "30522 tokens" in r.stderr and "500 rows" in r.stderr, r.stderr

    # Empty lines: skipped with a warning naming the line; the others are predicted.
    secret = "Patient John Doe has chest pain."
    inp = tmp_path / "empty.txt"
    inp.write_text(f"{secret}\n\n   \n{secret}\n")
    r = cli(clintorch_bin, "predict", "--model", model_dir, "--input", inp, "--output", out)
    assert r.returncode == 0, r.stderr
    assert f"{inp}:2: empty line skipped" in r.stderr and f"{inp}:3:" in r.stderr
    assert [rec["line"] for rec in read_jsonl(out)] == [1, 4]

    # A non-JSON line: FILE:LINE, no text echoed, no crash.
    inp = tmp_path / "bad.jsonl"
    inp.write_text(json.dumps({"text": secret}) + "\n" + secret + "\n")
    r = cli(clintorch_bin, "predict", "--model", model_dir, "--input", inp, "--output", out)
    assert r.returncode == 1, r.stderr
    assert f"{inp}:2" in r.stderr and "JSON" in r.stderr, r.stderr
    assert "John" not in r.stderr
    # A JSON line without the text key.
    inp.write_text(json.dumps({"txt": secret}) + "\n")
    r = cli(clintorch_bin, "predict", "--model", model_dir, "--input", inp, "--output", out)
    assert r.returncode == 1 and f"{inp}:1" in r.stderr and "'text'" in r.stderr, r.stderr
    # A masked-language model cannot predict; QA needs JSONL.
    r = cli(clintorch_bin, "predict", "--model", models["mlm"][0], "--input", ok, "--output",
                out)
    assert r.returncode == 1 and "masked-language" in r.stderr, r.stderr
    r = cli(clintorch_bin, "predict", "--model", models["qa"][0], "--input", ok, "--output",
                out)
    assert r.returncode == 1 and "jsonl" in r.stderr, r.stderr


def read_conll(path):
    sentences, words, tags = [], [], []
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("-DOCSTART-"):
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        cols = line.split()
        words.append(cols[0])
        tags.append(cols[-1])
    if words:
        sentences.append((words, tags))
    return sentences


@torch.no_grad()
def test_evaluate_ner_equals_seqeval_on_transformers_predictions(models, clintorch_bin, tmp_path):
    from seqeval.metrics import accuracy_score, classification_report

    model_dir, hf = models["ner"]
    tok = hf_tokenizer(model_dir)
    gold, pred = [], []
    loss_sum, loss_n = 0.0, 0
    for words, tags in read_conll(NER_DEV):
        wt, enc, logits = hf_word_tags(hf, tok, words)
        assert None not in wt
        gold.append(tags)
        pred.append(wt)
        # Token-weighted cross-entropy at the first sub-token of each word.
        seen = set()
        for pos, w in enumerate(enc.word_ids(0)):
            if w is None or w in seen:
                continue
            seen.add(w)
            label = hf.config.label2id[tags[w]]
            loss_sum += float(-torch.log_softmax(logits[pos].double(), -1)[label])
            loss_n += 1
    metrics = tmp_path / "metrics.json"
    r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", NER_DEV,
                "--output", metrics)
    assert r.returncode == 0, r.stderr
    assert "micro avg" in r.stdout
    got = json.loads(metrics.read_text())
    ref = classification_report(gold, pred, output_dict=True, zero_division=0)
    assert any(p != "O" for s in pred for p in s)
    for key, ours in (("precision", "precision"), ("recall", "recall"), ("f1-score", "f1")):
        assert got["scalars"][ours] == pytest.approx(ref["micro avg"][key], abs=1e-12)
        assert got["metrics"]["macro"][ours] == pytest.approx(ref["macro avg"][key], abs=1e-12)
    for t in ("PROBLEM", "TEST", "TREATMENT"):
        assert got["metrics"]["per_type"][t]["f1"] == pytest.approx(ref[t]["f1-score"], abs=1e-12)
    assert got["scalars"]["accuracy"] == pytest.approx(accuracy_score(gold, pred), abs=1e-12)
    assert got["scalars"]["loss"] == pytest.approx(loss_sum / loss_n, abs=1e-4)

    # Strict mode equals seqeval strict IOB2; windows (short max length) keep word-level metrics
    # well defined.
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", NER_DEV,
                "--seqeval-mode", "strict", "--output", metrics)
    assert r.returncode == 0, r.stderr
    assert json.loads(metrics.read_text())["scalars"]["f1"] == pytest.approx(
        f1_score(gold, pred, mode="strict", scheme=IOB2), abs=1e-12)
    preds_file = tmp_path / "p.jsonl"
    r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", NER_DEV,
                "--max-seq-length", 12, "--doc-stride", 4, "--output", metrics,
                "--predictions", preds_file)
    assert r.returncode == 0, r.stderr
    tags = [p["tags"] for p in read_jsonl(preds_file)]
    from seqeval.metrics import f1_score as f1
    assert json.loads(metrics.read_text())["scalars"]["f1"] == pytest.approx(
        f1(gold, tags), abs=1e-12)


@torch.no_grad()
def test_evaluate_classification_equals_sklearn(models, clintorch_bin, tmp_path):
    import csv

    from sklearn.metrics import accuracy_score, f1_score

    model_dir, hf = models["cls"]
    tok = hf_tokenizer(model_dir)
    rows = list(csv.DictReader(CLS_TRAIN.open(newline="")))
    gold = [CLS_LABELS.index(r["label"]) for r in rows]
    logits = torch.cat([hf(**tok(r["text"], return_tensors="pt")).logits for r in rows])
    pred = logits.argmax(-1).tolist()
    loss = float(torch.nn.functional.cross_entropy(logits.double(), torch.tensor(gold)))
    metrics = tmp_path / "m.json"
    r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", CLS_TRAIN,
                "--output", metrics)
    assert r.returncode == 0, r.stderr
    got = json.loads(metrics.read_text())["scalars"]
    assert got["accuracy"] == pytest.approx(accuracy_score(gold, pred), abs=1e-12)
    assert got["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro", zero_division=0),
                                            abs=1e-12)
    assert got["weighted_f1"] == pytest.approx(
        f1_score(gold, pred, average="weighted", zero_division=0), abs=1e-12)
    assert got["loss"] == pytest.approx(loss, abs=1e-4)
    # Data of another task, or labels the model does not know: clear errors.
    r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", NER_DEV)
    assert r.returncode == 1, r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nsome text,Neurology\n")
    r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", bad)
    assert r.returncode == 1 and f"{bad}:2" in r.stderr and "Neurology" in r.stderr, r.stderr


def test_evaluate_recipe_reads_the_data_as_the_trainer(models, clintorch_bin, tmp_path):
    """--recipe: the recipe's validation / test file with output_dir/export (or --checkpoint)
    gives the same numbers as --model/--data on the same files."""
    model_dir, _ = models["ner"]
    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "export")
    ner = SOURCE_DIR / "datasets" / "ner_clinical_sample"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"model: {{pretrained: {model_dir}}}\n"
        "tokenizer: {max_seq_length: 128}\n"
        "task: {name: token_classification}\n"
        f"data: {{train_file: {ner / 'train.conll'}, validation_file: {ner / 'dev.conll'},\n"
        f"       test_file: {ner / 'test.conll'}, format: conll}}\n"
        "training: {per_device_eval_batch_size: 8, device: cpu, threads: 1}\n"
        f"output: {{output_dir: {run}}}\n")
    for split, data in (("validation", "dev.conll"), ("test", "test.conll")):
        by_recipe, by_data = tmp_path / f"r_{split}.json", tmp_path / f"d_{split}.json"
        r = run_cli(clintorch_bin, "evaluate", "--recipe", recipe, "--split", split,
                    "--output", by_recipe)
        assert r.returncode == 0, r.stderr
        r = cli(clintorch_bin, "evaluate", "--model", model_dir, "--data", ner / data,
                "--output", by_data)
        assert r.returncode == 0, r.stderr
        got, ref = json.loads(by_recipe.read_text()), json.loads(by_data.read_text())
        assert got["num_examples"] == ref["num_examples"] > 0
        assert got["scalars"].keys() == ref["scalars"].keys()
        for k, v in ref["scalars"].items():
            # The loss sums float32 batch losses: other batch sizes, other rounding.
            assert got["scalars"][k] == pytest.approx(v, abs=1e-6 if k == "loss" else 1e-12), k
    # --checkpoint names another model; a model of another task is refused.
    r = run_cli(clintorch_bin, "evaluate", "--recipe", recipe, "--checkpoint", models["cls"][0])
    assert r.returncode == 1 and "token_classification" in r.stderr, r.stderr
    r = run_cli(clintorch_bin, "evaluate", "--recipe", recipe, "--set", "data.test_file=\"\"",
                "--split", "test")
    assert r.returncode == 2 and "data.test_file" in r.stderr, r.stderr

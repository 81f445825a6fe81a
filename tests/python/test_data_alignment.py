"""NER label alignment parity: our features equal HF run_ner.py's tokenize_and_align_labels.

The reference is the run_ner.py logic (label_list sorted, label_to_id, b_to_i_label, word_ids
walk) re-implemented here on top of the venv's BertTokenizerFast, run on the whole NCBI-disease
train set. Our side is dumped by clintorch_data_tool (tests/tools/data_tool.cpp).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
from transformers import BertTokenizerFast

TOOL = os.environ.get("CLINTORCH_DATA_TOOL")


def read_conll(path):
    """Sentences as run_ner's datasets would see them: token<TAB>tag, blank line between."""
    sents, tags, cur_w, cur_t = [], [], [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if cur_w:
                sents.append(cur_w)
                tags.append(cur_t)
            cur_w, cur_t = [], []
            continue
        cols = line.split("\t")
        if cols[0] == "-DOCSTART-":
            continue
        cur_w.append(cols[0].strip())
        cur_t.append(cols[-1].strip())
    if cur_w:
        sents.append(cur_w)
        tags.append(cur_t)
    return sents, tags


def hf_tokenize_and_align_labels(tokenizer, sents, tags, label_all_tokens, max_length):
    """run_ner.py: label_list, b_to_i_label and tokenize_and_align_labels, verbatim logic."""
    label_list = sorted({t for s in tags for t in s})
    label_to_id = {l: i for i, l in enumerate(label_list)}
    b_to_i_label = []
    for idx, label in enumerate(label_list):
        if label.startswith("B-") and label.replace("B-", "I-") in label_list:
            b_to_i_label.append(label_list.index(label.replace("B-", "I-")))
        else:
            b_to_i_label.append(idx)
    enc = tokenizer(sents, padding=False, truncation=True, max_length=max_length,
                    is_split_into_words=True)
    labels = []
    for i, label in enumerate(tags):
        word_ids = enc.word_ids(batch_index=i)
        previous_word_idx = None
        label_ids = []
        for word_idx in word_ids:
            if word_idx is None:
                label_ids.append(-100)
            elif word_idx != previous_word_idx:
                label_ids.append(label_to_id[label[word_idx]])
            else:
                if label_all_tokens:
                    label_ids.append(b_to_i_label[label_to_id[label[word_idx]]])
                else:
                    label_ids.append(-100)
            previous_word_idx = word_idx
        labels.append(label_ids)
    return label_list, enc["input_ids"], labels


def run_tool(tmp_path, *args):
    if not TOOL:
        pytest.fail("CLINTORCH_DATA_TOOL is not set (run through ctest)")
    out = tmp_path / "features.jsonl"
    proc = subprocess.run([TOOL, "features", *map(str, args), "--out", str(out), "--no-cache"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    head = json.loads(lines[0])
    feats = [json.loads(l) for l in lines[1:]]
    return head, feats


@pytest.fixture(scope="module")
def ncbi(shared_datasets):
    path = shared_datasets / "ner_NCBI-disease" / "train.tsv"
    if not path.exists():
        pytest.skip(f"{path} absent")
    return path


@pytest.mark.parametrize("label_all", [False, True], ids=["first_subtoken", "label_all_tokens"])
def test_ncbi_alignment_equals_hf_uncased(ncbi, minilm_dir, tmp_path, label_all):
    """Whole NCBI-disease train set, MiniLM (uncased) tokenizer, no window needed at 512."""
    sents, tags = read_conll(ncbi)
    tok = BertTokenizerFast.from_pretrained(str(minilm_dir))
    label_list, ids, labels = hf_tokenize_and_align_labels(tok, sents, tags, label_all, 512)
    args = ["--task", "ner", "--model", minilm_dir, "--input", ncbi, "--max-seq-length", 512]
    if label_all:
        args.append("--label-all-tokens")
    head, feats = run_tool(tmp_path, *args)
    assert head["labels"] == label_list
    assert head["num_examples"] == len(sents) == 5424
    assert len(feats) == len(sents), "a sentence needed more than one 512-token window"
    n_labels = 0
    for i, f in enumerate(feats):
        assert f["example"] == i
        assert f["input_ids"] == ids[i], f"input ids differ in sentence {i}"
        assert f["labels"] == labels[i], f"labels differ in sentence {i}"
        n_labels += sum(1 for l in labels[i] if l != -100)
    print(f"NCBI train: {len(feats)} sentences, {n_labels} labelled tokens identical to HF")


@pytest.mark.parametrize("label_all", [False, True], ids=["first_subtoken", "label_all_tokens"])
def test_ncbi_first_window_equals_hf_truncation_cased(ncbi, shared_datasets, tmp_path, label_all):
    """Cased vocab (bert-base-cased = Bio_ClinicalBERT's), max 64: our first window of every
    sentence equals HF's truncated encoding, and the later windows hold the rest."""
    vocab = shared_datasets / "vocab_bert-base-cased" / "vocab.txt"  # Bio_ClinicalBERT's vocab
    sents, tags = read_conll(ncbi)
    tok = BertTokenizerFast.from_pretrained(str(vocab.parent), do_lower_case=False)
    label_list, ids, labels = hf_tokenize_and_align_labels(tok, sents, tags, label_all, 64)
    _, full_ids, full_labels = hf_tokenize_and_align_labels(tok, sents, tags, label_all, 100000)
    args = ["--task", "ner", "--vocab", vocab, "--no-lowercase", "--input", ncbi,
            "--max-seq-length", 64, "--doc-stride", 16]
    if label_all:
        args.append("--label-all-tokens")
    head, feats = run_tool(tmp_path, *args)
    assert head["labels"] == label_list
    by_example = {}
    for f in feats:
        by_example.setdefault(f["example"], []).append(f)
    assert len(by_example) == len(sents)
    windowed = 0
    for i in range(len(sents)):
        ws = by_example[i]
        assert ws[0]["input_ids"] == ids[i] and ws[0]["labels"] == labels[i], f"sentence {i}"
        # Every content token of the full encoding appears, at its position, in the windows.
        content_ids = full_ids[i][1:-1]
        content_labels = full_labels[i][1:-1]
        covered = [False] * len(content_ids)
        for w in ws:
            b, n = w["token_begin"], w["token_count"]
            assert w["input_ids"][1:-1] == content_ids[b:b + n]
            assert w["labels"][1:-1] == content_labels[b:b + n]
            assert len(w["input_ids"]) <= 64
            for k in range(b, b + n):
                covered[k] = True
        assert all(covered)
        windowed += len(ws) > 1
    assert windowed > 0, "expected some NCBI sentences longer than 64 tokens"
    print(f"{windowed} sentences needed several windows")

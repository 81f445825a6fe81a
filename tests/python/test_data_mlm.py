"""MLM corpus parity with HF run_mlm.py: group_texts blocks and line_by_line sequences.

HF side: tokenizer(lines, return_special_tokens_mask=True), then group_texts (concatenate, cut
into max_seq_length blocks, drop the remainder) or, for line_by_line, truncation to
max_seq_length. The corpus stays under 1000 lines so HF's per-1000-line map batches do not drop
extra remainders (we drop only the final one).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
from transformers import BertTokenizerFast

TOOL = os.environ.get("CLINTORCH_DATA_TOOL")
SOURCE = Path(os.environ.get("CLINTORCH_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("CLINTORCH_SHARED_DATASETS", SOURCE.parent / "shared" / "datasets"))


def corpus_lines():
    pqa = SHARED / "qa_PubMedQA" / "ori_pqal.json"
    if pqa.exists():
        data = json.loads(pqa.read_text(encoding="utf-8"))
        return [" ".join(v["CONTEXTS"]) for _, v in sorted(data.items())[:400]]
    text = (SOURCE / "datasets" / "mlm_text" / "notes.txt").read_text(encoding="utf-8")
    return [l for l in text.splitlines() if l.strip()]


def run_tool(tmp_path, corpus, *args):
    if not TOOL:
        pytest.fail("CLINTORCH_DATA_TOOL is not set (run through ctest)")
    out = tmp_path / "mlm.jsonl"
    proc = subprocess.run([TOOL, "mlm", "--input", str(corpus), "--out", str(out), "--no-cache",
                           *map(str, args)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(l) for l in lines[1:]]


def test_group_texts_blocks_equal_hf(minilm_dir, tmp_path):
    lines = corpus_lines()
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tok = BertTokenizerFast.from_pretrained(str(minilm_dir))
    enc = tok(lines, return_special_tokens_mask=True)
    block = 128
    ids = sum(enc["input_ids"], [])
    special = sum(enc["special_tokens_mask"], [])
    total = len(ids) // block * block
    ref = [(ids[i:i + block], special[i:i + block]) for i in range(0, total, block)]
    head, ours = run_tool(tmp_path, corpus, "--model", minilm_dir, "--max-seq-length", block)
    assert head["num_tokens"] == len(ids)
    assert len(ours) == len(ref)
    for i, (o, (rid, rsp)) in enumerate(zip(ours, ref)):
        assert o["input_ids"] == rid, f"block {i}"
        assert o["special_tokens_mask"] == rsp, f"block {i}"
    print(f"{len(lines)} documents, {len(ids)} tokens -> {len(ours)} blocks equal to HF group_texts")


def test_line_by_line_equals_hf_truncation_and_keeps_the_rest(minilm_dir, tmp_path):
    lines = corpus_lines()[:200]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(lines) + "\n", encoding="utf-8")  # blank lines are skipped
    tok = BertTokenizerFast.from_pretrained(str(minilm_dir))
    max_len = 96
    trunc = tok(lines, truncation=True, max_length=max_len)["input_ids"]
    full = tok(lines)["input_ids"]
    head, ours = run_tool(tmp_path, corpus, "--model", minilm_dir, "--max-seq-length", max_len,
                          "--line-by-line")
    k = 0
    for i, line_ids in enumerate(full):
        content = line_ids[1:-1]
        room = max_len - 2
        chunks = [content[s:s + room] for s in range(0, len(content), room)]
        assert ours[k]["input_ids"] == trunc[i], f"line {i}: first sequence differs from HF"
        for c in chunks:
            assert ours[k]["input_ids"] == [tok.cls_token_id] + c + [tok.sep_token_id]
            k += 1
    assert k == len(ours) == head["num_sequences"]
    print(f"{len(lines)} lines -> {k} sequences (HF truncation would keep {len(lines)})")

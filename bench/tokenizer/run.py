#!/usr/bin/env python3
"""Tokenizer throughput: clintorch vs HF `tokenizers` on the same corpus, in one run.

Corpus: every text line of NCBI-disease, BC5CDR (sentences rebuilt from tokens), PubMedQA, HoC and
mtsamples from ../shared/datasets (the parity test's corpus), written to a temporary file.
HF: BertTokenizerFast(...).backend_tokenizer.encode_batch (ids, type ids, masks, offsets, tokens),
in a subprocess with RAYON_NUM_THREADS=1 (single thread) and with rayon's default (all threads).
Ours: build/bench/clintorch_bench_tokenizer (Tokenizer::encode_batch, same outputs) with 1 thread
and with all threads. Each figure is the best of --repeat timed runs after one warm-up run.

usage: .venv/bin/python bench/tokenizer/run.py [--model DIR] [--build build] [--repeat 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
import tok_corpus  # noqa: E402

HF_SCRIPT = r"""
import json, sys, time
from transformers import BertTokenizerFast
model, corpus, repeat, fast = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
tok = BertTokenizerFast.from_pretrained(model).backend_tokenizer
with open(corpus, encoding="utf-8") as f:
    texts = f.read().split("\n")[:-1]
run = tok.encode_batch_fast if fast else tok.encode_batch
best, tokens = 1e30, 0
for r in range(repeat + 1):
    t0 = time.perf_counter()
    encs = run(texts)
    s = time.perf_counter() - t0
    tokens = sum(len(e.ids) for e in encs)
    if r > 0:
        best = min(best, s)
print(json.dumps({"seconds": best, "tokens": tokens, "texts": len(texts)}))
"""


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    shared = Path(os.environ.get("CLINTORCH_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
    ap.add_argument("--model", default=str(shared / "vocab_bert-base-uncased"))
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    if not shared.is_dir():
        sys.exit(f"shared datasets folder {shared} is absent: nothing to benchmark")
    ours_bin = Path(args.build) / "bench" / "clintorch_bench_tokenizer"
    if not ours_bin.exists():
        sys.exit(f"{ours_bin} not found: build first (cmake --build {args.build})")

    lines = [t.replace("\n", " ") for texts in tok_corpus.corpora(shared).values() for t in texts]
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("".join(t + "\n" for t in lines))
        corpus = f.name
    nbytes = os.path.getsize(corpus) - len(lines)
    try:
        results = {}
        for label, threads in (("1 thread", "1"), ("all threads", "0")):
            env = dict(os.environ)
            env.pop("RAYON_NUM_THREADS", None)
            env["TOKENIZERS_PARALLELISM"] = "true"
            if threads == "1":
                env["RAYON_NUM_THREADS"] = "1"
            hf = run_json([args.python, "-c", HF_SCRIPT, args.model, corpus, str(args.repeat), "0"], env)
            hf_fast = run_json([args.python, "-c", HF_SCRIPT, args.model, corpus, str(args.repeat), "1"], env)
            ours = run_json([str(ours_bin), "--model", args.model, "--corpus", corpus, "--threads",
                             threads, "--repeat", str(args.repeat)])
            if ours["tokens"] != hf["tokens"]:
                sys.exit(f"token counts differ: ours {ours['tokens']} vs HF {hf['tokens']}")
            results[label] = (hf, hf_fast, ours)
        cpus = os.cpu_count()
        print(f"corpus: {len(lines)} texts, {nbytes / 1e6:.2f} MB, {results['1 thread'][0]['tokens']} "
              f"tokens; model {args.model}; {cpus} CPUs; best of {args.repeat}")
        print(f"{'':12} {'impl':28} {'seconds':>8} {'MB/s':>8} {'Mtok/s':>8} {'ours/this':>9}")
        for label, (hf, hf_fast, ours) in results.items():
            for name, r in (("HF encode_batch", hf), ("HF encode_batch_fast (no offs)", hf_fast),
                            ("clintorch encode_batch", ours)):
                ratio = r["seconds"] / ours["seconds"]
                print(f"{label:12} {name:28} {r['seconds']:8.3f} {nbytes / r['seconds'] / 1e6:8.1f} "
                      f"{r['tokens'] / r['seconds'] / 1e6:8.2f} {ratio:8.1f}x")
    finally:
        os.unlink(corpus)


if __name__ == "__main__":
    main()

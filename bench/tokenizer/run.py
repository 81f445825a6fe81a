#!/usr/bin/env python3
"""Tokenizer throughput: clintorch vs HF `tokenizers` on the same corpus, in one run.

Corpus: every text line of NCBI-disease, BC5CDR (sentences rebuilt from tokens), PubMedQA, HoC and
mtsamples from ../shared/datasets (the parity test's corpus), written to a temporary file.

HF: BertTokenizerFast(...).backend_tokenizer.encode_batch (ids, type ids, masks, offsets, tokens),
in a subprocess with RAYON_NUM_THREADS=1 (single thread) and with rayon's default (all threads).
Ours: build/bench/clintorch_bench_tokenizer (Tokenizer::encode_batch, the same outputs) with 1
thread and with all threads. Both sides produce the same token count (checked).

Each process does one warm-up run and --repeat timed runs; HF and ours alternate --rounds times
so that both see the same machine load, and the best run is kept. Besides wall time the script
records process CPU time: on a shared, loaded machine the single-thread CPU time is the robust
figure (wall time there includes waiting for a core).

usage: .venv/bin/python bench/tokenizer/run.py [--model DIR] [--build build] [--rounds 3]
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
model, corpus, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
tok = BertTokenizerFast.from_pretrained(model).backend_tokenizer
with open(corpus, encoding="utf-8") as f:
    texts = f.read().split("\n")[:-1]
best, best_cpu, tokens, encs = 1e30, 1e30, 0, None
for r in range(repeat + 1):
    encs = None  # free the previous result outside the timed region
    c0, t0 = time.process_time(), time.perf_counter()
    encs = tok.encode_batch(texts)
    s, cpu = time.perf_counter() - t0, time.process_time() - c0
    tokens = sum(len(e.ids) for e in encs)
    if r > 0:
        best, best_cpu = min(best, s), min(best_cpu, cpu)
print(json.dumps({"seconds": best, "cpu_seconds": best_cpu, "tokens": tokens, "texts": len(texts)}))
"""


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def best(a, b):
    if a is None:
        return b
    return {**a, "seconds": min(a["seconds"], b["seconds"]),
            "cpu_seconds": min(a["cpu_seconds"], b["cpu_seconds"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    shared = Path(os.environ.get("CLINTORCH_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
    ap.add_argument("--model", default=str(shared / "vocab_bert-base-uncased"))
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per process")
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
    load_before = os.getloadavg()[0]
    try:
        results = {}
        for label, threads in (("1 thread", "1"), ("all threads", "0")):
            env = dict(os.environ)
            env.pop("RAYON_NUM_THREADS", None)
            env["TOKENIZERS_PARALLELISM"] = "true"
            if threads == "1":
                env["RAYON_NUM_THREADS"] = "1"
            hf = ours = None
            for _ in range(args.rounds):
                hf = best(hf, run_json([args.python, "-c", HF_SCRIPT, args.model, corpus,
                                        str(args.repeat)], env))
                ours = best(ours, run_json([str(ours_bin), "--model", args.model, "--corpus", corpus,
                                            "--threads", threads, "--repeat", str(args.repeat)]))
            if ours["tokens"] != hf["tokens"]:
                sys.exit(f"token counts differ: ours {ours['tokens']} vs HF {hf['tokens']}")
            results[label] = (hf, ours)
        print(f"corpus: {len(lines)} texts, {nbytes / 1e6:.2f} MB, {results['1 thread'][0]['tokens']} "
              f"tokens; model {Path(args.model).name}; {os.cpu_count()} CPUs; load average "
              f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}; best of {args.rounds}x{args.repeat}")
        print(f"{'':12} {'impl':24} {'wall s':>7} {'MB/s':>7} {'Mtok/s':>7} {'ours/HF':>8} | "
              f"{'CPU s':>7} {'MB/s':>7} {'Mtok/s':>7} {'ours/HF':>8}")
        for label, (hf, ours) in results.items():
            for name, r in (("HF encode_batch", hf), ("clintorch encode_batch", ours)):
                w, c = r["seconds"], r["cpu_seconds"]
                rw = f"{hf['seconds'] / ours['seconds']:7.1f}x" if r is ours else ""
                rc = f"{hf['cpu_seconds'] / ours['cpu_seconds']:7.1f}x" if r is ours else ""
                print(f"{label:12} {name:24} {w:7.3f} {nbytes / w / 1e6:7.1f} "
                      f"{r['tokens'] / w / 1e6:7.2f} {rw:>8} | {c:7.3f} {nbytes / c / 1e6:7.1f} "
                      f"{r['tokens'] / c / 1e6:7.2f} {rc:>8}")
    finally:
        os.unlink(corpus)


if __name__ == "__main__":
    main()

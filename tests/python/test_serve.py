"""`clintorch serve` on loopback (issue 15): every endpoint against `clintorch predict` /
`clintorch embed` on the same inputs, 32 concurrent clients, bad requests, graceful shutdown.

Models: small random NER and classification heads on the MiniLM vocabulary (eval_util), and
all-MiniLM-L6-v2 itself for embeddings. Each test is bounded in time and request count."""
import http.client
import json
import random
import re
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import SOURCE_DIR, run_cli
from eval_util import make_model

NOTES = SOURCE_DIR / "datasets" / "mlm_clinical_sample" / "notes.txt"
KEY = "s3cret-key"


def sample_lines():
    lines = [l for l in NOTES.read_text(encoding="utf-8").splitlines() if l.strip()]
    lines.append(" ".join(lines[:12]))  # several windows
    lines.append("Pt c/o douleur thoracique — troponine négative ×2; naïve to β-blockers.")
    return lines


class Server:
    """A `clintorch serve` child on a free port; its stderr is drained by a thread."""

    def __init__(self, binary, models, *extra):
        cmd = [str(binary), "serve", "--port", "0", "--threads", "1", "--dtype", "fp32"]
        for name, path in models.items():
            cmd += ["--model", f"{name}={path}"]
        self.proc = subprocess.Popen(cmd + [str(e) for e in extra], stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, text=True)
        self.lines = []
        self.port = None
        ready = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.lines.append(line)
                found = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        ready.wait(120)
        assert self.port, "".join(self.lines)[-3000:]

    def request(self, method, path, body=None, key=KEY, raw=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        payload = res.read()
        conn.close()
        ctype = res.getheader("Content-Type", "")
        return res.status, (json.loads(payload) if "json" in ctype else payload.decode()), res

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def models(tmp_path_factory, minilm_dir):
    tmp = tmp_path_factory.mktemp("serve_models")
    return {"ner": make_model("ner", tmp / "ner", minilm_dir, seed=21)[0],
            "cls": make_model("cls", tmp / "cls", minilm_dir, seed=22)[0],
            "minilm": minilm_dir}


@pytest.fixture(scope="module")
def server(clintorch_bin, models, tmp_path_factory):
    key = tmp_path_factory.mktemp("key") / "key.txt"
    key.write_text(KEY + "\n")
    s = Server(clintorch_bin, models, "--api-key-file", key, "--max-body-bytes", 300000,
               "--read-timeout", 2, "--http-threads", 40)
    yield s
    assert s.stop() == 0, "".join(s.lines)[-3000:]


@pytest.fixture(scope="module")
def reference(clintorch_bin, models, tmp_path_factory):
    """`clintorch predict` and `clintorch embed` on the sample lines, keyed by text."""
    tmp = tmp_path_factory.mktemp("reference")
    lines = sample_lines()
    src = tmp / "lines.txt"
    src.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    out = {}
    for kind in ("ner", "cls"):
        dst = tmp / f"{kind}.jsonl"
        run_cli(clintorch_bin, "predict", "--model", models[kind], "--input", src, "--output", dst,
                "--dtype", "fp32", "--threads", 1, check=True)
        recs = [json.loads(l) for l in dst.read_text().splitlines()]
        out[kind] = {lines[r["line"] - 1]: r for r in recs}
    npy = tmp / "emb.npy"
    run_cli(clintorch_bin, "embed", "--model", models["minilm"], "--input", src, "--output", npy,
            "--pooling", "mean", "--normalize", "--dtype", "fp32", "--threads", 1, check=True)
    out["embed"] = dict(zip(lines, np.load(npy)))
    return out


def same_record(got, want):
    """A served record against predict's: the head's fields (the ids differ: request index vs
    file line)."""
    if "entities" in want:
        spans = lambda r: [(e["start"], e["end"], e["label"]) for e in r["entities"]]
        assert spans(got) == spans(want)
        for a, b in zip(got["entities"], want["entities"]):
            assert a["score"] == pytest.approx(b["score"], abs=1e-5)
    if "probabilities" in want:
        assert got["label"] == want["label"]
        assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)


def test_endpoints_equal_predict_and_embed(server, reference):
    lines = sample_lines()
    assert server.request("GET", "/health", key=None)[0] == 200
    assert server.request("GET", "/ready", key=None)[0] == 200
    status, listing, _ = server.request("GET", "/v1/models")
    assert status == 200
    tasks = {m["name"]: m.get("task") for m in listing["models"]}
    assert tasks == {"ner": "token_classification", "cls": "sequence_classification",
                     "minilm": None}
    for kind in ("ner", "cls"):
        status, body, _ = server.request("POST", f"/v1/models/{kind}/predict", {"inputs": lines})
        assert status == 200, body
        assert len(body["predictions"]) == len(lines)
        for i, (line, rec) in enumerate(zip(lines, body["predictions"])):
            assert rec["line"] == i + 1
            same_record(rec, reference[kind][line])
    # One document, with an id, as the body itself.
    status, body, _ = server.request("POST", "/v1/models/ner/predict", {"text": lines[0], "id": "a"})
    assert status == 200 and body["predictions"][0]["id"] == "a"
    same_record(body["predictions"][0], reference["ner"][lines[0]])
    status, body, _ = server.request("POST", "/v1/models/minilm/embed",
                                     {"inputs": lines, "normalize": True})
    assert status == 200, body
    got = np.array(body["embeddings"], dtype=np.float32)
    want = np.stack([reference["embed"][l] for l in lines])
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-5
    status, metrics, _ = server.request("GET", "/metrics")
    assert status == 200
    assert 'clintorch_requests_total{model="ner",endpoint="predict",status="200"}' in metrics
    assert "clintorch_batch_documents_bucket" in metrics and "clintorch_queue_documents" in metrics


def test_thirty_two_clients_each_get_their_own_answers(server, reference):
    lines = sample_lines()
    rng = random.Random(5)
    jobs = [[rng.choice(lines) for _ in range(rng.randint(1, 4))] for _ in range(32 * 50)]

    def call(texts):
        status, body, _ = server.request("POST", "/v1/models/ner/predict", {"inputs": texts})
        assert status == 200, body
        assert len(body["predictions"]) == len(texts)
        for text, rec in zip(texts, body["predictions"]):
            same_record(rec, reference["ner"][text])
        return len(texts)

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        done = sum(pool.map(call, jobs))
    assert done == sum(len(j) for j in jobs)
    assert time.monotonic() - t0 < 300


def test_bad_requests_get_clear_statuses_and_the_server_goes_on(server):
    path = "/v1/models/ner/predict"
    status, body, _ = server.request("POST", path, raw="{not json")
    assert status == 400 and "not valid JSON" in body["error"]["message"]
    status, body, _ = server.request("POST", path, {"inputs": 5})
    assert status == 400 and body["error"]["field"] == "inputs"
    status, body, _ = server.request("POST", path, {"inputs": ["ok", {"text": 3}]})
    assert status == 400 and body["error"]["field"] == "inputs[1]"
    assert "ok" not in body["error"]["message"]  # no input text in errors
    status, body, _ = server.request("POST", path, {"inputs": ["x" * 400000]})
    assert status == 413
    status, body, _ = server.request("POST", path, {"inputs": ["a"]}, key=None)
    assert status == 401
    status, body, _ = server.request("POST", path, {"inputs": ["a"]}, key="wrong")
    assert status == 401
    status, body, _ = server.request("POST", "/v1/models/nope/predict", {"inputs": ["a"]})
    assert status == 404 and "nope" in body["error"]["message"]
    status, body, _ = server.request("POST", "/v1/models/minilm/predict", {"inputs": ["a"]})
    assert status == 404  # an encoder without a head serves /embed only
    # A slow client sending its body a byte at a time is cut off after the read timeout, while
    # the others are served.
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(b"POST /v1/models/ner/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                 + KEY.encode() + b"\r\nContent-Length: 1000\r\n\r\n{")
    status, body, _ = server.request("POST", path, {"inputs": ["chest pain"]})
    assert status == 200
    slow.settimeout(10)
    t0 = time.monotonic()
    assert slow.recv(65536) is not None  # closed (or answered) once the read timeout passed
    assert time.monotonic() - t0 < 8
    slow.close()
    # No input text in the logs: the access log holds method, path, status, sizes, latency.
    assert not any("chest pain" in l for l in server.lines)


def test_sigterm_answers_the_requests_in_flight(clintorch_bin, models):
    s = Server(clintorch_bin, {"ner": models["ner"]}, "--max-batch-tokens", 256)
    lines = sample_lines() * 3
    results = []

    def call():
        results.append(s.request("POST", "/v1/models/ner/predict", {"inputs": lines}, key=None))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    assert s.stop() == 0, "".join(s.lines)[-3000:]
    for t in threads:
        t.join(60)
    assert [r[0] for r in results] == [200] * 4
    assert all(len(r[1]["predictions"]) == len(lines) for r in results)
    assert any("SIGTERM" in l for l in s.lines)

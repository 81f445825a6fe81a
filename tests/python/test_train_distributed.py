"""Data-parallel training (issue 13): `torchrun --no-python clintorch train` on 2 CPU processes
over loopback against one process with the same global batch, a rank killed mid-run, and
checkpoints resumed on another number of processes.

Each optimizer step spans per_device_train_batch_size x ranks x gradient_accumulation_steps
examples, so 2 processes with accumulation 2 and 1 process with accumulation 4 train on the same
micro-batches, with the same dropout masks (seeded per micro-batch). They differ only in the order
the micro-batches' gradients are summed, i.e. in rounding.

One exception in the weight comparison: the attention key biases. Their gradient is zero in exact
arithmetic (softmax ignores a constant added to every score of a query), so what they hold is
rounding noise scaled up by Adam's normalisation (a step of about the learning rate whatever the
gradient's size); the summation order changes that noise. They are compared on the scale of the
whole model instead of their own."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import SOURCE_DIR
from train_util import ner_recipe, write_recipe

STEPS = 20


def recipe(tmp_path, minilm_dir, name, **training):
    r = ner_recipe(minilm_dir, tmp_path / name, validation=True,
                   evaluation={"eval_strategy": "steps", "eval_steps": 10, "save_strategy": "no"},
                   **{"learning_rate": 3e-4, "gradient_accumulation_steps": 2, "max_steps": STEPS,
                      "seed": 3, **training})
    r["distributed"] = {"timeout_s": 60}
    return write_recipe(tmp_path / f"{name}.yaml", r)


def env_for(threads="1"):
    env = dict(os.environ)
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
              "MASTER_PORT", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS"):
        env.pop(k, None)
    env["OMP_NUM_THREADS"] = threads
    return env


def torchrun(clintorch_bin, *args, nproc=2):
    """`torchrun --standalone --nproc-per-node N --no-python clintorch train ...`."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={nproc}", "--no-python", str(clintorch_bin), "train", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env_for(), timeout=600)


def single(clintorch_bin, *args):
    cmd = [str(clintorch_bin), "train", *map(str, args), "--set", "training.threads=1"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env_for(), timeout=600)


def records(out_dir, split):
    lines = (out_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == split]


def assert_weights_close(a, b):
    scale = max(float(np.abs(v).max()) for v in a.values())
    for name, x in a.items():
        y = b[name]
        own = float(np.abs(x).max())
        ref = scale if "attention.self.key.bias" in name else max(own, 1e-12)
        diff = float(np.abs(x - y).max())
        assert diff <= 1e-5 * ref, f"{name}: max difference {diff:.3g}, max magnitude {own:.3g}"


@pytest.fixture(scope="module")
def two_ranks(clintorch_bin, minilm_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    path = recipe(tmp, minilm_dir, "two")
    proc = torchrun(clintorch_bin, path, "--dump-weights", tmp / "weights_two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp, proc


def test_two_ranks_train_as_one_process_with_the_same_global_batch(
        clintorch_bin, minilm_dir, two_ranks):
    tmp, proc = two_ranks
    # Both ranks hold bitwise the same parameters.
    r0 = load_file(tmp / "weights_two" / "rank0.safetensors")
    r1 = load_file(tmp / "weights_two" / "rank1.safetensors")
    assert r0.keys() == r1.keys()
    for name in r0:
        assert np.array_equal(r0[name], r1[name]), name
    # Rank 0 alone writes: one log line per step, not two.
    assert proc.stderr.count(f"step {STEPS}/{STEPS} ") == 1, proc.stderr[-2000:]

    one = recipe(tmp, minilm_dir, "one", gradient_accumulation_steps=4)
    p = single(clintorch_bin, one, "--dump-weights", tmp / "weights_one")
    assert p.returncode == 0, p.stderr[-3000:]
    assert_weights_close(load_file(tmp / "weights_one" / "rank0.safetensors"), r0)

    two_train, one_train = records(tmp / "two", "train"), records(tmp / "one", "train")
    assert [r["step"] for r in two_train] == list(range(1, STEPS + 1))
    assert [r["epoch"] for r in two_train] == [r["epoch"] for r in one_train]
    for a, b in zip(one_train, two_train):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5), a["step"]
    two_eval, one_eval = records(tmp / "two", "eval"), records(tmp / "one", "eval")
    assert [r["step"] for r in two_eval] == [10, 20]
    for a, b in zip(one_eval, two_eval):
        for k in ("eval_f1", "eval_precision", "eval_recall", "eval_accuracy"):
            assert b[k] == a[k], k
        assert b["eval_loss"] == pytest.approx(a["eval_loss"], rel=1e-5)


def test_a_checkpoint_resumes_on_another_number_of_processes(
        clintorch_bin, minilm_dir, two_ranks, tmp_path):
    tmp, _ = two_ranks
    reference = load_file(tmp / "weights_two" / "rank0.safetensors")
    # Saved by 2 processes, finished by 1 (accumulation 4 keeps the global batch).
    path = recipe(tmp_path, minilm_dir, "a")
    proc = torchrun(clintorch_bin, path, "--stop-after-steps", "10")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "a" / "checkpoint-10").is_dir()
    p = single(clintorch_bin, path, "--set", "training.gradient_accumulation_steps=4",
               "--set", "training.resume_from_checkpoint=last", "--dump-weights", tmp_path / "wa")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "resumed from" in p.stderr
    assert_weights_close(reference, load_file(tmp_path / "wa" / "rank0.safetensors"))
    # Saved by 1 process, finished by 2.
    path = recipe(tmp_path, minilm_dir, "b", gradient_accumulation_steps=4)
    p = single(clintorch_bin, path, "--stop-after-steps", "10")
    assert p.returncode == 0, p.stderr[-3000:]
    proc = torchrun(clintorch_bin, path, "--set", "training.gradient_accumulation_steps=2",
                    "--set", "training.resume_from_checkpoint=last", "--dump-weights",
                    tmp_path / "wb")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_weights_close(reference, load_file(tmp_path / "wb" / "rank0.safetensors"))
    assert_weights_close(reference, load_file(tmp_path / "wb" / "rank1.safetensors"))


def test_two_nodes_through_the_c10d_rendezvous(clintorch_bin, minilm_dir, tmp_path):
    """Two torchrun agents, one process each, meeting at --rdzv-endpoint as two machines would
    (here both on loopback): the multi-node launch path."""
    path = recipe(tmp_path, minilm_dir, "nodes", max_steps=6)
    endpoint = f"127.0.0.1:{free_port()}"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1",
         "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}", "--rdzv-id=clintorch-test",
         "--no-python", str(clintorch_bin), "train", str(path), "--dump-weights",
         str(tmp_path / "w")], env=env_for(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for _ in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs[0][-2000:] + errs[1][-2000:]
    assert sum(e.count("step 6/6 ") for e in errs) == 1  # one rank logs
    r0 = load_file(tmp_path / "w" / "rank0.safetensors")
    r1 = load_file(tmp_path / "w" / "rank1.safetensors")
    for name in r0:
        assert np.array_equal(r0[name], r1[name]), name


def test_token_budget_batches_with_unequal_ranks_train_as_one_process(
        clintorch_bin, minilm_dir, tmp_path):
    """Token-budget micro-batches differ in size and tokens between ranks; the loss divisor is
    summed over the ranks, so the step still equals the one-process step."""
    two = recipe(tmp_path, minilm_dir, "tb2", max_steps=8)
    proc = torchrun(clintorch_bin, two, "--set", "data.max_tokens=160")
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = recipe(tmp_path, minilm_dir, "tb1", max_steps=8, gradient_accumulation_steps=4)
    p = single(clintorch_bin, one, "--set", "data.max_tokens=160")
    assert p.returncode == 0, p.stderr[-3000:]
    for a, b in zip(records(tmp_path / "tb1", "train"), records(tmp_path / "tb2", "train")):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5), a["step"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_killed_rank_stops_the_other_with_a_clear_error(clintorch_bin, minilm_dir, tmp_path):
    path = recipe(tmp_path, minilm_dir, "k", max_steps=400)
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        env = env_for()
        env.update(RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        procs.append(subprocess.Popen([str(clintorch_bin), "train", str(path), "--set",
                                       "distributed.timeout_s=30"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    metrics = tmp_path / "k" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and procs[0].poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.2)
    assert procs[0].poll() is None, procs[0].communicate()[1][-3000:]
    procs[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    _, err = procs[0].communicate(timeout=60)
    procs[1].wait()
    assert procs[0].returncode not in (0, None)
    assert time.monotonic() - killed < 30, "rank 0 outlived the timeout"
    assert "error: rank 0 of 2:" in err and "failed" in err, err[-2000:]
    assert "distributed.timeout_s" in err


def test_launch_variables_are_checked(clintorch_bin, minilm_dir, tmp_path):
    path = recipe(tmp_path, minilm_dir, "e")
    env = env_for()
    env.update(RANK="0", WORLD_SIZE="2")  # no MASTER_ADDR / MASTER_PORT
    p = subprocess.run([str(clintorch_bin), "train", str(path)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode != 0
    assert "MASTER_ADDR" in p.stderr and "torchrun" in p.stderr, p.stderr
    env.update(RANK="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="1")
    p = subprocess.run([str(clintorch_bin), "train", str(path)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode != 0
    assert "RANK" in p.stderr and "'2'" in p.stderr, p.stderr
    assert not (tmp_path / "e").exists()  # nothing written


def test_sigterm_to_torchrun_checkpoints_and_stops_every_rank(clintorch_bin, minilm_dir,
                                                              tmp_path):
    path = recipe(tmp_path, minilm_dir, "t", max_steps=400)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           "--no-python", str(clintorch_bin), "train", str(path)]
    proc = subprocess.Popen(cmd, env=env_for(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    metrics = tmp_path / "t" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "interrupted by SIGTERM" in err, err[-3000:]
    checkpoints = sorted((tmp_path / "t").glob("checkpoint-*"))
    assert len(checkpoints) == 1 and (checkpoints[0] / "trainer_state.json").is_file()
    step = int(checkpoints[0].name.split("-")[1])
    assert json.loads((checkpoints[0] / "trainer_state.json").read_text())["global_step"] == step
    assert step < 400


def cuda_devices():
    try:
        import torch
        return torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no usable CUDA build counts as none
        return 0


@pytest.mark.skipif(cuda_devices() < 2, reason="needs 2 CUDA GPUs (NCCL takes one per process)")
def test_two_ranks_on_cuda_use_nccl_and_stay_identical(clintorch_bin, minilm_dir, tmp_path):
    path = recipe(tmp_path, minilm_dir, "cuda", device="cuda", max_steps=6)
    proc = torchrun(clintorch_bin, path, "--dump-weights", tmp_path / "w")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "NCCL backend library" not in proc.stderr  # the plugin was found and used
    r0 = load_file(tmp_path / "w" / "rank0.safetensors")
    r1 = load_file(tmp_path / "w" / "rank1.safetensors")
    for name in r0:
        assert np.array_equal(r0[name], r1[name]), name


def test_mlm_with_its_tied_decoder_trains_as_one_process(clintorch_bin, minilm_dir, tmp_path):
    """MLM: the decoder is tied to the word embeddings, so their gradient is dense (no sparse
    row reduction); masking is keyed by the micro-batch, evaluation on the held-out split."""
    def mlm(name, accumulation):
        return write_recipe(tmp_path / f"{name}.yaml", {
            "model": {"pretrained": str(minilm_dir)},
            "tokenizer": {"max_seq_length": 64},
            "task": {"name": "mlm"},
            "data": {"train_file": str(SOURCE_DIR / "datasets" / "mlm_clinical_sample" /
                                       "notes.txt"),
                     "format": "text", "validation_split_percentage": 10},
            "training": {"learning_rate": 1e-4, "per_device_train_batch_size": 4,
                         "gradient_accumulation_steps": accumulation, "max_steps": 6,
                         "device": "cpu", "seed": 5},
            "evaluation": {"eval_strategy": "steps", "eval_steps": 6, "save_strategy": "no"},
            "output": {"output_dir": str(tmp_path / name)},
            "logging": {"tensorboard": False, "progress_bar": "never", "logging_steps": 1},
        })
    proc = torchrun(clintorch_bin, mlm("mlm2", 2))
    assert proc.returncode == 0, proc.stderr[-3000:]
    p = single(clintorch_bin, mlm("mlm1", 4))
    assert p.returncode == 0, p.stderr[-3000:]
    for a, b in zip(records(tmp_path / "mlm1", "train"), records(tmp_path / "mlm2", "train")):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5), a["step"]
    (a,), (b,) = records(tmp_path / "mlm1", "eval"), records(tmp_path / "mlm2", "eval")
    assert b["eval_loss"] == pytest.approx(a["eval_loss"], rel=1e-5)

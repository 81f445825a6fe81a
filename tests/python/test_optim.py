"""Optimizer and schedule parity: our AdamW, parameter groups, gradient clipping and LR schedules
(src/train/optim.cpp, schedule.cpp, driven by clintorch_train_tool) against torch.optim.AdamW,
torch.nn.utils.clip_grad_norm_ and transformers' get_scheduler / Trainer, on the parameters of a
real (tiny) BertForTokenClassification, with the same gradients fed to both."""
import json
import math
import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import transformers
from transformers import BertConfig, BertForTokenClassification, Trainer, TrainingArguments

TOOL = os.environ.get("CLINTORCH_TRAIN_TOOL")
NUM_LAYERS = 3


@pytest.fixture(scope="module")
def tool():
    if not TOOL or not Path(TOOL).exists():
        pytest.fail(f"clintorch_train_tool not found ({TOOL}); build first (make test does)")
    return TOOL


def run_tool(tool, command, spec, tmp_path):
    spec_path = tmp_path / f"{command}.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([tool, command, str(spec_path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def hf_warmup_steps(ratio, total):
    """TrainingArguments.get_warmup_steps (transformers 5: warmup_steps < 1 is a ratio). Called on
    a stand-in object: building TrainingArguments itself needs `accelerate`, absent from the venv."""
    return TrainingArguments.get_warmup_steps(SimpleNamespace(warmup_steps=ratio), total)


def tiny_model():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=NUM_LAYERS,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=40,
                        num_labels=5)
    return BertForTokenClassification(config)


# The depth rule of layer-wise LR decay as documented in the recipe (training.layerwise_lr_decay):
# embeddings 0, encoder layer i -> i + 1, everything else (pooler, head) L + 1.
def depth(name):
    if ".embeddings." in name or name.startswith("embeddings."):
        return 0
    m = re.search(r"(?:^|\.)encoder\.layer\.(\d+)\.", name)
    return int(m.group(1)) + 1 if m else NUM_LAYERS + 1


def frozen_by_rule(name, freeze_embeddings, freeze_layers):
    m = re.search(r"(?:^|\.)encoder\.layer\.(\d+)\.", name)
    return (freeze_embeddings and (".embeddings." in name or name.startswith("embeddings."))) or \
        (m is not None and int(m.group(1)) < freeze_layers)


CASES = {
    # name: (schedule, warmup_steps, warmup_ratio, weight_decay, max_grad_norm, llrd, freeze_emb,
    #        freeze_layers, our fused kernel, torch fused)
    "linear_fused": ("linear", 4, 0.0, 0.01, 1.0, 1.0, False, 0, True, True),
    "linear_fused_vs_default": ("linear", 4, 0.0, 0.01, 1.0, 1.0, False, 0, True, None),
    "linear_single_vs_default": ("linear", 4, 0.0, 0.01, 1.0, 1.0, False, 0, False, None),
    "cosine_ratio_llrd_freeze": ("cosine", 0, 0.1, 0.05, 0.5, 0.8, True, 1, True, True),
    "constant_with_warmup_noclip": ("constant_with_warmup", 5, 0.0, 0.1, 0.0, 1.0, False, 0, True,
                                    True),
    "constant_single": ("constant", 0, 0.0, 0.01, 2.0, 0.9, False, 2, False, None),
    # fp16 loss scaling through the fused kernel (grad_scale / found_inf, as torch.amp.GradScaler
    # hands them to torch.optim.AdamW(fused=True)); steps 3 and 10 overflowed and are skipped.
    "fused_grad_scaler": ("linear", 4, 0.0, 0.01, 0.0, 1.0, False, 0, True, True),
}
SCALER = {"fused_grad_scaler": (1024.0, [3, 10])}
STEPS = 30


# On CUDA (skipped without one): our fused path against torch's fused CUDA kernel.
CUDA_CASES = ["linear_fused", "cosine_ratio_llrd_freeze", "fused_grad_scaler"]
PARITY_CASES = [(c, "cpu") for c in CASES] + [(c, "cuda") for c in CUDA_CASES]


@pytest.mark.parametrize("case,device", PARITY_CASES)
def test_adamw_schedule_clipping_parity(tool, tmp_path, case, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device: the CUDA fused-AdamW parity cases need one")
    (schedule, warmup_steps, warmup_ratio, weight_decay, max_grad_norm, llrd, freeze_emb,
     freeze_layers, ours_fused, torch_fused) = CASES[case]
    lr, beta1, beta2, eps = 1e-2, 0.9, 0.98, 1e-6
    model = tiny_model()
    named = list(model.named_parameters())
    init = {n: p.detach().clone() for n, p in named}  # on the CPU
    model.to(device)
    named = list(model.named_parameters())
    trainable = [n for n, _ in named if not frozen_by_rule(n, freeze_emb, freeze_layers)]

    # Gradients: random, with a per-step scale so that clipping is active on some steps only.
    gen = torch.Generator().manual_seed(1)
    grads = []
    for s in range(STEPS):
        scale = 0.02 if s % 3 else 0.4
        grads.append({n: torch.randn(p.shape, generator=gen) * scale for n, p in named})
    grad_scale, inf_steps = SCALER.get(case, (0.0, []))
    if grad_scale:
        grads = [{n: g * grad_scale for n, g in step.items()} for step in grads]  # scaled loss

    # --- ours
    (tmp_path / "init.bin").write_bytes(
        np.concatenate([init[n].numpy().ravel() for n, _ in named]).astype("<f4").tobytes())
    (tmp_path / "grads.bin").write_bytes(np.concatenate(
        [g[n].numpy().ravel() for g in grads for n, _ in named]).astype("<f4").tobytes())
    spec = {
        "params": [{"name": n, "shape": list(p.shape)} for n, p in named],
        "init": str(tmp_path / "init.bin"), "grads": str(tmp_path / "grads.bin"),
        "out": str(tmp_path / "out.bin"), "steps": STEPS, "learning_rate": lr,
        "weight_decay": weight_decay, "beta1": beta1, "beta2": beta2, "eps": eps,
        "max_grad_norm": max_grad_norm, "layerwise_lr_decay": llrd, "num_layers": NUM_LAYERS,
        "freeze_embeddings": freeze_emb, "freeze_layers": freeze_layers, "fused": ours_fused,
        "schedule": {"type": schedule, "warmup_steps": warmup_steps, "warmup_ratio": warmup_ratio},
        "grad_scale": grad_scale, "found_inf_steps": inf_steps, "device": device,
    }
    result = run_tool(tool, "adamw", spec, tmp_path)

    # --- reference: HF's decay split, torch.optim.AdamW, clip_grad_norm_, HF's schedule
    decay_names = set(Trainer.get_decay_parameter_names(None, model))
    assert sorted(result["frozen"]) == sorted(set(n for n, _ in named) - set(trainable))
    assert set(result["excluded_from_weight_decay"]) == set(n for n, _ in named) - decay_names

    params = dict(named)
    with torch.no_grad():
        for n, p in named:
            p.requires_grad_(n in trainable)
    groups = {}
    for n in trainable:
        decay = weight_decay > 0 and n in decay_names
        key = ("decay" if decay else "no_decay") + (f"/depth{depth(n)}" if llrd < 1 else "")
        g = groups.setdefault(key, {"params": [], "names": [],
                                    "weight_decay": weight_decay if decay else 0.0,
                                    "lr": lr * llrd ** (NUM_LAYERS + 1 - depth(n))
                                    if llrd < 1 else lr})
        g["params"].append(params[n])
        g["names"].append(n)
    assert [g["name"] for g in result["groups"]] == list(groups)
    for ours, (key, ref) in zip(result["groups"], groups.items()):
        assert ours["params"] == ref["names"], key
        assert ours["initial_lr"] == pytest.approx(ref["lr"], rel=1e-15), key
        assert ours["weight_decay"] == ref["weight_decay"], key

    kwargs = {} if torch_fused is None else {"fused": torch_fused}
    opt = torch.optim.AdamW(
        [{"params": g["params"], "weight_decay": g["weight_decay"], "lr": g["lr"]}
         for g in groups.values()], lr=lr, betas=(beta1, beta2), eps=eps, **kwargs)
    if warmup_ratio > 0:
        num_warmup = hf_warmup_steps(warmup_ratio, STEPS)
    else:
        num_warmup = warmup_steps
    sched = transformers.get_scheduler(schedule, opt, num_warmup_steps=num_warmup,
                                       num_training_steps=STEPS)
    ref_norms, ref_lrs = [], []
    trainable_params = [params[n] for n in trainable]
    for s in range(STEPS):
        for n in trainable:
            params[n].grad = grads[s][n].to(device)
        if max_grad_norm > 0:
            ref_norms.append(torch.nn.utils.clip_grad_norm_(trainable_params, max_grad_norm).item())
        ref_lrs.append([g["lr"] for g in opt.param_groups])
        if grad_scale:
            opt.grad_scale = torch.tensor(grad_scale, device=device)
            opt.found_inf = torch.tensor(1.0 if s in inf_steps else 0.0, device=device)
        opt.step()
        sched.step()
        opt.zero_grad()

    # Learning rates per step and group: the same doubles.
    assert len(result["lrs"]) == STEPS
    for s in range(STEPS):
        assert result["lrs"][s] == pytest.approx(ref_lrs[s], rel=1e-14, abs=0), s
    # Clipping: the same total norms.
    assert np.allclose(result["grad_norms"], ref_norms, rtol=1e-6, atol=0)

    ours = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype="<f4")
    ref = np.concatenate([params[n].detach().cpu().numpy().ravel() for n, _ in named])
    moved = np.abs(ref - np.concatenate([init[n].numpy().ravel() for n, _ in named])).max()
    assert moved > 1e-3  # the run did change the parameters
    diff = np.abs(ours - ref)
    # Relative difference per parameter tensor (max |ours - torch| / max |torch|), the worst one.
    rel, offset = 0.0, 0
    for n, p in named:
        k = p.numel()
        d, r = float(diff[offset:offset + k].max()), float(np.abs(ref[offset:offset + k]).max())
        rel = max(rel, 0.0 if d == 0 else d / max(r, 1e-30))
        offset += k
    print(f"{case} ({device}): max |ours - torch| = {diff.max():.3e}, max relative (per tensor) = {rel:.3e}, "
          f"bitwise equal: {bool((diff == 0).all())}")
    assert rel <= 1e-6, f"max relative difference {rel:.3e}"
    # Frozen parameters did not move.
    for n, _ in named:
        if n not in trainable:
            assert torch.equal(params[n].detach().cpu(), init[n])
    if ours_fused == bool(torch_fused) or (not ours_fused and torch_fused is None):
        # Same algorithm on both sides (fused kernel vs fused kernel, or torch's default CPU
        # single-tensor path vs ours): bitwise equal.
        assert (diff == 0).all(), f"not bitwise equal: max diff {diff.max():.3e}"


SCHEDULES = ["linear", "cosine", "constant", "constant_with_warmup"]


# (schedule, warmup, total); "constant" takes no warmup (the recipe rejects one).
SCHEDULE_CASES = [(name, warmup, total) for name in SCHEDULES
                  for warmup, total in [(0, 1), (0, 50), (10, 100), (7, 33), (100, 100),
                                        (150, 100), (1, 2)]
                  if not (name == "constant" and warmup > 0)]


@pytest.fixture(scope="module")
def schedule_results(tool, tmp_path_factory):
    """Our learning rates for every schedule case and warmup-ratio case, from one tool run."""
    cases = [{"type": name, "warmup_steps": warmup, "total_steps": total, "initial_lr": 3e-5,
              "extra_steps": 5} for name, warmup, total in SCHEDULE_CASES]
    cases += [{"type": "linear", "warmup_ratio": ratio, "total_steps": total, "initial_lr": 1e-3}
              for ratio, total in RATIO_CASES]
    results = run_tool(tool, "schedule", {"cases": cases}, tmp_path_factory.mktemp("schedule"))
    return dict(zip([("schedule",) + c for c in SCHEDULE_CASES] +
                    [("ratio",) + c for c in RATIO_CASES], results))


@pytest.mark.parametrize("name,warmup,total", SCHEDULE_CASES)
def test_schedule_values_equal_hf(schedule_results, name, warmup, total):
    base_lr = 3e-5
    result = schedule_results[("schedule", name, warmup, total)]
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=base_lr)
    sched = transformers.get_scheduler(name, opt, num_warmup_steps=warmup,
                                       num_training_steps=total)
    ref = []
    for _ in range(total + 6):
        ref.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert len(result["lr"]) == len(ref)
    for step, (a, b) in enumerate(zip(result["lr"], ref)):
        assert a == b or math.isclose(a, b, rel_tol=1e-15), f"step {step}: {a} != {b}"


RATIO_CASES = [(0.06, 100), (0.1, 33), (0.5, 7), (0.01, 10)]


@pytest.mark.parametrize("ratio,total", RATIO_CASES)
def test_warmup_ratio_equals_hf(schedule_results, ratio, total):
    result = schedule_results[("ratio", ratio, total)]
    assert result["warmup_steps"] == hf_warmup_steps(ratio, total)

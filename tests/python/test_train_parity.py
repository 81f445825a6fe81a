"""Training parity: 30 optimizer steps of `clintorch train` (AdamW with weight-decay groups,
linear warmup/decay, max_grad_norm, gradient_accumulation_steps 2, token classification, fp32,
dropout 0, CPU) against the same loop written in PyTorch with transformers'
BertForTokenClassification, torch.optim.AdamW and get_linear_schedule_with_warmup, the loss of
each optimizer step normalised by the labelled-token count of its two micro-batches (the fix of
transformers PR #34191). Same initial weights (the checkpoint Python writes) and the same batches
(the trainer's --dump-batches files, replayed). Per-step losses and final parameters agree within
1e-5 relative."""
import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import BertForTokenClassification, get_linear_schedule_with_warmup

from conftest import clintorch_bin, minilm_dir  # noqa: F401 (fixtures)
from train_util import metrics, ner_recipe, train, write_recipe, write_tiny_ner_model

STEPS = 30
ACCUM = 2
LR = 2e-3
WARMUP = 5
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0


def no_decay(name):
    # HF Trainer.get_decay_parameter_names: biases and LayerNorm weights get no weight decay.
    return "bias" in name or "LayerNorm" in name


def test_training_matches_pytorch_loop(clintorch_bin, minilm_dir, tmp_path):
    model_dir = tmp_path / "init"
    write_tiny_ner_model(model_dir, minilm_dir, dropout=0.0)
    out = tmp_path / "run"
    dumps = tmp_path / "batches"
    recipe = ner_recipe(model_dir, out, max_steps=STEPS, gradient_accumulation_steps=ACCUM,
                        learning_rate=LR, warmup_steps=WARMUP, weight_decay=WEIGHT_DECAY,
                        max_grad_norm=MAX_GRAD_NORM, lr_scheduler_type="linear",
                        per_device_train_batch_size=4)
    train(clintorch_bin, write_recipe(tmp_path / "r.yaml", recipe), "--dump-batches", dumps)
    ours = [r["loss"] for r in metrics(out)]
    assert [r["step"] for r in metrics(out)] == list(range(1, STEPS + 1))

    # The reference loop.
    torch.manual_seed(0)
    model = BertForTokenClassification.from_pretrained(model_dir, attn_implementation="eager")
    model.train()  # dropout is 0: train mode changes nothing but mirrors the trainer
    params = list(model.named_parameters())
    groups = [
        {"params": [p for n, p in params if not no_decay(n)], "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in params if no_decay(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, WARMUP, STEPS)
    ce = torch.nn.CrossEntropyLoss(reduction="sum", ignore_index=-100)
    ref = []
    for step in range(STEPS):
        micro = [load_file(dumps / f"step{step}_micro{m}.safetensors") for m in range(ACCUM)]
        n_tokens = sum(int((b["labels"] != -100).sum()) for b in micro)
        total = 0.0
        for b in micro:
            logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                           token_type_ids=b["token_type_ids"]).logits
            loss_sum = ce(logits.reshape(-1, logits.shape[-1]), b["labels"].reshape(-1))
            (loss_sum / n_tokens).backward()
            total += loss_sum.item()
        ref.append(total / n_tokens)
        torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        opt.step()
        sched.step()
        opt.zero_grad()

    for step, (a, b) in enumerate(zip(ours, ref), start=1):
        assert abs(a - b) <= 1e-5 * abs(b), f"step {step}: loss {a} vs reference {b}"
    # The losses moved: the test compares training, not a frozen model.
    assert ref[-1] < ref[0] * 0.9

    final = load_file(out / "export" / "model.safetensors")
    expected = {k: v.detach() for k, v in model.state_dict().items()}
    compared = 0
    bad = []
    for name, ref_t in expected.items():
        if name not in final:
            continue
        ours_t = final[name].to(ref_t.dtype)
        compared += 1
        if name.endswith("attention.self.key.bias"):
            # The key bias has an analytically zero gradient (softmax over the keys is invariant
            # to it) and starts at 0: both sides hold rounding noise that Adam's normalisation
            # turns into steps, so only its size is checked.
            assert ours_t.abs().max() < 1e-4 and ref_t.abs().max() < 1e-4, name
            continue
        scale = ref_t.abs().max().item()
        diff = (ours_t - ref_t).abs().max().item()
        if diff > 1e-5 * scale:
            bad.append(f"{name}: max diff {diff:.3g} (max |ref| {scale:.3g})")
    assert not bad, "parameters differ beyond 1e-5 relative:\n" + "\n".join(bad)
    # Every parameter of the reference model is in the export (pooler excepted: the token
    # classifier has none).
    assert compared == len([n for n, _ in params])
    initial = load_file(model_dir / "model.safetensors")
    assert not torch.equal(initial["classifier.weight"], final["classifier.weight"])

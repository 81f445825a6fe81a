"""Helpers for the model parity tests: build small random BERTs with transformers, run our encoder
through the model_dump tool (tests/tools/model_dump.cpp) and read its outputs back."""
import os
import subprocess
from pathlib import Path

import pytest
import torch

SOURCE_DIR = Path(os.environ.get("CLINTORCH_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def model_dump_bin():
    path = os.environ.get("CLINTORCH_MODEL_DUMP", str(SOURCE_DIR / "build" / "tests" / "model_dump"))
    if not Path(path).exists():
        pytest.fail(f"model_dump not found at {path}; build first (make test does)")
    return path


def run_dump(*args, check=True, timeout=300):
    """Runs model_dump with `args`; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([model_dump_bin(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"model_dump {' '.join(map(str, args))} failed "
                             f"({proc.returncode}):\n{proc.stderr}")
    return proc


def save_inputs(path, input_ids, attention_mask=None, token_type_ids=None):
    from safetensors.torch import save_file

    tensors = {"input_ids": input_ids.to(torch.int64).contiguous()}
    if attention_mask is not None:
        tensors["attention_mask"] = attention_mask.to(torch.int64).contiguous()
    if token_type_ids is not None:
        tensors["token_type_ids"] = token_type_ids.to(torch.int64).contiguous()
    save_file(tensors, str(path))


def ours(model_dir, tmp_path, input_ids, attention_mask=None, token_type_ids=None, *flags,
         tag="run"):
    """Our encoder's outputs for the inputs, as a dict of float32 tensors."""
    from safetensors.torch import load_file

    inputs = tmp_path / f"{tag}-inputs.safetensors"
    out = tmp_path / f"{tag}-outputs.safetensors"
    save_inputs(inputs, input_ids, attention_mask, token_type_ids)
    run_dump("--model", model_dir, "--inputs", inputs, "--out", out, *flags)
    return load_file(str(out))


def tiny_config(**overrides):
    from transformers import BertConfig

    fields = dict(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                  intermediate_size=37, max_position_embeddings=64, type_vocab_size=2,
                  hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    fields.update(overrides)
    return BertConfig(**fields)


def random_bert(config, cls=None, seed=0):
    """A transformers model with every parameter random (biases and LayerNorms too, so a loader
    that skipped or swapped any tensor would show)."""
    from transformers import BertModel

    torch.manual_seed(seed)
    model = (cls or BertModel)(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn_like(p) * 0.2
            p.copy_(1.0 + noise if name.endswith("LayerNorm.weight") else noise)
    return model


def tiny_inputs(batch=4, seq=11, vocab=99, seed=1):
    """Token ids with [CLS]-like first token, padding of varied lengths and two segments."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (batch, seq), generator=g)
    lengths = [seq, seq - 3, 5, 2][:batch] + [seq] * max(0, batch - 4)
    mask = torch.zeros(batch, seq, dtype=torch.int64)
    types = torch.zeros(batch, seq, dtype=torch.int64)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
        ids[b, n:] = 0  # pad id
        types[b, n // 2:n] = 1
    return ids, mask, types


def hf_outputs(model, input_ids, attention_mask=None, token_type_ids=None, attentions=True):
    with torch.no_grad():
        return model(input_ids=input_ids, attention_mask=attention_mask,
                     token_type_ids=token_type_ids, output_hidden_states=True,
                     output_attentions=attentions)


def max_diff(a, b):
    return (a.float() - b.float()).abs().max().item()


def compare_all(got, ref, tol, attentions=True, pooler=True):
    """Max abs difference of every output; asserts each is within `tol`. Returns the largest."""
    diffs = {"last_hidden_state": max_diff(got["last_hidden_state"], ref.last_hidden_state)}
    if pooler:
        diffs["pooler_output"] = max_diff(got["pooler_output"], ref.pooler_output)
    for i, h in enumerate(ref.hidden_states):
        diffs[f"hidden_states.{i}"] = max_diff(got[f"hidden_states.{i}"], h)
    assert f"hidden_states.{len(ref.hidden_states)}" not in got
    if attentions:
        for i, a in enumerate(ref.attentions):
            diffs[f"attentions.{i}"] = max_diff(got[f"attentions.{i}"], a)
        assert f"attentions.{len(ref.attentions)}" not in got
    worst = max(diffs.values())
    print(f"max abs diff {worst:.3g} over {len(diffs)} outputs")
    assert worst <= tol, {k: v for k, v in diffs.items() if v > tol}
    return worst

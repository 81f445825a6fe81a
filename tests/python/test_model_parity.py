"""Parity of our BERT encoder with transformers on small random BERTs that transformers builds and
saves: every format we read (safetensors, sharded safetensors, torch.save zip and legacy
pytorch_model.bin, sharded .bin, fp16/bf16 weights, legacy gamma/beta names, bert.-prefixed task
checkpoints), every activation, and both attention paths (fused SDPA, explicit softmax). Outputs:
last_hidden_state, pooler_output, every hidden state and every attention map, within 1e-5 fp32."""
import json

import pytest
import torch
from safetensors.torch import save_file

from model_util import (compare_all, hf_outputs, max_diff, ours, random_bert, run_dump,
                        tiny_config, tiny_inputs)

TOL = 1e-5


def eager(model):
    model.set_attn_implementation("eager")
    return model


def save_bin_shards(state_dict, directory, legacy=False):
    """Two torch.save shards plus pytorch_model.bin.index.json, as transformers writes them."""
    names = list(state_dict)
    half = len(names) // 2
    weight_map = {}
    for i, chunk in enumerate([names[:half], names[half:]]):
        shard = f"pytorch_model-{i + 1:05d}-of-00002.bin"
        torch.save({n: state_dict[n] for n in chunk}, directory / shard,
                   _use_new_zipfile_serialization=not legacy)
        weight_map.update({n: shard for n in chunk})
    (directory / "pytorch_model.bin.index.json").write_text(
        json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))


FORMATS = ["safetensors", "sharded-safetensors", "bin", "bin-legacy", "sharded-bin",
           "f16-weights", "bf16-weights", "gamma-beta-names"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_matches_for_each_checkpoint_format(fmt, tmp_path):
    config = tiny_config()
    model = eager(random_bert(config, seed=hash(fmt) % 1000))
    d = tmp_path / "model"
    d.mkdir()
    config.save_pretrained(d)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if fmt == "safetensors":
        model.save_pretrained(d)
    elif fmt == "sharded-safetensors":
        model.save_pretrained(d, max_shard_size="40KB")
        assert (d / "model.safetensors.index.json").exists()
        assert len(list(d.glob("model-*.safetensors"))) > 1
    elif fmt == "bin":
        torch.save(model.state_dict(), d / "pytorch_model.bin")
    elif fmt == "bin-legacy":  # torch < 1.6 format, as Bio_ClinicalBERT's pytorch_model.bin
        torch.save(model.state_dict(), d / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    elif fmt == "sharded-bin":
        save_bin_shards(model.state_dict(), d)
    elif fmt in ("f16-weights", "bf16-weights"):
        dtype = torch.float16 if fmt == "f16-weights" else torch.bfloat16
        low = {k: v.to(dtype) for k, v in state.items()}
        save_file(low, str(d / "model.safetensors"), metadata={"format": "pt"})
        model.load_state_dict({k: v.float() for k, v in low.items()})  # the reference sees the same
    elif fmt == "gamma-beta-names":
        # Old TF-converted checkpoints: LayerNorm.gamma/beta, and a saved position_ids buffer.
        renamed = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias",
                                                                              "LayerNorm.beta"): v
                   for k, v in state.items()}
        renamed["embeddings.position_ids"] = torch.arange(config.max_position_embeddings)[None]
        save_file(renamed, str(d / "model.safetensors"), metadata={"format": "pt"})
    ids, mask, types = tiny_inputs()
    report = tmp_path / "report.json"
    got = ours(d, tmp_path, ids, mask, types, "--hidden-states", "--attentions", "--report", report)
    compare_all(got, hf_outputs(model, ids, mask, types), TOL)
    loaded = json.loads(report.read_text())
    assert loaded["missing"] == [] and loaded["unexpected"] == [], loaded
    assert len(loaded["loaded"]) == len(state)


@pytest.mark.parametrize("act", ["gelu", "gelu_new", "relu", "gelu_pytorch_tanh", "gelu_python",
                                 "silu", "tanh"])
def test_every_output_matches_for_each_activation(act, tmp_path):
    config = tiny_config(hidden_act=act)
    model = eager(random_bert(config, seed=7))
    model.save_pretrained(tmp_path / "model")
    ids, mask, types = tiny_inputs(seed=3)
    got = ours(tmp_path / "model", tmp_path, ids, mask, types, "--hidden-states", "--attentions")
    compare_all(got, hf_outputs(model, ids, mask, types), TOL)


def test_fused_attention_path_matches_transformers_sdpa_and_eager(tmp_path):
    """Without --attentions our encoder uses at::scaled_dot_product_attention with the mask."""
    config = tiny_config(num_hidden_layers=2)
    model = random_bert(config, seed=11)
    model.save_pretrained(tmp_path / "model")
    ids, mask, types = tiny_inputs(seed=5)
    got = ours(tmp_path / "model", tmp_path, ids, mask, types, "--hidden-states")
    assert not any(k.startswith("attentions.") for k in got)
    compare_all(got, hf_outputs(model, ids, mask, types, attentions=False), TOL, attentions=False)
    compare_all(got, hf_outputs(eager(model), ids, mask, types), TOL, attentions=False)
    # No padding at all (the mask is then dropped) and no token_type_ids (all zeros).
    full = ours(tmp_path / "model", tmp_path, ids, None, None, tag="nomask")
    ref = hf_outputs(model, ids)
    assert max_diff(full["last_hidden_state"], ref.last_hidden_state) <= TOL
    assert max_diff(full["pooler_output"], ref.pooler_output) <= TOL


def test_task_checkpoint_with_bert_prefix_loads_and_reports_head_keys(tmp_path):
    """A BertForPreTraining checkpoint ("bert."-prefixed, plus cls.* heads) into the bare encoder:
    transformers strips the prefix and reports the head weights as unused; so do we."""
    from transformers import BertForPreTraining

    config = tiny_config()
    task = random_bert(config, cls=BertForPreTraining, seed=21)
    task.save_pretrained(tmp_path / "model")
    # The reference: transformers' own BertModel loaded from the same directory.
    from transformers import BertModel

    reference = BertModel.from_pretrained(tmp_path / "model", attn_implementation="eager").eval()
    ids, mask, types = tiny_inputs(seed=9)
    report = tmp_path / "report.json"
    got = ours(tmp_path / "model", tmp_path, ids, mask, types, "--hidden-states", "--attentions",
               "--report", report)
    compare_all(got, hf_outputs(reference, ids, mask, types), TOL)
    loaded = json.loads(report.read_text())
    assert loaded["missing"] == []
    assert loaded["unexpected"] and all(k.startswith("cls.") for k in loaded["unexpected"])
    assert sorted(loaded["loaded"]) == sorted(reference.state_dict().keys())

    strict = run_dump("--model", tmp_path / "model", "--strict", check=False)
    assert strict.returncode == 1, strict.stderr
    assert "unexpected keys" in strict.stderr and "cls.predictions" in strict.stderr
    assert "model.safetensors" in strict.stderr


def test_missing_pooler_is_reported_and_strict_mode_fails(tmp_path):
    """A BertForMaskedLM checkpoint has no pooler (add_pooling_layer=False): a warning names it,
    --no-pooler loads it cleanly, --strict refuses it."""
    from transformers import BertForMaskedLM, BertModel

    config = tiny_config()
    mlm = random_bert(config, cls=BertForMaskedLM, seed=4)
    mlm.save_pretrained(tmp_path / "model")
    warn = run_dump("--model", tmp_path / "model")
    assert "pooler.dense.weight" in warn.stderr and "newly initialized" in warn.stderr
    strict = run_dump("--model", tmp_path / "model", "--strict", check=False)
    assert strict.returncode == 1 and "missing keys" in strict.stderr
    ids, mask, types = tiny_inputs(seed=2)
    got = ours(tmp_path / "model", tmp_path, ids, mask, types, "--no-pooler", "--hidden-states")
    assert "pooler_output" not in got
    reference = BertModel.from_pretrained(tmp_path / "model", add_pooling_layer=False).eval()
    compare_all(got, hf_outputs(reference, ids, mask, types, attentions=False), TOL,
                attentions=False, pooler=False)


def test_a_fully_padded_row_matches_transformers_on_both_attention_paths(tmp_path):
    """An empty text gives a row with no token to attend to; each attention path then does what
    transformers' same path does (SDPA and eager differ from each other there, finitely)."""
    config = tiny_config(num_hidden_layers=2)
    model = random_bert(config, seed=13)
    model.save_pretrained(tmp_path / "model")
    ids, mask, types = tiny_inputs(seed=6)
    mask[2] = 0
    fused = ours(tmp_path / "model", tmp_path, ids, mask, types, tag="fused")
    explicit = ours(tmp_path / "model", tmp_path, ids, mask, types, "--attentions", tag="explicit")
    sdpa_ref = hf_outputs(model, ids, mask, types, attentions=False)
    eager_ref = hf_outputs(eager(model), ids, mask, types)
    assert torch.isfinite(fused["last_hidden_state"]).all()
    assert torch.isfinite(explicit["last_hidden_state"]).all()
    assert max_diff(fused["last_hidden_state"], sdpa_ref.last_hidden_state) <= TOL
    assert max_diff(explicit["last_hidden_state"], eager_ref.last_hidden_state) <= TOL
    for i, a in enumerate(eager_ref.attentions):
        assert max_diff(explicit[f"attentions.{i}"], a) <= TOL

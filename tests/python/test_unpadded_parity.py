"""Parity of the unpadded encoder path (ForwardOptions::unpad: embeddings, projections, FFN and
LayerNorm on the real tokens only, padding only around attention) with transformers on padded
batches. transformers computes values at padded positions too; no head reads them, and the
unpadded path leaves them zero, so the comparison is over the real positions, for every hidden
state, and the padded positions are checked to be exactly zero. In inference the CPU projections
run as packed oneDNN GEMMs (model/packed_linear.h) with bucketed row counts, which fill a few
padded positions; the tests of the plain path turn that off with CLINTORCH_PACKED_LINEAR=0, and
one test checks the packed path against transformers."""
import pytest
import torch

from model_util import hf_outputs, max_diff, ours, random_bert, tiny_config, tiny_inputs

TOL = 1e-5


def real_positions_diff(got, ref, mask):
    keep = mask.bool()
    return max_diff(got[keep], ref[keep])


@pytest.mark.parametrize("act", ["gelu", "gelu_new"])
def test_unpadded_path_matches_transformers_at_every_real_position(act, tmp_path, monkeypatch):
    monkeypatch.setenv("CLINTORCH_PACKED_LINEAR", "0")
    config = tiny_config(hidden_act=act)
    model = random_bert(config, seed=31)
    model.save_pretrained(tmp_path / "model")
    # Lengths 11, 8, 5 and 2 of 11, two segments: most of the grid is padding in rows 3 and 4.
    ids, mask, types = tiny_inputs(seed=13)
    got = ours(tmp_path / "model", tmp_path, ids, mask, types, "--hidden-states", "--unpad")
    ref = hf_outputs(model, ids, mask, types, attentions=False)
    diffs = {"last_hidden_state": real_positions_diff(got["last_hidden_state"],
                                                      ref.last_hidden_state, mask)}
    for i, h in enumerate(ref.hidden_states):
        diffs[f"hidden_states.{i}"] = real_positions_diff(got[f"hidden_states.{i}"], h, mask)
    diffs["pooler_output"] = max_diff(got["pooler_output"], ref.pooler_output)
    print(f"max abs diff {max(diffs.values()):.3g} over {len(diffs)} outputs")
    assert max(diffs.values()) <= TOL, diffs
    pad = ~mask.bool()
    assert pad.any()
    assert got["last_hidden_state"][pad].abs().max().item() == 0.0
    # The padded path on the same inputs agrees with the unpadded one at the real positions.
    padded = ours(tmp_path / "model", tmp_path, ids, mask, types, tag="padded")
    assert real_positions_diff(got["last_hidden_state"], padded["last_hidden_state"], mask) <= TOL


@pytest.mark.parametrize("act", ["gelu", "gelu_new", "relu"])
def test_packed_inference_path_matches_transformers(act, tmp_path, monkeypatch):
    """The packed oneDNN projections (GELU/ReLU or the residual add fused, gelu_new applied after
    the GEMM) on the unpadded and the padded path, against transformers at the real positions."""
    monkeypatch.setenv("CLINTORCH_PACKED_LINEAR", "1")
    config = tiny_config(hidden_act=act)
    model = random_bert(config, seed=41)
    model.save_pretrained(tmp_path / "model")
    ids, mask, types = tiny_inputs(seed=17)
    ref = hf_outputs(model, ids, mask, types, attentions=False)
    for flags in (("--hidden-states", "--unpad"), ("--hidden-states",)):
        got = ours(tmp_path / "model", tmp_path, ids, mask, types, *flags, tag="-".join(flags))
        diffs = {f"hidden_states.{i}": real_positions_diff(got[f"hidden_states.{i}"], h, mask)
                 for i, h in enumerate(ref.hidden_states)}
        diffs["pooler_output"] = max_diff(got["pooler_output"], ref.pooler_output)
        print(f"{flags}: max abs diff {max(diffs.values()):.3g} over {len(diffs)} outputs")
        assert max(diffs.values()) <= TOL, (flags, diffs)


def test_unpadded_path_without_padding_is_the_padded_path(tmp_path):
    """A batch with nothing padded takes the padded path unchanged (no mask, no gather)."""
    config = tiny_config(num_hidden_layers=2)
    model = random_bert(config, seed=5)
    model.save_pretrained(tmp_path / "model")
    ids, _, types = tiny_inputs(seed=2)
    mask = torch.ones_like(ids)
    got = ours(tmp_path / "model", tmp_path, ids, mask, types, "--unpad", tag="unpad")
    ref = hf_outputs(model, ids, mask, types, attentions=False)
    assert max_diff(got["last_hidden_state"], ref.last_hidden_state) <= TOL


def test_unpadded_path_under_bf16_autocast_stays_close_to_fp32(tmp_path):
    """bf16 autocast on the unpadded path: same relative error as the padded path under bf16."""
    config = tiny_config()
    model = random_bert(config, seed=7)
    model.save_pretrained(tmp_path / "model")
    ids, mask, types = tiny_inputs(seed=4)
    ref = hf_outputs(model, ids, mask, types, attentions=False).last_hidden_state
    unpadded = ours(tmp_path / "model", tmp_path, ids, mask, types, "--unpad", "--bf16", tag="u")
    padded = ours(tmp_path / "model", tmp_path, ids, mask, types, "--bf16", tag="p")
    err_unpadded = real_positions_diff(unpadded["last_hidden_state"], ref, mask)
    err_padded = real_positions_diff(padded["last_hidden_state"], ref, mask)
    print(f"bf16 max abs error: unpadded {err_unpadded:.3g}, padded {err_padded:.3g}")
    scale = ref[mask.bool()].abs().max().item()
    assert err_unpadded <= 0.05 * scale
    assert err_unpadded <= 2 * err_padded + 1e-3

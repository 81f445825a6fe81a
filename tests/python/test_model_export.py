"""Round trip: our loader reads a checkpoint, our exporter writes a HuggingFace directory, and
transformers.AutoModel.from_pretrained loads that directory as it is (no missing or unexpected
weights) with outputs within 1e-5 of the original model. The tokenizer files travel along."""
import json

import pytest
import torch

from model_util import (compare_all, hf_outputs, max_diff, ours, random_bert, run_dump,
                        tiny_config, tiny_inputs)

TOL = 1e-5


def write_vocab(path, size):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [f"tok{i}" for i in range(size - len(tokens))]
    path.write_text("\n".join(tokens) + "\n")


def load_exported(directory):
    from transformers import AutoModel

    model, info = AutoModel.from_pretrained(directory, output_loading_info=True,
                                            attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    assert not info["mismatched_keys"], info
    return model.eval()


def test_export_of_a_legacy_bin_checkpoint_loads_in_transformers(tmp_path):
    config = tiny_config(id2label={0: "O", 1: "B-PROBLEM", 2: "I-PROBLEM"},
                         label2id={"O": 0, "B-PROBLEM": 1, "I-PROBLEM": 2})
    original = random_bert(config, seed=5)
    original.set_attn_implementation("eager")
    src = tmp_path / "src"
    src.mkdir()
    config.save_pretrained(src)
    torch.save(original.state_dict(), src / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    write_vocab(src / "vocab.txt", config.vocab_size)

    out = tmp_path / "export"
    run_dump("--model", src, "--export", out)
    for name in ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json",
                 "special_tokens_map.json"]:
        assert (out / name).is_file(), name
    written = json.loads((out / "config.json").read_text())
    assert written["architectures"] == ["BertModel"] and written["model_type"] == "bert"
    assert written["id2label"] == {"0": "O", "1": "B-PROBLEM", "2": "I-PROBLEM"}
    assert written["label2id"] == {"O": 0, "B-PROBLEM": 1, "I-PROBLEM": 2}

    exported = load_exported(out)
    assert exported.config.id2label == {0: "O", 1: "B-PROBLEM", 2: "I-PROBLEM"}
    ids, mask, types = tiny_inputs(seed=8)
    ref = hf_outputs(original, ids, mask, types)
    back = hf_outputs(exported, ids, mask, types)
    got = {"last_hidden_state": back.last_hidden_state, "pooler_output": back.pooler_output}
    got.update({f"hidden_states.{i}": h for i, h in enumerate(back.hidden_states)})
    got.update({f"attentions.{i}": a for i, a in enumerate(back.attentions)})
    compare_all(got, ref, TOL)
    # And our own loader reads the export back to the same outputs.
    again = ours(out, tmp_path, ids, mask, types, "--hidden-states", "--attentions")
    compare_all(again, ref, TOL)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.convert_tokens_to_ids(["[CLS]", "tok7"]) == [2, 12]


def test_minilm_export_round_trip(minilm_dir, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    out = tmp_path / "export"
    run_dump("--model", minilm_dir, "--export", out)
    original = AutoModel.from_pretrained(minilm_dir, attn_implementation="eager").eval()
    exported = load_exported(out)
    texts = ["The patient was started on metoprolol for hypertension.", "No acute distress."]
    tok_src = AutoTokenizer.from_pretrained(minilm_dir)
    tok_out = AutoTokenizer.from_pretrained(out)
    enc = tok_src(texts, padding=True, return_tensors="pt")
    assert tok_out(texts, padding=True, return_tensors="pt")["input_ids"].equal(enc["input_ids"])
    with torch.no_grad():
        a = original(**enc, output_hidden_states=True, output_attentions=True)
        b = exported(**enc, output_hidden_states=True, output_attentions=True)
    diffs = [max_diff(a.last_hidden_state, b.last_hidden_state),
             max_diff(a.pooler_output, b.pooler_output)]
    diffs += [max_diff(x, y) for x, y in zip(a.hidden_states, b.hidden_states)]
    diffs += [max_diff(x, y) for x, y in zip(a.attentions, b.attentions)]
    print(f"MiniLM export round trip: max abs diff {max(diffs):.3g}")
    assert max(diffs) <= TOL
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]


def test_export_refuses_a_source_without_vocab(tmp_path):
    config = tiny_config()
    random_bert(config).save_pretrained(tmp_path / "src")
    proc = run_dump("--model", tmp_path / "src", "--export", tmp_path / "out", check=False)
    assert proc.returncode == 1
    assert "vocab.txt" in proc.stderr
    assert not (tmp_path / "out" / "model.safetensors").exists(), "no partial export"

"""Bad input, end to end through our loader: missing files, truncated or corrupt checkpoints
written by transformers/torch (safetensors, zip and legacy pytorch_model.bin), shapes that do not
match config.json, vocabularies that do not match the embeddings. Each is a clear error (exit
status 1) naming the file and, where there is one, the tensor; never a crash."""
import json
import random
import struct

import pytest
import torch

from model_util import random_bert, run_dump, tiny_config


@pytest.fixture(scope="module")
def hf_dirs(tmp_path_factory):
    """One small BERT saved by transformers as safetensors, and the same weights as torch.save
    zip and legacy pytorch_model.bin."""
    root = tmp_path_factory.mktemp("hf")
    config = tiny_config(num_hidden_layers=1)
    model = random_bert(config, seed=3)
    dirs = {}
    for fmt in ["safetensors", "bin", "bin-legacy"]:
        d = root / fmt
        d.mkdir()
        config.save_pretrained(d)
        if fmt == "safetensors":
            model.save_pretrained(d)
        else:
            torch.save(model.state_dict(), d / "pytorch_model.bin",
                       _use_new_zipfile_serialization=(fmt == "bin"))
        (d / "vocab.txt").write_text("\n".join(f"t{i}" for i in range(config.vocab_size)) + "\n")
        dirs[fmt] = d
    return dirs


def copy_dir(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def expect_failure(model_dir, *needles):
    proc = run_dump("--model", model_dir, check=False)
    assert proc.returncode == 1, f"exit {proc.returncode} (negative = killed by a signal):\n{proc.stderr}"
    assert "internal error" not in proc.stderr, proc.stderr
    for n in needles:
        assert str(n) in proc.stderr, f"{n!r} not in:\n{proc.stderr}"
    return proc.stderr


def weights_of(d):
    return d / ("model.safetensors" if (d / "model.safetensors").exists() else "pytorch_model.bin")


def rewrite_header(path, edit):
    """Applies `edit` to the JSON header of a safetensors file, keeping the data section."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    edit(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])


def test_missing_directory_config_and_weights(hf_dirs, tmp_path):
    expect_failure(tmp_path / "nowhere", "nowhere", "no such directory")
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "noconfig")
    (d / "config.json").unlink()
    expect_failure(d, d / "config.json", "cannot open")
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "noweights")
    (d / "model.safetensors").unlink()
    expect_failure(d, "no weights file", "model.safetensors", "pytorch_model.bin")


@pytest.mark.parametrize("fmt", ["safetensors", "bin", "bin-legacy"])
def test_truncated_checkpoint(hf_dirs, tmp_path, fmt):
    d = copy_dir(hf_dirs[fmt], tmp_path / "m")
    w = weights_of(d)
    raw = w.read_bytes()
    w.write_bytes(raw[: len(raw) - 100])
    expect_failure(d, w)


def test_safetensors_header_length_past_end_of_file(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    w = d / "model.safetensors"
    raw = w.read_bytes()
    w.write_bytes(struct.pack("<Q", len(raw) * 2) + raw[8:])
    expect_failure(d, w, "header length", "past the end of the file")


def test_safetensors_bad_json_header(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    w = d / "model.safetensors"
    raw = bytearray(w.read_bytes())
    raw[8] = ord("[")  # the header no longer parses
    raw[9] = ord("}")
    w.write_bytes(bytes(raw))
    expect_failure(d, w, "not valid JSON")


def test_safetensors_unknown_dtype(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    w = d / "model.safetensors"
    rewrite_header(w, lambda h: h["pooler.dense.bias"].update(dtype="F8_E5M2"))
    expect_failure(d, w, "pooler.dense.bias", "unknown dtype 'F8_E5M2'")


def test_safetensors_overlapping_offsets(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    w = d / "model.safetensors"

    def overlap(h):
        names = sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"])
        a, b = names[3], names[4]
        size = h[b]["data_offsets"][1] - h[b]["data_offsets"][0]
        start = h[a]["data_offsets"][0]
        h[b]["data_offsets"] = [start, start + size]

    rewrite_header(w, overlap)
    expect_failure(d, w, "overlaps")


def test_safetensors_offsets_out_of_range(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    w = d / "model.safetensors"

    def out_of_range(h):
        begin, end = h["embeddings.LayerNorm.weight"]["data_offsets"]
        h["embeddings.LayerNorm.weight"]["data_offsets"] = [begin + 10**9, end + 10**9]

    rewrite_header(w, out_of_range)
    expect_failure(d, w, "embeddings.LayerNorm.weight", "outside the data section")


def test_shape_does_not_match_config(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["bin"], tmp_path / "m")
    config = json.loads((d / "config.json").read_text())
    config["intermediate_size"] = 40
    (d / "config.json").write_text(json.dumps(config))
    expect_failure(d, d / "pytorch_model.bin", "encoder.layer.0.intermediate.dense.weight",
                   "[37, 32]", "[40, 32]")


def test_vocab_size_does_not_match_embeddings(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    config = json.loads((d / "config.json").read_text())
    config["vocab_size"] = 120
    (d / "config.json").write_text(json.dumps(config))
    expect_failure(d, "embeddings.word_embeddings.weight", "[99, 32]", "vocab_size 120")
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "n")
    (d / "vocab.txt").write_text("\n".join(f"t{i}" for i in range(150)) + "\n")
    expect_failure(d, d / "vocab.txt", "150 tokens", "99 rows")


def test_unsupported_config_value_names_the_field(hf_dirs, tmp_path):
    d = copy_dir(hf_dirs["safetensors"], tmp_path / "m")
    config = json.loads((d / "config.json").read_text())
    config["hidden_act"] = "gelu_fast"
    (d / "config.json").write_text(json.dumps(config))
    expect_failure(d, d / "config.json", "hidden_act", "gelu_fast")


def test_random_damage_never_crashes(hf_dirs, tmp_path):
    """Truncations and byte flips anywhere in each format: every file either reads or gives an
    error naming it; the reader process never dies."""
    rng = random.Random(1234)
    files = []
    for fmt in ["safetensors", "bin", "bin-legacy"]:
        raw = weights_of(hf_dirs[fmt]).read_bytes()
        for i in range(40):
            data = bytearray(raw)
            if i % 2 == 0:
                data = data[: rng.randrange(len(data))]
            else:
                for _ in range(rng.randrange(1, 8)):
                    pos = rng.randrange(min(len(data), 4096) if i % 4 == 1 else len(data))
                    data[pos] = rng.randrange(256)
            f = tmp_path / f"{fmt}-{i}.{'safetensors' if fmt == 'safetensors' else 'bin'}"
            f.write_bytes(bytes(data))
            files.append(f)
    proc = run_dump("--check", *files, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(l) for l in proc.stdout.splitlines()]
    assert len(lines) == len(files)
    failed = 0
    for line in lines:
        if not line["ok"]:
            failed += 1
            assert line["file"] in line["error"], line
    print(f"{failed} of {len(files)} damaged files rejected with an error, the rest read")
    assert failed >= len(files) // 2

"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*), small inputs
of our own: checkpoints made here with torch and safetensors, recipes and configs written below,
and the first lines of the project's own samples in datasets/. Run from the project venv:
    .venv/bin/python tests/fuzz/make_seeds.py
Inputs of past findings live beside the seeds as crash-* files and are never rewritten."""
import io
import json
import pathlib
import sys

import torch
from safetensors.torch import save as st_save

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


def head(path, lines):
    with open(ROOT / path, encoding="utf-8") as f:
        return "".join(next(f, "") for _ in range(lines))


def checkpoints():
    g = torch.Generator().manual_seed(0)
    tensors = {
        "embeddings.word_embeddings.weight": torch.randn(4, 3, generator=g),
        "encoder.layer.0.output.dense.bias": torch.randn(3, generator=g).to(torch.bfloat16),
        "embeddings.position_ids": torch.arange(4).unsqueeze(0),
        "empty": torch.zeros(0, 3),
        "half": torch.randn(2, generator=g).half(),
    }
    put("safetensors", "small", st_save(tensors, metadata={"format": "pt"}))
    put("safetensors", "one", st_save({"w": torch.ones(2, 2)}))
    shared = torch.randn(3, 4, generator=g)
    bin_tensors = dict(tensors, transposed=shared.t(), view=shared[1:, :2])
    for legacy in (False, True):
        buf = io.BytesIO()
        torch.save(bin_tensors, buf, _use_new_zipfile_serialization=not legacy)
        put("torch_bin", "legacy" if legacy else "zip", buf.getvalue())
    buf = io.BytesIO()
    torch.save({"state_dict": {"w": torch.ones(2)}, "step": 3}, buf)
    put("torch_bin", "nested", buf.getvalue())


def configs():
    base = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522,
            "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
            "intermediate_size": 1536, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512,
            "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "pad_token_id": 0, "position_embedding_type": "absolute"}
    put("config", "minilm", json.dumps(base, indent=1))
    ner = dict(base, id2label={"0": "O", "1": "B-X", "2": "I-X"},
               label2id={"O": 0, "B-X": 1, "I-X": 2}, problem_type="single_label_classification",
               torch_dtype="float32", hidden_act="gelu_new")
    put("config", "labels", json.dumps(ner))


RECIPES = {
    "ner": """model:
  pretrained: model
task:
  name: token_classification
  labels: [O, B-Problem, I-Problem]
data:
  train_file: train.conll
  validation_file: dev.conll
  format: conll
  max_seq_length: 128
training:
  learning_rate: 5.0e-5
  warmup_ratio: 0.1
  per_device_train_batch_size: 16
  num_train_epochs: 3
  bf16: true
  nan_policy: skip
evaluation:
  eval_strategy: steps
  eval_steps: 50
  metric_for_best_model: f1
  load_best_model_at_end: true
output:
  output_dir: runs/ner
""",
    "cls": """model:
  config: config.json
  hidden_dropout_prob: 0.2
task:
  name: sequence_classification
  problem_type: multi_label_classification
data:
  train_file: train.csv
  text_column: text
  label_columns: [a, b, c]
training:
  max_steps: 10
  lr_scheduler_type: cosine
  gradient_accumulation_steps: 2
output:
  output_dir: runs/cls
""",
    "mlm": """model:
  pretrained: model
task:
  name: mlm
data:
  train_file: notes.txt
  max_seq_length: 64
  mlm_probability: 0.15
  whole_word_mask: true
training:
  max_steps: 5
  resume_from_checkpoint: last
output:
  output_dir: runs/mlm
""",
}


def datasets():
    # The first byte of a dataset seed picks reader options (tests/fuzz/fuzz_dataset.cpp).
    samples = {
        "conll": ["datasets/ner_conll/train.tsv", "datasets/ner_conll_iobes/train.txt"],
        "ner_jsonl": ["datasets/ner_jsonl/train.jsonl"],
        "ner_spans_jsonl": ["datasets/ner_spans/train.jsonl"],
        "csv": ["datasets/cls_csv/train.csv", "datasets/cls_multilabel_columns/train.csv"],
        "tsv": ["datasets/cls_tsv/train.tsv", "datasets/cls_regression/train.tsv"],
        "jsonl": ["datasets/cls_jsonl/train.jsonl"],
        "squad": ["datasets/qa_squad/train.json"],
        "blue_tsv": ["datasets/re_blue/train.tsv"],
        "re_jsonl": ["datasets/re_jsonl/train.jsonl"],
        "text": ["datasets/mlm_text/notes.txt", "datasets/mlm_text_blank/notes.txt"],
    }
    options = {"csv": [0x00, 0x10, 0x20], "tsv": [0x00, 0x20, 0xC0], "jsonl": [0x00, 0x10],
               "conll": [0x00, 0x08, 0x02], "text": [0x00, 0x03]}
    for fmt, paths in samples.items():
        for i, path in enumerate(paths):
            text = (ROOT / path).read_text(encoding="utf-8")
            if fmt != "squad":
                text = head(path, 12)
            for b in options.get(fmt, [0x00, 0x01]):
                put(f"dataset_{fmt}", f"{i}-{b:02x}", bytes([b]) + text.encode())


def tokenizer():
    # fuzz_tokenizer.cpp: bytes 0-3 pick tokenizer, mode, truncation, lengths; the rest is text.
    texts = ["Pt c/o SOB x3 days; BNP 1,240 pg/mL. Hx: CHF, DM2.",
             "Naïve T-cells (CD4+) — élevé 一 [E1]aspirin[/E1] Covid19",
             "a\x1fb\x1fthe\x1funaffable"]
    for i, t in enumerate(texts):
        for header in (b"\x00\x00\x00\x00", b"\x05\x0f\x10\x03", b"\x0a\x21\x08\x01",
                       b"\x0f\x4a\x20\x07"):
            put("tokenizer", f"{i}-{header.hex()}", header + t.encode())


def main():
    checkpoints()
    configs()
    for name, text in RECIPES.items():
        put("recipe", name, text)
    datasets()
    tokenizer()
    n = sum(1 for _ in CORPUS.rglob("seed-*"))
    size = sum(p.stat().st_size for p in CORPUS.rglob("seed-*"))
    print(f"{n} seed files, {size} bytes, in {CORPUS}", file=sys.stderr)


if __name__ == "__main__":
    main()

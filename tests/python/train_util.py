"""Helpers of the training tests (test_train_*.py): a tiny BERT checkpoint written by
transformers, recipes pointing at it, and runs of `clintorch train`."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForTokenClassification

from conftest import SOURCE_DIR

NER_DIR = SOURCE_DIR / "datasets" / "ner_clinical_sample"
MLM_NOTES = SOURCE_DIR / "datasets" / "mlm_clinical_sample" / "notes.txt"


def conll_labels(path):
    """The tags of a CoNLL file, sorted (the label order our trainer and HF run_ner use)."""
    tags = set()
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts:
            tags.add(parts[-1])
    return sorted(tags)


def write_tiny_ner_model(out_dir, minilm_dir, dropout=0.0, seed=0):
    """A small random BertForTokenClassification (MiniLM's uncased vocabulary) with the sample's
    labels, saved by transformers with the tokenizer files: the trainer's model.pretrained."""
    labels = conll_labels(NER_DIR / "train.conll")
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
                        num_labels=len(labels), id2label=dict(enumerate(labels)),
                        label2id={l: i for i, l in enumerate(labels)})
    model = BertForTokenClassification(config)
    model.save_pretrained(out_dir)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(Path(minilm_dir) / name, Path(out_dir) / name)
    return labels


@pytest.fixture(scope="module")
def model_dir(minilm_dir, tmp_path_factory):
    """A tiny NER model with dropout 0.1, written once per test file (tests import this
    fixture: the resumed runs must restore the dropout RNG to end bitwise equal)."""
    d = tmp_path_factory.mktemp("init")
    write_tiny_ner_model(d, minilm_dir, dropout=0.1)
    return d


def write_recipe(path, sections):
    """A recipe from a dict of sections (JSON is valid YAML)."""
    Path(path).write_text(json.dumps(sections, indent=2))
    return path


def ner_recipe(model_dir, output_dir, evaluation=None, validation=False, **training):
    """The NER recipe on the clinical sample; `evaluation` replaces the evaluation section and
    `validation` adds dev.conll as the validation file."""
    t = {"learning_rate": 1e-3, "per_device_train_batch_size": 4, "max_steps": 12,
         "device": "cpu", "seed": 7}
    t.update(training)
    data = {"train_file": str(NER_DIR / "train.conll"), "format": "conll"}
    if validation:
        data["validation_file"] = str(NER_DIR / "dev.conll")
    return {
        "model": {"pretrained": str(model_dir)},
        "tokenizer": {"max_seq_length": 64},
        "task": {"name": "token_classification"},
        "data": data,
        "training": t,
        "evaluation": evaluation if evaluation is not None else {"save_strategy": "no"},
        "output": {"output_dir": str(output_dir)},
        "logging": {"logging_steps": 1, "tensorboard": False, "progress_bar": "never"},
    }


def train(bin_path, recipe_path, *args, timeout=600, check=True):
    proc = subprocess.run([bin_path, "train", str(recipe_path), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"clintorch train failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def metrics(output_dir, split="train"):
    rows = [json.loads(l) for l in (Path(output_dir) / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r["split"] == split]

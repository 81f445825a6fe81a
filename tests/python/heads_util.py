"""Helpers for the task-head tests: collect many cases, run them all through ONE head_dump process
(tests/tools/head_dump.cpp: LibTorch starts once), read the outputs back."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from model_util import SOURCE_DIR


def head_dump_bin():
    path = os.environ.get("CLINTORCH_HEAD_DUMP", str(SOURCE_DIR / "build" / "tests" / "head_dump"))
    if not Path(path).exists():
        pytest.fail(f"head_dump not found at {path}; build first (make test does)")
    return path


def write_vocab(path, size):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [f"tok{i}" for i in range(size - len(tokens))]
    Path(path).write_text("\n".join(tokens) + "\n")


def save_hf(model, directory):
    """save_pretrained plus a vocab.txt, so exports can copy the tokenizer files."""
    model.save_pretrained(directory)
    write_vocab(Path(directory) / "vocab.txt", model.config.vocab_size)
    return Path(directory)


class Cases:
    """Cases for one head_dump run. add() returns the case name; after run(), out(name) gives
    (tensors, summary)."""

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.cases = []
        self.results = {}

    def add(self, name, model_dir, head="", options=None, inputs=None, **extra):
        from safetensors.torch import save_file

        case = {"model": str(model_dir), "head": head, "options": options or {},
                "out": str(self.tmp / f"{name}.out.safetensors")}
        if inputs is not None:
            path = self.tmp / f"{name}.in.safetensors"
            save_file({k: v.contiguous() for k, v in inputs.items() if v is not None}, str(path))
            case["inputs"] = str(path)
        case.update({k: (str(v) if isinstance(v, Path) else v) for k, v in extra.items()})
        self.cases.append((name, case))
        return name

    def run(self, timeout=600):
        from safetensors.torch import load_file

        cases_file = self.tmp / "cases.json"
        cases_file.write_text(json.dumps([c for _, c in self.cases], indent=1))
        proc = subprocess.run([head_dump_bin(), "--cases", str(cases_file)], capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"head_dump failed ({proc.returncode}):\n{proc.stderr}")
        self.stderr = proc.stderr
        for name, case in self.cases:
            out = Path(case["out"])
            summary = json.loads(Path(str(out) + ".json").read_text())
            tensors = load_file(str(out)) if out.exists() else {}
            self.results[name] = (tensors, summary)
        return self

    def out(self, name):
        tensors, summary = self.results[name]
        assert "error" not in summary, summary["error"]
        return tensors, summary

    def error(self, name):
        _, summary = self.results[name]
        assert "error" in summary, f"case {name} did not fail"
        return summary["error"]


def max_abs(a, b):
    a, b = torch.as_tensor(a).float(), torch.as_tensor(b).float()
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item() if a.numel() else 0.0


def weighted_cross_entropy(logits, labels, weight, ignore_index=-100):
    """torch.nn.CrossEntropyLoss(weight=weight) written out: sum_i w[y_i] * -log softmax(x_i)[y_i]
    over non-ignored i, divided by sum_i w[y_i]."""
    logits = logits.double().reshape(-1, logits.shape[-1])
    labels = labels.reshape(-1)
    keep = labels != ignore_index
    x, y = logits[keep], labels[keep]
    w = torch.as_tensor(weight, dtype=torch.float64)[y]
    nll = -(x - x.logsumexp(-1, keepdim=True)).gather(1, y[:, None]).squeeze(1)
    return ((w * nll).sum() / w.sum()).float()

"""One definition per concept (issue #17), checked through the CLI:
- `--device auto` works in every command that takes --device, and a bad device is a usage error
  (exit 2) naming the choices, the same in every command;
- `validate` reads the data files through the readers `train` uses, so a file train cannot read
  fails validate with the same FILE:LINE error;
- an export carries its recipe's evaluation settings, so `evaluate --model EXPORT --data FILE`
  reports what `evaluate --recipe` reports (RE negative label, NER strict mode with a declared
  tag scheme), and an option given on the command line still wins."""
import json
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, run_cli
from train_util import write_recipe

NER_DIR = SOURCE_DIR / "datasets" / "ner_clinical_sample"
RE_DIR = SOURCE_DIR / "datasets" / "re_blue"


def recipe(minilm_dir, out, task, data, training=None, evaluation=None):
    t = {"learning_rate": 1e-4, "per_device_train_batch_size": 8, "max_steps": 4,
         "device": "cpu", "seed": 3, "threads": 2}
    t.update(training or {})
    e = {"save_strategy": "no"}
    e.update(evaluation or {})
    return {
        "model": {"pretrained": str(minilm_dir)},
        "tokenizer": {"max_seq_length": 64},
        "task": task,
        "data": data,
        "training": t,
        "evaluation": e,
        "output": {"output_dir": str(out)},
        "logging": {"tensorboard": False, "progress_bar": "never"},
    }


@pytest.fixture(scope="module")
def ner_run(clintorch_bin, minilm_dir, tmp_path_factory):
    """MiniLM fine-tuned for 30 steps on the NER sample, whose IOB2 tags the recipe declares as
    IOB1, scored by seqeval in strict mode: both differ from evaluate's defaults."""
    root = tmp_path_factory.mktemp("ner")
    path = write_recipe(root / "ner.yaml", recipe(
        minilm_dir, root / "out", {"name": "token_classification"},
        {"train_file": str(NER_DIR / "train.conll"),
         "validation_file": str(NER_DIR / "dev.conll"), "tag_scheme": "iob1"},
        training={"max_steps": 30, "learning_rate": 3e-4}, evaluation={"seqeval_mode": "strict"}))
    proc = run_cli(clintorch_bin, "train", path)
    assert proc.returncode == 0, proc.stderr
    return path, root / "out" / "export"


@pytest.fixture(scope="module")
def re_run(clintorch_bin, minilm_dir, tmp_path_factory):
    """MiniLM fine-tuned for 4 steps on the BLUE-style RE sample with negative label "0"."""
    root = tmp_path_factory.mktemp("re")
    path = write_recipe(root / "re.yaml", recipe(
        minilm_dir, root / "out",
        {"name": "relation_extraction", "re_input": "masked", "negative_label": "0"},
        {"train_file": str(RE_DIR / "train.tsv"), "validation_file": str(RE_DIR / "test.tsv")}))
    proc = run_cli(clintorch_bin, "train", path)
    assert proc.returncode == 0, proc.stderr
    return path, root / "out" / "export"


def scalars(clintorch_bin, tmp_path, name, *args):
    out = tmp_path / f"{name}.json"
    proc = run_cli(clintorch_bin, "evaluate", *args, "--output", out)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())["scalars"]


def same_report(a, b):
    """Equal metrics; the loss only to float rounding (the recipe's eval batch size sums the
    per-batch losses in another order than evaluate's default batches)."""
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if k != "loss"} == {k: v for k, v in b.items() if k != "loss"}
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)


def test_ner_export_evaluates_as_its_recipe(clintorch_bin, ner_run, tmp_path):
    recipe_path, export = ner_run
    settings = json.loads((export / "config.json").read_text())["clintorch"]["evaluation"]
    assert settings["seqeval_mode"] == "strict" and settings["tag_scheme"] == "iob1"
    by_recipe = scalars(clintorch_bin, tmp_path, "recipe", "--recipe", recipe_path)
    by_export = scalars(clintorch_bin, tmp_path, "export", "--model", export, "--data",
                        NER_DIR / "dev.conll")
    same_report(by_export, by_recipe)
    # The settings matter here, and an option on the command line wins over them.
    default = scalars(clintorch_bin, tmp_path, "default", "--model", export, "--data",
                      NER_DIR / "dev.conll", "--seqeval-mode", "default")
    assert default != by_export


def test_re_export_evaluates_as_its_recipe(clintorch_bin, re_run, tmp_path):
    recipe_path, export = re_run
    settings = json.loads((export / "config.json").read_text())["clintorch"]["evaluation"]
    assert settings["negative_label"] == "0"
    by_recipe = scalars(clintorch_bin, tmp_path, "recipe", "--recipe", recipe_path)
    by_export = scalars(clintorch_bin, tmp_path, "export", "--model", export, "--data",
                        RE_DIR / "test.tsv")
    same_report(by_export, by_recipe)
    # Another negative label gives another micro-F1, unless the predictions are all right or
    # all wrong (then every micro-F1 is the accuracy: 1 or 0).
    other = scalars(clintorch_bin, tmp_path, "other", "--model", export, "--data",
                    RE_DIR / "test.tsv", "--negative-label", "1")
    assert other["micro_f1"] != by_export["micro_f1"] or other["accuracy"] in (0.0, 1.0)


def test_device_auto_in_every_command(clintorch_bin, ner_run, minilm_dir, tmp_path):
    recipe_path, export = ner_run
    text = tmp_path / "notes.txt"
    text.write_text("Chest pain since Tuesday.\nNo fever.\n")
    masked = tmp_path / "masked.txt"
    masked.write_text("chest [MASK]\n")
    commands = {
        "evaluate": ["--model", export, "--data", NER_DIR / "dev.conll"],
        "predict": ["--model", export, "--input", text, "--output", tmp_path / "p.jsonl"],
        "embed": ["--model", minilm_dir, "--input", text, "--output", tmp_path / "e.npy"],
        "fill-mask": ["--model", export, "--input", masked],
        "inspect": ["--model", minilm_dir, "--text", "chest pain"],
    }
    for command, args in commands.items():
        proc = run_cli(clintorch_bin, command, *args, "--device", "auto")
        if command == "fill-mask":  # a token-classification export has no MLM head
            assert proc.returncode == 1 and "device" not in proc.stderr, proc.stderr
        else:
            assert proc.returncode == 0, f"{command} --device auto: {proc.stderr}"
        bad = run_cli(clintorch_bin, command, *args, "--device", "gpu0")
        assert bad.returncode == 2, f"{command}: {bad.stderr}"
        assert "unknown device 'gpu0'" in bad.stderr and "cuda:N" in bad.stderr, bad.stderr
    proc = run_cli(clintorch_bin, "validate", recipe_path, "--set", "training.device=auto")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(clintorch_bin, "validate", recipe_path, "--set", "training.device=gpu0")
    assert proc.returncode == 1 and "training.device" in proc.stderr, proc.stderr


@pytest.mark.parametrize("task,source,declared", [
    ("token_classification", NER_DIR / "train.conll", "jsonl"),
    ("sequence_classification", SOURCE_DIR / "datasets" / "cls_csv" / "train.csv", "tsv"),
])
def test_validate_reads_data_as_train_does(clintorch_bin, minilm_dir, tmp_path, task, source,
                                           declared):
    """A CoNLL file declared as JSONL and a CSV declared as TSV: validate used to say ok."""
    path = write_recipe(tmp_path / "r.yaml", recipe(
        minilm_dir, tmp_path / "out", {"name": task},
        {"train_file": str(source), "format": declared}))
    validate = run_cli(clintorch_bin, "validate", path)
    train = run_cli(clintorch_bin, "train", path)
    assert validate.returncode == 1 and train.returncode == 1, (validate.stderr, train.stderr)
    first = validate.stderr.strip().splitlines()[0]
    assert f"{source}:" in first, first
    assert first in train.stderr, (first, train.stderr)
    assert not (tmp_path / "out").exists()

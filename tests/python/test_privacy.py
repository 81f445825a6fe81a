"""Privacy (issue 14): clinical text may hold PHI, so nothing clintorch writes besides the model's
own outputs may quote it. Every word of the input files here carries a unique marker; a training
run (evaluation, checkpoints, TensorBoard, test predictions), `evaluate`, `predict` and runs that
fail on bad input files each read them, and everything they wrote is searched for the marker:
stdout, stderr, metrics.jsonl, trainer_state.json, recipe copies, TensorBoard events, metrics
files, checkpoint folders and predict's JSONL. Not searched: the token cache
(CLINTORCH_CACHE_DIR, a copy of the input by design). The one documented exception,
`predict --include-text`, is checked to be the only way the marker gets out."""
import json
import re
from pathlib import Path

import pytest

from conftest import clintorch_bin, minilm_dir, run_cli  # noqa: F401 (fixtures)
from train_util import NER_DIR, ner_recipe, write_recipe, write_tiny_ner_model

MARK = "Qxzv"  # a prefix no vocabulary word has; each use is MARK + a number


def marked(word, n):
    return f"{MARK}{n}{word}" if word[:1].isalpha() else word


def marked_conll(src, dst):
    lines, n = [], 0
    for line in Path(src).read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] != "-DOCSTART-":
            n += 1
            parts[0] = marked(parts[0], n)
        lines.append("\t".join(parts))
    Path(dst).write_text("\n".join(lines) + "\n")


def leaks(paths, extra_text=()):
    """(where, excerpt) of every marker found in the files under `paths` and in `extra_text`."""
    found = []
    pattern = re.compile(MARK.lower().encode())
    for p in paths:
        files = [p] if p.is_file() else [f for f in Path(p).rglob("*") if f.is_file()]
        for f in files:
            if pattern.search(f.read_bytes().lower()):
                found.append(str(f))
    for name, text in extra_text:
        if MARK.lower() in text.lower():
            found.append(name)
    return found


@pytest.fixture(scope="module")
def marked_data(tmp_path_factory, minilm_dir):
    d = tmp_path_factory.mktemp("marked")
    for split in ("train", "dev", "test"):
        marked_conll(NER_DIR / f"{split}.conll", d / f"{split}.conll")
    model = d / "model"
    write_tiny_ner_model(model, minilm_dir)
    notes = [" ".join(marked(w, i * 100 + j) for j, w in enumerate(
        "Patient denies chest pain ; white blood cell count elevated .".split()))
        for i in range(20)]
    (d / "notes.txt").write_text("\n".join(notes) + "\n")
    assert leaks([d / "train.conll", d / "notes.txt"])  # the search finds what it looks for
    return d


def test_train_evaluate_predict_write_no_input_text(clintorch_bin, marked_data, tmp_path,
                                                    monkeypatch):
    monkeypatch.setenv("CLINTORCH_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    r = ner_recipe(marked_data / "model", out, validation=True, max_steps=6,
                   evaluation={"eval_strategy": "steps", "eval_steps": 3, "save_strategy": "steps",
                               "save_steps": 3, "load_best_model_at_end": True,
                               "metric_for_best_model": "f1"})
    r["data"]["train_file"] = str(marked_data / "train.conll")
    r["data"]["validation_file"] = str(marked_data / "dev.conll")
    r["data"]["test_file"] = str(marked_data / "test.conll")
    r["logging"].update({"tensorboard": True, "progress_bar": "always", "log_level": "debug"})
    path = write_recipe(tmp_path / "r.yaml", r)
    runs = {"train": run_cli(clintorch_bin, "train", path)}
    assert runs["train"].returncode == 0, runs["train"].stderr
    assert list(out.glob("runs/**/events.out.tfevents.*")), "TensorBoard wrote nothing"
    runs["evaluate"] = run_cli(clintorch_bin, "evaluate", "--model", out / "export", "--data",
                               marked_data / "test.conll", "--output", tmp_path / "metrics.json")
    runs["predict"] = run_cli(clintorch_bin, "predict", "--model", out / "export", "--input",
                              marked_data / "notes.txt", "--output", tmp_path / "pred.jsonl")
    for name, proc in runs.items():
        assert proc.returncode == 0, (name, proc.stderr)
    texts = [(f"{n} {s}", getattr(p, s)) for n, p in runs.items() for s in ("stdout", "stderr")]
    assert leaks([out, tmp_path / "metrics.json", tmp_path / "pred.jsonl"], texts) == []
    assert json.loads((tmp_path / "pred.jsonl").read_text().splitlines()[0])["entities"] is not None

    # The documented exception: --include-text copies each entity's text into the output.
    inc = run_cli(clintorch_bin, "predict", "--model", out / "export", "--input",
                  marked_data / "notes.txt", "--output", tmp_path / "with_text.jsonl",
                  "--include-text")
    assert inc.returncode == 0, inc.stderr
    rows = [json.loads(l) for l in (tmp_path / "with_text.jsonl").read_text().splitlines()]
    texts = [e["text"] for row in rows for e in row["entities"]]
    if any(MARK.lower() in t.lower() for t in texts):
        assert leaks([tmp_path / "with_text.jsonl"])
    assert leaks([], [("stderr", inc.stderr), ("stdout", inc.stdout)]) == []


BAD_FILES = {
    # A tag the recipe's labels do not have, on a marked word.
    "bad_tag.conll": f"{MARK}1alpha\tO\n{MARK}2beta\tB-NOPE\n\n",
    # Three columns where two were seen.
    "columns.conll": f"{MARK}1alpha\tO\n{MARK}2beta\tx\tO\n\n",
    # Invalid UTF-8 inside a marked word.
    "utf8.conll": f"{MARK}1alpha\tO\n".encode() + MARK.encode() + b"2b\xff\xfeta\tO\n\n",
    # Broken JSON in the middle of the marked words.
    "broken.jsonl": f'{{"tokens": ["{MARK}1alpha", "{MARK}2beta"], "tags": ["O", "O"]}}\n'
                    f'{{"tokens": ["{MARK}3gamma" "{MARK}4delta"], "tags": ["O"]}}\n',
    # Tokens and tags of different lengths.
    "lengths.jsonl": f'{{"tokens": ["{MARK}1alpha", "{MARK}2beta"], "tags": ["O"]}}\n',
    # A character span past the end of the text.
    "span.jsonl": f'{{"text": "{MARK}1alpha {MARK}2beta", "entities": [[3, 400, "TEST"]]}}\n',
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_failing_runs_name_the_line_not_the_text(clintorch_bin, marked_data, tmp_path, name):
    content = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "run"
    r = ner_recipe(marked_data / "model", out, max_steps=2)
    r["data"]["train_file"] = str(bad)
    r["data"]["format"] = "conll" if name.endswith(".conll") else "auto"
    r["task"]["labels"] = ["O", "B-PROBLEM", "I-PROBLEM", "B-TEST", "I-TEST", "B-TREATMENT",
                           "I-TREATMENT"]
    proc = run_cli(clintorch_bin, "train", write_recipe(tmp_path / "r.yaml", r))
    assert proc.returncode != 0
    assert name in proc.stderr, proc.stderr  # the error points at the file (and line)
    assert leaks([out] if out.exists() else [], [("stderr", proc.stderr),
                                                 ("stdout", proc.stdout)]) == [], proc.stderr
    pred = run_cli(clintorch_bin, "predict", "--model", marked_data / "model", "--input", bad,
                   "--format", "text", "--output", tmp_path / "p.jsonl")
    if pred.returncode != 0:  # only invalid UTF-8 fails as raw text
        assert leaks([], [("stderr", pred.stderr), ("stdout", pred.stdout)]) == [], pred.stderr

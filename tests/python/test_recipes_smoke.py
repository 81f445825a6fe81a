"""Smoke runs of the use-case recipes: every *.yaml directly in recipes/ (not base/) passes
`clintorch validate` as it is, then trains two steps with short sequences and a small evaluation
(`--set` overrides only, the recipe file unchanged), exits 0 and writes its export. Recipes that
read ../shared/datasets skip visibly when it is absent. The point is that each recipe runs end to
end on its sample; what it learns is checked elsewhere (test_train_*.py)."""
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import SHARED, SOURCE_DIR

RECIPES_DIR = SOURCE_DIR / "recipes"
RECIPES = sorted(RECIPES_DIR.glob("*.yaml"))

# Short everything: two optimizer steps of 4 examples, 64-token windows, 4 evaluation examples.
SMOKE_SETS = [
    "training.max_steps=2",
    "training.per_device_train_batch_size=4",
    "training.per_device_eval_batch_size=8",
    "training.device=cpu",
    "tokenizer.max_seq_length=64",
    "data.doc_stride=16",
    "data.max_eval_samples=4",
    "logging.logging_steps=1",
    "logging.tensorboard=false",
    "logging.progress_bar=never",
]
# Per task, what else must shrink to fit 64-token windows.
TASK_SETS = {
    "question_answering": ["task.max_query_length=16"],
}


def recipe_task(path):
    """task.name of a recipe, following `extends` (bases first, the file last, later wins)."""
    doc = yaml.safe_load(path.read_text()) or {}
    name = (doc.get("task") or {}).get("name")
    if name:
        return name
    bases = doc.get("extends") or []
    for base in reversed([bases] if isinstance(bases, str) else bases):
        name = recipe_task(path.parent / base)
        if name:
            return name
    return None


def cli_env():
    env = dict(os.environ)
    env.setdefault("CLINTORCH_SHARED_DATASETS", str(SHARED))
    return env


def run(bin_path, *args, timeout=300):
    return subprocess.run([bin_path, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=cli_env())


def test_there_is_a_recipe_per_use_case():
    names = {p.stem for p in RECIPES}
    # One per clinical use case of docs/recipes.md "Recipes by use case"; a rename updates both.
    expected = {"mlm_clinical_notes", "mlm_clinical_notes_wwm", "ner_i2b2_2010",
                "ner_spans_jsonl", "ner_i2b2_2010_crf", "ner_deid_i2b2_2014", "cls_mednli",
                "cls_hoc_multilabel", "cls_mtsamples_specialty", "cls_long_notes_windows",
                "sts_biosses", "qa_squad_emrqa", "re_chemprot_blue", "re_ddi_markers"}
    assert expected <= names, sorted(expected - names)
    for path in RECIPES:
        first = path.read_text().lstrip().splitlines()[0]
        assert first.startswith("#"), f"{path.name}: starts without a comment on its use case"


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_recipe_validates_and_trains(clintorch_bin, recipe, tmp_path):
    if "${CLINTORCH_SHARED_DATASETS}" in recipe.read_text() and not SHARED.is_dir():
        pytest.skip(f"{recipe.name} reads ../shared/datasets ({SHARED}), which is absent")
    start = time.monotonic()
    proc = run(clintorch_bin, "validate", recipe)
    assert proc.returncode == 0, proc.stderr
    assert f"{recipe}: ok" in proc.stdout
    validated = time.monotonic()

    out = tmp_path / "out"
    sets = SMOKE_SETS + TASK_SETS.get(recipe_task(recipe), []) + [f"output.output_dir={out}"]
    if "${CLINTORCH_SHARED_DATASETS}" in recipe.read_text():
        sets.append('data.test_file=""')  # a full public test set; the samples cover the test path
    args = [a for s in sets for a in ("--set", s)]
    proc = run(clintorch_bin, "train", recipe, *args)
    assert proc.returncode == 0, f"train exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    export = out / "export"
    assert (export / "config.json").is_file(), sorted(p.name for p in out.iterdir())
    assert (export / "model.safetensors").is_file()
    assert (export / "vocab.txt").is_file()
    assert (out / "metrics.jsonl").is_file()
    print(f"{recipe.name}: validate {validated - start:.1f} s, "
          f"train {time.monotonic() - validated:.1f} s")

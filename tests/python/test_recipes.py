"""Recipes: every file in recipes/ validates; the keys named after HF TrainingArguments fields have
HF's defaults (read from transformers' own dataclass); `--dump-config` output is plain YAML that
PyYAML reads with the same types."""
import dataclasses
import os
from pathlib import Path

import pytest
import yaml
from transformers import TrainingArguments

from conftest import SOURCE_DIR, run_cli

RECIPES = sorted((SOURCE_DIR / "recipes").glob("*.yaml"))

# Keys whose "not set" value is written differently from HF's None (same meaning).
UNSET_EQUIVALENTS = {
    "eval_steps": 0,                 # 0: use logging_steps, as HF's None
    "save_total_limit": 0,           # 0: keep all, as HF's None
    "metric_for_best_model": "",     # "": the loss, as HF's None
    "resume_from_checkpoint": "",    # "": start anew, as HF's None
    "output_dir": None,              # required in a recipe
}
# Same name, deliberately different default (documented in docs/recipes.md).
DIFFERENT_ON_PURPOSE = {
    "log_level": "HF's 'passive' keeps the library's own level; ours names the level (info)",
}


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_every_recipe_validates(clintorch_bin, recipe, tmp_path):
    text = recipe.read_text()
    if "${CLINTORCH_SHARED_DATASETS}" in text:
        shared = os.environ.get("CLINTORCH_SHARED_DATASETS")
        if not shared or not Path(shared).is_dir():
            pytest.skip(f"{recipe.name} reads ../shared/datasets, which is absent")
    proc = run_cli(clintorch_bin, "validate", recipe)
    assert proc.returncode == 0, proc.stderr
    assert f"{recipe}: ok" in proc.stdout
    # Validation writes nothing: the recipe's output_dir does not appear.
    dumped = yaml.safe_load(run_cli(clintorch_bin, "validate", recipe, "--dump-config",
                                    check=True).stdout)
    assert not Path(dumped["output"]["output_dir"]).exists() or \
        Path(dumped["output"]["output_dir"]).is_dir()


def minimal_recipe(tmp_path, minilm_dir):
    (tmp_path / "train.conll").write_text("Fever\tB-PROBLEM\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"model: {{pretrained: {minilm_dir}}}\n"
                      "task: {name: token_classification}\n"
                      "data: {train_file: train.conll}\n"
                      f"output: {{output_dir: {tmp_path / 'out'}}}\n")
    return recipe


def test_training_argument_names_have_hf_defaults(clintorch_bin, tmp_path, minilm_dir):
    dump = run_cli(clintorch_bin, "validate", minimal_recipe(tmp_path, minilm_dir),
                   "--dump-config", check=True).stdout
    ours = {}
    for section in yaml.safe_load(dump).values():
        ours.update(section)
    hf = {f.name: f.default for f in dataclasses.fields(TrainingArguments)
          if f.default is not dataclasses.MISSING}
    shared = sorted(set(ours) & set(hf))
    assert len(shared) >= 20, shared
    mismatched = []
    for key in shared:
        expected = UNSET_EQUIVALENTS[key] if key in UNSET_EQUIVALENTS and hf[key] is None \
            else hf[key]
        if key == "output_dir" or key in DIFFERENT_ON_PURPOSE:
            continue
        if ours[key] != expected:
            mismatched.append(f"{key}: ours {ours[key]!r}, HF {hf[key]!r}")
    print(f"{len(shared)} keys share a name with TrainingArguments: {', '.join(shared)}")
    assert not mismatched, "\n".join(mismatched)
    assert not (tmp_path / "out").exists()


def test_dump_is_plain_yaml_with_the_same_types(clintorch_bin, tmp_path, minilm_dir):
    dump = run_cli(clintorch_bin, "validate", minimal_recipe(tmp_path, minilm_dir),
                   "--set", "training.learning_rate=3e-5", "--set", "task.labels=[O, B-X]",
                   "--dump-config", check=True).stdout
    data = yaml.safe_load(dump)
    assert data["training"]["learning_rate"] == 3e-5
    assert isinstance(data["training"]["adam_epsilon"], float)
    assert data["training"]["max_steps"] == -1
    assert data["training"]["bf16"] is False
    assert data["evaluation"]["eval_strategy"] == "no"  # a string, not YAML 1.1's false
    assert data["task"]["labels"] == ["O", "B-X"]
    assert data["tokenizer"]["do_lower_case"] is None
    assert data["model"]["pretrained"] == str(minilm_dir)


def test_documented_key_tables_match_list_keys(clintorch_bin):
    """docs/recipes.md holds the generated key reference between the recipe-keys markers."""
    page = (SOURCE_DIR / "docs" / "recipes.md").read_text()
    begin, end = "<!-- recipe-keys:begin -->\n", "<!-- recipe-keys:end -->"
    assert begin in page and end in page
    documented = page[page.index(begin) + len(begin):page.index(end)]
    generated = run_cli(clintorch_bin, "validate", "--list-keys", check=True).stdout
    assert documented.rstrip("\n") == generated.rstrip("\n"), \
        "docs/recipes.md is stale: paste the output of `clintorch validate --list-keys` " \
        "between its recipe-keys markers"


@pytest.mark.parametrize("metric,ok", [("f1", True), ("eval_precision", True), ("loss", True),
                                       ("pearson", False), ("f_1", False)])
def test_metric_for_best_model_is_checked_before_training(clintorch_bin, tmp_path, minilm_dir,
                                                          metric, ok):
    """metric_for_best_model must be a metric the task's evaluation computes: `validate` (and so
    `train`, before writing anything) rejects others with the key's location and the choices."""
    recipe = minimal_recipe(tmp_path, minilm_dir)
    proc = run_cli(clintorch_bin, "validate", recipe, "--set",
                   f"evaluation.metric_for_best_model={metric}")
    if ok:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 1, proc.stderr
    assert "metric_for_best_model" in proc.stderr and metric in proc.stderr
    assert "precision, recall, f1, accuracy" in proc.stderr
    if metric == "f_1":
        assert "did you mean 'f1'" in proc.stderr
    proc = run_cli(clintorch_bin, "train", recipe, "--set",
                   f"evaluation.metric_for_best_model={metric}")
    assert proc.returncode == 1
    assert not (tmp_path / "out").exists()

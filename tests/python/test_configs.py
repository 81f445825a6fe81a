"""configs/: each folder loads in transformers and matches the published model where a copy of it
is at hand (MiniLM in the venv, the bert-base configs in ../shared/datasets); the tokenizer
settings of a config reach the tokenizer through a recipe (`tokenizer.config`, or the folder of
`model.config`). Bio_ClinicalBERT's trap: a model folder without tokenizer_config.json and a
cased vocabulary is lowercased, with a warning, unless the recipe names configs/bio_clinicalbert;
with it the tokens keep their case, equal to transformers' cased tokenizer."""
import json
import shutil

import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizerFast

from conftest import SOURCE_DIR, run_cli
from train_util import NER_DIR, write_recipe

CONFIGS = SOURCE_DIR / "configs"
FOLDERS = sorted(p for p in CONFIGS.iterdir() if p.is_dir())
ARCH_FIELDS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
               "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
               "layer_norm_eps", "initializer_range", "hidden_dropout_prob",
               "attention_probs_dropout_prob", "pad_token_id"]
CASED_WARNING = "this vocabulary is cased"
TEXT = "Patient denies Chest Pain; BNP elevated per Dr. Placeholder."


def arch(path):
    config = json.loads(path.read_text())
    return {k: config.get(k) for k in ARCH_FIELDS}


def lower_case(folder):
    return json.loads((folder / "tokenizer_config.json").read_text())["do_lower_case"]


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_config_loads_in_transformers(folder):
    config = BertConfig.from_pretrained(folder)
    assert config.model_type == "bert"
    assert config.hidden_size % config.num_attention_heads == 0
    assert isinstance(lower_case(folder), bool), "tokenizer_config.json needs do_lower_case"
    assert (folder / "README.md").is_file()
    assert not (folder / "vocab.txt").exists(), "vocabularies come from the user's download"


def test_minilm_config_is_the_shipped_model(minilm_dir):
    ours = CONFIGS / "all_minilm_l6_v2"
    assert arch(ours / "config.json") == arch(minilm_dir / "config.json")
    assert lower_case(ours) == lower_case(minilm_dir)


@pytest.mark.parametrize("name,published", [
    ("bert_base_cased", "vocab_bert-base-cased"), ("bert_base_uncased", "vocab_bert-base-uncased"),
    # Bio_ClinicalBERT is BioBERT-base, which kept bert-base-cased's architecture and vocabulary.
    ("bio_clinicalbert", "vocab_bert-base-cased")])
def test_bert_base_configs_are_the_published_ones(shared_datasets, name, published):
    ref = shared_datasets / published
    assert arch(CONFIGS / name / "config.json") == arch(ref / "config.json")
    vocab_lines = len((ref / "vocab.txt").read_text(encoding="utf-8").splitlines())
    assert arch(CONFIGS / name / "config.json")["vocab_size"] == vocab_lines
    if (ref / "tokenizer_config.json").is_file():
        assert lower_case(CONFIGS / name) == json.loads(
            (ref / "tokenizer_config.json").read_text())["do_lower_case"]
    assert lower_case(CONFIGS / name) == (name == "bert_base_uncased")


@pytest.fixture(scope="module")
def bio_clinicalbert_like(tmp_path_factory, shared_datasets):
    """A folder laid out as the Bio_ClinicalBERT download: config.json, weights and the cased
    vocab.txt (bert-base-cased's, from ../shared/datasets), and no tokenizer_config.json. The
    model is a small random BERT with that vocabulary."""
    folder = tmp_path_factory.mktemp("bio_clinicalbert_like")
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=28996, hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=128)).save_pretrained(folder)
    shutil.copy(shared_datasets / "vocab_bert-base-cased" / "vocab.txt", folder / "vocab.txt")
    assert not (folder / "tokenizer_config.json").exists()
    return folder


def ner_recipe(tmp_path, model, **tokenizer):
    return write_recipe(tmp_path / "r.yaml", {
        "model": model,
        "tokenizer": {"max_seq_length": 64, **tokenizer},
        "task": {"name": "token_classification"},
        "data": {"train_file": str(NER_DIR / "train.conll"), "format": "conll"},
        "training": {"max_steps": 1, "per_device_train_batch_size": 4, "device": "cpu"},
        "evaluation": {"save_strategy": "no"},
        "output": {"output_dir": str(tmp_path / "out")},
        "logging": {"tensorboard": False, "progress_bar": "never"},
    })


def tokens(clintorch_bin, model_dir, *flags):
    proc = run_cli(clintorch_bin, "tokenize", "--model", model_dir, *flags, input_text=TEXT + "\n",
                   check=True)
    return json.loads(proc.stdout.splitlines()[0])["tokens"]


def hf_tokens(model_dir, **overrides):
    tok = BertTokenizerFast.from_pretrained(str(model_dir), **overrides)
    return tok.convert_ids_to_tokens(tok(TEXT)["input_ids"])


def test_without_the_config_a_cased_vocab_is_lowercased_with_a_warning(
        clintorch_bin, bio_clinicalbert_like, tmp_path):
    recipe = ner_recipe(tmp_path, {"pretrained": str(bio_clinicalbert_like)})
    proc = run_cli(clintorch_bin, "validate", recipe)
    assert proc.returncode == 0, proc.stderr
    assert CASED_WARNING in proc.stderr and "no tokenizer_config.json" in proc.stderr
    proc = run_cli(clintorch_bin, "train", recipe, check=True)
    assert CASED_WARNING in proc.stderr
    export = tmp_path / "out" / "export"
    assert json.loads((export / "tokenizer_config.json").read_text())["do_lower_case"] is True
    # The same trap as transformers' AutoTokenizer on the download: lowercased tokens.
    assert tokens(clintorch_bin, export) == hf_tokens(bio_clinicalbert_like)


def test_bio_clinicalbert_config_keeps_the_case(clintorch_bin, bio_clinicalbert_like, tmp_path):
    config = CONFIGS / "bio_clinicalbert"
    recipe = ner_recipe(tmp_path, {"pretrained": str(bio_clinicalbert_like)}, config=str(config))
    proc = run_cli(clintorch_bin, "validate", recipe)
    assert proc.returncode == 0, proc.stderr
    assert CASED_WARNING not in proc.stderr
    assert "tokenizer settings from" in proc.stderr and "do_lower_case false" in proc.stderr
    # The recipe's own key still wins over the config, and the warning comes back.
    proc = run_cli(clintorch_bin, "validate", recipe, "--set", "tokenizer.do_lower_case=true")
    assert proc.returncode == 0 and CASED_WARNING in proc.stderr

    proc = run_cli(clintorch_bin, "train", recipe, check=True)
    assert CASED_WARNING not in proc.stderr
    export = tmp_path / "out" / "export"
    assert json.loads((export / "tokenizer_config.json").read_text())["do_lower_case"] is False
    ours = tokens(clintorch_bin, export)
    assert ours == hf_tokens(bio_clinicalbert_like, do_lower_case=False)
    assert ours != hf_tokens(bio_clinicalbert_like)  # transformers' default: lowercased
    assert {"Pain", "Dr", "Place"} <= set(ours)  # cased entries of the vocabulary match
    assert ours != tokens(clintorch_bin, export, "--lowercase")


def test_model_config_brings_its_tokenizer_settings(clintorch_bin, shared_datasets, tmp_path):
    """model.config reads the tokenizer_config.json beside config.json, as a model folder's."""
    vocab = str(shared_datasets / "vocab_bert-base-cased" / "vocab.txt")
    for name, warns in (("bio_clinicalbert", False), ("bert_base_uncased", True)):
        recipe = ner_recipe(tmp_path, {"config": str(CONFIGS / name / "config.json")},
                            vocab_file=vocab)
        proc = run_cli(clintorch_bin, "validate", recipe)
        assert proc.returncode == 0, proc.stderr
        assert (CASED_WARNING in proc.stderr) == warns, (name, proc.stderr)
        assert f"{name}/tokenizer_config.json" in proc.stderr


def test_tiny_config_trains_from_scratch(clintorch_bin, minilm_dir, tmp_path):
    recipe = ner_recipe(tmp_path, {"config": str(CONFIGS / "tiny" / "config.json")},
                        vocab_file=str(minilm_dir / "vocab.txt"))
    run_cli(clintorch_bin, "train", recipe, "--set", "training.max_steps=2", check=True)
    config = json.loads((tmp_path / "out" / "export" / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"]) == (2, 64)
    assert config["vocab_size"] == 30522  # grown from the config's 1024 to the vocabulary


def test_tokenizer_config_errors_and_warnings(clintorch_bin, minilm_dir, tmp_path):
    model = {"pretrained": str(minilm_dir)}
    proc = run_cli(clintorch_bin, "validate",
                   ner_recipe(tmp_path, model, config=str(tmp_path / "absent")))
    assert proc.returncode == 1
    assert "tokenizer.config" in proc.stderr and "does not exist" in proc.stderr

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "tokenizer_config.json").write_text('{"do_lower_case": "no"}')
    proc = run_cli(clintorch_bin, "validate", ner_recipe(tmp_path, model, config=str(bad)))
    assert proc.returncode == 1
    assert "tokenizer_config.json" in proc.stderr and '"do_lower_case" must be' in proc.stderr

    # A config meant for another model: validate says so, and goes on.
    proc = run_cli(clintorch_bin, "validate",
                   ner_recipe(tmp_path, model, config=str(CONFIGS / "bio_clinicalbert")))
    assert proc.returncode == 0, proc.stderr
    assert "has vocab_size 28996 but the model has 30522" in proc.stderr

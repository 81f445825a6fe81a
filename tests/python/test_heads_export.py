"""Exports of every head: our TaskModel loads a transformers checkpoint (or a bare encoder plus a
new head), runs a batch and exports; transformers' AutoModelFor{MaskedLM, TokenClassification,
SequenceClassification, QuestionAnswering} load the export as it is (no missing or unexpected
weights) and give our logits within 1e-4; config.json carries id2label/label2id. Our own loader
reads each export back (the head and its options from config.json) to the same outputs, including
the formats transformers lacks (CRF, relation extraction with entity markers)."""
import json

import pytest
import torch

from heads_util import Cases, max_abs, save_hf, write_vocab
from model_util import random_bert, tiny_config, tiny_inputs

TOL = 1e-4
NER = ["O", "B-PROBLEM", "I-PROBLEM", "B-TEST", "I-TEST"]
NLI = ["entailment", "neutral", "contradiction"]
RE = ["false", "CPR:3", "CPR:4"]


def labels_config(labels, **more):
    return tiny_config(id2label=dict(enumerate(labels)),
                       label2id={l: i for i, l in enumerate(labels)}, **more)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from transformers import (BertForMaskedLM, BertForQuestionAnswering,
                              BertForSequenceClassification, BertForTokenClassification, BertModel)

    tmp = tmp_path_factory.mktemp("export")
    ids, mask, types = tiny_inputs(batch=4, seq=11, seed=21)
    batch = dict(input_ids=ids, attention_mask=mask, token_type_ids=types)
    specs = {
        # name: (source dir, head, options, AutoModel class name, expected architecture)
        "mlm": (save_hf(random_bert(tiny_config(), BertForMaskedLM, 1), tmp / "src_mlm"),
                "mlm", {}, "AutoModelForMaskedLM", "BertForMaskedLM"),
        "ner": (save_hf(random_bert(labels_config(NER), BertForTokenClassification, 2),
                        tmp / "src_ner"),
                "token_classification", {}, "AutoModelForTokenClassification",
                "BertForTokenClassification"),
        "ner_new_head": (save_hf(random_bert(tiny_config(), BertModel, 3), tmp / "src_base"),
                         "token_classification", {"labels": NER},
                         "AutoModelForTokenClassification", "BertForTokenClassification"),
        "nli": (save_hf(random_bert(labels_config(NLI), BertForSequenceClassification, 4),
                        tmp / "src_nli"),
                "sequence_classification", {}, "AutoModelForSequenceClassification",
                "BertForSequenceClassification"),
        "multi": (save_hf(random_bert(labels_config(
            ["a", "b", "c"], problem_type="multi_label_classification"),
            BertForSequenceClassification, 5), tmp / "src_multi"),
            "sequence_classification", {"thresholds": [0.4]},
            "AutoModelForSequenceClassification", "BertForSequenceClassification"),
        "regression": (save_hf(random_bert(tiny_config(num_labels=1, problem_type="regression"),
                                           BertForSequenceClassification, 6), tmp / "src_reg"),
                       "sequence_classification", {}, "AutoModelForSequenceClassification",
                       "BertForSequenceClassification"),
        "qa": (save_hf(random_bert(tiny_config(), BertForQuestionAnswering, 7), tmp / "src_qa"),
               "question_answering", {}, "AutoModelForQuestionAnswering",
               "BertForQuestionAnswering"),
        "re_cls": (save_hf(random_bert(labels_config(RE), BertForSequenceClassification, 8),
                           tmp / "src_re"),
                   "relation_extraction", {"pooling": "cls"},
                   "AutoModelForSequenceClassification", "BertForSequenceClassification"),
        # Formats transformers has no class for: loaded back by us; AutoModel takes the encoder.
        "ner_crf": (tmp / "src_ner", "token_classification", {"crf": True},
                    "AutoModelForTokenClassification", "BertForTokenClassification"),
        "re_markers": (tmp / "src_base", "relation_extraction", {"labels": RE},
                       "AutoModel", "ClintorchBertForRelationExtraction"),
    }
    positions = torch.tensor([[1, 2], [3, 1], [2, 4], [0, 1]])
    first = Cases(tmp / "first")
    for name, (src, head, options, _, _) in specs.items():
        inputs = dict(batch)
        if name == "re_markers":
            inputs["entity_positions"] = positions
        first.add(name, src, head, options, inputs=inputs, export=tmp / f"out_{name}",
                  **({"resize_vocab": 103} if name == "re_markers" else {}))
    first.run()
    again = Cases(tmp / "again")
    for name in specs:
        inputs = dict(batch)
        if name == "re_markers":
            ids_m = ids.clone()
            ids_m[torch.arange(4), positions[:, 0]] = 99  # [E1]
            ids_m[torch.arange(4), positions[:, 1]] = 101  # [E2]
            inputs.update(input_ids=ids_m, entity_positions=positions)
        again.add(name, tmp / f"out_{name}", "", {}, inputs=inputs)
    again.run()
    return specs, first, again, tmp, batch


def load_auto(cls_name, directory):
    import transformers

    model, info = getattr(transformers, cls_name).from_pretrained(directory,
                                                                  output_loading_info=True)
    return model.eval(), info


@pytest.mark.parametrize("name", ["mlm", "ner", "ner_new_head", "nli", "multi", "regression",
                                  "qa", "re_cls"])
def test_transformers_auto_model_loads_the_export_with_our_logits(exported, name):
    specs, first, _, tmp, batch = exported
    _, head, _, auto, arch = specs[name]
    ours, _ = first.out(name)
    out = tmp / f"out_{name}"
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == [arch]
    assert (out / "vocab.txt").is_file()
    model, info = load_auto(auto, out)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    assert not info["mismatched_keys"], info
    with torch.no_grad():
        got = model(**batch)
    if head == "question_answering":
        diff = max(max_abs(got.start_logits, ours["start_logits"]),
                   max_abs(got.end_logits, ours["end_logits"]))
    else:
        diff = max_abs(got.logits, ours["logits"])
    print(f"{name}: {auto} on the export vs ours: max abs {diff:.3g}")
    assert diff <= TOL
    if name == "mlm":
        assert model.cls.predictions.decoder.weight.data_ptr() == \
            model.bert.embeddings.word_embeddings.weight.data_ptr()
        assert config["tie_word_embeddings"] is True
        assert "id2label" not in config


@pytest.mark.parametrize("name,labels", [("ner", NER), ("ner_new_head", NER), ("nli", NLI),
                                         ("re_cls", RE), ("re_markers", RE),
                                         ("multi", ["a", "b", "c"])])
def test_label_maps_are_stored_in_config_json(exported, name, labels):
    _, _, _, tmp, _ = exported
    config = json.loads((tmp / f"out_{name}" / "config.json").read_text())
    assert config["id2label"] == {str(i): l for i, l in enumerate(labels)}
    assert config["label2id"] == {l: i for i, l in enumerate(labels)}
    if name in ("ner", "ner_new_head", "nli"):
        from transformers import AutoConfig

        hf = AutoConfig.from_pretrained(tmp / f"out_{name}")
        assert hf.id2label == dict(enumerate(labels)) and hf.num_labels == len(labels)


@pytest.mark.parametrize("name", ["mlm", "ner", "ner_new_head", "nli", "multi", "regression",
                                  "qa", "re_cls", "ner_crf"])
def test_our_loader_reads_every_export_back(exported, name):
    specs, first, again, _, _ = exported
    a, _ = first.out(name)
    b, summary = again.out(name)
    assert summary["info"]["name"] == specs[name][1]
    assert summary["report"]["missing"] == [] and summary["report"]["unexpected"] == []
    for key in ("logits", "start_logits", "end_logits"):
        if key in a:
            assert max_abs(a[key], b[key]) <= 1e-6, key
    assert torch.equal(a["decoded"], b["decoded"])


def test_crf_export_keeps_the_crf_and_transformers_reads_the_rest(exported):
    _, first, again, tmp, batch = exported
    out = tmp / "out_ner_crf"
    config = json.loads((out / "config.json").read_text())
    assert config["clintorch"] == {"head": "token_classification", "crf": True,
                                   "crf_bio_constraints": True}
    _, summary = again.out("ner_crf")
    assert "crf.transitions" in summary["tensor_names"]
    model, info = load_auto("AutoModelForTokenClassification", out)
    assert sorted(info["unexpected_keys"]) == ["crf.end_transitions", "crf.start_transitions",
                                               "crf.transitions"]
    assert not info["missing_keys"]
    ours, _ = first.out("ner_crf")
    with torch.no_grad():
        assert max_abs(model(**batch).logits, ours["logits"]) <= TOL


def test_relation_extraction_marker_export_is_our_format_and_its_encoder_loads_in_transformers(
        exported):
    _, first, again, tmp, batch = exported
    out = tmp / "out_re_markers"
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["ClintorchBertForRelationExtraction"]
    assert config["clintorch"] == {"head": "relation_extraction", "pooling": "entity_start",
                                   "entity_markers": ["[E1]", "[/E1]", "[E2]", "[/E2]"]}
    assert config["vocab_size"] == 103
    b, summary = again.out("re_markers")
    assert summary["info"]["name"] == "relation_extraction"
    assert summary["info"]["labels"] == RE
    assert summary["report"]["missing"] == [] and summary["report"]["unexpected"] == []
    # Our reload on marker inputs = the PyTorch computation on the exported weights.
    from safetensors.torch import load_file
    from transformers import AutoModel

    weights = load_file(str(out / "model.safetensors"))
    encoder, info = load_auto("AutoModel", out)
    assert sorted(info["unexpected_keys"]) == ["classifier.bias", "classifier.weight"]
    ids_m = batch["input_ids"].clone()
    positions = torch.tensor([[1, 2], [3, 1], [2, 4], [0, 1]])
    ids_m[torch.arange(4), positions[:, 0]] = 99
    ids_m[torch.arange(4), positions[:, 1]] = 101
    with torch.no_grad():
        h = encoder(input_ids=ids_m, attention_mask=batch["attention_mask"],
                    token_type_ids=batch["token_type_ids"]).last_hidden_state
        pooled = torch.cat([h[torch.arange(4), positions[:, 0]],
                            h[torch.arange(4), positions[:, 1]]], -1)
        logits = pooled @ weights["classifier.weight"].T + weights["classifier.bias"]
    assert max_abs(b["logits"], logits) <= TOL

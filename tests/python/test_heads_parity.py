"""Parity of every task head with its transformers class: transformers builds a small random model
(every parameter random, fixed seed) and saves it; our TaskModel loads the directory and runs the
same batch (padding, two segments, labels with -100). Logits and loss agree within 1e-5 fp32.

  mlm                      BertForMaskedLM (tied decoder; logits only at masked positions)
  token_classification     BertForTokenClassification (+ class weights: written-out weighted CE)
  sequence_classification  BertForSequenceClassification: single-label (with and without class
                           weights), multi-label, regression, text pair and single text
  question_answering       BertForQuestionAnswering, positions outside the window clamped as HF
  relation_extraction      [CLS] pooling = BertForSequenceClassification; entity markers against
                           the same computation written in PyTorch with the same weights
All cases run in one head_dump process."""
import json

import pytest
import torch
import torch.nn.functional as F

from heads_util import Cases, max_abs, save_hf, weighted_cross_entropy, write_vocab
from model_util import random_bert, tiny_config, tiny_inputs

TOL = 1e-5
NER_LABELS = ["O", "B-PROBLEM", "I-PROBLEM", "B-TREATMENT", "I-TREATMENT"]
CLS_LABELS = ["entailment", "neutral", "contradiction"]
RE_LABELS = ["false", "CPR:3", "CPR:4", "CPR:9"]


def labels_config(labels, **more):
    return tiny_config(id2label=dict(enumerate(labels)),
                       label2id={l: i for i, l in enumerate(labels)}, **more)


def token_labels(mask, num_labels, seed):
    """Label ids on real tokens; -100 on [CLS], the last real token ([SEP]), padding and about a
    fifth of the rest (non-first sub-tokens)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_labels, mask.shape, generator=g)
    drop = torch.rand(mask.shape, generator=g) < 0.2
    labels[drop | (mask == 0)] = -100
    labels[:, 0] = -100
    for b, n in enumerate(mask.sum(1).tolist()):
        labels[b, n - 1] = -100
    return labels


def hf(model, ids, mask, types, **targets):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, token_type_ids=types, **targets)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heads")
    cases = Cases(tmp / "cases")
    ref = {}
    ids, mask, types = tiny_inputs(batch=4, seq=11, seed=1)

    # ---- mlm ----
    from transformers import BertForMaskedLM, BertForPreTraining, BertModel

    mlm = random_bert(tiny_config(), cls=BertForMaskedLM, seed=1)
    assert mlm.cls.predictions.decoder.weight is mlm.bert.embeddings.word_embeddings.weight
    d = save_hf(mlm, tmp / "mlm")
    g = torch.Generator().manual_seed(2)
    mlm_labels = torch.where((torch.rand(ids.shape, generator=g) < 0.3) & (mask == 1),
                             torch.randint(0, 99, ids.shape, generator=g), torch.tensor(-100))
    mlm_labels[0, 1] = 17  # at least one masked token in the first rows
    mlm_labels[1, 2] = 5
    mlm_labels[3] = -100  # a row with nothing masked
    inputs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=mlm_labels)
    ref["mlm"] = hf(mlm, ids, mask, types, labels=mlm_labels)
    ref["mlm_labels"] = mlm_labels
    cases.add("mlm_masked", d, "mlm", inputs=inputs)
    cases.add("mlm_full", d, "mlm", {"mlm_masked_only": False}, inputs=inputs)
    cases.add("mlm_nolabels", d, "", inputs=dict(input_ids=ids, attention_mask=mask,
                                                 token_type_ids=types))
    # A legacy checkpoint storing the tied decoder copies too, and a BertForPreTraining one.
    legacy = tmp / "mlm_legacy"
    legacy.mkdir()
    mlm.config.save_pretrained(legacy)
    torch.save(mlm.state_dict(), legacy / "pytorch_model.bin")
    assert "cls.predictions.decoder.weight" in torch.load(legacy / "pytorch_model.bin")
    cases.add("mlm_legacy", legacy, "mlm", inputs=inputs)
    pre = random_bert(tiny_config(), cls=BertForPreTraining, seed=3)
    d_pre = save_hf(pre, tmp / "pretraining")
    ref["pre_as_mlm"], ref["pre_info"] = BertForMaskedLM.from_pretrained(
        d_pre, output_loading_info=True)
    ref["pre_as_mlm"].eval()
    ref["pre_logits"] = hf(ref["pre_as_mlm"], ids, mask, types).logits
    cases.add("mlm_from_pretraining", d_pre, "mlm",
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types))

    # ---- token_classification ----
    from transformers import AutoModelForTokenClassification, BertForTokenClassification

    ner = random_bert(labels_config(NER_LABELS), cls=BertForTokenClassification, seed=4)
    d = save_hf(ner, tmp / "ner")
    ner_labels = token_labels(mask, len(NER_LABELS), seed=5)
    inputs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=ner_labels)
    ref["ner"] = hf(ner, ids, mask, types, labels=ner_labels)
    ref["ner_labels"] = ner_labels
    cases.add("ner", d, "token_classification", inputs=inputs)
    ref["ner_weights"] = [0.2, 1.0, 2.0, 1.5, 3.0]
    cases.add("ner_weighted", d, "ner", {"class_weights": ref["ner_weights"]}, inputs=inputs)
    cases.add("ner_crf", d, "token_classification", {"crf": True}, inputs=inputs)
    # A bare BertModel checkpoint: the head is new, reported as missing (as transformers does).
    base = random_bert(tiny_config(), cls=BertModel, seed=6)
    d_base = save_hf(base, tmp / "base")
    _, ref["base_info"] = AutoModelForTokenClassification.from_pretrained(
        d_base, num_labels=len(NER_LABELS), output_loading_info=True)
    cases.add("ner_from_base", d_base, "token_classification", {"labels": NER_LABELS},
              params=["classifier.weight", "classifier.bias"])

    # ---- sequence_classification ----
    from transformers import BertForSequenceClassification

    single = random_bert(labels_config(CLS_LABELS), cls=BertForSequenceClassification, seed=7)
    d = save_hf(single, tmp / "single")
    y = torch.tensor([0, 2, 1, 2])
    ref["single"] = hf(single, ids, mask, types, labels=y)
    ref["single_notypes"] = hf(single, ids, mask, None, labels=y)
    ref["single_y"] = y
    cases.add("single", d, "sequence_classification",
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=y))
    cases.add("single_notypes", d, "classification",
              inputs=dict(input_ids=ids, attention_mask=mask, labels=y))
    ref["cls_weights"] = [0.5, 2.0, 1.25]
    cases.add("single_weighted", d, "sequence_classification",
              {"class_weights": ref["cls_weights"]},
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=y))

    multi_labels = ["fever", "cough", "rash", "pain"]
    multi = random_bert(labels_config(multi_labels, problem_type="multi_label_classification"),
                        cls=BertForSequenceClassification, seed=8)
    d = save_hf(multi, tmp / "multi")
    ym = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0]], dtype=torch.float)
    ref["multi"] = hf(multi, ids, mask, types, labels=ym)
    ref["thresholds"] = [0.5, 0.3, 0.7, 0.45]
    cases.add("multi", d, "sequence_classification", {"thresholds": ref["thresholds"]},
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=ym))

    reg = random_bert(tiny_config(num_labels=1, problem_type="regression"),
                      cls=BertForSequenceClassification, seed=9)
    d = save_hf(reg, tmp / "regression")
    yr = torch.tensor([0.5, -1.25, 3.0, 2.0])
    ref["regression"] = hf(reg, ids, mask, types, labels=yr)
    cases.add("regression", d, "sequence_classification",
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=yr))

    # ---- question_answering ----
    from transformers import BertForQuestionAnswering

    qa = random_bert(tiny_config(), cls=BertForQuestionAnswering, seed=10)
    d = save_hf(qa, tmp / "qa")
    seq = ids.shape[1]
    # Row 1's start lies past the window (ignored), row 2's start is negative (clamped to 0),
    # row 3's end is past the window (ignored); row 0 is ordinary.
    starts = torch.tensor([3, seq + 9, -2, 0])
    ends = torch.tensor([5, 4, 0, seq + 19])
    ref["qa"] = hf(qa, ids, mask, types, start_positions=starts, end_positions=ends)
    cases.add("qa", d, "question_answering",
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types,
                          start_positions=starts, end_positions=ends))
    starts2, ends2 = torch.tensor([[2], [0], [3], [1]]), torch.tensor([[4], [0], [3], [1]])
    ref["qa_inrange"] = hf(qa, ids, mask, types, start_positions=starts2, end_positions=ends2)
    cases.add("qa_inrange", d, "qa",
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types,
                          start_positions=starts2, end_positions=ends2))

    # ---- relation_extraction ----
    re_cls = random_bert(labels_config(RE_LABELS), cls=BertForSequenceClassification, seed=11)
    d = save_hf(re_cls, tmp / "re_cls")
    yre = torch.tensor([1, 0, 3, 2])
    ref["re_cls"] = hf(re_cls, ids, mask, types, labels=yre)
    cases.add("re_cls", d, "relation_extraction", {"pooling": "cls"},
              inputs=dict(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=yre))

    # Entity markers: an encoder whose vocabulary has the 4 marker tokens at ids 99..102, plus a
    # classifier on the concatenated [E1]/[E2] states, written as our loader expects.
    config = labels_config(RE_LABELS, vocab_size=103)
    torch.manual_seed(12)
    enc = random_bert(config, cls=lambda c: BertModel(c, add_pooling_layer=False), seed=12)
    classifier = torch.nn.Linear(2 * config.hidden_size, len(RE_LABELS))
    with torch.no_grad():
        classifier.weight.normal_(0, 0.3)
        classifier.bias.normal_(0, 0.3)
    d = tmp / "re_markers"
    d.mkdir()
    config.save_pretrained(d)
    write_vocab(d / "vocab.txt", 99)
    from safetensors.torch import save_file

    state = {f"bert.{k}": v.contiguous() for k, v in enc.state_dict().items()}
    state["classifier.weight"] = classifier.weight.detach().contiguous()
    state["classifier.bias"] = classifier.bias.detach().contiguous()
    save_file(state, str(d / "model.safetensors"), metadata={"format": "pt"})
    mids = ids.clone()
    # [E1] at e1, [/E1] after it, [E2] at e2, [/E2] after it, inside each row's real tokens.
    e = torch.tensor([[1, 5], [3, 1], [2, 0], [1, 0]])  # row 3 has length 2: [E1] at 1, [E2] at 0
    for b, (e1, e2) in enumerate(e.tolist()):
        mids[b, e1] = 99
        mids[b, e2] = 101
    with torch.no_grad():
        h = enc(input_ids=mids, attention_mask=mask, token_type_ids=types).last_hidden_state
        rows = torch.arange(4)
        pooled = torch.cat([h[rows, e[:, 0]], h[rows, e[:, 1]]], dim=-1)
        logits = classifier(pooled)
    ref["re_markers_logits"] = logits
    ref["re_markers_loss"] = F.cross_entropy(logits, yre)
    ref["re_weights"] = [0.1, 1.0, 2.0, 4.0]
    ref["re_markers_wloss"] = weighted_cross_entropy(logits, yre, ref["re_weights"])
    marker_inputs = dict(input_ids=mids, attention_mask=mask, token_type_ids=types,
                         entity_positions=e, labels=yre)
    cases.add("re_markers", d, "re", {"pooling": "entity_start"}, inputs=marker_inputs)
    cases.add("re_markers_weighted", d, "re", {"class_weights": ref["re_weights"]},
              inputs=marker_inputs)
    # The same encoder before the markers were added: our loader resizes to 103 rows, new rows
    # get the mean embedding.
    d_small = tmp / "re_base"
    small = random_bert(tiny_config(), cls=BertModel, seed=13)
    save_hf(small, d_small)
    ref["re_base_embeddings"] = small.embeddings.word_embeddings.weight.detach()
    cases.add("re_resized", d_small, "relation_extraction", {"labels": RE_LABELS},
              resize_vocab=103, params=["bert.embeddings.word_embeddings.weight"],
              inputs=marker_inputs)

    # ---- errors ----
    cases.add("unknown_head", tmp / "single", "sequence_clasification")
    cases.add("labels_conflict", tmp / "ner", "token_classification",
              {"labels": ["O", "B-DRUG", "I-DRUG", "B-DOSE", "I-DOSE"]})
    cases.add("labels_reinit", tmp / "ner", "token_classification",
              {"labels": ["O", "B-DRUG", "I-DRUG"]}, ignore_mismatched_sizes=True)
    cases.run()
    return cases, ref


# ---- mlm --------------------------------------------------------------------------------------

def test_mlm_logits_only_at_masked_positions_and_loss_match_bert_for_masked_lm(run):
    cases, ref = run
    out, summary = cases.out("mlm_masked")
    labels = ref["mlm_labels"]
    flat = (labels.reshape(-1) != -100).nonzero().squeeze(1)
    assert torch.equal(out["positions"], flat)
    vocab = ref["mlm"].logits.shape[-1]
    expected = ref["mlm"].logits.reshape(-1, vocab)[flat]
    assert out["logits"].shape == expected.shape  # (n_masked, vocab), not (batch, seq, vocab)
    d_logits, d_loss = max_abs(out["logits"], expected), max_abs(out["loss"], ref["mlm"].loss)
    print(f"mlm masked-only: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    assert out["loss_weight"].item() == len(flat)
    assert summary["report"]["missing"] == [] and summary["report"]["unexpected"] == []
    assert not any(n.startswith("cls.predictions.decoder") for n in summary["tensor_names"])
    assert summary["info"]["hf_architecture"] == "BertForMaskedLM"


def test_mlm_full_logits_and_tied_decoder(run):
    cases, ref = run
    out, _ = cases.out("mlm_full")
    d_logits, d_loss = max_abs(out["logits"], ref["mlm"].logits), max_abs(out["loss"], ref["mlm"].loss)
    print(f"mlm full: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    nolabels, summary = cases.out("mlm_nolabels")  # the head named by config.json
    assert summary["info"]["name"] == "mlm" and "loss" not in nolabels
    assert max_abs(nolabels["logits"], ref["mlm"].logits) <= TOL
    assert torch.equal(nolabels["decoded"], ref["mlm"].logits.argmax(-1))


def test_mlm_legacy_checkpoint_with_decoder_copies_and_pretraining_checkpoint(run):
    cases, ref = run
    out, summary = cases.out("mlm_legacy")
    assert summary["report"]["unexpected"] == [] and summary["report"]["missing"] == []
    assert max_abs(out["loss"], ref["mlm"].loss) <= TOL
    # BertForPreTraining: cls.predictions.* load, the NSP head and pooler are unused, as in HF.
    out, summary = cases.out("mlm_from_pretraining")
    assert max_abs(out["logits"], ref["pre_logits"]) <= TOL
    assert summary["report"]["missing"] == sorted(ref["pre_info"]["missing_keys"]) == []
    assert sorted(summary["report"]["unexpected"]) == sorted(ref["pre_info"]["unexpected_keys"])


# ---- token_classification ---------------------------------------------------------------------

def test_token_classification_matches_bert_for_token_classification(run):
    cases, ref = run
    out, summary = cases.out("ner")
    d_logits, d_loss = max_abs(out["logits"], ref["ner"].logits), max_abs(out["loss"], ref["ner"].loss)
    print(f"token_classification: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    assert summary["info"]["labels"] == NER_LABELS
    assert summary["info"]["metric_family"] == "ner"
    assert summary["config"]["id2label"] == {str(i): l for i, l in enumerate(NER_LABELS)}
    assert summary["config"]["label2id"] == {l: i for i, l in enumerate(NER_LABELS)}
    labels = ref["ner_labels"]
    expected = torch.where(labels != -100, ref["ner"].logits.argmax(-1), torch.tensor(-100))
    assert torch.equal(out["decoded"], expected)


def test_token_classification_class_weights_match_weighted_cross_entropy(run):
    cases, ref = run
    out, _ = cases.out("ner_weighted")
    expected = weighted_cross_entropy(ref["ner"].logits, ref["ner_labels"], ref["ner_weights"])
    d = max_abs(out["loss"], expected)
    print(f"token_classification weighted: max abs loss {d:.3g}")
    assert d <= TOL
    assert abs(out["loss"].item() - ref["ner"].loss.item()) > 1e-3  # the weights matter


def test_token_classification_crf_loss_is_finite_and_paths_are_valid_bio(run):
    cases, ref = run
    out, summary = cases.out("ner_crf")
    assert "crf.transitions" in summary["tensor_names"]
    assert summary["config"]["clintorch"]["crf"] is True
    assert torch.isfinite(out["loss"]) and out["loss"].item() > 0
    assert max_abs(out["logits"], ref["ner"].logits) <= TOL  # the emissions are HF's logits
    labels = ref["ner_labels"]
    decoded = out["decoded"]
    assert torch.equal(decoded == -100, labels == -100)
    for row in decoded.tolist():
        tags = [NER_LABELS[t] for t in row if t != -100]
        prev = "O"
        for tag in tags:
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:] and prev != "O", tags
            prev = tag


def test_missing_head_weights_are_initialised_and_reported_as_transformers_does(run):
    cases, ref = run
    out, summary = cases.out("ner_from_base")
    info = ref["base_info"]
    assert sorted(summary["report"]["missing"]) == sorted(info["missing_keys"])
    assert sorted(summary["report"]["unexpected"]) == sorted(info["unexpected_keys"])
    w, b = out["param.classifier.weight"], out["param.classifier.bias"]
    assert w.shape == (len(NER_LABELS), 32)
    assert 0.01 < w.std().item() < 0.03  # normal(0, initializer_range = 0.02)
    assert torch.count_nonzero(b) == 0
    assert "newly initialized" in cases.stderr and "classifier.weight" in cases.stderr


# ---- sequence_classification ------------------------------------------------------------------

def test_single_label_pair_and_single_text_match_bert_for_sequence_classification(run):
    cases, ref = run
    for name, key in [("single", "single"), ("single_notypes", "single_notypes")]:
        out, summary = cases.out(name)
        d_logits = max_abs(out["logits"], ref[key].logits)
        d_loss = max_abs(out["loss"], ref[key].loss)
        print(f"sequence_classification {name}: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
        assert d_logits <= TOL and d_loss <= TOL
        assert torch.equal(out["decoded"], ref[key].logits.argmax(-1))
    assert summary["config"]["problem_type"] == "single_label_classification"
    assert summary["info"]["uses_pooler"] is True


def test_single_label_class_weights_match_weighted_cross_entropy(run):
    cases, ref = run
    out, _ = cases.out("single_weighted")
    expected = weighted_cross_entropy(ref["single"].logits, ref["single_y"], ref["cls_weights"])
    d = max_abs(out["loss"], expected)
    print(f"sequence_classification weighted: max abs loss {d:.3g}")
    assert d <= TOL
    assert abs(out["loss_sum"].item() / out["loss_weight"].item() - out["loss"].item()) < 1e-6
    assert out["loss_weight"].item() == pytest.approx(sum(ref["cls_weights"][i] for i in [0, 2, 1, 2]))


def test_multi_label_bce_and_per_label_thresholds(run):
    cases, ref = run
    out, summary = cases.out("multi")
    d_logits, d_loss = max_abs(out["logits"], ref["multi"].logits), max_abs(out["loss"], ref["multi"].loss)
    print(f"multi-label: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    expected = (torch.sigmoid(ref["multi"].logits) >= torch.tensor(ref["thresholds"])).long()
    assert torch.equal(out["decoded"], expected)
    assert summary["info"]["metric_family"] == "multilabel"
    assert summary["config"]["problem_type"] == "multi_label_classification"
    assert summary["config"]["clintorch"]["thresholds"] == ref["thresholds"]


def test_regression_mse(run):
    cases, ref = run
    out, summary = cases.out("regression")
    d_logits = max_abs(out["logits"], ref["regression"].logits)
    d_loss = max_abs(out["loss"], ref["regression"].loss)
    print(f"regression: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    assert summary["info"]["metric_family"] == "regression"


# ---- question_answering -----------------------------------------------------------------------

def test_question_answering_start_end_logits_and_clamped_loss(run):
    cases, ref = run
    for name in ["qa", "qa_inrange"]:
        out, summary = cases.out(name)
        d_start = max_abs(out["start_logits"], ref[name].start_logits)
        d_end = max_abs(out["end_logits"], ref[name].end_logits)
        d_loss = max_abs(out["loss"], ref[name].loss)
        print(f"{name}: max abs start {d_start:.3g}, end {d_end:.3g}, loss {d_loss:.3g}")
        assert d_start <= TOL and d_end <= TOL and d_loss <= TOL
        assert torch.isfinite(out["loss"])
    assert summary["info"]["hf_architecture"] == "BertForQuestionAnswering"
    # decode(): the best span over the context (segment 1), start <= end.
    out, _ = cases.out("qa")
    s, e = ref["qa"].start_logits, ref["qa"].end_logits
    _, mask, types = tiny_inputs(batch=4, seq=11, seed=1)
    for b, (start, end) in enumerate(out["decoded"].tolist()):
        ctx = [i for i in range(s.shape[1]) if types[b, i] == 1 and mask[b, i] == 1]
        spans = [(i, j) for i in ctx for j in ctx if i <= j < i + 30]
        best = max(spans, key=lambda p: (s[b, p[0]] + e[b, p[1]]).item())
        assert (start, end) == best


# ---- relation_extraction ----------------------------------------------------------------------

def test_relation_extraction_cls_pooling_is_bert_for_sequence_classification(run):
    cases, ref = run
    out, summary = cases.out("re_cls")
    d_logits, d_loss = max_abs(out["logits"], ref["re_cls"].logits), max_abs(out["loss"], ref["re_cls"].loss)
    print(f"relation_extraction cls: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    assert summary["info"]["hf_architecture"] == "BertForSequenceClassification"
    assert summary["info"]["metric_family"] == "re"
    assert summary["config"]["clintorch"] == {"head": "relation_extraction", "pooling": "cls"}


def test_relation_extraction_entity_markers_match_pytorch_reference(run):
    cases, ref = run
    out, summary = cases.out("re_markers")
    d_logits = max_abs(out["logits"], ref["re_markers_logits"])
    d_loss = max_abs(out["loss"], ref["re_markers_loss"])
    print(f"relation_extraction entity_start: max abs logits {d_logits:.3g}, loss {d_loss:.3g}")
    assert d_logits <= TOL and d_loss <= TOL
    assert summary["info"]["required_tokens"] == ["[E1]", "[/E1]", "[E2]", "[/E2]"]
    assert summary["info"]["hf_architecture"] == "ClintorchBertForRelationExtraction"
    assert summary["report"]["missing"] == [] and summary["report"]["unexpected"] == []
    out, _ = cases.out("re_markers_weighted")
    assert max_abs(out["loss"], ref["re_markers_wloss"]) <= TOL


def test_relation_extraction_resized_vocabulary_gets_mean_embeddings(run):
    cases, ref = run
    out, summary = cases.out("re_resized")
    emb = out["param.bert.embeddings.word_embeddings.weight"]
    old = ref["re_base_embeddings"]
    assert emb.shape == (103, old.shape[1])
    assert max_abs(emb[:99], old) == 0
    assert max_abs(emb[99:], old.mean(0, keepdim=True).expand(4, -1)) <= 1e-6
    assert summary["config"]["vocab_size"] == 103
    assert out["logits"].shape == (4, len(RE_LABELS))


# ---- errors -----------------------------------------------------------------------------------

def test_head_errors_are_clear(run):
    cases, _ = run
    e = cases.error("unknown_head")
    assert "unknown head 'sequence_clasification'" in e
    assert "did you mean 'sequence_classification'?" in e
    e = cases.error("labels_conflict")
    assert "trained on the labels [O, B-PROBLEM, I-PROBLEM, B-TREATMENT, I-TREATMENT]" in e
    assert "ignore_mismatched_sizes" in e
    _, summary = cases.out("labels_reinit")
    assert sorted(summary["report"]["missing"]) == ["classifier.bias", "classifier.weight"]
    assert summary["report"]["unexpected"] == []

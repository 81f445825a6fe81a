"""NER metric parity: our entity-level scores (src/eval/ner_metrics.cpp) against seqeval 1.2 from
the venv -- classification_report (per type, micro/macro/weighted), f1_score, accuracy_score, the
text report, get_entities, Tokens(...).entities and auto_detect -- in the default (conlleval-like)
mode and in strict mode for every seqeval scheme, on randomised cases and the edge cases (no
entities, all-O, I- without B-, empty predictions, E-/S- tags, odd tags, mismatched lengths).
"""
import random
import warnings

from seqeval.metrics import accuracy_score as seq_accuracy
from seqeval.metrics import classification_report as seq_report
from seqeval.metrics import f1_score as seq_f1
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import BILOU, IOB1, IOB2, IOBES, IOE1, IOE2, Tokens, auto_detect

from metrics_parity_common import Mismatches, compare_scores, run_tool, tool  # noqa: F401

SCHEMES = {"IOB1": IOB1, "IOE1": IOE1, "IOB2": IOB2, "IOE2": IOE2, "IOBES": IOBES, "BILOU": BILOU}
SCHEME_PREFIXES = {"IOB1": "IOB", "IOE1": "IOE", "IOB2": "IOB", "IOE2": "IOE", "IOBES": "IOBES",
                   "BILOU": "BILOU"}
TYPES = ["PER", "LOC", "ORG", "Drug", "DOSE", "a", "DRÜG", "X-Y"]


def random_tag(rng, prefixes, types, suffix, weird):
    if weird and rng.random() < 0.08:
        return rng.choice(["O", "B", "I", "E", "S", "I-", "B--PER", "X-PER", ".-PER", "PER", "-",
                           "O-PER", "U-LOC", "L-LOC", "B-PER-X", "Ü-PER"])
    if rng.random() < 0.35:
        return "O"
    p = rng.choice(prefixes.replace("O", "") or "O")
    t = rng.choice(types)
    return f"{t}-{p}" if suffix else f"{p}-{t}"


def random_sentences(rng, prefixes, types, suffix, weird):
    n_sent = rng.choice([1, 1, 2, 3, 4, 6])
    lengths = [rng.choice([0, 1, 2, 3, 5, 8, 12]) for _ in range(n_sent)]
    gold = [[random_tag(rng, prefixes, types, suffix, weird) for _ in range(n)] for n in lengths]
    pred = []
    for sent in gold:
        mode = rng.random()
        if mode < 0.15:
            pred.append(["O"] * len(sent))  # empty predictions
        elif mode < 0.55:  # a perturbed copy of the gold tags
            pred.append([t if rng.random() < 0.7 else random_tag(rng, prefixes, types, suffix, weird)
                         for t in sent])
        else:
            pred.append([random_tag(rng, prefixes, types, suffix, weird) for _ in sent])
    if rng.random() < 0.08:
        gold = [["O"] * len(s) for s in gold]  # all-O gold: no entities
    return gold, pred


NER_EDGE_CASES = [
    ([[]], [[]]),  # one empty sentence: no tokens, no entities
    ([["O", "O"]], [["O", "O"]]),  # all O
    ([["O", "O", "O"]], [["B-PER", "I-PER", "O"]]),  # no gold entities
    ([["B-PER", "I-PER", "O"]], [["O", "O", "O"]]),  # empty predictions
    ([["I-PER", "I-PER", "O", "I-LOC"]], [["B-PER", "I-PER", "O", "I-LOC"]]),  # I- without B-
    ([["O", "I-PER"], ["I-PER", "O"]], [["O", "B-PER"], ["B-PER", "O"]]),
    ([["B-PER", "E-PER", "S-LOC", "O"]], [["B-PER", "I-PER", "S-LOC", "O"]]),  # E- and S-
    ([["S-LOC", "S-LOC", "B-A", "E-A"]], [["S-LOC", "B-LOC", "E-LOC", "E-A"]]),
    ([["B-PER", "I-LOC", "I-LOC"]], [["B-PER", "I-PER", "I-LOC"]]),  # type changes inside
    ([["X", "O", "B-A"], ["O", "I-B"]], [["O", "X", "B-A"], ["I-B", "I-B"]]),  # odd tags
    ([["B-PER"]], [["B-PER", "O"]]),  # mismatched lengths: an error in both
    ([["B-PER"], ["O"]], [["B-PER"]]),  # mismatched sentence counts
    ([], []),  # no sentences: seqeval raises, so must we
    ([["B-PER", ""]], [["B-PER", "O"]]),  # empty tag
]


def seqeval_reference(case):
    gold, pred = case["gold"], case["pred"]
    zd = case.get("zero_division", "warn")  # "warn", 0 or 1, passed as they are
    kwargs = dict(zero_division=zd, suffix=case.get("suffix", False))
    if case.get("mode") == "strict":
        kwargs.update(mode="strict", scheme=SCHEMES[case["scheme"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = seq_report(gold, pred, output_dict=True, **kwargs)
        except Exception as e:  # noqa: BLE001 -- any error must be an error on our side too
            return {"error": f"{type(e).__name__}: {e}"}
        f1_micro = seq_f1(gold, pred, average="micro", **kwargs)
        text = seq_report(gold, pred, digits=4, **kwargs) if len(report) > 3 else None
        try:
            acc = seq_accuracy(gold, pred)
        except ZeroDivisionError:
            acc = None
    return {"report": report, "f1_micro": f1_micro, "accuracy": acc, "text": text}


def compare_ner(m, case, ours, ref):
    if "error" in ref or "error" in ours:
        m.check("error" in ref and "error" in ours,
                f"error mismatch: ours {ours.get('error')!r} ref {ref.get('error')!r}", case)
        return
    res, rep = ours["result"], ref["report"]
    types = [k for k in rep if k not in ("micro avg", "macro avg", "weighted avg")]
    m.check(sorted(res["per_type"]) == sorted(types),
            f"types: ours {sorted(res['per_type'])} ref {sorted(types)}", case)
    for t in types:
        if t in res["per_type"]:
            compare_scores(m, res["per_type"][t], rep[t], t, case)
    for ours_key, ref_key in (("micro", "micro avg"), ("macro", "macro avg"),
                              ("weighted", "weighted avg")):
        compare_scores(m, res[ours_key], rep[ref_key], ours_key, case)
    m.number(res["micro"]["f1"], ref["f1_micro"], "f1_score(average=micro)", case)
    m.number(res["token_accuracy"], ref["accuracy"], "token accuracy", case)
    if ref["text"] is not None:
        ours_text = res["table"].split("\ntoken accuracy:")[0]
        m.check(ours_text == ref["text"], f"table text:\n{ours_text}\n!=\n{ref['text']}", case)


def test_ner_default_mode_matches_seqeval(tool):
    rng = random.Random(8001)
    cases = []
    for i in range(1200):  # randomised cases
        suffix = i % 10 == 9
        gold, pred = random_sentences(rng, "BIOES", TYPES, suffix, weird=True)
        cases.append({"kind": "ner", "mode": "default", "suffix": suffix, "gold": gold,
                      "pred": pred, "zero_division": rng.choice(["warn", 0, 1])})
    for gold, pred in NER_EDGE_CASES:
        for zd in ("warn", 1):
            cases.append({"kind": "ner", "mode": "default", "gold": gold, "pred": pred,
                          "zero_division": zd})
    results = run_tool(tool, cases)
    m = Mismatches()
    for case, ours in zip(cases, results):
        compare_ner(m, case, ours, seqeval_reference(case))
    m.assert_none("NER default mode vs seqeval", len(cases), n_random=1200)


def test_ner_strict_mode_matches_seqeval(tool):
    rng = random.Random(8002)
    cases = []
    names = ["IOB2", "IOBES"] * 3 + ["IOE2", "BILOU", "IOB1", "IOE1"]
    for i in range(1400):
        scheme = names[i % len(names)]
        prefixes = SCHEME_PREFIXES[scheme]
        if rng.random() < 0.1:  # a tag the scheme does not allow: an error in both
            prefixes += rng.choice("BIESLU")
        suffix = i % 12 == 11
        gold, pred = random_sentences(rng, prefixes, TYPES, suffix, weird=False)
        cases.append({"kind": "ner", "mode": "strict", "scheme": scheme, "suffix": suffix,
                      "gold": gold, "pred": pred, "zero_division": rng.choice(["warn", 0, 1])})
    for gold, pred in NER_EDGE_CASES:
        for scheme in ("IOB2", "IOBES"):
            cases.append({"kind": "ner", "mode": "strict", "scheme": scheme, "gold": gold,
                          "pred": pred, "zero_division": "warn"})
    results = run_tool(tool, cases)
    m = Mismatches()
    n_errors = 0
    for case, ours in zip(cases, results):
        ref = seqeval_reference(case)
        n_errors += "error" in ref
        compare_ner(m, case, ours, ref)
    m.assert_none("NER strict mode vs seqeval", len(cases), n_random=1400)
    assert n_errors < len(cases) // 4  # most cases must be scored, not rejected


def test_ner_entity_extraction_matches_seqeval(tool):
    rng = random.Random(8003)
    cases, refs = [], []
    for i in range(1000):
        strict = i % 2 == 1
        scheme = rng.choice(list(SCHEMES)) if strict else None
        prefixes = SCHEME_PREFIXES[scheme] if strict else "BIOES"
        tags = [random_tag(rng, prefixes, TYPES[:4], False, weird=not strict)
                for _ in range(rng.randint(0, 12))]
        case = {"kind": "ner_entities", "mode": "strict" if strict else "default",
                "scheme": scheme or "IOB2", "tags": tags}
        cases.append(case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if strict:
                ref = [[e.tag, e.start, e.end] for e in Tokens(tags, SCHEMES[scheme]).entities]
            else:
                ref = [[t, s, e + 1] for t, s, e in get_entities(tags)]
        refs.append(ref)
    detect = []
    for _ in range(200):
        prefixes = rng.choice(["BIO", "BI", "BO", "B", "IOE", "IE", "EO", "IOBES", "BES", "S",
                               "BILOU", "BLU", "U", "IO", "IBL", "OS"])
        seqs = [[random_tag(rng, prefixes, TYPES[:3], False, False) for _ in range(6)]]
        detect.append({"kind": "ner_detect", "sequences": seqs})
    results = run_tool(tool, cases + detect)
    m = Mismatches()
    for case, ref, ours in zip(cases, refs, results):
        m.check(ours.get("result") == ref, f"entities: ours {ours} ref {ref}", case)
    for case, ours in zip(detect, results[len(cases):]):
        try:
            ref = auto_detect(case["sequences"]).__name__
        except ValueError:
            ref = None
        got = ours.get("result")
        m.check(got == ref, f"auto_detect: ours {ours} ref {ref}", case)
    m.assert_none("NER entity extraction vs seqeval", len(cases) + len(detect), n_random=1000)

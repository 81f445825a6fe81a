"""Classification metric parity: our single-label, multi-label, relation-extraction and regression
metrics (src/eval/classification_metrics.cpp, regression_metrics.cpp) against scikit-learn and SciPy
from the venv, and against the BLUE benchmark's HoC and ChemProt conventions (their few lines are
copied below with their source, as the scripts are not in the venv).
"""
import random
import re
import warnings

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score as sk_accuracy
from sklearn.metrics import classification_report as sk_report
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import precision_recall_fscore_support as sk_prfs

from metrics_parity_common import Mismatches, compare_scores, run_tool, tool  # noqa: F401


def _sk_zero_division(z):
    return np.nan if z == "nan" else z


def test_classification_matches_sklearn(tool):
    rng = random.Random(8004)
    cases = []
    for i in range(1000):
        k = rng.choice([1, 2, 2, 3, 4, 6])
        n = rng.choice([1, 2, 3, 5, 10, 30])
        weights = [rng.random() ** 2 for _ in range(k)]
        gold = rng.choices(range(k), weights=weights, k=n)
        if rng.random() < 0.2:
            pred = [rng.randrange(k + 1) for _ in range(n)]  # a class never in gold
        else:
            pred = [g if rng.random() < 0.6 else rng.randrange(k) for g in gold]
        labels = None
        r = rng.random()
        if r < 0.3:
            labels = list(range(k + rng.choice([0, 0, 1, 2])))  # all classes, some unseen
        elif r < 0.45:
            present = sorted(set(gold) | set(pred) | {rng.randrange(8)})
            labels = rng.sample(present, rng.randint(1, len(present)))  # a subset, any order
        cases.append({"kind": "classification", "gold": gold, "pred": pred, "labels": labels,
                      "zero_division": rng.choice(["warn", 0, 1, "nan"])})
    cases.append({"kind": "classification", "gold": [0, 1], "pred": [0], "labels": None})
    cases.append({"kind": "classification", "gold": [], "pred": [], "labels": None})
    results = run_tool(tool, cases)
    m = Mismatches()
    text_checked = []  # the text report is checked on the first 250 cases (it costs 10 ms each)
    for case, ours in zip(cases, results):
        gold, pred, labels = case["gold"], case["pred"], case["labels"]
        zd = _sk_zero_division(case.get("zero_division", "warn"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                rep = sk_report(gold, pred, labels=labels, output_dict=True, zero_division=zd)
            except ValueError as e:
                m.check("error" in ours, f"sklearn raised {e}, ours {ours}", case)
                continue
            # When no prediction is right, scikit-learn's counts become floats and its text prints
            # supports as "1.0"; ours prints integers, so compare with the ".0" dropped there.
            text = None
            if len(text_checked) < 250:
                text = re.sub(r" +(\d+)\.0$", lambda mo: " " + mo.group(1).rjust(9),
                              sk_report(gold, pred, labels=labels, digits=4, zero_division=zd),
                              flags=re.M)
                text_checked.append(1)
            acc = sk_accuracy(gold, pred)
            try:
                cm = sk_confusion(gold, pred, labels=labels).tolist()
            except ValueError:
                cm = None  # "At least one label specified must be in y_true"
        if "error" in ours:
            m.check(False, f"ours raised {ours['error']}", case)
            continue
        res = ours["result"]
        expected = labels if labels is not None else sorted(set(gold) | set(pred))
        names = [str(x) for x in expected]
        m.check(res["labels"] == expected, f"labels ours {res['labels']} ref {expected}", case)
        for name in names:
            compare_scores(m, res["per_class"][name], rep[name], name, case)
        compare_scores(m, res["macro"], rep["macro avg"], "macro", case)
        compare_scores(m, res["weighted"], rep["weighted avg"], "weighted", case)
        if "accuracy" in rep:
            m.check(res["micro_is_accuracy"], "accuracy row", case)
            for k in ("precision", "recall", "f1"):
                m.number(res["micro"][k], rep["accuracy"], f"micro {k} = accuracy", case)
        else:
            m.check(not res["micro_is_accuracy"], "micro avg row", case)
            compare_scores(m, res["micro"], rep["micro avg"], "micro avg", case)
        m.number(res["accuracy"], acc, "accuracy", case)
        if cm is None:
            m.check(all(v == 0 for row in res["confusion_matrix"]["counts"] for v in row),
                    "confusion matrix where sklearn refuses", case)
        else:
            m.check(res["confusion_matrix"]["counts"] == cm,
                    f"confusion ours {res['confusion_matrix']['counts']} ref {cm}", case)
        if text is not None:
            m.check(res["table"] == text, f"table text:\n{res['table']}\n!=\n{text}", case)
    m.assert_none("classification vs scikit-learn", len(cases), n_random=1000)
    assert len(text_checked) == 250


# BLUE's example-based scores for HoC: ncbi-nlp/BLUE_Benchmark blue/eval_hoc.py,
# get_p_r_f_arrary (copied logic; that script divides by zero on an example without gold labels,
# where blue/ext/pmetrics.py's example_based variant, through scikit-learn, gives recall 0: we
# follow the latter there).
def blue_hoc_example_based(y_pred, y_true):
    prc_list, rec_list = [], []
    for pred_row, true_row in zip(y_pred, y_true):
        label_pred_set = {j for j, v in enumerate(pred_row) if v == 1}
        label_gold_set = {j for j, v in enumerate(true_row) if v == 1}
        tt = len(label_gold_set & label_pred_set)
        prc = 0 if len(label_pred_set) == 0 else tt / len(label_pred_set)
        rec = 0 if len(label_gold_set) == 0 else tt / len(label_gold_set)
        prc_list.append(prc)
        rec_list.append(rec)
    mean_prc, mean_rec = np.mean(prc_list), np.mean(rec_list)
    f = 0.0 if mean_prc + mean_rec == 0 else 2 * mean_prc * mean_rec / (mean_prc + mean_rec)
    return mean_prc, mean_rec, f


def test_multilabel_matches_sklearn_and_blue_hoc(tool):
    rng = random.Random(8005)
    cases = []
    for _ in range(1000):
        n, k = rng.choice([1, 2, 4, 10, 25]), rng.choice([2, 3, 5, 10])
        density = rng.choice([0.05, 0.2, 0.5])
        gold = [[int(rng.random() < density) for _ in range(k)] for _ in range(n)]
        pred = [[v if rng.random() < 0.7 else int(rng.random() < density) for v in row]
                for row in gold]
        cases.append({"kind": "multilabel", "gold": gold, "pred": pred,
                      "zero_division": rng.choice(["warn", 0, 1, "nan"])})
    cases.append({"kind": "multilabel", "gold": [[0, 1]], "pred": [[0, 2]]})  # not 0/1
    cases.append({"kind": "multilabel", "gold": [[0, 1]], "pred": [[0, 1, 0]]})  # ragged
    results = run_tool(tool, cases)
    m = Mismatches()
    for idx, (case, ours) in enumerate(zip(cases, results)):
        rows = case["gold"] + case["pred"]
        if len({len(r) for r in rows}) != 1 or not {v for r in rows for v in r} <= {0, 1}:
            m.check("error" in ours, "bad input must be an error", case)
            continue
        gold, pred = np.array(case["gold"]), np.array(case["pred"])
        zd = _sk_zero_division(case.get("zero_division", "warn"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = sk_report(gold, pred, output_dict=True, zero_division=zd)
            text = sk_report(gold, pred, digits=4, zero_division=zd) if idx < 250 else None
            acc = sk_accuracy(gold, pred)
        res = ours["result"]
        for j in range(gold.shape[1]):
            compare_scores(m, res["per_label"][str(j)], rep[str(j)], str(j), case)
        for key in ("micro", "macro", "weighted", "samples"):
            compare_scores(m, res[key], rep[f"{key} avg"], key, case)
        m.number(res["subset_accuracy"], acc, "subset accuracy", case)
        if text is not None:
            m.check(res["table"].split("\nexample-based")[0] == text, "table text", case)
        p, r, f = blue_hoc_example_based(case["pred"], case["gold"])
        eb = res["example_based"]
        for k, v in (("precision", p), ("recall", r), ("f1", f)):
            m.number(eb[k], v, f"example-based {k}", case)
        if idx < 40:  # BLUE pmetrics' own route to the same numbers: scikit-learn per example
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ps, rs = [], []
                for yt, yp in zip(gold, pred):
                    pp, rr, _, _ = sk_prfs(yt, yp, pos_label=1, average="binary")
                    ps.append(pp)
                    rs.append(rr)
            m.number(eb["precision"], np.average(ps), "example-based precision (pmetrics)", case)
            m.number(eb["recall"], np.average(rs), "example-based recall (pmetrics)", case)
    m.assert_none("multi-label vs scikit-learn and BLUE HoC", len(cases), n_random=1000)


# BLUE's relation scoring (ncbi-nlp/BLUE_Benchmark blue/eval_rel.py with blue/ext/pmetrics.py:
# confusion matrix over the sorted labels, sub_report without "false", micro row). Copied logic.
def blue_relation_micro(gold, pred, negative):
    labels = sorted(set(gold) | set(pred))
    index = {l: i for i, l in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, pred):
        cm[index[g], index[p]] += 1
    fp = cm.sum(axis=0) - np.diag(cm)
    fn = cm.sum(axis=1) - np.diag(cm)
    tp = np.diag(cm)
    keep = [i for i, l in enumerate(labels) if l != negative]
    TP, FP, FN = tp[keep].sum(), fp[keep].sum(), fn[keep].sum()
    div = lambda x, y: 0.0 if y == 0 else x / y  # noqa: E731 -- pmetrics.divide
    ppv, tpr = div(TP, TP + FP), div(TP, TP + FN)
    return ppv, tpr, div(2 * ppv * tpr, ppv + tpr)


def test_relation_extraction_matches_sklearn_and_blue(tool):
    rng = random.Random(8006)
    cases = []
    for _ in range(1000):
        k = rng.choice([2, 3, 5, 6])
        n = rng.choice([1, 3, 10, 40])
        negative = 0 if rng.random() < 0.8 else rng.randrange(k)
        gold = [negative if rng.random() < 0.6 else rng.randrange(k) for _ in range(n)]
        pred = [g if rng.random() < 0.6 else (negative if rng.random() < 0.5 else rng.randrange(k))
                for g in gold]
        cases.append({"kind": "relation", "gold": gold, "pred": pred, "negative_class": negative,
                      "zero_division": rng.choice(["warn", 0, 0, 1, "nan"])})
    results = run_tool(tool, cases)
    m = Mismatches()
    for case, ours in zip(cases, results):
        gold, pred, neg = case["gold"], case["pred"], case["negative_class"]
        zd = _sk_zero_division(case["zero_division"])
        positive = sorted((set(gold) | set(pred)) - {neg})
        res = ours["result"]
        m.check(res["positive_labels"] == positive, "positive labels", case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for avg in ("micro", "macro"):
                p, r, f, _ = sk_prfs(gold, pred, labels=positive, average=avg, zero_division=zd)
                compare_scores(m, res[avg], {"precision": p, "recall": r, "f1-score": f}, avg, case)
        if case["zero_division"] in ("warn", 0):
            p, r, f = blue_relation_micro(gold, pred, neg)
            compare_scores(m, res["micro"], {"precision": p, "recall": r, "f1-score": f},
                           "micro vs BLUE", case)
    m.assert_none("relation extraction vs scikit-learn and BLUE", len(cases), n_random=1000)


def test_regression_matches_scipy(tool):
    rng = random.Random(8007)
    cases = []
    for i in range(1200):
        n = rng.choice([2, 3, 5, 10, 50, 200])
        kind = i % 4
        if kind == 0:  # STS-like gold scores with many ties
            gold = [rng.randint(0, 5) for _ in range(n)]
            pred = [round(g + rng.gauss(0, 1), 1) for g in gold]
        elif kind == 1:
            gold = [rng.gauss(0, 1) for _ in range(n)]
            pred = [g * rng.uniform(-2, 2) + rng.gauss(0, 0.5) for g in gold]
        elif kind == 2:  # ties on both sides
            gold = [rng.choice([0.0, 0.5, 1.0]) for _ in range(n)]
            pred = [rng.choice([1.0, 2.0, 3.0, 4.0]) for _ in range(n)]
        else:
            gold = [rng.uniform(-1e3, 1e3) for _ in range(n)]
            pred = [rng.uniform(-1e3, 1e3) for _ in range(n)]
        if rng.random() < 0.03:
            pred = [1.5] * n  # constant input: NaN in SciPy
        cases.append({"kind": "regression", "gold": gold, "pred": pred})
    cases.append({"kind": "regression", "gold": [1.0], "pred": [2.0]})  # too few: pearsonr raises
    results = run_tool(tool, cases)
    m = Mismatches()
    for case, ours in zip(cases, results):
        gold, pred = case["gold"], case["pred"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pr = pearsonr(gold, pred).statistic
            except ValueError:
                m.check("error" in ours, "pearsonr raised, ours did not", case)
                continue
            sr = spearmanr(gold, pred).statistic
        res = ours["result"]
        m.number(res["pearson"], pr, "pearson", case)
        m.number(res["spearman"], sr, "spearman", case)
    m.assert_none("regression vs SciPy", len(cases), n_random=1200)

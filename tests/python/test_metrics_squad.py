"""SQuAD metric parity: our exact match, F1 and answer normalisation (src/eval/qa_metrics.cpp,
py_text.cpp) against the official SQuAD v1.1 and v2.0 evaluation scripts, whose functions are
copied below (they are not in the venv), on tricky strings and randomised question sets; and the
Python text primitives the normalisation needs (str.lower, re's \\w, str.split) against CPython
on every assigned code point.
"""
import collections
import random
import re
import string
import unicodedata

from metrics_parity_common import Mismatches, run_tool, tool  # noqa: F401

# The official SQuAD evaluation functions, copied (logic unchanged) as the reference: they are not
# in the venv. Source: https://rajpurkar.github.io/SQuAD-explorer/ -- evaluate-v1.1.py
# (normalize_answer, f1_score, exact_match_score, evaluate) and evaluate-v2.0.py (normalize_answer,
# get_tokens, compute_exact, compute_f1, get_raw_scores, apply_no_ans_threshold, make_eval_dict,
# find_best_thresh), the same code HF `evaluate`'s "squad" and "squad_v2" metrics run.
def squad_normalize_answer(s):
    def remove_articles(text):
        regex = re.compile(r"\b(a|an|the)\b", re.UNICODE)
        return re.sub(regex, " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def squad_v1_f1(prediction, ground_truth):
    prediction_tokens = squad_normalize_answer(prediction).split()
    ground_truth_tokens = squad_normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def squad_v1_exact(prediction, ground_truth):
    return squad_normalize_answer(prediction) == squad_normalize_answer(ground_truth)


def squad_v1_evaluate(questions):
    f1 = exact_match = total = 0
    for q in questions:
        total += 1
        exact_match += max(squad_v1_exact(q["pred"], g) for g in q["gold"])
        f1 += max(squad_v1_f1(q["pred"], g) for g in q["gold"])
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def squad_v2_get_tokens(s):
    if not s:
        return []
    return squad_normalize_answer(s).split()


def squad_v2_exact(a_gold, a_pred):
    return int(squad_normalize_answer(a_gold) == squad_normalize_answer(a_pred))


def squad_v2_f1(a_gold, a_pred):
    gold_toks = squad_v2_get_tokens(a_gold)
    pred_toks = squad_v2_get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def squad_v2_evaluate(questions, thresh):
    preds = {q["id"]: q["pred"] for q in questions}
    na_probs = {q["id"]: q["na_prob"] for q in questions}
    qid_to_has_ans = {q["id"]: bool(q["gold"]) for q in questions}
    exact_raw, f1_raw = {}, {}
    for q in questions:
        gold_answers = [a for a in q["gold"] if squad_normalize_answer(a)]
        if not gold_answers:
            gold_answers = [""]
        exact_raw[q["id"]] = max(squad_v2_exact(a, q["pred"]) for a in gold_answers)
        f1_raw[q["id"]] = max(squad_v2_f1(a, q["pred"]) for a in gold_answers)

    def apply_no_ans_threshold(scores):
        new_scores = {}
        for qid, s in scores.items():
            pred_na = na_probs[qid] > thresh
            new_scores[qid] = float(not qid_to_has_ans[qid]) if pred_na else s
        return new_scores

    def make_eval_dict(exact_scores, f1_scores, qid_list=None):
        if not qid_list:
            total = len(exact_scores)
            return {"exact": 100.0 * sum(exact_scores.values()) / total,
                    "f1": 100.0 * sum(f1_scores.values()) / total, "total": total}
        total = len(qid_list)
        return {"exact": 100.0 * sum(exact_scores[k] for k in qid_list) / total,
                "f1": 100.0 * sum(f1_scores[k] for k in qid_list) / total, "total": total}

    def find_best_thresh(scores):
        num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
        cur_score = num_no_ans
        best_score = cur_score
        best_thresh = 0.0
        qid_list = sorted(na_probs, key=lambda k: na_probs[k])
        for qid in qid_list:
            if qid not in scores:
                continue
            if qid_to_has_ans[qid]:
                diff = scores[qid]
            else:
                diff = -1 if preds[qid] else 0
            cur_score += diff
            if cur_score > best_score:
                best_score = cur_score
                best_thresh = na_probs[qid]
        return 100.0 * best_score / len(scores), best_thresh

    exact_thresh = apply_no_ans_threshold(exact_raw)
    f1_thresh = apply_no_ans_threshold(f1_raw)
    out = make_eval_dict(exact_thresh, f1_thresh)
    has_ans = [k for k, v in qid_to_has_ans.items() if v]
    no_ans = [k for k, v in qid_to_has_ans.items() if not v]
    if has_ans:
        for k, v in make_eval_dict(exact_thresh, f1_thresh, has_ans).items():
            out[f"HasAns_{k}"] = v
    if no_ans:
        for k, v in make_eval_dict(exact_thresh, f1_thresh, no_ans).items():
            out[f"NoAns_{k}"] = v
    out["best_exact"], out["best_exact_thresh"] = find_best_thresh(exact_raw)
    out["best_f1"], out["best_f1_thresh"] = find_best_thresh(f1_raw)
    return out


# Characters that stress the normalisation: ASCII punctuation (removed) next to Unicode
# punctuation (kept), articles in every case and glued to words, Python's whitespace set and
# look-alikes that are not whitespace, full case mappings (İ, ẞ), final sigma, numbers that are
# word characters (Ⅻ ½ ٣), combining marks (which end a word for \b), and non-Latin scripts.
TRICKY_PIECES = (list(string.ascii_letters[:8]) + list("XYZ019") + list(string.punctuation) +
                 ["a", "an", "the", "The", "THE", "An", "A", " a ", " the ", "anthem", "theA",
                  "a_b", "an-", "(the)", "the.", "ΟΔΟΣ", "ΑΣ", "Σ", "σ", "ς", "ΑΣ.Β", "ΑΣ'Β",
                  "İ", "ı", "ẞ", "ß", "É", "é", "Ǆ", "ǅ", "ǆ", "ﬁ", "Ⅻ", "ⅻ", "Ⓐ", "ª", "º",
                  "½", "²", "٣", "①", "\u0301", "\u0308", "a\u0301", "中文", "Д", "😀", "\u200b",
                  "\ufeff", "“", "”", "‘", "’", "—", "–", "…", "«", "»", "¿", "¡", "·", "•", "§",
                  " ", " ", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
                  "\xa0", "\u1680", "\u2000", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f",
                  "\u205f", "\u3000", "\u180e"])
TRICKY_STRINGS = [
    "", " ", "the", "The the THE", "a an the", "A.", "an apple", "The Apple!", "the-end",
    "the_end", "theend", "a's", "Shakespeare's \"Hamlet\"", "  multiple   spaces  ",
    "tab\tand\nnewline", "nbsp\xa0here", "ideographic\u3000space", "zero\u200bwidth",
    "“curly” quotes", "em—dash", "ΟΔΟΣ ΟΔΟΣ.", "ΣΑΣ", "İstanbul", "STRASSE ẞ", "café", "cafe\u0301",
    "the\u0301 a\u0308", "Ⅻ the", "1,000.5", "$5", "50%", "U.S.A.", "e.g. the",
]


def test_squad_normalisation_matches_official(tool):
    rng = random.Random(8008)
    pairs = [[a, b] for a in TRICKY_STRINGS for b in TRICKY_STRINGS[:12]]
    for _ in range(3000):
        def piece_string():
            return "".join(rng.choice(TRICKY_PIECES) for _ in range(rng.randint(0, 10)))
        a = piece_string()
        b = a if rng.random() < 0.2 else piece_string()
        pairs.append([a, b])
    results = run_tool(tool, [{"kind": "squad_pairs", "pairs": pairs}])
    ours_all = results[0]["result"]
    m = Mismatches()
    for (gold, pred), ours in zip(pairs, ours_all):
        ref = [squad_normalize_answer(gold), squad_normalize_answer(pred),
               squad_v2_exact(gold, pred), squad_v1_f1(pred, gold), squad_v2_f1(gold, pred)]
        case = {"gold": gold, "pred": pred}
        m.check(ours[0] == ref[0] and ours[1] == ref[1],
                f"normalize: ours {ours[:2]!r} ref {ref[:2]!r}", case)
        m.check(ours[2] == ref[2], "exact", case)
        m.number(ours[3], ref[3], "f1 v1.1", case)
        m.number(ours[4], ref[4], "f1 v2.0", case)
    m.assert_none("SQuAD normalisation vs official", len(pairs), n_random=3000)


def test_python_text_primitives_match_cpython(tool):
    """Every assigned code point (as Python's unicodedata knows them): str.lower(), re's \\w, and
    str.isspace(); then Final_Sigma contexts around each one."""
    cps = [c for c in range(0x110000)
           if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) not in ("Cn", "Co")]
    word = re.compile(r"\w")
    contexts = []
    for c in cps:
        ch = chr(c)
        contexts.extend([ch + "Σ", "AΣ" + ch, "A" + ch + "Σ"])
    results = run_tool(tool, [{"kind": "unicode", "codepoints": cps},
                              {"kind": "lower", "texts": contexts}])
    m = Mismatches()
    for c, (lower, is_word, is_space) in zip(cps, results[0]["result"]):
        ch = chr(c)
        m.check([ord(x) for x in ch.lower()] == lower, f"lower U+{c:04X}", {"cp": c})
        m.check(bool(word.match(ch)) == is_word, f"\\w U+{c:04X}", {"cp": c})
        m.check(ch.isspace() == is_space, f"isspace U+{c:04X}", {"cp": c})
    for text, ours in zip(contexts, results[1]["result"]):
        m.check(text.lower() == ours, f"lower({text!r}) ours {ours!r}", {"text": text})
    m.assert_none(f"Python text primitives (Unicode {unicodedata.unidata_version})", len(cps))


def random_questions(rng, n):
    vocab = ["the", "a", "cat", "Cat", "dog", "DOG.", "aspirin", "5 mg", "5mg", "twice daily",
             "daily", "İ", "ΟΔΟΣ", "", "  ", "the the", "an", "mg"]
    questions = []
    for q in range(n):
        n_gold = rng.choice([0, 0, 1, 1, 2, 3])
        gold = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 3))) for _ in range(n_gold)]
        if gold and rng.random() < 0.5:
            pred = rng.choice(gold)
        elif rng.random() < 0.3:
            pred = ""
        else:
            pred = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 4)))
        na_prob = rng.choice([0.0, 0.1, 0.5, 0.5, 0.9, 1.0, rng.random()])
        questions.append({"id": f"q{q}", "gold": gold, "pred": pred, "na_prob": na_prob})
    return questions


def test_squad_scores_match_official(tool):
    rng = random.Random(8009)
    cases = []
    for i in range(1200):
        questions = random_questions(rng, rng.choice([1, 2, 5, 20, 60]))
        version = "1.1" if i % 3 == 0 else "2.0"
        if version == "1.1":
            for q in questions:
                q["gold"] = q["gold"] or ["fallback"]
        cases.append({"kind": "squad", "version": version,
                      "threshold": rng.choice([1.0, 1.0, 0.5, 0.0]), "examples": [
                          {"id": q["id"], "gold": q["gold"], "pred": q["pred"],
                           "na_prob": q["na_prob"]} for q in questions]})
    cases.append({"kind": "squad", "version": "1.1", "examples": [{"gold": [], "pred": "x"}]})
    cases.append({"kind": "squad", "version": "2.0", "examples": []})
    results = run_tool(tool, cases)
    m = Mismatches()
    for case, ours in zip(cases, results):
        qs = case["examples"]
        if not qs or (case["version"] == "1.1" and any(not q["gold"] for q in qs)):
            m.check("error" in ours, "must be an error", case)
            continue
        res = ours["result"]
        if case["version"] == "1.1":
            ref = squad_v1_evaluate(qs)
        else:
            ref = squad_v2_evaluate(qs, case["threshold"])
        keys = set(ref) | ({"total"} if case["version"] == "1.1" else set())
        m.check(set(res) == keys, f"keys ours {sorted(res)} ref {sorted(keys)}", case)
        for k, v in ref.items():
            m.number(res.get(k), v, k, case, relative=True)
    m.assert_none("SQuAD scores vs official scripts", len(cases), n_random=1200)

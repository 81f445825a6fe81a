"""Writes the small samples behind the use-case recipes of recipes/ (see datasets/README.md,
"Samples for the use-case recipes"): character-span NER, de-identification, NLI pairs,
multi-label, specialty and long-note classification, sentence similarity, SQuAD QA and relation
extraction (BLUE-masked and entity-marker forms).

Every text is invented from the templates and phrase lists below (the clinical phrases are those
of tools/make_ner_sample.py). The de-identification sample holds obviously fictional PHI: names
such as "Jane Placeholder", dates in the year 2999, 555-01xx phone numbers, example.org
addresses, "FAKE-" record numbers. Seeded, so re-running gives the same files:
    .venv/bin/python tools/make_recipe_samples.py
"""
import csv
import io
import json
import random
import re
from pathlib import Path

from make_ner_sample import LAB, PROBLEM, STUDY, TREATMENT

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "datasets"


def bare(phrase):
    """The phrase without a leading determiner (i2b2 2010 leaves it outside the entity)."""
    words = phrase.split()
    return " ".join(words[1:]) if len(words) > 1 and words[0] in ("a", "an", "the") else phrase


def spans_text(pieces):
    """Joins (text, label-or-None) pieces; returns the text and its character-span entities."""
    text, entities = "", []
    for piece, label in pieces:
        if label:
            entities.append({"start": len(text), "end": len(text) + len(piece), "label": label})
        text += piece
    return text, entities


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def write_tsv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in [header, *rows]))


# --- NER from character spans (doccano / spaCy style), i2b2 2010 concept types -------------------

SPAN_TEMPLATES = [
    "Presented with {P} and {P}.", "{S} showed {P}.", "Started on {R} for {P}.",
    "Denies {P}.", "{R} was stopped because of {P}.", "Repeat {S} in two weeks.",
    "{L} elevated on admission.", "Continue {R}; monitor {L}.", "{P} improved after {R}.",
    "Given {P}, {S} was ordered.", "History of {P}, treated with {R}.",
]
SLOTS = {"{P}": ("PROBLEM", PROBLEM), "{R}": ("TREATMENT", TREATMENT), "{L}": ("TEST", LAB),
         "{S}": ("TEST", STUDY)}


def span_sentence(rng, template):
    pieces = []
    for part in re.split(r"(\{[A-Z]\})", template):
        if part in SLOTS:
            label, choices = SLOTS[part]
            phrase = bare(rng.choice(choices))
            if not pieces:
                phrase = phrase[0].upper() + phrase[1:]
            pieces.append((phrase, label))
        elif part:
            pieces.append((part, None))
    return pieces


def ner_span_notes(rng, n):
    rows = []
    for i in range(n):
        pieces = []
        for j in range(rng.randint(2, 4)):
            if j:
                pieces.append((" ", None))
            pieces += span_sentence(rng, rng.choice(SPAN_TEMPLATES))
        text, entities = spans_text(pieces)
        rows.append({"id": f"note{i}", "text": text, "entities": entities})
    return rows


# --- De-identification (i2b2 2014 PHI types), obviously fictional values --------------------------

PHI = {
    "NAME": ["Jane Placeholder", "John Doe", "Alex Example", "Pat Testcase", "Sam Sample",
             "Robin Fakename", "Chris Notreal", "Dana Dummy"],
    "DATE": ["01/02/2999", "March 3, 2999", "2999-04-05", "12/31/2999", "June 9, 2999"],
    "AGE": ["34", "47", "58", "62", "71", "85"],
    "ID": ["FAKE-0001", "FAKE-1234", "FAKE-5678", "FAKE-9012"],
    "LOCATION": ["Exampleville", "Sampletown General Hospital", "12 Fake Street",
                 "Placeholder County"],
    "CONTACT": ["555-0100", "555-0142", "(555) 555-0199", "j.placeholder@example.org"],
    "PROFESSION": ["carpenter", "teacher", "bus driver", "nurse", "accountant"],
}
DEID_TEMPLATES = [
    "{NAME} is a {AGE}-year-old {PROFESSION} seen in clinic on {DATE}.",
    "MRN: {ID}. Admitted to {LOCATION} on {DATE}.",
    "Discussed with Dr. {NAME}, who can be reached at {CONTACT}.",
    "Follow up with {NAME} on {DATE}; call {CONTACT} with questions.",
    "The patient lives in {LOCATION} and works as a {PROFESSION}.",
    "Record {ID} reviewed. Patient is {AGE} years old.",
    "Transferred from {LOCATION} on {DATE} for chest pain.",
    "Denies fever. Daughter {NAME} present at bedside.",
    "Blood pressure stable. No acute distress.",
]


def deid_notes(rng, n):
    rows = []
    for i in range(n):
        pieces = []
        for j, rest in enumerate(rng.sample(DEID_TEMPLATES, rng.randint(2, 3))):
            if j:
                pieces.append((" ", None))
            while "{" in rest:
                a, b = rest.index("{"), rest.index("}")
                if a:
                    pieces.append((rest[:a], None))
                label = rest[a + 1:b]
                pieces.append((rng.choice(PHI[label]), label))
                rest = rest[b + 1:]
            if rest:
                pieces.append((rest, None))
        text, entities = spans_text(pieces)
        rows.append({"id": f"deid{i}", "text": text, "entities": entities})
    return rows


# --- MedNLI-style sentence pairs -----------------------------------------------------------------

def nli_pairs(rng, n):
    rows = []
    kinds = ["entailment", "contradiction", "neutral"]
    for i in range(n):
        p, r, other = bare(rng.choice(PROBLEM)), rng.choice(TREATMENT), bare(rng.choice(PROBLEM))
        while other == p:
            other = bare(rng.choice(PROBLEM))
        premise = rng.choice([f"The patient was started on {r} for {p}.",
                              f"Admitted with {p}; {r} was given.",
                              f"She has a long history of {p} treated with {r}."])
        kind = kinds[i % 3]
        hypothesis = {
            "entailment": rng.choice([f"The patient has {p}.", f"The patient received {r}.",
                                      f"The patient is being treated for {p}."]),
            "contradiction": rng.choice([f"The patient has never had {p}.",
                                         f"The patient received no medication.",
                                         f"The patient has no medical problems."]),
            "neutral": rng.choice([f"The patient also has {other}.",
                                   f"The patient's mother had {other}.",
                                   f"The patient will need {r} for a year."]),
        }[kind]
        rows.append({"pairID": f"pair{i}", "sentence1": premise, "sentence2": hypothesis,
                     "gold_label": kind})
    return rows


# --- HoC-style multi-label (hallmarks of cancer) -------------------------------------------------

HALLMARK_CLAUSES = {
    "Sustaining proliferative signaling": [
        "EGFR activation drove tumour cell proliferation",
        "the growth factor receptor was constitutively active"],
    "Resisting cell death": [
        "BCL-2 overexpression blocked apoptosis",
        "the cells escaped caspase-dependent cell death"],
    "Inducing angiogenesis": [
        "VEGF secretion increased microvessel density",
        "new blood vessel formation was observed around the tumour"],
    "Activating invasion and metastasis": [
        "loss of E-cadherin promoted invasion",
        "lymph node metastases were more frequent"],
    "Genomic instability and mutation": [
        "TP53 mutations accumulated in the tumours",
        "defective DNA repair caused chromosomal instability"],
}
HALLMARK_NEUTRAL = ["Tissue samples were collected from 40 patients.",
                    "The study was approved by the local ethics committee.",
                    "Follow-up lasted a median of five years."]


def hallmark_rows(rng, n):
    names = list(HALLMARK_CLAUSES)
    rows = []
    for i in range(n):
        k = [0, 1, 1, 2][i % 4]
        labels = sorted(rng.sample(names, k)) if k else []
        if k == 1:  # every label appears alone in turn, so each is in train
            labels = [names[(i // 4) % len(names)]]
        if labels:
            clauses = [rng.choice(HALLMARK_CLAUSES[l]) for l in labels]
            text = "In this cohort, " + " and ".join(clauses) + "."
        else:
            text = rng.choice(HALLMARK_NEUTRAL)
        rows.append({"id": f"abs{i}", "text": text, "labels": labels})
    return rows


# --- mtsamples-style specialty classification ----------------------------------------------------

SPECIALTIES = {
    " Cardiovascular / Pulmonary": (["chest pain", "atrial fibrillation", "shortness of breath"],
                                    ["an echocardiogram", "an EKG", "a chest x-ray"]),
    " Gastroenterology": (["abdominal pain", "gastrointestinal bleeding", "nausea"],
                          ["a colonoscopy", "an upper endoscopy", "a CT scan of the abdomen"]),
    " Neurology": (["headache", "dizziness", "syncope"],
                   ["an MRI of the brain", "an EEG", "a lumbar puncture"]),
    " Urology": (["hematuria", "flank pain", "urinary retention"],
                 ["a renal ultrasound", "a urinalysis", "a cystoscopy"]),
    " Orthopedic": (["knee pain", "back pain", "a wrist fracture"],
                    ["an x-ray of the knee", "an MRI of the spine", "a bone scan"]),
}


def specialty_csv(rng, n):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["", "description", "medical_specialty", "sample_name", "transcription",
                "keywords"])
    names = list(SPECIALTIES)
    for i in range(n):
        spec = names[i % len(names)]
        problems, studies = SPECIALTIES[spec]
        p, s = rng.choice(problems), rng.choice(studies)
        age = rng.randint(25, 85)
        description = f"A {age}-year-old with {bare(p)}."
        transcription = (f"SUBJECTIVE:, The patient is a {age}-year-old who presents with "
                         f"{bare(p)}.\nOBJECTIVE:, Vital signs stable. {s[0].upper() + s[1:]} "
                         f"was performed.\nASSESSMENT:, {bare(p)[0].upper() + bare(p)[1:]}.\n"
                         f"PLAN:, Follow up after {s}.")
        w.writerow([i, description, spec, f" {bare(p).title()} ", transcription,
                    f"{spec.strip().lower()}, {bare(p)}"])
    return out.getvalue()


# --- Long notes (i2b2 2006 smoking status style), longer than one window -------------------------

SMOKING = {
    "CURRENT SMOKER": ["She smokes one pack of cigarettes per day.",
                       "He continues to smoke about ten cigarettes daily."],
    "PAST SMOKER": ["He quit smoking twenty years ago.",
                    "She is a former smoker and stopped in her forties."],
    "NON-SMOKER": ["She has never smoked.", "He denies any tobacco use, ever."],
    "UNKNOWN": [],
}


def long_note(rng, label):
    sentences = []
    for _ in range(rng.randint(14, 22)):
        p, r = bare(rng.choice(PROBLEM)), rng.choice(TREATMENT)
        l, s = rng.choice(LAB), rng.choice(STUDY)
        sentences.append(rng.choice([
            f"The patient was admitted with {p} and treated with {r}.",
            f"{s[0].upper() + s[1:]} showed no evidence of {p}.",
            f"We will continue {r} and monitor {l} in the morning.",
            f"Her {p} improved over the course of the stay.",
            f"On review of systems the patient denies {p}.",
            f"Laboratory results were notable for an abnormal {l.replace('the ', '')}.",
        ]))
    if SMOKING[label]:  # the deciding sentence anywhere, often past the first window
        sentences.insert(rng.randint(len(sentences) // 2, len(sentences)),
                         "SOCIAL HISTORY: " + rng.choice(SMOKING[label]))
    return "HOSPITAL COURSE: " + " ".join(sentences)


def long_notes(rng, n):
    labels = list(SMOKING)
    return [{"id": f"doc{i}", "text": long_note(rng, labels[i % 4]), "label": labels[i % 4]}
            for i in range(n)]


# --- BIOSSES-style similarity (0-4) ---------------------------------------------------------------

def sts_pairs(rng, n):
    rows = []
    for i in range(n):
        p, r = bare(rng.choice(PROBLEM)), rng.choice(TREATMENT)
        a = f"The patient was treated with {r} for {p}."
        kind = i % 4
        if kind == 0:
            b, score = f"{r[0].upper() + r[1:]} was given for {p}.", 4.0 - rng.choice([0, 0.2, 0.4])
        elif kind == 1:
            b, score = f"The patient has {p}.", 2.6 + rng.choice([0, 0.2, 0.4])
        elif kind == 2:
            other = bare(rng.choice(PROBLEM))
            b, score = f"The patient was treated with {r} for {other}.", 1.8 + rng.choice([0, 0.4])
        else:
            study = rng.choice(STUDY)
            b, score = f"{study[0].upper() + study[1:]} was normal.", rng.choice([0.0, 0.2, 0.4])
        rows.append([a, b, f"{score:.1f}"])
    return rows


# --- SQuAD v1.1 QA over short notes (emrQA / BioASQ style) ---------------------------------------

def qa_articles(rng, n_contexts, prefix):
    paragraphs = []
    for c in range(n_contexts):
        p, r, s = bare(rng.choice(PROBLEM)), rng.choice(TREATMENT), rng.choice(STUDY)
        days = rng.choice(["two", "three", "five", "seven"])
        context = (f"The patient was admitted with {p}. {s[0].upper() + s[1:]} was obtained on "
                   f"admission. She was started on {r} and treated for {days} days. "
                   f"She was discharged home in stable condition.")
        qas = []
        for q, answer in ((f"What was the patient admitted with?", p),
                          (f"What medication was the patient started on?", r),
                          (f"How many days was the patient treated?", f"{days} days")):
            qas.append({"id": f"{prefix}{c}-{len(qas)}", "question": q,
                        "answers": [{"text": answer, "answer_start": context.index(answer)}]})
        paragraphs.append({"context": context, "qas": qas})
    return {"version": "v1.1", "data": [{"title": "synthetic notes", "paragraphs": paragraphs}]}


# --- ChemProt in BLUE's masked form ---------------------------------------------------------------

CHEMPROT = {
    "CPR:3": ["@CHEMICAL$ markedly increased the expression of @GENE$ in hepatocytes.",
              "Treatment with @CHEMICAL$ activated @GENE$ within minutes."],
    "CPR:4": ["@CHEMICAL$ is a potent inhibitor of @GENE$ in vitro.",
              "@GENE$ activity was suppressed by @CHEMICAL$ in a dose-dependent manner."],
    "CPR:5": ["@CHEMICAL$ acts as a selective agonist of @GENE$.",
              "@CHEMICAL$ binds to and stimulates @GENE$ in cultured cells."],
    "CPR:6": ["@CHEMICAL$ is a competitive @GENE$ antagonist.",
              "The effect was blocked by @CHEMICAL$, an antagonist of @GENE$."],
    "CPR:9": ["@GENE$ converts @CHEMICAL$ into an inactive metabolite.",
              "@CHEMICAL$ is a substrate of @GENE$ in the liver."],
    "false": ["@CHEMICAL$ and @GENE$ were both measured in plasma samples.",
              "Levels of @GENE$ did not change after @CHEMICAL$ was given.",
              "Patients received @CHEMICAL$; @GENE$ genotypes were recorded separately."],
}
CHEMPROT_CONTEXT = ["", "In rats, ", "As expected, ", "In this study, "]


def chemprot_rows(rng, n, prefix):
    labels = list(CHEMPROT)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)] if i % 3 else "false"
        context, sentence = rng.choice(CHEMPROT_CONTEXT), rng.choice(CHEMPROT[label])
        if context and sentence[0] != "@":
            sentence = sentence[0].lower() + sentence[1:]
        sentence = context + sentence
        rows.append([f"{prefix}{i}.T1.T2", sentence[0].upper() + sentence[1:], label])
    return rows


# --- DDI (drug-drug interactions) with head/tail spans for entity markers --------------------------

DRUGS = ["warfarin", "amiodarone", "simvastatin", "clarithromycin", "digoxin", "verapamil",
         "ketoconazole", "midazolam", "lithium", "ibuprofen", "rifampin", "tacrolimus"]
DDI = {
    "DDI-mechanism": ["{A} increases the plasma concentration of {B}.",
                      "{A} reduces the clearance of {B} by inhibiting its metabolism."],
    "DDI-effect": ["Combining {A} with {B} increases the risk of bleeding.",
                   "{A} may potentiate the sedative effect of {B}."],
    "DDI-advise": ["{A} should not be given together with {B}.",
                   "Monitor levels closely when {A} is started in patients taking {B}."],
    "DDI-int": ["{A} interacts with {B}.", "An interaction between {A} and {B} was reported."],
    "DDI-false": ["{A} and {B} were both continued at discharge.",
                  "The patient took {A} in the morning and {B} at night."],
}


def ddi_rows(rng, n):
    labels = list(DDI)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        a, b = rng.sample(DRUGS, 2)
        template = rng.choice(DDI[label])
        text = template.replace("{A}", a).replace("{B}", b)
        text = text[0].upper() + text[1:]
        ia = template.index("{A}")
        ib = text.index(b, ia + len(a)) if template.index("{B}") > ia else text.index(b)
        rows.append({"text": text, "head": {"start": ia, "end": ia + len(a)},
                     "tail": {"start": ib, "end": ib + len(b)}, "label": label})
    return rows


def main():
    rng = random.Random(20261205)
    d = DATASETS
    write_jsonl(d / "ner_spans_clinical" / "train.jsonl", ner_span_notes(rng, 48))
    write_jsonl(d / "ner_spans_clinical" / "dev.jsonl", ner_span_notes(rng, 12))
    write_jsonl(d / "deid_synthetic" / "train.jsonl", deid_notes(rng, 48))
    write_jsonl(d / "deid_synthetic" / "dev.jsonl", deid_notes(rng, 12))
    write_jsonl(d / "nli_clinical" / "train.jsonl", nli_pairs(rng, 48))
    write_jsonl(d / "nli_clinical" / "dev.jsonl", nli_pairs(rng, 12))
    write_jsonl(d / "cls_hallmarks" / "train.jsonl", hallmark_rows(rng, 40))
    write_jsonl(d / "cls_hallmarks" / "dev.jsonl", hallmark_rows(rng, 12))
    (d / "cls_specialty").mkdir(parents=True, exist_ok=True)
    (d / "cls_specialty" / "train.csv").write_text(specialty_csv(rng, 40))
    (d / "cls_specialty" / "dev.csv").write_text(specialty_csv(rng, 10))
    write_jsonl(d / "cls_long_notes" / "train.jsonl", long_notes(rng, 24))
    write_jsonl(d / "cls_long_notes" / "dev.jsonl", long_notes(rng, 8))
    header = ["sentence1", "sentence2", "score"]
    write_tsv(d / "sts_clinical" / "train.tsv", header, sts_pairs(rng, 40))
    write_tsv(d / "sts_clinical" / "dev.tsv", header, sts_pairs(rng, 12))
    for split, n in (("train", 12), ("dev", 4)):
        path = d / "qa_clinical" / f"{split}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(qa_articles(rng, n, split), indent=1) + "\n")
    header = ["index", "sentence", "label"]
    write_tsv(d / "re_chemprot_blue" / "train.tsv", header, chemprot_rows(rng, 48, "train"))
    write_tsv(d / "re_chemprot_blue" / "dev.tsv", header, chemprot_rows(rng, 12, "dev"))
    write_jsonl(d / "re_ddi_markers" / "train.jsonl", ddi_rows(rng, 40))
    write_jsonl(d / "re_ddi_markers" / "dev.jsonl", ddi_rows(rng, 10))


if __name__ == "__main__":
    main()

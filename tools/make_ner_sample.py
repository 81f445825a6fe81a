"""Writes datasets/ner_clinical_sample/ (CoNLL NER, PROBLEM/TREATMENT/TEST in IOB2) and
datasets/mlm_clinical_sample/notes.txt (plain text, one invented note per line).

Every sentence is invented from the templates and phrase lists below: no real patient, no names,
dates, places or identifiers. Seeded, so re-running gives the same files:
    .venv/bin/python tools/make_ner_sample.py
"""
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBLEM = [
    "chest pain", "shortness of breath", "fever", "type 2 diabetes mellitus", "hypertension",
    "atrial fibrillation", "pneumonia", "acute kidney injury", "a urinary tract infection",
    "congestive heart failure", "abdominal pain", "nausea", "vomiting", "a productive cough",
    "anemia", "hypokalemia", "cellulitis", "a deep vein thrombosis", "a pulmonary embolism",
    "headache", "dizziness", "lower extremity edema", "a COPD exacerbation", "sepsis",
    "chronic renal insufficiency", "hyperlipidemia", "a small pleural effusion",
    "mild cardiomegaly", "a diffuse rash", "fatigue", "hyponatremia", "gastrointestinal bleeding",
    "a left lower lobe infiltrate", "delirium", "syncope", "back pain",
]
TREATMENT = [
    "aspirin", "metoprolol", "lisinopril", "insulin glargine", "intravenous antibiotics",
    "ceftriaxone", "vancomycin", "furosemide", "a heparin drip", "warfarin",
    "albuterol nebulizers", "prednisone", "acetaminophen", "morphine", "potassium chloride",
    "physical therapy", "cardiac catheterization", "an appendectomy", "hemodialysis",
    "supplemental oxygen", "normal saline", "metformin", "atorvastatin",
    "a laparoscopic cholecystectomy", "a blood transfusion", "ondansetron", "pantoprazole",
]
LAB = [  # laboratory tests (TEST)
    "troponin", "hemoglobin A1c", "creatinine", "the white blood cell count", "the INR",
    "lactate", "BNP", "serum potassium", "serum sodium", "the hemoglobin", "lipase",
]
STUDY = [  # imaging and other studies (TEST)
    "a chest x-ray", "a CT scan of the abdomen", "an echocardiogram", "an EKG",
    "a urinalysis", "blood cultures", "an MRI of the brain", "a renal ultrasound", "a chest CT",
    "a complete blood count", "a basic metabolic panel", "liver function tests",
    "an arterial blood gas", "a lipid panel",
]
TEMPLATES = [
    "The patient presented with {P} and {P} .",
    "{S} showed {P} .",
    "She was started on {R} for {P} .",
    "He was started on {R} for {P} .",
    "The patient denies {P} or {P} .",
    "{S} was obtained and was negative for {P} .",
    "{R} was discontinued because of {P} .",
    "Plan to repeat {S} in two weeks .",
    "History is significant for {P} , treated with {R} .",
    "The patient underwent {R} without complications .",
    "{L} was elevated on admission .",
    "There was no evidence of {P} on {S} .",
    "Continue {R} and monitor {L} .",
    "The patient was admitted for {P} .",
    "She was discharged home on {R} and {R} .",
    "{P} improved after {R} .",
    "Given {P} , {S} was ordered .",
    "{L} and {L} were within normal limits .",
    "The patient reports {P} for three days .",
    "{R} was held for {P} .",
    "Her {P} was managed with {R} .",
    "His {P} resolved with {R} .",
    "We will check {L} in the morning .",
    "The patient tolerated {R} well .",
]
# A determiner at the start of a phrase is outside the entity ("a", "an", "the"), as i2b2 2010.
DETERMINERS = {"a", "an", "the"}


def phrase_tokens(phrase, label, capitalize):
    words = phrase.split()
    tagged = []
    inside = False
    for i, w in enumerate(words):
        text = w[0].upper() + w[1:] if capitalize and i == 0 else w
        if i == 0 and w in DETERMINERS and len(words) > 1:
            tagged.append((text, "O"))
            continue
        tagged.append((text, ("I-" if inside else "B-") + label))
        inside = True
    return tagged


def sentence(rng):
    template = rng.choice(TEMPLATES)
    tokens = []
    for i, piece in enumerate(template.split()):
        slot = {"{P}": ("PROBLEM", PROBLEM), "{R}": ("TREATMENT", TREATMENT),
                "{L}": ("TEST", LAB), "{S}": ("TEST", STUDY)}.get(piece)
        if slot:
            label, choices = slot
            tokens += phrase_tokens(rng.choice(choices), label, capitalize=(i == 0))
        else:
            tokens.append((piece, "O"))
    return tokens


def write_conll(path, sentences):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write("-DOCSTART-\tO\n\n")
        for s in sentences:
            for token, tag in s:
                f.write(f"{token}\t{tag}\n")
            f.write("\n")


def main():
    rng = random.Random(20241122)
    ner = ROOT / "datasets" / "ner_clinical_sample"
    for split, n in (("train", 160), ("dev", 40), ("test", 40)):
        write_conll(ner / f"{split}.conll", [sentence(rng) for _ in range(n)])
    notes = []
    for _ in range(300):
        notes.append(" ".join(" ".join(t for t, _ in sentence(rng)) for _ in range(rng.randint(3, 8))))
    mlm = ROOT / "datasets" / "mlm_clinical_sample"
    mlm.mkdir(parents=True, exist_ok=True)
    (mlm / "notes.txt").write_text("\n".join(notes) + "\n")


if __name__ == "__main__":
    main()

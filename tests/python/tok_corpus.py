"""Text lines of the public corpora in ../shared/datasets, for the tokenizer parity test and the
tokenizer benchmark. Nothing is copied: the files are read where they are."""
import csv
import json
import sys
from pathlib import Path

NER_SETS = ("ner_NCBI-disease", "ner_BC5CDR")
NER_SPLITS = ("train", "devel", "test")


def ner_sentences(shared: Path, name: str):
    """Sentences (lists of tokens) of one CoNLL-style NER folder, all splits in order."""
    out = []
    for split in NER_SPLITS:
        words = []
        with open(shared / name / f"{split}.tsv", encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip():
                    if words:
                        out.append(words)
                    words = []
                    continue
                words.append(line.split("\t")[0])
        if words:
            out.append(words)
    return out


def hoc_lines(shared: Path):
    out = []
    for path in sorted((shared / "cls_HoC" / "text").glob("*.txt")):
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final newline ends the last line, it does not start another
        out.extend(lines)
    return out


def pubmedqa(shared: Path):
    """(questions, contexts, long answers, (question, joined contexts) pairs)."""
    data = json.loads((shared / "qa_PubMedQA" / "ori_pqal.json").read_text(encoding="utf-8"))
    questions, contexts, answers, pairs = [], [], [], []
    for pmid in data:
        item = data[pmid]
        questions.append(item["QUESTION"])
        contexts.extend(item["CONTEXTS"])
        answers.append(item["LONG_ANSWER"])
        pairs.append((item["QUESTION"], " ".join(item["CONTEXTS"])))
    return questions, contexts, answers, pairs


def mtsamples_lines(shared: Path):
    """Every line of every text field of the (truncated) mtsamples CSV."""
    csv.field_size_limit(sys.maxsize)
    out = []
    with open(shared / "cls_mtsamples" / "mtsamples.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        for field in row[1:]:
            out.extend(field.split("\n"))
    return out


def mtsamples_documents(shared: Path):
    """The transcription field of each row (long clinical notes)."""
    csv.field_size_limit(sys.maxsize)
    with open(shared / "cls_mtsamples" / "mtsamples.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return [row[4] for row in rows[1:] if len(row) > 4 and row[4].strip()]


def corpora(shared: Path):
    """name -> list of text lines (NER sentences rebuilt by joining their tokens with spaces)."""
    q, c, a, _ = pubmedqa(shared)
    out = {}
    for name in NER_SETS:
        out[name] = [" ".join(words) for words in ner_sentences(shared, name)]
    out["qa_PubMedQA"] = q + c + a
    out["cls_HoC"] = hoc_lines(shared)
    out["cls_mtsamples"] = mtsamples_lines(shared)
    return out

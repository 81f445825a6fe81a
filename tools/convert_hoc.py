#!/usr/bin/env python3
"""Convert the Hallmarks of Cancer corpus (sb895/Hallmarks-of-Cancer layout) to clintorch
classification JSONL (multi-label).

Input folder: text/<PMID>.txt (one tokenised sentence per line) and labels/<PMID>.txt (one line:
per-sentence label groups, each opened by '<'; labels inside a group joined by 'AND'; hierarchy
levels joined by '--', e.g. 'Sustaining proliferative signaling--Receptors').

Output: train.jsonl, dev.jsonl, test.jsonl with one object per abstract (or per sentence with
--level sentence):  {"id": "PMID" or "PMID-3", "text": "...", "labels": ["Resisting cell death", ...]}
Labels are the top-level hallmarks (the part before '--'), unique and sorted; 'NULL' is dropped,
so a text with no hallmark has labels []. The corpus has no official split: abstracts are assigned
by md5(PMID) to train/dev/test (default 80/10/10), so the split is stable and never mixes the
sentences of one abstract. Standard library only; the input is read, never copied.

    python3 tools/convert_hoc.py ../shared/datasets/cls_HoC out/hoc
    clintorch train ... data: {format: jsonl, problem_type: multi_label}
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path


def sentence_labels(label_line, n_sentences, where):
    groups = label_line.rstrip("\n").split("<")
    # The line opens with '<' for the first sentence: group 0 is the empty text before it.
    if len(groups) != n_sentences + 1 or groups[0].strip():
        raise SystemExit(f"{where}: {len(groups) - 1} label groups for {n_sentences} sentences")
    out = []
    for g in groups[1:]:
        labels = set()
        for part in g.split("AND"):
            top = part.split("--")[0].strip()
            if top and top != "NULL":
                labels.add(top)
        out.append(labels)
    return out


def split_of(pmid, dev, test):
    h = int(hashlib.md5(pmid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < test:
        return "test"
    if h < test + dev:
        return "dev"
    return "train"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hoc_dir", type=Path, help="folder with text/ and labels/")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--level", choices=["document", "sentence"], default="document")
    ap.add_argument("--dev", type=float, default=0.1, help="share of abstracts in dev")
    ap.add_argument("--test", type=float, default=0.1, help="share of abstracts in test")
    args = ap.parse_args(argv)
    text_dir, label_dir = args.hoc_dir / "text", args.hoc_dir / "labels"
    if not text_dir.is_dir() or not label_dir.is_dir():
        raise SystemExit(f"{args.hoc_dir}: expected text/ and labels/ folders")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    outs = {s: open(args.out_dir / f"{s}.jsonl", "w", encoding="utf-8") for s in ("train", "dev", "test")}
    counts = {s: 0 for s in outs}
    for text_file in sorted(text_dir.glob("*.txt")):
        pmid = text_file.stem
        label_file = label_dir / text_file.name
        if not label_file.exists():
            raise SystemExit(f"{label_file}: missing")
        sentences = text_file.read_text(encoding="utf-8").rstrip("\n").split("\n")
        per_sentence = sentence_labels(label_file.read_text(encoding="utf-8"), len(sentences),
                                       str(label_file))
        split = split_of(pmid, args.dev, args.test)
        if args.level == "document":
            labels = sorted(set().union(*per_sentence))
            rows = [{"id": pmid, "text": " ".join(s.strip() for s in sentences), "labels": labels}]
        else:
            rows = [{"id": f"{pmid}-{i}", "text": s.strip(), "labels": sorted(l)}
                    for i, (s, l) in enumerate(zip(sentences, per_sentence)) if s.strip()]
        for r in rows:
            outs[split].write(json.dumps(r, ensure_ascii=False) + "\n")
            counts[split] += 1
    for f in outs.values():
        f.close()
    print(json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()

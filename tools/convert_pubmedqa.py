#!/usr/bin/env python3
"""Convert PubMedQA PQA-L (pubmedqa/pubmedqa data/ori_pqal.json) to clintorch classification
JSONL: a question / context pair with a yes / no / maybe label.

    {"id": "21645374", "text": QUESTION, "text_pair": " ".join(CONTEXTS), "label": "yes"}

Splits: test = the 500 PMIDs of the official data/test_ground_truth.json (labels taken from it);
the other 500 go to train and dev, dev being every PMID whose md5 falls in the first --dev share
(default 0.1; the official script uses 10-fold cross-validation over these 500 instead). With
--reasoning-free the long answer (LONG_ANSWER) is appended to the context, the "reasoning-free"
setting of the paper. Standard library only; the input is read, never copied.

    python3 tools/convert_pubmedqa.py ../shared/datasets/qa_PubMedQA out/pubmedqa
    data: {format: jsonl, text_column: text, text_pair_column: text_pair}
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pubmedqa_dir", type=Path, help="folder with ori_pqal.json and test_ground_truth.json")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--dev", type=float, default=0.1)
    ap.add_argument("--reasoning-free", action="store_true")
    ap.add_argument("--text-file", type=Path,
                    help="also write the contexts as plain text (one abstract per line) for MLM")
    args = ap.parse_args(argv)
    data = json.loads((args.pubmedqa_dir / "ori_pqal.json").read_text(encoding="utf-8"))
    truth_file = args.pubmedqa_dir / "test_ground_truth.json"
    truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.exists() else {}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    outs = {s: open(args.out_dir / f"{s}.jsonl", "w", encoding="utf-8") for s in ("train", "dev", "test")}
    counts = {s: 0 for s in outs}
    text_out = open(args.text_file, "w", encoding="utf-8") if args.text_file else None
    for pmid in sorted(data):
        item = data[pmid]
        context = " ".join(c.strip() for c in item["CONTEXTS"])
        if args.reasoning_free:
            context += " " + item.get("LONG_ANSWER", "").strip()
        if pmid in truth:
            split, label = "test", truth[pmid]
            if label != item["final_decision"]:
                raise SystemExit(f"{pmid}: test_ground_truth.json and ori_pqal.json disagree")
        else:
            h = int(hashlib.md5(pmid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            split, label = ("dev" if h < args.dev else "train"), item["final_decision"]
        row = {"id": pmid, "text": item["QUESTION"], "text_pair": context, "label": label}
        outs[split].write(json.dumps(row, ensure_ascii=False) + "\n")
        counts[split] += 1
        if text_out:
            text_out.write(context.replace("\n", " ") + "\n")
    for f in outs.values():
        f.close()
    if text_out:
        text_out.close()
    print(json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()

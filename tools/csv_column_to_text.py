#!/usr/bin/env python3
"""Write one column of a CSV file as plain text, one record per line (newlines inside the field
become spaces, empty fields are skipped): an MLM corpus for `clintorch train` (format: text).

A file cut inside its last record (an unterminated quoted field) keeps its complete records and
says how many lines it dropped. Standard library only.

    python3 tools/csv_column_to_text.py ../shared/datasets/cls_mtsamples/mtsamples.csv \
        transcription out/mtsamples.txt
"""
import argparse
import csv
import io
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv_file")
    ap.add_argument("column")
    ap.add_argument("out_file")
    args = ap.parse_args(argv)
    with open(args.csv_file, encoding="utf-8", newline="") as f:
        data = f.read()
    lines = data.split("\n")
    # Drop trailing lines until the rest parses strictly (a truncated last record).
    for cut in range(0, min(len(lines), 1000)):
        text = "\n".join(lines[:len(lines) - cut]) if cut else data
        try:
            rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
            if cut and rows and None in rows[-1]:
                continue
            break
        except csv.Error:
            continue
    else:
        raise SystemExit(f"{args.csv_file}: not a readable CSV file")
    if cut:
        print(f"{args.csv_file}: dropped the last {cut} line(s): an incomplete record",
              file=sys.stderr)
    if rows and args.column not in rows[0]:
        raise SystemExit(f"{args.csv_file}: no column '{args.column}' (have: {', '.join(rows[0])})")
    n = 0
    with open(args.out_file, "w", encoding="utf-8") as out:
        for r in rows:
            t = " ".join((r.get(args.column) or "").split())
            if t:
                out.write(t + "\n")
                n += 1
    print(f"{n} records written to {args.out_file}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The main job on embedded defaults: trains recipes/quickstart.yaml (NER fine-tuning of
# all-MiniLM-L6-v2 on datasets/ner_clinical_sample), evaluating on the dev file every epoch, then
# exports the best model to runs/quickstart/export, reports the dev and test scores, and predicts
# entities (character spans) on the raw notes of datasets/mlm_clinical_sample.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BUILD_DIR:-build}/clintorch
py=${CLINTORCH_PYTHON:-.venv/bin/python}
"$bin" --version
"$bin" selfcheck
"$bin" validate recipes/quickstart.yaml
"$bin" train recipes/quickstart.yaml
"$py" - runs/quickstart/metrics.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
dev = [r for r in rows if r["split"] == "eval"]
test = [r for r in rows if r["split"] == "test"]
for r in dev:
    print(f"dev  epoch {r['epoch']:.0f}: f1 {r.get('eval_f1', float('nan')):.4f}  "
          f"loss {r['eval_loss']:.4f}")
if test:
    t = test[-1]
    print(f"test (best model): f1 {t.get('test_f1', float('nan')):.4f}  "
          f"precision {t.get('test_precision', float('nan')):.4f}  "
          f"recall {t.get('test_recall', float('nan')):.4f}")
print("model exported to runs/quickstart/export")
PY
# Inference with the export on raw notes (one per line): entities as character spans.
"$bin" predict --model runs/quickstart/export --input datasets/mlm_clinical_sample/notes.txt \
  --output runs/quickstart/predictions.jsonl
"$py" - runs/quickstart/predictions.jsonl <<'PY'
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
labels = collections.Counter(e["label"] for r in rows for e in r.get("entities", []))
print(f"predict: {len(rows)} notes, {sum(labels.values())} entities "
      f"({', '.join(f'{k} {v}' for k, v in sorted(labels.items()))}) "
      f"-> runs/quickstart/predictions.jsonl")
PY

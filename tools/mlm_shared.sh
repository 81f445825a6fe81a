#!/usr/bin/env bash
# Continued MLM pretraining of all-MiniLM-L6-v2 (recipes/mlm_minilm.yaml) on the public clinical
# text in ../shared/datasets: the mtsamples transcriptions and the PubMedQA (PQA-L) contexts.
# Each corpus is converted to plain text under out/mlm/ (never copied into the repo), 2% of its
# 128-token blocks are held out, and the held-out loss is evaluated before the first step
# (eval_on_start) and every EVAL_STEPS steps; the figures land in runs/mlm_<corpus>/metrics.jsonl
# and are summarised at the end.
#
#   bash tools/mlm_shared.sh                   # both corpora, MAX_STEPS=200 each
#   MAX_STEPS=50 bash tools/mlm_shared.sh pubmedqa
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BUILD_DIR:-build}/clintorch
py=${CLINTORCH_PYTHON:-.venv/bin/python}
shared=${CLINTORCH_SHARED_DATASETS:-../shared/datasets}
max_steps=${MAX_STEPS:-200}
eval_steps=${EVAL_STEPS:-50}
corpora=("$@")
[ ${#corpora[@]} -eq 0 ] && corpora=(mtsamples pubmedqa)
if [ ! -d "$shared" ]; then
  echo "mlm_shared.sh: $shared is absent; nothing to do" >&2
  exit 1
fi
mkdir -p out/mlm
for corpus in "${corpora[@]}"; do
  case "$corpus" in
    mtsamples)
      text=out/mlm/mtsamples.txt
      [ -s "$text" ] || "$py" tools/csv_column_to_text.py "$shared/cls_mtsamples/mtsamples.csv" \
        transcription "$text" ;;
    pubmedqa)
      text=out/mlm/pubmedqa_contexts.txt
      [ -s "$text" ] || "$py" tools/convert_pubmedqa.py "$shared/qa_PubMedQA" out/mlm/pubmedqa \
        --text-file "$text" ;;
    *) echo "unknown corpus $corpus (mtsamples | pubmedqa)" >&2; exit 2 ;;
  esac
  out=runs/mlm_$corpus
  start=$(date +%s)
  "$bin" train recipes/mlm_minilm.yaml \
    --set "data.train_file=$text" \
    --set data.validation_split_percentage=2 \
    --set "training.max_steps=$max_steps" \
    --set training.warmup_ratio=0.06 \
    --set evaluation.eval_strategy=steps \
    --set "evaluation.eval_steps=$eval_steps" \
    --set evaluation.eval_on_start=true \
    --set evaluation.save_strategy=no \
    --set logging.logging_steps=10 \
    --set "output.output_dir=$out" \
    --set output.overwrite_output_dir=true
  end=$(date +%s)
  "$py" - "$out/metrics.jsonl" "$corpus" $((end - start)) <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in rows if r["split"] == "eval"]
print(f"{sys.argv[2]}: held-out MLM loss {ev[0]['eval_loss']:.4f} (step 0) -> "
      f"{ev[-1]['eval_loss']:.4f} (step {ev[-1]['step']}), perplexity "
      f"{ev[0]['eval_perplexity']:.1f} -> {ev[-1]['eval_perplexity']:.1f}, {sys.argv[3]} s")
PY
done

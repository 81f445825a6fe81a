#!/usr/bin/env python3
"""HF references of bench/run row 3: NER inference on raw text lines, three ways.

    init      save a token-classification model once: the pretrained encoder with a freshly
              initialised (seeded) classifier and the tokenizer files (a speed-only stand-in for
              a fine-tuned model)
    pipeline  transformers pipeline("token-classification", aggregation_strategy="first"),
              batch_size --batch-size, lines in input order; writes the entity spans as JSONL
    forward   the bare model: lines tokenised, sorted by length, batches of --batch-size padded
              to their longest, forward under torch.inference_mode, argmax per token
    onnx      the model exported by torch.onnx.export (dynamic batch and sequence axes), run by
              ONNX Runtime with --threads intra-op threads on the same sorted batches

Each run mode writes {"load_s", "compute_s", "tokens", ...} to --out: load_s covers reading the
model (and for onnx the export and the session), compute_s the tokenisation and the forward
passes of every line (and for pipeline the span decoding).

    .venv/bin/python bench/reference/hf_ner_infer.py forward --model DIR --input lines.txt \
        --out r.json
"""
import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import common


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def sorted_batches(tokenizer, lines, batch_size, max_length):
    """Token ids of every line, then batches of similar length (indices sorted by length)."""
    ids = tokenizer(lines, truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(lines)), key=lambda i: len(ids[i]))
    return ids, [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def pad_batch(ids, which, pad_id):
    """(input_ids, attention_mask, token_type_ids) int64 arrays, each (batch, longest)."""
    import numpy as np

    longest = max(len(ids[i]) for i in which)
    input_ids = np.full((len(which), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(which), longest), dtype=np.int64)
    for row, i in enumerate(which):
        input_ids[row, :len(ids[i])] = ids[i]
        mask[row, :len(ids[i])] = 1
    return input_ids, mask, np.zeros_like(input_ids)


def torch_dtype(name):
    """The model's weights as loaded: fp32, or bf16 (what a HF user does for bf16 inference)."""
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16}[name]


def cmd_init(args):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(args.seed)
    model = AutoModelForTokenClassification.from_pretrained(
        args.model, num_labels=len(args.labels), id2label=dict(enumerate(args.labels)),
        label2id={label: i for i, label in enumerate(args.labels)})
    model.save_pretrained(args.save_to)
    AutoTokenizer.from_pretrained(args.model).save_pretrained(args.save_to)
    # transformers 5 writes tokenizer.json only; keep the source's vocab.txt next to it.
    shutil.copy(Path(args.model) / "vocab.txt", Path(args.save_to) / "vocab.txt")


def cmd_pipeline(args):
    from transformers import pipeline

    t0 = time.perf_counter()
    ner = pipeline("token-classification", model=args.model, aggregation_strategy="first",
                   device="cpu", dtype=torch_dtype(args.dtype))
    lines = read_lines(args.input)
    t1 = time.perf_counter()
    results = ner(lines, batch_size=args.batch_size)
    t2 = time.perf_counter()
    with open(args.spans, "w", encoding="utf-8") as f:
        for n, entities in enumerate(results, start=1):
            spans = [{"start": e["start"], "end": e["end"], "label": e["entity_group"],
                      "score": float(e["score"])} for e in entities]
            f.write(json.dumps({"line": n, "entities": spans}) + "\n")
    return {"load_s": t1 - t0, "compute_s": t2 - t1, "lines": len(lines)}


def cmd_forward(args):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForTokenClassification.from_pretrained(
        args.model, dtype=torch_dtype(args.dtype)).eval()
    lines = read_lines(args.input)
    t1 = time.perf_counter()
    ids, batches = sorted_batches(tokenizer, lines, args.batch_size, args.max_length)
    with torch.inference_mode():
        for which in batches:
            input_ids, mask, types = (torch.from_numpy(a) for a in
                                      pad_batch(ids, which, tokenizer.pad_token_id))
            model(input_ids=input_ids, attention_mask=mask, token_type_ids=types).logits.argmax(-1)
    t2 = time.perf_counter()
    # Real tokens and the sum of squared lengths: the token count and attention length of the
    # MFU figures (bench/harness.py effective_length).
    return {"load_s": t1 - t0, "compute_s": t2 - t1, "lines": len(lines),
            "tokens": sum(len(i) for i in ids), "tokens_sq": sum(len(i) ** 2 for i in ids)}


def cmd_onnx(args):
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForTokenClassification.from_pretrained(args.model).eval()
    path = Path(args.onnx_file)
    example = tokenizer(["an example sentence", "and a second, longer example sentence"],
                        padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    dynamic["logits"] = {0: "batch", 1: "sequence"}
    with torch.inference_mode():
        # The TorchScript-based exporter (dynamo=False): the dynamo exporter needs onnxscript,
        # which the project does not pin; both give the same graph for a BERT encoder.
        torch.onnx.export(model, tuple(example[n] for n in names), str(path), input_names=names,
                          output_names=["logits"], dynamic_axes=dynamic, opset_version=17,
                          dynamo=False)
    t_export = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    lines = read_lines(args.input)
    t1 = time.perf_counter()
    ids, batches = sorted_batches(tokenizer, lines, args.batch_size, args.max_length)
    for which in batches:
        input_ids, mask, types = pad_batch(ids, which, tokenizer.pad_token_id)
        logits = session.run(["logits"], {"input_ids": input_ids, "attention_mask": mask,
                                          "token_type_ids": types})[0]
        logits.argmax(-1)
    t2 = time.perf_counter()
    # The export traced one input shape: check the graph on the last (longest, padded) batch
    # against the PyTorch model it came from (outside the timing).
    with torch.inference_mode():
        expected = model(**{k: torch.from_numpy(v) for k, v in
                            zip(names, (input_ids, mask, types))}).logits.numpy()
    real = mask.astype(bool)
    return {"load_s": t1 - t0, "export_s": t_export - t0, "compute_s": t2 - t1,
            "lines": len(lines), "tokens": sum(len(i) for i in ids),
            "max_abs_diff_vs_torch": float(abs(logits - expected)[real].max()),
            "onnxruntime": ort.__version__}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["init", "pipeline", "forward", "onnx"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", help="text file, one document per line")
    ap.add_argument("--out", help="JSON result file")
    ap.add_argument("--spans", help="pipeline: JSONL file for the entity spans")
    ap.add_argument("--onnx-file", help="onnx: where the exported model goes")
    ap.add_argument("--save-to", help="init: the folder to write")
    ap.add_argument("--labels", nargs="+", default=["O", "B-Disease", "I-Disease"])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                    help="pipeline/forward: the weights' dtype (onnx: fp32 only)")
    args = ap.parse_args(argv)
    common.set_threads(args.threads)
    common.quiet_transformers()
    if args.mode == "init":
        return cmd_init(args)
    run = {"pipeline": cmd_pipeline, "forward": cmd_forward, "onnx": cmd_onnx}[args.mode]
    common.write_result(args.out, {"mode": args.mode, **run(args)})


if __name__ == "__main__":
    sys.exit(main())

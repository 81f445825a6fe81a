#!/usr/bin/env python3
"""HF reference of bench/run row 3 (embeddings): sentence-transformers on the model folder
(its modules.json: Transformer, mean Pooling, Normalize), encode() with --batch-size (it sorts
the texts by length itself), normalised vectors saved as float32 .npy.

    .venv/bin/python bench/reference/st_embed.py --model DIR --input lines.txt --npy out.npy \
        --out r.json
"""
import argparse
import sys
import time

import common


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True, help="text file, one text per line")
    ap.add_argument("--npy", required=True, help="where the vectors go (N x D float32)")
    ap.add_argument("--out", required=True, help="JSON result file")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                    help="the weights' dtype (bf16: model_kwargs dtype=torch.bfloat16)")
    args = ap.parse_args(argv)
    common.set_threads(args.threads)
    common.quiet_transformers()
    import numpy as np
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    t0 = time.perf_counter()
    import torch

    kwargs = {"dtype": torch.bfloat16} if args.dtype == "bf16" else {}
    model = SentenceTransformer(args.model, device="cpu", model_kwargs=kwargs)
    with open(args.input, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    t1 = time.perf_counter()
    vectors = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    np.save(args.npy, np.asarray(vectors, dtype=np.float32))
    t2 = time.perf_counter()
    common.write_result(args.out, {
        "load_s": t1 - t0, "compute_s": t2 - t1, "lines": len(texts),
        "max_seq_length": model.max_seq_length,
        "sentence_transformers": sentence_transformers.__version__})


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""HF reference of bench/serve_bench.py: the web service a team writes around
pipeline("token-classification") with FastAPI + uvicorn, one request at a time through the
pipeline (no batching across requests), --threads intra-op threads.

    .venv/bin/python bench/reference/fastapi_ner.py --model DIR --port 8123 --threads 2
POST /predict {"inputs": [text, ...]} -> {"predictions": [[{start, end, label, score}], ...]}
"""
import argparse
import sys

import common


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    common.set_threads(args.threads)
    common.quiet_transformers()
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel
    from transformers import pipeline

    ner = pipeline("token-classification", model=args.model, aggregation_strategy="first",
                   device="cpu")
    app = FastAPI()

    class Body(BaseModel):
        inputs: list[str]

    @app.post("/predict")
    def predict(body: Body):  # a plain def: FastAPI runs it in its thread pool
        out = ner(body.inputs)
        if body.inputs and isinstance(out[0], dict):
            out = [out]
        return {"predictions": [[{"start": e["start"], "end": e["end"],
                                  "label": e["entity_group"], "score": float(e["score"])}
                                 for e in doc] for doc in out]}

    @app.get("/health")
    def health():
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    sys.exit(main())

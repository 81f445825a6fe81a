#!/usr/bin/env python3
"""HF reference of bench/run row 2: MLM pretraining steps with transformers' Trainer, as
examples/pytorch/language-modeling/run_mlm.py does it without line_by_line.

A randomly initialised BertForMaskedLM from --config; every line of --corpus is one document,
tokenised with [CLS] ... [SEP], all concatenated and cut into --max-length blocks (the last
partial block dropped: run_mlm's group_texts); DataCollatorForLanguageModeling masks 15% of the
tokens (80% [MASK], 10% random, 10% kept) when each batch is made. AdamW (adamw_torch_fused),
linear schedule with warmup, on the CPU with --threads intra-op threads, optionally under bf16
autocast (Trainer bf16=True). No evaluation, no checkpoints. Writes per-step times and token
counts to --out.

    .venv/bin/python bench/reference/hf_mlm_train.py --config bench/configs/bert_base.json \
        --tokenizer MINILM_DIR --corpus corpus.txt --max-steps 8 --bf16 --out hf.json
"""
import argparse
import sys
import time

import common


def group_blocks(tokenizer, documents, block):
    """run_mlm's tokenize + group_texts: [CLS] doc [SEP] per document, concatenated, cut into
    `block`-token features; the remainder after the last full block is dropped."""
    enc = tokenizer(documents, return_special_tokens_mask=True)
    columns = ("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask")
    joined = {c: [t for row in enc[c] for t in row] for c in columns}
    n = len(joined["input_ids"]) // block * block
    return [{c: joined[c][i:i + block] for c in columns} for i in range(0, n, block)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="BERT config.json (random initialisation)")
    ap.add_argument("--tokenizer", required=True, help="folder with the tokenizer files")
    ap.add_argument("--corpus", required=True, help="text file, one document per line")
    ap.add_argument("--output-dir", required=True, help="Trainer output_dir (nothing is saved)")
    ap.add_argument("--out", required=True, help="JSON result file")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--learning-rate", type=float, default=5e-5)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-ratio", type=float, default=0.06)
    ap.add_argument("--mlm-probability", type=float, default=0.15)
    ap.add_argument("--max-steps", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args(argv)

    t_start = time.time()
    common.set_threads(args.threads)
    common.quiet_transformers()
    import torch
    from transformers import (AutoTokenizer, BertConfig, BertForMaskedLM,
                              DataCollatorForLanguageModeling, Trainer, TrainingArguments)

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    tokenizer.model_max_length = 10**9  # documents are cut into blocks, never truncated
    with open(args.corpus, encoding="utf-8") as f:
        documents = [line.rstrip("\n") for line in f if line.strip()]
    blocks = group_blocks(tokenizer, documents, args.max_length)
    torch.manual_seed(args.seed)
    model = BertForMaskedLM(BertConfig.from_json_file(args.config))

    training_args = TrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        lr_scheduler_type="linear",
        warmup_steps=args.warmup_ratio,  # transformers 5: a fraction < 1 is a warmup ratio
        max_steps=args.max_steps,
        optim="adamw_torch_fused",
        bf16=args.bf16,
        use_cpu=True,
        seed=args.seed,
        **common.TIMED_TRAINING_ARGS,
    )
    timer = common.step_timer_callback()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mlm_probability)
    trainer = Trainer(model=model, args=training_args, train_dataset=blocks,
                      data_collator=collator, processing_class=tokenizer, callbacks=[timer])
    t_train = time.time()
    trainer.train()
    common.write_result(args.out, {
        "steps": timer.steps, "train_threads": timer.threads, "blocks": len(blocks),
        "documents": len(documents), "start_time": t_start, "train_start": t_train,
        "train_end": time.time(),
        "parameters": sum(p.numel() for p in model.parameters())})


if __name__ == "__main__":
    sys.exit(main())

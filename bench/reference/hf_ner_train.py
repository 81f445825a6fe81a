#!/usr/bin/env python3
"""HF reference of bench/run row 1: NER fine-tuning with transformers' Trainer.

BertForTokenClassification from a pretrained folder, CoNLL sentences tokenised as pre-split
words (truncated at --max-length, labels on the first sub-token only), batches padded by
DataCollatorForTokenClassification, AdamW (adamw_torch_fused) with a linear schedule and warmup,
on the CPU with --threads intra-op threads. No evaluation and no checkpoints during training;
with --test-file the trained model is scored once at the end with seqeval (entity level, default
mode). Writes the per-step times and token counts (see common.step_timer_callback) to --out.

    .venv/bin/python bench/reference/hf_ner_train.py --model DIR --train-file train.tsv \
        --labels O B-Disease I-Disease --max-steps 65 --out hf.json [--bf16] [--group-by-length]
"""
import argparse
import sys
import time

import numpy as np

import common


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="pretrained model folder")
    ap.add_argument("--train-file", required=True)
    ap.add_argument("--test-file", default="", help="scored once after training (seqeval F1)")
    ap.add_argument("--labels", nargs="+", required=True, help="label names in id order")
    ap.add_argument("--output-dir", required=True, help="Trainer output_dir (nothing is saved)")
    ap.add_argument("--out", required=True, help="JSON result file")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--eval-batch-size", type=int, default=32)
    ap.add_argument("--learning-rate", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=-1, help="-1: from --epochs")
    ap.add_argument("--max-train-samples", type=int, default=0, help="0: all")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (Trainer bf16=True)")
    ap.add_argument("--group-by-length", action="store_true",
                    help="train_sampling_strategy='group_by_length' (LengthGroupedSampler)")
    args = ap.parse_args(argv)

    t_start = time.time()
    common.set_threads(args.threads)
    common.quiet_transformers()
    import torch
    from transformers import (AutoModelForTokenClassification, AutoTokenizer,
                              DataCollatorForTokenClassification, Trainer, TrainingArguments)

    label2id = {label: i for i, label in enumerate(args.labels)}
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    train_sentences = common.read_conll(args.train_file)
    if args.max_train_samples:
        train_sentences = train_sentences[:args.max_train_samples]
    train = common.align_first_subtoken(tokenizer, train_sentences, label2id, args.max_length)
    torch.manual_seed(args.seed)  # Trainer re-seeds before building the model as well
    model = AutoModelForTokenClassification.from_pretrained(
        args.model, num_labels=len(args.labels), id2label=dict(enumerate(args.labels)),
        label2id=label2id)

    training_args = TrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.eval_batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        lr_scheduler_type="linear",
        warmup_steps=args.warmup_ratio,  # transformers 5: a fraction < 1 is a warmup ratio
        max_grad_norm=args.max_grad_norm,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        optim="adamw_torch_fused",  # what our trainer runs (docs/recipes.md)
        bf16=args.bf16,
        use_cpu=True,
        seed=args.seed,
        train_sampling_strategy="group_by_length" if args.group_by_length else "random",
        **common.TIMED_TRAINING_ARGS,
    )
    timer = common.step_timer_callback()
    trainer = Trainer(model=model, args=training_args, train_dataset=train,
                      data_collator=DataCollatorForTokenClassification(tokenizer),
                      processing_class=tokenizer, callbacks=[timer])
    t_train = time.time()
    trainer.train()
    t_done = time.time()

    lengths = [len(f["input_ids"]) for f in train]
    result = {"steps": timer.steps, "train_threads": timer.threads,
              "train_examples": len(train), "start_time": t_start, "train_start": t_train,
              "train_end": t_done,
              # Real tokens and squared lengths of the features: the attention length of the
              # MFU figures (bench/harness.py effective_length).
              "length_stats": {"tokens": sum(lengths), "tokens_sq": sum(n * n for n in lengths)}}
    if args.test_file:
        result["test"] = score_test(trainer, tokenizer, args, label2id)
    common.write_result(args.out, result)


def score_test(trainer, tokenizer, args, label2id):
    """seqeval entity-level scores of the trained model on the test file: the predicted tag of
    each word is the argmax at its first sub-token (words cut off by truncation are left out of
    both sides, as run_ner.py does)."""
    from seqeval.metrics import f1_score, precision_score, recall_score

    sentences = common.read_conll(args.test_file)
    features = common.align_first_subtoken(tokenizer, sentences, label2id, args.max_length)
    output = trainer.predict(features)
    predicted_ids = np.argmax(output.predictions, axis=-1)
    gold, predicted = [], []
    for row_pred, row_gold in zip(predicted_ids, output.label_ids):
        keep = row_gold != -100
        gold.append([args.labels[i] for i in row_gold[keep]])
        predicted.append([args.labels[i] for i in row_pred[keep]])
    # Sentences with words that have no labelled sub-token (cut off by truncation).
    cut = sum(1 for g, (words, _) in zip(gold, sentences) if len(g) < len(words))
    return {"f1": f1_score(gold, predicted), "precision": precision_score(gold, predicted),
            "recall": recall_score(gold, predicted), "sentences": len(sentences),
            "sentences_cut": cut}


if __name__ == "__main__":
    sys.exit(main())

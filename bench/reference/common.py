"""Pieces the HF reference scripts of bench/run share: thread set-up, a CoNLL reader, the
first-sub-token label alignment, a step-timing callback and the JSON result file.

Every reference script writes one JSON object to its --out file; bench/harness.py reads it and
computes the figures the same way for our side and for HF (see harness.steady_window).
"""
import json
import os
import platform
import time
from pathlib import Path


def set_threads(threads):
    """Intra-op threads as our `training.threads` / `--threads` set them (inter-op: 1)."""
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set by an earlier parallel op; harmless for the timing
        pass


def quiet_transformers():
    """Only warnings and errors from transformers (no per-step log dicts on stdout)."""
    from transformers.utils import logging

    logging.set_verbosity_warning()


def read_conll(path):
    """Sentences of a CoNLL TSV file as (words, tags); blank lines separate sentences."""
    sentences, words, tags = [], [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        if parts[0] == "-DOCSTART-":
            continue
        words.append(parts[0])
        tags.append(parts[-1])
    if words:
        sentences.append((words, tags))
    return sentences


def align_first_subtoken(tokenizer, sentences, label2id, max_length):
    """HF token-classification features: words tokenised as pre-split input, truncated at
    max_length, the word's label on its first sub-token and -100 elsewhere (run_ner.py with
    label_all_tokens=False, which is what our `data.label_all_tokens: false` does)."""
    enc = tokenizer([w for w, _ in sentences], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    features = []
    for i, (_, tags) in enumerate(sentences):
        labels, previous = [], None
        for word in enc.word_ids(i):
            labels.append(-100 if word is None or word == previous else label2id[tags[word]])
            previous = word
        features.append({"input_ids": enc["input_ids"][i],
                         "token_type_ids": enc["token_type_ids"][i],
                         "attention_mask": enc["attention_mask"][i],
                         "labels": labels})
    return features


# TrainingArguments both reference trainers share: non-padding token counts, and nothing in the
# timed loop besides training (no evaluation, checkpoints, loggers, progress bar or workers).
TIMED_TRAINING_ARGS = dict(
    include_num_input_tokens_seen="non_padding",
    eval_strategy="no",
    save_strategy="no",
    logging_strategy="steps",
    logging_steps=50,
    report_to="none",
    disable_tqdm=True,
    dataloader_num_workers=0,
)


def step_timer_callback():
    """A TrainerCallback recording (global_step, wall time, non-padding tokens seen so far) at the
    end of every optimizer step: the same point at which our trainer writes its per-step record
    to metrics.jsonl (after the optimizer step and zero_grad)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.steps = []
            self.threads = None

        def on_train_begin(self, args, state, control, **kwargs):
            import torch

            self.threads = torch.get_num_threads()
            self.steps.append([0, time.time(), 0])

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append([state.global_step, time.time(), state.num_input_tokens_seen])

    return StepTimer()


def versions():
    import torch
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__}


def write_result(path, result):
    """The result object, plus the versions and the intra-op threads actually in use."""
    import torch

    result = {**result, "versions": versions(), "torch_threads": torch.get_num_threads(),
              "pid": os.getpid()}
    Path(path).write_text(json.dumps(result, indent=1))

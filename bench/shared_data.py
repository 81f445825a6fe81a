"""What the stand-alone bench scripts (distributed_scaling.py, serve_bench.py) share: the public
datasets folder, the NCBI-disease test sentences, the work folder and the binary."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "bench" / "reference"
sys.path.insert(0, str(REFERENCE))
import common as reference  # noqa: E402 (bench/reference/common.py: read_conll)


def shared_datasets():
    """CLINTORCH_SHARED_DATASETS, else ../shared/datasets beside the repository; None (with a
    visible SKIP line) when NCBI-disease is not there."""
    env = os.environ.get("CLINTORCH_SHARED_DATASETS")
    path = Path(env) if env else ROOT.parent / "shared" / "datasets"
    if not (path / "ner_NCBI-disease" / "test.tsv").is_file():
        print("SKIP: ../shared/datasets/ner_NCBI-disease not found (set CLINTORCH_SHARED_DATASETS)")
        return None
    return path


def ncbi_test_lines(shared, n=0):
    """The NCBI-disease test sentences as raw text (words joined by spaces), as bench/run's
    inference row reads them; the first n (0: all)."""
    lines = [" ".join(words) for words, _ in
             reference.read_conll(shared / "ner_NCBI-disease" / "test.tsv")]
    return lines[:n] if n else lines


def add_common_args(ap, name):
    """--work-dir (default out/NAME in the repository, ignored by git) and --binary."""
    ap.add_argument("--work-dir", default=str(ROOT / "out" / name),
                    help=f"where runs and logs go (default out/{name})")
    ap.add_argument("--binary", default=str(ROOT / "build" / "clintorch"))


def work_dir(path):
    work = Path(path)
    work.mkdir(parents=True, exist_ok=True)
    return work

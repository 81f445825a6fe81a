"""What the stand-alone bench scripts (distributed_scaling.py, serve_bench.py) share: the public
datasets folder and the work folder."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shared_datasets():
    """CLINTORCH_SHARED_DATASETS, else ../shared/datasets beside the repository; None (with a
    visible SKIP line) when NCBI-disease is not there."""
    env = os.environ.get("CLINTORCH_SHARED_DATASETS")
    path = Path(env) if env else ROOT.parent / "shared" / "datasets"
    if not (path / "ner_NCBI-disease" / "test.tsv").is_file():
        print("SKIP: ../shared/datasets/ner_NCBI-disease not found (set CLINTORCH_SHARED_DATASETS)")
        return None
    return path


def work_dir(path):
    work = Path(path)
    work.mkdir(parents=True, exist_ok=True)
    return work

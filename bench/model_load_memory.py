"""Peak resident memory while loading a random BERT-base checkpoint (about 440 MB) with our loader,
compared with the checkpoint's size, and with transformers loading the same files.

    .venv/bin/python bench/model_load_memory.py [--model-dump build/tests/model_dump] [--keep DIR]

transformers builds and saves the checkpoint (model.safetensors, and the same weights as a
torch.save pytorch_model.bin). Each load runs in a fresh process under /usr/bin/time -v; the
"baseline" rows start the same program without loading anything (LibTorch's CUDA wheel alone
maps a few hundred MB), so "peak - baseline" is what loading the model costs."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def max_rss(cmd):
    """Maximum resident set size in bytes of `cmd`, from /usr/bin/time -v."""
    proc = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return kb * 1024, proc.stdout


def mb(n):
    return f"{n / 2**20:.0f} MiB"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dump", default=str(ROOT / "build" / "tests" / "model_dump"))
    parser.add_argument("--keep", help="directory for the generated checkpoint (kept)")
    parser.add_argument("--skip-transformers", action="store_true")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bert_base_"))
    st_dir, bin_dir = work / "safetensors", work / "bin"
    if not (st_dir / "model.safetensors").exists() or not (bin_dir / "pytorch_model.bin").exists():
        import torch
        from transformers import BertConfig, BertModel

        torch.manual_seed(0)
        model = BertModel(BertConfig())  # bert-base: 12 layers, 768 hidden, 30522 tokens
        model.save_pretrained(st_dir)
        bin_dir.mkdir(parents=True, exist_ok=True)
        model.config.save_pretrained(bin_dir)
        torch.save(model.state_dict(), bin_dir / "pytorch_model.bin")
        del model

    rows = []
    base_time, out = max_rss([args.model_dump, "--baseline"])
    # The in-process peak (VmHWM) of the baseline run is lower than /usr/bin/time's figure for it
    # (LibTorch's exit adds a transient); the lower one is used: the conservative choice.
    base = min(base_time, json.loads(out)["VmHWM"])
    rows.append(("ours: baseline (LibTorch started, nothing loaded)", None, base, json.loads(out)))
    for name, d, f in [("safetensors", st_dir, "model.safetensors"),
                       ("pytorch_model.bin", bin_dir, "pytorch_model.bin")]:
        size = (d / f).stat().st_size
        peak, out = max_rss([args.model_dump, "--model", d, "--load-only"])
        rows.append((f"ours: load {name}", size, peak, json.loads(out)))
    if not args.skip_transformers:
        py = sys.executable
        hf_base, _ = max_rss([py, "-c", "import transformers, torch; from transformers import BertModel"])
        rows.append(("transformers: baseline (imports only)", None, hf_base, {}))
        for name, d, f in [("safetensors", st_dir, "model.safetensors"),
                           ("pytorch_model.bin", bin_dir, "pytorch_model.bin")]:
            size = (d / f).stat().st_size
            peak, _ = max_rss([py, "-c", f"from transformers import BertModel; BertModel.from_pretrained({str(d)!r})"])
            rows.append((f"transformers: from_pretrained {name}", size, peak, {}))

    print(f"| run | checkpoint | peak RSS | peak / checkpoint | peak - baseline | (peak - baseline) / checkpoint |")
    print("|---|---|---|---|---|---|")
    for label, size, peak, extra in rows:
        baseline = hf_base if label.startswith("transformers") and not args.skip_transformers else base
        if size is None:
            print(f"| {label} | - | {mb(peak)} | - | - | - |")
        else:
            print(f"| {label} | {mb(size)} | {mb(peak)} | {peak / size:.2f}x | {mb(peak - baseline)} | "
                  f"{(peak - baseline) / size:.2f}x |")
    for label, size, peak, extra in rows:
        if extra:
            print(f"{label}: " + ", ".join(f"{k} {mb(v)}" for k, v in extra.items()))
    if not args.keep:
        import shutil

        shutil.rmtree(work)


if __name__ == "__main__":
    main()

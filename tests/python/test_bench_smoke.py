"""`bench/run --smoke`: every row of the benchmark harness (NER fine-tuning in fp32, bf16 and
group_by_length, MLM steps, inference with predict / pipeline / forward / ONNX Runtime, embed /
sentence-transformers, the matmul peak and MFU) on tiny sizes, ours against HF. Checks that
every figure came out and that bench/RESULTS.md was left alone, not how fast either side is:
the CI machine is shared."""
import json
import subprocess

from conftest import SOURCE_DIR, clintorch_bin, shared_datasets  # noqa: F401 (fixtures)


def test_bench_smoke(clintorch_bin, shared_datasets, tmp_path):
    results_md = SOURCE_DIR / "bench" / "RESULTS.md"
    before = results_md.read_bytes()
    figures_file = tmp_path / "figures.json"
    proc = subprocess.run(
        [str(SOURCE_DIR / "bench" / "run"), "--smoke", "--json-out", str(figures_file),
         "--work-dir", str(tmp_path / "work"), "--binary", clintorch_bin,
         "--shared", str(shared_datasets)],
        capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert results_md.read_bytes() == before, "--smoke must not rewrite bench/RESULTS.md"
    figures = json.loads(figures_file.read_text())
    assert [e["config"] for e in figures["ner"]] == ["fp32", "bf16", "fp32 group_by_length"]
    assert figures["mlm"]["ours"]["window"]["tokens_per_s"] > 0
    assert figures["infer"]["spans"]["lines"] == figures["infer"]["lines"]
    for heading in ("### NER fine-tuning", "### MLM pretraining", "### Inference"):
        assert heading in proc.stdout

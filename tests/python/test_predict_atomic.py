"""`clintorch predict` writes OUTPUT.partial, syncs it and renames it at the end (issue 14): a run
that fails half-way (a bad input line after some chunks were written) leaves the previous OUTPUT
exactly as it was and no partial file; a run that succeeds replaces it."""
import json

from conftest import run_cli
from eval_util import make_model


def test_a_failed_predict_keeps_the_previous_output(clintorch_bin, minilm_dir, tmp_path):
    model, _ = make_model("ner", tmp_path / "ner", minilm_dir, seed=3)
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    good = [json.dumps({"text": f"patient {i} reports chest pain"}) for i in range(6)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(good + ["{not json"]) + "\n")
    proc = run_cli(clintorch_bin, "predict", "--model", model, "--input", bad, "--output", out,
                   "--chunk-lines", 2, "--threads", 1)
    assert proc.returncode != 0 and "bad.jsonl:7" in proc.stderr, proc.stderr
    assert out.read_text() == "previous results\n"
    assert not (tmp_path / "out.jsonl.partial").exists()
    ok = tmp_path / "ok.jsonl"
    ok.write_text("\n".join(good) + "\n")
    proc = run_cli(clintorch_bin, "predict", "--model", model, "--input", ok, "--output", out,
                   "--chunk-lines", 2, "--threads", 1)
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text().splitlines()) == 6
    assert not (tmp_path / "out.jsonl.partial").exists()

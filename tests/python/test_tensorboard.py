"""TensorBoard event files and metrics.jsonl written by src/train/tensorboard.cpp and
metrics_log.cpp (through clintorch_train_tool), read back with tensorboard's own EventAccumulator
and record reader, and with json."""
import json
import math
import os
import random
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

TOOL = os.environ.get("CLINTORCH_TRAIN_TOOL")


@pytest.fixture(scope="module")
def tool():
    if not TOOL or not Path(TOOL).exists():
        pytest.fail(f"clintorch_train_tool not found ({TOOL}); build first (make test does)")
    return TOOL


def write_events(tool, tmp_path, events):
    spec = {"log_dir": str(tmp_path / "runs"), "metrics": str(tmp_path / "metrics.jsonl"),
            "events": events}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run([tool, "tensorboard", str(tmp_path / "spec.json")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["event_file"])


def make_events(n_steps=200, seed=0):
    rng = random.Random(seed)
    events = []
    for step in range(0, n_steps):
        values = {"train/loss": rng.uniform(0, 5) * math.exp(-step / 50),
                  "train/learning_rate": 5e-5 * (1 - step / n_steps)}
        events.append({"step": step, "wall_time": 1.7e9 + step * 0.25, "values": values,
                       "epoch": step / 50, "split": "train"})
        if step % 50 == 49:
            events.append({"step": step, "wall_time": 1.7e9 + step * 0.25 + 0.1,
                           "values": {"eval/f1": rng.uniform(0, 1)}, "split": "eval",
                           "epoch": (step + 1) / 50})
    # Steps past 2^31 and tiny, huge and negative values.
    events.append({"step": 2**40 + 3, "wall_time": 1.8e9, "values": {"edge/value": -1.5e-30}})
    events.append({"step": 2**40 + 4, "wall_time": 1.8e9, "values": {"edge/value": 3.0e38}})
    return events


def test_event_accumulator_reads_our_scalars(tool, tmp_path):
    events = make_events()
    event_file = write_events(tool, tmp_path, events)
    assert "tfevents" in event_file.name and event_file.parent == tmp_path / "runs"

    acc = EventAccumulator(str(tmp_path / "runs"), size_guidance={"scalars": 0})
    acc.Reload()
    expected = {}
    for e in events:
        for tag, v in e["values"].items():
            expected.setdefault(tag, []).append((e["step"], e["wall_time"], v))
    assert sorted(acc.Tags()["scalars"]) == sorted(expected)
    for tag, rows in expected.items():
        got = acc.Scalars(tag)
        assert [s.step for s in got] == [r[0] for r in rows], tag
        assert [s.wall_time for s in got] == [r[1] for r in rows], tag
        # simple_value is a float32 in the proto.
        assert [s.value for s in got] == [float(np.float32(r[2])) for r in rows], tag
    print(f"EventAccumulator read {sum(len(r) for r in expected.values())} scalars, "
          f"{len(expected)} tags")


def test_records_have_valid_masked_crcs_and_file_version(tool, tmp_path):
    events = make_events(20)
    data = write_events(tool, tmp_path, events).read_bytes()
    pos, records = 0, []
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        assert header_crc == masked_crc32c(header)
        body = data[pos + 12:pos + 12 + length]
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        assert body_crc == masked_crc32c(body)
        records.append(body)
        pos += 16 + length
    assert pos == len(data)
    first = event_pb2.Event.FromString(records[0])
    assert first.file_version == "brain.Event:2"
    assert len(records) == 1 + len(events)
    # Every other record parses as an Event with a summary (protobuf's own parser).
    for body, e in zip(records[1:], events):
        ev = event_pb2.Event.FromString(body)
        assert ev.step == e["step"]
        assert [v.tag for v in ev.summary.value] == list(e["values"])


def test_metrics_jsonl(tool, tmp_path):
    events = make_events(30)
    write_events(tool, tmp_path, events)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == len(events)
    for line, e in zip(lines, events):
        record = json.loads(line)
        assert record["step"] == e["step"]
        assert record["split"] == e.get("split", "train")
        assert record["epoch"] == e.get("epoch", 0.0)
        for tag, v in e["values"].items():
            assert record[tag] == v  # doubles round-trip exactly

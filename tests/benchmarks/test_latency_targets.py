"""benchmarks.latency_targets: issue 32's targets from a device run's records, nothing measured."""

import json
import sys

from benchmarks import latency_targets, report


def test_targets_are_read_from_records_and_a_miss_is_a_miss(monkeypatch, tmp_path, capsys):
    throughput = tmp_path / "tp.jsonl"
    rows = [{"engine": "m1", "batch": 1, "new": 1024, "tokens_per_s": 375.0, "step_ms": 2.66, "achieved_GBps": 2600.0,
             "copy_GBps": 4240.0, "device": "GPU X", "date": "d"},
            {"engine": "m1", "batch": 8, "new": 1024, "tokens_per_s": 3700.0, "step_ms": 2.16, "achieved_GBps": 3300.0,
             "copy_GBps": 4240.0, "device": "GPU X", "date": "d"},
            {"engine": "llama", "batch": 1, "new": 1024, "tokens_per_s": 336.0, "device": "GPU X", "date": "d"},
            {"engine": "m1", "batch": 512, "prompt": 256, "new": 256, "prefill_s": 1.05, "device": "GPU X",
             "date": "d"}]
    throughput.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    first = tmp_path / "ft.json"
    first.write_text(json.dumps({"env": {"device": "GPU X", "date": "d"}, "prefill_chunks": True, "cases": [
        {"prompt": 1024, "samples": 16, "first_ms": 26.0, "p90_first_ms": 27.0, "prefill_ms": 22.0}]}))
    monkeypatch.setattr(report, "BENCHMARKS_MD", tmp_path / "BENCHMARKS.md")
    monkeypatch.setattr(sys, "argv", ["latency_targets", "--throughput", str(throughput), "--first-token", str(first)])
    assert latency_targets.main() == 0
    table = [line for line in (tmp_path / "BENCHMARKS.md").read_text().splitlines() if line.startswith("| ")]
    met = {line.split(" | ")[0][2:]: line.split(" | ")[5] for line in table[1:]}
    assert met == {"decode, batch 1, prompt 256, 1,024 new": "no", "decode, batch 8, prompt 256, 1,024 new": "yes",
                   "first token, 1024 x 16, chunked Mamba prefill": "no", "prefill, 512 x 256": "yes"}


def test_no_matching_record_is_an_error(monkeypatch, tmp_path):
    empty = tmp_path / "tp.jsonl"
    empty.write_text("")
    monkeypatch.setattr(sys, "argv", ["latency_targets", "--throughput", str(empty), "--no-write"])
    assert latency_targets.main() == 2

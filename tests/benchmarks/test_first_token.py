"""benchmarks.first_token on a tiny model on the CPU: every sample's first token timed, the prefill call counted,
and a request that produces fewer first tokens than samples is an error, not a shorter time."""

import json
import sys

import pytest

from benchmarks import first_token
from m1reason.generator import M1Generator
from m1reason.model import HybridLM, ModelConfig


def test_a_case_times_every_samples_first_token_after_one_prefill(monkeypatch, tmp_path):
    argv = ["first_token", "--tiny", "--device", "cpu", "--no-write", "--cases", "16x1", "24x4", "--repeats", "3",
            "--warmup", "1", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    assert first_token.main() == 0
    record = json.loads((tmp_path / "first_token.json").read_text())
    cases = {(c["prompt"], c["samples"]): c for c in record["cases"]}
    assert set(cases) == {(16, 1), (24, 4)}
    for case in cases.values():
        assert case["requests"] == 3 and len(case["timed"]) == 3 and case["prefill_calls"] == 1
        assert 0 < case["prefill_ms"] <= case["first_ms"] <= case["all_first_ms"]
        assert case["host_ms"] == pytest.approx(case["first_ms"] - case["prefill_ms"], abs=2e-3)  # each rounded


def test_too_few_first_tokens_is_an_error():
    gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
    gen.stream = lambda requests: iter(())  # a generator that ends the request without a token
    with pytest.raises(RuntimeError, match="only 0 of 2 samples"):
        first_token.time_first_tokens(gen, 8, 2, repeats=1, warmup=0)


def test_a_comparison_section_is_written_from_two_runs_records(monkeypatch, tmp_path):
    from benchmarks import report

    paths = []
    for chunks, first in (("off", 27.2), ("on", 19.7)):
        record = {"env": {"command": f"first_token --prefill-chunks {chunks}", "commit": "abc", "device": "GPU X",
                          "cpu_threads": 16, "versions": {}, "date": "2026-12-07"}, "model": "M1-3B shapes",
                  "cases": [{"prompt": 1024, "samples": 16, "first_ms": first, "prefill_ms": first - 4,
                             "all_first_ms": first + 1, "p90_first_ms": first + 2},
                            {"prompt": 256, "samples": 1, "first_ms": 7.0, "prefill_ms": 5.0,
                             "all_first_ms": 7.0, "p90_first_ms": 8.0}][: 2 if chunks == "off" else 1]}
        paths.append(tmp_path / f"{chunks}.json")
        paths[-1].write_text(json.dumps(record))
    monkeypatch.setattr(report, "BENCHMARKS_MD", tmp_path / "BENCHMARKS.md")
    argv = ["first_token", "--compare", *map(str, paths), "--labels", "whole", "chunks", "--section", "ab"]
    monkeypatch.setattr(sys, "argv", argv)
    assert first_token.main() == 0
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "| 1024 x 16 | 27.20 (23.20 + 4.00) | 19.70 (15.70 + 4.00) | 28.20 / 20.70 | 29.20 / 21.70 |" in text
    assert "256 x 1" not in text  # a case only one run measured is no comparison
    assert "first_token --prefill-chunks off ; first_token --prefill-chunks on" in text


def test_a_comparison_needs_one_label_per_record():
    with pytest.raises(ValueError, match="2 records but 1 labels"):
        first_token.compare_table([{"cases": []}, {"cases": []}], ["only"])

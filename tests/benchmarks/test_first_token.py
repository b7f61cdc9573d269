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

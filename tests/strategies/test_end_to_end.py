"""Strategies on the real engine with a tiny random model: mechanics only (its text is noise, so is its answer)."""

import json
import time

import pytest
import torch

from m1reason.defaults import ByteTokenizer
from m1reason.generator import M1Generator
from m1reason.model import HybridLM, ModelConfig
from strategies import BudgetAware, LongCoT, SelfConsistency, Solution


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    torch.manual_seed(0)
    config = ModelConfig.tiny(num_layers=4, attn_layers=(1, 3), vocab_size=260)
    model = HybridLM(config.model_copy(update={"eos_token_ids": (257,)})).eval()
    return M1Generator(model, ByteTokenizer(), max_slots=4, max_len=512)


def test_self_consistency_forces_answers_out_of_length_cut_samples(generator):
    sol = SelfConsistency(n=3, max_new_tokens=12, force_tokens=4, seed=5, early_stop="none").run("1 + 1?", generator)
    assert len(sol.samples) == 3 and sol.plan.n == 3
    for sample in sol.samples:
        assert sample.forced == ["\n</think>\n\nThe final answer is $\\boxed{"]
        assert "</think>" in sample.text and sample.num_tokens <= 12 + len(sample.forced[0]) + 4
    assert sol.reproducibility["seed"] == 5 and "versions" in sol.reproducibility
    assert Solution.model_validate_json(json.dumps(sol.model_dump(mode="json"))) == sol
    again = SelfConsistency(n=3, max_new_tokens=12, force_tokens=4, seed=5, early_stop="none").run("1 + 1?", generator)
    assert [s.text for s in again.samples] == [s.text for s in sol.samples]  # same seed, same samples on CPU
    assert generator.occupancy() == 0


def test_long_cot_and_budget_aware_on_the_engine(generator, monkeypatch, tmp_path):
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    assert LongCoT(max_new_tokens=8, force_tokens=2).run("2 + 2?", generator).samples[0].forced
    started = time.monotonic()
    sol = BudgetAware(needed_tokens=16, max_new_tokens=64, n=4).run("2 + 2?", generator, budget_s=1.0)
    assert time.monotonic() - started - sol.timings["calibration_s"] < 1.0 + 1.0
    assert 1 <= sol.plan.n <= 4 and sol.plan.predicted_s <= 1.0
    assert len(sol.samples) == sol.plan.n and generator.occupancy() == 0

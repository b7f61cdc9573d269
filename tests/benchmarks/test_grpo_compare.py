"""benchmarks/grpo_compare: GRPO runs side by side, each paired against its own SFT stage."""

import json

import pytest

from benchmarks.grpo_compare import SCORES, main


def _report(sft: list[float], grpo: list[float]) -> list[dict]:
    columns = lambda values: {score: values for score in SCORES}  # noqa: E731
    return [{"stage": stage, "set": problem_set, "columns": columns(values)}
            for stage, values in (("sft", sft), ("grpo", grpo)) for problem_set in ("mixed", "arithmetic")]


def test_each_run_is_paired_with_its_own_sft_stage_overall_and_per_kind(tmp_path, capsys):
    from m1reason.train.data import heldout_problems

    kinds = [p.kind for p in heldout_problems(6)]  # the per-kind rows group the first six by their kind
    gained = [1, 1, 0, 0, 1, 1]  # "up" turns problems 0, 1, 4 and 5 from wrong to right
    better = tmp_path / "better.json"
    better.write_text(json.dumps(_report([0] * 6, gained)))
    same = tmp_path / "same.json"
    same.write_text(json.dumps(_report([1] * 6, [1] * 6)))
    assert main([f"up={better}", f"flat={same}", "--limit", "6"]) == 0
    out = capsys.readouterr().out
    assert "| mixed | greedy | 0.0 | +66.7 ± 41.3 | +0.0 ± 0.0 |" in out
    for kind in set(kinds):
        mine = [g for k, g in zip(kinds, gained) if k == kind]
        gain = 100 * sum(mine) / len(mine)
        spread = "0.0" if gain in (0, 100) else None
        row = f"| {kind} | {len(mine)} | +{gain:.1f} ± "
        assert row in out and (spread is None or f"{row}{spread} | +0.0 ± 0.0 |" in out), (row, out)


def test_a_report_without_both_stages_is_named(tmp_path):
    only_sft = tmp_path / "sft.json"
    only_sft.write_text(json.dumps([r for r in _report([1], [1]) if r["stage"] == "sft"]))
    with pytest.raises(ValueError, match="no 'grpo' record for set 'mixed'"):
        main([f"x={only_sft}", "--limit", "1"])
    with pytest.raises(SystemExit):
        main([str(only_sft)])

"""The whole recipe at toy scale: every stage runs in order, a rerun resumes (skips) finished stages, and the best
hybrid stage ships as a loadable M1 folder."""

from __future__ import annotations

import json

import pytest

import m1reason
from m1reason.train.recipe import best_stage, run_all, ship
from m1reason.train.stages import TeacherShape

TOY = TeacherShape(hidden_size=32, num_layers=3, num_heads=2, num_kv_heads=1, intermediate_size=64)


@pytest.mark.slow
def test_all_stages_run_resume_and_the_best_hybrid_ships(tmp_path):
    run = tmp_path / "run"
    last = run_all(run, scale=0.001, shape=TOY, attn_layers=(1,))
    assert last.name == "grpo"
    for stage in ("teacher", "distill", "sft", "grpo"):
        assert (run / stage / "eval.json").exists() and (run / stage / "history.jsonl").exists()
    stamps = {p: p.stat().st_mtime_ns for p in run.rglob("*.safetensors")}
    run_all(run, scale=0.001, shape=TOY, attn_layers=(1,))  # everything finished: nothing is rewritten
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*.safetensors")} == stamps

    best = best_stage(run)
    assert best.name in ("distill", "sft", "grpo")
    target = ship(best, tmp_path / "embedded")
    model = m1reason.load_model(target, device="cpu")
    assert model.config.mamba_layers and model.config.attn_layers == (1,)
    record = json.loads((target / "training.json").read_text())
    assert record["source"] == best.name and set(record["stages"]) >= {"teacher", "distill", "sft", "grpo"}


def test_best_stage_needs_an_evaluated_stage(tmp_path):
    with pytest.raises(FileNotFoundError, match="no evaluated stage"):
        best_stage(tmp_path)


def test_a_stages_steps_can_be_chosen_and_bad_choices_are_named():
    from m1reason.train.__main__ import build_parser
    from m1reason.train.recipe import recipe_settings

    args = build_parser().parse_args(["all", "--out", "o", "--steps", "distill=3000,sft=10", "--scale", "0.5"])
    settings = recipe_settings(scale=args.scale, steps=args.steps)
    assert (settings["distill"].steps, settings["sft"].steps, settings["teacher"].steps) == (3000, 10, 2000)
    with pytest.raises(ValueError, match="steps given for init"):
        recipe_settings(steps={"init": 5})
    with pytest.raises(ValueError, match="positive whole number"):
        recipe_settings(steps={"grpo": 0})
    with pytest.raises(SystemExit):
        build_parser().parse_args(["all", "--out", "o", "--steps", "distill"])

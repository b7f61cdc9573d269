"""The default model: the embedded tiny M1 when no model is named, a loud random stand-in where it is missing, and
strategies sized for it."""

from __future__ import annotations

import logging

import m1reason.defaults as defaults
from m1reason.scope import EMBEDDED_SCOPE
from m1reason.solving import make_strategy
from m1reason.vote_curve import VOTE_CURVE_FILE, VoteCurve


def test_no_model_named_gives_the_embedded_model_with_short_strategy_defaults(monkeypatch):
    monkeypatch.delenv(defaults.MODEL_ENV, raising=False)
    gen = defaults.default_generator(max_slots=2, max_len=64)
    assert gen.source["model_id"] == "m1reason/embedded"
    assert gen.model.config.mamba_layers and gen.model.config.attn_layers
    budget = make_strategy("auto", 10, gen)
    assert (budget.needed_tokens, budget.max_new_tokens, budget.force_tokens) == (145, 320, 8)
    assert make_strategy("long", None, gen).max_new_tokens == 320
    assert make_strategy("auto", 10).needed_tokens == 2048  # without the generator: M1-3B's defaults
    assert gen.scope is EMBEDDED_SCOPE  # the strategies refuse what its curriculum lacks


def test_a_missing_embedded_folder_falls_back_to_a_random_model_and_says_so(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv(defaults.MODEL_ENV, raising=False)
    monkeypatch.setattr(defaults, "EMBEDDED_MODEL", tmp_path / "gone")
    with caplog.at_level(logging.WARNING, logger="m1reason.defaults"):
        gen = defaults.default_generator(max_slots=2, max_len=64)
    assert gen.source["model_id"] == "tiny-random (meaningless answers)"
    assert "RANDOM" in caplog.text and "gone" in caplog.text
    assert not getattr(gen, "strategy_defaults", None) and gen.scope is None  # no curriculum to keep to


def test_a_folder_trained_by_the_recipe_loads_like_the_embedded_model(tmp_path):
    import shutil

    trained = shutil.copytree(defaults.EMBEDDED_MODEL, tmp_path / "sft")
    (trained / VOTE_CURVE_FILE).unlink()  # a fresh stage has no vote curve yet: every sample is assumed to help
    gen = defaults.default_generator(str(trained))
    assert gen.strategy_defaults == defaults.EMBEDDED_STRATEGY_DEFAULTS and gen.engine.max_len == 512
    assert "useful_samples" not in gen.strategy_defaults and make_strategy("budget", 10, gen).useful_samples is None
    assert gen.scope is EMBEDDED_SCOPE
    (trained / "training.json").unlink()  # now just a checkpoint: the strategies' own (M1-3B) defaults
    plain = defaults.default_generator(str(trained), max_slots=2)
    assert plain.strategy_defaults is None and plain.engine.max_len == 32768 and plain.scope is None


def test_the_embedded_models_scope_is_said_once_by_default(monkeypatch, caplog):
    import m1reason.defaults as defaults

    monkeypatch.setattr(defaults, "_embedded_noted", False)
    with caplog.at_level(logging.WARNING):  # the level a script without logging set up shows
        defaults.default_generator(max_slots=2, max_len=64)
        defaults.default_generator(max_slots=2, max_len=64)
    assert [r.levelno for r in caplog.records if "embedded tiny M1" in r.getMessage()] == [logging.WARNING]


def test_the_embedded_model_caps_budget_aware_at_its_shipped_vote_curve(monkeypatch):
    monkeypatch.delenv(defaults.MODEL_ENV, raising=False)
    shipped = VoteCurve.for_model(defaults.EMBEDDED_MODEL)
    assert shipped is not None  # shipped beside the weights, measured on them
    gen = defaults.default_generator(max_slots=2, max_len=64)
    assert gen.strategy_defaults["useful_samples"] == shipped.useful_samples
    assert make_strategy("budget", 10, gen).useful_samples == shipped.useful_samples
    assert make_strategy("auto", 10, gen).useful_samples == shipped.useful_samples
    # the strategies without the field are made without it (their fields are checked: extra="forbid")
    assert make_strategy("sc", None, gen).n == 8 and make_strategy("long", None, gen).max_new_tokens == 320


def test_a_vote_curve_measured_at_another_temperature_is_not_used(tmp_path, caplog):
    import shutil

    trained = shutil.copytree(defaults.EMBEDDED_MODEL, tmp_path / "sft")
    hot = VoteCurve.for_model(trained).model_copy(update={"temperature": 1.3})
    hot.save(trained)
    with caplog.at_level(logging.WARNING, logger="m1reason.defaults"):
        assert defaults.strategy_defaults_for(trained) == defaults.EMBEDDED_STRATEGY_DEFAULTS
    assert "temperature 1.3" in caplog.text

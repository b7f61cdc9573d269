"""The confidence map: a vote share read as the chance of a right answer, fit conservatively, tied to its weights."""

import json
import logging

import pytest
from pydantic import ValidationError

from m1reason.confidence_map import ConfidenceMap, weights_digest
from m1reason.errors import ConfigError
from strategies import SelfConsistency
from tests.strategies.conftest import SpyGenerator, boxed

DIGEST = "a" * 64

STORY = "Ava has 2 pens and gets 2 more. How many?"  # a word problem: its answers are not checked


def test_fit_is_monotone_and_conservative():
    # share 1.0: 95 of 100 right; 0.75: 30 of 40; 0.5: 3 of 30
    shares = [1.0] * 100 + [0.75] * 40 + [0.5] * 30
    right = [True] * 95 + [False] * 5 + [True] * 30 + [False] * 10 + [True] * 3 + [False] * 27
    m = ConfidenceMap.fit(shares, right, source="dev", weights_sha256=DIGEST)
    chances = [m(s) for s in (0.5, 0.75, 1.0)]
    assert chances == sorted(chances)
    assert 0.88 < m(1.0) < 0.95  # the lower Wilson bound of 95/100, below the 0.95 observed
    assert 0.55 < m(0.75) < 0.75 and m(0.5) < 0.1
    assert m(0.3) == 0.0  # below every share seen: no claim at all


def test_fit_pools_a_share_that_did_worse_than_a_lower_one():
    shares = [0.5] * 20 + [0.75] * 20 + [1.0] * 20
    right = [True] * 12 + [False] * 8 + [True] * 6 + [False] * 14 + [True] * 19 + [False]
    m = ConfidenceMap.fit(shares, right, source="dev", weights_sha256=DIGEST)
    assert m(0.5) == m(0.75) < m(1.0)  # 0.75 did worse than 0.5: one pooled step, never a falling map


def test_a_step_resting_on_few_answers_claims_little():
    few = ConfidenceMap.fit([1.0] * 5, [True] * 5, source="dev", weights_sha256=DIGEST)
    many = ConfidenceMap.fit([1.0] * 500, [True] * 500, source="dev", weights_sha256=DIGEST)
    assert few(1.0) < 0.6 < 0.99 < many(1.0)


def test_invalid_maps_are_refused():
    with pytest.raises(ValidationError, match="never fall"):
        ConfidenceMap(source="x", weights_sha256=DIGEST, steps=((0.5, 0.9, 10), (1.0, 0.4, 10)))
    with pytest.raises(ValidationError):
        ConfidenceMap(source="x", weights_sha256="not a digest", steps=((0.5, 0.5, 1),))
    with pytest.raises(ValueError, match="as many shares"):
        ConfidenceMap.fit([1.0], [True, False], source="x", weights_sha256=DIGEST)


def test_a_map_of_other_weights_is_set_aside(tmp_path, caplog):
    (tmp_path / "model.safetensors").write_bytes(b"these weights")
    fit = ConfidenceMap.fit([1.0] * 50, [True] * 50, source="dev", weights_sha256=weights_digest(tmp_path))
    fit.save(tmp_path)
    assert ConfidenceMap.for_model(tmp_path) == fit
    (tmp_path / "model.safetensors").write_bytes(b"retrained weights")
    with caplog.at_level(logging.WARNING):
        assert ConfidenceMap.for_model(tmp_path) is None
    assert "other weights" in caplog.text
    assert json.loads((tmp_path / "confidence.json").read_text())["source"] == "dev"


def test_solutions_report_the_mapped_chance_the_share_and_the_basis():
    gen = SpyGenerator(lambda request, i: boxed(["4", "4", "4", "5"][i], steps=i + 1))
    gen.confidence_map = ConfidenceMap.fit([0.75] * 40 + [1.0] * 40, [True] * 20 + [False] * 20 + [True] * 40,
                                           source="dev", weights_sha256=DIGEST)
    sol = SelfConsistency(n=4, early_stop="none").run(STORY, gen)
    assert sol.answer == "4" and sol.vote_share == 0.75
    assert sol.confidence == pytest.approx(gen.confidence_map(0.75)) and sol.confidence < 0.5
    assert "40 answers" in sol.confidence_basis and "dev" in sol.confidence_basis
    assert "vote 75%, confidence" in repr(sol)


def test_without_a_map_the_share_is_the_confidence_and_says_so():
    gen = SpyGenerator(lambda request, i: boxed(["4", "4", "4", "5"][i], steps=i + 1))
    sol = SelfConsistency(n=4, early_stop="none").run(STORY, gen)
    assert sol.confidence == sol.vote_share == 0.75
    assert "not calibrated" in sol.confidence_basis


def test_the_weights_are_hashed_once_per_version_of_their_files(tmp_path, monkeypatch):
    """Loading a model reads its map and its vote curve, each tied to the weights: the digest is remembered, and
    a shard rewritten since gives a new one."""
    import hashlib
    import os

    import m1reason.confidence_map as confidence_map

    shard = tmp_path / "model.safetensors"
    shard.write_bytes(b"weights")
    hashed = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(confidence_map.hashlib, "sha256", lambda: hashed.append(1) or real_sha256())
    first = weights_digest(tmp_path)
    assert weights_digest(tmp_path) == first and len(hashed) == 1
    shard.write_bytes(b"other weights")
    os.utime(shard, ns=(1, 1))  # a new modification time, whatever the file system's clock resolution
    assert weights_digest(tmp_path) != first and len(hashed) == 2


def test_a_file_that_is_not_a_map_is_named(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "confidence.json").write_text("{not json")
    with pytest.raises(ConfigError, match="confidence.json is not a confidence map"):
        ConfidenceMap.for_model(tmp_path)

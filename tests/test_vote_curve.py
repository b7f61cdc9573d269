"""The vote curve: maj@k by sample count over each problem's first k samples, the count beyond which the vote stops
paying, tied to its weights, saved and read back."""

import json
import logging

import pytest
from pydantic import ValidationError

from m1reason.answers import group_equivalent
from m1reason.confidence_map import weights_digest
from m1reason.errors import ConfigError
from m1reason.vote_curve import VOTE_CURVE_FILE, VoteCurve, VotePoint

DIGEST = "a" * 64


def fit(answers, right, counts=(1, 2, 4, 8)):
    return VoteCurve.fit(answers, right, group=group_equivalent, counts=counts, source="dev", weights_sha256=DIGEST)


def test_samples_that_share_their_errors_make_a_flat_curve_and_one_sample_useful():
    # a small model's samples agree, right or wrong: every vote equals one sample
    answers = [["7"] * 8] * 15 + [["3"] * 8] * 25
    right = [[True] * 8] * 15 + [[False] * 8] * 25
    curve = fit(answers, right)
    assert [p.accuracy for p in curve.points] == [0.375] * 4
    assert all(p.gain == 0.0 for p in curve.points) and curve.useful_samples == 1


def test_where_the_vote_pays_useful_samples_is_the_count_beyond_which_it_stops_paying():
    # one in four samples slips; four or more vote the slip down, and eight add nothing beyond four
    answers = [["9", "4", "4", "4", "4", "9", "4", "4"]] * 30 + [["4"] * 8] * 10
    right = [[a == "4" for a in row] for row in answers]
    curve = fit(answers, right)
    by_k = {p.samples: p for p in curve.points}
    # blocks of 2: 9|4, 4|4, 4|9, 4|4 - a tie goes to the first seen, so two of four blocks of a slip are lost
    assert by_k[1].accuracy == by_k[2].accuracy == (30 * 0.75 + 10) / 40
    assert by_k[4].accuracy == 1.0 and by_k[8].accuracy == 1.0
    assert by_k[4].gain - by_k[4].gain_ci > 0
    assert curve.useful_samples == 4


def test_a_small_gain_inside_its_interval_does_not_count():
    # 2 problems of 40 gain from the vote (a quarter of their samples slip): +1.25 points, within the interval
    answers = [["1", "2", "2", "2"]] * 2 + [["5"] * 4] * 38
    right = [[False, True, True, True]] * 2 + [[True] * 4] * 38
    curve = fit(answers, right, counts=(1, 2, 4))
    assert curve.points[-1].gain == pytest.approx(0.0125) and curve.useful_samples == 1


def test_no_answer_is_wrong_and_does_not_vote():
    right = [[False, True, False]]
    assert fit([[None, "2", None]], right, counts=(1, 3)).points[1].accuracy == 1.0  # the one answer wins
    assert fit([[None, None, None]], [[False] * 3], counts=(1, 3)).points[1].accuracy == 0.0
    # equivalent spellings are one vote: "1/2" and "0.5" outvote "3"
    assert fit([["3", "1/2", "0.5"]], [[False, True, True]], counts=(1, 3)).points[1].accuracy == 1.0


def test_with_step_checks_samples_with_a_false_step_do_not_vote_unless_no_other_answers():
    # the slips write false arithmetic; set aside, they no longer win the ties of two
    answers = [["9", "4", "4", "9"]] * 20
    right = [[a == "4" for a in row] for row in answers]
    plain = fit(answers, right, counts=(1, 2, 4))
    checked = VoteCurve.fit(answers, right, group=group_equivalent, counts=(1, 2, 4), source="dev",
                            weights_sha256=DIGEST, steps_ok=right)
    assert [p.accuracy for p in plain.points] == [0.5, 0.5, 0.0] and not plain.checked  # 9|4 lost, 4|9 won
    assert [p.accuracy for p in checked.points] == [0.5, 1.0, 1.0] and checked.checked  # a "9" alone still votes
    assert checked.useful_samples == 2
    # a checked curve saved and read back says it was checked; a file from before the field reads as unchecked
    assert VoteCurve.model_validate_json(checked.model_dump_json()).checked
    legacy = json.loads(plain.model_dump_json())
    del legacy["checked"]
    assert not VoteCurve.model_validate(legacy).checked


def test_bad_inputs_are_refused_with_what_is_wrong():
    with pytest.raises(ValueError, match="samples per problem"):
        fit([["1", "1"]], [[True, True]], counts=(1, 4))
    with pytest.raises(ValueError, match="start at 1"):
        fit([["1", "1"]], [[True, True]], counts=(2,))
    with pytest.raises(ValueError, match="as many problems"):
        fit([["1"]], [], counts=(1,))
    with pytest.raises(ValueError, match="step check per problem"):
        VoteCurve.fit([["1"]], [[True]], group=group_equivalent, counts=(1,), source="dev", weights_sha256=DIGEST,
                      steps_ok=[])
    with pytest.raises(ValueError, match="step check per sample"):
        VoteCurve.fit([["1", "2"]], [[True, False]], group=group_equivalent, counts=(1, 2), source="dev",
                      weights_sha256=DIGEST, steps_ok=[[True]])
    point = VotePoint(samples=1, accuracy=0.5, accuracy_ci=0.1, gain=0.0, gain_ci=0.0)
    with pytest.raises(ValidationError, match="not a measured count"):
        VoteCurve(source="x", weights_sha256=DIGEST, problems=1, points=(point,), useful_samples=2)


def test_saved_and_read_back_for_its_weights_and_set_aside_for_others(tmp_path, caplog):
    (tmp_path / "model.safetensors").write_bytes(b"these weights")
    curve = VoteCurve.fit([["2", "2"]] * 3, [[True, True]] * 3, group=group_equivalent, counts=(1, 2),
                          source="dev", weights_sha256=weights_digest(tmp_path), temperature=0.7)
    assert curve.save(tmp_path) == tmp_path / VOTE_CURVE_FILE
    assert VoteCurve.for_model(tmp_path) == curve
    (tmp_path / "model.safetensors").write_bytes(b"retrained weights")
    with caplog.at_level(logging.WARNING):
        assert VoteCurve.for_model(tmp_path) is None
    assert "other weights" in caplog.text
    assert VoteCurve.for_model(tmp_path / "missing") is None


def test_a_file_that_is_not_a_vote_curve_is_an_error_naming_it(tmp_path):
    path = tmp_path / VOTE_CURVE_FILE
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="vote_curve.json is not a vote curve"):
        VoteCurve.for_model(tmp_path)
    path.write_text(json.dumps({"source": "dev", "weights_sha256": DIGEST, "problems": 1, "points": []}))
    with pytest.raises(ConfigError, match=str(path)):
        VoteCurve.for_model(tmp_path)


def test_the_shipped_curve_was_measured_on_the_development_set_and_these_weights():
    from m1reason.defaults import EMBEDDED_MODEL
    from strategies import BudgetAware

    shipped = VoteCurve.for_model(EMBEDDED_MODEL)  # None if it were of other weights
    assert shipped is not None and shipped.source.startswith("natural_dev.jsonl (")
    assert "state no value to check answers against" in shipped.source  # the problems BudgetAware caps by it
    assert "natural_math" not in shipped.source and "out_of_scope" not in shipped.source  # never the test sets
    assert shipped.temperature == BudgetAware().temperature  # what the planner samples at
    assert shipped.checked  # of the vote SelfConsistency holds, false-step samples set aside
    assert [p.samples for p in shipped.points] == [1, 2, 4, 8, 16]
    assert (EMBEDDED_MODEL / VOTE_CURVE_FILE).stat().st_size < 4096  # package data: keep it small

"""The vote: clusters of equivalent answers, tie-breaking, and the three early-stopping rules."""

import itertools

import pytest
import sympy

from strategies.voting import Tally, beta_win_probability


def tally_of(*answers, confidences=None):
    t = Tally()
    for i, answer in enumerate(answers):
        t.add(f"s{i}", answer, confidence=confidences[i] if confidences else 0.0)
    return t


def test_majority_is_the_largest_cluster_not_the_most_frequent_string():
    t = tally_of("3", "1/2", "3", "0.5", "\\frac{1}{2}", None)
    votes = t.votes()
    assert votes[0].answer == "1/2" and votes[0].count == 3
    assert votes[0].sample_ids == ["s1", "s3", "s4"]
    assert (votes[1].answer, votes[1].count) == ("3", 2)
    assert t.finished == 6  # the sample without an answer finished but does not vote


def test_ties_go_to_the_more_confident_cluster_then_the_first_to_finish():
    assert tally_of("7", "5", "5", "7", confidences=[-2.0, -0.1, -0.2, -2.0]).votes()[0].answer == "5"
    assert tally_of("7", "5", "5", "7").votes()[0].answer == "7"


def test_weights_decide_the_winner():
    t = Tally()
    for i, (answer, weight) in enumerate([("5", 0.1), ("5", 0.1), ("5", 0.1), ("7", 0.9)]):
        t.add(f"s{i}", answer, weight)
    assert t.votes()[0].answer == "7"
    with pytest.raises(ValueError, match="weight"):
        t.add("x", "1", 0.0)


@pytest.mark.parametrize("leader, runner_up", [(0, 0), (1, 0), (3, 1), (4, 0), (5, 3), (10, 7)])
def test_beta_rule_matches_the_beta_posterior(leader, runner_up):
    # The reference integrates the posterior density of p1 / (p1 + p2), Beta(leader + 1, runner_up + 1), over
    # (1/2, 1) exactly in sympy: an independent route to the binomial sum the library uses.
    x = sympy.Symbol("x")
    density = x**leader * (1 - x) ** runner_up
    expected = sympy.integrate(density, (x, sympy.Rational(1, 2), 1)) / sympy.integrate(density, (x, 0, 1))
    assert beta_win_probability(leader, runner_up) == pytest.approx(float(expected), abs=1e-12)


def test_unbeatable_stops_exactly_when_the_runner_up_cannot_catch_up():
    t = tally_of("4", "4", "4", "9")
    assert not t.settled("unbeatable", remaining=2)  # 3 vs 1 + 2: a tie is still possible
    assert t.settled("unbeatable", remaining=1)
    # brute force: for every way the remaining votes could go, the winner never changes once settled
    for remaining in range(4):
        if t.settled("unbeatable", remaining=remaining):
            for rest in itertools.product(["4", "9", "2"], repeat=remaining):
                assert tally_of("4", "4", "4", "9", *rest).votes()[0].answer == "4"


def test_beta_and_first_m_rules():
    assert not tally_of("4", "4", "4").settled("beta", remaining=10)
    assert tally_of("4", "4", "4", "4").settled("beta", remaining=10)
    assert not tally_of("4", "4", "4", "4", "5", "5").settled("beta", remaining=10)
    assert tally_of(None, "4", "5").settled("first_m", remaining=5, m=3)
    assert not tally_of("4", "4").settled("first_m", remaining=5, m=3)
    assert not tally_of("4", "4").settled("none", remaining=1) and tally_of().settled("none", remaining=0)

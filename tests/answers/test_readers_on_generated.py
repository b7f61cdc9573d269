"""Every reader of a problem's own value agrees with the training curriculum's exact answers on thousands of
generated problems in its many phrasings, and every claim of the curriculum's worked solutions is judged true:
a reader or a step rule that misreads a form the model was taught would turn right samples into false ones."""

from __future__ import annotations

from m1reason.answers import check_steps, stated_value
from m1reason.train.data import heldout_problems


def test_the_readers_agree_with_the_curriculum_on_every_problem_they_read():
    problems = heldout_problems(2000)
    read = [(p, found) for p in problems if (found := stated_value(p.problem)) is not None]
    assert len(read) > 800  # most of the curriculum's arithmetic states its own value
    wrong = [(p.problem, p.answer, found.worked) for p, found in read if not found.holds_for(p.answer)]
    assert not wrong, wrong[:5]


def test_no_claim_of_a_worked_solution_is_judged_false():
    false = [(p.problem, [c.text for c in report.false_claims]) for p in heldout_problems(1000)
             if not (report := check_steps(p.steps if isinstance(p.steps, str) else "\n".join(p.steps))).ok]
    assert not false, false[:5]

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


def test_no_reader_raises_on_text_over_several_lines():
    """A problem over several lines (a LaTeX display, a pasted exercise) is read or not, never an exception:
    every strategy reads each problem it is given."""
    from m1reason.answers import equation_solution, expression_value, shape_measure, system_value, unit_conversion

    texts = ["Compute\n2 + 2.", "What do you get if you add 3\nand 4?", "Let $x$ be real.\n\n$$x^2 = 4$$\nFind x.",
             "Solve for x:\n3x + 7 = 22.", "If a + b = 9\nand a - b = 3, what is a?",
             "How many\nminutes are in 2 hours?", "A rectangle is\n12 by 7. What is its area?", "\n", "\r\n\t",
             "$$\n\\begin{cases} x + y = 1 \\\\ x - y = 0 \\end{cases}\n$$"]
    for text in texts:
        for read in (expression_value, equation_solution, system_value, unit_conversion, shape_measure, stated_value):
            read(text)
    assert stated_value("Compute\n2 + 2.").value == 4
    assert stated_value("Solve for x:\n3x + 7 = 22.").value == 5  # every reader folds line breaks alike

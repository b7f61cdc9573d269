"""What a false arithmetic step (or a false answer) does to a vote: each finished sample's check, who votes, and the
caveat.

A sample whose reasoning writes a false number-only claim ("12 * 9 = 128", judged by
``m1reason.answers.check_steps``) does not vote, unless no sample without one reached an answer: then they all
vote, and the answer carries a caveat and at most ``CAVEAT_CONFIDENCE``. A sample whose answer was checked against
the exact value of the problem's expression and is false never votes. This module owns these rules; the runner
owns when they are applied, and the tally.
"""

from __future__ import annotations

from m1reason.answers import ExpressionValue, check_steps
from strategies.solution import CAVEAT_CONFIDENCE, SampleRecord, Vote, false_steps_reason

__all__ = ["caveat", "checked", "excluded", "readmitted", "repair", "steps_of"]


def steps_of(text: str, finish_reason: str) -> dict:
    """A sample's arithmetic check as SampleRecord fields: the claims judged and the false ones, described.
    A cancelled sample is not checked: it does not vote, and the vote it was cancelled for is waiting.

    >>> steps_of("so 12 * 9 = 128, and 7 + 8 = 15", "stop")
    {'steps_checked': 2, 'false_steps': ['line 1: 12 * 9 = 128 is false (12 * 9 = 108)']}
    >>> steps_of("so 12 * 9 = 128", "cancelled")
    {}
    """
    if finish_reason == "cancelled":
        return {}
    report = check_steps(text)
    return {"steps_checked": report.checked, "false_steps": [claim.describe() for claim in report.false_claims]}


def repair(text: str) -> tuple[str, str] | None:
    """``text`` cut after its first false claim's "=" with the claim's exact value written in, and what was
    corrected; None when every claim holds, or the first false one divides by zero or cannot be found in its line.
    A strategy with ``repair_steps`` continues the sample from the repaired text.

    >>> repair("tens: 4 + 2 = 6\\nso 6 * 4 = 64, and then\\n64 / 2 = 32")
    ('tens: 4 + 2 = 6\\nso 6 * 4 = 24', 'line 2: 6 * 4 = 64 corrected to 24')
    >>> repair("so 6 * 4 = 24") is None
    True
    """
    false = next((claim for claim in check_steps(text).claims if not claim.ok), None)
    if false is None or false.expected == "undefined":
        return None
    lines = text.split("\n")
    line = lines[false.line - 1]
    at = line.find(false.text)
    equals = line.rfind("=", 0, at + len(false.text)) if at >= 0 else -1
    if equals < 0:
        return None
    fixed = "\n".join(lines[:false.line - 1] + [f"{line[:equals + 1]} {false.expected}"])
    return fixed, f"line {false.line}: {false.text} corrected to {false.expected}"


def checked(record: SampleRecord, expected: ExpressionValue | None) -> SampleRecord:
    """The record with its answer checked against the problem's exact value (``expected``; None: nothing to check
    against): ``answer_checked`` set and, when false, described in ``false_steps``.

    >>> from m1reason.answers import expression_value
    >>> record = SampleRecord(sample_id="r/0", answer="13", text="... 13", num_tokens=9, finish_reason="stop")
    >>> wrong = checked(record, expression_value("What is 3 + 50 * 2?"))
    >>> wrong.answer_checked, wrong.false_steps, excluded(wrong).counted
    (False, ['the answer 13 is false (3 + 50 * 2 = 103)'], False)
    """
    if expected is None or record.answer is None or record.finish_reason == "cancelled":
        return record
    if expected.holds_for(record.answer):
        return record.model_copy(update={"answer_checked": True})
    return record.model_copy(update={"answer_checked": False,
                                     "false_steps": [*record.false_steps, expected.describe_false(record.answer)]})


def excluded(record: SampleRecord) -> SampleRecord:
    """The record as it votes: not at all when its arithmetic has a false step.

    >>> record = SampleRecord(sample_id="r/0", answer="128", text="12 * 9 = 128", num_tokens=12,
    ...                       finish_reason="stop", **steps_of("12 * 9 = 128", "stop"))
    >>> excluded(record).counted, excluded(record).false_steps
    (False, ['line 1: 12 * 9 = 128 is false (12 * 9 = 108)'])
    """
    return record.model_copy(update={"counted": False}) if record.counted and record.false_steps else record


def readmitted(records: dict[str, SampleRecord]) -> dict[str, SampleRecord] | None:
    """When no sample without a false step has an answer but one with a false step has, all of those vote after
    all: the records with them counted again (in the same order), except those whose answer itself was checked
    and is false. None when nothing changes.

    >>> wrong = SampleRecord(sample_id="r/0", answer="5", text="2 + 2 = 5", num_tokens=9, finish_reason="stop",
    ...                      counted=False, false_steps=["line 1: 2 + 2 = 5 is false (2 + 2 = 4)"])
    >>> silent = SampleRecord(sample_id="r/1", answer=None, text="hmm", num_tokens=3, finish_reason="length")
    >>> [r.counted for r in readmitted({"r/0": wrong, "r/1": silent}).values()]
    [True, True]
    >>> right = silent.model_copy(update={"answer": "4"})
    >>> readmitted({"r/0": wrong, "r/1": right}) is None
    True
    """
    if any(r.counted and r.answer is not None for r in records.values()):
        return None
    doubted = {key for key, r in records.items() if r.false_steps and not r.counted and r.finish_reason != "cancelled"
               and r.answer_checked is not False}  # an answer known to be false never votes
    if not any(records[key].answer is not None for key in doubted):
        return None
    return {key: r.model_copy(update={"counted": True}) if key in doubted else r for key, r in records.items()}


def caveat(winner: Vote, records: dict[str, SampleRecord], confidence: float) -> tuple[str, float]:
    """The ``status_reason`` and confidence of an answer whose voters all wrote a false step: the first false
    step of the winning cluster, and the vote share capped at ``CAVEAT_CONFIDENCE``.

    >>> records = {"r/0": SampleRecord(sample_id="r/0", answer="5", text="2 + 2 = 5", num_tokens=9,
    ...                                finish_reason="stop", **steps_of("2 + 2 = 5", "stop"))}
    >>> caveat(Vote(answer="5", count=1, weight=1.0, sample_ids=["r/0"]), records, 1.0)
    ("every sample's arithmetic has a false step, e.g. line 1: 2 + 2 = 5 is false (2 + 2 = 4)", 0.5)
    """
    example = next(step for key in winner.sample_ids for step in records[key].false_steps)
    return false_steps_reason(example), min(confidence, CAVEAT_CONFIDENCE)

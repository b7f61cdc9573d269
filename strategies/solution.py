"""What a strategy returns: a ``Solution`` (pydantic, frozen, JSON in and out) and the records inside it.

A Solution carries the answer, its vote share, the tally, every sample's answer and text, the plan the strategy
followed and why, the timings (cold start kept apart from the budget) and what reproduces the run, and a status
that says, when there is no answer, why not. It knows nothing of how the samples were drawn.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["CAVEAT_CONFIDENCE", "CHECKED_CONFIDENCE", "Plan", "SampleRecord", "Solution", "Status", "Vote",
           "false_answers_reason", "false_steps_reason", "no_turn_reason"]

# "answered": the vote has a winner. "no_answer": samples ran, none reached an answer (or the solver gave up
# waiting for the vote). "no_turn": the budget ran out before the request got a turn (a queue ahead of it).
# "out_of_scope": the problem is outside what the generator's model was trained on (its ``scope``), so no sample
# was drawn: a small model asked outside its training answers anyway, confidently wrong.
Status = Literal["answered", "no_answer", "no_turn", "out_of_scope"]

NO_ANSWER = "no sample reached an answer"

# The most confidence an answer with a caveat (an "answered" status_reason) may show. A vote share measures how
# much samples agree, not whether they are right; when every sample that answered wrote false arithmetic on the
# way, their agreement is weak evidence (they may share one slip), so the answer is given but shown as no better
# than a coin flip: a reader or an app that takes more than half the vote as "likely right" does not take it so.
CAVEAT_CONFIDENCE = 0.5

# The confidence of an answer checked against the exact value the problem states (and found equal): not 1,
# because the check is only as good as the reading of the problem (``m1reason.answers.stated_value``).
CHECKED_CONFIDENCE = 0.99


def no_turn_reason(waited_s: float) -> str:
    """The ``status_reason`` of a request whose budget ran out while it waited for a turn.

    >>> no_turn_reason(2.84)
    'no answer within the budget: waited 2.8 s for a turn'
    """
    return f"no answer within the budget: waited {waited_s:.1f} s for a turn"


def false_answers_reason(answers: list[str], value: str) -> str:
    """The ``status_reason`` of a run whose every answer was checked against the value the problem states and was false.

    >>> false_answers_reason(["13", "53"], "3 + 50 * 2 = 103")
    "no sample's answer is right: every answer given (13, 53) is false (3 + 50 * 2 = 103)"
    """
    return f"no sample's answer is right: every answer given ({', '.join(answers)}) is false ({value})"


def false_steps_reason(example: str) -> str:
    """The ``status_reason`` (a caveat) of an answer whose every answering sample wrote a false arithmetic step.

    >>> false_steps_reason("line 3: 12 * 9 = 128 is false (12 * 9 = 108)")
    "every sample's arithmetic has a false step, e.g. line 3: 12 * 9 = 128 is false (12 * 9 = 108)"
    """
    return f"every sample's arithmetic has a false step, e.g. {example}"


class SampleRecord(BaseModel):
    """One sample as the vote saw it: its extracted answer (None when it has none), text, length and ending.

    ``forced`` lists the text the strategy appended (budget forcing, "Wait"); ``confidence`` is the generator's
    lowest-window confidence, if asked. ``steps_checked`` counts the arithmetic claims of its text that
    ``m1reason.answers.check_steps`` judged and ``false_steps`` describes the false ones ("line 3: 12 * 9 = 128 is
    false (12 * 9 = 108)"); a cancelled sample is not checked. ``repaired`` lists the false steps the strategy
    corrected and continued from (``repair_steps``: "line 2: 6 * 4 = 64 corrected to 24"); ``text`` then holds the
    corrected values. ``answer_checked`` says whether the answer is the exact value of the problem's expression,
    when the problem only asks for one (``StrategySettings.check_answers``); None when there was nothing to check
    it against. A false answer is described in ``false_steps`` too ("the answer 13 is false (3 + 50 * 2 = 103)").
    ``counted`` is False when the sample did not vote: cancelled, left out by confidence filtering, with a false
    answer, or with a false step (unless no sample without one answered).

    >>> SampleRecord(sample_id="r/0", answer="4", text="... \\\\boxed{4}", num_tokens=12, finish_reason="stop").counted
    True
    """

    model_config = ConfigDict(frozen=True)

    sample_id: str
    answer: str | None
    text: str
    num_tokens: int
    finish_reason: str
    confidence: float | None = None
    forced: list[str] = Field(default_factory=list)
    counted: bool = True
    steps_checked: int = Field(default=0, ge=0)
    false_steps: list[str] = Field(default_factory=list)
    repaired: list[str] = Field(default_factory=list)
    answer_checked: bool | None = None


class Vote(BaseModel):
    """One cluster of equivalent answers: a representative string, how many samples gave it, their weight.

    >>> Vote(answer="1/2", count=3, weight=3.0, sample_ids=["r/0", "r/2", "r/5"]).count
    3
    """

    model_config = ConfigDict(frozen=True)

    answer: str
    count: int
    weight: float
    sample_ids: list[str]


class Plan(BaseModel):
    """What the strategy decided to run, and the reason in words.

    >>> Plan(strategy="SelfConsistency", n=8, max_new_tokens=4096, reason="fixed n").n
    8
    """

    model_config = ConfigDict(frozen=True)

    strategy: str
    n: int
    max_new_tokens: int
    reason: str
    early_stop: str = "none"
    budget_s: float | None = None
    predicted_s: float | None = None


class Solution(BaseModel):
    """The answer to one problem and everything that explains it.

    ``status`` is "answered" when there is an answer, else why there is none: "no_answer" (samples ran and none
    reached one), "no_turn" (the budget ran out while the request waited for a turn) or "out_of_scope" (the problem
    is outside the generator's ``scope``, so nothing ran: its plan has n=0, ``stopped`` is "not run");
    ``status_reason`` says it in words, e.g. "no answer within the budget: waited 2.8 s for a turn", "out of the
    embedded model's scope: calculus ('integral')". A solution without an answer is never
    "answered"; one made without a status gets "no_answer". An answered solution's ``status_reason`` is None, or a
    caveat that the answer is not to be trusted: every sample that answered wrote a false arithmetic step
    (``false_steps_reason``); such an answer's ``confidence`` is at most ``CAVEAT_CONFIDENCE`` (0.5).
    ``vote_share`` is the winner's share of the (weighted) vote among the samples that voted (``counted``: not
    cancelled, not filtered out, no false arithmetic step). ``confidence`` is the chance that the answer is right
    as the generator's ``confidence_map`` reads that share (``m1reason.confidence_map``: fit on hand-written
    problems), else the share itself; ``confidence_basis`` says which, and what it rests on; 0 when no sample gave
    an answer. ``votes`` is
    sorted best first. ``stopped`` says why sampling ended ("finished", "settled", "deadline", "forced": answers
    were forced out at the deadline; hedged, a sample that then finished by itself still voted its own answer,
    and its record has no ``forced`` text).
    ``timings`` holds ``total_s`` (the budgeted part, from the call with a warm generator), ``first_token_s`` (when
    the first token of any sample came: under load, how long the request waited for its turn), ``first_sample_s``
    (when the first sample ended), and cold-start costs under their own keys (``calibration_s``, ``load_s``), never
    mixed into ``total_s``.

    >>> sol = Solution(problem="1+1?", answer="2", confidence=1.0, plan=Plan(strategy="LongCoT", n=1,
    ...                max_new_tokens=64, reason="one sample"))
    >>> Solution.model_validate_json(sol.model_dump_json()) == sol
    True
    >>> empty = Solution(problem="1+1?", answer=None, confidence=0, plan=sol.plan)
    >>> empty.status, empty.status_reason
    ('no_answer', 'no sample reached an answer')
    """

    model_config = ConfigDict(frozen=True)

    problem: str
    answer: str | None
    status: Status = "answered"
    status_reason: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    vote_share: float | None = Field(default=None, ge=0.0, le=1.0)
    confidence_basis: str | None = None
    votes: list[Vote] = Field(default_factory=list)
    samples: list[SampleRecord] = Field(default_factory=list)
    plan: Plan
    stopped: str = "finished"
    timings: dict[str, float] = Field(default_factory=dict)
    num_tokens: int = 0
    tokens_per_s: float = 0.0
    reproducibility: dict = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_status(cls, data: Any) -> Any:
        """No status given: "answered" with an answer, else "no_answer" (never success without one)."""
        if isinstance(data, dict) and data.get("answer") is None and "status" not in data:
            data = {"status": "no_answer", "status_reason": NO_ANSWER, **data}
        return data

    @model_validator(mode="after")
    def _status_matches_answer(self) -> Solution:
        if (self.answer is not None) != (self.status == "answered"):
            raise ValueError(f"status {self.status!r} does not fit answer {self.answer!r}: a solution is "
                             f"'answered' exactly when it has an answer")
        if self.status != "answered" and not self.status_reason:
            raise ValueError(f"status {self.status!r} needs a status_reason saying why there is no answer")
        if self.status == "answered" and self.status_reason and self.confidence > CAVEAT_CONFIDENCE:
            raise ValueError(f"an answer with a caveat ({self.status_reason!r}) is never confident: confidence "
                             f"{self.confidence} is over {CAVEAT_CONFIDENCE}")
        return self

    def __repr__(self) -> str:
        """One line: the problem (cut), the answer and its vote share or why there is none, the samples, the plan
        and the time. The whole record (every sample) is in ``model_dump()`` and the JSON.

        >>> plan = Plan(strategy="BudgetAware", n=8, max_new_tokens=160, reason="r")
        >>> Solution(problem="What is 48 + 27?", answer="75", confidence=0.75, plan=plan, stopped="settled",
        ...          timings={"total_s": 0.812})
        <Solution 'What is 48 + 27?': answer '75' (vote 75%), 0 samples, BudgetAware n=8 x 160 tokens, 0.81 s, settled>
        >>> Solution(problem="x" * 60, answer=None, confidence=0, plan=plan)  # doctest: +ELLIPSIS
        <Solution 'xxx...x…': no answer (no sample reached an answer), 0 samples, BudgetAware ... tokens, finished>
        """
        problem = self.problem if len(self.problem) <= 40 else self.problem[:39] + "\u2026"
        caveat = f"; {self.status_reason}" if self.status_reason else ""
        share = self.confidence if self.vote_share is None else self.vote_share
        sure = "" if share == self.confidence else f", confidence {self.confidence:.0%}"
        outcome = (f"answer {self.answer!r} (vote {share:.0%}{sure}{caveat})" if self.answer is not None
                   else f"no answer ({self.status_reason})")
        total = self.timings.get("total_s")
        timing = f", {total:.2f} s" if total is not None else ""
        return (f"<Solution {problem!r}: {outcome}, {len(self.samples)} samples, {self.plan.strategy} "
                f"n={self.plan.n} x {self.plan.max_new_tokens} tokens{timing}, {self.stopped}>")

    @property
    def headline(self) -> str:
        """One line for a person: the answer (and its caveat, if any), or that there is none and why (for a problem
        out of scope, the reason alone: it says so).

        >>> plan = Plan(strategy="x", n=1, max_new_tokens=1, reason="r")
        >>> Solution(problem="p", answer="4", confidence=1.0, plan=plan).headline
        'answer: 4'
        >>> Solution(problem="p", answer=None, confidence=0, plan=plan).headline
        'no answer: no sample reached an answer'
        >>> doubted = Solution(problem="p", answer="5", confidence=0.5, plan=plan,
        ...                    status_reason=false_steps_reason("line 1: 2 + 2 = 5 is false (2 + 2 = 4)"))
        >>> doubted.headline  # doctest: +ELLIPSIS
        "answer: 5 (not trusted: every sample's arithmetic has a false step, e.g. line 1: 2 + 2 = 5 is false ...)"
        >>> Solution(problem="p", answer=None, status="out_of_scope", confidence=0, plan=plan,
        ...          status_reason="out of the embedded model's scope: calculus ('integral')").headline
        "out of the embedded model's scope: calculus ('integral')"
        """
        if self.status == "out_of_scope":
            return self.status_reason
        if self.answer is None:
            return f"no answer: {self.status_reason}"
        return f"answer: {self.answer}" + (f" (not trusted: {self.status_reason})" if self.status_reason else "")

    @property
    def winner(self) -> SampleRecord | None:
        """The sample whose text supports the answer best: the shortest counted sample of the winning cluster.

        >>> Solution(problem="p", answer=None, confidence=0, plan=Plan(strategy="x", n=1, max_new_tokens=1,
        ...          reason="r")).winner is None
        True
        """
        if not self.votes:
            return None
        ids = set(self.votes[0].sample_ids)
        members = [s for s in self.samples if s.sample_id in ids]
        return min(members, key=lambda s: s.num_tokens) if members else None

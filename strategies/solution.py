"""What a strategy returns: a ``Solution`` (pydantic, frozen, JSON in and out) and the records inside it.

A Solution carries the answer, its vote share, the tally, every sample's answer and text, the plan the strategy
followed and why, the timings (cold start kept apart from the budget) and what reproduces the run. It knows
nothing of how the samples were drawn.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Plan", "SampleRecord", "Solution", "Vote"]


class SampleRecord(BaseModel):
    """One sample as the vote saw it: its extracted answer (None when it has none), text, length and ending.

    ``forced`` lists the text the strategy appended (budget forcing, "Wait"); ``counted`` is False when confidence
    filtering left the sample out of the vote; ``confidence`` is the generator's lowest-window confidence, if asked.

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

    ``confidence`` is the winner's share of the (weighted) vote, 0 when no sample gave an answer. ``votes`` is
    sorted best first. ``stopped`` says why sampling ended ("finished", "settled", "deadline", "forced": answers
    were forced out at the deadline; hedged, a sample that then finished by itself still voted its own answer,
    and its record has no ``forced`` text).
    ``timings`` holds ``total_s`` (the budgeted part, from the call with a warm generator), ``first_sample_s``, and
    cold-start costs under their own keys (``calibration_s``, ``load_s``), never mixed into ``total_s``.

    >>> sol = Solution(problem="1+1?", answer="2", confidence=1.0, plan=Plan(strategy="LongCoT", n=1,
    ...                max_new_tokens=64, reason="one sample"))
    >>> Solution.model_validate_json(sol.model_dump_json()) == sol
    True
    """

    model_config = ConfigDict(frozen=True)

    problem: str
    answer: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    votes: list[Vote] = Field(default_factory=list)
    samples: list[SampleRecord] = Field(default_factory=list)
    plan: Plan
    stopped: str = "finished"
    timings: dict[str, float] = Field(default_factory=dict)
    num_tokens: int = 0
    tokens_per_s: float = 0.0
    reproducibility: dict = Field(default_factory=dict)

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

"""The settings every strategy shares: sampling, answer extraction, budget forcing, confidence use.

Strategies are pydantic settings objects (validated, frozen, JSON in and out); this base holds the fields they
have in common so the sampling loop can read them from any of them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from strategies.voting import EarlyStop

__all__ = ["StrategySettings"]

ANSWER_PREFIX = "\n\nThe final answer is $\\boxed{"


class StrategySettings(BaseModel):
    """Shared fields. ``temperature``/``top_p``: the paper's sampling (0.7, 1.0). ``seed``: None draws one and
    records it in the Solution. ``strict``: extract answers as M1's grader (no ``</think>``, no answer);
    ``lenient``: with neither a box nor an answer phrase, take the last mathematical statement (never with
    ``strict``; see docs/answers.md).
    ``force_answers``: budget forcing (s1) when a sample runs out of length or time inside its thinking:
    ``"</think>"`` (if missing) and ``answer_prefix`` are appended to the live sample, which then gets
    ``force_tokens`` more tokens. ``min_tokens``/``max_waits``/``wait_text``: when a sample stops before
    ``min_tokens``, ``wait_text`` is appended (at most ``max_waits`` times). ``weighting="confidence"`` weighs
    votes by the generator's DeepConf lowest-window confidence; ``keep_top`` keeps only that fraction of the
    most confident samples in the final vote. ``repair_steps``: a finished sample whose written arithmetic has a
    false step is cut after that claim's "=", the exact value written in, and continued from there (a new request
    of the prompt and the repaired text), at most this many times a sample and only while the budget lasts; its
    record lists the corrections (``SampleRecord.repaired``). 0: false steps only keep a sample out of the vote.
    ``check_answers``: when the problem states its own check (``m1reason.answers.stated_value``: it only asks for
    one expression's value, "What is 3 + 4 × 5?", to solve one linear equation or a system of two, to convert a
    unit, or for a figure's measure from its dimensions), each answer is checked against that exact value; a
    wrong one never votes, and a right winner's confidence says it was checked (``Solution.confidence_basis``).

    >>> StrategySettings().temperature, StrategySettings(keep_top=0.5).keep_top
    (0.7, 0.5)
    >>> StrategySettings(strict=True, lenient=True)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for StrategySettings
    ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float = Field(default=0.7, ge=0.0, le=100.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    max_new_tokens: int = Field(default=8192, ge=1)
    strict: bool = False
    lenient: bool = False
    force_answers: bool = True
    answer_prefix: str = Field(default=ANSWER_PREFIX, min_length=1)
    force_tokens: int = Field(default=32, ge=1)
    min_tokens: int = Field(default=0, ge=0)
    max_waits: int = Field(default=1, ge=0)
    wait_text: str = Field(default="\nWait", min_length=1)
    weighting: Literal["none", "confidence"] = "none"
    keep_top: float = Field(default=1.0, gt=0.0, le=1.0)
    early_stop: EarlyStop = "none"
    m: int = Field(default=3, ge=1)
    beta_threshold: float = Field(default=0.95, gt=0.5, lt=1.0)
    repair_steps: int = Field(default=0, ge=0, le=8)
    check_answers: bool = True

    @model_validator(mode="after")
    def _one_extraction_mode(self) -> StrategySettings:
        if self.strict and self.lenient:
            raise ValueError("strict and lenient extraction exclude each other: choose one")
        return self

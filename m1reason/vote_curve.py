"""How much a vote of k samples is worth for one model: majority-vote accuracy by sample count, measured.

More samples help only where samples disagree and the right answer is the most common one; a small model whose
samples share one wrong path gains nothing from a vote, and a planner that spends the time on samples instead of
length loses accuracy. A ``VoteCurve`` records maj@k on hand-written problems the model never trained on (for the
embedded model benchmarks/data/natural_dev.jsonl; ``python -m benchmarks.vote_curve`` measures it), each with its
95% interval and its paired gain over one sample, and ``useful_samples``: the most samples worth drawing. Like the
confidence map it is kept beside the weights (``vote_curve.json``) and names their digest: a curve of other weights
is not used. It does not plan anything: BudgetAware reads ``useful_samples`` (m1reason.defaults passes it).

The curve should describe the vote the strategies hold: SelfConsistency sets aside samples whose written arithmetic
has a false step (``checked_voters``), so ``fit`` takes each sample's step check and ``checked`` says it was used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from m1reason.confidence_map import read_tied_to_weights
from m1reason.stats import mean_ci, paired_gain

__all__ = ["VOTE_CURVE_FILE", "VoteCurve", "VotePoint", "checked_voters", "vote_accuracy"]

log = logging.getLogger(__name__)
VOTE_CURVE_FILE = "vote_curve.json"
COUNTS = (1, 2, 4, 8, 16)

Grouping = Callable[[Sequence[str]], list[list[int]]]


class VotePoint(BaseModel):
    """One sample count on a vote curve: maj@``samples`` (``accuracy``, a fraction) and its 95% half-width, and
    the paired gain over one sample (``gain``, same problems) with its 95% half-width.

    >>> p = VotePoint(samples=8, accuracy=0.62, accuracy_ci=0.05, gain=0.04, gain_ci=0.02)
    >>> p.samples, p.gain - p.gain_ci > 0
    (8, True)
    """

    model_config = ConfigDict(frozen=True)

    samples: int = Field(ge=1)
    accuracy: float = Field(ge=0.0, le=1.0)
    accuracy_ci: float = Field(ge=0.0)
    gain: float = Field(ge=-1.0, le=1.0)
    gain_ci: float = Field(ge=0.0)


class VoteCurve(BaseModel):
    """A model's majority-vote accuracy by sample count (see the module docstring).

    ``fit`` scores a vote of k for every count k over each problem's samples taken k at a time in the order drawn
    (the first k, the next k, ...): the samples are independent draws, so each block is one k-vote and their mean
    estimates its accuracy with less noise than the first k alone (with 16 samples, k = 1 is pass@1 over all 16).
    Equivalent answers are one vote (``group``: ``m1reason.answers.group_equivalent`` or a function with its
    contract), samples without an answer do not vote, a vote without any answer is wrong, and a tie goes to the
    cluster seen first. With ``steps_ok`` (each sample's arithmetic check) only a block's ``checked_voters`` vote,
    as in SelfConsistency.
    ``useful_samples`` is the smallest count that no larger count beats by more than the paired 95% interval of
    their difference.

    Where the vote pays (half the samples are wrong, each in its own way; a tie of two goes to the first seen):

    >>> from m1reason.answers import group_equivalent
    >>> answers = [["5", "2", "7", "2.0"]] * 10 + [["2", "2", "2", "2"]] * 10
    >>> right = [[a in ("2", "2.0") for a in row] for row in answers]
    >>> pays = VoteCurve.fit(answers, right, group=group_equivalent, counts=(1, 2, 4), source="toy",
    ...                      weights_sha256="0" * 64)
    >>> [(p.samples, p.accuracy, round(p.gain, 2)) for p in pays.points], pays.useful_samples
    ([(1, 0.75, 0.0), (2, 0.5, -0.25), (4, 1.0, 0.25)], 4)

    Where the samples share their errors (they agree, right or wrong), the vote never beats one sample:

    >>> answers = [["5", "5", "5", "5"]] * 8 + [["2", "2", "2.0", "2"]] * 12
    >>> right = [[a in ("2", "2.0") for a in row] for row in answers]
    >>> flat = VoteCurve.fit(answers, right, group=group_equivalent, counts=(1, 2, 4), source="toy",
    ...                      weights_sha256="0" * 64)
    >>> [p.accuracy for p in flat.points], flat.useful_samples
    ([0.6, 0.6, 0.6], 1)
    >>> print(flat.describe())  # doctest: +NORMALIZE_WHITESPACE
    votes of 1, 2, 4 samples on toy: maj@4 0.600 ± 0.220 (+0.000 ± 0.000 over one sample);
    more than 1 did not measurably help

    Where the wrong samples are the ones with a false step, the checked vote pays from two samples on:

    >>> answers = [["5", "2", "5", "2"]] * 20
    >>> right, ok = [[a == "2" for a in row] for row in answers], [[a == "2" for a in row] for row in answers]
    >>> checked = VoteCurve.fit(answers, right, group=group_equivalent, counts=(1, 2, 4), source="toy",
    ...                         weights_sha256="0" * 64, steps_ok=ok)
    >>> [p.accuracy for p in checked.points], checked.useful_samples, checked.checked
    ([0.5, 1.0, 1.0], 2, True)
    """

    model_config = ConfigDict(frozen=True)

    source: str = Field(min_length=1)
    weights_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    temperature: float | None = Field(default=None, ge=0.0)
    checked: bool = False  # the votes set aside samples with a false arithmetic step (``checked_voters``)
    problems: int = Field(ge=1)
    points: tuple[VotePoint, ...] = Field(min_length=1)
    useful_samples: int = Field(ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> VoteCurve:
        counts = [p.samples for p in self.points]
        if counts[0] != 1 or counts != sorted(set(counts)):
            raise ValueError(f"points must start at 1 sample and rise (got counts {counts})")
        if self.useful_samples not in counts:
            raise ValueError(f"useful_samples {self.useful_samples} is not a measured count {counts}")
        return self

    @classmethod
    def fit(cls, answers: Sequence[Sequence[str | None]], correct: Sequence[Sequence[bool]], *, group: Grouping,
            counts: Sequence[int] = COUNTS, source: str, weights_sha256: str,
            temperature: float | None = None,
            steps_ok: Sequence[Sequence[bool]] | None = None) -> VoteCurve:
        """Fit on each problem's samples in the order drawn: their extracted answers (None: no answer), whether
        each was right and, optionally, whether its arithmetic steps hold. Every problem needs at least
        ``max(counts)`` samples; ``counts`` start at 1 and rise."""
        counts = tuple(counts)
        if not answers or len(answers) != len(correct):
            raise ValueError(f"need as many problems of answers as of verdicts, at least one "
                             f"(got {len(answers)}, {len(correct)})")
        if not counts or counts[0] != 1 or list(counts) != sorted(set(counts)):
            raise ValueError(f"counts must start at 1 and rise, got {counts}")
        fewest = min(min(len(a), len(c)) for a, c in zip(answers, correct))
        if fewest < counts[-1]:
            raise ValueError(f"a vote of {counts[-1]} needs {counts[-1]} samples per problem; one problem has {fewest}")
        if steps_ok is not None and len(steps_ok) != len(answers):
            raise ValueError(f"need a step check per problem: {len(steps_ok)} against {len(answers)} problems")
        checks = steps_ok if steps_ok is not None else [None] * len(answers)
        votes = {k: [vote_accuracy(a, c, k, group=group, steps_ok=s) for a, c, s in zip(answers, correct, checks)]
                 for k in counts}
        points = []
        for k in counts:
            accuracy, accuracy_ci = mean_ci(votes[k])
            gain, gain_ci = paired_gain(votes[k], votes[1])
            points.append(VotePoint(samples=k, accuracy=accuracy, accuracy_ci=accuracy_ci, gain=gain, gain_ci=gain_ci))
        useful = next(k for k in counts if not any(_beats(votes[j], votes[k]) for j in counts if j > k))
        return cls(source=source, weights_sha256=weights_sha256, temperature=temperature, problems=len(answers),
                   points=tuple(points), useful_samples=useful, checked=steps_ok is not None)

    def describe(self) -> str:
        """The curve in one line of a user's words: the largest vote's accuracy and gain, and the useful count."""
        top = self.points[-1]
        counts = ", ".join(str(p.samples) for p in self.points)
        return (f"votes of {counts} samples on {self.source}: maj@{top.samples} "
                f"{top.accuracy:.3f} ± {top.accuracy_ci:.3f} ({top.gain:+.3f} ± {top.gain_ci:.3f} over one sample); "
                f"more than {self.useful_samples} did not measurably help")

    def save(self, folder: str | Path) -> Path:
        """Write ``<folder>/vote_curve.json`` and return its path.

        >>> import tempfile
        >>> c = VoteCurve(source="toy", weights_sha256="0" * 64, problems=3, useful_samples=1,
        ...               points=(VotePoint(samples=1, accuracy=1.0, accuracy_ci=0.0, gain=0.0, gain_ci=0.0),))
        >>> c.save(tempfile.mkdtemp()).name
        'vote_curve.json'
        """
        path = Path(folder) / VOTE_CURVE_FILE
        path.write_text(self.model_dump_json(indent=1) + "\n")
        return path

    @classmethod
    def for_model(cls, folder: str | Path) -> VoteCurve | None:
        """The curve kept in a model folder, if there is one and it was measured on these weights; else None (a
        curve of other weights is set aside with a warning: it describes another model). A file that is not a
        vote curve is a ConfigError naming it.

        >>> VoteCurve.for_model("no/such/folder") is None
        True
        """
        return read_tied_to_weights(cls, folder, VOTE_CURVE_FILE, remedy="python -m benchmarks.vote_curve",
                                    ignored="every sample is assumed to help")


def checked_voters(answers: Sequence[str | None], steps_ok: Sequence[bool]) -> list[bool]:
    """Who votes when the step checker judges: the samples whose arithmetic holds, or all of them when none of
    those has an answer (the rule of strategies/_false_steps.py, on plain lists).

    >>> checked_voters(["4", "5"], [True, False]), checked_voters([None, "5"], [True, False])
    ([True, False], [True, True])
    """
    if len(answers) != len(steps_ok):
        raise ValueError(f"need a step check per sample: {len(steps_ok)} against {len(answers)} answers")
    if any(ok and a is not None for a, ok in zip(answers, steps_ok)):
        return [bool(ok) for ok in steps_ok]
    return [True] * len(answers)


def vote_accuracy(answers: Sequence[str | None], correct: Sequence[bool], k: int, *, group: Grouping,
                  steps_ok: Sequence[bool] | None = None) -> float:
    """One problem's k-vote accuracy: the mean over its consecutive blocks of k samples (a last, shorter block is
    left out), each block voting as ``VoteCurve.fit`` describes (with ``steps_ok``, only its ``checked_voters``).

    >>> from m1reason.answers import group_equivalent
    >>> answers, right = ["5", "4", "5", "4"], [False, True, False, True]
    >>> [vote_accuracy(answers, right, k, group=group_equivalent) for k in (1, 2)]  # 5|4 and 5|4: ties to the 5s
    [0.5, 0.0]
    >>> vote_accuracy(answers, right, 2, group=group_equivalent, steps_ok=right)
    1.0
    """
    checks = [True] * len(answers) if steps_ok is None else steps_ok
    blocks = [slice(start, start + k) for start in range(0, min(len(answers), len(correct)) - k + 1, k)]
    votes = [_vote(answers[b], correct[b], group, checked_voters(answers[b], checks[b])) for b in blocks]
    return sum(votes) / len(votes)


def _vote(answers: Sequence[str | None], correct: Sequence[bool], group: Grouping, voters: Sequence[bool]) -> bool:
    """Whether the majority of the ``voters``' answers is right: the largest cluster of given answers, ties to the
    one seen first; no answer at all is wrong."""
    given = [i for i, a in enumerate(answers) if a is not None and voters[i]]
    if not given:
        return False
    clusters = [[given[j] for j in members] for members in group([answers[i] for i in given])]
    winner = min(clusters, key=lambda members: (-len(members), min(members)))
    return bool(correct[min(winner)])


def _beats(more: list[float], fewer: list[float]) -> bool:
    """Whether the vote of ``more`` samples beats that of ``fewer`` beyond the paired 95% interval."""
    gain, half_width = paired_gain(more, fewer)
    return gain - half_width > 1e-12

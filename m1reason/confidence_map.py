"""What a vote share means for one model: the chance that an answer is right, given the winner's share of the vote.

A share of 7 in 8 samples says the samples agree, not that they are right: a small model that learnt one wrong
path makes the same mistake in every sample. A ``ConfidenceMap`` turns the share into the fraction of answers with
that share that were right on hand-written problems the model never trained on (for the embedded model,
benchmarks/data/natural_dev.jsonl; ``python -m benchmarks.confidence_map`` fits it). It is a step function fit
by isotonic regression (a higher share never means a lower chance), each step the lower end of the 95% Wilson
interval of its answers' accuracy, so a step resting on few answers claims little. The map is kept beside the
weights (``confidence.json``) and names their digest: a map of other weights is not used.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from m1reason.errors import ConfigError

__all__ = ["CONFIDENCE_FILE", "ConfidenceMap", "read_tied_to_weights", "weights_digest"]

log = logging.getLogger(__name__)
CONFIDENCE_FILE = "confidence.json"
_Z95 = 1.959964
_Tied = TypeVar("_Tied", bound=BaseModel)


def weights_digest(folder: str | Path) -> str:
    """The sha256 of a model folder's safetensors files, in name order: what a map is tied to. Remembered per
    file name, size and modification time: loading a model reads its map and its vote curve, each tied to it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "model.safetensors").write_bytes(b"weights")
    >>> weights_digest(d)[:12]
    '9a129038d9a0'
    """
    shards = sorted(Path(folder).glob("*.safetensors"))
    if not shards:
        raise FileNotFoundError(f"no *.safetensors in {folder}")
    return _digest(tuple((str(s.resolve()), s.stat().st_size, s.stat().st_mtime_ns) for s in shards))


@functools.lru_cache(maxsize=16)
def _digest(shards: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in shards:
        with open(name, "rb") as f:  # in chunks: an M1-3B shard is gigabytes, and reading it whole doubles memory
            while chunk := f.read(1 << 23):
                digest.update(chunk)
    return digest.hexdigest()


def read_tied_to_weights(cls: type[_Tied], folder: str | Path, filename: str, *, remedy: str,
                         ignored: str) -> _Tied | None:
    """``folder/filename`` as a ``cls`` (a model with ``weights_sha256``), if the file is there and names these
    weights; None if it is missing or of other weights (with a warning saying what is ``ignored`` instead). A file
    that is not a ``cls`` is a ConfigError naming it and the ``remedy`` command.

    >>> read_tied_to_weights(ConfidenceMap, "no/such/folder", CONFIDENCE_FILE, remedy="", ignored="") is None
    True
    """
    path = Path(folder) / filename
    if not path.exists():
        return None
    try:
        found = cls.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValidationError) as err:
        what = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # VoteCurve -> "vote curve"
        raise ConfigError(f"{path} is not a {what} (rerun {remedy}): {err}") from err
    if found.weights_sha256 != weights_digest(folder):
        log.warning("%s was made on other weights than %s's: %s", path, folder, ignored)
        return None
    return found


def _wilson_low(right: int, total: int) -> float:
    if total == 0:
        return 0.0
    p = right / total
    centre = p + _Z95**2 / (2 * total)
    spread = _Z95 * math.sqrt(p * (1 - p) / total + _Z95**2 / (4 * total**2))
    return max(0.0, (centre - spread) / (1 + _Z95**2 / total))


def _isotonic_blocks(points: list[tuple[float, bool]]) -> list[list[tuple[float, bool]]]:
    """Pool adjacent violators: blocks of answers sorted by share whose accuracies never fall."""
    blocks: list[list[tuple[float, bool]]] = []
    for share in sorted({s for s, _ in points}):
        blocks.append([p for p in points if p[0] == share])
        while len(blocks) > 1 and _accuracy(blocks[-2]) >= _accuracy(blocks[-1]):
            last = blocks.pop()
            blocks[-1] += last
    return blocks


def _accuracy(block: list[tuple[float, bool]]) -> float:
    return sum(right for _, right in block) / len(block)


class ConfidenceMap(BaseModel):
    """A model's map from vote share to the chance of a right answer (see the module docstring).

    ``steps``: (lowest share of the step, chance, answers behind it), shares rising, chances never falling;
    a share below the first step maps to 0. ``source`` says what it was fit on.

    >>> shares = [1.0] * 40 + [0.5] * 20
    >>> right = [True] * 39 + [False] + [True] * 8 + [False] * 12
    >>> m = ConfidenceMap.fit(shares, right, source="toy", weights_sha256="0" * 64)
    >>> round(m(1.0), 2), round(m(0.6), 2), m(0.2)
    (0.87, 0.22, 0.0)
    >>> m.describe(0.75)
    'vote share 0.75 -> 0.22: the lower 95% bound of the accuracy of 20 answers with that share on toy'
    """

    model_config = ConfigDict(frozen=True)

    source: str = Field(min_length=1)
    weights_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    steps: tuple[tuple[float, float, int], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _monotone(self) -> ConfidenceMap:
        shares = [s for s, _, _ in self.steps]
        chances = [c for _, c, _ in self.steps]
        if shares != sorted(set(shares)) or chances != sorted(chances):
            raise ValueError("steps must have rising shares and chances that never fall")
        if not all(0.0 <= x <= 1.0 for x in shares + chances):
            raise ValueError("shares and chances lie in [0, 1]")
        return self

    @classmethod
    def fit(cls, shares: list[float], correct: list[bool], *, source: str, weights_sha256: str) -> ConfidenceMap:
        """Fit on answers' vote shares and whether each was right (answers only: no answer has no share)."""
        if len(shares) != len(correct) or not shares:
            raise ValueError(f"need as many shares as verdicts, at least one (got {len(shares)}, {len(correct)})")
        blocks = _isotonic_blocks(list(zip(shares, map(bool, correct))))
        lows = [_wilson_low(sum(r for _, r in b), len(b)) for b in blocks]
        # A lower bound of a small block can sit below a larger block's beneath it: keep the map monotone by
        # lowering each step to the least chance of the steps above it (never raising one).
        for i in range(len(lows) - 2, -1, -1):
            lows[i] = min(lows[i], lows[i + 1])
        steps = tuple((min(s for s, _ in b), low, len(b)) for b, low in zip(blocks, lows))
        return cls(source=source, weights_sha256=weights_sha256, steps=steps)

    def _step(self, share: float) -> tuple[float, float, int] | None:
        below = [step for step in self.steps if step[0] <= share + 1e-9]
        return below[-1] if below else None

    def __call__(self, share: float) -> float:
        step = self._step(share)
        return step[1] if step else 0.0

    def describe(self, share: float) -> str:
        """What the confidence of ``share`` rests on, in words (a Solution's ``confidence_basis``)."""
        step = self._step(share)
        if step is None:
            return f"vote share {share:.2f} -> 0: below every share seen on {self.source}"
        return (f"vote share {share:.2f} -> {step[1]:.2f}: the lower 95% bound of the accuracy of {step[2]} answers "
                f"with that share on {self.source}")

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / CONFIDENCE_FILE
        path.write_text(self.model_dump_json(indent=1) + "\n")
        return path

    @classmethod
    def for_model(cls, folder: str | Path) -> ConfidenceMap | None:
        """The map kept in a model folder, if there is one and it was fit on these weights; else None (a map of
        other weights is set aside with a warning: its chances describe another model). A file that is not a map is a
        ConfigError naming it.

        >>> ConfidenceMap.for_model("no/such/folder") is None
        True
        """
        return read_tied_to_weights(cls, folder, CONFIDENCE_FILE, remedy="python -m benchmarks.confidence_map",
                                    ignored="confidence stays the raw vote share")

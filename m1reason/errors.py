"""The one small exception tree of m1reason.

Everything m1reason raises on purpose derives from ``M1Error``::

    M1Error
    ├── ConfigError       a config value that cannot be used (names the field and the file)
    ├── CheckpointError   weights or files that are missing, unexpected or misshapen
    ├── CapacityError     a request that does not fit, or a full queue (carries retry_after_s)
    │   └── PromptTooLong a prompt longer than the model's context: the request's fault, never worth a retry
    └── BudgetError       a time budget that cannot be met (e.g. <= 0)

Bad parameters in pydantic objects (SamplingParams, requests, strategy settings) raise pydantic's
``ValidationError`` instead, whose message already names the field.

>>> issubclass(CheckpointError, M1Error)
True
>>> str(CapacityError("queue full", retry_after_s=2.0))
'queue full (retry after 2.0 s)'
"""

from __future__ import annotations

__all__ = ["BudgetError", "CapacityError", "CheckpointError", "ConfigError", "M1Error", "PromptTooLong"]


class M1Error(Exception):
    """Base class of every error m1reason raises on purpose.

    >>> try:
    ...     raise ConfigError("bad d_state")
    ... except M1Error as e:
    ...     print(type(e).__name__, e)
    ConfigError bad d_state
    """


class ConfigError(M1Error, ValueError):
    """A configuration value that cannot be used; the message names the field and the file.

    >>> isinstance(ConfigError("x"), ValueError)
    True
    """


class CheckpointError(M1Error):
    """Checkpoint files or tensors that are missing, unexpected or misshapen.

    >>> CheckpointError("missing: model.norm.weight").args[0]
    'missing: model.norm.weight'
    """


class CapacityError(M1Error):
    """A request that does not fit (too long, too many samples) or a full queue.

    ``retry_after_s`` is set when waiting would help (a full queue), ``None`` when it would not.

    >>> CapacityError("prompt too long").retry_after_s is None
    True
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        base = super().__str__()
        return base if self.retry_after_s is None else f"{base} (retry after {self.retry_after_s} s)"


class PromptTooLong(CapacityError):
    """A prompt with more tokens than the model's context holds. Unlike a full queue, waiting never helps, so it
    has no ``retry_after_s``; an eval records the problem as failed and goes on, an HTTP front answers 413.

    >>> err = PromptTooLong("prompt of 691 tokens does not fit max_len 512")
    >>> isinstance(err, CapacityError), err.retry_after_s
    (True, None)
    """

    def __init__(self, message: str):
        super().__init__(message)


class BudgetError(M1Error, ValueError):
    """A time budget that cannot be met, such as ``budget_s <= 0``.

    >>> isinstance(BudgetError("budget_s must be > 0"), ValueError)
    True
    """

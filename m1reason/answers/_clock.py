"""Clock times: a gold written as a time of day is compared as the moment it names.

A gold ``h:mm`` or ``h:mm:ss`` (two-digit minutes and seconds, an hour a clock shows, an optional am/pm) is a
time: ``20:34`` is ``8:34 PM`` and ``20:34:00``, and not ``8:34``. Anything else with a colon (``3:4``) is left
to the other checks, as is every candidate whose gold is not a time.
"""

from __future__ import annotations

import re

from m1reason.answers._normalize import clean, unwrap_text

_TIME_RE = re.compile(r"(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?(?:\s*([AaPp])\.?\s*[Mm]\.?)?")


def seconds_of_day(answer: str) -> int | None:
    """The second of the day ``answer`` names, or None when it is not a clock time.

    >>> seconds_of_day("8:34 p.m.") == seconds_of_day(r"\\text{20:34}") == 20 * 3600 + 34 * 60
    True
    >>> seconds_of_day("3:4"), seconds_of_day("13:05 pm"), seconds_of_day("9:75")
    (None, None, None)
    """
    m = _TIME_RE.fullmatch(unwrap_text(clean(answer)).strip())
    if not m:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if minute > 59 or second > 59:
        return None
    if m.group(4):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m.group(4) in "Pp" else 0)
    elif hour > 24 or (hour == 24 and minute + second > 0):
        return None
    return (hour % 24) * 3600 + minute * 60 + second


def clock_verdict(candidate: str, gold: str) -> bool | None:
    """Same time of day when ``gold`` is a clock time; None when it is not (the other checks decide).

    >>> clock_verdict("8:34 PM", "20:34"), clock_verdict("8:34", "20:34"), clock_verdict("3:4", "3:4")
    (True, False, None)
    """
    if ":" not in gold and "\uff1a" not in gold:  # most golds: no need to clean them first
        return None
    gold_time = seconds_of_day(gold)
    if gold_time is None:
        return None
    return seconds_of_day(candidate) == gold_time

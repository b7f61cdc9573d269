"""How the readers of a problem's own value (``_equation``, ``_system``, ``_units``) match a whole question against
their forms: the same normalisation for all of them, so that "Solve for $x$:\\n3x = 6." and "solve for x: 3x = 6"
read alike."""

from __future__ import annotations

import re
from collections.abc import Iterable

LONGEST = 300  # characters: a question these forms read is short, and no longer text is scanned


def asked_form(problem: str, forms: Iterable[re.Pattern], *, longest: int = LONGEST) -> re.Match | None:
    """The match of the first form the whole question fits, after dropping math delimiters ($), folding runs of
    whitespace (line breaks included) into one space, dropping the closing punctuation and lower-casing the first
    letter; None when none fits or the question is longer than ``longest``.

    >>> asked_form("Solve for $x$:\\n 3x = 6.", [re.compile(r"solve for (\\w): (.+)")]).groups()
    ('x', '3x = 6')
    """
    asked = " ".join(problem.replace("$", "").split()).rstrip(".?!").strip()
    if len(asked) > longest:
        return None
    asked = asked[:1].lower() + asked[1:]
    return next((found for form in forms if (found := form.fullmatch(asked))), None)

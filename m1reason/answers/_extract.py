"""Finding the final answer in a model's output.

Owns ``extract_answer``: after ``</think>``, the last run of ``\\boxed{...}`` (or ``\\boxed 5``, ``\\fbox``,
``\\framebox``), where boxes joined only by commas, "and", spacing or "x =" are one answer; a "final answer is
..." phrase after the boxes overrules them; a phrase alone is the fallback, and in lenient mode the last
mathematical statement after that. Pure string scanning: linear in the text, no recursion, so hostile nesting
cannot exhaust the stack.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from m1reason.answers._statements import is_mathematical, last_phrase, last_statement, strip_template_tokens

THINK_END = "</think>"

# Longer model outputs than this are not an answer but an attack or a bug; scanning them is still
# linear, but nobody needs it.
MAX_TEXT_CHARS = 2_000_000

_BOX_RE = re.compile(r"\\(?:boxed|fbox|framebox)(?![A-Za-z])")
_TOKEN_ARG_RE = re.compile(r"[^\s$]+")
# What may stand between boxes that give one answer together: spacing, commas, "and"/"or", math delimiters,
# and the name of the next value ("$x = \boxed{2}$ and $y = \boxed{3}$"). A sentence between them ends the run.
_JOINER_RE = re.compile(
    r"(?:\s|[,;&$]|\\[,;:! ]|\\q?quad(?![A-Za-z])|\\\\|\\[()\[\]]|\\text\s*\{\s*(?:and|or|,)?\s*\}|\b(?:and|or)\b"
    r"|(?<![A-Za-z\\])[A-Za-z](?:_\{?\w+\}?)?\s*=)*"
)
MAX_JOIN_GAP = 200
# More boxes than a list holds (structures compare at most 64 items) make no answer worth joining further.
MAX_RUN = 64


class _Box(NamedTuple):
    start: int  # where the command starts
    body: tuple[int, int] | None  # the argument's span; None when it never closes
    end: int  # just past the box


def extract_answer(text: str | None, *, strict: bool = False, lenient: bool = False) -> str | None:
    r"""The final answer in ``text``, or ``None`` when there is none.

    Only what follows the last ``</think>`` counts when it is present (as M1's grader); with
    ``strict=True`` an output without ``</think>`` has no answer. The last run of boxes wins (boxes joined by
    commas, "and" or spacing are one answer, joined with ", "); a box that is still open at the end (output cut
    off by the length limit) means there is no answer. A "final answer is ..." phrase after the last box
    overrules it when it states something mathematical. ``lenient=True`` (not with ``strict``) adds a last
    fallback: the last math span or number of an output with neither box nor phrase (not inside a ``<think>``
    that never closed).

    >>> extract_answer(r"so $x=\boxed{\frac{1}{2}}$.")
    '\\frac{1}{2}'
    >>> extract_answer(r"<think>maybe \boxed{3}</think> The answer is \boxed 5.")
    '5'
    >>> extract_answer(r"$\boxed{-2}$ \quad\text{and}\quad $\boxed{1}$"), extract_answer(r"\boxed{3}. Final answer: 5")
    ('-2, 1', '5')
    >>> extract_answer("no think tag, \\boxed{4}", strict=True) is None
    True
    >>> extract_answer("Final Answer: The largest $n$ is 34.")
    '34'
    >>> extract_answer("Therefore $x > 5$ is the solution."), extract_answer("So it is $x > 5$.", lenient=True)
    (None, 'x > 5')
    >>> extract_answer(r"cut off: \boxed{\frac{1}{") is None
    True
    """
    if strict and lenient:
        raise ValueError("extract_answer: strict=True and lenient=True exclude each other; pass one of them")
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        return None
    # Thinking that never ended states nothing yet: the lenient fallback does not guess from it.
    guessable = lenient and (THINK_END in text or "<think>" not in text)
    if THINK_END in text:
        text = text.rsplit(THINK_END, 1)[1]
    elif strict:
        return None
    text = strip_template_tokens(text)
    found, boxed, run_end = _last_boxes(text)
    phrase, phrase_at = last_phrase(text)
    if found:
        # The later statement wins: a model that boxed 3 and then wrote "Final answer: 5" answered 5.
        if boxed is not None and phrase is not None and phrase_at >= run_end and is_mathematical(phrase):
            return phrase
        return boxed
    if phrase is not None:
        return phrase
    return last_statement(text) if guessable else None


def _last_boxes(text: str) -> tuple[bool, str | None, int]:
    """(a box was found, the answer of the last run of boxes, where the run ends).

    A box left open at the end of the text yields (True, None, ...): the output was cut off in its answer.
    """
    boxes = _boxes(text)
    if not boxes:
        return False, None, -1
    if boxes[-1].body is None:
        return True, None, len(text)
    last = next((k for k in range(len(boxes) - 1, -1, -1) if _content(text, boxes[k])), None)
    if last is None:
        return False, None, -1
    run = [last]
    for k in range(last - 1, max(-1, last - MAX_RUN), -1):
        gap_start, gap_end = boxes[k].end, boxes[run[-1]].start
        if boxes[k].body is None or gap_end < gap_start or gap_end - gap_start > MAX_JOIN_GAP:
            break
        if not _JOINER_RE.fullmatch(text, gap_start, gap_end):
            break
        run.append(k)
    contents = [_content(text, boxes[k]) for k in reversed(run)]
    # A model that boxes the same answer twice ("**Final Answer** \boxed{3}" again) gave one answer.
    return True, ", ".join(dict.fromkeys(c for c in contents if c)), boxes[last].end


def _content(text: str, box: _Box) -> str:
    return text[box.body[0] : box.body[1]].strip() if box.body is not None else ""


def _boxes(text: str) -> list[_Box]:
    """Every box command in ``text``, in order, with the span of its argument."""
    names = list(_BOX_RE.finditer(text))
    if not names:
        return []
    closing = _closing_braces(text)
    return [_box_at(text, m.start(), m.end(), closing) for m in names]


def _closing_braces(text: str) -> dict[int, int]:
    """Position of each ``{`` -> position of its ``}``, in one pass; escaped braces do not count."""
    closing, stack = {}, []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            closing[stack.pop()] = i
        i += 1
    return closing


def _box_at(text: str, start: int, pos: int, closing: dict[int, int]) -> _Box:
    """The box whose command spans ``start:pos``."""
    n = len(text)
    while pos < n and text[pos] in " \t\n":
        pos += 1
    # \framebox[width][pos]{...}: skip the optional arguments.
    while pos < n and text[pos] == "[":
        close = text.find("]", pos)
        if close < 0:
            return _Box(start, None, n)
        pos = close + 1
    if pos < n and text[pos] == "{":
        end = closing.get(pos)
        return _Box(start, None, n) if end is None else _Box(start, (pos + 1, end), end + 1)
    # "\boxed 5": the argument is the next token, up to whitespace or the end of inline math.
    m = _TOKEN_ARG_RE.match(text, pos)
    if not m:
        return _Box(start, (pos, pos), pos)
    token = m.group(0).rstrip(".,;")
    return _Box(start, (pos, pos + len(token)), m.end())

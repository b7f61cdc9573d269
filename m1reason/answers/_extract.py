"""Finding the final answer in a model's output.

Owns ``extract_answer``: the last ``\\boxed{...}`` (or ``\\boxed 5``, ``\\fbox``, ``\\framebox``) after
``</think>``, with "the final answer is ..." phrasings as the fallback. Pure string scanning: linear in
the text, no recursion, so hostile nesting cannot exhaust the stack.
"""

from __future__ import annotations

import re

THINK_END = "</think>"

# Longer model outputs than this are not an answer but an attack or a bug; scanning them is still
# linear, but nobody needs it.
MAX_TEXT_CHARS = 2_000_000

_BOX_RE = re.compile(r"\\(?:boxed|fbox|framebox)(?![A-Za-z])")
# A phrase that announces the answer; the answer itself follows, up to the end of the sentence.
_PHRASE_RE = re.compile(
    r"\banswer\s*(?:\*\*)?\s*(?:is\b|:|=)\s*(?:\*\*)?\s*(?::\s*)?", re.IGNORECASE
)
_TOKEN_ARG_RE = re.compile(r"[^\s$]+")
_HOPE_RE = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)
_MATH_DELIMS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))


def extract_answer(text: str | None, *, strict: bool = False) -> str | None:
    r"""The final answer in ``text``, or ``None`` when there is none.

    Only what follows the last ``</think>`` counts when it is present (as M1's grader); with
    ``strict=True`` an output without ``</think>`` has no answer. The last complete box wins; a box that
    is still open at the end (output cut off by the length limit) means there is no answer.

    >>> extract_answer(r"so $x=\boxed{\frac{1}{2}}$.")
    '\\frac{1}{2}'
    >>> extract_answer(r"<think>maybe \boxed{3}</think> The answer is \boxed 5.")
    '5'
    >>> extract_answer("no think tag, \\boxed{4}", strict=True) is None
    True
    >>> extract_answer("Final Answer: The final answer is $42$. I hope it is correct.")
    '42'
    >>> extract_answer(r"cut off: \boxed{\frac{1}{") is None
    True
    """
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        return None
    if THINK_END in text:
        text = text.rsplit(THINK_END, 1)[1]
    elif strict:
        return None
    found, boxed = _last_box(text)
    if found:
        return boxed
    return _from_phrase(text)


def _last_box(text: str) -> tuple[bool, str | None]:
    """(a box was found, its content); a box left open at the end of the text yields (True, None)."""
    starts = [m.end() for m in _BOX_RE.finditer(text)]
    if not starts:
        return False, None
    closing = _closing_braces(text)
    for i, start in enumerate(reversed(starts)):
        content = _box_content(text, start, closing)
        if content is None:
            if i == 0:
                return True, None
            continue
        content = content.strip()
        if content:
            return True, content
    return False, None


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


def _box_content(text: str, pos: int, closing: dict[int, int]) -> str | None:
    """The argument of a box command whose name ends at ``pos``; None if it never closes."""
    n = len(text)
    while pos < n and text[pos] in " \t\n":
        pos += 1
    # \framebox[width][pos]{...}: skip the optional arguments.
    while pos < n and text[pos] == "[":
        close = text.find("]", pos)
        if close < 0:
            return None
        pos = close + 1
    if pos < n and text[pos] == "{":
        end = closing.get(pos)
        return None if end is None else text[pos + 1 : end]
    # "\boxed 5": the argument is the next token, up to whitespace or the end of inline math.
    m = _TOKEN_ARG_RE.match(text, pos)
    return m.group(0).rstrip(".,;") if m else ""


def _from_phrase(text: str) -> str | None:
    """The answer after the last "the (final) answer is" phrasing, or None."""
    matches = list(_PHRASE_RE.finditer(text))
    for m in reversed(matches):
        answer = _phrase_tail(text[m.end() : m.end() + 2000])
        if answer:
            return answer
    return None


def _phrase_tail(tail: str) -> str | None:
    """The answer at the start of ``tail``: a math span, or the words up to the end of the sentence."""
    tail = _HOPE_RE.sub("", tail.split("\n", 1)[0]).strip()
    for left, right in _MATH_DELIMS:
        if tail.startswith(left):
            close = tail.find(right, len(left))
            if close > len(left):
                return tail[len(left) : close].strip().rstrip(".").strip() or None
            return None
    # A sentence ends at a period followed by a space or the end, not at a decimal point.
    sentence = re.split(r"\.(?:\s|$)", tail, maxsplit=1)[0].strip()
    sentence = sentence.strip("*").strip()
    if not sentence or len(sentence) > 200:
        return None
    return sentence

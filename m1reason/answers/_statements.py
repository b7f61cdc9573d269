"""Answers stated in words: "the final answer is ...", and (lenient mode) the last mathematical statement.

Owns reading an answer out of a sentence (``The largest $n$ is 34`` states ``34``), whether a stated answer is
mathematical enough to overrule an earlier box, chat-template tokens left at the end of an output, and the
lenient fallback for output with neither box nor phrase. Every scan is linear in the text.
"""

from __future__ import annotations

import re

# A phrase that announces the answer; the answer itself follows, up to the end of the sentence.
_PHRASE_RE = re.compile(r"\banswer\s*(?:\*\*)?\s*(?:is\b|:|=)\s*(?:\*\*)?\s*(?::\s*)?", re.IGNORECASE)
_HOPE_RE = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)
# A dollar escaped as \$ is money, not a delimiter: "$\$42$" is one span.
_CLOSERS = {"$$": re.compile(r"(?<!\\)\$\$"), "$": re.compile(r"(?<!\\)\$"), "\\(": re.compile(r"\\\)"),
            "\\[": re.compile(r"\\\]")}
_OPEN_RE = re.compile(r"(?<!\\)\$\$|(?<!\\)\$|\\\(|\\\[")
# The verb a sentence states its value with: "The largest $n$ is 34" states 34.
_VERB_RE = re.compile(r"\b(?:is|are|was|were|equals|becomes)\b\s*:?\s*", re.IGNORECASE)
# What makes a stated answer mathematical: a digit, a LaTeX command, or a choice letter.
_MATHY_RE = re.compile(r"\d|\\[A-Za-z]|^\(?[A-Ea-e]\)?$")
# End-of-turn tokens of chat templates (<|im_end|>, <|eot_id|>, </s>, ...) are never part of an answer.
_TEMPLATE_TOKEN_RE = re.compile(r"(?:<\|[A-Za-z_]{1,30}\|>|</s>|<eos>|<end_of_turn>)\Z")
# A number in prose: an optional sign, digits with separators, a decimal part, a fraction, a percent.
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*%)?(?![\w])")
# A word of prose: three letters or more, one of them lower case (AB, BC, PM name things; "cm" is a unit).
_PROSE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_NOT_PROSE = {"and", "sin", "cos", "tan", "cot", "sec", "csc", "log", "exp", "sqrt", "frac", "arcsin", "arccos",
              "arctan", "sinh", "cosh", "tanh", "mod", "pmod", "gcd", "lcm", "max", "min", "lim", "det", "infty"}
# Words in these are not prose: \text{Evelyn}, \begin{array}{ccc}.
_NOT_PROSE_RE = re.compile(r"\\(?:text|textbf|mathrm|mbox|operatorname|begin|end)\s*\{[^{}]*\}|\{[lcr| ]*\}")
MAX_SENTENCE_CHARS = 200


def strip_template_tokens(text: str) -> str:
    """``text`` without trailing chat-template tokens and whitespace.

    >>> strip_template_tokens("The answer is 12.<|im_end|>\\n<|endoftext|>")
    'The answer is 12.'
    """
    text = text.rstrip()
    while (m := _TEMPLATE_TOKEN_RE.search(text, max(0, len(text) - 40))) is not None:
        text = text[: m.start()].rstrip()
    return text


def last_phrase(text: str) -> tuple[str | None, int]:
    """(the answer after the last "the (final) answer is" phrasing, where that phrase starts), or (None, -1).

    >>> last_phrase("So the answer is 3. Final Answer: The largest $n$ is 34."), last_phrase("no phrase")
    (('34', 26), (None, -1))
    """
    for m in reversed(list(_PHRASE_RE.finditer(text))):
        answer = _phrase_tail(text[m.end() : m.end() + 2000])
        if answer:
            return answer, m.start()
    return None, -1


def is_mathematical(answer: str) -> bool:
    """Does a stated answer say only something a checker can compare (so that it may overrule an earlier box)?

    A digit, a LaTeX command or a choice letter, and no prose: "5 since x+y=5" does not overrule a box.

    >>> is_mathematical("34"), is_mathematical("(B)"), is_mathematical("correct"), is_mathematical("5 since 2+3=5")
    (True, True, False, False)
    """
    return bool(_MATHY_RE.search(answer.strip())) and not has_prose(answer)


def has_prose(text: str) -> bool:
    """Has ``text`` a word of prose outside ``\\text{}`` and environment names (units of two letters are none)?

    >>> has_prose("Answer 9"), has_prose(r"\\text{Answer} 9"), has_prose("AB = 4 cm"), has_prose("x mod 5")
    (True, False, False, False)
    """
    words = _PROSE_WORD_RE.findall(_NOT_PROSE_RE.sub(" ", text))
    return any(w.lower() not in _NOT_PROSE and not w.isupper() for w in words)


def _phrase_tail(tail: str) -> str | None:
    """The answer at the start of ``tail``: a math span, or what the sentence up to its end states."""
    tail = _HOPE_RE.sub("", tail.split("\n", 1)[0]).strip()
    span = _leading_span(tail)
    if span == "":
        return None
    # A sentence ends at a period followed by a space or the end, not at a decimal point.
    sentence = re.split(r"\.(?:\s|$)", tail, maxsplit=1)[0].strip()
    sentence = sentence.strip("*").strip()
    if not sentence or len(sentence) > MAX_SENTENCE_CHARS:
        return span
    # "$42$, so ..." and "$x = 5$ is the answer" are their span; "$n$ is 34" states 34.
    found = stated(sentence)
    return span if span is not None and found == sentence else found


def _leading_span(text: str) -> str | None:
    """The content of the math span ``text`` starts with ("" when it is not closed); None if it starts with none."""
    m = _OPEN_RE.match(text)
    if m is None:
        return None
    close = _CLOSERS[m.group(0)].search(text, m.end())
    return text[m.end() : close.start()].strip().rstrip(".").strip() if close and close.start() > m.end() else ""


def stated(sentence: str) -> str:
    """What a sentence states: what follows its last verb outside math when that has a digit or LaTeX in it,
    unwrapped when it is one math span; else the sentence as written.

    >>> stated("The largest $n$ is 34"), stated(r"the sum of the roots is $\\frac{3}{2}$"), stated("x = 5")
    ('34', '\\\\frac{3}{2}', 'x = 5')
    >>> stated("5 because it is odd")
    '5 because it is odd'
    """
    verbs = _verbs(sentence)
    if verbs and _MATHY_RE.search(sentence[verbs[-1].end() :]):
        sentence = sentence[verbs[-1].end() :].strip()
    spans = _spans(sentence)
    if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(sentence) and spans[0][2].strip():
        return spans[0][2].strip()
    return sentence


def _verbs(sentence: str) -> list[re.Match]:
    """The stating verbs of ``sentence`` outside ``$...$``."""
    return [m for m in _VERB_RE.finditer(sentence) if sentence.count("$", 0, m.start()) % 2 == 0]


def last_statement(text: str) -> str | None:
    """The lenient fallback: the math span or number that ends last in ``text``, or the whole text when it is no
    sentence (no math delimiters, no word of prose). None when there is neither.

    >>> last_statement(r"Therefore $x \\geq 5$ is the solution."), last_statement("Answer $ 9 $")
    ('x \\\\geq 5', '9')
    >>> last_statement("So she pays 12 dollars"), last_statement(r"x \\geq 5"), last_statement("no idea")
    ('12', 'x \\\\geq 5', None)
    """
    text = strip_template_tokens(text).strip()
    if not text:
        return None
    if not _OPEN_RE.search(text) and not has_prose(text):
        return text
    best, prose_start = None, 0
    for start, end, inner in [*_spans(text), (len(text), len(text), "")]:
        for m in _NUMBER_RE.finditer(text, prose_start, start):
            best = m.group(0)
        if inner.strip():
            best = inner.strip()
        prose_start = end
    return best


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of each math span, in order. Linear: the scan stops at a span that never closes."""
    spans, pos = [], 0
    while (m := _OPEN_RE.search(text, pos)) is not None:
        close = _CLOSERS[m.group(0)].search(text, m.end())
        if close is None:
            break
        spans.append((m.start(), close.end(), text[m.end() : close.start()]))
        pos = close.end()
    return spans

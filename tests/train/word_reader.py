"""Reads the answer of a ``stories`` word problem back from its text alone, for test_data_answers: the two-step
stories by their sentence patterns, a one-step story by its two numbers and the words that say which operation
it needs (``in all``, ``left``, ``how many more``, ``each``, ``shared equally``, ...). Irrelevant facts are
dropped first by the patterns ``phrasing`` draws them from."""

from __future__ import annotations

import re
from fractions import Fraction

from m1reason.train.data import phrasing
from tests.train.exact import plain

_IRRELEVANT = [re.compile(re.sub(r"\\\{(name|n|hour)\\\}", lambda m: r"\w+" if m[1] == "name" else r"\d+",
                                 re.escape(d))) for d in phrasing._DISTRACTORS]
_TWO_STEP = (
    (r"earns (\d+) a day [a-z ]+ for (\d+) days\..*spends (\d+)\.", lambda a, b, c: a * b - c),
    (r"fills (\d+) \w+ with (\d+) [a-z ]+ in each\..*There are (\d+) [a-z ]+ left over", lambda a, b, c: a * b + c),
    (r"has (\d+) [a-z ]+ and \w+ has (\d+)\. They put them together and share them equally among (\d+)",
     lambda a, b, c: Fraction(a + b, c)),
    (r"had (\d+)\..*spent (\d+) on [a-z ]+ and (\d+) on", lambda a, b, c: a - b - c))


def _two_step(t: str) -> Fraction | None:
    buy, paid = re.search(r"buys (\d+) [^.]* at (\d+) each\.", t), re.search(r"pays with (\d+)\.", t)
    if buy and paid:
        return Fraction(int(paid[1]) - int(buy[1]) * int(buy[2]))
    for pattern, value in _TWO_STEP:
        if m := re.search(pattern, t):
            return Fraction(value(*map(int, m.groups())))
    return None


def _one_step(facts: str, question: str) -> Fraction:
    a, b = (int(n) for n in re.findall(r"\d+", facts + " " + question))
    big, small = max(a, b), min(a, b)
    if m := re.search(r"There are \d+ (\w+) in a (\w+)\.", facts):
        return Fraction(big, small) if question.startswith(f"How many {m[2]}s") else Fraction(a * b)
    if "years later" in facts:
        return Fraction(a + b)
    if re.search(r"born in|built in|years are there between", facts + question):
        return Fraction(big - small)
    if re.search(r"\b(each|per|one)\b|needed", question) or re.search(
            r"equally|split into|put into|packs \d+|cut into", facts):
        return Fraction(big, small)
    if re.search(r"\b(each|Each|every|holds|rows|One)\b|times as many|a day|a week|an hour|per day", facts):
        return Fraction(a * b)
    if re.search(r"How (many|much) (more|fewer|higher)|difference", question):
        return Fraction(big - small)
    if re.search(r"\d+ more .*than", facts):
        return Fraction(a + b)
    if re.search(r"\d+ (fewer|less) .*than", facts):
        return Fraction(big - small)
    if re.search(r"left|remain|still|change|further", question) or re.search(
            r"gives|sells|eats|loses|uses|fallen|goes down", facts):
        return Fraction(big - small)
    if re.search(r"buys|is given|finds|wins|collects|gets|risen|climbs", facts) or re.search(
            r"in all|altogether|total|combined|both|over|two|whole", question):
        return Fraction(a + b)
    raise AssertionError(f"no operation read in: {facts} {question}")


def read_story(text: str) -> Fraction:
    """The answer of a ``stories`` problem, computed from its text."""
    t = re.sub(r"[$£€]", "", plain(text)).replace(" dollars", "")
    sentences = [s for s in re.split(r"(?<=[.?]) ", t) if not any(d.fullmatch(s) for d in _IRRELEVANT)]
    t = " ".join(sentences)
    value = _two_step(t)
    if value is not None:
        return value
    return _one_step(" ".join(sentences[:-1]), sentences[-1])

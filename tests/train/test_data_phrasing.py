"""Each kind is worded many ways: different openings, names and things, and every notation a user writes
(``12 x 9``, ``12 * 9``, ``12·9``, ``$12 \\times 9$``, ``\\frac{3}{4}`` and ``3/4``, numbers with and without
thousands separators)."""

from __future__ import annotations

import random
import re

import pytest

from m1reason.train.data import KINDS, make_problem
from m1reason.train.data.phrasing import ITEMS, NAMES


def _opening(text: str) -> str:
    """The first three words with every number, name and thing masked: the template a problem starts from."""
    t = re.sub(r"\$?\\frac\{\d+\}\{\d+\}\$?|\$?-?[\d.,/]+\$?", "#", text)
    t = re.sub(r"\b(" + "|".join(NAMES) + r")\b", "NAME", t)
    t = re.sub("|".join(ITEMS), "ITEM", t)
    return " ".join(t.split()[:3])


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_opens_in_at_least_eight_ways(kind):
    rng = random.Random(f"openings-{kind}")
    openings = {_opening(make_problem(rng, kind).problem) for _ in range(200)}
    assert len(openings) >= 8, sorted(openings)


def test_every_notation_appears():
    texts = [make_problem(random.Random(f"notation-{i}"), kind).problem
             for i in range(150) for kind in ("arithmetic", "multiplication", "division", "order", "fraction")]
    joined = "\n".join(texts)
    for sign in (" * ", " x ", " × ", "·", "\\times", "\\cdot", " ÷ ", " / ", "\\div", "\\frac{", "$"):
        assert sign in joined, sign
    assert re.search(r"\d/\d", joined)  # plain fractions as well as \frac
    numbers = re.findall(r"\d[\d,]*\d", "\n".join(make_problem(random.Random(i), "addition").problem
                                                  for i in range(200)))
    assert any("," in n for n in numbers) and any(len(n) >= 4 and "," not in n for n in numbers)


def test_word_problems_vary_their_people_and_mix_in_irrelevant_facts():
    rng = random.Random("people")
    texts = [make_problem(rng, "word").problem for _ in range(300)]
    assert len({name for t in texts for name in NAMES if re.search(rf"\b{name}\b", t)}) >= 20
    irrelevant = ("years old.", "sunny day", "shop opens", "from school", "brother has", "walk to the park",
                  "dog called", "bus number")
    mixed_in = [t for t in texts if any(s in t for s in irrelevant) and "How old" not in t]
    assert 0.1 * len(texts) < len(mixed_in) < 0.5 * len(texts)


def test_tex_separators_stay_in_maths_and_numbers_are_also_said_in_words():
    kinds = ("arithmetic", "addition", "subtraction", "multiplication", "division")
    texts = [make_problem(random.Random(f"said-{i}"), kind).problem for i in range(300) for kind in kinds]
    # A thin-space separator is drawn for about 1 problem in 1,000 (LaTeX, 4 digits or more, 4% of separators).
    thin = [make_problem(random.Random(f"said-{i}"), kind).problem for i in range(300, 1000) for kind in kinds]
    assert any("{,}" in t for t in texts) and any("\\," in t for t in texts + thin)
    for t in texts + thin:
        outside = re.sub(r"\$[^$]*\$", "", t)
        assert "{,}" not in outside and "\\," not in outside, t
    said = [t for t in texts if re.search(r"\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)", t)]
    assert 0.03 * len(texts) < len(said) < 0.3 * len(texts)
    assert any(re.search(r"\b(?:sum|total) of \d+, \d+ and \d+", t) for t in texts)
    assert any(re.search(r"\d+ (?:x|\*|×|·|\\times|\\cdot) ?\d+ (?:x|\*|×|·|\\times|\\cdot) ?\d+", t) for t in texts)

"""How problems are worded: people, things, question openings, and the notation of the maths in them.

Owns every word choice the kinds share, so that each kind draws its wording from the same pools: ``ask`` (the
opening of a plain calculation), ``Notation`` (LaTeX or plain, which times and divide signs, thousands
separators), ``in_words`` (numbers spelled out, as people type them), names and the pronouns a story refers back
with, items, currencies and the irrelevant facts that word problems mix in. Nothing here computes.
"""

from __future__ import annotations

import random
import re
import zlib
from fractions import Fraction

__all__ = ["ASK", "ITEMS", "NAMES", "Notation", "ask", "currency", "distractor", "in_words", "join_list",
           "pick_names", "refer_back"]

NAMES = ("Ava", "Ben", "Mia", "Leo", "Zoe", "Sam", "Ivy", "Max", "Noah", "Emma", "Liam", "Olivia", "Amir", "Priya",
         "Chen", "Sofia", "Omar", "Lena", "Ravi", "Hana", "Jack", "Ella", "Yusuf", "Nina", "Tom", "Grace", "Kofi",
         "Maya", "Luis", "Aisha", "Ana", "Ken", "Nadia", "Carlos", "Sara", "Jake", "Lily", "Raj", "Lucy", "Dan",
         "Chloe", "Ethan", "Fatima", "Mateo", "Mei", "Hiro", "Rosa", "Diego", "Elena", "Adam", "Zara", "Ali", "Kim",
         "Felix")
_SHE = {"Ava", "Mia", "Zoe", "Ivy", "Emma", "Olivia", "Priya", "Sofia", "Lena", "Hana", "Ella", "Nina", "Grace",
        "Maya", "Aisha", "Ana", "Nadia", "Sara", "Lily", "Lucy", "Chloe", "Fatima", "Mei", "Rosa", "Elena", "Zara",
        "Kim"}
# Each name's (subject, possessive) pronouns, for a story that refers back to its person ("He gives 5 away.").
PRONOUNS = {name: ("she", "her") if name in _SHE else ("he", "his") for name in NAMES}
_ASKING = r"\b(does|did|do|will|would|can|could|should|must|is|was|has|had)"
ITEMS = ("apples", "pencils", "stickers", "marbles", "books", "cookies", "cards", "shells", "stamps", "buttons",
         "beads", "crayons", "oranges", "eggs", "balloons", "coins", "toy cars", "cupcakes", "postcards", "erasers")
# Openings of a bare calculation; each kind adds its own ("Add ... and ...", "Solve for x: ...").
ASK = ("What is {}?", "Compute {}.", "Find {}.", "Calculate {}.", "Evaluate {}.", "Work out {}.", "How much is {}?",
       "What does {} equal?", "Find the value of {}.", "{} = ?", "What is the value of {}?", "Give the value of {}.")
# Facts a word problem can carry that change nothing in its answer: reading past them is part of the skill.
_DISTRACTORS = ("{name} is {n} years old.", "It is a sunny day.", "The shop opens at {hour} o'clock.",
                "{name} lives {n} km from school.", "{name}'s brother has {n} stickers.", "It takes {name} {n} "
                "minutes to walk to the park.", "{name} has a dog called Pip.", "The bus number is {n}.",
                "{name}'s sister is {n} years old.", "{name}'s grandma has {n} cats.",
                "{name}'s dad drives {n} km to work.")


def ask(rng: random.Random, expression: str) -> str:
    """A question about ``expression`` with a randomly chosen opening.

    >>> ask(random.Random(0), "12 * 9")
    'How much is 12 * 9?'
    """
    return rng.choice(ASK).format(expression)


def pick_names(rng: random.Random, count: int) -> list[str]:
    """``count`` different first names.

    >>> pick_names(random.Random(1), 2)
    ['Noah', 'Lily']
    """
    return rng.sample(NAMES, count)


def distractor(rng: random.Random, name: str, *, avoid: str = "") -> str:
    """One sentence about ``name`` that has nothing to do with the question (a number in it is bait); none that
    contains ``avoid`` (an age story must not be told the age it asks for).

    >>> distractor(random.Random(2), "Mia"), distractor(random.Random(2), "Mia", avoid="years old")
    ('Mia is 4 years old.', 'It is a sunny day.')
    """
    return rng.choice([d for d in _DISTRACTORS if not avoid or avoid not in d]).format(
        name=name, n=rng.randint(3, 15), hour=rng.randint(7, 10))


def refer_back(text: str, name: str) -> str:
    """``text`` told as people tell a story: in the sentences after the first that names ``name``, a sentence that
    opens with the name opens with "He"/"She", "Sam's" is "his"/"her", and the name after "does", "did", "can"...
    is "he"/"she" ("How many does he have now?"); other mentions keep the name. Half the stories do it, chosen by
    the text (a pure function of it, as ``solution_paths``, so it draws nothing), and none where another person
    of the same pronouns is in the story: there the pronoun would be ambiguous.

    >>> refer_back("Tom has 12 apples. Tom gives 5 to Mia. How many apples does Tom have now?", "Tom")
    'Tom has 12 apples. He gives 5 to Mia. How many apples does he have now?'
    >>> refer_back("Tom has 3 pens. Ben has 4. How many pens does Tom have?", "Tom")  # two people "he"
    'Tom has 3 pens. Ben has 4. How many pens does Tom have?'
    """
    pronouns = PRONOUNS.get(name)
    if pronouns is None or zlib.crc32(text.encode()) % 2:
        return text
    if any(other != name and PRONOUNS[other] == pronouns and re.search(rf"\b{other}\b", text) for other in NAMES):
        return text
    subject, possessive = pronouns
    sentences = re.split(r"(?<=[.?!])\s+", text)
    first = next((i for i, sentence in enumerate(sentences) if re.search(rf"\b{name}\b", sentence)), len(sentences))
    for i in range(first + 1, len(sentences)):
        sentence = re.sub(rf"^{name}'s\b", possessive.capitalize(), sentences[i])
        sentence = re.sub(rf"\b{name}'s\b", possessive, sentence)
        sentence = re.sub(rf"^{name}\b", subject.capitalize(), sentence)
        sentences[i] = re.sub(rf"{_ASKING} {name}\b", rf"\1 {subject}", sentence)
    return " ".join(sentences)


def join_list(words: list[str]) -> str:
    """``a, b and c``.

    >>> join_list(["12", "15", "9"]), join_list(["3", "4"])
    ('12, 15 and 9', '3 and 4')
    """
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def in_words(n: int, *, british: bool = False) -> str:
    """``0 <= n < 1,000,000`` spelled out with hyphenated tens; ``british`` puts "and" before the last part under a
    hundred, as British English says it.

    >>> in_words(812), in_words(7050), in_words(24)
    ('eight hundred twelve', 'seven thousand fifty', 'twenty-four')
    >>> in_words(812, british=True), in_words(2005, british=True)
    ('eight hundred and twelve', 'two thousand and five')
    """
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is out of range for in_words")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    head, rest = (f"{_ONES[n // 100]} hundred", n % 100) if n < 1000 else (
        f"{in_words(n // 1000, british=british)} thousand", n % 1000)
    if not rest:
        return head
    return f"{head}{' and ' if british and rest < 100 else ' '}{in_words(rest, british=british)}"


def currency(rng: random.Random) -> str:
    """How one problem writes its money: a format for a whole amount, drawn once so a story never mixes pounds
    and dollars.

    >>> currency(random.Random(1)).format(12), currency(random.Random(5)).format(12)
    ('$12', '12 dollars')
    """
    return rng.choice(("${}", "${}", "£{}", "€{}", "{} dollars"))


class Notation:
    """How one problem writes its maths: LaTeX (``$12 \\times 9$``, ``\\frac{3}{4}``) or plain (``12 x 9``,
    ``12 * 9``, ``12·9``, ``3/4``; who types ``×`` types the minus sign ``−`` too), and whether numbers of four
    or more digits get thousands separators: a comma in text, and in LaTeX maths also ``{,}`` or a thin space
    ``\\,`` (how TeX users write ``7{,}050``), which only ever appears between ``$...$``. Plain class: drawn once
    per problem and used while its text is written.

    >>> n = Notation(latex=True, times="\\\\times", divide="\\\\div", separators=True)
    >>> n.math(n.num(1234) + n.op("*") + n.frac(3, 4))
    '$1,234 \\\\times \\\\frac{3}{4}$'
    >>> t = Notation(latex=True, times="\\\\cdot", divide="\\\\div", separators=True, group="{,}")
    >>> t.num(7050) + " and " + t.math(t.num(7050) + t.op("+") + t.num(2968))
    '7,050 and $7{,}050 + 2{,}968$'
    >>> p = Notation(latex=False, times="·", divide="÷", separators=False)
    >>> p.math(p.num(-12) + p.op("*") + p.num(9) + p.op("/") + p.frac(3, 4))
    '-12·9 ÷ 3/4'
    """

    __slots__ = ("latex", "times", "divide", "minus", "separators", "group")

    def __init__(self, *, latex: bool, times: str, divide: str, separators: bool, group: str = ",",
                 minus: str = "-"):
        self.latex, self.times, self.divide, self.minus, self.separators = latex, times, divide, minus, separators
        self.group = group if latex else ","  # {,} and \, are TeX: plain text only ever gets a comma

    @classmethod
    def draw(cls, rng: random.Random, *, latex: float = 0.3) -> Notation:
        """LaTeX with probability ``latex``, else plain; signs and separators drawn independently.

        >>> Notation.draw(random.Random(1)).latex, Notation.draw(random.Random(0), latex=0.0).latex
        (True, False)
        """
        if rng.random() < latex:
            times = rng.choice(("\\times", "\\times", "\\cdot"))
            # One draw picks both whether and how to separate (no extra draw, so other kinds' problems stay put).
            r = rng.random()
            return cls(latex=True, times=times, divide="\\div", separators=r < 0.3,
                       group="{,}" if r < 0.14 else "\\," if r < 0.18 else ",")
        times = rng.choice(("*", "x", "×", "·", "*"))
        return cls(latex=False, times=times, divide=rng.choice(("/", "÷", "/")), separators=rng.random() < 0.4,
                   minus="−" if times == "×" else "-")

    def num(self, value: int | Fraction | str) -> str:
        """A number as this notation writes it (separators only in whole numbers of 1,000 and more).

        >>> Notation(latex=False, times="x", divide="/", separators=True).num(12345)
        '12,345'
        """
        if isinstance(value, int) and abs(value) >= 1000 and self.separators:
            return f"{value:,}"
        return str(value)

    def op(self, op: str) -> str:
        """An operator with its spaces: ``*``, ``/`` and ``-`` become this notation's signs (``·`` takes no spaces).

        >>> Notation(latex=False, times="·", divide="÷", separators=False).op("*")
        '·'
        >>> Notation(latex=False, times="×", divide="÷", separators=False, minus="−").op("-")
        ' − '
        """
        sign = {"*": self.times, "/": self.divide, "-": self.minus}.get(op, op)
        return sign if sign == "·" else f" {sign} "

    def frac(self, numerator: int, denominator: int) -> str:
        """A fraction: ``\\frac{a}{b}`` in LaTeX, else ``a/b``.

        >>> Notation(latex=False, times="x", divide="/", separators=False).frac(3, 4)
        '3/4'
        """
        return f"\\frac{{{numerator}}}{{{denominator}}}" if self.latex else f"{numerator}/{denominator}"

    def math(self, text: str) -> str:
        """``text`` as inline maths (``$...$`` in LaTeX, its thousands commas written as this notation's group).

        >>> Notation(latex=True, times="\\\\cdot", divide="\\\\div", separators=False).math("x + 1 = 3")
        '$x + 1 = 3$'
        """
        if not self.latex:
            return text
        if self.group != ",":
            text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", lambda _: self.group, text)
        return f"${text}$"

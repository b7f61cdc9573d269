"""Every kind's boxed answer equals a value read back from the problem's own text and computed here, exactly
(Fractions and integers, never eval): a wrong answer, or a text that says something else than the answer
assumes, fails."""

from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest

from m1reason.answers import extract_answer, is_equivalent
from m1reason.train.data import KINDS, make_problem, render_solution
from tests.train.exact import NUMBER, digits, equations, evaluate, math_span, number, plain
from tests.train.word_reader import read_story

PROBLEMS_PER_KIND = 300


def _ints(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.?]) ", text)[0]


def _no_money(text: str) -> str:
    return re.sub(r"[$£€]", "", text).replace(" dollars", "")


def _bare(text: str) -> Fraction:
    return evaluate(math_span(plain(text)))


_SAID = ((" plus ", " + "), (" minus ", " - "), (" take away ", " - "), (" multiplied by ", " * "),
         (" times ", " * "), (" divided by ", " / "))


def _arithmetic(text: str) -> Fraction:
    """A bare expression, a product of a list, or a question said in words (``seven times eight``)."""
    t = plain(digits(text))
    if re.search("product of|Multiply", t):
        product = Fraction(1)
        for n in _ints(t):
            product *= n
        return product
    for said, sign in _SAID:
        t = t.replace(said, sign)
    return _bare(t)


def _addition(text: str) -> Fraction:
    return Fraction(sum(_ints(plain(digits(text)))))


def _subtraction(text: str) -> Fraction:
    a, b = _ints(plain(digits(text)))
    return Fraction(max(a, b) - min(a, b))


def _multiplication(text: str) -> Fraction:
    ints = _ints(plain(digits(text)))
    if len(ints) == 1:  # double, twice, triple
        ints.append(3 if "riple" in text else 2)
    a, b = ints
    return Fraction(a * b)


def _division(text: str) -> str:
    ints = _ints(plain(digits(text)))
    a, b = ints if len(ints) == 2 else (ints[0], 2)  # halve
    q, r = divmod(max(a, b), min(a, b))
    if "quotient and" in text or re.search("with (a )?remainder", text):
        return f"{q} remainder {r}"
    if "remainder" in text or "left over" in text or " mod " in text:
        return str(r)
    assert r == 0, text
    return str(q)


_WORDED = ((r"(?:Add|What is the sum of|Find the sum of|Find the total of) (.+) and (.+?)[.?]$", "+"),
           (r"What is (.+) plus (.+?)\?$", "+"), (r"Subtract (.+) from (.+?)\.$", "-reversed"),
           (r"What is (.+) minus (.+?)\?$", "-"), (r"Find the difference between (.+) and (.+?)\.$", "-"),
           (r"Multiply (.+) by (.+?)\.$", "*"), (r"What is the product of (.+) and (.+?)\?$", "*"),
           (r"What is (.+) times (.+?)\?$", "*"),
           (r"(?:What is|Find|Calculate|How much is) (?!the )(.+) of (.+?)[.?]$", "*"),
           (r"Divide (.+) by (.+?)\.$", "/"), (r"What is (.+) divided by (.+?)\?$", "/"),
           (r"How many times does (.+) go into (.+?)\?$", "/reversed"),
           (r"Share (.+) equally into (.+?) parts\.$", "/"))


def _value(text: str, *, mixed_numbers: bool = False) -> Fraction:
    """A fraction, mixed-number or decimal question: a worded operation, else its one expression."""
    first = plain(_first_sentence(text))
    if mixed_numbers:
        first = re.sub(r"(\d+) \((\d+)/(\d+)\)", r"(\1 + \2/\3)", first)
    for pattern, op in _WORDED:
        match = re.match(pattern, first)
        if match:
            x, y = evaluate(match[1]), evaluate(match[2])
            if op.endswith("reversed"):
                x, y = y, x
            return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[op[0]]
    return evaluate(math_span(first))


def _mixed(text: str, answer: str) -> Fraction:
    if "as a mixed number" in text or "into a mixed number" in text:
        whole, _, part = answer.partition(" ")
        assert 0 < Fraction(part) < 1 and int(whole) >= 1, answer  # a proper mixed number, as asked
    return _value(text, mixed_numbers=True)


def _decimal(text: str, answer: str) -> Fraction:
    if not (text.startswith("Round") or "rounded to" in text or "correct to" in text):
        return _value(text)
    t = plain(text)
    value = Fraction(re.search(NUMBER, t)[0])
    if m := re.search(r"nearest (ten|hundred|thousand|10|100|1000)\b", t):
        unit = Fraction({"ten": 10, "hundred": 100, "thousand": 1000}.get(m[1]) or int(m[1]))
        places = 0
    else:
        places = next(p for words, p in (("whole number", 0), ("0 decimal", 0), ("tenth", 1), ("1 decimal", 1),
                                         ("one decimal", 1), ("hundredth", 2), ("2 decimal", 2), ("two decimal", 2))
                      if words in t)
        unit = Fraction(1, 10**places)
    rounded = (value / unit + Fraction(1, 2)).__floor__() * unit  # half up
    assert len(answer.partition(".")[2]) == places, (text, answer)  # the places asked for, trailing zeros too
    return rounded


def _percent(text: str) -> Fraction:
    t = _no_money(plain(text))
    if m := re.search(r"from (\d+) to (\d+)", t):
        old, new = int(m[1]), int(m[2])
        return Fraction(abs(new - old) * 100, old)
    for pattern, part_first in ((r"scored (\d+) out of (\d+)", True), (r"class of (\d+) students, (\d+) are", False),
                                (r"What percent(?:age)? of (\d+) is (\d+)", False),
                                (r"(\d+) is what percent of (\d+)", True),
                                (r"Express (\d+) as a percentage of (\d+)", True)):
        if m := re.search(pattern, t):
            part, whole = (int(m[1]), int(m[2])) if part_first else (int(m[2]), int(m[1]))
            return Fraction(part * 100, whole)
    pct = Fraction(re.search(r"(\d+)(?:%| percent)", t)[1])
    base = Fraction(re.search(r"\d+(?!\d|%| percent)", t)[0])
    part = base * pct / 100
    if t.endswith("left?") or t.endswith("keep?"):
        return base - part
    if re.search(r"Increase|goes up|grew|increased", t):
        return base + part
    if re.search(r"Decrease|off\.|discounted|decreased", t):
        return base - part
    return part


def _ratio(text: str) -> Fraction:
    t = _no_money(text)
    if m := re.search(r"in the ratio (\d+(?::\d+)+)", t):
        parts = [int(p) for p in m[1].split(":")]
        names = re.split(", | and ", re.search(r"([A-Z][a-z]+(?:, [A-Z][a-z]+)? and [A-Z][a-z]+)", t)[1])
        one = Fraction(int(re.search(r"(?:[Ss]hare|split) (\d+)", t)[1]), sum(parts))
        if m := re.search(r"How many more [a-z ]+ does (\w+) get than (\w+)\?", t):
            return (parts[names.index(m[1])] - parts[names.index(m[2])]) * one
        who = re.search(r"(?:does|go to) ([A-Z][a-z]+)(?: get)?\?$", t)[1]
        return parts[names.index(who)] * one
    if m := re.search(r"The ratio of ([a-z ]+) to ([a-z ]+) is (\d+):(\d+)", t):
        have = int(re.search(rf"There are (\d+) {m[1]}\.", t)[1])
        one = Fraction(have, int(m[3]))
        return one * int(m[4]) if t.endswith(f"How many {m[2]} are there?") else one * (int(m[3]) + int(m[4]))
    if m := re.search(r"(\d+) [a-z ]+ cost (\d+)[.,] (?:How much do|what do) (\d+) ", t):
        return Fraction(int(m[2]), int(m[1])) * int(m[3])
    if m := re.search(r"makes (\d+) [a-z ]+ in (\d+) minutes\. .* in (\d+) minutes\?", t):
        return Fraction(int(m[1]), int(m[2])) * int(m[3])
    if m := re.search(r"earns (\d+) for (\d+) hours", t):
        return Fraction(int(m[1]), int(m[2]))
    for pattern, how in ((r"(?:travels|goes) (\d+) [a-z]+ in (\d+) hours", "d/t"),
                         (r"at (\d+) (?:km/h|miles per hour) for (\d+) hours", "s*t"),
                         (r"in (\d+) hours at (\d+) ", "t*s"), (r"to travel (\d+) [a-z]+ at (\d+) ", "d/s"),
                         (r"at (\d+) .* a (\d+) [a-z]+ trip", "s,d"), (r"at (\d+) .* for (\d+) minutes", "s*m")):
        if m := re.search(pattern, t):
            a, b = int(m[1]), int(m[2])
            return {"d/t": Fraction(a, b), "s*t": Fraction(a * b), "t*s": Fraction(a * b), "d/s": Fraction(a, b),
                    "s,d": Fraction(b, a), "s*m": Fraction(a * b, 60)}[how]
    raise AssertionError(f"unread ratio problem: {text}")


_UNITS = {"mm": Fraction(1, 1000), "millimetres": Fraction(1, 1000), "cm": Fraction(1, 100),
          "centimetres": Fraction(1, 100), "centimeters": Fraction(1, 100), "m": 1, "metres": 1, "meters": 1,
          "km": 1000, "kilometres": 1000, "kilometers": 1000, "g": 1, "grams": 1, "kg": 1000, "kilograms": 1000,
          "ml": 1, "millilitres": 1, "milliliters": 1, "l": 1000, "litres": 1000, "liters": 1000, "s": 1,
          "seconds": 1, "min": 60, "minutes": 60, "h": 3600, "hours": 3600}


def _unit(text: str) -> Fraction:
    names = "|".join(sorted(_UNITS, key=len, reverse=True))
    target = re.search(rf"(?:How many ({names}) are in|(?:to|in) ({names})[.?]$|= \? ({names})$)", text)
    target = next(g for g in target.groups() if g)
    amounts = re.findall(rf"({NUMBER}) ({names})\b", text)
    return sum(Fraction(v) * _UNITS[u] for v, u in amounts) / _UNITS[target]


def _linear(side: str, letters: str) -> list[Fraction]:
    """Coefficients of ``letters`` and the constant of a linear expression, by evaluating it at unit points."""
    zero = {v: Fraction(0) for v in letters}
    constant = evaluate(side, zero)
    return [evaluate(side, {**zero, v: Fraction(1)}) - constant for v in letters] + [constant]


def _equation(text: str) -> Fraction:
    sign = lambda word: 1 if word in ("add", "added") else -1  # noqa: E731
    if m := re.search(r"multiply it by (\d+) and (add|subtract) (\d+)\. The result is (-?\d+)", text):
        return Fraction(int(m[4]) - sign(m[2]) * int(m[3]), int(m[1]))
    if m := re.search(r"(add|subtract) (\d+) and multiply the result by (\d+)\. I get (-?\d+)", text):
        return Fraction(int(m[4]), int(m[3])) - sign(m[1]) * int(m[2])
    if m := re.search(r"divided by (\d+) and then (\d+) is (added|taken away)\. The result is (-?\d+)", text):
        return (int(m[4]) - sign(m[3]) * int(m[2])) * Fraction(int(m[1]))
    [(left, right)] = equations(plain(text, times_x=False))
    [letter] = set(re.findall("[a-z]", left + right))
    a, c1 = _linear(left, letter)
    b, c2 = _linear(right, letter)
    return (c2 - c1) / (a - b)


def _system(text: str) -> str:
    t = _no_money(text)
    if m := re.search(r"Adult tickets cost (\d+) and child tickets cost (\d+)\. \w+ buys (\d+) tickets for (\d+)", t):
        adult, child, count, total = map(int, m.groups())
        adults = Fraction(total - count * child, adult - child)
        return str(adults if "many adult" in t else count - adults)
    if m := re.search(r"Two numbers add up to (-?\d+) and their difference is (-?\d+)", t):
        s, d = int(m[1]), int(m[2])
        return str(Fraction(s + d, 2) if "larger" in t else Fraction(s - d, 2))
    (l1, r1), (l2, r2) = equations(plain(t, times_x=False))
    a1, b1, c1 = (p - q for p, q in zip(_linear(l1, "xy"), _linear(r1, "xy")))
    a2, b2, c2 = (p - q for p, q in zip(_linear(l2, "xy"), _linear(r2, "xy")))
    det = a1 * b2 - a2 * b1
    x, y = (-c1 * b2 + c2 * b1) / det, (-a1 * c2 + a2 * c1) / det
    asked = re.search(r"(?:what is|find) ([xy])[?.]$", t, re.IGNORECASE)
    if asked:
        return str(x if asked[1] == "x" else y)
    return f"x = {x}, y = {y}"


def _geometry(text: str) -> Fraction:
    nums = [Fraction(n) for n in re.findall(r"\d+", text.split("?")[0].replace("cm²", "").replace("m²", ""))]
    if "triangle" in text:
        if "sides" in text:
            return sum(nums[:3])
        base = int(re.search(r"base (?:of |is )?(\d+)", text)[1])
        height = int(re.search(r"height (?:of |is )?(\d+)", text)[1])
        return Fraction(base * height, 2)
    if re.search(r"\b[Aa] square (?:has|with|tile)|square (?:tile|with)", text):
        if "has a perimeter of" in text:
            return (nums[0] / 4) ** 2
        return nums[0] ** 2 if "area" in text else 4 * nums[0]
    if m := re.search(r"area of (\d+) .* length of (\d+)", text):
        return Fraction(int(m[1]), int(m[2]))
    if m := re.search(r"perimeter of (\d+) .* length of (\d+)", text):
        return Fraction(int(m[1]), 2) - int(m[2])
    a, b = nums[:2]
    return a * b if re.search("area|space", text) else 2 * (a + b)


def _average(text: str) -> Fraction:
    listed = re.search(r"\d+(?:, \d+)* and \d+", text)
    values = [int(v) for v in re.findall(r"\d+", listed[0])] if listed else []
    if m := re.search(r"mean of (\d+) numbers is (\d+)", text):
        count, mean = int(m[1]), int(m[2])
    elif m := re.search(r"mean score of (\d+) over (\d+) tests", text):
        mean, count = int(m[1]), int(m[2])
    elif m := re.search(r"mean score over (\d+) games is (\d+)", text):
        count, mean = int(m[1]), int(m[2])
    else:
        return Fraction(sum(values), len(values))
    if "sum" in text or "total" in text:
        return Fraction(count * mean)
    assert len(values) == count - 1, text
    return Fraction(count * mean - sum(values))


def _clock_minutes(clock: str) -> int:
    hour, minute, half = re.fullmatch(r"(\d+):(\d+)(?: (am|pm))?", clock).groups()
    hour = int(hour) % 12 + (12 if half == "pm" else 0) if half else int(hour)
    return hour * 60 + int(minute)


def _word(text: str) -> Fraction:
    t = _no_money(text)
    if m := re.search(r"(\w+) has (\d+) ([a-z ]+)\. \1 buys (\d+) bags with (\d+) ", t) or re.search(
            r"(\w+) buys (\d+) bags with (\d+) [a-z ]+ in each bag\..*", t):
        have = int(re.search(rf"\b{m[1]} has (\d+) ", t)[1])
        bags, each = map(int, re.search(r"buys (\d+) bags with (\d+) ", t).groups())
        return Fraction(have + bags * each)
    if m := re.search(r"(\w+) has (\d+) [a-z ]+ and gets (\d+) more packs of (\d+)\.", t):
        give = int(re.search(r"gives away (\d+)\.", t)[1])
        return Fraction(int(m[2]) + int(m[3]) * int(m[4]) - give)
    if m := re.search(r"buys (\d+) [a-z ]+ at (\d+) each and (?:(\d+) [a-z ]+ at (\d+) each|1 [a-z ]+ for (\d+))\.", t):
        cost = int(m[1]) * int(m[2]) + (int(m[3]) * int(m[4]) if m[3] else int(m[5]))
        paid = re.search(r"pays with (\d+)\.", t)
        return Fraction(int(paid[1]) - cost if paid else cost)
    if m := re.search(r"has (\d+) [a-z ]+ and shares them equally among (\d+) friends", t):
        return Fraction(int(m[1]), int(m[2]))
    if m := re.search(r"packs (\d+) [a-z ]+ into boxes of (\d+)\.", t):
        return Fraction(int(m[1]) // int(m[2]))
    if m := re.search(r"shares (\d+) [a-z ]+ equally among (\d+) friends\. .*left over", t):
        return Fraction(int(m[1]) % int(m[2]))
    if m := re.search(r"(\w+) is (\d+) times as old as (\w+)\.", t):
        young = int(re.search(rf"{m[3]} is (\d+) years old", t)[1])
        return Fraction(int(m[2]) * young + int(re.search(r"be in (\d+) years", t)[1]))
    if m := re.search(r"In (\d+) years, (\w+) will be (\d+) years old\..* (\d+) years ago", t):
        return Fraction(int(m[3]) - int(m[1]) - int(m[4]))
    if m := re.search(r"(\w+) is (\d+) years older than (\w+)\.", t):
        total = int(re.search(r"sum of their ages is (\d+)", t)[1])
        older = re.search(r"How old is (\w+)\?", t)[1] == m[1]
        return Fraction(total + int(m[2]), 2) if older else Fraction(total - int(m[2]), 2)
    if m := re.search(r"for (\d+) minutes a day for (\d+) days", t):
        return Fraction(int(m[1]) * int(m[2]))
    if m := re.search(r"starts at (\d+:\d+(?: [ap]m)?) and ends at (\d+:\d+(?: [ap]m)?)\.", t):
        return Fraction(_clock_minutes(m[2]) - _clock_minutes(m[1]))
    if m := re.search(r"has (\d+) and saves (\d+) each week\..* to have (\d+)\?", t):
        return Fraction(int(m[3]) - int(m[1]), int(m[2]))
    if m := re.search(r"(\w+) has (\d+) times as many ([a-z ]+) as (\w+)\.", t):
        few = int(re.search(rf"\b{m[4]} has (\d+) ", t)[1])
        return Fraction(int(m[2]) * few + few if "together" in t else int(m[2]) * few - few)
    if m := re.search(r"(\d+) rows of (\d+) chairs\.", t):
        return Fraction(int(m[1]) * int(m[2]) - int(re.search(r"(\d+) people sit down", t)[1]))
    if m := re.search(r"had (\d+)\..* spent (\d+) on a book and then half of the rest", t):
        return Fraction(int(m[1]) - int(m[2]), 2)
    return read_story(text)  # the one- and two-step stories of stories.py


_READERS = {"arithmetic": _arithmetic, "order": _bare, "addition": _addition, "subtraction": _subtraction,
            "multiplication": _multiplication, "fraction": _value, "percent": _percent, "ratio": _ratio,
            "unit": _unit, "equation": _equation, "geometry": _geometry, "average": _average, "word": _word}


def test_every_kind_has_a_reader():
    assert set(_READERS) | {"division", "mixed_number", "decimal", "system"} == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_boxed_answer_is_the_value_the_text_asks_for(kind):
    rng = random.Random(f"answers-{kind}")
    for _ in range(PROBLEMS_PER_KIND):
        p = make_problem(rng, kind)
        if kind == "division":
            assert p.answer == _division(p.problem), p
        elif kind == "system":
            assert p.answer == _system(p.problem), p
        elif kind == "mixed_number":
            assert number(p.answer) == _mixed(p.problem, p.answer), p
        elif kind == "decimal":
            assert number(p.answer) == _decimal(p.problem, p.answer), p
        else:
            assert number(p.answer) == _READERS[kind](p.problem), p
        assert is_equivalent(extract_answer(render_solution(p)), p.answer), p


def test_answers_are_written_plainly():
    """Integers, decimals and a/b in lowest terms; "q remainder r", a mixed number or "x = a, y = b" only where
    the question asks for one."""
    shapes = re.compile(rf"-?{NUMBER}|-?\d+/\d+|\d+ remainder \d+|\d+ \d+/\d+|x = -?\d+, y = -?\d+")
    for kind in KINDS:
        rng = random.Random(f"shapes-{kind}")
        for _ in range(100):
            answer = make_problem(rng, kind).answer
            assert shapes.fullmatch(answer), (kind, answer)
            if re.fullmatch(r"-?\d+/\d+", answer):
                assert Fraction(answer).denominator == int(answer.split("/")[1]) > 1, answer

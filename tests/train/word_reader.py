"""Reads the answer of a ``stories`` word problem back from its text alone, for test_data_answers: the
multi-step stories by what they say (each change's verb, a fraction's words, the question's "needed" or "left
over", "more than", prices with cents, "as many as", a mean, a rate), the two-step stories by their sentence
patterns, a one-step story by its two numbers and the words that say which operation it needs (``in all``,
``left``, ``how many more``, ``each``, ``shared equally``, ...). Irrelevant facts are dropped first by the
patterns ``phrasing`` draws them from, and pronouns turned back into names (``with_names``)."""

from __future__ import annotations

import re
from fractions import Fraction

from m1reason.train.data import phrasing
from tests.train.exact import digits, plain

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


def _sentences(text: str) -> list[str]:
    """The sentences of a story in plain maths, without money signs and without its irrelevant facts."""
    t = re.sub(r"[$£€]", "", plain(text)).replace(" dollars", "")
    return [s for s in re.split(r"(?<=[.?]) ", t) if not any(d.fullmatch(s) for d in _IRRELEVANT)]


def _ints(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?<![\d.])\d+(?!\d|\.\d)", text)]  # whole numbers, not a price's parts


# --- multi-step stories --------------------------------------------------------------------------------------

_PRICE = r"(\d+(?:\.\d\d)?)"


def _money(sentences: list[str]) -> Fraction | None:
    """Prices with cents: what is spent, or the change from a note, or what is left of some money."""
    t = " ".join(sentences)
    if not re.search(r"\d\.\d\d\b", t):
        return None
    cost = sum(int(k) * Fraction(p) for k, p in re.findall(rf"buys (\d+) [a-z ]+ at {_PRICE} each", t))
    if m := re.search(rf"cost {_PRICE} each\. How much do (\d+) ", t):
        cost += Fraction(m[1]) * int(m[2])
    cost += sum(Fraction(p) for p in re.findall(rf"\bfor {_PRICE}\b", t))
    if "one of each" in t:
        cost += sum(Fraction(p) for p in re.findall(rf"costs {_PRICE}\b", t))
    if paid := re.search(rf"(?:pays with|has) {_PRICE}\.", t):
        return Fraction(paid[1]) - cost
    return cost


def _rate(sentences: list[str]) -> Fraction | None:
    """So much a day (minute, hour): how long the whole, or what is still to do, takes."""
    t, question = " ".join(sentences), sentences[-1]
    rate = re.search(r"(\d+) [a-z ]+? (?:a|an|per) (?:day|minute|hour)\b", t)
    if not rate or not re.match(r"How many (?:more )?(?:days|minutes|hours) .*(?:take|need)", question):
        return None
    done = re.search(r"already \w+ (\d+)", t)
    [total] = [n for n in _ints(t) if n not in (int(rate[1]), int(done[1]) if done else None)] or [int(rate[1])]
    return Fraction(total - (int(done[1]) if done else 0), int(rate[1]))


def _mean(sentences: list[str]) -> Fraction | None:
    """The mean of a list, or the next value that makes a given mean."""
    question = sentences[-1]
    if not re.search(r"mean|average", question):
        return None
    values = [int(v) for v in re.findall(r"\d+", re.search(r"\d+(?:, \d+)* and \d+", " ".join(sentences))[0])]
    if m := re.search(r"mean of (\d+)", question):
        return Fraction((len(values) + 1) * int(m[1]) - sum(values))
    return Fraction(sum(values), len(values))


_AS_MANY = re.compile(r"(?:(\d+) (more|fewer) than )?(twice|half|a third|a quarter|\d+ times) as many ([a-z ]+?) "
                      r"as (\w+)|(\d+) (more|fewer) ([a-z ]+?) than (\w+)")
_TIMES = {"twice": Fraction(2), "half": Fraction(1, 2), "a third": Fraction(1, 3), "a quarter": Fraction(1, 4)}


def _compared(m: re.Match, values: dict[str, Fraction]) -> tuple[str, Fraction]:
    """The thing a comparison is about and its amount, from the amount it is compared with."""
    if m[3]:
        factor = _TIMES.get(m[3]) or Fraction(int(m[3].split()[0]))
        extra = int(m[1]) * (1 if m[2] == "more" else -1) if m[1] else 0
        return m[4], values[m[5]] * factor + extra
    return m[8], values[m[9]] + int(m[6]) * (1 if m[7] == "more" else -1)


def _comparisons(sentences: list[str]) -> Fraction | None:
    """Amounts told by comparison with one another, ``3 times as many``, ``5 more than twice as many``."""
    if sum(" as many " in s or " than " in s for s in sentences) < 2:  # cheap first: most stories compare nothing
        return None
    said = [digits(s) for s in sentences]
    if sum(bool(_AS_MANY.search(s)) for s in said) < 2:
        return None
    first = re.match(r"(.+?) has (\d+) ([a-z ]+)\.$", said[0])
    values = {first[3] if first[1].startswith(("A ", "An ")) else first[1]: Fraction(int(first[2]))}
    for s in said[1:-1]:
        noun, value = _compared(_AS_MANY.search(s), values)
        values[noun if s.startswith("It ") else s.split()[0]] = value
    question = said[-1]
    if re.search(r"in all|altogether|in total", question):
        return sum(values.values())
    asked = re.search(r"does (\w+) have\?", question)[1]
    return values[re.search(r"How many ([a-z ]+) does it", question)[1] if asked == "it" else asked]


_FRACTION = (r"\((\d+)/(\d+)\)|\b(half)\b|\b(a|one|two|three|four|five|six|seven|nine) "
             r"(third|quarter|fourth|fifth|sixth|eighth|tenth)s?\b")
_DENOMINATORS = {"third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6, "eighth": 8, "tenth": 10}
_NUMERATORS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "nine": 9}


def _fraction_value(m: re.Match) -> Fraction:
    if m[1]:
        return Fraction(int(m[1]), int(m[2]))
    if m[3]:
        return Fraction(1, 2)
    return Fraction(_NUMERATORS[m[4].lower()], _DENOMINATORS[m[5]])


def _fractions(sentences: list[str]) -> Fraction | None:
    """A fraction of an amount, maybe then a number or a fraction of the rest: the part, or what is left."""
    t = " ".join(sentences)
    found = list(re.finditer(rf"(?:{_FRACTION}) of (the rest|them|it|the \d+|the water)", t, re.IGNORECASE))
    if not found or found[0][6] == "the rest":
        return None
    whole = _ints(re.sub(_FRACTION, "", t, flags=re.IGNORECASE))[0]
    part = whole * _fraction_value(found[0])
    rest = whole - part
    taken = Fraction(0)
    if len(found) > 1:
        taken = rest * _fraction_value(found[1])
    elif m := re.search(r"(?:and|used) (\d+) (?:to|on)\b", t):
        taken = Fraction(int(m[1]))
    if re.search(r"left|not|free", sentences[-1]):
        return rest - taken
    return part


_GAINS = re.compile(r"get on|board|wins|brings|gets \d+ more|brought back|pays in|deposits|puts in|buys|is given|"
                    r"arrive|drive in|scores|are added|adds")
_LOSSES = re.compile(r"get off|\bleave\b|sells|loses|takes out|withdraws|throws away|gives away|drive out|are used|"
                     r"leak out")


def _changes(sentences: list[str]) -> Fraction | None:
    """One amount changed again and again: the amount at the end, or at the start from the end."""
    events, end = [], None
    for s in sentences[1:-1]:
        if re.match(r"Now|At the end", s):
            end = _ints(s)[0]
            continue
        for clause in re.split(r", | and ", s):
            if not _ints(clause):
                continue
            sign = 1 if _GAINS.search(clause) else -1 if _LOSSES.search(clause) else 0
            if not sign:
                return None
            events.append(sign * _ints(clause)[0])
    if len(events) < 3:
        return None
    if end is not None:
        return Fraction(end - sum(events))
    return Fraction(_ints(sentences[0])[0] + sum(events))


def _sum_difference(sentences: list[str]) -> Fraction | None:
    """Two amounts from their total and how much more one has: the larger or the smaller."""
    t, question = " ".join(sentences), sentences[-1]
    numbers = _ints(" ".join(sentences[:-1]))
    gap = re.search(r"(\d+) (more|fewer) (?:[a-z ]+ )?than", t)
    if not gap or len(numbers) != 2 or not re.search(r"together|between them|in all|sum of|There are \d+ ", t):
        return None
    total = sum(numbers) - int(gap[1])
    m = re.search(r"There are \d+ (?:more|fewer) (\w+) than (\w+)\.", t) or re.search(
        r"(\w+)(?: box)? (?:has|holds|costs|scored|is) \d+ (?:more|fewer) (?:[a-z ]+ )?than (?:the )?(\w+)", t)
    first, second = m[1], m[2]
    larger, smaller = (first, second) if gap[2] == "more" else (second, first)
    small = Fraction(total - int(gap[1]), 2)
    asked = re.search(r"\b(larger|smaller)\b", question)
    if (asked[1] == "larger") if asked else re.search(rf"\b{larger}\b", question):
        return small + int(gap[1])
    assert asked or re.search(rf"\b{smaller}\b", question), question
    return small


def _rounded(sentences: list[str]) -> Fraction | None:
    """A division whose remainder decides: rounded up for what is needed, down for what can be made or filled,
    or the remainder for what is left over."""
    question, numbers = sentences[-1], _ints(" ".join(sentences))
    if re.search(r"left over|left after buying|not in a team", question):
        how = "left"
    elif re.match(r"How many .*(?:needed|\bneed\b|must [\w ]*(?:buy|make)\?|does the lift make)", question):
        how = "up"
    elif re.search(r"\bcan\b.*\b(?:fill|make|buy|be made|be filled)\b|full sets|complete", question):
        how = "down"
    else:
        return None
    if len(numbers) != 2:
        return None
    q, r = divmod(max(numbers), min(numbers))
    return Fraction({"left": r, "up": q + (r > 0), "down": q}[how])


# In this order: a reader that comes later could take a story of one before it for its own.
_MULTI_STEP = (_money, _rate, _mean, _comparisons, _fractions, _changes, _sum_difference, _rounded)


def with_names(text: str) -> str:
    """``text`` with the pronouns ``phrasing.refer_back`` wrote turned back into the names they stand for: each
    pair (he/his, she/her) stands for the one person in the story who takes it (no story has pronouns otherwise,
    and "her" is only ever the possessive there)."""
    for subject, possessive in set(phrasing.PRONOUNS.values()):
        named = [n for n, p in phrasing.PRONOUNS.items() if p == (subject, possessive) and re.search(rf"\b{n}\b", text)]
        if len(named) == 1:
            for word, name in ((possessive, f"{named[0]}'s"), (subject, named[0])):
                text = re.sub(rf"\b{word}\b", name, re.sub(rf"\b{word.capitalize()}\b", name, text))
    return text


def read_multi_step(text: str) -> Fraction | None:
    """The answer of one of ``stories.MULTI_STEP``'s stories, computed from its text; None for any other."""
    sentences = _sentences(with_names(text))
    for reader in _MULTI_STEP:
        if (value := reader(sentences)) is not None:
            return value
    return None


def read_story(text: str, *, multi_step: bool = True) -> Fraction:
    """The answer of a ``stories`` problem, computed from its text (one of two steps or fewer when not
    ``multi_step``: a caller that has tried ``read_multi_step`` already)."""
    value = read_multi_step(text) if multi_step else None
    if value is not None:
        return value
    sentences = _sentences(with_names(text))
    t = " ".join(sentences)
    value = _two_step(t)
    if value is not None:
        return value
    return _one_step(" ".join(sentences[:-1]), sentences[-1])

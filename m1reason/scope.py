"""A model's scope: what it was trained to answer, and ``Scope.check(problem)``, whether a problem falls inside it.

A small model answers whatever it is asked, and outside its training it answers confidently wrong; a generator
that carries a scope (``generator.scope``) lets a strategy answer "out of scope" instead, before drawing a sample.
This module owns the rules and their reasons; it knows nothing of generators or strategies. The check runs on
every request, so it is linear in the text: one lower-casing, one split into words, set look-ups and a few
regular expressions. Where a rule is in doubt it keeps the problem: a wrong refusal denies a student a fair
question, while a missed one costs only what every problem cost before scopes existed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from m1reason import _curriculum

__all__ = ["EMBEDDED_SCOPE", "Scope", "ScopeVerdict", "Topic", "words_of"]

_WORD = re.compile(r"[^\W\d_]+")  # runs of letters, any script
_COMMAND = re.compile(r"\\([A-Za-z]+)")
# A number as written, thousands separators (1,234,567, 1{,}234, thin spaces) and a decimal part included.
_NUMBER = re.compile(r"\d+(?:(?:,|\{,\}|[\u2009\u202f])\d{3})*(?:\.\d+)?")
_DIGIT = re.compile(r"\d|[\u00bc-\u00be\u2150-\u215e]")  # fullwidth digits are \d too
# Characters that write mathematics: Greek, superscripts, letterlike symbols (ℝ), arrows, operators, technical
# symbols (⌊ ⌋), the supplemental blocks, mathematical alphanumerics (𝔽), and the Latin-1 signs ¬ ± ¹.
_SYMBOL = re.compile("[\u00ac\u00b1\u00b9\u0370-\u03ff\u2070-\u207f\u2100-\u214f\u2190-\u23ff\u27c0-\u27ff"
                     "\u2900-\u2aff\U0001d400-\U0001d7ff]")
# Letters of the Latin script (ASCII, Latin-1, Extended-A/B, Extended Additional); any other letter is not.
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def words_of(text: str) -> list[str]:
    """The lower-cased words of ``text`` that a vocabulary counts: runs of letters of any script, two or more long
    (a lone letter is a variable or an initial, not a word).

    >>> words_of("Sam has 12 apples; x = 3. Hoeveel is 45 gedeeld door 9?")
    ['sam', 'has', 'apples', 'hoeveel', 'is', 'gedeeld', 'door']
    """
    return _counted(_WORD.findall(text.lower()))


def _counted(letter_runs: list[str]) -> list[str]:
    return [w for w in letter_runs if len(w) > 1]


# A problem of at least this many words (words_of), fewer than this share of them in a scope's vocabulary, is
# written in words the model never met: another language, or a subject its curriculum never wrote about. The
# hand-written development problems in scope reach no lower than 0.5 (two words) and 0.58 (three or more).
VOCABULARY_MIN_WORDS = 3
VOCABULARY_MIN_SHARE = 0.4


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that almost every English problem has and no other language spells the same way ("a", "in", "on", "do"
# are left out: they are Spanish, German, French and Portuguese words too).
ENGLISH = _vocabulary("the of and to is are was were what how many much if has have had does did with for each it "
                      "she they his her their there this that you your by from at which who when than then will "
                      "be can after into more")
# Function words of other languages written in Latin letters, and the verbs their exercises open with ("Calcula",
# "Berechne"); two of one language, and no English word above, is not English.
FOREIGN = {
    "Spanish": _vocabulary("el los las una es que por para con del de y tiene cuántos cuántas cuánto cuál cada "
                           "hay sus en calcula calcule halla encuentra resuelve"),
    "French": _vocabulary("le les une des est sont et du de combien quel quelle avec pour dans qui chaque il elle "
                          "ont sur en calcule calculez trouve trouvez résous résolvez"),
    "German": _vocabulary("der die das und ist sind ein eine einen wie viele viel mit für von zu hat haben jede "
                          "jeder den dem nicht auf wenn berechne berechnen finde löse"),
    "Italian": _vocabulary("il lo gli della di che è sono quanti quante quanto con ogni ha hanno una un del "
                           "ciascuno calcola trova risolvi"),
    "Portuguese": _vocabulary("os um uma é são da do de quantos quantas quanto com para em cada tem têm que não "
                              "calcule encontre resolva"),
}
# Words that put numbers into a problem without digits: number words, and units and operations (a question such
# as "How many minutes are in an hour?" is arithmetic).
NUMBER_WORDS = _vocabulary(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand "
    "thousands million millions billion half halves halved third thirds quarter quarters fourth fifth tenth "
    "tenths dozen dozens twice double doubled triple tripled pair pairs percent percentage fraction fractions "
    "decimal decimals plus minus add subtract multiply divide divided perimeter average ratio equation equations "
    "seconds minute minutes hour hours gram grams kilogram kilograms metre metres meter meters centimetre "
    "centimetres centimeter centimeters kilometre kilometres kilometer kilometers litre litres liter liters "
    "millilitre millilitres milliliter milliliters cm km kg ml cents dollars euros pence pounds")


class ScopeVerdict(BaseModel):
    """Whether a problem is inside a model's scope and, when it is not, why in words (naming what triggered it).

    >>> ScopeVerdict(in_scope=False, reason="out of the embedded model's scope: calculus ('integral')").in_scope
    False
    """

    model_config = ConfigDict(frozen=True)

    in_scope: bool
    reason: str | None = None

    @model_validator(mode="after")
    def _reason_iff_out(self) -> ScopeVerdict:
        if self.in_scope == bool(self.reason):
            raise ValueError("a verdict has a reason exactly when the problem is out of scope")
        return self


class Topic(BaseModel):
    """A subject outside a model's training: ``words`` (whole words or phrases, any case: "show that" also matches
    "Show  that" and "show-that"), ``patterns`` (regular expressions for its notation, searched in the lower-cased
    problem; one that starts with a literal character is found fastest, see m1reason._curriculum) and ``unless``
    (words or phrases whose presence in a problem makes this topic's matches fit after all: "volume" beside "ml" is
    a liquid measure, a unit conversion).

    >>> Topic(name="calculus", words=("integral", "d x")).words
    ('integral', 'd x')
    >>> Topic(name="calculus", words=("d/dx",))
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Topic
    ...
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    @field_validator("words", "unless")
    @classmethod
    def _plain_words(cls, phrases: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in phrases:
            if " ".join(_WORD.findall(phrase.lower())) != " ".join(phrase.lower().replace("-", " ").split()):
                raise ValueError(f"{phrase!r} is not plain words: write notation as one of the patterns")
        return phrases

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"pattern {pattern!r} is not a regular expression: {err}") from None
        return patterns


class Scope(BaseModel):
    """What a model covers. A problem is out of scope when it is not in English (``english_only``), touches one of
    ``topics``, uses a LaTeX command outside ``latex_commands`` or a mathematical symbol outside ``symbols`` (None:
    any), has a number of more than ``max_digits`` digits (None: any length), is written mostly in words outside
    ``vocabulary`` (the words its training data used; None: any words; see ``VOCABULARY_MIN_SHARE``), or has no
    numbers at all (``needs_numbers``: no digits and no number words, so trivia or chat). ``name`` appears in
    every reason.
    ``Scope.everything()`` covers everything (M1-3B, unknown models); ``EMBEDDED_SCOPE`` is the embedded model's.

    >>> EMBEDDED_SCOPE.check("Find the integral of 3x + 2.").reason
    "out of the embedded model's scope: calculus ('integral')"
    >>> EMBEDDED_SCOPE.check("What is 15% of 240?").in_scope, Scope.everything().check("∫ x dx").in_scope
    (True, True)
    >>> Scope.model_validate_json(EMBEDDED_SCOPE.model_dump_json()) == EMBEDDED_SCOPE
    True
    """

    model_config = ConfigDict(frozen=True)

    name: str = "this model"
    topics: tuple[Topic, ...] = ()
    latex_commands: frozenset[str] | None = None
    symbols: str | None = None
    max_digits: int | None = Field(default=None, ge=1)
    vocabulary: frozenset[str] | None = None
    english_only: bool = False
    needs_numbers: bool = False

    @classmethod
    def everything(cls) -> Scope:
        """The scope of a model that is asked anything (M1-3B, or a model nobody described): every problem is in.

        >>> Scope.everything().check("Prove that there are infinitely many primes.")
        ScopeVerdict(in_scope=True, reason=None)
        """
        return cls()

    def check(self, problem: str) -> ScopeVerdict:
        """Whether ``problem`` is inside this scope; if not, the reason names the rule and what triggered it.

        >>> EMBEDDED_SCOPE.check("What is the capital of France?").reason
        "out of the embedded model's scope: no numbers or number words in it, so nothing to calculate"
        """
        why = _why_out(self, problem)
        if why is None:
            return ScopeVerdict(in_scope=True)
        return ScopeVerdict(in_scope=False, reason=f"out of {self.name}'s scope: {why}")


def _why_out(scope: Scope, text: str) -> str | None:
    """The first rule ``text`` breaks, in words, or None. Topics come before notation, so a reason names the
    subject ("calculus") where it can; "no numbers" after them, as "prove this" or "what is sin x" has none; unknown
    words last, the vaguest reason."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    if scope.english_only and (why := _not_english(text, words)):
        return why
    if why := _rules(scope).topic(text, lowered, words):
        return why
    if scope.latex_commands is not None and (why := _unknown_command(text, scope.latex_commands)):
        return why
    if scope.symbols is not None and (why := _unknown_symbol(text, scope.symbols)):
        return why
    if scope.max_digits is not None and (why := _long_number(text, scope.max_digits)):
        return why
    if scope.needs_numbers and (why := _no_numbers(text, words)):
        return why
    return _unknown_words(words, scope.vocabulary) if scope.vocabulary is not None else None


class _Rules:
    """A scope's topics made fast: phrases as word tuples (found among the text's n-grams), patterns compiled."""

    def __init__(self, topics: tuple[Topic, ...]):
        def phrases(texts):
            return tuple(tuple(_WORD.findall(t.lower())) for t in texts)

        self.topics = [(t.name, phrases(t.words), _compile(t.patterns), phrases(t.unless)) for t in topics]

    def topic(self, text: str, lowered: str, words: list[str]) -> str | None:
        present = set(words)
        grams: dict[int, set] = {}

        def has(phrase: tuple[str, ...]) -> bool:
            if phrase[0] not in present:  # most phrases end here, before any n-gram is made
                return False
            size = len(phrase)
            if size == 1:
                return True
            if size not in grams:
                grams[size] = set(zip(*(words[i:] for i in range(size))))
            return phrase in grams[size]

        for name, phrases, pattern, unless in self.topics:
            hit = next((" ".join(p) for p in phrases if has(p)), None)
            if hit is None and pattern is not None:
                match = pattern.search(lowered)
                hit = _excerpt(text if len(text) == len(lowered) else lowered, match) if match else None
            if hit is not None and not any(has(p) for p in unless):
                return f"{name} ('{hit}')"  # quoted as written: repr() would double a LaTeX backslash
        return None


def _compile(patterns: tuple[str, ...]) -> re.Pattern | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _excerpt(text: str, match: re.Match, most: int = 24) -> str:
    """The notation a pattern found, as the problem writes it: the match widened to the run of non-space
    characters around it ("2^10", not "^"), at most ``most`` characters each side, end punctuation and a pair
    of math delimiters ("$3^{4}$") dropped."""
    start, end = match.span()
    before = _TRAILING_RUN.search(text, max(0, start - most), start).group()
    after = _LEADING_RUN.match(text, end, end + most).group()
    chunk = (before + text[start:end] + after).strip().rstrip(".,;:?")
    return chunk[1:-1] if len(chunk) > 2 and chunk[0] == chunk[-1] == "$" else chunk


_TRAILING_RUN, _LEADING_RUN = re.compile(r"\S*\Z"), re.compile(r"\S*")


@functools.lru_cache(maxsize=32)
def _rules(scope: Scope) -> _Rules:
    return _Rules(scope.topics)


def _not_english(text: str, words: list[str]) -> str | None:
    """Mostly letters of another script, or Latin-script words with no English function word and at least two
    function words of one other language. LaTeX command names are not counted as Latin letters."""
    others = [c for c in _NON_LATIN_LETTER.findall(text) if c.isalpha()]  # \w also has ² and ½
    latin = sum(map(str.isalpha, _COMMAND.sub(" ", text))) - len(others)
    if others and len(others) > latin:
        scripts = Counter(unicodedata.name(c, "?").split(" ")[0] for c in others[:500])
        script = scripts.most_common(1)[0][0]
        return f"not in English (mostly {_SCRIPTS.get(script, script.title())} letters)"
    present = set(words)
    if present & ENGLISH:
        return None
    hits = {language: sorted(present & vocabulary) for language, vocabulary in FOREIGN.items()}
    language, found = max(hits.items(), key=lambda item: len(item[1]))
    if len(found) >= 2:
        return f"not in English (it reads as {language}: {', '.join(repr(w) for w in found[:3])})"
    return None


_SCRIPTS = {"CJK": "Chinese or Japanese (CJK)", "HANGUL": "Korean (Hangul)", "HIRAGANA": "Japanese (kana)",
            "KATAKANA": "Japanese (kana)"}


def _unknown_command(text: str, known: frozenset[str]) -> str | None:
    for match in _COMMAND.finditer(text):
        if match.group(1) not in known:
            return f"LaTeX it was not taught ('\\{match.group(1)}')"
    return None


def _unknown_symbol(text: str, known: str) -> str | None:
    for match in _SYMBOL.finditer(text):
        char = match.group()
        if char not in known:
            return f"notation it was not taught ('{char}', {unicodedata.name(char, 'a symbol').lower()})"
    return None


def _long_number(text: str, most: int) -> str | None:
    for match in _NUMBER.finditer(text):
        if match.end() - match.start() <= most:
            continue
        number = match.group()
        digits = sum(c.isdigit() for c in number)
        if digits > most:
            shown = number if len(number) <= 24 else number[:23] + "\u2026"
            return f"a number longer than it handles ('{shown}': {digits} digits, at most {most})"
    return None


def _unknown_words(letter_runs: list[str], vocabulary: frozenset[str]) -> str | None:
    words = _counted(letter_runs)  # words_of, from the runs _why_out has found already
    known = sum(w in vocabulary for w in words)
    if len(words) < VOCABULARY_MIN_WORDS or known >= VOCABULARY_MIN_SHARE * len(words):
        return None
    new = list(dict.fromkeys(w for w in words if w not in vocabulary))  # in order, once each
    shown = ", ".join(f"'{w}'" for w in new[:3]) + (", ..." if len(new) > 3 else "")
    return f"written mostly in words it was never taught ({shown}: {known} of {len(words)} words known)"


def _no_numbers(text: str, words: list[str]) -> str | None:
    if _DIGIT.search(text) or not NUMBER_WORDS.isdisjoint(words):
        return None
    return "no numbers or number words in it, so nothing to calculate"


# The embedded tiny model's scope: its curriculum (m1reason._curriculum) and nothing else.
EMBEDDED_SCOPE = Scope(
    name=_curriculum.NAME,
    topics=tuple(Topic(name=name, words=words, patterns=patterns, unless=unless)
                 for name, words, patterns, unless in _curriculum.TOPICS),
    latex_commands=_curriculum.LATEX_COMMANDS, symbols=_curriculum.SYMBOLS, max_digits=_curriculum.MAX_DIGITS,
    vocabulary=_curriculum.vocabulary(), english_only=True, needs_numbers=True)

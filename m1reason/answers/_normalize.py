"""LaTeX clean-up shared by every comparison: one spelling for one notation.

Owns the string-level rewrites (spacing, ``\\dfrac``, ``\\left(``, unicode, e-notation, ``\\frac12``),
the markers stripped from an answer (percent, degrees, units in ``\\text{}``/``\\mathrm{}``, dollars),
the "x = ..." prefix, thousands separators, and ``answer_key``: the normalized key of the fast path.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u00d7": "\\times ", "\u00b7": "\\cdot ", "\u22c5": "\\cdot ",
    "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u221a": "\\sqrt", "\u00b0": "^\\circ", "\u2264": "\\le ",
    "\u2265": "\\ge ", "\u2260": "\\neq ", "\u00b1": "\\pm ", "\u2208": "\\in ", "\u222a": "\\cup ", "\u00a0": " ",
    "\u2009": " ", "\u202f": " ",
}
# Fullwidth forms (as CJK input methods type them: "－５", "（１，２）") are their ASCII characters.
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
# U+2044 FRACTION SLASH builds a fraction of the digits beside it only: "2 1⁄2" is 2½, not 21/2.
_FRACTION_SLASH_RE = re.compile(r"(\d+)\s*\u2044\s*(\d+)")
_AS_FRAC = r"\\frac{\1}{\2}"
# A vulgar fraction is a \frac (its NFKC form is "1⁄2"), so a digit before it makes a mixed number as
# "1\frac{1}{2}" does: 1½ is 3/2.
_VULGAR = ("\u00bc\u00bd\u00be\u2150\u2151\u2152\u2153\u2154\u2155\u2156"
           "\u2157\u2158\u2159\u215a\u215b\u215c\u215d\u215e\u2189")  # ¼ ½ ¾ ⅐ ... ⅞ ↉
_FRACTIONS = {ch: _FRACTION_SLASH_RE.sub(_AS_FRAC, unicodedata.normalize("NFKC", ch)) for ch in _VULGAR}
_UNICODE_TABLE = str.maketrans(_UNICODE | _FULLWIDTH | _FRACTIONS)
# Spacing and sizing commands carry no meaning in an answer.
_DROP_RE = re.compile(
    r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])|\\(?:displaystyle|textstyle|limits)(?![A-Za-z])"
    r"|(?<!\\)\\[!,;:> ]|\\q?quad(?![A-Za-z])|\\(?:hspace|vspace)\*?\{[^{}]*\}"
)
_STYLE_RE = re.compile(r"\\(?:textbf|mathbf|boldsymbol|bm|textit|mathit|emph|mathrm|textrm|mbox|textnormal|"
                       r"operatorname|mathsf|textsf|rm)(?![A-Za-z])")
_TEXT_RE = re.compile(r"\\text\s*\{([^{}]*)\}")
# Each starts only where a number starts (the lookbehind): a 1,000-digit answer stays linear.
_ENOTATION_RE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?|\.\d+)\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*(?:\{\s*([-+]?\d+)\s*\}|([-+]?\d+))"
)
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree|\\text\{\s*degrees?\s*\}")
_PERCENT_RE = re.compile(r"\\%|%|\\text\{\s*percent\s*\}")
_UNIT_TEXT_RE = re.compile(r"\\text\{\s*([A-Za-z][A-Za-z .]*)\}\s*(?:\^\s*\{?\d\}?)?\s*$")
_UNIT_WORD_RE = re.compile(
    r"^(.*?[^\\\s])\s*(?<![\\A-Za-z])([A-Za-z]{2,}(?:\s+[A-Za-z]{2,})*)\.?(?:\s*\^\s*\{?\d\}?)?$"
)
_DEGREE_WORDS = {"degree", "degrees", "deg"}
# What an answer may name before "=": x, x_1, \theta, f(x), P(3); sums of single letters (m + n = 25) as AIME
# answers write them; and the quantities of geometry golds: AB, |AB|, \angle ABC, \overline{AB}, \frac{NO}{BO}.
_GREEK_NAME = r"\\(?:theta|alpha|beta|gamma|lambda|mu|phi|omega|rho|sigma|tau)(?![A-Za-z])"
QUANTITY = (rf"(?:(?:m\s*)?\\angle\s*[A-Z]{{1,3}}|\\overline\{{[A-Z]{{2,4}}\}}|[A-Z]{{2,4}}(?![A-Za-z(])"
             rf"|(?:[A-Za-z](?:_\{{?[A-Za-z0-9]+\}}?)?|{_GREEK_NAME})(?:\s*\([^()=]{{1,20}}\))?)")
NAME = (rf"(?:{QUANTITY}\s*/\s*{QUANTITY}|\\frac\{{{QUANTITY}\}}\{{{QUANTITY}\}}|\|\s*{QUANTITY}\s*\|"
        rf"|[A-Za-z](?:\s*\+\s*[A-Za-z]){{1,4}}|{QUANTITY})")
_VAR_RE = re.compile(rf"^\s*({NAME})\s*(=|\\in(?![A-Za-z]))\s*(\S.*)$", re.S)
_SIMPLE_NAME_RE = re.compile(r"[A-Za-z]_\{[A-Za-z0-9]+\}")
# "x<=1", "x >= 5", "x != 3" as typed in ASCII; "=<" and "=>" are not relations anyone means.
_ASCII_RELATIONS = {"<=": "\\leq ", ">=": "\\geq ", "!=": "\\neq "}
_ASCII_RELATION_RE = re.compile(r"<=|>=|!=")
# "1 1/2" is read as a mixed number, as "1\frac12" is: an integer, spaces (not a line break, not a comma), a
# fraction of integers. Not after a decimal point or a slash ("2.5 1/2", "3/4 1/2").
_MIXED_RE = re.compile(r"(?<![\d.,/])(-?\d+)[ \t]+(\d+)\s*/\s*(\d+)(?![\d.])")
_REPEATING_RE = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\overline\{(\d{1,20})\}")
# "(C) 144": a choice letter in front of the value it names, as AMC answers are written.
_CHOICE_PREFIX_RE = re.compile(r"^\(([A-E])\)\s*(?=[-\d.\\])")
_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(?:(,|\s)\d{3})(?:\1\d{3})*(?:\.\d+)?$")
_FUNCTION_WORDS = {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "or", "and"}


@dataclass(frozen=True)
class Marks:
    """What was stripped off an answer and may change its value: a percent sign or degrees."""

    percent: bool = False
    degree: bool = False


def clean(s: str) -> str:
    r"""One spelling for one notation, without changing what the answer says.

    >>> clean(r"\left( \dfrac12, 8.7\times 10^{8} \right)")
    '( \\frac{1}{2}, 8.7e8 )'
    >>> clean("\u2212\uff15\uff0c\uff0d1\u00bd, 2 1\u20444")
    '-5,-1\\frac{1}{2}, 2 \\frac{1}{4}'
    """
    s = _FRACTION_SLASH_RE.sub(_AS_FRAC, s.translate(_UNICODE_TABLE))
    s = s.replace("\\$", "").replace("$", "")
    s = re.sub(r"\{,\}|,\\!\s*", ",", s)
    s = _DROP_RE.sub(" ", s)
    s = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", s)
    s = re.sub(r"\\[dt]binom(?![A-Za-z])", r"\\binom", s)
    s = re.sub(r"\\(?:le|leqslant)(?![A-Za-z])", r"\\leq", s)
    s = re.sub(r"\\(?:ge|geqslant)(?![A-Za-z])", r"\\geq", s)
    s = _ASCII_RELATION_RE.sub(lambda m: _ASCII_RELATIONS[m.group(0)], re.sub(r"\\ne(?![A-Za-z])", r"\\neq", s))
    s = _STYLE_RE.sub(r"\\text", s)
    s = re.sub(r"\\text\s*([^\s{\\])", r"\\text{\1}", s)
    s = _ENOTATION_RE.sub(lambda m: f"{m.group(1)}e{m.group(2) or m.group(3)}", s)
    s = _REPEATING_RE.sub(_repeating, s)
    s = _brace_shorthand(s)
    s = _MIXED_RE.sub(_mixed, s.replace("~", " "))
    s = " ".join(s.split())
    # "185\" (a stray backslash, or a line break) ends nothing that an answer says.
    return s.rstrip("\\").rstrip() if s.endswith("\\") else s


def _mixed(m: re.Match) -> str:
    r"""``1 1/2`` -> ``1\frac{1}{2}`` (the mixed number 3/2) when the fraction is proper, so ``4 0/0`` stays."""
    whole, num, den = m.groups()
    return f"{whole}\\frac{{{num}}}{{{den}}}" if 0 <= int(num) < int(den) else m.group(0)


def _repeating(m: re.Match) -> str:
    r"""``0.1\overline{6}`` -> ``\frac{1}{6}``: a repeating decimal is the fraction it denotes."""
    whole, fixed, period = m.group(1) or "0", m.group(2), m.group(3)
    value = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _brace_shorthand(s: str, depth: int = 0) -> str:
    r"""``\frac12`` -> ``\frac{1}{2}`` and ``\sqrt2`` -> ``\sqrt{2}``: LaTeX's one-token arguments."""
    if depth > 10:
        return s
    out: list[str] = []
    i = 0
    for m in re.finditer(r"\\(frac|sqrt)(?![A-Za-z])", s):
        if m.start() < i:
            continue
        out.append(s[i : m.end()])
        i = m.end()
        for _ in range(2 if m.group(1) == "frac" else 1):
            j = i
            while j < len(s) and s[j] == " ":
                j += 1
            if m.group(1) == "sqrt" and j < len(s) and s[j] == "[":
                close = s.find("]", j)
                if close < 0:
                    break
                out.append(s[i : close + 1])
                i = j = close + 1
            if j >= len(s) or s[j] == "{":
                depth_end = _group_end(s, j) if j < len(s) else -1
                if depth_end < 0:
                    break
                out.append(s[i:j] + "{" + _brace_shorthand(s[j + 1 : depth_end], depth + 1) + "}")
                i = depth_end + 1
                continue
            tok = re.match(r"\\[A-Za-z]+|.", s[j:], re.S)
            out.append("{" + tok.group(0) + "}")
            i = j + len(tok.group(0))
    out.append(s[i:])
    return "".join(out)


def _group_end(s: str, open_pos: int) -> int:
    """Index of the brace closing the group at ``open_pos``, or -1."""
    depth = 0
    for k in range(open_pos, len(s)):
        if s[k] == "{" and (k == 0 or s[k - 1] != "\\"):
            depth += 1
        elif s[k] == "}" and (k == 0 or s[k - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return k
    return -1


def strip_marks(s: str) -> tuple[str, Marks]:
    r"""Remove percent signs, degrees and trailing units; report the first two.

    >>> strip_marks(r"15\text{ cm}^2")
    ('15', Marks(percent=False, degree=False))
    >>> strip_marks(r"30^\circ")
    ('30', Marks(percent=False, degree=True))
    """
    degree = bool(_DEGREE_RE.search(s))
    s = _DEGREE_RE.sub(" ", s)
    percent = bool(_PERCENT_RE.search(s))
    s = _PERCENT_RE.sub(" ", s).strip()
    while True:
        m = _UNIT_TEXT_RE.search(s)
        if not m or not s[: m.start()].strip() or m.group(1).strip() in ("i", "e"):
            break
        degree = degree or m.group(1).strip().lower() in _DEGREE_WORDS
        s = s[: m.start()].strip()
    m = _UNIT_WORD_RE.match(s)
    if m and _is_number_like(m.group(1)) and not set(m.group(2).lower().split()) & _FUNCTION_WORDS:
        degree = degree or m.group(2).lower() in _DEGREE_WORDS
        percent = percent or m.group(2).lower() == "percent"
        s = m.group(1).strip()
    return s, Marks(percent=percent, degree=degree)


def _is_number_like(head: str) -> bool:
    """True when ``head`` has digits and no letters outside LaTeX commands (so "cm" is a unit)."""
    bare = re.sub(r"\\[A-Za-z]+", "", head)
    return any(c.isdigit() for c in bare) and not any(c.isalpha() for c in bare)


def unwrap_text(s: str) -> str:
    r"""``\text{Evelyn}`` -> ``Evelyn``; ``\text{ or }`` becomes a list separator.

    >>> unwrap_text(r"x=1 \text{ or } x=2")
    'x=1 , x=2'
    """
    s = _TEXT_RE.sub(lambda m: m.group(1), s)
    s = re.sub(r"(?<![A-Za-z\\])(?:or|and)(?![A-Za-z])", ",", s) if re.search(r"[\d}]", s) else s
    return " ".join(s.split())


def strip_var(s: str) -> tuple[str | None, str]:
    r"""Split "x = 3" into ("x", "3") and "x \in [1,2]" into ("x", "[1,2]"); ``(None, s)`` otherwise.

    >>> strip_var("f(x) = x^2"), strip_var("m + n = 25"), strip_var(r"(C) 144")
    (('f(x)', 'x^2'), ('m + n', '25'), (None, '144'))
    >>> strip_var("5x - 7y = 0")
    (None, '5x - 7y = 0')
    """
    s = _CHOICE_PREFIX_RE.sub("", s)
    m = _VAR_RE.match(s)
    if not m or (m.group(2) == "=" and re.search(r"(?<![<>\\!])=", m.group(3))):
        return None, s
    name = m.group(1)
    # x_{1} is x_1 (the name is compared, when the other side is an equation); \frac{NO}{BO} keeps its braces.
    return (name.replace("{", "").replace("}", "") if _SIMPLE_NAME_RE.fullmatch(name) else name), m.group(3).strip()


def join_thousands(s: str) -> str:
    """``870,000,000`` -> ``870000000`` when the whole answer is one number with separators.

    >>> join_thousands("10,080"), join_thousands("1,-2"), join_thousands("100, 200")
    ('10080', '1,-2', '100, 200')
    """
    t = s.strip()
    return t.replace(",", "").replace(" ", "") if _THOUSANDS_RE.match(t) else s


def answer_key(answer: str) -> str:
    r"""The normalized key of an answer: equal keys mean equal answers (the fast path).

    >>> answer_key(r"\$10,\!080") == answer_key("10080") == answer_key(r"x = 10{,}080")
    True
    >>> answer_key(r"\text{Evelyn}")
    'evelyn'
    """
    s, marks = strip_marks(clean(answer))
    s = unwrap_text(s)
    _, s = strip_var(s)
    s = join_thousands(s)
    s = "".join(s.split())
    while s.startswith("{") and _group_end(s, 0) == len(s) - 1:
        s = s[1:-1]
    if re.fullmatch(r"[A-Za-z]{2,}", s):
        s = s.lower()
    return s + ("%" if marks.percent else "")

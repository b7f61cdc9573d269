"""Labelled answer pairs built from the gold answers, shared by the tests and benchmarks/answers.py.

Owns the ways models rewrite an answer (equivalent forms as a grader boxes them, and the other forms:
e-notation, units, degrees, separators, "x = ..."), adversarial near misses that must not match,
natural reference solutions, and hostile inputs. Every generator is a pure string rewrite of the gold.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

DATASETS = ("math500", "aime24", "amc")
_NUM_RE = re.compile(r"\d+(?:\.\d+)?")
_INT_RE = re.compile(r"-?\d+")
_FRAC_RE = re.compile(r"(-?)\\[dt]?frac\{?(\d+)\}?\{?(\d+)\}?")
_WRAPPERS = (
    "So the final answer is $\\boxed{%s}$.",
    "<think>\nLet me check the arithmetic once more.\n</think>\n\n**Final Answer**\n\\[\n\\boxed{%s}\n\\]",
    "\\boxed{%s}",
    "Putting it together, the answer is \\(\\boxed{%s}\\)",
)
_WORDS = ("west", "odd", "circle", "Alice", "north")


@dataclass(frozen=True)
class Pair:
    """A candidate (as the checker gets it), the gold answer, the expected verdict, and where it came from."""

    category: str
    candidate: str
    gold: str
    expected: bool
    source: str
    form: str


def load_golds(data_dir: Path) -> list[tuple[str, str, dict]]:
    """(dataset, id, row) for every problem in ``data_dir``'s jsonl files that exist."""
    rows = []
    for name in DATASETS:
        path = Path(data_dir) / f"{name}.jsonl"
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    rows.append((name, str(row["id"]), row))
    return rows


def _rational(gold: str) -> Fraction | None:
    """The value of a gold that is a plain integer, decimal or fraction, without the checker."""
    g = re.sub(r"\\!|\{,\}|,|\s", "", gold.strip()) if re.fullmatch(
        r"-?\d{1,3}(,\\!\s?\d{3}|\{,\}\d{3}|,\d{3})+", gold.strip()) else gold.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?|-?\.\d+", g):
        return Fraction(g)
    m = _FRAC_RE.fullmatch(g)
    if m:
        return Fraction(int(m.group(2)), int(m.group(3))) * (-1 if m.group(1) else 1)
    return None


def _fraction_tex(q: Fraction) -> str:
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}" if q.denominator != 1 else str(q)


def _decimal(q: Fraction) -> str | None:
    """The finite decimal form of ``q``, or None."""
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return None
    places = 0
    while (q * 10**places).denominator != 1:
        places += 1
    digits = str(abs(int(q * 10**places))).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    return ("-" if q < 0 else "") + text


def equivalent_forms(gold: str) -> list[tuple[str, str]]:
    """(form name, rewrite) pairs that any grader should accept for ``gold``, boxed as written."""
    out = [("identity", gold)]
    compact = re.sub(r"(?<=[^A-Za-z])\s+|\s+(?=[^A-Za-z])", "", gold)
    out.append(("compact", compact))
    if "\\!" not in gold and not ("," in gold and _rational(gold) is not None):
        out.append(("spaced", re.sub(r"\s*([=,+]|(?<![\\{(\[^,])-)\s*", r" \1 ", gold).strip()))
    if "\\frac" in gold:
        out.append(("dfrac", gold.replace("\\frac", "\\dfrac")))
        simple = re.sub(r"\\frac\{([^{}]+)\}\{([^{}]+)\}", r"(\1)/(\2)", gold)
        if "\\frac" not in simple and not re.search(r"\d\s*\\frac", gold):
            out.append(("slash", simple))
    if re.search(r"[()\[\]]", gold) and "\\left" not in gold and "matrix" not in gold:
        out.append(("left_right", re.sub(r"([(\[])", r"\\left\1", re.sub(r"([)\]])", r"\\right\1", gold))))
    q = _rational(gold)
    if q is not None:
        out.extend(_number_forms(gold, q))
    out.extend(_structural_forms(gold))
    return [(f, v) for f, v in out if v and v.strip()]


def _number_forms(gold: str, q: Fraction) -> list[tuple[str, str]]:
    out = []
    if q.denominator == 1:
        out.append(("integer", str(q.numerator)))
        out.append(("point_zero", f"{q.numerator}.0"))
    else:
        out.append(("fraction", _fraction_tex(q)))
        sign = "-" if q < 0 else ""
        out.append(("unreduced", f"{sign}\\frac{{{2 * abs(q.numerator)}}}{{{2 * q.denominator}}}"))
        out.append(("slash_fraction", f"{q.numerator}/{q.denominator}"))
        if abs(q) > 1:
            whole, rest = divmod(abs(q.numerator), q.denominator)
            out.append(("mixed", f"{'-' if q < 0 else ''}{whole}\\frac{{{rest}}}{{{q.denominator}}}"))
    dec = _decimal(q)
    if dec is not None and dec != gold:
        out.append(("decimal", dec))
        if "." in dec:
            out.append(("trailing_zero", dec + "0"))
    return out


def _structural_forms(gold: str) -> list[tuple[str, str]]:
    out = []
    text = re.fullmatch(r"\\(?:text|mbox)\{([^{}]*)\}", gold.strip())
    if text:
        out += [("untext", text.group(1)), ("textbf", f"\\textbf{{{text.group(1)}}}")]
    if re.search(r"\\sqrt\{\d\}", gold):
        out.append(("sqrt_short", re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", gold)))
    if re.search(r"\d\s*(\\sqrt|\\pi)", gold):
        out.append(("cdot", re.sub(r"(\d)\s*(\\sqrt|\\pi)", r"\1 \\cdot \2", gold)))
    if "^\\circ" in gold:
        out.append(("circ_braced", gold.replace("^\\circ", "^{\\circ}")))
    if "pmatrix" in gold:
        out.append(("bmatrix", gold.replace("pmatrix", "bmatrix")))
    if gold.startswith("\\{") and gold.endswith("\\}") or (
        "," in gold and not re.search(r"[()\[\]{}]|\\!", gold) and _rational(gold) is None
    ):
        inner = gold[2:-2] if gold.startswith("\\{") else gold
        items = [p.strip() for p in inner.split(",")]
        if len(items) > 1 and not any("{" in p for p in items):
            rev = ", ".join(reversed(items))
            out.append(("reordered", f"\\{{{rev}\\}}" if gold.startswith("\\{") else rev))
    terms = re.findall(r"[+-]?\s*[^+\-]+", gold)
    if len(terms) > 1 and not re.search(r"[=,{}()\\]|\^\s*-|_", gold):
        terms = [t.strip() if t.strip()[0] in "+-" else "+" + t.strip() for t in terms]
        out.append(("sum_reordered", "".join(reversed(terms)).lstrip("+")))
    return out


def other_forms(gold: str) -> list[tuple[str, str]]:
    """The forms a model writes beyond LaTeX rewrites: e-notation, units, degrees, separators, "x = ..."."""
    out = []
    g = gold.strip()
    q = _rational(g)
    if q is not None:
        out += [("units_text", f"{g}\\text{{ cm}}"), ("units_mathrm", f"{g}\\ \\mathrm{{m}}"),
                ("dollars", f"\\${g}"), ("x_equals", f"x = {g}"), ("answer_phrase", f"The answer is {g}.")]
        if q.denominator == 1 and abs(q) >= 1000:
            n = abs(q.numerator)
            sign = "-" if q < 0 else ""
            out += [("comma_sep", f"{sign}{n:,}"), ("braced_sep", sign + f"{n:,}".replace(",", "{,}")),
                    ("thin_sep", sign + f"{n:,}".replace(",", "\\,"))]
        out += _enotation(q)
        if q.denominator == 1 and q >= 0:
            out += [("named_sum", f"m+n = {g}"), ("choice_prefix", f"\\textbf{{(C)}}\\ {g}")]
        repeating = _repeating(q)
        if repeating:
            out.append(("repeating", repeating))
    if "^\\circ" in g:
        bare = g.replace("^\\circ", "").strip()
        out += [("degree_sign", f"{bare}\u00b0"), ("degrees_word", f"{bare} degrees"),
                ("degrees_text", f"{bare}\\text{{ degrees}}"), ("no_degree", bare)]
    if re.fullmatch(r"[(\[].*[)\]]", g) and re.search(r"\[|\]|\\infty|\\cup", g):
        out.append(("x_in", f"x \\in {g}"))
    elif q is None and "=" not in g and "," not in g and "\\text" not in g:
        out.append(("x_equals", f"x = {g}"))
    return out


def _repeating(q: Fraction) -> str | None:
    r"""``\frac{1}{6}`` -> ``0.1\overline{6}`` when the decimal repeats with a period of at most 6 digits."""
    if _decimal(q) is not None:
        return None
    whole, rest = divmod(abs(q.numerator), q.denominator)
    digits, seen = [], {}
    while rest not in seen and len(digits) < 40:
        seen[rest] = len(digits)
        rest *= 10
        digits.append(str(rest // q.denominator))
        rest %= q.denominator
    start = seen.get(rest)
    if start is None or len(digits) - start > 6:
        return None
    fixed, period = "".join(digits[:start]), "".join(digits[start:])
    return f"{'-' if q < 0 else ''}{whole}.{fixed}\\overline{{{period}}}"


def _enotation(q: Fraction) -> list[tuple[str, str]]:
    dec = _decimal(q)
    if dec is None or q == 0 or (q.denominator == 1 and abs(q) < 100) or (q.denominator != 1 and abs(q) >= 0.01):
        return []
    digits = dec.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    exp = len(str(abs(q.numerator) // q.denominator)) - 1 if abs(q) >= 1 else -(len(
        dec.lstrip("-").split(".")[1]) - len(dec.lstrip("-").split(".")[1].lstrip("0")) + 1)
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if q < 0 else ""
    return [("e_notation", f"{sign}{mant}e{exp}"), ("times_ten", f"{sign}{mant}\\times 10^{{{exp}}}"),
            ("cdot_ten", f"{sign}{mant} \\cdot 10^{exp}")]


def near_misses(gold: str) -> list[tuple[str, str]]:
    """Rewrites of ``gold`` that no grader should accept."""
    g = gold.strip()
    out = []
    m = _NUM_RE.search(g)
    if m:
        lit = m.group(0)
        bumped = str(int(lit) + 1) if "." not in lit else lit[:-1] + str((int(lit[-1]) + 1) % 10)
        if bumped.endswith("0") and "." in lit:
            bumped = lit + "1"
        out.append(("bump_number", g[: m.start()] + bumped + g[m.end() :]))
    q = _rational(g)
    if q is not None and q != 0:
        out.append(("negated", _fraction_tex(-q)))
        if q.denominator != 1 and abs(q.numerator) != 1:
            out.append(("reciprocal", _fraction_tex(1 / q)))
    elif g.startswith("(") and g.endswith("]") or g.startswith("[") and g.endswith(")"):
        out.append(("interval_ends", ("[" if g[0] == "(" else "(") + g[1:]))
    elif re.fullmatch(r"\(.*\)", g) and g.count(",") == 1:
        out.append(("interval_closed", "[" + g[1:-1] + "]" if g[0] == "(" else g))
    text = re.fullmatch(r"\\text\{\(?([A-Za-z]+)\)?\}", g)
    if text:
        word = text.group(1)
        other = chr(ord(word) + 1) if len(word) == 1 else next(w for w in _WORDS if w != word.lower())
        out.append(("other_word", f"\\text{{{other}}}"))
    if "\\pm" in g:
        out.append(("pm_dropped", g.replace("\\pm", "+")))
    return [(f, v) for f, v in out if v != g]


ADVERSARIAL = (
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}"), (r"\pm 2021", "2021"), ("[1,2)", "[1,2]"), ("(1,2)", "[1,2]"),
    ("n=2,3,4", "n=1,2,3"), (r"\frac{1}{2}", r"\frac{1}{3}"), ("8.7e8", "8.7e7"),
    ("0.33", r"\frac{1}{3}"), (r"e^{\pi\sqrt{163}}", "262537412640768744"), ("(2,1)", "(1,2)"),
    (r"\{1,2\}", r"\{1,2,3\}"), (r"x^2+1", r"x^2-1"), ("x+1", "y+1"), ("1.42", r"\sqrt{2}"), ("10^{-30}", "0"),
    ("0.668", r"\frac{2}{3}"), ("8.8e8", "8.7e8"), ("870,000,001", "870,000,000"),
    (r"2^{1000}+1", r"2^{1000}"), ("1.0000001", "1"), ("-2021", "2021"), (r"\frac{\pi}{2}", "90"),
    (r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{pmatrix}2\\1\end{pmatrix}"), ("42_8", "52_8"),
    ("(-\\infty, 0)", "(-\\infty, 0]"), ("3", "3.4"), ("25", "025.5"), (r"\text{(C)}", r"\text{(D)}"),
)

HOSTILE = (
    r"10^{10^{10^{10}}}", r"\binom{10^{9}}{5 \cdot 10^{8}}", r"(10^{10})!", r"9^{9^{9^{9}}}",
    "1+" * 5000 + "1", "{" * 5000 + "1" + "}" * 5000, "\\frac{" * 800 + "1", "\\sqrt{" * 400 + "2" + "}" * 400,
    r"x^{10^{100}}", r"2^{2^{2^{2^{2^{2^{2}}}}}}", "".join(map(chr, range(256))) * 8, "(" * 3000,
    r"\boxed{" * 2000, r"10^{10^{10}} - 10^{10^{10}}", r"\sin(10^{400000})", r"e^{e^{e^{10}}}",
    # Outside the in-process parser: these reach the sympy worker, which has to be killed.
    r"\prod_{k=1}^{10^{9}} k", r"\int_0^1 x^{10^{9}} dx", r"\sum_{k=1}^{10^{10}} k^{k}",
)


def build_pairs(data_dir: Path | None) -> list[Pair]:
    """Every labelled pair: per-gold forms from ``data_dir`` (when it exists) plus the hand-made ones."""
    pairs = [Pair("near_miss", c, g, False, "adversarial", "hand") for c, g in ADVERSARIAL]
    pairs += [Pair("hostile", h, g, False, "hostile", "raw") for h in HOSTILE for g in ("5", r"\frac{1}{2}")]
    pairs += [Pair("hostile", f"The answer is $\\boxed{{{h}}}$", "5", False, "hostile", "boxed") for h in HOSTILE]
    if data_dir is None or not Path(data_dir).is_dir():
        return pairs
    for k, (_, pid, row) in enumerate(load_golds(data_dir)):
        gold = row["answer"]
        for j, (form, v) in enumerate(equivalent_forms(gold)):
            pairs.append(Pair("boxed_equivalent", _WRAPPERS[(k + j) % len(_WRAPPERS)] % v, gold, True, pid, form))
        for form, v in other_forms(gold):
            cand = v if form == "answer_phrase" else f"\\boxed{{{v}}}"
            pairs.append(Pair("other_forms", cand, gold, True, pid, form))
        for form, v in near_misses(gold):
            pairs.append(Pair("near_miss", f"\\boxed{{{v}}}", gold, False, pid, form))
        if row.get("solution"):
            pairs.append(Pair("natural_solution", row["solution"], gold, True, pid, "solution"))
    return pairs

"""Comparing two single answers (no lists or brackets): the exactness policy, in code.

Owns the policy (integers and fractions exact; a bare decimal is read to its stated precision; an
exact gold without a finite decimal form accepts a correctly rounded or truncated decimal of >= 3
significant digits), percent alternatives, words, choice letters and base-n numerals, and the hand-off
to the sympy worker for what the in-process parser does not know.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from m1reason.answers import _numbers as N
from m1reason.answers._normalize import Marks, join_thousands, strip_marks, strip_var, unwrap_text
from m1reason.answers._parse import ParseError, parse
from m1reason.answers._statements import has_prose
from m1reason.answers._symbolic import TimedOut, WorkerOverrun, WorkerTimeout, pool

# What may be sent to the worker: longer or deeper input is junk, and sympy may choke on it.
MAX_WORKER_CHARS = 400
MAX_WORKER_DEPTH = 20
_WORD_RE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_CHOICE_RE = re.compile(r"\(?([A-Ea-e])\)?")
_BASE_RE = re.compile(r"([0-9A-Za-z]+)_\{?(\d+)\}?")
_EVAL_ERRORS = (ZeroDivisionError, ValueError, TypeError, OverflowError, KeyError, N.TooBig, N.NotExact)


@dataclass(frozen=True)
class Value:
    """A parsed answer: kind is exact, numeric, function, relation or toobig.

    ``ulp`` and ``sig`` are set for a bare decimal literal: the unit of its last written digit and its
    number of significant digits (``8.7e8``: ulp 10^7, sig 2).
    """

    kind: str
    exact: N.GaussQ | None = None
    num: object = None
    node: tuple | None = None
    names: frozenset = frozenset()
    ulp: Fraction | None = None
    sig: int = 0


@lru_cache(maxsize=8192)
def prepare(s: str) -> tuple[str, Marks, str | None]:
    """(answer without markers and "x =" prefix, its marks, the variable named in the prefix)."""
    s, marks = strip_marks(s)
    var, s = strip_var(unwrap_text(s))
    return join_thousands(s).strip(), marks, var


@lru_cache(maxsize=8192)
def analyze(text: str) -> Value | None:
    """The Value of ``text``, or None when the in-process parser does not understand it.

    >>> analyze("8.7e8").exact[0], analyze("8.7e8").ulp
    (Fraction(870000000, 1), Fraction(10000000, 1))
    """
    try:
        node = parse(text)
    except (ParseError, RecursionError, ValueError):
        return None
    return _value_of(node)


def _value_of(node) -> Value:
    names = N.free_vars(node)
    if node[0] == "rel":
        return Value("relation", node=node, names=names)
    if names:
        return Value("function", node=node, names=names)
    ulp, sig = _stated_precision(node)
    try:
        return Value("exact", exact=N.exact(node), node=node, ulp=ulp, sig=sig)
    except N.NotExact:
        pass
    except (N.TooBig, ZeroDivisionError, OverflowError):
        return Value("toobig")
    try:
        return Value("numeric", num=N.numeric(node, {}), node=node, ulp=ulp, sig=sig)
    except _EVAL_ERRORS:
        return Value("toobig")


def _stated_precision(node) -> tuple[Fraction | None, int]:
    """(ulp, significant digits) of a bare, possibly negated, decimal literal; (None, 0) otherwise."""
    if node[0] == "neg":
        node = node[1]
    if node[0] != "num":
        return None, 0
    mantissa, _, exp = node[2].lower().partition("e")
    if "." not in mantissa and not exp:
        return None, 0
    places = len(mantissa.split(".")[1]) if "." in mantissa else 0
    digits = mantissa.replace(".", "").lstrip("0")
    return Fraction(10) ** (int(exp or 0) - places), max(len(digits), 1)


def _terminates(q: N.GaussQ) -> bool:
    """True when a value has a finite decimal form (a real rational whose denominator is 2^a 5^b)."""
    if q[1] != 0:
        return False
    d = q[0].denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _num(v: Value):
    if v.num is not None:
        return v.num
    c = N.ctx()
    re, im = v.exact
    return c.mpc(c.mpf(re.numerator) / re.denominator, c.mpf(im.numerator) / im.denominator)


def _within(c: Value, g: Value, tol: Fraction, strict: bool) -> bool:
    """|c - g| < tol (strict) or <= tol, exactly when both are exact."""
    if c.exact is not None and g.exact is not None:
        d2 = (c.exact[0] - g.exact[0]) ** 2 + (c.exact[1] - g.exact[1]) ** 2
        return d2 < tol * tol if strict else d2 <= tol * tol
    ctx = N.ctx()
    d, t = abs(_num(c) - _num(g)), ctx.mpf(tol.numerator) / tol.denominator
    return d < t * (1 - N.REL_TOL) if strict else d <= t * (1 + N.REL_TOL)


def _truncates(c: Value, g: Value) -> bool:
    """``c`` is ``g`` cut after the candidate's last digit: same sign, |c| <= |g| < |c| + ulp."""
    cv, gv = _num(c), _num(g)
    ctx = N.ctx()
    if ctx.im(cv) != 0 or abs(ctx.im(gv)) > N.REL_TOL * abs(gv):
        return False
    cr, gr = ctx.re(cv), ctx.re(gv)
    ulp = ctx.mpf(c.ulp.numerator) / c.ulp.denominator
    return cr * gr >= 0 and abs(cr) <= abs(gr) < abs(cr) + ulp


def values_equal(c: Value, g: Value) -> bool | None:
    """The policy on two Values; None when it cannot decide (the worker may).

    >>> third = analyze(r"\\frac{1}{3}")
    >>> values_equal(analyze("0.333"), third), values_equal(analyze("0.33"), third)
    (True, False)
    """
    if "toobig" in (c.kind, g.kind):
        return None
    if "relation" in (c.kind, g.kind):
        return _relations_equal(c.node, g.node) if c.kind == g.kind else False
    if "function" in (c.kind, g.kind):
        return _functions_equal(c, g)
    if g.ulp is not None:
        return _within(c, g, g.ulp / 2, strict=False)
    if c.ulp is not None:
        if g.exact is not None and _terminates(g.exact):
            return c.exact == g.exact
        # Correctly rounded, or truncated toward zero, to the digits the candidate wrote.
        return c.sig >= 3 and (_within(c, g, c.ulp / 2, strict=False) or _truncates(c, g))
    if c.exact is not None and g.exact is not None:
        return c.exact == g.exact
    return N.close(_num(c), _num(g))


def _functions_equal(c: Value, g: Value) -> bool | None:
    # Different names are compared too (\\sin^2 x + \\cos^2 x is 1): the points give each name its own value.
    if c.node is None or g.node is None:
        return False
    agreed = 0
    for env in N.points(c.names | g.names):
        try:
            a, b = N.numeric(c.node, env), N.numeric(g.node, env)
        except _EVAL_ERRORS:
            continue
        if not N.close(a, b, N.REL_TOL * 10**15):
            return False
        agreed += 1
    return True if agreed >= 2 else None


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _relations_equal(a, b) -> bool | None:
    """Single relations are equal when lhs - rhs of one is a constant multiple of the other's
    (positive for the same inequality, negative for the flipped one)."""
    (_, ops_a, ex_a), (_, ops_b, ex_b) = a, b
    if len(ops_a) != 1 or len(ops_b) != 1:
        return None
    same = ops_a[0] == ops_b[0]
    if not same and _FLIP[ops_b[0]] != ops_a[0]:
        return False
    fa, fb = ("add", [ex_a[0], ("neg", ex_a[1])]), ("add", [ex_b[0], ("neg", ex_b[1])])
    c = N.ctx()
    ratios = []
    for env in N.points(N.free_vars(fa) | N.free_vars(fb)):
        try:
            va, vb = N.numeric(fa, env), N.numeric(fb, env)
        except _EVAL_ERRORS:
            continue
        if N.close(vb, 0) or N.close(va, 0):
            if not (N.close(vb, 0) and N.close(va, 0)):
                return False
            continue
        ratios.append(va / vb)
    if not ratios:
        return None
    r0 = ratios[0]
    if not all(N.close(r, r0, N.REL_TOL * 10**15) for r in ratios):
        return False
    if ops_a[0] in ("=", "!="):
        return True
    return abs(c.im(r0)) < 1e-30 and (c.re(r0) > 0) == same


def _text_verdict(c: str, g: str) -> bool | None:
    """Words, choice letters and base-n numerals; None when neither side is one of those."""
    cw, gw = _WORD_RE.fullmatch(c), _WORD_RE.fullmatch(g)
    if cw and gw and c.lower() == g.lower():
        return True
    if (cw and len(c) >= 3) or (gw and len(g) >= 3):
        return False
    gc, cc = _CHOICE_RE.fullmatch(g), _CHOICE_RE.fullmatch(c)
    if gc and g.startswith("(") and cc:
        return gc.group(1).upper() == cc.group(1).upper()
    gb, cb = _BASE_RE.fullmatch(g), _BASE_RE.fullmatch(c)
    if gb or cb:
        c_digits = cb.group(1) if cb else c
        g_digits = gb.group(1) if gb else g
        return c_digits == g_digits and (not (cb and gb) or cb.group(2) == gb.group(2))
    return None


def scalar_equal(cand: str, gold: str, deadline: float) -> bool:
    """Is the single answer ``cand`` equal to the single answer ``gold`` (both already cleaned)?"""
    c, c_marks, c_var = prepare(cand)
    g, g_marks, g_var = prepare(gold)
    if not c or not g:
        return False
    # The answer is the value: "x = 5" is "5" and "y = 5" (the fast path's key drops the name too). An
    # equation on the other side gets the name back: "2y = -4x" is "y = -2x".
    if g_var and not c_var and "=" in c:
        g = f"{g_var} = {g}"
    elif c_var and not g_var and "=" in g:
        c = f"{c_var} = {c}"
    if "".join(c.split()) == "".join(g.split()) and c_marks.percent == g_marks.percent:
        return True
    verdict = _text_verdict(c, g)
    if verdict is not None:
        return verdict
    cands = [c] + ([rf"\frac{{{c}}}{{100}}"] if c_marks.percent and not g_marks.percent else [])
    golds = [g] + ([rf"\frac{{{g}}}{{100}}"] if g_marks.percent and not c_marks.percent else [])
    return any(_equal(x, y, deadline) for x in cands for y in golds)


def _equal(c: str, g: str, deadline: float) -> bool:
    vc, vg = analyze(c), analyze(g)
    if vc is None or vg is None:
        if not (_sane(c) and _sane(g)):
            return False
        vc = vc or _worker_value(c, deadline)
        vg = vg or _worker_value(g, deadline)
        if vc is None or vg is None:
            return _worker_verify(c, g, deadline)
    verdict = values_equal(vc, vg)
    if verdict is None and "toobig" not in (vc.kind, vg.kind) and _sane(c) and _sane(g):
        return _worker_verify(c, g, deadline)
    return bool(verdict)


def _sane(s: str) -> bool:
    """Short, shallow, printable, no prose: the only input the worker is given."""
    # A sentence compared as written ("Answer 9") is no expression; sympy would only spend its time on it.
    if len(s) > MAX_WORKER_CHARS or not s.isprintable() or has_prose(s):
        return False
    depth = 0
    for ch in s:
        depth += (ch in "{([") - (ch in "})]")
        if depth > MAX_WORKER_DEPTH:
            return False
    return True


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise WorkerTimeout("check deadline passed")
    return left


_VALUES: dict[str, Value | TimedOut | None] = {}
_MISSING = object()


def _worker_value(text: str, deadline: float) -> Value | None:
    """The worker's value of a constant ``text``, cached.

    An overrun is cached too and raised again at once for as much time or less: a pair with this answer
    cannot be decided without its value, so n answers whose value runs away cost n timeouts, not n^2.
    """
    left = _remaining(deadline)
    cached = _VALUES.get(text, _MISSING)
    if isinstance(cached, TimedOut) and cached.covers(left):
        raise WorkerOverrun(f"the value of this answer overran {cached.limit_s:.2f} s before")
    if cached is not _MISSING and not isinstance(cached, TimedOut):
        return cached
    try:
        result = pool().call("value", [text], left)
    except WorkerOverrun:
        _remember(text, TimedOut(left))
        raise
    value = None
    if isinstance(result, dict) and "rational" in result:
        q = Fraction(result["rational"])
        value = Value("exact", exact=(q, Fraction(0)))
    elif isinstance(result, dict):
        c = N.ctx()
        value = Value("numeric", num=c.mpc(c.mpf(result["re"]), c.mpf(result["im"])))
    _remember(text, value)
    return value


def _remember(text: str, value: Value | TimedOut | None) -> None:
    if len(_VALUES) > 4096:
        _VALUES.clear()
    _VALUES[text] = value


def _worker_verify(c: str, g: str, deadline: float) -> bool:
    return bool(pool().call("verify", [c, g], _remaining(deadline)))

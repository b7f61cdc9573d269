"""Values of parsed answers, and the exactness policy that compares them.

Exact arithmetic over Gaussian rationals (Fractions) when an answer has no irrational part, else
60-digit mpmath evaluation, at fixed pseudo-random points when it has variables. Every operation is
bounded (powers, factorials, exponents), so no input can make this module run away; a value past the
bounds is ``TooBig`` and is decided by its written form only.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import mpmath

DPS = 60
# Two expressions are the same number when they agree to this relative precision. 60 digits of
# working precision leave room for cancellation; e^{pi sqrt 163} (an integer to 12 digits) stays apart.
REL_TOL = mpmath.mpf(10) ** -45
MAX_EXACT_BITS = 20_000
# |log| of the largest value evaluated numerically (about 10^8700): past it an mpf op gets slow.
MAX_LOG_MAGNITUDE = 20_000
MAX_FACTORIAL = 1000
# Points where expressions in variables are compared (Schwartz-Zippel): odd, irrational-looking values.
_POINTS = ("0.7317", "1.3719", "2.4142", "-0.6283")

GaussQ = tuple[Fraction, Fraction]


class NotExact(Exception):
    """The value has an irrational or symbolic part: fall back to numeric evaluation."""


class TooBig(Exception):
    """The value is past the bounds this module evaluates; compare its written form only."""


_local = threading.local()


def ctx() -> mpmath.MPContext:
    """A per-thread mpmath context: the global one's precision is shared state between threads."""
    c = getattr(_local, "ctx", None)
    if c is None:
        c = _local.ctx = mpmath.MPContext()
        c.dps = DPS
    return c


def free_vars(node) -> frozenset[str]:
    """Names of the variables in an expression tree."""
    if node[0] == "var":
        return frozenset([node[1]])
    out: frozenset[str] = frozenset()
    for child in _children(node):
        out |= free_vars(child)
    return out


def _children(node):
    tag = node[0]
    if tag in ("add", "mul"):
        return node[1]
    if tag == "rel":
        return node[2]
    if tag in ("neg", "fact", "abs"):
        return [node[1]]
    if tag in ("div", "pow", "binom"):
        return [node[1], node[2]]
    if tag in ("root", "log"):
        return [c for c in (node[1], node[2]) if c is not None]
    if tag == "fn":
        return [node[2]]
    return []


def exact(node) -> GaussQ:
    """The exact value of a constant expression without irrational parts, as (real, imaginary).

    >>> exact(("div", ("num", Fraction(1), "1"), ("pow", ("num", Fraction(2), "2"), ("num", Fraction(99), "99"))))[0]
    Fraction(1, 633825300114114700748351602688)
    """
    tag = node[0]
    if tag == "num":
        return node[1], Fraction(0)
    if tag == "const":
        if node[1] == "i":
            return Fraction(0), Fraction(1)
        raise NotExact(node[1])
    if tag == "neg":
        re, im = exact(node[1])
        return -re, -im
    if tag == "add":
        parts = [exact(t) for t in node[1]]
        return sum((p[0] for p in parts), Fraction(0)), sum((p[1] for p in parts), Fraction(0))
    if tag == "mul":
        out = (Fraction(1), Fraction(0))
        for f in node[1]:
            out = _gmul(out, exact(f))
        return out
    if tag == "div":
        return _gdiv(exact(node[1]), exact(node[2]))
    if tag == "pow":
        return _gpow(exact(node[1]), exact(node[2]))
    if tag == "root":
        index = exact(node[2]) if node[2] is not None else (Fraction(2), Fraction(0))
        if index[1] != 0 or index[0].denominator != 1 or not 2 <= index[0] <= 12:
            raise NotExact("root index")
        return _exact_root(exact(node[1]), int(index[0]))
    if tag == "fact":
        return _exact_factorial(exact(node[1]))
    if tag == "binom":
        return _exact_binomial(exact(node[1]), exact(node[2]))
    raise NotExact(tag)


def _gmul(a: GaussQ, b: GaussQ) -> GaussQ:
    return a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]


def _gdiv(a: GaussQ, b: GaussQ) -> GaussQ:
    den = b[0] * b[0] + b[1] * b[1]
    if den == 0:
        raise NotExact("division by zero")
    return (a[0] * b[0] + a[1] * b[1]) / den, (a[1] * b[0] - a[0] * b[1]) / den


def _bits(q: Fraction) -> int:
    return max(q.numerator.bit_length(), q.denominator.bit_length(), 1)


def _gpow(base: GaussQ, exp: GaussQ) -> GaussQ:
    e_re, e_im = exp
    if e_im != 0 or e_re.denominator != 1:
        if e_im == 0 and base[1] == 0 and base[0] > 0 and e_re.denominator <= 12:
            return _exact_root(_gpow(base, (Fraction(e_re.numerator), Fraction(0))), e_re.denominator)
        raise NotExact("non-integer power")
    n = e_re.numerator
    if (_bits(base[0]) + _bits(base[1])) * abs(n) > MAX_EXACT_BITS and base not in _UNITS:
        raise TooBig("power")
    if base == (Fraction(0), Fraction(0)) and n < 0:
        raise NotExact("zero to a negative power")
    if base[1] == 0:
        return base[0] ** n, Fraction(0)
    out = (Fraction(1), Fraction(0))
    step = base if n >= 0 else _gdiv((Fraction(1), Fraction(0)), base)
    for _ in range(abs(n) % 4 if base in _UNITS else abs(n)):
        out = _gmul(out, step)
    return out


_UNITS = {(Fraction(1), Fraction(0)), (Fraction(-1), Fraction(0)), (Fraction(0), Fraction(1)),
          (Fraction(0), Fraction(-1)), (Fraction(0), Fraction(0))}


def _exact_root(value: GaussQ, k: int) -> GaussQ:
    """The k-th root of a non-negative rational when it is rational; NotExact otherwise."""
    re, im = value
    if im == 0 and re < 0 and k % 2 == 1:
        neg = _exact_root((-re, im), k)
        return -neg[0], neg[1]
    if im != 0 or re < 0:
        raise NotExact("root of a negative or complex number")
    num, den = _int_root(re.numerator, k), _int_root(re.denominator, k)
    if num is None or den is None:
        raise NotExact("irrational root")
    return Fraction(num, den), Fraction(0)


def _int_root(n: int, k: int) -> int | None:
    r = round(n ** (1.0 / k)) if n.bit_length() < 1000 else None
    if r is None:
        return None
    for cand in (r - 1, r, r + 1):
        if cand >= 0 and cand**k == n:
            return cand
    return None


def _exact_factorial(value: GaussQ) -> GaussQ:
    re, im = value
    if im != 0 or re.denominator != 1 or re < 0:
        raise NotExact("factorial of a non-natural number")
    if re > MAX_FACTORIAL:
        raise TooBig("factorial")
    out = 1
    for k in range(2, int(re) + 1):
        out *= k
    return Fraction(out), Fraction(0)


def _exact_binomial(n: GaussQ, k: GaussQ) -> GaussQ:
    """C(n, k) for integers n >= 0 and k; bounded like the factorial (by the smaller of k and n - k)."""
    if n[1] != 0 or k[1] != 0 or n[0].denominator != 1 or k[0].denominator != 1 or n[0] < 0:
        raise NotExact("binomial of non-natural numbers")
    nn, kk = int(n[0]), int(k[0])
    if kk < 0 or kk > nn:
        return Fraction(0), Fraction(0)
    if min(kk, nn - kk) > MAX_FACTORIAL or nn.bit_length() * min(kk, nn - kk) > MAX_EXACT_BITS:
        raise TooBig("binomial")
    return Fraction(math.comb(nn, kk)), Fraction(0)


def numeric(node, env: dict):
    """The value of an expression at 60 digits (an mpmath number); variables are looked up in ``env``."""
    c = ctx()
    tag = node[0]
    if tag == "num":
        return c.mpf(node[1].numerator) / node[1].denominator
    if tag == "const":
        return {"pi": c.pi, "e": c.e, "i": c.mpc(0, 1), "inf": c.inf}[node[1]]
    if tag == "var":
        return env[node[1]]
    if tag == "neg":
        return -numeric(node[1], env)
    if tag == "add":
        return c.fsum(numeric(t, env) for t in node[1])
    if tag == "mul":
        return c.fprod(numeric(f, env) for f in node[1])
    if tag == "div":
        return numeric(node[1], env) / numeric(node[2], env)
    if tag == "pow":
        base = numeric(node[1], env)
        odd = _odd_root(node[2])
        # x^{2/3} at a negative x is the real (cube root of x)^2, as \sqrt[3]{x}^2 is: answers mean the real root.
        if odd is not None and c.im(base) == 0 and c.re(base) < 0:
            return (-1) ** odd.numerator * _npow(-c.re(base), c.mpf(odd.numerator) / odd.denominator)
        return _npow(base, numeric(node[2], env))
    if tag == "root":
        index = numeric(node[2], env) if node[2] is not None else c.mpf(2)
        x = numeric(node[1], env)
        # The real cube root of -8 is -2, which is what an answer means by \sqrt[3]{-8}.
        if c.im(x) == 0 and c.re(x) < 0 and index == int(index) and int(index) % 2 == 1:
            return -_npow(-c.re(x), 1 / index)
        return _npow(x, 1 / index)
    if tag == "fact":
        n = numeric(node[1], env)
        if abs(n) > 10**6:
            raise TooBig("factorial")
        return c.factorial(n)
    if tag == "abs":
        return abs(numeric(node[1], env))
    if tag == "binom":
        n, k = numeric(node[1], env), numeric(node[2], env)
        if abs(n) > 10**6 or abs(k) > 10**6:
            raise TooBig("binomial")
        return c.binomial(n, k)
    if tag == "fn":
        return _function(node[1], numeric(node[2], env))
    if tag == "log":
        arg = numeric(node[1], env)
        return c.log(arg) / c.log(numeric(node[2], env)) if node[2] is not None else c.log(arg)
    raise NotExact(tag)


def _odd_root(exponent) -> Fraction | None:
    """The exponent's value when it is a constant rational with an odd denominator above 1 (p/3, p/5, ...)."""
    if exponent[0] in ("num", "var", "const") and (exponent[0] != "num" or exponent[1].denominator == 1):
        return None
    if free_vars(exponent):
        return None
    try:
        re_part, im_part = exact(exponent)
    except (NotExact, TooBig, ZeroDivisionError, OverflowError):
        return None
    return re_part if im_part == 0 and re_part.denominator % 2 == 1 and re_part.denominator > 1 else None


def _npow(base, exp):
    c = ctx()
    if base != 0 and abs(exp) * abs(c.log(abs(base))) > MAX_LOG_MAGNITUDE or abs(exp) > 10**12:
        raise TooBig("power")
    if c.im(exp) == 0 and c.re(exp) == int(c.re(exp)):
        return base ** int(c.re(exp))
    return c.power(base, exp)


def _function(name: str, x):
    c = ctx()
    if name in ("sec", "csc", "cot"):
        return 1 / {"sec": c.cos, "csc": c.sin, "cot": c.tan}[name](x)
    if name == "ln":
        return c.log(x)
    if abs(x) > 10**6 and name in ("exp", "sinh", "cosh", "tanh"):
        raise TooBig(name)
    # Reducing a huge argument modulo pi costs as many digits as the argument has.
    if abs(x) > 10**100:
        raise TooBig(name)
    return getattr(c, {"arcsin": "asin", "arccos": "acos", "arctan": "atan"}.get(name, name))(x)


def points(names: frozenset[str]) -> list[dict]:
    """The evaluation points for expressions in ``names``: one env per point, the same for both sides."""
    c = ctx()
    ordered = sorted(names)
    envs = []
    for k in range(len(_POINTS)):
        envs.append({v: c.mpf(_POINTS[(k + j) % len(_POINTS)]) + j for j, v in enumerate(ordered)})
    return envs


def close(a, b, tol=REL_TOL) -> bool:
    """Equal to the relative tolerance; values below 10^-50 count as zero only against zero."""
    c = ctx()
    if c.isinf(a) or c.isinf(b) or c.isnan(a) or c.isnan(b):
        return bool(a == b and not c.isnan(a))
    scale = max(abs(a), abs(b))
    if scale < c.mpf(10) ** -50:
        return True
    return abs(a - b) <= tol * scale

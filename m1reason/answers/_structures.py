"""Answers with parts: tuples, intervals, sets, lists, unions, matrices, and ``\\pm``.

Owns splitting a cleaned answer at its top level into a small tree, and comparing two trees:
tuples and intervals in order with their brackets (open and closed intervals are kept apart), sets and
bare lists in any order, values named one by one (``AB=4, CD=5``) by name or in order, matrices cell by cell.
Inequalities become intervals in ``_relations``; leaves go to ``scalar_equal``.
"""

from __future__ import annotations

import re

from m1reason.answers._normalize import join_thousands, strip_marks, strip_var, unwrap_text
from m1reason.answers._relations import inequality
from m1reason.answers._scalar import scalar_equal

MAX_ITEMS = 64
MAX_NESTING = 6
_MATRIX_RE = re.compile(r"\\begin\{([pbBv]?matrix|array)\}\s*(?:\{[^{}]*\})?(.*)\\end\{\1\}", re.S)
_OPEN, _CLOSE = "([{", ")]}"
# "(a, b) = (2, 3)": the names of a tuple, then its value.
_TUPLE_VAR_RE = re.compile(r"\(\s*[A-Za-z](?:\s*,\s*[A-Za-z])+\s*\)\s*=\s*(\S.*)", re.S)
# "\left[\begin{array}{cc}...\end{array}\right]": an array in brackets is a matrix (clean() dropped \left).
_BRACKETED_MATRIX_RE = re.compile(r"[(\[]\s*(\\begin\{(array|matrix)\}.*\\end\{\2\})\s*[)\]]", re.S)


def split_top(s: str, sep: str) -> list[str]:
    """Split ``s`` at ``sep`` outside any brackets.

    >>> split_top("(1,2), [3,4)", ",")
    ['(1,2)', ' [3,4)']
    """
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and s.startswith(("\\{", "\\}"), i):
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(s[start:])
    return parts


def _encloses(s: str) -> bool:
    """True when the bracket opening ``s`` closes at its last character."""
    depth = 0
    for k, ch in enumerate(s):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                return k == len(s) - 1
    return False


def structure(s: str, level: int = 0):
    r"""The tree of a cleaned answer: ("scalar", s), ("list", items[, names]), ("set", items),
    ("brack", open, close, items), ("matrix", rows) or ("union", parts).

    >>> structure(r"x \in [-2,7]")
    ('brack', '[', ']', [('scalar', '-2'), ('scalar', '7')])
    >>> structure(r"1 \pm \sqrt{19}")[0]
    'list'
    """
    s = unwrap_text(s.strip())
    bare, marks = strip_marks(s)
    s = join_thousands(s) if "," in s else s
    if bare[-1:] in (")", "]", "}") and not marks.percent:
        s = bare
    if level > MAX_NESTING or not s:
        return ("scalar", s)
    named = _TUPLE_VAR_RE.fullmatch(s)
    if named:
        s = named.group(1)
    bracketed = _BRACKETED_MATRIX_RE.fullmatch(s)
    m = _MATRIX_RE.fullmatch(bracketed.group(1) if bracketed else s)
    if m and m.group(1) != "vmatrix":
        rows = [r for r in re.split(r"\\\\", m.group(2)) if r.strip()]
        return ("matrix", [[("scalar", cell.strip()) for cell in r.split("&")] for r in rows])
    unions = split_top(s, "\\cup")
    if len(unions) > 1:
        return ("union", [structure(p, level + 1) for p in unions])
    items = _items(s)
    if len(items) > 1:
        named = [strip_var(p) for p in items]
        values = _flatten([structure(value, level + 1) for _, value in named])
        names = tuple(name for name, _ in named)
        # "AB=4, CD=5": each value has its own name, so the values are not interchangeable (see struct_equal).
        if all(names) and len(set(names)) == len(names) == len(values):
            return ("list", values, names)
        return ("list", values)
    var, rest = strip_var(s)
    if var is not None:
        inner = structure(rest, level + 1)
        # A single value keeps its name: scalar_equal needs it to read "2y = -4x" against "y = -2x".
        return ("scalar", s) if inner[0] == "scalar" else inner
    return _single(s, level)


def _single(s: str, level: int):
    interval = inequality(s)
    if interval is not None:
        return interval
    if s.startswith("\\{") and s.endswith("\\}"):
        inner = s[2:-2]
        return ("set", _flatten([structure(p, level + 1) for p in split_top(inner, ",") if p.strip()]))
    if s[0] in "([" and s[-1] in ")]" and _encloses(s):
        items = _items(s[1:-1], keep_empty=True)
        if len(items) >= 2:
            return ("brack", s[0], s[-1], [structure(p, level + 1) for p in items])
        if s[0] == "(" and s[-1] == ")":
            return structure(s[1:-1], level + 1)
    if s.startswith("{") and _encloses(s):
        return structure(s[1:-1], level + 1)
    pm = _expand_pm(s, level)
    if pm is not None:
        return ("list", pm)
    return ("scalar", s)


def _items(s: str, keep_empty: bool = False) -> list[str]:
    """The top-level items of a list: split at commas, or at semicolons when there is no comma (``-12;-11``)."""
    items = split_top(s, ",")
    if len(items) == 1 and ";" in s:
        items = split_top(s, ";")
    return items if keep_empty else [p for p in items if p.strip()]


def _expand_pm(s: str, level: int):
    r"""``a \pm b`` -> [a + b, a - b]; None unless there is exactly one top-level \pm or \mp.

    >>> _expand_pm(r"1 \pm \sqrt{19}", 0)
    [('scalar', '1 + \\sqrt{19}'), ('scalar', '1 - \\sqrt{19}')]
    """
    pm, mp = split_top(s, "\\pm"), split_top(s, "\\mp")
    # Two or more signs would multiply the readings (and a hostile answer can hold hundreds).
    if len(pm) + len(mp) != 3:
        return None
    (head, tail), first, second = (pm, "+", "-") if len(pm) == 2 else (mp, "-", "+")
    return [structure(f"{head.strip()} {first} {tail.strip()}", level + 1),
            structure(f"{head.strip()} {second} {tail.strip()}", level + 1)]


def _flatten(items: list) -> list:
    """Inline the values of a ``\\pm`` inside a list or set: {1 \\pm 2, 5} is {3, -1, 5}."""
    out = []
    for it in items:
        out.extend(it[1] if it[0] == "list" else [it])
    return out[: MAX_ITEMS + 1]


def struct_equal(c, g, deadline: float) -> bool:
    """Is the candidate tree ``c`` the gold tree ``g``? (see the module docstring for the rules)"""
    kc, kg = c[0], g[0]
    if kc == kg == "scalar":
        return scalar_equal(c[1], g[1], deadline)
    if kc == "matrix" or kg == "matrix":
        return _matrix_equal(c, g, deadline)
    if kc == kg == "brack":
        return c[1:3] == g[1:3] and _in_order(c[3], g[3], deadline)
    if kc == kg == "list" and (len(c) > 2 or len(g) > 2):
        return _named_equal(c, g, deadline)
    if kc in ("list", "set") and kg in ("list", "set") or kc == kg == "union":
        return _any_order(c[1], g[1], deadline)
    # A bare list is read as a tuple against a tuple: "15, -29" is "(15,-29)".
    if {kc, kg} == {"brack", "list"}:
        br = c if kc == "brack" else g
        return br[1:3] == ("(", ")") and _in_order(_parts(c), _parts(g), deadline)
    if {kc, kg} == {"set", "scalar"}:
        st, sc = (c, g) if kc == "set" else (g, c)
        return len(st[1]) == 1 and struct_equal(st[1][0], sc, deadline)
    return False


def _parts(node) -> list:
    return node[3] if node[0] == "brack" else node[1]


def _named_equal(c, g, deadline: float) -> bool:
    """Lists where one side names each value: by name when both use the same names, else in the order written
    ("4, 5" is AB=4, CD=5; "5, 4" is not)."""
    names_c, names_g = (c[2] if len(c) > 2 else None), (g[2] if len(g) > 2 else None)
    if names_c and names_g and set(names_c) == set(names_g):
        return _in_order([c[1][names_c.index(n)] for n in names_g], g[1], deadline)
    return _in_order(c[1], g[1], deadline)


def _in_order(cs: list, gs: list, deadline: float) -> bool:
    return len(cs) == len(gs) and all(struct_equal(a, b, deadline) for a, b in zip(cs, gs))


def _any_order(cs: list, gs: list, deadline: float) -> bool:
    """Set equality: every candidate item is some gold item and every gold item some candidate item."""
    if len(cs) > MAX_ITEMS or len(gs) > MAX_ITEMS:
        return False
    matched_g = set()
    for a in cs:
        hits = [j for j, b in enumerate(gs) if struct_equal(a, b, deadline)]
        if not hits:
            return False
        matched_g.update(hits)
    return len(matched_g) == len(gs)


def _matrix_equal(c, g, deadline: float) -> bool:
    """Same shape, equal cells; a one-row or one-column matrix also equals a tuple of its cells."""
    if c[0] == g[0] == "matrix":
        return [len(r) for r in c[1]] == [len(r) for r in g[1]] and all(
            _in_order(rc, rg, deadline) for rc, rg in zip(c[1], g[1])
        )
    mat, other = (c, g) if c[0] == "matrix" else (g, c)
    if other[0] != "brack" or other[1:3] != ("(", ")"):
        return False
    cells = [cell for row in mat[1] for cell in row]
    if len(mat[1]) > 1 and any(len(r) > 1 for r in mat[1]):
        return False
    return _in_order(cells, other[3], deadline) if mat is c else _in_order(other[3], cells, deadline)

"""The hand-written development sets (benchmarks/data/natural_dev.jsonl, out_of_scope_dev.jsonl) are well formed:
they parse, ids are unique, the kinds and their counts are the stated ones, every in-scope answer is exactly what
its expression evaluates to, and no dev problem is a test-set problem (compared after normalising the text, and
only counted here: the test sets are read programmatically, never printed)."""

import ast
import json
import re
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from m1reason.answers import is_equivalent

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
IN_SCOPE = {"add": 20, "sub": 20, "mul": 20, "div": 20, "order": 20, "neg": 18, "frac": 20, "mixed": 12, "dec": 20,
            "pct": 20, "ratio": 18, "unit": 18, "geom": 18, "avg": 16, "eq": 18, "sys": 14, "word": 48}
OUT_OF_SCOPE = {"calculus", "proof", "language", "symbols", "advanced", "nonmath"}  # the test set's kind names
OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
       ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def exact(node: ast.AST) -> Fraction | tuple:
    """An expression of integers, + - * / // % ( ), Fraction(p, q) and tuples, evaluated with exact rationals."""
    if isinstance(node, ast.Expression):
        return exact(node.body)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](exact(node.left), exact(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = exact(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Fraction" \
            and not node.keywords and 1 <= len(node.args) <= 2:
        return Fraction(*exact_args(node.args))
    if isinstance(node, ast.Tuple):
        return tuple(exact(e) for e in node.elts)
    raise ValueError(f"not allowed in an expression: {ast.dump(node)}")


def exact_args(args: list[ast.expr]) -> list[Fraction]:
    values = [exact(a) for a in args]
    assert all(isinstance(v, Fraction) for v in values)
    return values


def parse_answer(answer: str) -> Fraction | tuple:
    """The answer as a student boxes it: 2:3, (3, 2), 2 1/2, -5/12, 4.75, 28.80."""
    if ":" in answer:
        return tuple(Fraction(part.strip()) for part in answer.split(":"))
    if answer.startswith("(") and answer.endswith(")"):
        return tuple(Fraction(part.strip()) for part in answer[1:-1].split(","))
    mixed = re.fullmatch(r"(\d+) (\d+)/(\d+)", answer)
    if mixed:
        whole, num, den = map(int, mixed.groups())
        return whole + Fraction(num, den)
    return Fraction(answer)


def as_text(value: Fraction | tuple, ratio: bool) -> str:
    if isinstance(value, tuple):
        parts = [as_text(v, False) for v in value]
        return ":".join(parts) if ratio else f"({', '.join(parts)})"
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def normalise(text: str, gap: str = "") -> str:
    """Lowercase, punctuation stripped (or, with gap=" ", turned into spaces), whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", gap, text.lower()).split())


def keys(text: str) -> set[str]:
    return {normalise(text), normalise(text, " ")}


@pytest.fixture(scope="module")
def natural() -> list[dict]:
    return rows("natural_dev.jsonl")


@pytest.fixture(scope="module")
def outside() -> list[dict]:
    return rows("out_of_scope_dev.jsonl")


def test_both_files_parse_with_unique_ids_and_problems(natural, outside):
    both = natural + outside
    assert len({p["id"] for p in both}) == len(both)
    assert len({normalise(p["problem"]) for p in both}) == len(both)
    for p in natural:
        assert set(p) == {"id", "kind", "problem", "answer", "expression"}
        assert p["id"].startswith(f"dev-{p['kind']}-") and p["problem"].strip() == p["problem"]
    for p in outside:
        assert set(p) == {"id", "kind", "problem", "answer"}
        assert p["id"].startswith(f"dev-{p['kind']}-") and p["problem"].strip() == p["problem"]


def test_kinds_and_counts_are_the_stated_ones(natural, outside):
    assert len(natural) == 340 and Counter(p["kind"] for p in natural) == IN_SCOPE
    assert len(outside) == 84 and {p["kind"] for p in outside} == OUT_OF_SCOPE
    assert all(13 <= n <= 16 for n in Counter(p["kind"] for p in outside).values())


def test_every_answer_is_exactly_its_expression(natural):
    wrong = []
    for p in natural:
        value = exact(ast.parse(p["expression"], mode="eval"))
        ratio = ":" in p["answer"]
        if parse_answer(p["answer"]) != value or not is_equivalent(as_text(value, ratio), p["answer"]):
            wrong.append((p["id"], p["answer"], value))
    assert not wrong, wrong


def test_no_dev_problem_is_a_test_problem(natural, outside):
    test = set().union(*(keys(p["problem"]) for name in ("natural_math.jsonl", "out_of_scope.jsonl")
                         for p in rows(name)))
    shared = [p["id"] for p in natural + outside if keys(p["problem"]) & test]
    assert not shared, shared  # ids from the dev files only

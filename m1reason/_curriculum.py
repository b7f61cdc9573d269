"""What the embedded model's curriculum lacks, as data for ``m1reason.scope.EMBEDDED_SCOPE``.

The embedded tiny M1 was trained only on code-generated grade-school math: whole-number arithmetic up to 5 digits
(column addition and subtraction, long multiplication, long division with remainders), signed numbers, order of
operations with brackets, negatives, squares and cubes, fractions and mixed numbers, decimals, percentages,
ratios, rates, speed, unit conversions (cm/m/km, g/kg, min/h, ml/l, in/ft/yd/mi, oz/lb), linear equations
in one variable and 2x2 linear systems, area
and perimeter of rectangles, squares and triangles, the mean, median, mode and range of a list, and multi-step
word problems (shopping, sharing, ages, time), told with names and pronouns.
Every entry below names something outside that list. Words that also occur in grade-school word problems are left
out or narrowed to a phrase ("taylor series", not "Taylor", a child's name; "log" only before an argument, not a
woodcutter's logs; "remainder", "divisor" and "a mod b" are long division, the last in the curriculum's own
words), because a wrong refusal costs a student a fair question while a missed one costs what it cost before
scopes existed. ``tests/test_scope.py`` checks that the curriculum's own held-out problems all stay in scope.
"""

from __future__ import annotations

import json
from importlib import resources

NAME = "the embedded model"

# (topic, words or phrases, notation patterns, unless): see m1reason.scope.Topic. Order matters only for which
# topic a reason names when a problem touches several. Patterns are searched in the lower-cased problem and each
# starts with a literal character, its context checked by a lookbehind after it ("sin(?<![a-z]...)", not
# "\bsin"): the regex engine then scans for that character, where a leading "\b" makes it try every position
# (on 8,000 characters, 0.003 ms against 0.2 ms a pattern).
TOPICS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("calculus",
     ("integral", "integrals", "integrate", "integrating", "integration", "antiderivative", "derivative",
      "derivatives", "differentiate", "differentiating", "differentiation", "differential", "calculus", "lim",
      "limit as", "find the limit", "evaluate the limit", "compute the limit", "infinity", "converge", "converges",
      "convergent", "convergence", "diverge", "diverges", "divergent", "taylor series", "taylor polynomial",
      "taylor expansion", "maclaurin", "infinite series", "power series", "tangent line", "instantaneous rate",
      "stationary point", "stationary points", "inflection", "asymptote", "asymptotes", "maxima", "minima"),
     (r"d/d(?<![a-z]d/d)[a-z]\b", r"/d(?<=\bd[a-z]/d)[a-z]\b", r"\\frac\s*\{\s*d\s*\}\s*\{\s*d[a-z]\s*\}",
      r"['′](?<=\b[fgh]['′])['′]*\s*\(", r"lim(?<![a-z]lim)\s*_", r"\\(?:int|iint|oint|infty|partial)(?![a-z])",
      "[∫∬∮∂∞]"),
     ()),
    ("trigonometry",
     ("sine", "cosine", "tangent", "cotangent", "secant", "cosecant", "trigonometry", "trigonometric", "radian",
      "radians", "arcsin", "arccos", "arctan", "unit circle"),
     (r"(?:sin|cos|tan|cot|csc)(?<![a-z]...)\s*(?:\(|\^|\d|\\|[xyθαβ]\b)",
      r"cosec(?<![a-z]cosec)\s*(?:\(|\^|\d|\\|[xyθαβ]\b)", r"sec(?<![a-z]sec)\s*(?:\(|\^|\\|[xθ]\b)", "θ"),
     ()),
    ("logarithms and exponentials",
     ("logarithm", "logarithms", "logarithmic", "natural log", "exponential", "exponentially", "compound interest",
      "compounded", "half life"),
     (r"log(?<![a-z]log)\s*(?:_|\(|\d|\\|[xyzn]\b)", r"ln(?<![a-z]ln)\s*(?:\(|\d|[a-z]\b)", r"\^(?<=\be\^)",
      r"\^(?<=\be \^)"),
     ()),
    ("proofs",
     ("prove", "proves", "proving", "proof", "proofs", "show that", "induction", "theorem", "lemma", "corollary",
      "irrational", "if and only if", "iff", "contradiction", "rational number", "rational numbers", "explain why",
      "justify", "demonstrate that"),
     (),
     ()),
    ("linear algebra",
     ("matrix", "matrices", "determinant", "determinants", "eigenvalue", "eigenvalues", "eigenvector",
      "eigenvectors", "eigenspace", "vector", "vectors", "dot product", "cross product", "transpose",
      "linear transformation", "linearly independent", "orthogonal", "pmatrix", "bmatrix", "vmatrix"),
     (),
     ()),
    ("complex numbers",
     ("complex number", "complex numbers", "imaginary", "real part", "complex conjugate", "complex plane",
      "argand"),
     # the imaginary unit in an expression: "3i", "(1 - i)", "$2 + i$" (never "5 in" or "10 i.e.")
     (r"(?<=\d)i(?![a-z.])", r"[-+]\s*i\s*[)$]"),
     ()),
    ("probability and counting",
     ("probability", "probabilities", "at random", "randomly", "expected value", "factorial", "factorials",
      "permutation", "permutations", "combinations", "combinatorics", "combinatorial",
      "how many ways", "how many different ways", "how many arrangements", "arrangements", "binomial"),
     (r"!(?<=\d!)(?=\s*(?:[-+*/×÷=·)?]|\\))", r"!(?<=\d !)(?=\s*(?:[-+*/×÷=·)?]|\\))",
      r" choose (?<=\d choose )(?=\d)", r" choose (?<=\b[nk] choose )(?=[nk]\b)", r"\\binom(?![a-z])"),
     ()),
    ("number theory",
     ("congruent", "congruence", "prime factorization", "prime factorisation", "prime factor",
      "prime factors", "prime number", "prime numbers", "primes", "is prime", "greatest common divisor",
      "greatest common factor", "highest common factor", "gcd", "hcf", "lcm", "least common multiple",
      "lowest common multiple", "binary", "hexadecimal", "octal"),
     # "a mod b" alone is the curriculum's own remainder question; "(mod n)" writes a congruence.
     (r"\(\s*mod\b", r"\\[pb]mod(?![a-z])", r" base(?<=\bin base|\bto base)\s*\d"),
     ()),
    ("geometry beyond rectangles, squares and triangles",
     ("circle", "circles", "semicircle", "radius", "radii", "diameter", "diameters", "circumference", "pi",
      "arc length", "sphere", "spheres", "spherical", "hemisphere", "cylinder", "cylinders", "cylindrical",
      "conical", "prism", "prisms", "cuboid", "cuboids", "surface area", "hypotenuse", "pythagoras",
      "pythagorean", "trapezoid", "trapezium", "parallelogram", "rhombus", "polygon", "polygons",
      "similar triangles", "coordinate", "coordinates", "slope", "midpoint", "parabola", "ellipse", "hyperbola"),
     ("[π∠⊥∥]",),
     ()),
    # Angles: the curriculum's triangles include right-angled ones, whose area a problem may state that way.
    ("geometry beyond rectangles, squares and triangles", ("angle", "angles"), (), ("right angle", "right angles")),
    # Volume of solids is out; a volume of liquid in ml or l is a unit conversion, which is in.
    ("geometry beyond rectangles, squares and triangles", ("volume",), (),
     ("ml", "l", "millilitre", "millilitres", "milliliter", "milliliters", "litre", "litres", "liter", "liters")),
    ("statistics beyond the mean, median, mode and range",
     ("standard deviation", "variance", "quartile", "quartiles", "interquartile", "percentile", "percentiles"),
     (),
     ()),
    ("sequences and series",
     ("arithmetic sequence", "geometric sequence", "arithmetic progression", "geometric progression",
      "arithmetic series", "geometric series", "nth term", "n th term", "common ratio", "common difference",
      "fibonacci"),
     ("[∑∏]", r"\\(?:sum|prod)(?![a-z])"),
     ()),
    ("functions", (), (r"\((?<=\b[fgh]\()\s*[xnt]\s*\)", r"\((?<=\b[fgh] \()\s*[xnt]\s*\)"), ()),
    ("powers and roots",
     ("square root", "square roots", "cube root", "cube roots", "nth root", "sqrt", "exponent", "exponents",
      "to the power", "raised to the", "powers of", "scientific notation", "perfect square", "perfect squares",
      "perfect cube", "radical", "radicals"),
     # A number (or a bracket) raised to a power other than the squares and cubes order of operations teaches
     # (3^2, (-2)^3, 5²); "^\circ" and "^o" are degrees. Units (cm^2, m²) are letters.
     (r"\^(?<=[\d)]\^)(?!\s*(?:\{\s*)?(?:[23](?!\d|\.\d)|o\b|\\circ))",
      r"\^(?<=[\d)] \^)(?!\s*(?:\{\s*)?(?:[23](?!\d|\.\d)|o\b|\\circ))",
      r"\*\*(?<=[\d)]\*\*)\s*[\d(]", r"\*\*(?<=[\d)] \*\*)\s*[\d(]", "[√∛∜]"),
     ()),
    ("inequalities", ("inequality", "inequalities", "interval notation", "solution set"), (), ()),
    ("quadratics and polynomials",
     ("quadratic", "quadratics", "polynomial", "polynomials", "cubic equation", "discriminant", "factorise",
      "factorize", "factorising", "factorizing", "factorisation", "factorization", "completing the square",
      "complete the square", "roots of", "the roots", "monomial", "trinomial"),
     # A one-letter variable (a letter after no other letter: x, 3x) raised to a power (x^2, 3y², a^n); m is left
     # out, as m^2 and m² are square metres, and so are units of two letters or more (cm², ft^2).
     (r"\^(?<=[a-ln-z]\^)(?<![a-z][a-z]\^)\s*(?:\{\s*)?[\da-z(]",
      r"\^(?<=[a-ln-z] \^)(?<![a-z][a-z] \^)\s*(?:\{\s*)?[\da-z(]",
      r"\*\*(?<=[a-ln-z]\*\*)(?<![a-z][a-z]\*\*)[\d(]", r"[²³](?<=[a-ln-z][²³])(?<![a-z][a-z][²³])"),
     ()),
)

# LaTeX commands of the curriculum's problems and their plain formatting; any other named command is out.
LATEX_COMMANDS = frozenset({
    "frac", "dfrac", "tfrac", "times", "div", "cdot", "left", "right", "text", "textbf", "textit", "textrm",
    "mathrm", "mathit", "mbox", "emph", "quad", "qquad", "hspace", "newline", "le", "leq", "ge", "geq", "ne", "neq",
    "approx", "pm", "circ", "degree", "boxed", "displaystyle", "ldots", "cdots", "dots", "big", "Big", "bigl",
    "bigr", "Bigl", "Bigr", "overline", "underline", "begin", "end", "lbrace", "rbrace", "textdollar",
})

# Mathematical symbols the curriculum's problems use (m1reason.scope judges only symbol-like characters).
SYMBOLS = "×÷−·±≤≥≠≈∙⋅∗∕²³½¼¾%°ℓ℃℉№"

# Whole-number arithmetic up to 5 digits; products and sums of such numbers reach 7 (99,999 x 99 = 9,899,901).
MAX_DIGITS = 7


def vocabulary() -> frozenset[str] | None:
    """The words of the embedded model's training problems (``m1reason.scope.words_of``), stored beside its weights
    by ``m1reason.train.recipe.ship`` (m1reason/embedded/vocabulary.json); None (no vocabulary rule) where the file
    is missing.

    >>> {"apples", "how", "many"} <= vocabulary()
    True
    """
    path = resources.files("m1reason") / "embedded" / "vocabulary.json"
    if not path.is_file():
        return None
    return frozenset(json.loads(path.read_text())["words"])

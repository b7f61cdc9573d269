"""A model's scope: each rule of the embedded model's refuses what its curriculum lacks, names what triggered it,
and keeps the near misses a student may fairly ask; the check is cheap and the scope is JSON in and out.

The examples are written here from the curriculum (m1reason/_curriculum.py), not taken from benchmarks/data.
"""

import time

import pytest
from pydantic import ValidationError

from m1reason.scope import EMBEDDED_SCOPE, Scope, ScopeVerdict, Topic

PREFIX = "out of the embedded model's scope: "

# Problems of the curriculum, several close to a rule: units squared, remainders, ages, percentages, equations,
# LaTeX fractions, thousands separators, speed, unicode operators, right-angled triangles, liquid volumes.
IN_SCOPE = [
    "What is the area of a 5 cm by 3 cm rectangle in cm^2?",
    "Find the remainder when 1,234 is divided by 7.",
    "What is 1,234 mod 7?",  # the curriculum's own words for a remainder
    "Mia is 12 years old. Her brother is three years older. How old will he be in 5 years?",
    "What is 15% of 240?",
    "Solve 3x + 5 = 20.",
    r"Compute $\frac{3}{4} + \frac{1}{6}$.",
    r"What is 4,567 \times 89?",
    "A car travels 150 km in 2 hours. What is its average speed in km/h?",
    "A square field has sides of 12 m. What is its area in m²?",
    "Compute 48 ÷ 6 × 2 − 3.",
    "What is 7²?",  # squares and cubes are order of operations
    r"Evaluate $4 \times (9 - 3)^2 + (-2)^{3}$.",
    "A right-angled triangle has legs of 6 cm and 8 cm. What is its area?",
    "A triangle with a right angle has a base of 10 cm and a height of 4 cm. Find its area.",
    "A jug holds a volume of 1.5 litres. How many ml is that?",
    "Solve the system: x + y = 10 and x - y = 2.",
    "What is 2 1/2 + 3 3/4?",
    "Convert 3.5 kg to grams.",
    "How many minutes are there in two and a half hours?",
    "Taylor has 5 apples and buys a dozen more. How many does she have?",
    "A woodcutter splits 12 logs into 4 pieces each. How many pieces?",
    "The temperature was -3 °C in the morning and rose by 8°. What was it then?",
    r"What is $\dfrac{7}{8} - \dfrac{1}{4}$?",
    "Sam shares 84 sweets equally among 6 friends. How many does each get, and how many are left over?",
    "Divide 12,345 by 5.",
    "Is 3 + 4 × 2 equal to 11 or 14? Evaluate (3 + 4) × 2 too.",
    "A shirt costs $25. It is discounted by 20%. What is the new price?",
    "The ratio of boys to girls is 3:5. There are 40 children. How many are girls?",
    "Find the mean of 4, 8, 15 and 21.",
    "Lena can choose 3 books from the shelf for 2 dollars each. How much does she pay?",
]


@pytest.mark.parametrize("problem", IN_SCOPE)
def test_curriculum_problems_are_in_scope(problem):
    assert EMBEDDED_SCOPE.check(problem) == ScopeVerdict(in_scope=True)


@pytest.mark.parametrize(("problem", "reason"), [
    ("Find the integral of 3x + 2.", "calculus ('integral')"),
    ("Differentiate 5x + 1 with respect to x.", "calculus ('differentiate')"),
    ("Evaluate \\lim_{x \\to 2} (3x + 1).", "calculus ('lim')"),
    ("Find dy/dx when y = 7x.", "calculus ('dy/dx')"),
    ("What is \\int_0^1 3 dx?", "calculus ('\\int_0^1')"),
    ("What is sin(30)?", "trigonometry ('sin(30)')"),
    ("Find the cosine of 60 degrees.", "trigonometry ('cosine')"),
    ("Compute log(1000).", "logarithms and exponentials ('log(1000)')"),
    ("What is the logarithm of 8 to base 2?", "logarithms and exponentials ('logarithm')"),
    ("Prove that the sum of two even numbers is even.", "proofs ('prove')"),
    ("Show that 7 is odd.", "proofs ('show that')"),
    ("Find the determinant of the 2 by 2 matrix with rows 1, 2 and 3, 4.", "linear algebra ('matrix')"),
    ("Write 3 + 4i as a complex number in polar form.", "complex numbers ('complex number')"),
    ("What is $(2 + 3i)(1 - i)$?", "complex numbers ('3i)(1')"),  # the imaginary unit, unnamed
    ("Simplify (4 - i)(4 + i).", "complex numbers ('- i)(4')"),
    ("What is the probability of rolling a 6 with one die?", "probability and counting ('probability')"),
    ("In how many ways can 4 people sit in a row?", "probability and counting ('how many ways')"),
    ("What is 5!?", "probability and counting ('5!')"),
    ("What is 10 choose 3?", "probability and counting ('10 choose 3')"),
    ("Find x if 3x is congruent to 2, mod 5.", "number theory ('congruent')"),
    ("Solve 3x = 2 \\pmod{5}.", "number theory ('\\pmod{5}')"),
    ("Find the prime factorization of 84.", "number theory ('prime factorization')"),
    ("Find the LCM of 4 and 6.", "number theory ('lcm')"),
    ("Find the area of a circle of radius 3 cm.", "geometry beyond rectangles, squares and triangles ('circle')"),
    ("Find the angle x if the other two angles are 50° and 60°.",
     "geometry beyond rectangles, squares and triangles ('angle')"),
    ("What is the volume of a box 2 cm by 3 cm by 4 cm?",
     "geometry beyond rectangles, squares and triangles ('volume')"),
    ("Find the hypotenuse of a triangle with legs 3 and 4.",
     "geometry beyond rectangles, squares and triangles ('hypotenuse')"),
    ("What is 2π?", "geometry beyond rectangles, squares and triangles ('2π')"),
    ("Find the standard deviation of 3, 9, 4 and 7.",
     "statistics beyond the mean, median, mode and range ('standard deviation')"),
    ("Find the 10th term of the arithmetic sequence 3, 7, 11.", "sequences and series ('arithmetic sequence')"),
    ("If f(x) = 2x + 1, what is f(3)?", "functions ('f(x)')"),
    ("What is the square root of 49?", "powers and roots ('square root')"),
    ("What is 2^10?", "powers and roots ('2^10')"),
    ("Compute $3^{4}$.", "powers and roots ('3^{4}')"),
    ("What is 7^5?", "powers and roots ('7^5')"),
    ("Find $(-2)^{10}$.", "powers and roots ('(-2)^{10}')"),
    ("Solve x^2 - 5x + 6 = 0.", "quadratics and polynomials ('x^2')"),
    ("Solve 2y² = 18.", "quadratics and polynomials ('2y²')"),
    ("Solve the quadratic 4 = 3 + n.", "quadratics and polynomials ('quadratic')"),
])
def test_topics_the_curriculum_never_covers_are_out_and_named(problem, reason):
    assert EMBEDDED_SCOPE.check(problem) == ScopeVerdict(in_scope=False, reason=PREFIX + reason)


@pytest.mark.parametrize(("problem", "named"), [
    ("Compute \\binom{6}{2} + 1.", None),  # a topic's own LaTeX names the topic
    ("Compute \\infty - 1 if 2 > 1.", "calculus"),
    ("Let A = \\mathbb{R} and 3 + 4 = ?", "LaTeX it was not taught ('\\mathbb')"),
    ("Compute 3 \\star 4.", "LaTeX it was not taught ('\\star')"),
    ("Is 3 ∈ A if A has 5 elements?", "notation it was not taught ('∈', element of)"),
    ("Given ∀ 3 items, add 2.", "notation it was not taught ('∀', for all)"),
    ("If 12 ≡ 5, add 1.", "notation it was not taught ('≡', identical to)"),
    ("3 → 4, so what is 3 + 4?", "notation it was not taught ('→', rightwards arrow)"),
    ("Compute ⌊7.5⌋ + 1.", "notation it was not taught ('⌊', left floor)"),
])
def test_notation_it_never_saw_is_out_and_named(problem, named):
    verdict = EMBEDDED_SCOPE.check(problem)
    assert not verdict.in_scope
    if named is not None:
        assert verdict.reason.startswith(PREFIX + named)


@pytest.mark.parametrize("problem", [
    r"Compute $\frac{3}{4} \cdot \tfrac{2}{3}$ and $\left(1 + \dfrac{1}{2}\right) \div 3$.",
    r"What is $12\,000 + 3\{,\}500$? Give the answer in \text{cm} or \mathrm{m}.",
    "What is 48 × 3 ÷ 4 − 5 · 2?",
    "A recipe needs ½ cup of sugar and ¾ cup of flour. How many cups is that?",
    "The price rose 12% to 560 €, about ≈ 600 € ± 40 €.",
    "Compute ３ + ４.",  # fullwidth digits
    "A room measures 4 m × 5 m = 20 m². What is its perimeter?",
    r"A $5\%$ tip on $\$40$ is how much?",
])
def test_the_curriculums_notation_stays_in(problem):
    assert EMBEDDED_SCOPE.check(problem).in_scope, EMBEDDED_SCOPE.check(problem).reason


@pytest.mark.parametrize(("problem", "inside"), [
    ("What is 9,999,999 + 1?", True),  # 7 digits with separators: the curriculum's products reach that
    ("What is 1234567 - 1?", True),
    ("What is 12,345,678 - 1?", False),
    ("What is 123456789 + 1?", False),
    ("Round 3.14159265 to 2 decimal places.", False),
])
def test_numbers_longer_than_it_handles_are_out(problem, inside):
    verdict = EMBEDDED_SCOPE.check(problem)
    assert verdict.in_scope is inside
    if not inside:
        assert verdict.reason.startswith(PREFIX + "a number longer than it handles (")
        assert "digits, at most 7)" in verdict.reason


def test_a_very_long_number_is_shown_cut():
    reason = EMBEDDED_SCOPE.check("What is " + "9" * 5000 + " + 1?").reason
    assert "'99999999999999999999999\u2026': 5000 digits" in reason and len(reason) < 150


@pytest.mark.parametrize(("problem", "reason"), [
    ("Сколько будет 25 плюс 17?", "not in English (mostly Cyrillic letters)"),
    ("小明有5个苹果，又买了3个。他现在有几个苹果？", "not in English (mostly Chinese or Japanese (CJK) letters)"),
    ("ما هو ناتج 12 + 7؟", "not in English (mostly Arabic letters)"),
    ("¿Cuántos caramelos tiene Ana si compra 12 y come 5?",
     "not in English (it reads as Spanish: 'cuántos', 'tiene', 'y')"),
    ("Combien de pommes reste-t-il si Marie en a 12 et en mange 5 ?",
     "not in English (it reads as French: 'combien', 'de', 'en')"),
    ("Wie viele Äpfel hat Tom, wenn er 12 kauft und 5 isst?", "not in English (it reads as German: 'hat', "),
    ("Quanti euro spende Luca per 3 gelati da 2 euro ciascuno?",
     "not in English (it reads as Italian: 'ciascuno', 'quanti')"),
    ("Quantos livros tem o João se comprar 4 e ganhar 3?",
     "not in English (it reads as Portuguese: 'quantos', 'tem')"),
    ("Calcula el 20 % de 150.", "not in English (it reads as Spanish: 'calcula', 'de', 'el')"),  # an exercise's verb
    ("Berechne 15 mal 4 und dann die Hälfte davon.", "not in English (it reads as German: 'berechne', 'die', 'und')"),
])
def test_text_not_in_english_is_out_naming_the_script_or_the_words(problem, reason):
    verdict = EMBEDDED_SCOPE.check(problem)
    assert not verdict.in_scope and verdict.reason.startswith(PREFIX + reason)


@pytest.mark.parametrize("problem", [
    "Compute 3/4 + 1/6.",  # no words of any language: in
    "Anna hat 3 Äpfel. What is 3 + 4?",  # an English function word: English
    "Mia bought 3 croissants and 2 pains au chocolat at the café. How much did she spend at $2 each?",
    "José and María have 12 pesos each. How many pesos do they have together?",
    "Calcule 3 + 4.",  # one foreign word is not a language
    "Sam has 5 inches of tape and uses 2 i.e. two of them. How many inches are left?",  # "5 in", "2 i.e." are not i
])
def test_english_with_foreign_names_or_no_words_stays_in(problem):
    assert EMBEDDED_SCOPE.check(problem).in_scope, EMBEDDED_SCOPE.check(problem).reason


@pytest.mark.parametrize(("problem", "inside"), [
    ("What is the capital of France?", False),
    ("Tell me a joke about cats.", False),
    ("Who wrote Romeo and Juliet?", False),
    ("How many minutes are in an hour?", True),  # units: a conversion
    ("What is twelve plus seven?", True),  # number words
    ("Half of a pizza is eaten. What fraction is left?", True),
    ("A dozen eggs cost $3. How much do 4 cost?", True),
])
def test_no_mathematics_at_all_is_out(problem, inside):
    verdict = EMBEDDED_SCOPE.check(problem)
    assert verdict.in_scope is inside
    if not inside:
        assert verdict.reason == PREFIX + "no numbers or number words in it, so nothing to calculate"


def test_math_without_numbers_is_named_by_its_topic_not_as_chat():
    assert EMBEDDED_SCOPE.check("What is the derivative of sin x?").reason == PREFIX + "calculus ('derivative')"


def test_everything_and_a_plain_scope_keep_every_problem():
    anything = ["Prove that √2 is irrational.", "Сколько будет 2 + 2?", "What is 123456789 * 987654321?",
                "Who wrote Hamlet?", "\\int_0^\\infty e^{-x} dx"]
    for scope in (Scope.everything(), Scope()):
        assert all(scope.check(p).in_scope for p in anything)


def test_a_custom_scope_names_itself_and_its_topics():
    scope = Scope(name="the fractions tutor", topics=(Topic(name="money", words=("dollars", "price tag"),
                                                            patterns=(r"\$\d",), unless=("play money",)),),
                  max_digits=3)
    assert scope.check("What is 4 dollars plus 3?").reason == "out of the fractions tutor's scope: money ('dollars')"
    assert scope.check("Read the Price-Tag: 4 + 3?").reason.endswith("money ('price tag')")
    assert scope.check("It costs $5.").reason.endswith("money ('$5')")
    assert scope.check("With play money, 4 dollars plus 3?").in_scope
    assert scope.check("What is 1000 + 1?").reason.endswith("('1000': 4 digits, at most 3)")
    assert scope.check("Who wrote Hamlet?").in_scope  # needs_numbers is off


def test_a_topic_refuses_notation_written_as_words_and_broken_patterns():
    with pytest.raises(ValidationError, match="not plain words"):
        Topic(name="calculus", words=("d/dx",))
    with pytest.raises(ValidationError, match="not a regular expression"):
        Topic(name="calculus", patterns=("(unclosed",))


def test_a_verdict_has_a_reason_exactly_when_out():
    with pytest.raises(ValidationError, match="reason exactly when"):
        ScopeVerdict(in_scope=True, reason="why")
    with pytest.raises(ValidationError, match="reason exactly when"):
        ScopeVerdict(in_scope=False)


def test_scopes_and_verdicts_go_through_json_unchanged():
    again = Scope.model_validate_json(EMBEDDED_SCOPE.model_dump_json())
    assert again == EMBEDDED_SCOPE and hash(again) == hash(EMBEDDED_SCOPE)
    for problem in ["Find the integral of 3x.", "What is 2 + 2?", "Сколько будет 2 + 2?"]:
        assert again.check(problem) == EMBEDDED_SCOPE.check(problem)
    verdict = EMBEDDED_SCOPE.check("Find the integral of 3x.")
    assert ScopeVerdict.model_validate_json(verdict.model_dump_json()) == verdict
    with pytest.raises(ValidationError):
        EMBEDDED_SCOPE.name = "changed"  # frozen


PAGE = ("Mia buys 3 notebooks at $2.45 each and 4 pens at $1.20 each. She pays with a $20 note. How much change "
        "does she get, and what percent of the note did she spend? ")


@pytest.mark.parametrize("problem", [
    (PAGE * 60)[:8000],  # in scope: every rule runs to the end
    "x^" + " " * 7998,  # whitespace after a pattern's first character
    "(" * 8000, "1" * 8000, "1" + ",000" * 1999, "sin " * 2000, "5 !" * 2666, "the " * 2000, "\\frac" * 1600,
])
def test_the_check_of_8000_characters_takes_well_under_10_ms(problem):
    EMBEDDED_SCOPE.check(problem)  # the scope's compiled rules are cached after the first check
    best = min(_timed(EMBEDDED_SCOPE.check, problem) for _ in range(5))
    assert best < 0.010, f"{best * 1e3:.1f} ms"


def _timed(check, problem) -> float:
    started = time.perf_counter()
    check(problem)
    return time.perf_counter() - started


def test_the_curriculums_own_problems_stay_in_scope():
    """The held-out problems of the embedded model's training recipe, every kind: none is refused."""
    from m1reason.train.data import heldout_problems

    refused = [(p.kind, p.problem, EMBEDDED_SCOPE.check(p.problem).reason) for p in heldout_problems(2000)
               if not EMBEDDED_SCOPE.check(p.problem).in_scope]
    assert refused == []


@pytest.mark.parametrize(("problem", "new"), [
    ("Hoeveel appels heeft Tom als hij er 12 koopt en 5 opeet?", "'hoeveel', 'appels', 'heeft'"),  # Dutch
    ("Ile jabłek ma Ola, jeśli kupi 12 i zje 5?", "'ile', 'jabłek', 'ma'"),  # Polish
    ("Hur många äpplen har Sara om hon köper 12 och äter 5?", "'hur', 'många', 'äpplen'"),  # Swedish
    ("Budi membeli 12 apel dan makan 5. Berapa apel yang tersisa?", "'budi', 'membeli', 'apel'"),  # Indonesian
])
def test_a_language_without_a_word_list_is_out_by_its_unknown_words(problem, new):
    verdict = EMBEDDED_SCOPE.check(problem)
    assert not verdict.in_scope and verdict.reason.startswith(PREFIX + f"written mostly in words it was never taught "
                                                                       f"({new}")


@pytest.mark.parametrize("problem", [
    "Priyanka's hamster eats 12 sunflower seeds a day. How many seeds does it eat in a fortnight of 14 days?",
    "A zookeeper feeds 3 giraffes 8 kg of leaves each. How many kilograms is that?",
    "quick one: 38 + 64?",  # two words: too few to judge by
])
def test_english_with_some_new_words_stays_in(problem):
    assert EMBEDDED_SCOPE.check(problem).in_scope, EMBEDDED_SCOPE.check(problem).reason


def test_a_scope_judges_words_only_with_a_vocabulary():
    text = "Wombats dig burrows 3 metres long."
    assert Scope().check(text).in_scope
    verdict = Scope(name="m", vocabulary=frozenset({"long"})).check(text)
    assert verdict.reason == ("out of m's scope: written mostly in words it was never taught ('wombats', 'dig', "
                              "'burrows', ...: 1 of 5 words known)")
    assert Scope(name="m", vocabulary=frozenset({"dig", "burrows", "long"})).check(text).in_scope  # 3 of 5


def test_the_shipped_vocabulary_is_the_curriculums():
    """m1reason/embedded/vocabulary.json is what ``ship`` writes from the curriculum as it is now: a curriculum
    change without it would refuse the new wordings (or keep words the curriculum dropped)."""
    from m1reason import _curriculum
    from m1reason.train.data import vocabulary

    assert _curriculum.vocabulary() == frozenset(vocabulary())


@pytest.mark.parametrize(("problem", "topic"), [
    ("Explain why 7 x 8 is the same as 8 x 7.", "proofs ('explain why')"),
    ("Justify that 0.5 and 1/2 are equal.", "proofs ('justify')"),
    ("How many arrangements of the letters of 'MATH' are there, if all 4 are used?",
     "probability and counting ('how many arrangements')"),
    ("Solve the inequality 2x + 3 > 9.", "inequalities ('inequality')"),
])
def test_explanations_arrangements_and_inequalities_are_out(problem, topic):
    assert EMBEDDED_SCOPE.check(problem).reason == PREFIX + topic

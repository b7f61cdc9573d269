"""Held-out scoring of a model through m1reason's own generator: the numbers each stage and the report quote.

``sample_answers`` draws n samples per problem (greedy when temperature is 0) and grades each with
m1reason.answers; ``per_problem`` turns that into each problem's pass@1 and maj@k, ``score`` into their means with
95% intervals over problems, and ``paired_gain`` compares two such columns problem by problem: whether voting beats
one sample, or one stage the one before it, is a paired question, and its interval is much narrower than either
score's own (most problems are right, or wrong, under both).
"""

from __future__ import annotations

import m1reason.stats as stats
from m1reason.answers import check_steps, extract_answer, group_equivalent, is_equivalent
from m1reason.evaluation import maj_at_k
from m1reason.generator import GenerationRequest, M1Generator, SamplingParams
from m1reason.tokenizer import build_prompt
from m1reason.train.data import Problem
from m1reason.train.limits import REPLY_TOKENS

__all__ = ["mean_ci", "paired_gain", "per_problem", "sample_answers", "score"]


def sample_answers(generator: M1Generator, problems: list[Problem], *, n: int = 1, temperature: float = 0.0,
                   max_new_tokens: int = REPLY_TOKENS, seed: int = 0, batch: int = 64) -> list[dict]:
    """Per problem: its gold answer, each sample's extracted answer, correctness, length and whether
    its written arithmetic holds (``steps_ok``: ``m1reason.answers.check_steps`` found no false claim).

    >>> gen = M1Generator.from_pretrained("m1reason/embedded", device="cpu")  # doctest: +SKIP
    >>> sample_answers(gen, heldout_problems(2), n=4, temperature=0.7)[0]["correct"]  # doctest: +SKIP
    [True, True, False, True]
    """
    records = []
    per_call = max(1, batch // n)
    for start in range(0, len(problems), per_call):
        chunk = problems[start:start + per_call]
        params = SamplingParams(n=n, temperature=temperature, seed=seed + start, max_new_tokens=max_new_tokens)
        requests = [GenerationRequest(prompt=build_prompt(p.problem, generator.tokenizer), sampling=params,
                                      request_id=f"p{start + i}") for i, p in enumerate(chunk)]
        for p, result in zip(chunk, generator.generate(requests)):
            answers = [extract_answer(s.text) for s in result.samples]
            correct = [a is not None and is_equivalent(a, p.answer) for a in answers]
            records.append({"problem": p.problem, "kind": p.kind, "gold": p.answer, "answers": answers,
                            "correct": correct, "tokens": [s.num_tokens for s in result.samples],
                            "steps_ok": [check_steps(s.text).ok for s in result.samples]})
    return records


def mean_ci(values: list[float]) -> tuple[float, float]:
    """``m1reason.stats.mean_ci`` with the half-width rounded to 4 places, as the tables and reports print it.

    >>> mean_ci([1.0, 0.0, 1.0, 0.0])
    (0.5, 0.5658)
    """
    mean, half_width = stats.mean_ci(values)
    return mean, round(half_width, 4)


def per_problem(records: list[dict], ks: tuple[int, ...] = ()) -> dict[str, list[float]]:
    """Each problem's pass@1 (fraction of its samples correct) and maj@k (the chance a vote over k of its samples,
    drawn without replacement, picks a right answer; m1reason.evaluation.maj_at_k), in record order.

    >>> rec = {"answers": ["2", "2", "3"], "correct": [True, True, False]}
    >>> per_problem([rec], ks=(3,))
    {'pass@1': [0.6666666666666666], 'maj@3': [1.0]}
    """
    out = {"pass@1": [sum(r["correct"]) / len(r["correct"]) for r in records]}
    for k in ks:
        values = []
        for r in records:
            answered = [i for i, a in enumerate(r["answers"]) if a is not None]
            clusters = group_equivalent([r["answers"][i] for i in answered]) if answered else []
            counts = [len(c) for c in clusters]
            right = next((j for j, c in enumerate(clusters) if r["correct"][answered[c[0]]]), None)
            values.append(maj_at_k(counts, right, k, len(r["answers"]) - len(answered)) if counts else 0.0)
        out[f"maj@{k}"] = values
    return out


def score(records: list[dict], ks: tuple[int, ...] = ()) -> dict:
    """pass@1 (mean sample correctness) and maj@k for each k <= samples, each as (mean, 95% half-width).

    >>> rec = {"answers": ["2", "2", "3"], "correct": [True, True, False]}
    >>> s = score([rec], ks=(3,)); round(s["pass@1"][0], 3), s["maj@3"][0]
    (0.667, 1.0)
    """
    return {"problems": len(records), **{name: mean_ci(v) for name, v in per_problem(records, ks).items()}}


def paired_gain(after: list[float], before: list[float]) -> tuple[float, float]:
    """``m1reason.stats.paired_gain`` (same problems, same order) with the half-width rounded to 4 places.

    >>> paired_gain([1.0, 1.0, 0.5, 1.0], [1.0, 0.75, 0.5, 0.75])
    (0.125, 0.1415)
    """
    gain, half_width = stats.paired_gain(after, before)
    return gain, round(half_width, 4)

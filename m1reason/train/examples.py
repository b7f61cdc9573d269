"""Problems -> token ids with an assistant mask, and padded batches; the one place training text is rendered.

A training sequence is exactly what the generator sees at inference (``build_prompt``'s text) followed by the
reply and ``<|eot_id|>``; the mask marks the reply tokens, the only ones SFT and distillation learn from.
"""

from __future__ import annotations

import random

import torch
from torch import Tensor

from m1reason.tokenizer import build_prompt
from m1reason.train.data import KINDS, Problem, heldout_problems, make_problem, render_solution

__all__ = ["Example", "collate", "encode", "step_problems"]


class Example:
    """Token ids of one conversation and the matching 0/1 assistant mask (plain class: hot path).

    >>> Example([1, 2, 3], [0, 1, 1]).prompt_len
    1
    """

    __slots__ = ("ids", "mask")

    def __init__(self, ids: list[int], mask: list[int]):
        self.ids, self.mask = ids, mask

    @property
    def prompt_len(self) -> int:
        """Tokens before the first assistant token."""
        return self.mask.index(1) if 1 in self.mask else len(self.ids)


def encode(problem: Problem, tokenizer, *, max_len: int | None = None) -> Example:
    """The prompt (``build_prompt``) plus the worked solution and the end-of-turn token.

    >>> class Chars:  # a stand-in tokenizer: one token per character, no template, eos 0
    ...     chat_template, eos_token_id = None, 0
    ...     def __call__(self, text, add_special_tokens=False): return {"input_ids": [ord(c) for c in text]}
    >>> ex = encode(Problem(kind="arithmetic", problem="1+1?", steps=("1 + 1 = 2",), answer="2"), Chars())
    >>> len(ex.ids) == len(ex.mask), ex.ids[-1], sum(ex.mask) == len(ex.ids) - ex.prompt_len
    (True, 0, True)
    """
    prompt = tokenizer(build_prompt(problem.problem, tokenizer), add_special_tokens=False)["input_ids"]
    reply = tokenizer(render_solution(problem), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids, mask = prompt + reply, [0] * len(prompt) + [1] * len(reply)
    if max_len is not None:
        ids, mask = ids[:max_len], mask[:max_len]
    return Example(ids, mask)


def collate(examples: list[Example], pad_id: int) -> tuple[Tensor, Tensor]:
    """Right-padded ids [b, T] and mask [b, T] (padding has mask 0).

    >>> ids, mask = collate([Example([5, 6, 7], [0, 1, 1]), Example([5], [1])], pad_id=0)
    >>> ids.tolist(), mask.tolist()
    ([[5, 6, 7], [5, 0, 0]], [[0, 1, 1], [1, 0, 0]])
    """
    T = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), T), pad_id, dtype=torch.long)
    mask = torch.zeros(len(examples), T, dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, :len(e.ids)] = torch.tensor(e.ids)
        mask[i, :len(e.mask)] = torch.tensor(e.mask)
    return ids, mask


_HELD: set[str] = set()


def step_problems(seed: int, step: int, count: int, *, rank: int = 0,
                  weights: dict[str, float] | None = None) -> list[Problem]:
    """The training problems of one optimizer step: a pure function of (seed, step, rank), so a resumed run sees
    the same data as an uninterrupted one. Held-out problems are never drawn.

    >>> step_problems(0, 5, 2) == step_problems(0, 5, 2), step_problems(0, 5, 2) == step_problems(0, 6, 2)
    (True, False)
    """
    if not _HELD:
        _HELD.update(p.problem for p in heldout_problems(2000))
        for kind in KINDS:
            _HELD.update(p.problem for p in heldout_problems(500, kind=kind))
    rng = random.Random(f"{seed}/{step}/{rank}")
    out: list[Problem] = []
    while len(out) < count:
        p = make_problem(rng, None, weights)
        if p.problem not in _HELD:
            out.append(p)
    return out

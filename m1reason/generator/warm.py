"""Pay a generator's cold-start costs before serving, then keep what they left out of the collector's full passes.

A GPU generator's first requests do work no later request repeats: the throughput calibration, a CUDA graph
captured per (batch bucket, sampling variant) on first use, Triton kernels compiled per specialisation for the
prefill, append and fork paths. Each lands inside whichever request meets it first. All of them leave long-lived
Python objects behind (compiled kernels, graphs, their bookkeeping), made after the generator froze the start-up
heap (``freeze_long_lived``), which every full pass of the cyclic collector would walk for the rest of the process.

``warm_up`` serves scratch requests that meet each of those first uses (a request per decode-graph bucket with
the caller's sampling settings, a prompt alone per prefill-graph length bucket, two prompts of different lengths
prefilled together, two samples forked and appended to at once) and freezes again at the end, so the timed
requests after it meet none of them.
"""

from __future__ import annotations

import gc
import logging

import torch

from m1reason.errors import CapacityError
from m1reason.types import GenerationRequest, SamplingParams, TokensAppended

__all__ = ["freeze_long_lived", "scratch_batch_sizes", "warm_up"]

log = logging.getLogger(__name__)

PROMPT_TOKENS = 16  # scratch prompt length: long enough for a prefill, short enough to fit any engine


def warm_up(generator, sampling: SamplingParams | None = None, *, freeze: bool = True) -> int:
    """Calibrate ``generator`` (an idle M1Generator), serve a scratch request at every decode-graph batch bucket
    with ``sampling``'s settings (temperature, filters, stop tokens: they pick the graph variant), a prompt alone
    in every prefill-graph length bucket, two prompts of different lengths prefilled together, and fork and
    append to two scratch samples at once; then, with ``freeze``, move every object alive to the collector's
    permanent generation. Returns the number of scratch generate/stream calls made."""
    generator.throughput_model()
    engine = generator.engine
    steps = engine.decode_steps
    sampling = (sampling or SamplingParams(temperature=0.7)).model_copy(update={"seed": 0,
                                                                               "max_new_tokens": 2 * steps + 1})
    vocab = generator.model.config.vocab_size
    prompt = torch.randint(0, vocab, (PROMPT_TOKENS,), generator=torch.Generator().manual_seed(0)).tolist()
    served = 0
    for n in scratch_batch_sizes(engine):
        try:
            request = GenerationRequest(prompt_token_ids=prompt, sampling=sampling.model_copy(update={"n": n}))
            generator.generate([request])
        except CapacityError as err:  # a KV pool too small for this many scratch samples: the larger ones neither
            log.warning("warm-up stopped at %d samples: %s", n, err)
            break
        served += 1
    served += _prefill_graph_lengths(generator, sampling)
    # two prompts of different lengths in one batched prefill call (the ragged variant of the prefill kernels)
    generator.generate([GenerationRequest(prompt_token_ids=ids, sampling=sampling) for ids in (prompt, prompt[:9])])
    _fork_and_append(generator, prompt, sampling.model_copy(update={"n": 2, "max_new_tokens": 4 * steps + 8}))
    if freeze:
        freeze_long_lived()
    return served + 2


def freeze_long_lived() -> int:
    """Collect garbage once, then move every object alive now to the collector's permanent generation
    (``gc.freeze``); returns how many objects that generation holds.

    Why: torch, transformers and sympy leave hundreds of thousands of container objects alive, and a full
    (generation-2) pass of Python's cyclic collector walks them all. Such a pass runs whenever enough new objects
    have survived, in the middle of a decode loop, so a request's next token would wait for it. Frozen objects are
    still freed by reference counting; only cycles among them are never collected, which for a process's start-up
    objects is what they are meant for. The effect is process-wide, like ``gc.freeze`` before forking a server's
    workers.

    >>> import gc
    >>> freeze_long_lived() > 0 and gc.get_freeze_count() > 0  # (frozen objects freed since leave the count)
    True
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def scratch_batch_sizes(engine) -> list[int]:
    """The sample counts warm-up serves: every decode-graph batch bucket (each captures its graph), or one
    where the engine replays no graphs."""
    return list(engine.graphs.buckets) if engine.graphs is not None else [1]


def _prefill_graph_lengths(generator, sampling: SamplingParams) -> int:
    """A scratch prompt alone in each length bucket of the engine's prefill graphs (each captures its graph);
    returns the generate calls made (none without prefill graphs)."""
    graphs = generator.engine.runner.prefill_graphs
    if graphs is None:
        return 0
    vocab = generator.model.config.vocab_size
    ids = torch.randint(0, vocab, (graphs.buckets[-1],), generator=torch.Generator().manual_seed(1)).tolist()
    once = sampling.model_copy(update={"n": 1, "max_new_tokens": 1})
    shortest = [1, *(size + 1 for size in graphs.buckets[:-1])]  # the fewest tokens that land in each bucket
    for length in shortest:
        generator.generate([GenerationRequest(prompt_token_ids=ids[:length], sampling=once)])
    return len(shortest)


def _fork_and_append(generator, prompt: list[int], sampling: SamplingParams) -> None:
    """A request of ``sampling.n`` samples, each forked at its first tokens and its fork given text of a different
    length, all before the next step (as budget forcing hedges every live sample at a deadline), run to its end."""
    request = GenerationRequest(prompt_token_ids=prompt, sampling=sampling)
    samples = [f"{request.request_id}/{i}" for i in range(sampling.n)]
    forked = False
    stream = generator.stream([request])
    try:
        for event in stream:
            if isinstance(event, TokensAppended) and not forked:
                forked = True
                with generator.exclusive():
                    for i, sample_id in enumerate(samples):
                        try:
                            [copy] = generator.fork(sample_id)
                            generator.append(copy, prompt[:3 + 2 * i])
                        except (KeyError, ValueError):  # it ended in the step that brought its tokens
                            pass
    finally:
        stream.close()

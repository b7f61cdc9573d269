"""EngineConfig: every option of the engine, defined once, for the Engine and for M1Generator (which passes its
keyword options through). Options left None take a default that depends on the device (``resolve``): the speed
features that pay off only where the host launches work for a GPU are off on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

__all__ = ["CUDA_DECODE_STEPS", "CUDA_FEED_APPENDS", "CUDA_PREFILL_DELAY", "CUDA_PREFILL_GRAPH_TOKENS", "EngineConfig"]

# Decode steps per host sync on a GPU: a few steps back to back take the host's per-step work off the GPU's
# critical path; larger groups gain little more and delay cancels, admissions and stop strings. On a CPU the host
# is not the bottleneck: one step.
CUDA_DECODE_STEPS = 4

# Appended tokens fed through decode steps with CUDA graphs, at most this many per append: enough for budget
# forcing's appended text with the embedded model's or M1's tokenizer. An eager prefill of them would hold up every
# sequence, where a graphed decode step costs the others nothing. On a CPU a prefill of a few tokens costs about as
# much as one decode step, so appends are prefilled there.
CUDA_FEED_APPENDS = 32

# With CUDA graphs a prefill call is launch-bound (about the same for one short prompt as for several) and every
# decoding sequence waits for it, so while others decode new prompts wait up to one recent call's time to share a
# call: under 32 problems at once it halved the calls and nearly doubled accuracy at tight budgets (BENCHMARKS.md
# "budget_curve_load_work"). With nothing decoding they run at once. On a CPU a prefill's cost grows with its rows
# and waiting only delays the first token, so there it is off.
CUDA_PREFILL_DELAY = 1.0

# A prompt prefilled alone is replayed from a CUDA graph of its padded length (m1reason/engine/prefill_graphs.py)
# when it has at most this many tokens: one short prompt's eager prefill is launch-bound, so the graph roughly halves
# a lone student's wait for the first token (BENCHMARKS.md "first_token"). Longer prompts are mostly GPU work.
CUDA_PREFILL_GRAPH_TOKENS = 1024


@dataclass(frozen=True)
class EngineConfig:
    """The engine's shape and speed options. Frozen; ``resolve(device)`` fills the device-dependent defaults.

    ``max_slots``: sequences in flight. ``max_len``: tokens per sequence, prompt included. ``kv_tokens``: the
    attention KV pool (None: max_slots x min(max_len, 2048)). ``block_size``: KV tokens per block. ``state_dtype``:
    the cache's dtype (None: the model's). ``confidence_window`` and ``confidence_top_k``: DeepConf's sliding
    window and top-k. ``cuda_graphs``: replay the decode step as CUDA graphs on a GPU (False runs it eagerly: same
    tokens, slower). ``prefill_tokens``: most prompt tokens prefilled in one batched call.

    The speed features below change when the host sees the tokens, never which tokens come out:

    - ``decode_steps``: decode steps run back to back on the device per engine step, with one copy to the host
      (less host overhead; cancels, deadlines, admissions and stop strings are seen every ``decode_steps``
      tokens). None: ``CUDA_DECODE_STEPS`` on a GPU, 1 elsewhere.
    - ``overlap``: launch the next group of decode steps before reading the last one back, so the host's work on
      tokens runs while the device computes (a sample that ends, is cancelled, appended to or forked meanwhile
      keeps none of the extra tokens and is recomputed if it goes on). None: on where CUDA graphs run.
    - ``feed_appends``: appends of at most this many tokens to a decoding sample go through the decode batch, one
      token per step, instead of a prefill call that holds up every other sequence. None: ``CUDA_FEED_APPENDS``
      where CUDA graphs run, 0 elsewhere.
    - ``prefill_delay``: while others decode, new prompts and appended text may wait up to this many recent
      prefill calls' time to share one call. 0: prefill at once. None: ``CUDA_PREFILL_DELAY`` where CUDA graphs
      run, 0 elsewhere.
    - ``prefill_graph_tokens``: a new prompt of at most this many tokens prefilled alone replays a CUDA graph of
      its length rounded up to a bucket (its Mamba states stop at its last real token), instead of launching the
      prefill's kernels one by one. 0: never. None: ``CUDA_PREFILL_GRAPH_TOKENS`` where CUDA graphs run, 0
      elsewhere; at most ``max_len`` - 1 (a prompt leaves room for a token).

    >>> EngineConfig(max_slots=4).resolve("cpu")
    ... # doctest: +NORMALIZE_WHITESPACE
    EngineConfig(max_slots=4, max_len=32768, kv_tokens=8192, block_size=16, state_dtype=None,
                 confidence_window=2048, confidence_top_k=20, cuda_graphs=False, prefill_tokens=65536,
                 decode_steps=1, overlap=False, feed_appends=0, prefill_delay=0.0, prefill_graph_tokens=0)
    >>> EngineConfig(decode_steps=0)
    Traceback (most recent call last):
    ...
    ValueError: decode_steps must be >= 1, got 0
    """

    max_slots: int = 64
    max_len: int = 32768
    kv_tokens: int | None = None
    block_size: int = 16
    state_dtype: torch.dtype | None = None
    confidence_window: int = 2048
    confidence_top_k: int = 20
    cuda_graphs: bool = True
    prefill_tokens: int = 65536
    decode_steps: int | None = None
    overlap: bool | None = None
    feed_appends: int | None = None
    prefill_delay: float | None = None
    prefill_graph_tokens: int | None = None

    def __post_init__(self):
        if self.decode_steps is not None and self.decode_steps < 1:
            raise ValueError(f"decode_steps must be >= 1, got {self.decode_steps}")
        if self.prefill_delay is not None and not self.prefill_delay >= 0:
            raise ValueError(f"prefill_delay must be >= 0, got {self.prefill_delay}")
        if self.feed_appends is not None and self.feed_appends < 0:
            raise ValueError(f"feed_appends must be >= 0, got {self.feed_appends}")
        if self.prefill_graph_tokens is not None and self.prefill_graph_tokens < 0:
            raise ValueError(f"prefill_graph_tokens must be >= 0, got {self.prefill_graph_tokens}")

    @classmethod
    def of(cls, config: EngineConfig | None = None, **options) -> EngineConfig:
        """``config`` (default: the defaults) with ``options`` replacing its fields; an unknown option raises
        TypeError naming it.

        >>> EngineConfig.of(max_len=64).max_len, EngineConfig.of(EngineConfig(max_len=64), max_slots=2).max_len
        (64, 64)
        >>> EngineConfig.of(max_lenght=64)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        TypeError: unknown engine option 'max_lenght'; the options are max_slots, max_len, kv_tokens, ...
        """
        names = [f.name for f in fields(cls)]
        for key in options:
            if key not in names:
                raise TypeError(f"unknown engine option {key!r}; the options are {', '.join(names)}")
        return replace(config or cls(), **options)

    def resolve(self, device: torch.device | str) -> EngineConfig:
        """The config with every None that depends on the device filled in for ``device``.

        >>> on_gpu = EngineConfig().resolve("cuda")  # a device name: no GPU needed to resolve for one
        >>> on_gpu.decode_steps, on_gpu.feed_appends, on_gpu.prefill_delay, on_gpu.prefill_graph_tokens
        (4, 32, 1.0, 1024)
        >>> EngineConfig(prefill_delay=0).resolve("cuda").prefill_delay  # what you set is kept
        0
        """
        cuda = torch.device(device).type == "cuda"
        graphed = self.cuda_graphs and cuda
        return replace(
            self,
            kv_tokens=self.kv_tokens or self.max_slots * min(self.max_len, 2048),
            cuda_graphs=graphed,
            decode_steps=self.decode_steps or (CUDA_DECODE_STEPS if cuda else 1),
            overlap=graphed if self.overlap is None else self.overlap,
            feed_appends=(CUDA_FEED_APPENDS if graphed else 0) if self.feed_appends is None else self.feed_appends,
            prefill_delay=(CUDA_PREFILL_DELAY if graphed else 0.0) if self.prefill_delay is None
            else self.prefill_delay,
            prefill_graph_tokens=min(self.max_len - 1, (CUDA_PREFILL_GRAPH_TOKENS if graphed else 0)
                                     if self.prefill_graph_tokens is None else self.prefill_graph_tokens),
        )

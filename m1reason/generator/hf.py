"""HFGenerator: any transformers causal LM behind the Generator protocol, so baselines run on equal terms.

It owns a plain decode loop over the model's DynamicCache: each prompt is prefilled once (batch 1, no padding)
and repeated into the rows of its samples; rows of all requests share one left-padded cache, joining as others
leave. Sampling is m1reason.engine.sampling's, so a seeded sample draws what it would on M1Generator. It
cannot append to or fork a live sample (its capabilities say so) and computes no confidence scalars.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor

from m1reason.engine.sampling import SamplingBatch, sample
from m1reason.errors import PromptTooLong
from m1reason.generator._padded import PaddedBatch
from m1reason.generator.protocol import GenerationEvent, GeneratorBase
from m1reason.generator.text import IncrementalText, StopMatcher
from m1reason.generator.versions import device_name, package_versions
from m1reason.throughput import Calibration, FittedThroughput, load_or_calibrate
from m1reason.types import (
    GenerationRequest,
    GenerationResult,
    RequestFinished,
    Sample,
    SampleFinished,
    SamplingParams,
    TokensAppended,
)

__all__ = ["HFGenerator"]


@dataclass(eq=False)
class _Job:
    """One request: its prompt ids, the seed its samples draw from, its rows, and its prompt's cache until every
    row has joined the batch."""

    request: GenerationRequest
    prompt: list[int]
    seed: int
    submitted: float
    rows: list[_Row] = field(default_factory=list)
    prefill: tuple | None = None  # (DynamicCache, logits [1, V])
    done: bool = False


@dataclass(eq=False)
class _Row:
    sample_id: str
    job: _Job
    index: int
    text: IncrementalText | None
    stops: StopMatcher
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    admitted: bool = False
    cancel_requested: bool = False
    finish_reason: str | None = None
    shown: int = 0  # characters of text already streamed
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def visible(self) -> str:
        return self.stops.visible if self.finish_reason is None or self.stops.matched else self.stops.text


class HFGenerator(GeneratorBase):
    """A transformers causal LM (e.g. DeepSeek-R1-Distill-Qwen-1.5B) as a Generator: stream, cancel, logprobs.

    Up to ``max_batch`` samples decode together, whatever request they belong to; sample i of a request with
    seed s draws from the stream keyed by (s, i), as on M1Generator (an unseeded request gets a random seed,
    recorded in its result). Text prompts get the tokenizer's special tokens unless they already start with BOS
    (as ``build_prompt``'s do). Stop strings, EOS (generation_config's, else config's, plus the tokenizer's) and
    stop_token_ids end a sample with "stop"; its token ids keep the token that ended it. ``tokenizer`` may be
    None when requests carry token ids and no stop strings; samples then have no text.

    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1,
    ...                                      num_attention_heads=2, intermediate_size=32))
    >>> gen = HFGenerator(model, max_batch=4)
    >>> params = SamplingParams(n=2, max_new_tokens=3, ignore_eos=True, seed=0)
    >>> [s.num_tokens for s in gen.generate([GenerationRequest(prompt_token_ids=[1, 5], sampling=params)])[0].samples]
    [3, 3]
    >>> gen.fork("r/0")
    Traceback (most recent call last):
    ...
    NotImplementedError: HFGenerator cannot 'fork' a live sample (capabilities: cancel, logprobs, stream)
    """

    capabilities = frozenset({"stream", "cancel", "logprobs"})
    _clock = staticmethod(time.monotonic)  # deadlines and timings; tests replace it

    def __init__(self, model, tokenizer=None, *, device: torch.device | str | None = None, max_batch: int = 32):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, not {max_batch}")
        self.model = (model if device is None else model.to(device)).eval()
        weight = next(self.model.parameters())
        self.device, self.dtype = weight.device, weight.dtype
        self.tokenizer, self.max_batch = tokenizer, max_batch
        self.vocab_size = self.model.get_output_embeddings().weight.shape[0]
        self.max_len = getattr(self.model.config, "max_position_embeddings", None)
        self.eos_token_ids = _eos_token_ids(self.model, tokenizer)
        self.source = {"model_id": getattr(self.model.config, "_name_or_path", "") or "in-memory", "revision": None}
        forward = inspect.signature(self.model.forward).parameters
        self._cache_arg = "cache" if "cache" in forward else "past_key_values"  # renamed in transformers 5.x
        self._keep_arg = {"logits_to_keep": 1} if "logits_to_keep" in forward else {}
        self._lock = threading.Lock()  # cancel() may come from another thread
        self._live: dict[str, _Row] = {}
        self._throughput: FittedThroughput | None = None

    @classmethod
    def from_pretrained(cls, path_or_hub_id, *, device: torch.device | str | None = None,
                        dtype: torch.dtype | None = None, revision: str | None = None, max_batch: int = 32,
                        **model_kw) -> HFGenerator:
        """Load a folder or hub id (offline cache allowed) with its tokenizer; device defaults to CUDA when
        available, dtype to bfloat16 on CUDA and float32 on CPU. ``model_kw`` go to AutoModelForCausalLM.

        >>> import tempfile
        >>> from transformers import LlamaConfig, LlamaForCausalLM
        >>> folder = tempfile.mkdtemp()
        >>> LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        ...                              intermediate_size=32)).save_pretrained(folder)
        >>> gen = HFGenerator.from_pretrained(folder, device="cpu")
        >>> gen.dtype, gen.tokenizer is None
        (torch.float32, True)
        """
        import transformers
        from transformers import AutoModelForCausalLM

        from m1reason.model.loading import resolve_checkpoint
        from m1reason.tokenizer import load_tokenizer

        folder, source = resolve_checkpoint(path_or_hub_id, revision=revision)
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
        dtype_arg = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        model = AutoModelForCausalLM.from_pretrained(str(folder), **{dtype_arg: dtype}, **model_kw)
        has_tokenizer = any((folder / name).exists() for name in ("tokenizer.json", "tokenizer_config.json"))
        generator = cls(model, load_tokenizer(folder) if has_tokenizer else None, device=device, max_batch=max_batch)
        generator.source = source
        return generator

    # ---- the protocol -----------------------------------------------------------------------------------------
    def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]:
        """Run every request to the end; results in request order."""
        requests = list(requests)
        done = {e.request_id: e.result for e in self.stream(requests) if isinstance(e, RequestFinished)}
        return [done[r.request_id] for r in requests]

    def stream(self, requests: Iterable[GenerationRequest]) -> Iterator[GenerationEvent]:
        """Events as they happen; requests are checked (and deadlines start) now, not at the first event.
        Closing the iterator early drops what is still running of these requests."""
        requests, submitted = list(requests), self._clock()
        ids = [r.request_id for r in requests]
        with self._lock:
            running = {row.job.request.request_id for row in self._live.values()}
            if len(set(ids)) < len(ids) or running & set(ids):
                raise ValueError(f"request ids must be unique among running requests: {ids}")
            jobs = [self._job(r, submitted) for r in requests]
            self._live.update((row.sample_id, row) for job in jobs for row in job.rows)
        return self._loop(jobs)

    def cancel(self, id: str) -> bool:
        """End a sample, or every sample of a request, with "cancelled" at the next step; False if none was live."""
        with self._lock:
            rows = [r for r in self._live.values()
                    if id in (r.sample_id, r.job.request.request_id) and not r.cancel_requested]
            for row in rows:
                row.cancel_requested = True
        return bool(rows)

    def append(self, sample_id: str, text_or_token_ids: str | list[int], *,
               sampling: SamplingParams | None = None) -> None:
        """Not supported: a transformers cache cannot be continued per row here (see ``capabilities``)."""
        raise NotImplementedError(f"HFGenerator cannot 'append' to a live sample (capabilities: "
                                  f"{', '.join(sorted(self.capabilities))})")

    def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]:
        """Not supported (see ``capabilities``)."""
        raise NotImplementedError(f"HFGenerator cannot 'fork' a live sample (capabilities: "
                                  f"{', '.join(sorted(self.capabilities))})")

    def throughput_model(self, *, refresh: bool = False) -> FittedThroughput:
        """Step and prefill times measured on this model and device over a small grid, cached on disk."""
        if self._throughput is not None and not refresh:
            return self._throughput
        config = self.model.config.to_json_string(use_diff=False)
        key = {"generator": "HFGenerator", **self.source, "dtype": str(self.dtype), "device": device_name(self.device),
               "config": hashlib.sha256(config.encode()).hexdigest()[:12], "max_batch": self.max_batch,
               "versions": package_versions()}
        occupancy = lambda: sum(r.admitted for r in list(self._live.values()))  # noqa: E731
        self._throughput = load_or_calibrate(key, self._calibrate, occupancy, refresh=refresh)
        return self._throughput

    # ---- the decode loop --------------------------------------------------------------------------------------
    def _job(self, request: GenerationRequest, submitted: float) -> _Job:
        p = request.sampling
        if self.tokenizer is None and (request.prompt is not None or p.stop):
            raise ValueError(f"request {request.request_id}: a text prompt or stop strings need a tokenizer; "
                             "this generator has none (pass prompt_token_ids)")
        if request.prompt_token_ids is not None:
            prompt = list(request.prompt_token_ids)
        else:  # a prompt from build_prompt starts with the template's BOS; a bare prompt gets the tokenizer's own
            bos = getattr(self.tokenizer, "bos_token", None)
            special = not (bos and request.prompt.startswith(bos))
            prompt = self.tokenizer(request.prompt, add_special_tokens=special)["input_ids"]
        if max(prompt) >= self.vocab_size:
            raise ValueError(f"request {request.request_id}: token id {max(prompt)} is outside the vocabulary "
                             f"of {self.vocab_size}")
        if self.max_len is not None and len(prompt) >= self.max_len:
            raise PromptTooLong(f"request {request.request_id}: prompt of {len(prompt)} tokens does not fit the "
                                f"model's {self.max_len} positions")
        job = _Job(request, prompt, secrets.randbits(63) if p.seed is None else p.seed, submitted)
        text = (lambda: IncrementalText(self.tokenizer)) if self.tokenizer is not None else (lambda: None)
        job.rows = [_Row(f"{request.request_id}/{i}", job, i, text(), StopMatcher(p.stop)) for i in range(p.n)]
        return job

    def _loop(self, jobs: list[_Job]) -> Iterator[GenerationEvent]:
        batch, waiting = PaddedBatch(self.model, self._cache_arg), deque(jobs)
        try:
            while not all(job.done for job in jobs):
                yield from self._step(jobs, batch, waiting)
        finally:
            with self._lock:
                for row in (row for job in jobs for row in job.rows):
                    self._live.pop(row.sample_id, None)

    @torch.no_grad()
    def _step(self, jobs: list[_Job], batch: PaddedBatch, waiting: deque) -> list[GenerationEvent]:
        """End cancelled and late samples, decode the batch, admit waiting rows, sample one token for each."""
        events: list[GenerationEvent] = []
        now = self._clock()
        for row in (row for job in jobs if not job.done for row in job.rows if row.finish_reason is None):
            deadline = row.job.request.deadline
            if row.cancel_requested or (deadline is not None and now - row.job.submitted >= deadline):
                self._finish(row, "cancelled" if row.cancel_requested else "deadline", events)
        batch.keep([i for i, row in enumerate(batch.rows) if row.finish_reason is None])
        logits = []
        if batch.rows:
            tokens = torch.tensor([row.tokens[-1] for row in batch.rows], device=self.device)
            positions = torch.tensor([len(r.job.prompt) + len(r.tokens) - 1 for r in batch.rows], device=self.device)
            logits.append(batch.decode(tokens, positions))
        logits += self._admit(batch, waiting)
        if batch.rows:
            logits = torch.cat(logits)
            rows = [(r.job.request.sampling, r.job.seed, r.index, len(r.tokens)) for r in batch.rows]
            tokens, logprobs = sample(logits, SamplingBatch.build(rows, logits.shape[-1], self.eos_token_ids,
                                                                  self.device))
            for row, token, logprob in zip(batch.rows, tokens.tolist(), logprobs.tolist()):
                self._push(row, token, logprob, events)
        return events

    def _admit(self, batch: PaddedBatch, waiting: deque) -> list[Tensor]:
        """Move waiting rows into free batch rows, prefilling each prompt once; their next-token logits."""
        logits = []
        while waiting and len(batch.rows) < self.max_batch:
            job = waiting[0]
            rows = [row for row in job.rows if not row.admitted and row.finish_reason is None]
            take = rows[:self.max_batch - len(batch.rows)]
            if take:
                if job.prefill is None:
                    job.prefill = self._prefill(job.prompt)
                cache, last = job.prefill
                cache = cache if len(take) == len(rows) else copy.deepcopy(cache)
                cache.batch_repeat_interleave(len(take))
                batch.merge(cache, take)
                for row in take:
                    row.admitted = True
                logits.append(last.expand(len(take), -1))
            if len(take) == len(rows):
                waiting.popleft()
                job.prefill = None
        return logits

    def _prefill(self, prompt: list[int]) -> tuple:
        from transformers import DynamicCache

        cache = DynamicCache()
        out = self.model(input_ids=torch.tensor([prompt], device=self.device), use_cache=True,
                         **{self._cache_arg: cache}, **self._keep_arg)
        return cache, out.logits[:, -1].float()

    def _push(self, row: _Row, token: int, logprob: float, events: list) -> None:
        """Append a sampled token; stream it; end the sample if it stops here."""
        p, now = row.job.request.sampling, self._clock() - row.job.submitted
        row.tokens.append(token)
        row.timings.setdefault("first_token_s", now)
        if p.logprobs:
            row.logprobs.append(logprob)
        reason = None
        if (token in self.eos_token_ids and not p.ignore_eos) or token in p.stop_token_ids:
            reason = "stop"
        elif len(row.tokens) >= p.max_new_tokens or len(row.job.prompt) + len(row.tokens) >= (self.max_len or 2**62):
            reason = "length"
        if row.text is not None and row.stops.feed(row.text.extend([token])):
            reason = "stop"
        row.finish_reason = reason
        visible = row.visible
        events.append(TokensAppended(sample_id=row.sample_id, token_ids=[token], text_delta=visible[row.shown:]))
        row.shown = len(visible)
        if reason:
            self._finish(row, reason, events)

    def _finish(self, row: _Row, reason: str, events: list) -> None:
        row.finish_reason = reason
        if row.text is not None and row.stops.matched is None:
            row.stops.feed(row.text.flush())  # an unfinished character at the very end
        row.timings["total_s"] = self._clock() - row.job.submitted
        if len(row.visible) > row.shown:  # text held back as a possible stop prefix is no longer one
            events.append(TokensAppended(sample_id=row.sample_id, token_ids=[], text_delta=row.visible[row.shown:]))
            row.shown = len(row.visible)
        events.append(SampleFinished(sample_id=row.sample_id, sample=self._sample(row)))
        with self._lock:
            self._live.pop(row.sample_id, None)
        job = row.job
        if all(r.finish_reason is not None for r in job.rows):
            job.done, job.prefill = True, None
            result = GenerationResult(request_id=job.request.request_id, samples=[self._sample(r) for r in job.rows],
                                      prompt_tokens=len(job.prompt), reproducibility=self._reproducibility(job))
            events.append(RequestFinished(request_id=job.request.request_id, result=result))

    def _sample(self, row: _Row) -> Sample:
        return Sample(sample_id=row.sample_id, token_ids=list(row.tokens), text=row.visible,
                      finish_reason=row.finish_reason, timings=dict(row.timings),
                      logprobs=list(row.logprobs) if row.job.request.sampling.logprobs else None)

    def _reproducibility(self, job: _Job) -> dict:
        return {"generator": "HFGenerator", "seed": job.seed, "sampling": job.request.sampling.model_dump(mode="json"),
                **self.source, "dtype": str(self.dtype), "device": device_name(self.device),
                "versions": package_versions()}

    @torch.no_grad()
    def _calibrate(self) -> Calibration:
        """Time decode steps at a few batch sizes and contexts, and prefills at those contexts."""
        batches = sorted({1, max(1, self.max_batch // 4), self.max_batch})
        contexts = [c for c in (32, 256) if self.max_len is None or c + 4 < self.max_len]
        draw = torch.Generator().manual_seed(0)
        self._prefill([0] * 8)  # warm-up: first calls pay for lazy initialisation
        decode, prefill = [], []
        for context in contexts:
            started = time.perf_counter()
            cache, logits = self._prefill(torch.randint(self.vocab_size, (context,), generator=draw).tolist())
            float(logits[0, 0])  # waits for the device
            prefill.append((context, time.perf_counter() - started))
            for size in batches:
                batch, rows = PaddedBatch(self.model, self._cache_arg), copy.deepcopy(cache)
                rows.batch_repeat_interleave(size)
                batch.merge(rows, [None] * size)
                times = []
                for i in range(3):
                    started = time.perf_counter()
                    tokens = torch.zeros(size, dtype=torch.long, device=self.device)
                    float(batch.decode(tokens, torch.full_like(tokens, context + i))[0, 0])
                    times.append(time.perf_counter() - started)
                decode.append((size, context, sorted(times)[1]))
        return Calibration(decode=decode, prefill=prefill)


def _eos_token_ids(model, tokenizer) -> frozenset[int]:
    """generation_config's EOS (else config's), plus the tokenizer's: chat models end turns with a token the
    config may not list."""
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    eos = model.config.eos_token_id if eos is None else eos
    ids = set() if eos is None else {eos} if isinstance(eos, int) else set(eos)
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(tokenizer.eos_token_id)
    return frozenset(ids)

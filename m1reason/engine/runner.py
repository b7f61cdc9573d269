"""ModelRunner: the device side of an engine step. It runs the model (prefill calls, one decode step, or K decode
steps back to back, replayed as CUDA graphs where it can) and samples, and hands back device tensors (tokens,
finish codes, log-probabilities, token confidences) with at most an asynchronous copy to the host started.

It knows slots and rows, not requests: who runs, what is kept and when a sequence ends are the Engine's and the
Scheduler's business.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch
from torch import Tensor

from m1reason.engine.batch import DecodeBatch, Group
from m1reason.engine.cache import PagedCache
from m1reason.engine.confidence import token_confidence
from m1reason.engine.device_span import DeviceSpan
from m1reason.engine.graphs import DecodeGraphs
from m1reason.engine.prefill_graphs import PrefillGraphs
from m1reason.engine.sampling import sample
from m1reason.engine.sequence import Sequence
from m1reason.engine.transfer import to_device
from m1reason.model.hybrid import HybridLM

__all__ = ["ModelRunner", "pack_prefills"]

PADDING_SLACK = 1.25  # a packed prefill call may hold up to this many times its real tokens


def pack_prefills(groups: list[list[Sequence]], max_tokens: int) -> Iterator[list[list[Sequence]]]:
    """Consecutive runs of ``groups`` (sorted by pending length) for one prefill call each: padded to the longest,
    a run holds at most ``max_tokens`` tokens (at least one group) and at most PADDING_SLACK x its real ones.

    >>> class Seq:
    ...     def __init__(self, n): self.num_pending = n
    >>> runs = pack_prefills([[Seq(n)] for n in (10, 11, 12, 30, 31, 200)], max_tokens=64)
    >>> [[g[0].num_pending for g in run] for run in runs]
    [[10, 11, 12], [30, 31], [200]]
    """
    run: list[list[Sequence]] = []
    real = 0
    for group in groups:
        length = group[0].num_pending
        width = max(length, run[-1][0].num_pending if run else 0)
        if run and ((len(run) + 1) * width > max_tokens or (len(run) + 1) * width > PADDING_SLACK * (real + length)):
            yield run
            run, real = [], 0
        run.append(group)
        real += length
    if run:
        yield run


class ModelRunner:
    """Runs ``model`` on ``cache``: prefill calls, decode steps (graphed when ``graphs`` is set) and sampling.

    >>> from m1reason.model import ModelConfig
    >>> model = HybridLM(ModelConfig.tiny())
    >>> cache = PagedCache(model.config, slots=2, max_len=16, kv_tokens=32, dtype=model.dtype, device="cpu")
    >>> runner = ModelRunner(model, cache, graphs=None, confidence_top_k=20)
    >>> slot = cache.allocate_slot(); cache.reserve(slot, 4)
    >>> logits = runner.prefill([[1, 2, 3]], [slot], fresh=True)
    >>> logits.shape, runner.decode(torch.tensor([4]), torch.tensor([slot])).shape
    (torch.Size([1, 256]), torch.Size([1, 256]))
    """

    def __init__(self, model: HybridLM, cache: PagedCache, *, graphs: DecodeGraphs | None,
                 prefill_graphs: PrefillGraphs | None = None, confidence_top_k: int):
        self.model, self.cache, self.graphs, self.prefill_graphs = model, cache, graphs, prefill_graphs
        self.device = model.device
        self.confidence_top_k = confidence_top_k

    def prefill(self, pending: list[list[int]], slots: list[int], *, fresh: bool) -> Tensor:
        """Logits [b, vocab] after prefilling each row's ``pending`` tokens into its slot (rows right-padded to the
        longest; each slot's state stops at its own last token). A lone new prompt replays a prefill graph where
        there are some (its logits then valid until the next prefill of its length bucket). The rows go to the
        device from pinned memory: a pageable copy would make the host wait for the decode steps in flight."""
        width = max(map(len, pending))
        graphs = self.prefill_graphs
        if graphs is not None and graphs.takes(rows=len(pending), width=width, fresh=fresh):
            return graphs.run(pending[0], slots[0])
        ids = to_device(torch.tensor([p + [0] * (width - len(p)) for p in pending]), self.device)  # padding: any id
        lengths = None
        if any(len(p) != width for p in pending):
            lengths = to_device(torch.tensor([len(p) for p in pending]), self.device)
        return self.model.prefill(ids, self.cache, to_device(torch.tensor(slots), self.device), lengths=lengths,
                                  fresh=fresh)

    def decode(self, inputs: Tensor, slots: Tensor) -> Tensor:
        """Logits [b, vocab] of one decode step, sampled by the caller (a graph's output: valid until the next)."""
        if self.graphs is not None:
            return self.graphs.run(inputs, slots)
        return self.model.step(inputs, self.cache, slots)

    def token_confidence(self, logits: Tensor) -> Tensor:
        """[b] DeepConf token confidence of each row's distribution."""
        return token_confidence(logits.float().log_softmax(-1), self.confidence_top_k)

    def span(self) -> DeviceSpan:
        """A DeviceSpan opened now on the runner's device (close it with ``stop()`` after the work to time)."""
        return DeviceSpan(self.device)

    def launch(self, rows: DecodeBatch, steps: int, in_flight: int = 0) -> Group:
        """Put ``steps`` decode steps of ``rows`` on the device, each fed the tokens the last one sampled, and
        start copying what they give to the host; nothing waits for the device here. ``in_flight``: steps of an
        earlier group of these rows not read back yet (this group's tokens come after theirs)."""
        batch = rows.seqs
        contexts = [(rows.total_len + i * len(batch)) / len(batch) for i in range(steps)]
        # a feeding row's first kept token comes from step p - 1 (p: its pending tokens, fed one per step)
        first = [min(s.num_pending - 1, steps) if s.feeding else 0 for s in batch] if rows.feeding else None
        launched = time.perf_counter()
        tokens, codes, logprobs, confidences = self.run_steps(rows, steps)
        ended = codes != 0  # [steps, b]; never on a step whose sample is not kept (see run_steps)
        last = torch.where(ended.any(0), ended.long().argmax(0), steps - 1)  # each row's last kept step
        reason = codes.gather(0, last[None])[0]  # 0 where the row goes on
        packed = torch.cat([tokens, (last + 1)[None], reason[None]])
        # non_blocking to the CPU: a pinned copy, queued behind these steps, that the host waits for only when it
        # reads it (a .tolist() here would also wait for every group launched after this one)
        host = packed.to("cpu", non_blocking=True)
        host_logprobs = None if logprobs is None else logprobs.to("cpu", non_blocking=True)
        done = None
        if packed.is_cuda:
            done = torch.cuda.Event()
            done.record()
        expected = [(s.admitted, len(s.tokens) + in_flight, s.num_cached + in_flight) for s in batch]
        return Group(rows, steps, first, contexts, host, host_logprobs, confidences, done, launched, expected)

    def run_steps(self, rows: DecodeBatch, steps: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """The device work of ``steps`` decode steps, nothing copied to the host: each step's tokens [steps, b],
        finish codes [steps, b], log-probabilities [steps, b] (if asked) and token confidences (if tracked)."""
        # [steps + 1, b]: a feeding row's input at each step, -1 where it takes what it sampled; a sample whose next
        # input is an appended token is not kept, so it ends nothing
        fed = self._fed_inputs(rows.seqs, steps + 1) if rows.feeding else None
        if self.graphs is not None and self.graphs.can_sample(rows):
            return self._run_graphed_steps(rows, steps, fed)
        tokens, codes, logprobs, confidences = [], [], [], []
        for i in range(steps):
            logits = self.decode(rows.inputs, rows.slots)  # a graph's output buffer: used up before the next replay
            sampled, logprob = sample(logits, rows.sampling, with_logprobs=rows.logprobs)
            if rows.confidence:
                confidences.append(self.token_confidence(logits))
            tokens.append(sampled)
            code, next_inputs = rows.finish_codes(sampled), sampled
            if fed is not None:
                feeds = fed[i + 1] >= 0
                code, next_inputs = torch.where(feeds, 0, code), torch.where(feeds, fed[i + 1], sampled)
            codes.append(code)
            if logprob is not None:
                logprobs.append(logprob)
            rows.advance(next_inputs)
        stack = lambda ts: torch.stack(ts) if ts else None  # noqa: E731
        return torch.stack(tokens), torch.stack(codes), stack(logprobs), stack(confidences)

    def _run_graphed_steps(self, rows: DecodeBatch, steps: int, fed: Tensor | None
                           ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """``run_steps`` with sampling, finish checks and the move to the next step inside the graph: a steady
        step launches the graph and nothing else (a feeding row's next input and a tracked confidence excepted)."""
        graphs, b = self.graphs, len(rows.seqs)
        graphs.reset_ring()
        confidences = []
        for i in range(steps):
            logits = graphs.step_and_sample(rows)  # valid until the next replay
            if rows.confidence:
                confidences.append(self.token_confidence(logits))
            if fed is not None:
                graphs.feed(rows, torch.where(fed[i + 1] >= 0, fed[i + 1], graphs.ring_tokens[i, :b]))
        # copies: the next group overwrites the ring before this one is read back
        tokens, codes = graphs.ring_tokens[:steps, :b].clone(), graphs.ring_codes[:steps, :b]
        codes = torch.where(fed[1:steps + 1] >= 0, 0, codes) if fed is not None else codes.clone()
        logprobs = graphs.ring_logprobs[:steps, :b].clone() if rows.logprobs else None
        return tokens, codes, logprobs, torch.stack(confidences) if confidences else None

    def _fed_inputs(self, seqs: list[Sequence], steps: int) -> Tensor:
        """[steps, b]: the pending token each feeding row takes in at each step (its last sampled token, then the
        appended ones), -1 where a row takes the token it sampled."""
        inputs = [[-1] * len(seqs) for _ in range(steps)]
        for i, seq in enumerate(seqs):
            if seq.feeding:
                for j, token in enumerate(seq.tokens[seq.num_cached:seq.num_cached + steps]):
                    inputs[j][i] = token
        return to_device(torch.tensor(inputs, dtype=torch.long), self.device)

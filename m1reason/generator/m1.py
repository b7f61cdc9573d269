"""M1Generator: the Generator protocol over the in-process engine, for M1 and any Mamba/attention mix.

The engine works in token ids and Sequences; this layer adds what users see: requests and sample ids, text
(incremental detokenizing), stop strings, deadlines in seconds, events in the order they happen, and the
record that reproduces a result. It is thread-safe: one thread may drive ``stream``/``generate`` while others
``cancel``, ``append`` or ``fork``; several threads may stream at once (each drives the shared engine and
receives only its own requests' events).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator

import torch

from m1reason.confidence_map import ConfidenceMap
from m1reason.engine import Engine, EngineConfig, Sequence
from m1reason.errors import CapacityError, M1Error, PromptTooLong
from m1reason.generator._live import LiveRequest, LiveSample, PendingTokens, RequestFailure, runs_by_sample
from m1reason.generator._mailboxes import Mailboxes
from m1reason.generator.driver_turns import DriverTurn, DriverTurns
from m1reason.generator.protocol import CAPABILITIES, GenerationEvent, GeneratorBase
from m1reason.generator.served import measure_served
from m1reason.generator.text import IncrementalText, StopMatcher
from m1reason.generator.turns import TurnTakingLock
from m1reason.generator.versions import device_name, package_versions
from m1reason.generator.warm import freeze_long_lived, warm_up
from m1reason.model import load_model
from m1reason.model.hybrid import HybridLM
from m1reason.scope import Scope
from m1reason.throughput import Calibration, FittedThroughput, PaceMeter, load_or_calibrate
from m1reason.throughput.measure import measure
from m1reason.tokenizer import load_tokenizer
from m1reason.types import (
    Confidence,
    GenerationRequest,
    GenerationResult,
    RequestFinished,
    Sample,
    SampleFinished,
    SamplingParams,
)

__all__ = ["M1Generator"]

log = logging.getLogger(__name__)


# Longest the background driver waits between two engine steps for the threads queued on the generator's lock.
DRIVER_YIELD_S = 0.002


class M1Generator(GeneratorBase):
    """Batched in-process generation with continuous batching, forking, append and cancel.

    Engine options (``m1reason.engine.EngineConfig``: slots, lengths, the KV pool, CUDA graphs, decode steps per
    host sync, overlap, appends fed through decode steps, prefill delay) come as a ``config``, by keyword, or both;
    the speed options change when the host sees tokens, never which tokens come out. ``freeze_gc``: take every
    object alive when the generator is made (the model, the libraries' start-up objects) out of the garbage
    collector's full passes (``freeze_long_lived``), so that no pass stalls decoding to walk them; the generator's
    own objects stay collectable, so dropping it frees its device memory.

    >>> from m1reason.model import ModelConfig
    >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=64)
    >>> params = SamplingParams(n=2, temperature=0.8, seed=7, max_new_tokens=5, ignore_eos=True)
    >>> [result] = gen.generate([GenerationRequest(prompt_token_ids=[1, 5, 9], sampling=params, request_id="q")])
    >>> [(s.sample_id, s.num_tokens, s.finish_reason) for s in result.samples]
    [('q/0', 5, 'length'), ('q/1', 5, 'length')]
    >>> result.reproducibility["seed"]
    7
    """

    capabilities = CAPABILITIES
    # Field values for strategies made by name for this model (m1reason.solving.make_strategy), e.g. the
    # embedded model's short answer lengths; None: the strategies' own defaults, which are M1-3B's.
    strategy_defaults: dict | None = None
    # What the model was trained to answer (m1reason.scope.Scope; the strategies refuse a problem outside it, see
    # the Generator protocol); None: anything, as M1-3B is asked. m1reason.defaults sets the embedded model's.
    scope: Scope | None = None
    # What a vote share means for this model's answers (m1reason.confidence_map; the strategies report its chance
    # as a Solution's confidence); None: the raw share. m1reason.defaults reads a model folder's confidence.json.
    confidence_map: ConfidenceMap | None = None

    def __new__(cls, *args, freeze_gc: bool = True, **kwargs):
        # The freeze comes before the generator object exists: frozen objects' cycles are never collected, and
        # the generator and its engine refer to each other. Frozen in __init__, a dropped generator would live on
        # with its KV pool and CUDA graphs.
        if freeze_gc:
            freeze_long_lived()
        return super().__new__(cls)

    def __init__(self, model: HybridLM, tokenizer=None, *, config: EngineConfig | None = None,
                 freeze_gc: bool = True, **options):  # freeze_gc: see __new__ and warm_up
        self.model, self.tokenizer = model, tokenizer
        self._freeze_gc = freeze_gc
        eos = set(model.config.eos_token_ids)
        if tokenizer is not None and tokenizer.eos_token_id is not None:
            eos.add(tokenizer.eos_token_id)  # chat models end turns with a token the config may not list
        self.engine = Engine(model, EngineConfig.of(config, **options), eos_token_ids=eos)
        self.source = dict(getattr(model, "source", None) or {"model_id": "in-memory", "revision": None})
        self._lock = TurnTakingLock()
        self._requests: dict[str, LiveRequest] = {}
        self._samples: dict[str, LiveSample] = {}
        self._mailboxes = Mailboxes()  # each request's events, until its stream reads them
        self._finished_streams: deque[str] = deque()  # ended requests whose streams left their forgetting to a step
        self._throughput: FittedThroughput | None = None
        self._calibrating = threading.Lock()
        self.pace = PaceMeter()  # decode steps as served, for the throughput model (m1reason.throughput.pace)
        self._work = threading.Condition(self._lock.raw)  # the background driver waits here for work
        self._driver: threading.Thread | None = None
        self._stopping = False
        self.failure: str | None = None  # why the engine stopped serving (see ``step``); None while it serves
        self._planned: dict[str, int] = {}  # request id -> samples planned, not yet submitted (see ``reserve``)
        self._planning = threading.Lock()
        self.failed_requests = 0  # requests a step failed, the engine going on without them
        self.driver_turns = DriverTurns()  # the background driver's turns, where its time went (driver_turns.py)

    @classmethod
    def from_pretrained(cls, path_or_hub_id: str, *, device: torch.device | str | None = None,
                        dtype: torch.dtype | None = None, revision: str | None = None, tokenizer: bool = True,
                        **engine_options) -> M1Generator:
        """Load model (and tokenizer, unless ``tokenizer=False``) from a folder or hub id; engine options as above
        (``EngineConfig``'s fields).

        >>> M1Generator.from_pretrained("/no/such/folder")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        m1reason.errors.CheckpointError: /no/such/folder is neither a checkpoint folder nor a hub id ...
        """
        model = load_model(path_or_hub_id, device=device, dtype=dtype, revision=revision)
        tok = load_tokenizer(path_or_hub_id, revision=revision) if tokenizer else None
        return cls(model, tok, **engine_options)

    # ---- the protocol -----------------------------------------------------------------------------------------
    def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]:
        """Run requests to completion; one result per request, in request order."""
        requests = list(requests)
        events = self._stream(requests, token_events=False)
        results = {e.request_id: e.result for e in events if isinstance(e, RequestFinished)}
        return [results[r.request_id] for r in requests]

    def stream(self, requests: Iterable[GenerationRequest]) -> Iterator[GenerationEvent]:
        """Submit requests and yield their events as they happen. Closing the iterator early cancels what is
        still running of these requests.

        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
        >>> req = GenerationRequest(prompt_token_ids=[1, 2], request_id="r",
        ...                         sampling=SamplingParams(temperature=0, max_new_tokens=2, ignore_eos=True))
        >>> [e.kind for e in gen.stream([req])]
        ['tokens', 'tokens', 'sample', 'request']
        """
        return self._stream(requests, token_events=True)

    def _stream(self, requests: Iterable[GenerationRequest], *, token_events: bool) -> Iterator[GenerationEvent]:
        """``stream``; without ``token_events`` the TokensAppended events are dropped unbuilt."""
        wake = threading.Event()
        ids = self.submit(requests, _wake=wake)
        try:
            while True:
                wake.clear()  # before collecting: an event posted after this sets it again
                events = self._mailboxes.collect(ids, token_events=token_events)
                if events:
                    yield from self._with_request_ends(events)
                    continue
                if self._driver is not None:  # the background thread steps; wait for our events
                    # no lock: only this thread reports its requests (_with_request_ends) and forgets them
                    if all(getattr(self._requests.get(i), "reported", True) for i in ids):
                        break
                    wake.wait(timeout=0.5)
                    continue
                with self._lock:
                    if self._mailboxes.has_events(ids):
                        continue  # another thread's step delivered our events while we waited for the lock
                    if all(self._requests.get(i) is None or self._requests[i].reported for i in ids):
                        break
                    if not self.engine.has_work():
                        raise RuntimeError(f"requests {ids} are unfinished but the engine has nothing to run")
                    self.step()
        finally:
            self._end_stream(ids)

    def _end_stream(self, ids: list[str]) -> None:
        """Cancel what still runs of a stream's requests and forget them. Requests that are over need no cancel:
        if a step holds the lock, they are left to the driver to forget before its next step (or to the next
        submission), so a stream whose requests are over never waits for the step in progress (under load, a
        second or more past the deadline it was answering)."""
        if self._driver is not None and all(self._ended(i) for i in ids):
            if not self._lock.raw.acquire(blocking=False):
                self._finished_streams.extend(ids)
                return
            try:
                for request_id in ids:
                    self._forget(request_id)
            finally:
                self._lock.raw.release()
            return
        with self._lock:
            for request_id in ids:
                live = self._requests.get(request_id)
                if live is not None and not live.done:
                    self.cancel(request_id)
                self._forget(request_id)

    def submit(self, requests: Iterable[GenerationRequest], *, _wake: threading.Event | None = None) -> list[str]:
        """Queue requests without waiting; ``step()`` or another stream drives them. Every request is checked
        before any is queued, so one bad request leaves the others untouched.

        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
        >>> gen.submit([GenerationRequest(prompt_token_ids=[1] * 40)])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        m1reason.errors.PromptTooLong: request ...: prompt of 40 tokens does not fit max_len 32
        """
        requests = list(requests)
        # tokenized, checked and built before the lock (none of it reads what a step changes): the driver steps
        # under the lock, and under load a submission holding it through this work kept the engine waiting
        prompts = [self._prompt_of(r) for r in requests]
        prepared = [self._prepare(r, prompt) for r, prompt in zip(requests, prompts)]
        with self._lock:
            if self.failure is not None:
                raise M1Error(f"the engine failed ({self.failure}) and stopped serving; make a new generator")
            self._forget_finished_streams()  # a request id is free again once its stream has ended
            seen = set()
            for r in requests:
                if r.request_id in self._requests or r.request_id in seen:
                    raise ValueError(f"request id {r.request_id!r} is already in flight")
                seen.add(r.request_id)
            for live in prepared:
                rid = live.request.request_id
                self._requests[rid] = live
                self._mailboxes.open(rid, waker=_wake)
                for sample in live.samples:
                    self._samples[sample.seq.sample_id] = sample
                self.engine.add([s.seq for s in live.samples])
                self._planned.pop(rid, None)  # counted in the engine now
            self._work.notify_all()
        return [r.request_id for r in requests]

    # ---- background driving -----------------------------------------------------------------------------------
    def run_in_background(self) -> bool:
        """Step the engine from one background thread whenever there is work. Streams then only wait for their
        own events, so hundreds of threads streaming at once (a server) share every step without contending
        to drive it. Idempotent; ``close()`` stops the thread. Returns whether this call started it (never
        once the engine has failed: see ``step``).

        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
        >>> gen.run_in_background(), gen.run_in_background()
        (True, False)
        >>> gen.close(); gen.run_in_background(); gen.close()
        True
        """
        with self._lock:
            if self._driver is not None or self.failure is not None:
                return False
            self._stopping = False
            self._driver = threading.Thread(target=self._drive, name="m1reason-engine", daemon=True)
            self._driver.start()
            return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the background thread (if any) after the step in progress, waiting at most ``timeout_s`` for
        it; what is still queued stays queued (``stream`` then drives it from the caller's thread)."""
        with self._lock:
            driver, self._stopping = self._driver, True
            self._forget_finished_streams()
            self._work.notify_all()
        if driver is not None and driver is not threading.current_thread():
            driver.join(timeout_s)
            if driver.is_alive():
                log.warning("the engine thread did not stop within %.0f s: a step is still running", timeout_s)
        self._driver = None

    def _drive(self) -> None:
        clock = time.perf_counter
        while True:
            asked = clock()
            with self._lock:
                held = clock()
                while not self._stopping and not self.engine.has_work():
                    self._work.wait()
                if self._stopping:
                    return
                working = clock()
                try:
                    engine_s = self._step()
                except BaseException as err:  # a fault of this loop itself: end every request, never hang them
                    self._break(err)
                    return
            stepped = clock()
            # let the threads that waited for the lock during the step (streams collecting their events, appends,
            # cancels, new requests) take it before the next step; bounded, so a crowd cannot stall the engine
            self._lock.yield_to_waiters(timeout=DRIVER_YIELD_S)
            self.driver_turns.append(DriverTurn(lock_wait_s=held - asked, idle_s=working - held, engine_s=engine_s,
                                                deliver_s=stepped - working - engine_s, handover_s=clock() - stepped))

    def exclusive(self) -> TurnTakingLock:
        """A context in which this thread's calls run back to back: no engine step and no other thread's call
        between them (e.g. ``append`` to every live sample of a request at its deadline). Re-entrant.

        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
        >>> with gen.exclusive():
        ...     gen.cancel("nothing-running")
        False
        """
        return self._lock

    def cancel(self, id: str) -> bool:
        """End a sample (by sample id) or every live sample of a request (by request id) with "cancelled"."""
        with self._lock:
            if id in self._requests:
                targets = [s for s in self._requests[id].samples if s.result is None]
            else:
                sample = self._samples.get(id)
                targets = [sample] if sample is not None and sample.result is None else []
            for sample in targets:
                confidence = self.engine.read_confidence(sample.seq)
                self.engine.cancel(sample.seq)
                self._finish(sample, "cancelled", confidence)
            return bool(targets)

    def append(self, sample_id: str, text_or_token_ids: str | list[int], *,
               sampling: SamplingParams | None = None) -> None:
        """Force tokens into a live or just-finished sample and continue from its state (no re-prefill).
        ``sampling`` replaces its parameters from here on, e.g. a larger max_new_tokens (which counts every
        generated and appended token) after a "length" finish. If a group of decode steps on the device holds the
        sample, the group is read back first and its tokens delivered, and the tokens go after them."""
        ids = self._encode(text_or_token_ids)  # before the lock: the driver steps under it
        with self._lock:
            sample = self._settled_sample(sample_id)
            if sampling is not None:
                sample.seq.params = sampling
            self.engine.append(sample.seq, ids)
            live = self._requests[sample.seq.request_id]
            with live.ends:
                sample.finish_reason, sample.result = None, None
                live.reported = False
            sample.stops.reopen()
            self._emit_tokens(sample, ids)
            self._work.notify_all()

    def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]:
        """Branch a live sample into n new samples of the same request, sharing its state; the parent is not
        disturbed. Returns the new sample ids. If a group of decode steps on the device holds the parent, the group
        is read back first and its tokens delivered, so the copies start at the parent's new end."""
        if n < 1:
            raise ValueError(f"fork needs n >= 1, got {n}")
        with self._lock:
            parent = self._settled_sample(sample_id)
            children = self.engine.fork(parent.seq, n, sampling)
            live = self._requests[parent.seq.request_id]
            for seq in children:
                child = LiveSample(seq, parent.text.clone() if parent.text else None, parent.stops.clone(),
                                    shown=parent.shown, first_token_at=parent.first_token_at)
                child.stops.reopen()
                with live.ends:
                    live.samples.append(child)
                    live.reported = False
                self._samples[seq.sample_id] = child
            self._work.notify_all()
            return [seq.sample_id for seq in children]

    def warm_up(self, sampling: SamplingParams | None = None) -> int:
        """Pay the cold-start costs now, not inside the first requests: calibrate, capture the decode graph of
        every batch bucket for ``sampling``'s settings (default: temperature 0.7), compile the prefill, fork and
        append paths; then freeze what that created out of the collector's full passes (unless made with
        ``freeze_gc=False``). Call it once, idle, before serving; returns the scratch generate/stream calls it
        made (``m1reason.generator.warm``).

        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=64)
        >>> gen.warm_up() >= 2 and gen.throughput_model() is not None
        True
        """
        return warm_up(self, sampling, freeze=self._freeze_gc)

    def throughput_model(self) -> FittedThroughput:
        """Step and prefill times for this model, device and engine shape: measured once, cached on disk.

        Measured by serving scratch requests through this generator when it is idle (``measure_served``: the
        graphs, host syncs and host work a request really waits for), else on a scratch cache beside the live
        work (``m1reason.throughput.measure``: eager steps, slower than served ones on a GPU)."""
        if self._throughput is None:
            with self._calibrating:  # one calibration at a time; not the engine lock, which serving needs
                if self._throughput is None:
                    self._throughput = self._calibrate()
        return self._throughput

    def _calibrate(self) -> FittedThroughput:
        config, engine = self.model.config, self.engine
        max_batch = engine.cache.num_slots
        max_context = min(engine.max_len - 1, 4096)
        with self._lock:
            served = not engine.has_work()
        key = {"model": self.source, "config": config.model_dump(mode="json"), "dtype": str(self.model.dtype),
               "device": device_name(self.model.device), "max_batch": max_batch, "max_context": max_context,
               "versions": package_versions(),
               "method": {"served": served, "cuda_graphs": engine.graphs is not None,
                          "decode_steps": engine.decode_steps}}

        def measured() -> Calibration:
            if served:
                try:
                    return measure_served(self, max_batch=max_batch, max_context=max_context)
                except CapacityError as err:  # a KV pool too small to hold the scratch requests
                    log.warning("calibrating on a scratch cache instead of by serving: %s", err)
            with self._lock:
                return measure(self.model, max_batch=max_batch, max_context=max_context)

        fit = load_or_calibrate(key, measured, occupancy=self.occupancy, pace=self.pace, peers=self.peers,
                                capacity=lambda: engine.scheduler.max_running)
        fit.fed_appends = engine.feed_appends  # how this generator takes appends in: not part of the measurement
        return fit

    def occupancy(self) -> int:
        """Sequences running or waiting right now (read without the lock: a planner must not wait for a step)."""
        scheduler = self.engine.scheduler
        running = len(scheduler.running) + sum(len(g) for g in list(scheduler.waiting))
        return running + sum(list(self._planned.values()))

    def peers(self) -> int:
        """Requests in flight right now (submitted and not yet delivered, or planned: ``reserve``), whose samples
        share the engine with any new one's.

        >>> from m1reason.model import ModelConfig
        >>> M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32).peers()
        0
        """
        return sum(not live.reported for live in list(self._requests.values())) + len(self._planned)

    def reserve(self, request_id: str, plan):
        """Run ``plan()``, which reads ``occupancy()`` and ``peers()``, one planner at a time, and count the samples
        it plans (its result's ``n``) in both from then until request ``request_id`` is submitted (or
        ``unreserve``): requests that arrive together each see what the others planned, not an idle engine.
        Returns what ``plan()`` returned.

        >>> from types import SimpleNamespace
        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=32)
        >>> gen.reserve("q", lambda: SimpleNamespace(n=3)).n, gen.occupancy(), gen.peers()
        (3, 3, 1)
        >>> gen.unreserve("q"); gen.occupancy()
        0
        """
        with self._planning:
            planned = plan()
            self._planned[request_id] = planned.n
        return planned

    def step_latency_s(self) -> float:
        """How late a deadline may be acted on: the longest of the background driver's last 8 turns inside the
        engine and delivering their tokens (a step is never interrupted; deadlines are checked between steps, and
        under load on a CPU one step can take a second). 0.0 before the driver's first turn.

        >>> from m1reason.model import ModelConfig
        >>> from m1reason.generator.driver_turns import DriverTurn
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
        >>> gen.step_latency_s()
        0.0
        >>> gen.driver_turns.extend([DriverTurn(0.0, 0.0, 0.4, 0.1, 0.0), DriverTurn(0.0, 0.0, 0.05, 0.01, 0.0)])
        >>> gen.step_latency_s()
        0.5
        """
        return max((turn.engine_s + turn.deliver_s for turn in self.driver_turns.last(8)), default=0.0)

    def unreserve(self, request_id: str) -> None:
        """Drop what ``reserve`` holds for a request that will not be submitted (a no-op once it has been)."""
        self._planned.pop(request_id, None)

    # ---- driving ----------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One engine step; its events go to the mailboxes of their requests.

        A request the step failed (the engine ended its samples with "error", or its tokens could not be turned
        into text) gets the error instead: its stream raises M1Error naming it, its other samples are cancelled,
        and every other request goes on. An error outside any one request's work leaves the engine in an unknown
        state: every live request ends with it, ``failure`` says why, and the generator stops serving (new
        requests are refused at once, never left waiting)."""
        self._step()

    def _step(self) -> float:
        """``step``; returns the seconds spent inside the engine's step (0 if none ran)."""
        with self._lock:
            self._forget_finished_streams()
            if self.failure is not None or not self.engine.has_work():
                return 0.0
            started = time.monotonic()
            try:
                out = self.engine.step()
            except Exception as err:  # noqa: BLE001 - not contained by the engine: its state is unknown
                self._break(err)
                return time.monotonic() - started
            delivering = time.monotonic()
            served, context = self._deliver_tokens(out, delivering)
            if served:
                self.pace.step(started=started, batch=served, tokens_per_seq=len(out.tokens) / served,
                               context=context / served, busy=self.engine.has_work(), decoded=out.decoded > 0)
            self._deliver_ends(out)
            return delivering - started

    def _deliver_ends(self, out) -> None:
        """End the samples a step ended: with their reason, or with their request's failure."""
        for seq in out.finished:
            sample = self._samples[seq.sample_id]
            if seq.finish_reason == "error":
                self._fail_request(seq.request_id, f"an engine step failed while running it ({seq.error}); "
                                                   "the engine goes on serving other requests")
            elif sample.result is None:
                reason = "stop" if sample.stops.matched is not None else seq.finish_reason
                self._guard(seq, self._finish_sequence, sample, seq, reason)

    def _settle(self, seq) -> None:
        """Under the lock, before a fork of or an append to ``seq``: if a group of decode steps on the device still
        computes its tokens, read the group back and deliver it as a step's output (at most ``decode_steps`` steps'
        wait), so the fork or the append continues from the sample's state; otherwise the sample (or each copy)
        would recompute it from every token, a prefill that holds up every other sample."""
        if self.engine.in_flight(seq):
            out = self.engine.settle()
            self._deliver_tokens(out, time.monotonic())
            self._deliver_ends(out)

    def _deliver_tokens(self, out, now: float) -> tuple[int, int]:
        """Post the step's tokens and the text they make visible, one event per sample however many tokens it got
        (several with decode_steps > 1); returns the sequences served and their summed lengths (pace meter)."""
        samples, mailboxes = self._samples, self._mailboxes
        posted = set()  # requests given events, woken once each after the loop
        served, context = 0, 0
        for seq, tokens in runs_by_sample(out.tokens):
            served, context = served + 1, context + len(seq.tokens)
            sample = samples[seq.sample_id]
            if sample.first_token_at is None:
                sample.first_token_at = now
            if sample.text is None:  # no tokenizer: no text and no stop strings, just the tokens
                mailboxes.post(seq.request_id, PendingTokens(seq.sample_id, tokens, ""), wake=False)
                posted.add(seq.request_id)
                continue
            kept = self._guard(seq, self._emit_sampled, sample, tokens)
            if kept is not None:  # a stop string appeared: the sample ends at token ``kept``
                if seq.is_live:
                    self.engine.finish(seq, "stop")
                    out.finished.append(seq)
                # tokens sampled after it (several decode steps ran at once) are never shown: take them back
                self.engine.take_back(seq, len(tokens) - kept)
        for request_id in posted:
            mailboxes.wake(request_id)
        return served, context

    def _finish_sequence(self, sample: LiveSample, seq: Sequence, reason: str) -> None:
        self._finish(sample, reason, self.engine.read_confidence(seq))

    def _guard(self, seq: Sequence, work, *args):
        """``work(*args)`` for one sample (its text, its end); if it raises, its request fails, not the step."""
        try:
            return work(*args)
        except Exception as err:  # noqa: BLE001 - one request's text or stop strings must not end the others
            log.exception("turning %s's tokens into events failed", seq.sample_id)
            self._fail_request(seq.request_id, f"{type(err).__name__}: {err}")
            return None

    def _fail_request(self, request_id: str, message: str) -> None:
        """End a request with an error: its stream yields the events before it, then raises M1Error(message);
        its other samples are cancelled, so their slots free now."""
        live = self._requests.get(request_id)
        if live is None or live.failed is not None:
            return
        live.failed = message
        self.failed_requests += 1
        for sample in live.samples:
            if sample.result is None:
                try:
                    self.engine.cancel(sample.seq)
                except Exception:  # noqa: BLE001 - a failed engine may fail again here; the request ends anyway
                    log.exception("could not free %s", sample.seq.sample_id)
        self._post(request_id, RequestFailure(f"request {request_id}: {message}"))

    def _break(self, err: BaseException) -> None:
        """The engine failed outside any one request's work (under the lock): end every live request with the
        error and stop serving; ``failure`` says why (health checks read it)."""
        log.error("the engine failed outside any one request's work; it stops serving", exc_info=err)
        self.failure = f"{type(err).__name__}: {err}"
        for request_id in list(self._requests):
            self._fail_request(request_id, f"the engine failed ({self.failure}) and stopped serving")
        self._stopping = True
        self._work.notify_all()

    def _emit_tokens(self, sample: LiveSample, token_ids: list[int]) -> bool:
        """Send new (forced) tokens and the text they make visible; True if a stop string just appeared."""
        stopped = False
        if sample.text is not None:
            stopped = sample.stops.feed(sample.text.extend(token_ids))
        self._post_visible(sample, token_ids)
        return stopped

    def _emit_sampled(self, sample: LiveSample, token_ids: list[int]) -> int | None:
        """Send a step's sampled tokens of one sample and the text they make visible, as one event. Tokens are fed
        one at a time, so a stop string is found at the token that completes it: returns how many tokens were
        kept (the rest are not sent), or None if no stop string appeared."""
        kept = None
        if not sample.stops.stops and sample.text.exact_in_runs:  # nothing to stop at: the run in one piece
            sample.stops.feed(sample.text.extend(token_ids))
        else:
            for i, token in enumerate(token_ids):
                if sample.stops.feed(sample.text.extend([token])):
                    kept = i + 1
                    break
        self._post_visible(sample, token_ids[:kept])
        return kept

    def _post_visible(self, sample: LiveSample, token_ids: list[int]) -> None:
        visible = sample.stops.visible_length  # only the new end of the text is copied: O(1) in its length
        delta = sample.stops.text_between(sample.shown, visible)
        self._post(sample.seq.request_id, PendingTokens(sample.seq.sample_id, token_ids, delta))
        sample.shown = visible

    def _finish(self, sample: LiveSample, reason: str, confidence: Confidence | None) -> None:
        seq, live = sample.seq, self._requests[sample.seq.request_id]
        sample.finish_reason = reason
        if sample.text is not None and sample.stops.matched is None:
            sample.stops.feed(sample.text.flush())
        final_text = sample.stops.visible if sample.stops.matched is not None else sample.stops.text
        if len(final_text) > sample.shown:  # text held back in case it began a stop string
            self._post(seq.request_id, PendingTokens(seq.sample_id, [], final_text[sample.shown:]))
            sample.shown = len(final_text)
        now = time.monotonic()
        timings = {"total_s": now - live.submitted_at}
        if sample.first_token_at is not None:
            timings["first_token_s"] = sample.first_token_at - live.submitted_at
        result = Sample(sample_id=seq.sample_id, token_ids=list(seq.generated), text=final_text,
                        finish_reason=reason, logprobs=list(seq.logprobs) if seq.params.logprobs else None,
                        confidence=confidence, timings=timings)
        with live.ends:
            sample.result = result
        self._post(seq.request_id, SampleFinished(sample_id=seq.sample_id, sample=result))

    def _post(self, request_id: str, event) -> None:
        self._mailboxes.post(request_id, event)

    def _with_request_ends(self, events: list) -> Iterator[GenerationEvent]:
        """Yield events; after a sample's end, a RequestFinished if that made (and still leaves) its request done.
        Checked lazily, so an append made while handling SampleFinished keeps the request open."""
        # the last SampleFinished of each request in this batch: its RequestFinished comes after that one
        request_of = {e.sample_id: self._samples[e.sample_id].seq.request_id for e in events
                      if isinstance(e, SampleFinished)}
        last_end = {request_of[e.sample_id]: i for i, e in enumerate(events) if isinstance(e, SampleFinished)}
        for i, event in enumerate(events):
            if isinstance(event, RequestFailure):
                raise M1Error(event.message)
            yield event
            if isinstance(event, SampleFinished) and last_end[request_of[event.sample_id]] == i:
                live = self._requests.get(request_of[event.sample_id])  # forgotten only by this thread's stream
                if live is None:
                    continue
                with live.ends:  # not the generator's lock: that one is held through the step in progress
                    if live.reported or not live.done:
                        continue
                    live.reported = True
                    samples = [sample.result for sample in live.samples]  # as they are now: an append may reopen one
                result = self._result(live, samples)
                yield RequestFinished(request_id=result.request_id, result=result)

    def _result(self, live: LiveRequest, samples: list) -> GenerationResult:
        request = live.request
        repro = {"seed": live.seed, "sampling": request.sampling.model_dump(mode="json"), **self.source,
                 "dtype": str(self.model.dtype), "device": device_name(self.model.device),
                 "versions": package_versions()}
        return GenerationResult(request_id=request.request_id, samples=samples,
                                prompt_tokens=live.prompt_len, reproducibility=repro)

    def _ended(self, request_id: str) -> bool:
        """Whether a request is over (every sample ended) or already forgotten; read without the step's lock."""
        live = self._requests.get(request_id)
        if live is None:
            return True
        with live.ends:
            return live.done

    def _forget_finished_streams(self) -> None:
        """Forget the ended requests whose streams left it to a step (called under the lock)."""
        while self._finished_streams:
            self._forget(self._finished_streams.popleft())

    def _forget(self, request_id: str) -> None:
        live = self._requests.pop(request_id, None)
        self._mailboxes.close(request_id)
        samples = live.samples if live else []
        self.engine.release(*(sample.seq for sample in samples))
        for sample in samples:
            self._samples.pop(sample.seq.sample_id, None)

    # ---- checks and conversions -------------------------------------------------------------------------------
    def encode_prompt(self, prompt: str) -> list[int]:
        """The token ids this generator runs for a text ``prompt`` (a prompt rendered by ``build_prompt`` keeps
        its own BOS; a bare one gets the tokenizer's). A caller that needs the prompt's length anyway (BudgetAware
        plans with it) can send these as ``prompt_token_ids`` and spare the generator a second tokenization.

        >>> from m1reason.defaults import ByteTokenizer
        >>> from m1reason.model import ModelConfig
        >>> gen = M1Generator(HybridLM(ModelConfig.tiny(vocab_size=259)), tokenizer=ByteTokenizer())
        >>> gen.encode_prompt("2+2?")
        [50, 43, 50, 63]
        """
        return self._encode(prompt, prompt=True)

    def _prompt_of(self, request: GenerationRequest) -> list[int]:
        if not isinstance(request, GenerationRequest):
            raise TypeError(f"expected a GenerationRequest, got {type(request).__name__}")
        if self.tokenizer is None and (request.prompt is not None or request.sampling.stop):
            raise ValueError(f"request {request.request_id}: a text prompt or stop strings need a tokenizer; "
                             "this generator has none (pass prompt_token_ids, or load one)")
        return list(request.prompt_token_ids or self._encode(request.prompt, prompt=True))

    def _prepare(self, request: GenerationRequest, prompt: list[int]) -> LiveRequest:
        params = request.sampling
        vocab = self.model.config.vocab_size
        if max(prompt) >= vocab:
            raise ValueError(f"request {request.request_id}: token id {max(prompt)} is outside the vocabulary "
                             f"of {vocab}")
        try:
            self.engine.check_fits(len(prompt), params.n)
        except PromptTooLong as err:
            raise PromptTooLong(f"request {request.request_id}: {err}") from None
        except CapacityError as err:
            raise CapacityError(f"request {request.request_id}: {err}", retry_after_s=err.retry_after_s) from None
        seed = params.seed if params.seed is not None else secrets.randbits(63)
        now = time.monotonic()
        deadline_at = now + request.deadline if request.deadline is not None else None
        live = LiveRequest(request, seed, len(prompt), now)
        for i in range(params.n):
            seq = Sequence(f"{request.request_id}/{i}", request.request_id, i, seed, params, list(prompt),
                           len(prompt), deadline_at)
            text = IncrementalText(self.tokenizer) if self.tokenizer is not None else None
            live.samples.append(LiveSample(seq, text, StopMatcher(params.stop)))
        return live

    def _encode(self, text_or_ids: str | list[int], *, prompt: bool = False) -> list[int]:
        if not isinstance(text_or_ids, str):
            ids = [int(t) for t in text_or_ids]
            if not ids:
                raise ValueError("nothing to append: empty token list")
            return ids
        if self.tokenizer is None:
            raise ValueError("text needs a tokenizer; this generator has none (pass token ids)")
        bos = getattr(self.tokenizer, "bos_token", None)
        # a prompt rendered by build_prompt already starts with BOS; a bare prompt gets the tokenizer's own
        special = prompt and not (bos and text_or_ids.startswith(bos))
        ids = self.tokenizer(text_or_ids, add_special_tokens=special)["input_ids"]
        if not ids:
            raise ValueError(f"{text_or_ids!r} encodes to no tokens")
        return ids

    def _live_sample(self, sample_id: str, *, allow_finished: bool) -> LiveSample:
        sample = self._samples.get(sample_id)
        if sample is None or (sample.result is not None and not allow_finished):
            raise KeyError(f"no live sample {sample_id!r} (unknown, or its request has been delivered)")
        if sample.finish_reason == "cancelled":
            raise ValueError(f"sample {sample_id!r} was cancelled; it cannot continue")
        live = self._requests.get(sample.seq.request_id)
        if live is not None and live.failed is not None:
            raise ValueError(f"sample {sample_id!r} belongs to a failed request ({live.failed}); it cannot continue")
        return sample

    def _settled_sample(self, sample_id: str) -> LiveSample:
        """The live or just-finished sample to fork or append to, its group on the device read back first
        (``_settle``); checked again after, since the tokens read back may have failed its request."""
        self._settle(self._live_sample(sample_id, allow_finished=True).seq)
        return self._live_sample(sample_id, allow_finished=True)

"""What the tutoring app's stream sends: from everything ``AsyncSolver.stream`` yields, the events a client needs.

A page shows one reasoning, the vote and the answer, so by default (``detail="summary"``) only the lead sample's
text travels, in chunks at most every ``TEXT_EVERY_S``, and the progress at most every ``PROGRESS_EVERY_S``;
``detail="samples"`` passes every event through. Either way the Solution names in ``shown_samples`` the samples
whose reasoning supports its answer. It knows nothing of HTTP: the app turns each (kind, JSON) pair into an event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from m1reason.answers import answer_key, extract_answer
from m1reason.serving import ProgressUpdate, SampleEnded, Started, TextDelta

__all__ = ["DETAILS", "MAX_SHOWN", "PROGRESS_EVERY_S", "TEXT_EVERY_S", "StreamFilter"]

DETAILS = ("summary", "samples")
PROGRESS_EVERY_S = 0.25  # the vote and counters move often; a few redraws a second are all a reader follows
TEXT_EVERY_S = 0.05  # one event per token is mostly framing: chunks of 50 ms still read as live typing
MAX_SHOWN = 3  # the winner's reasoning, and two more that agree with it


class StreamFilter:
    """Turns solver events into ``(kind, json)`` pairs to send.

    Summary kinds: ``started``; ``lead`` (``sample_id``, its whole ``text`` so far) when the followed sample
    changes; ``text`` (``sample_id``, new ``text``) for the followed sample; ``progress`` (the latest, rate
    limited); ``solution``, in which samples outside ``shown_samples`` carry ``text: ""`` (the Solution's
    shape kept, so it still validates). The followed sample is the first to write until it ends without the
    leading answer; then a finished sample with that answer, else the running sample furthest along.

    >>> f = StreamFilter(clock=lambda: 0.0)
    >>> [kind for kind, _ in f.feed(Started(queued_s=0.0)) + f.feed(TextDelta(sample_id="r/0", text="x"))]
    ['started', 'lead']
    """

    def __init__(self, detail: str = "summary", *, clock: Callable[[], float] = time.monotonic):
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        self.detail, self.clock = detail, clock
        self.texts: dict[str, list[str]] = {}  # every sample's text so far, in pieces: the lead may move to any
        self.answers: dict[str, str | None] = {}  # samples that ended, and the answer their text gives
        self.lead: str | None = None
        self.leader: str | None = None  # answer_key of the leading answer in the latest tally
        self._unsent = ""  # the lead's text not sent yet
        self._text_at = self._progress_at = -float("inf")
        self._progress: ProgressUpdate | None = None  # the latest progress not sent yet

    def feed(self, event) -> list[tuple[str, str]]:
        """What to send now for ``event`` (a SolveEvent, or the Solution that ends the stream)."""
        if self.detail == "samples":
            return self._passed(event)
        out: list[tuple[str, str]] = []
        if isinstance(event, TextDelta):
            self.texts.setdefault(event.sample_id, []).append(event.text)
            if self.lead is None:
                self._follow(event.sample_id, out)
            elif event.sample_id == self.lead:
                self._unsent += event.text
        elif isinstance(event, SampleEnded):
            self.answers[event.sample_id] = extract_answer("".join(self.texts.get(event.sample_id, ())))
            self._choose_lead(out)
        elif isinstance(event, ProgressUpdate):
            self.leader = answer_key(event.tally[0][0]) if event.tally else None
            self._progress = event
            self._choose_lead(out)
        elif not isinstance(event, Started):  # the Solution: a pending progress is superseded by it
            self._flush_text(out)
            return out + [("solution", self._solution(event))]
        if isinstance(event, Started):
            out.append(("started", event.model_dump_json()))
        self._send_due(out)
        return out

    # ---- inside -------------------------------------------------------------------------------------------------
    def _passed(self, event) -> list[tuple[str, str]]:
        """``detail="samples"``: every event as it is, and the Solution with its ``shown_samples``."""
        if isinstance(event, TextDelta) and self.lead is None:
            self.lead = event.sample_id
        if isinstance(event, Started | TextDelta | SampleEnded | ProgressUpdate):
            return [(event.kind, event.model_dump_json())]
        return [("solution", self._solution(event))]

    def _send_due(self, out: list) -> None:
        now = self.clock()
        if self._unsent and now - self._text_at >= TEXT_EVERY_S:
            self._flush_text(out)
        if self._progress is not None and now - self._progress_at >= PROGRESS_EVERY_S:
            out.append(("progress", self._progress.model_dump_json()))
            self._progress, self._progress_at = None, now

    def _flush_text(self, out: list) -> None:
        if self._unsent:
            out.append(("text", json.dumps({"sample_id": self.lead, "text": self._unsent})))
            self._unsent, self._text_at = "", self.clock()

    def _follow(self, sample_id: str, out: list) -> None:
        self._flush_text(out)
        self.lead = sample_id
        out.append(("lead", json.dumps({"sample_id": sample_id, "text": "".join(self.texts.get(sample_id, ()))})))
        self._text_at = self.clock()

    def _choose_lead(self, out: list) -> None:
        """Leave a lead that ended without the leading answer for one that supports it (or is still writing)."""
        if self.lead is None or self.lead not in self.answers or self._supports(self.lead):
            return
        if self.answers[self.lead] is not None and self.leader is None:  # not counted yet: it may lead
            return
        agreeing = [s for s in self.answers if self._supports(s)]
        running = [s for s in self.texts if s not in self.answers]
        better = agreeing[0] if agreeing else max(running, key=lambda s: sum(map(len, self.texts[s])), default=None)
        if better is not None:
            self._follow(better, out)

    def _supports(self, sample_id: str) -> bool:
        answer = self.answers.get(sample_id)
        return answer is not None and self.leader is not None and answer_key(answer) == self.leader

    def _solution(self, solution) -> str:
        shown = self.shown_samples(solution)
        data = solution.model_dump(mode="json")
        if self.detail == "summary":
            for sample in data["samples"]:
                if sample["sample_id"] not in shown:
                    sample["text"] = ""
        return json.dumps({**data, "shown_samples": shown})

    def shown_samples(self, solution) -> list[str]:
        """The samples whose reasoning the page shows, best first: the winner, then others of the winning
        cluster (``MAX_SHOWN`` in all); with no winner, the sample the stream followed."""
        winner = solution.winner
        if winner is None:
            ids = {s.sample_id for s in solution.samples}
            return [self.lead] if self.lead in ids else [s.sample_id for s in solution.samples[:1]]
        agreeing = set(solution.votes[0].sample_ids) - {winner.sample_id}
        others = [s.sample_id for s in solution.samples if s.sample_id in agreeing and s.counted]
        return [winner.sample_id, *others[:MAX_SHOWN - 1]]

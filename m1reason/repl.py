"""The interactive loop behind ``python -m m1reason``: type a problem, watch it being solved, get the answer.

While a problem runs, the reasoning of its first sample is printed as it is written, line by line, and under
it one status line, rewritten in place on a terminal, shows samples finished/running, tokens per second, the
vote tally and the time left. Plain text, no terminal library: piped, it reads as a transcript. Ctrl-C cancels
that problem and keeps the REPL. Lines starting with ':' are commands (:help); ``help``, ``?``, ``quit`` and
``exit`` typed alone are too.
The model loads on the first problem (a cold start, reported apart from the budget); ``:model`` loads the new one
at once and keeps the old one if it fails. No input (bad bytes, a model that will not load, a failing problem)
ends the loop: each gets an error line and the next line is read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from pydantic import ValidationError

import m1reason.solving as solving  # looked up per call: the one solve path, as tests see it
from m1reason.checks import check_budget
from m1reason.errors import M1Error
from m1reason.generator import SampleFinished, TokensAppended

__all__ = ["Repl"]

log = logging.getLogger(__name__)

HELP = """commands:
  :budget SECONDS   time budget per problem (:budget none for no budget)
  :strategy NAME    auto, budget, sc or long
  :model NAME       hub id or folder of the model to use (loads now; if it fails, the current one stays)
  :stream on|off    print the first sample's reasoning as it is written (default on)
  :show             the winning sample's reasoning
  :json             the last Solution as JSON
  :help, :quit      (help, ?, quit and exit work without the colon)"""

# Bare words that are commands, not problems: nobody asks a math model to solve "quit".
BARE = {"help": ":help", "?": ":help", "quit": ":quit", "exit": ":quit"}


class Repl:
    """A REPL over ``m1reason.solving.solve``; ``generator`` (optional) replaces the model loaded on first use.

    >>> import io
    >>> from m1reason.generator.fake import FakeGenerator
    >>> out = io.StringIO()
    >>> repl = Repl(generator=FakeGenerator(lambda r, i: "</think> $\\\\boxed{2}$"), stdout=out, live=False)
    >>> repl.run(io.StringIO(":budget 5\\n:strategy sc\\n1 + 1?\\n:quit\\n"))
    0
    >>> print(out.getvalue().splitlines()[-1])  # doctest: +ELLIPSIS
    answer: 2   (vote share 100%, 5/8 samples voted, ... stopped: settled)
    """

    def __init__(self, *, budget_s: float | None = 30.0, strategy: str = "auto", model: str | None = None,
                 generator=None, stdout=None, live: bool = True, stream: bool = True):
        solving.make_strategy(strategy, budget_s)  # before any model loads: a typo should not cost a cold start
        self.budget_s, self.strategy, self.model, self.generator = budget_s, strategy, model, generator
        self.out = stdout or sys.stdout
        self.live, self.stream = live, stream
        self.last = None

    def run(self, stdin=None) -> int:
        """Read lines until :quit or end of input; 0 on a normal exit."""
        interactive = stdin is None and sys.stdin.isatty()
        if interactive:
            _history()
        if stdin is None:
            _replace_undecodable(sys.stdin)
        self.say("m1reason: type a math problem (:help for commands, Ctrl-D to leave)")
        while True:
            try:
                line = input("m1> ") if interactive else (stdin or sys.stdin).readline()
            except EOFError:
                line = ""
            except KeyboardInterrupt:
                self.say("")
                continue
            if not line:
                return 0
            line = line.strip()
            if not line:
                continue
            if "\ufffd" in line:
                self.say("note: this line had bytes that are not UTF-8; they read as \ufffd")
            line = BARE.get(line.lower(), line)
            if line.startswith(":"):
                if self.command(line) == "quit":
                    return 0
                continue
            self.solve(line)

    def command(self, line: str) -> str | None:
        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if name in ("quit", "q", "exit"):
            return "quit"
        if name in ("help", "h", "?", ""):
            return self.say(HELP)
        if name == "stream":
            if arg.lower() not in ("on", "off"):
                return self.say(f"error: :stream takes on or off, got {arg!r}")
            self.stream = arg.lower() == "on"
            return self.say(f"stream: {arg.lower()}")
        if name == "budget":
            try:
                value = None if arg.lower() in ("none", "off") else float(arg)
                check_budget(value)  # a BudgetError is a ValueError
            except ValueError:
                return self.say(f"error: :budget needs a finite number of seconds > 0 or 'none', got {arg!r}")
            self.budget_s = value
            return self.say(f"budget: {value} s" if value else "budget: none")
        if name == "strategy":
            try:
                solving.make_strategy(arg, self.budget_s)
            except ValueError as err:
                return self.say(f"error: {err}")
            self.strategy = arg.lower()
            return self.say(f"strategy: {arg}")
        if name == "model":
            return self.switch_model(arg or None)
        if name in ("show", "json"):
            if self.last is None:
                return self.say("nothing solved yet")
            winner = self.last.winner
            text = self.last.model_dump_json(indent=2) if name == "json" else (winner.text if winner else "no answer")
            return self.say(text)
        return self.say(f"unknown command :{name} (type :help)")

    def switch_model(self, model: str | None) -> None:
        """Load ``model`` (None: the default) now and use it from the next problem; if it does not load, say why
        and keep the model in use.

        >>> from m1reason.generator.fake import FakeGenerator
        >>> repl = Repl(generator=FakeGenerator(lambda r, i: "</think> 2"), live=False)
        >>> repl.switch_model("/no/such/folder")  # doctest: +ELLIPSIS
        loading /no/such/folder...
        error: cannot load model '/no/such/folder': ...; keeping the model in use
        """
        self.say(f"loading {model or 'the default model'}...")
        try:
            generator, cold = solving.shared_generator(model)
        except KeyboardInterrupt:
            return self.say("\ncancelled; the model in use stays")
        except Exception as err:  # a checkpoint can fail in many ways (files, JSON, tensors, the hub): none is fatal
            log.info("loading %s failed", model, exc_info=True)
            kept = "the model in use" if self.generator is not None else self.model or "the default model"
            return self.say(f"error: cannot load model {model!r}: {_describe(err)}; keeping {kept}")
        self.model, self.generator = model, generator
        self.say(f"model: {model or 'default'} ({_cold_start(cold)})")

    def solve(self, problem: str) -> None:
        """Solve ``problem`` through ``m1reason.solving.solve``, showing its progress, and print the answer."""
        display = _Display(self.out, live=self.live)
        try:
            solving.make_strategy(self.strategy, self.budget_s)  # a bad name fails before the model loads
            if self.generator is None:  # loaded here, not by solve: the REPL says so and keeps it for :model
                self.say("loading the model (a cold start, not counted in the budget)...")
                self.generator, cold = solving.shared_generator(self.model)
                self.say(_cold_start(cold))
            generator = _Tap(self.generator, display.on_event) if self.stream else self.generator
            started = time.monotonic()
            self.last = solving.solve(problem, budget_s=self.budget_s, strategy=self.strategy, generator=generator,
                              on_progress=display.on_progress if self.live else None)
        except KeyboardInterrupt:
            return self.say("cancelled")
        except (M1Error, ValueError, ValidationError) as err:
            return self.say(f"error: {err}")
        except Exception as err:  # a bug must not end the session; -v shows its traceback
            log.info("solving %r failed", problem, exc_info=True)
            return self.say(f"error: {_describe(err)} (run with -v for the traceback)")
        finally:
            display.end()  # before any answer or error line: the status line ends and the reasoning is flushed
        sol = self.last
        if sol.status == "out_of_scope":
            return self.say(f"{sol.headline}   (no samples drawn; :model names another model)")
        voted = sum(s.counted for s in sol.samples)
        share = sol.confidence if sol.vote_share is None else sol.vote_share
        sure = "" if share == sol.confidence else f"confidence {sol.confidence:.0%}, "
        self.say(f"{sol.headline}   (vote share {share:.0%}, {sure}"
                 f"{voted}/{len(sol.samples)} samples voted, {sol.num_tokens} tokens, "
                 f"{time.monotonic() - started:.1f} s, stopped: {sol.stopped})")

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


class _Display:
    """What a problem prints while it runs: one sample's reasoning in whole lines, and one status line under it
    that is rewritten in place (``live``). A line of reasoning first clears the status line, so the two never
    mix; without ``live`` there is no status line and the output is a plain transcript.

    The sample shown is the first to start (the samples of one problem read alike, and showing each in turn
    would repeat it n times); when it ends, a line says how, and the status line carries on alone."""

    def __init__(self, out, *, live: bool):
        self.out, self.live = out, live
        self.width = max(40, shutil.get_terminal_size((100, 24)).columns - 1)
        self.followed: str | None = None
        self.done = False
        self.pending = ""  # the followed sample's text not printed yet (less than a line)
        self.status = ""

    def on_event(self, event) -> None:
        if isinstance(event, TokensAppended) and not self.done:
            if self.followed is None:
                self.followed = event.sample_id
                self.line(f"[reasoning of sample {event.sample_id}]")
            if event.sample_id == self.followed:
                self.pending += event.text_delta
                self.print_lines()
        elif isinstance(event, SampleFinished) and event.sample_id == self.followed and not self.done:
            self.print_lines(flush=True)
            self.line(f"[sample {event.sample_id} ended: {event.sample.finish_reason}]")
            self.done = True

    def print_lines(self, flush: bool = False) -> None:
        """Print the pending text's whole lines (a long one wraps at a space before the terminal's width)."""
        while "\n" in self.pending or len(self.pending) >= self.width:
            cut = self.pending.find("\n", 0, self.width + 1)
            if cut < 0:
                space = self.pending.rfind(" ", self.width // 2, self.width)
                cut = space if space >= 0 else self.width
            self.line(self.pending[:cut])
            self.pending = self.pending[cut + 1 if self.pending[cut:cut + 1] in ("\n", " ") else cut:]
        if flush and self.pending:
            self.line(self.pending)
            self.pending = ""

    def line(self, text: str) -> None:
        self.clear()
        self.out.write(text + "\n")
        self.draw()

    def on_progress(self, p) -> None:
        tally = " ".join(f"{answer[:12]}x{count}" for answer, count in p.tally[:4]) or "-"
        left = f" | {max(0.0, p.budget_s - p.elapsed_s):.1f} s left" if p.budget_s else ""
        self.status = f"{p.finished} done, {p.running} running | {p.tokens_per_s:.0f} tok/s | votes {tally}{left}"
        self.draw()

    def draw(self) -> None:
        if self.live and self.status:
            self.out.write("\r" + self.status[:self.width])
        self.out.flush()

    def clear(self) -> None:
        if self.live and self.status:
            self.out.write("\r" + " " * min(len(self.status), self.width) + "\r")

    def end(self) -> None:
        """Print what is left of the reasoning and leave the status line on screen, ended by a newline."""
        if not self.done:
            self.print_lines(flush=True)
        if self.live and self.status:
            self.out.write("\n")
        self.status = ""
        self.out.flush()


class _Tap:
    """The generator as it is, except that ``stream`` also hands each event to ``listener`` (the display)."""

    def __init__(self, generator, listener):
        self._generator, self._listener = generator, listener

    def __getattr__(self, name):
        return getattr(self._generator, name)

    def stream(self, requests):
        events = self._generator.stream(requests)
        try:
            for event in events:
                self._listener(event)
                yield event
        finally:
            events.close()  # closing the tap (Ctrl-C, the vote settled) cancels what still runs, as before


def _describe(err: Exception) -> str:
    """An error as one line: an M1Error's message names what is wrong; any other error also needs its type.

    >>> _describe(FileNotFoundError(2, "No such file or directory"))
    'FileNotFoundError: [Errno 2] No such file or directory'
    """
    return f"{type(err).__name__}: {err}" if not isinstance(err, M1Error) else str(err)


def _replace_undecodable(stream) -> None:
    """Read bytes that are not valid text as U+FFFD instead of raising: a pipe may carry anything."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def _history() -> None:
    try:
        import atexit
        import readline
    except ImportError:  # Windows without pyreadline: the REPL works, only without history
        return
    path = Path(os.environ.get("M1REASON_HISTORY", Path.home() / ".m1reason_history"))
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    atexit.register(lambda: _save_history(readline, path))


def _save_history(readline, path: Path) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(path)


def _cold_start(cold: dict) -> str:
    """What loading cost, in words.

    >>> _cold_start({"load_s": 1.23, "warm_s": 0.5}), _cold_start({})
    ('loaded in 1.2 s, warmed up in 0.5 s', 'already loaded')
    """
    if not cold:
        return "already loaded"
    return f"loaded in {cold.get('load_s', 0.0):.1f} s, warmed up in {cold.get('warm_s', 0.0):.1f} s"

"""Fault and load soak of the tutoring app: bursts of mixed requests against the example app on localhost.

Each round sends a burst of solves with budgets, streams that hang up after their first event, streams read to the
end, empty and 1 MB problems, absurd budgets, malformed bodies and answer checks, from clients rotating over many
tenants, all at once. Every response is sorted into one outcome:

- answered: a solution of the client's own problem with an answer;
- explicit: a refusal or a no-answer solution that says why (4xx with an error message, 429 with a retry-after,
  a solution whose ``status`` is not "answered" and that gives a ``status_reason``);
- lost: no response (time-out, connection dropped, a stream that ends without a solution or an error);
- lied: a 200 solution with no answer and no status saying why;
- wrong_client: a solution of another client's problem;
- server_error: a 5xx;
- accepted_bad: hostile input (empty, 1 MB, absurd budget) answered as if it were fine.

Per round it reports those counts, the latency of admitted solves against budget + 1 s (p50, p99, how many over),
counted from when the request's first byte goes on the wire (the burst's 300 students share one client process
here, which on 2 cores takes up to a second to put a burst's last request on the wire: that wait is the
benchmark's, reported beside as ``client_delay_p99_s``, not the server's),
the server's RSS before and after (after the burst has drained), and whether the engine is alive (health says ok and
a probe problem is answered). Targets: 0 lost, lied, wrong_client, server_error and accepted_bad; p99 <= budget + 1 s;
RSS back within 10% of the baseline. Writes the "soak" section of BENCHMARKS.md ("soak-gpu" with --model on a GPU).

    python -m benchmarks.soak                                  # embedded model, CPU: 3 rounds of 300 requests
    python -m benchmarks.soak --rounds 1 --requests 60 --no-write
    python -m benchmarks.soak --gpu                            # M1-3B shapes, random bf16 weights, on the GPU
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.report import environment, markdown_table, write_section

OUTCOMES = ("answered", "explicit", "lost", "lied", "wrong_client", "server_error", "accepted_bad")
MUST_BE_ZERO = ("lost", "lied", "wrong_client", "server_error", "accepted_bad")
# The request mix of a burst: kind -> share of the burst.
MIX = {"solve": 0.55, "stream_hangup": 0.1, "stream": 0.05, "empty": 0.05, "huge": 0.05, "bad_budget": 0.1,
       "malformed": 0.05, "check": 0.05}
BAD_BUDGETS = ['-1', '0', '1e9', '"abc"', 'true', 'NaN', 'Infinity', '[3]']
MALFORMED = [b'{"problem": ', b'[1, 2, 3]', b'"just a string"', b'{"problem": "\\ud800 1+1"}',
             b'[' * 5000 + b']' * 5000, b'{"problem": {"nested": [1, 2]}}', b'\xff\xfe not utf-8']


@dataclass
class Outcome:
    """One request's result: its kind, outcome, seconds from its first byte on the wire to the last byte back, and
    the budget it asked for; ``client_delay_s``: how long the client took to put it on the wire."""

    kind: str
    outcome: str
    latency_s: float
    budget_s: float | None = None
    detail: str = ""
    server_s: float | None = None  # a solution's own account of its time: queue_s + total_s
    client_delay_s: float = 0.0


def classify_solution(body: dict, problem: str) -> tuple[str, str]:
    """The outcome of a 200 solution body for a client that sent ``problem``.

    >>> classify_solution({"problem": "1+1?", "answer": "2", "status": "answered"}, "1+1?")[0]
    'answered'
    >>> classify_solution({"problem": "1+1?", "answer": None, "status": "no_answer",
    ...                    "status_reason": "no answer within the budget"}, "1+1?")[0]
    'explicit'
    >>> classify_solution({"problem": "1+1?", "answer": None}, "1+1?")[0]
    'lied'
    >>> classify_solution({"problem": "2+2?", "answer": "4"}, "1+1?")[0]
    'wrong_client'
    """
    if body.get("problem") != problem:
        return "wrong_client", f"asked {problem[:40]!r}, got {str(body.get('problem'))[:40]!r}"
    if body.get("answer") is not None:
        return "answered", ""
    status, reason = body.get("status"), body.get("status_reason")
    if status and status != "answered" and reason:
        return "explicit", f"{status}: {reason}"
    return "lied", "no answer and no status saying why"


def classify_refusal(status_code: int, body: dict | None, headers) -> tuple[str, str]:
    """The outcome of a non-200 response: an explicit refusal must carry a message (and a 429 a retry-after).

    >>> classify_refusal(429, {"error": "queue full", "retry_after_s": 2.0}, {"retry-after": "2"})[0]
    'explicit'
    >>> classify_refusal(429, {"error": "too long", "retry_after_s": None}, {})[0]
    'lied'
    >>> classify_refusal(500, None, {})[0]
    'server_error'
    """
    if status_code >= 500:
        return "server_error", f"HTTP {status_code}"
    message = (body or {}).get("error") if isinstance(body, dict) else None
    if not message:
        return "lied", f"HTTP {status_code} without an error message"
    if status_code == 429 and not (isinstance(body.get("retry_after_s"), int | float) and headers.get("retry-after")):
        return "lied", "429 (retry) without a retry-after: a client would retry forever"
    return "explicit", f"HTTP {status_code}: {str(message)[:80]}"


class Client:
    """The burst's requests against one server, each returning an Outcome whatever happens."""

    def __init__(self, http: httpx.AsyncClient, budgets: list[float], tenants: int, grace_s: float):
        self.http, self.budgets, self.tenants, self.grace_s = http, budgets, tenants, grace_s
        self.server_s: dict[int, float] = {}  # request index -> the solution's queue_s + total_s

    async def send(self, kind: str, i: int, rng: random.Random) -> Outcome:
        started = time.perf_counter()
        on_wire = [started]  # when the request's first byte was written (httpx's trace), if it got that far

        async def trace(event: str, info: dict) -> None:
            if event == "http11.send_request_headers.started":
                on_wire[0] = time.perf_counter()

        budget = rng.choice(self.budgets)
        try:
            outcome, detail = await asyncio.wait_for(self._send(kind, i, rng, budget, {"trace": trace}),
                                                     budget + self.grace_s)
        except asyncio.TimeoutError:
            outcome, detail = "lost", f"no response within budget + {self.grace_s:.0f} s"
        except httpx.HTTPError as err:
            outcome, detail = "lost", f"{type(err).__name__}: {err}"
        return Outcome(kind, outcome, time.perf_counter() - on_wire[0], budget if kind == "solve" else None, detail,
                       self.server_s.pop(i, None), on_wire[0] - started)

    async def _send(self, kind: str, i: int, rng: random.Random, budget: float, traced: dict) -> tuple[str, str]:
        headers = {"X-Tenant": f"tenant-{i % self.tenants}", "Content-Type": "application/json"}
        problem = f"What is {rng.randint(2, 99)} + {rng.randint(2, 99)}? (student {i})"
        if kind == "solve":
            response = await self.http.post("/api/solve", json={"problem": problem, "budget_s": budget},
                                            headers=headers, extensions=traced)
            if response.status_code == 200:
                timings = response.json().get("timings", {})
                self.server_s[i] = timings.get("queue_s", 0.0) + timings.get("total_s", 0.0)
            return _judge(response, problem)
        if kind in ("stream", "stream_hangup"):
            return await self._stream(problem, budget, headers, traced, hang_up=kind == "stream_hangup")
        if kind == "check":
            response = await self.http.post("/api/check", json={"candidate": "1/2", "gold": "0.5"}, headers=headers,
                                            extensions=traced)
            if response.status_code == 200:
                return ("answered", "") if response.json().get("equivalent") is True else ("lied", "1/2 != 0.5?")
            return classify_refusal(response.status_code, _json(response), response.headers)
        body = {"empty": lambda: json.dumps({"problem": "   ", "budget_s": 1}).encode(),
                "huge": lambda: json.dumps({"problem": "1 + " * 250_000 + "1", "budget_s": 1}).encode(),
                "bad_budget": lambda: f'{{"problem": "1 + 1", "budget_s": {rng.choice(BAD_BUDGETS)}}}'.encode(),
                "malformed": lambda: rng.choice(MALFORMED)}[kind]()
        response = await self.http.post("/api/solve", content=body, headers=headers, extensions=traced)
        if response.status_code == 200:
            return "accepted_bad", f"{kind} answered 200"
        return classify_refusal(response.status_code, _json(response), response.headers)

    async def _stream(self, problem: str, budget: float, headers: dict, traced: dict, *,
                      hang_up: bool) -> tuple[str, str]:
        params = {"problem": problem, "budget_s": budget}
        async with self.http.stream("GET", "/api/stream", params=params, headers=headers,
                                    extensions=traced) as response:
            if response.status_code != 200:
                return classify_refusal(response.status_code, json.loads(await response.aread() or b"null"),
                                        response.headers)
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                    if hang_up:
                        return "explicit", "hung up after the first event"
                elif line.startswith("data: ") and event in ("solution", "error"):
                    data = json.loads(line.removeprefix("data: "))
                    if event == "error":
                        return classify_refusal(429 if data.get("retry_after_s") else 400, data,
                                                {"retry-after": str(data.get("retry_after_s") or "")})
                    return classify_solution(data, problem)
        return "lost", "the stream ended without a solution or an error"


def _judge(response: httpx.Response, problem: str) -> tuple[str, str]:
    if response.status_code == 200:
        return classify_solution(response.json(), problem)
    return classify_refusal(response.status_code, _json(response), response.headers)


def _json(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def burst_kinds(count: int, rng: random.Random) -> list[str]:
    """``count`` request kinds in MIX's proportions, shuffled.

    >>> sorted(Counter(burst_kinds(100, random.Random(0))).items())[:3]
    [('bad_budget', 10), ('check', 5), ('empty', 5)]
    """
    kinds = [kind for kind, share in MIX.items() for _ in range(round(share * count))]
    kinds += ["solve"] * (count - len(kinds))
    rng.shuffle(kinds)
    return kinds[:count]


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(port: int, model: str | None, log_path: Path):
    """The example app under uvicorn on 127.0.0.1:``port`` in a child process; stopped (SIGTERM, then SIGKILL
    after 20 s) on exit. Yields the process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if model:
        env["M1REASON_MODEL"] = model
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "examples.tutoring_app.app:app", "--host",
                                   "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def wait_ready(http: httpx.AsyncClient, server: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with code {server.returncode} before it was ready")
        try:
            if (await http.get("/api/health")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.25)
    raise RuntimeError(f"the app was not ready within {timeout_s:.0f} s")


async def engine_alive(http: httpx.AsyncClient) -> tuple[bool, str]:
    """Health says ok and a probe problem gets an answer (or an explicit status), within 30 s."""
    try:
        health = await http.get("/api/health", timeout=10)
        if health.status_code != 200 or not health.json().get("ok"):
            return False, f"health {health.status_code}: {health.text[:120]}"
        probe = await http.post("/api/solve", json={"problem": "What is 2 + 3?", "budget_s": 5},
                                headers={"X-Tenant": "probe"}, timeout=30)
        outcome, detail = _judge(probe, "What is 2 + 3?")
        return outcome in ("answered", "explicit"), f"probe {outcome} {detail}".strip()
    except httpx.HTTPError as err:
        return False, f"{type(err).__name__}: {err}"


async def drained(http: httpx.AsyncClient, timeout_s: float = 60) -> None:
    """Wait until the solver reports nothing active or queued (the burst's work is over), then a moment more."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stats = (await http.get("/api/health", timeout=10)).json()
        if not stats.get("active") and not stats.get("queued"):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)


def admitted(outcome: Outcome) -> bool:
    """A solve the server took on and answered with a solution (refusals' details start with "HTTP").

    >>> admitted(Outcome("solve", "explicit", 1.2, 1.0, "no_answer: waited 1.0 s for a turn"))
    True
    >>> admitted(Outcome("solve", "explicit", 0.01, 1.0, "HTTP 429: queue full"))
    False
    """
    return outcome.kind == "solve" and outcome.outcome in ("answered", "explicit") and \
        not outcome.detail.startswith("HTTP")


def round_row(number: int, outcomes: list[Outcome], rss_before: float, rss_after: float, alive: tuple[bool, str],
              grace_s: float) -> dict:
    counts = Counter(o.outcome for o in outcomes)
    solves = [o for o in outcomes if admitted(o)]
    latency = sorted(o.latency_s for o in solves)
    over = sum(o.latency_s > o.budget_s + grace_s for o in solves)
    # Where a late answer lost its time: in the solver (its own clock past the budget) or outside it (the HTTP
    # front's loop and the transport: the client's wait beyond the solver's).
    solver_late = [o.server_s - o.budget_s for o in solves if o.server_s is not None]
    outside = [o.latency_s - o.server_s for o in solves if o.server_s is not None]
    return {"round": number, "requests": len(outcomes), **{k: counts.get(k, 0) for k in OUTCOMES},
            "admitted_solves": len(solves),
            "p50_s": statistics.median(latency) if latency else None,
            "p99_s": latency[min(len(latency) - 1, int(0.99 * len(latency)))] if latency else None,
            "over_budget_plus_1s": over,
            "solver_p99_past_budget_s": _p99(solver_late),
            "outside_solver_p99_s": _p99(outside),
            "client_delay_p99_s": _p99([o.client_delay_s for o in outcomes]),
            "rss_before_mb": rss_before, "rss_after_mb": rss_after,
            "engine_alive": alive[0], "alive_detail": alive[1]}


def _p99(values: list[float]) -> float | None:
    """The 99th percentile (nearest rank) of ``values``, None for none.

    >>> _p99(list(range(1, 101))), _p99([])
    (99, None)
    """
    ordered = sorted(values)
    return ordered[int(0.99 * (len(ordered) - 1))] if ordered else None


async def soak(args, server: subprocess.Popen, port: int) -> tuple[list[dict], float, list[Outcome]]:
    # Idle connections expire on the client before the server's keep-alive timeout (uvicorn's 5 s): reusing one
    # the server is closing at that moment fails as a ReadError, a race of HTTP keep-alive, not a lost request.
    limits = httpx.Limits(max_connections=args.requests + 16, max_keepalive_connections=64, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=None) as http:
        await wait_ready(http, server)
        client = Client(http, args.budgets, args.tenants, grace_s=args.grace_s)
        warm = await asyncio.gather(*(client.send("solve", i, random.Random(i)) for i in range(4)))
        await drained(http)
        baseline = rss_mb(server.pid)
        rows, everything = [], list(warm)
        for number in range(1, args.rounds + 1):
            rng = random.Random(args.seed * 1000 + number)
            before = rss_mb(server.pid)
            outcomes = await asyncio.gather(*(client.send(kind, i, random.Random(rng.random()))
                                              for i, kind in enumerate(burst_kinds(args.requests, rng))))
            await drained(http)
            alive = await engine_alive(http)
            rows.append(round_row(number, outcomes, before, rss_mb(server.pid), alive, 1.0))
            everything += outcomes
            print(markdown_table(rows[-1:], TABLE_COLUMNS), flush=True)
        return rows, baseline, everything


TABLE_COLUMNS = ["round", "requests", *OUTCOMES, "admitted_solves", "p50_s", "p99_s", "over_budget_plus_1s",
                 "solver_p99_past_budget_s", "outside_solver_p99_s", "client_delay_p99_s", "rss_before_mb",
                 "rss_after_mb", "engine_alive"]


def m1_3b_stand_in(folder: Path) -> Path:
    """M1-3B's shapes with random bf16 weights, the embedded model's tokenizer and its short-solution settings
    (``training.json``, so the app sizes the engine and strategies as for the embedded model), written once: the
    serving path under load at M1-3B's cost per token. Random weights rarely reach an answer, which is itself a
    test: every such request must come back with a status saying so."""
    import shutil

    import torch

    from benchmarks.checkpoint_load import m1_3b_config
    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.model import write_random_checkpoint

    if not (folder / "config.json").exists():
        write_random_checkpoint(folder, m1_3b_config(), dtype=torch.bfloat16)
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "training.json"):
            shutil.copy(EMBEDDED_MODEL / name, folder / name)
    return folder


def verdict(rows: list[dict], baseline: float) -> dict:
    """Whether the run met the targets, and which it missed."""
    missed = [f"round {r['round']}: {k} = {r[k]}" for r in rows for k in MUST_BE_ZERO if r[k]]
    missed += [f"round {r['round']}: engine dead ({r['alive_detail']})" for r in rows if not r["engine_alive"]]
    missed += [f"round {r['round']}: {r['over_budget_plus_1s']} admitted solves over budget + 1 s"
               for r in rows if r["over_budget_plus_1s"]]
    final = rows[-1]["rss_after_mb"] if rows else baseline
    if final > 1.10 * baseline:
        missed.append(f"RSS {final:.0f} MB after the last round, baseline {baseline:.0f} MB (> +10%)")
    return {"met": not missed, "missed": missed, "rss_baseline_mb": baseline, "rss_final_mb": final}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="bursts, one after another (default 3)")
    parser.add_argument("--requests", type=int, default=300, help="requests per burst, all at once (default 300)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[1.0, 2.0, 3.0],
                        help="budget_s of the solves, drawn at random (default 1 2 3)")
    parser.add_argument("--tenants", type=int, default=50, help="X-Tenant values the clients rotate over")
    parser.add_argument("--grace-s", type=float, default=60.0,
                        help="a request with no response by budget + this is counted lost (default 60)")
    parser.add_argument("--model", default=None, help="checkpoint folder or hub id (default: the embedded model)")
    parser.add_argument("--gpu", action="store_true",
                        help="serve M1-3B shapes with random weights on the GPU (unless --model names one); "
                             "writes the soak-gpu section")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write soak.json and the server log here")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    for name in ("rounds", "requests", "tenants"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    out = args.out or Path("out/soak")
    out.mkdir(parents=True, exist_ok=True)
    label = args.model or "the embedded model"
    if args.gpu and args.model is None:
        args.model, label = str(m1_3b_stand_in(Path("out/m1-3b-random"))), "M1-3B shapes, random bf16 weights"
    port = free_port()
    with serve_app(port, args.model, out / "server.log") as server:
        rows, baseline, outcomes = asyncio.run(soak(args, server, port))
        stopping = time.monotonic()
    shutdown_s = time.monotonic() - stopping
    result = verdict(rows, baseline)
    details = Counter(f"{o.kind} -> {o.outcome}: {o.detail.split(':')[0][:60]}" for o in outcomes)
    env = environment(("torch", "starlette", "uvicorn", "httpx"))
    record = {"bench": "soak", "rounds": rows, **result, "shutdown_s": shutdown_s, "mix": MIX,
              "budgets": args.budgets, "tenants": args.tenants,
              "model": label,
              "outcome_details": dict(details.most_common()), **env}
    table = markdown_table(rows, TABLE_COLUMNS)
    print(table)
    print(json.dumps(record))
    (out / "soak.json").write_text(json.dumps(record, indent=1))
    body = (f"{args.rounds} bursts of {args.requests} requests at once against the example app "
            f"(`examples.tutoring_app.app`, {record['model']}) on 127.0.0.1, clients rotating "
            f"over {args.tenants} tenants; mix {json.dumps(MIX)}; solve budgets {args.budgets} s. Latency is of "
            f"admitted solves, from the request's first byte on the wire to the last byte back; client_delay_p99_s "
            f"is how long this benchmark's one client process took to put a request on the wire. RSS in MB of the "
            f"server process, after the burst drained (the solver trims freed memory a second after going idle)."
            f"\n\n"
            f"{table}\n\nTargets (0 lost/lied/wrong_client/server_error/accepted_bad, p99 <= budget + 1 s, engine "
            f"alive, RSS within 10% of the {baseline:.0f} MB baseline): "
            f"{'met' if result['met'] else 'MISSED: ' + '; '.join(result['missed'])}. "
            f"The server stopped {shutdown_s:.1f} s after SIGTERM.\n\nWhat the responses were (kind -> outcome: "
            f"detail, count): {json.dumps(dict(details.most_common(12)))}\n")
    if not args.no_write:
        write_section("soak-gpu" if args.gpu else "soak", f"Fault and load soak ({'GPU' if args.gpu else 'CPU'})",
                      body, env)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())

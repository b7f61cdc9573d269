"""A small tutoring web app on m1reason.serving: a page where a student types a problem and watches the reasoning
and the answer stream in (server-sent events), and a JSON API. A starting point, not a product: no accounts,
the tenant is the X-Tenant header (else the client address).

    uvicorn examples.tutoring_app.app:app --port 8000        # then open http://127.0.0.1:8000

Routes: GET / (the page; its script, style and the vendored KaTeX under /static/), GET
/api/stream?problem=...&budget_s=...&detail=... (SSE; ``summary.py`` says which events each ``detail`` sends),
POST /api/solve {"problem", "budget_s", "strategy"} -> Solution JSON, POST /api/check {"candidate", "gold"} ->
{"equivalent"}, GET /api/health.

Every refusal is JSON ``{"error", "status"}`` with that HTTP status (in the stream: an ``error`` event carrying
it): 400 bad input, 413 over a limit (``Limits``: checked while the body is read and before anything is
tokenized), 429 busy (with ``retry_after_s`` and a Retry-After header), 503 shutting down, 500 a failure of
ours (logged; its details are not shown).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from examples.tutoring_app.summary import DETAILS, StreamFilter
from m1reason.answers import MAX_ANSWER_CHARS
from m1reason.errors import CapacityError, ConfigError
from m1reason.serving import AsyncSolver, steady_allocator

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("index.html")
STATIC = Path(__file__).with_name("static")
MAX_BUDGET_S = 120.0
STRATEGIES = ("auto", "budget", "sc", "long")
SOLVE_FIELDS = ("problem", "budget_s", "strategy")
STREAM_FIELDS = (*SOLVE_FIELDS, "detail")
CHECK_FIELDS = ("candidate", "gold")
MAX_TENANT_CHARS = 200
ENV = {"max_problem_chars": "M1REASON_MAX_PROBLEM_CHARS", "max_body_bytes": "M1REASON_MAX_BODY_BYTES"}


class Limits(BaseModel):
    """How big a request the app accepts. ``max_body_bytes`` bounds a JSON body (checked against Content-Length
    before reading, then while reading); ``max_problem_chars`` bounds a problem in characters, on every route,
    before it reaches the tokenizer; ``max_budget_s`` bounds ``budget_s``. ``from_env`` reads the first two from
    $M1REASON_MAX_BODY_BYTES and $M1REASON_MAX_PROBLEM_CHARS (docs/deployment.md, "Limits").

    >>> Limits().max_problem_chars, Limits().max_body_bytes
    (8000, 65536)
    >>> Limits.from_env({"M1REASON_MAX_PROBLEM_CHARS": "2000"}).max_problem_chars
    2000
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(65_536, gt=0)
    max_problem_chars: int = Field(8_000, gt=0)
    max_budget_s: float = Field(MAX_BUDGET_S, gt=0, allow_inf_nan=False)

    @classmethod
    def from_env(cls, environ=None) -> Limits:
        """The defaults, with what the environment (``os.environ`` unless given) sets; ConfigError names a bad
        variable."""
        environ = os.environ if environ is None else environ
        values = {}
        for field, variable in ENV.items():
            raw = environ.get(variable)
            if raw is None:
                continue
            if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) <= 0:
                raise ConfigError(f"${variable} must be a whole number > 0, got {raw!r}")
            values[field] = int(raw)
        return cls(**values)


class _Refusal(Exception):
    """A request answered with an error ``status`` and a ``message`` written for the client."""

    def __init__(self, status: int, message: str, *, retry_after_s: float | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after_s = status, message, retry_after_s

    def body(self) -> dict:
        extra = {} if self.retry_after_s is None else {"retry_after_s": self.retry_after_s}
        return {"error": self.message, "status": self.status, **extra}


def create_app(solver_factory=None, *, limits: Limits | None = None) -> Starlette:
    """The app; ``solver_factory()`` makes its AsyncSolver at startup (default: the model in $M1REASON_MODEL or
    the embedded one, 4 running and 8 waiting requests per tenant, 30 starts a minute per tenant); ``limits``
    default to ``Limits.from_env()``."""
    solver_factory = solver_factory or (lambda: AsyncSolver(
        max_queue=int(os.environ.get("M1REASON_MAX_QUEUE", "512")),
        max_active=int(os.environ.get("M1REASON_MAX_ACTIVE", "256")), tenant_rate=30, tenant_period_s=60.0,
        tenant_concurrency=4, tenant_queue=8))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        steady_allocator()  # before the solver's threads start: memory a burst freed can go back to the OS
        app.state.solver = solver_factory()
        await app.state.solver.start()
        yield
        app.state.closing = True  # refusals from here on say "shutting down" (503), not "too large"
        await app.state.solver.aclose(grace_s=10.0)

    app = Starlette(lifespan=lifespan, routes=[
        Route("/", page), Route("/api/stream", stream), Route("/api/solve", solve, methods=["POST"]),
        Route("/api/check", check, methods=["POST"]), Route("/api/health", health),
        Mount("/static", StaticFiles(directory=STATIC), name="static")],
        exception_handlers={_Refusal: _refused, HTTPException: _http_error, Exception: _server_error})
    app.state.limits = limits or Limits.from_env()
    app.state.closing = False
    return app


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE.read_text())


async def solve(request: Request) -> JSONResponse:
    limits = request.app.state.limits
    problem, budget_s, strategy = _arguments(await _json_object(request, SOLVE_FIELDS), limits)
    tenant = _tenant(request)
    try:
        solution = await request.app.state.solver.solve(problem, budget_s=budget_s, strategy=strategy,
                                                        tenant=tenant)
    except Exception as err:
        raise _solver_refusal(err, request.app.state) from None
    return JSONResponse(solution.model_dump(mode="json"))


async def stream(request: Request):
    limits, state = request.app.state.limits, request.app.state
    values = _query_values(request, STREAM_FIELDS)
    problem, budget_s, strategy = _arguments(values, limits)
    detail = values.get("detail", "summary")
    if detail not in DETAILS:
        raise _Refusal(400, f"detail must be one of {', '.join(DETAILS)}")
    solver, tenant, sent = state.solver, _tenant(request), StreamFilter(detail)

    async def events():
        # A client that goes away cancels this generator; its finally (in AsyncSolver.stream) cancels the samples.
        async with contextlib.aclosing(solver.stream(problem, budget_s=budget_s, strategy=strategy,
                                                     tenant=tenant)) as updates:
            try:
                async for update in updates:
                    for kind, data in sent.feed(update):
                        yield _event(kind, data)
            except Exception as err:  # the headers are sent: the status travels in the event
                yield _event("error", json.dumps(_solver_refusal(err, state).body()))

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def check(request: Request) -> JSONResponse:
    values = await _json_object(request, CHECK_FIELDS)
    candidate, gold = (_text(values.get(name), name, MAX_ANSWER_CHARS) for name in CHECK_FIELDS)
    return JSONResponse({"equivalent": await request.app.state.solver.check(candidate, gold)})


async def health(request: Request) -> JSONResponse:
    """200 while the solver serves, 503 once its engine has failed or it is shutting down: an orchestrator that
    reads only the status code restarts the process."""
    stats = {"ok": True, **request.app.state.solver.stats()}
    return JSONResponse({**stats, "limits": request.app.state.limits.model_dump()},
                        status_code=200 if stats["ok"] else 503)


# ---- reading and checking what a client sent ------------------------------------------------------------------
async def _json_object(request: Request, fields: tuple[str, ...]) -> dict:
    """The body as a JSON object with only ``fields``; a refusal for anything else, before the whole of an
    oversize body is read."""
    body = await _body(request, request.app.state.limits.max_body_bytes)
    try:
        values = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Refusal(400, "the body must be UTF-8 text") from None
    except RecursionError:
        raise _Refusal(400, "the body's JSON is nested too deeply") from None
    except json.JSONDecodeError as err:
        raise _Refusal(400, f"the body is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") \
            from None
    except ValueError:  # e.g. an integer of thousands of digits
        raise _Refusal(400, "the body is not valid JSON") from None
    if not isinstance(values, dict):
        raise _Refusal(400, f"the body must be a JSON object with {', '.join(fields)}")
    _check_fields(list(values), fields)
    return values


async def _body(request: Request, limit: int) -> bytes:
    too_large = _Refusal(413, f"the request body is over the limit of {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise _Refusal(400, "Content-Length must be a whole number of bytes")
        if len(declared) > 18 or int(declared) > limit:
            raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():  # chunked bodies declare no length: count as they come
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _query_values(request: Request, fields: tuple[str, ...]) -> dict:
    params = request.query_params
    _check_fields(list(params), fields)
    for name in fields:
        if len(params.getlist(name)) > 1:
            raise _Refusal(400, f"{name} is given more than once")
    values = dict(params)
    if "budget_s" in values:  # a query string carries text: read it as a number, or leave it to be refused
        with contextlib.suppress(ValueError):
            values["budget_s"] = float(values["budget_s"])
    return values


def _check_fields(names: list, fields: tuple[str, ...]) -> None:
    unknown = [name for name in names if name not in fields]
    if unknown:
        shown = ", ".join(_shown(name) for name in unknown[:3])
        raise _Refusal(400, f"unknown field {shown} (expected {', '.join(fields)})")


def _arguments(values: dict, limits: Limits) -> tuple[str, float, str]:
    problem = _text(values.get("problem"), "problem", limits.max_problem_chars)
    if not problem.strip():
        raise _Refusal(400, "problem must be a non-empty string")
    budget_s = values.get("budget_s", 30.0)
    if isinstance(budget_s, bool) or not isinstance(budget_s, int | float) or not 0 < budget_s <= limits.max_budget_s:
        raise _Refusal(400, f"budget_s must be a number of seconds > 0 and <= {limits.max_budget_s:g}")
    strategy = values.get("strategy", "auto")
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise _Refusal(400, f"strategy must be one of {', '.join(STRATEGIES)}")
    return problem, float(budget_s), strategy


def _text(value, name: str, limit: int) -> str:
    """``value`` if it is a string of at most ``limit`` characters that UTF-8 can encode, else a refusal."""
    if not isinstance(value, str):
        raise _Refusal(400, f"{name} must be a string" + (" (it is missing)" if value is None else ""))
    if len(value) > limit:
        raise _Refusal(413, f"{name} is {len(value)} characters, over the limit of {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # JSON's "\ud800" escapes decode to lone surrogates, which no encoder takes
        raise _Refusal(400, f"{name} holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    return value


def _tenant(request: Request) -> str:
    tenant = request.headers.get("x-tenant")
    if tenant and len(tenant) > MAX_TENANT_CHARS:
        raise _Refusal(400, f"X-Tenant must be at most {MAX_TENANT_CHARS} characters")
    return tenant or (request.client.host if request.client else "anonymous")


def _shown(name: str) -> str:
    """A client's field name, quoted, cut short and made safe to put in a message."""
    return json.dumps(name[:40] + ("..." if len(name) > 40 else ""))


# ---- answering with errors ---------------------------------------------------------------------------------------
def _solver_refusal(err: Exception, state) -> _Refusal:
    """What to tell the client when the solver raised ``err``: a retry only when waiting helps."""
    if isinstance(err, CapacityError):
        if err.retry_after_s is not None:
            return _Refusal(429, str(err), retry_after_s=err.retry_after_s)
        return _Refusal(503 if state.closing else 413, str(err))
    if isinstance(err, ValueError) and not isinstance(err, ValidationError):  # BudgetError, a bad prompt
        return _Refusal(400, str(err)[:300])
    log.error("a request failed inside the solver", exc_info=err)
    return _Refusal(500, "the server failed to solve this problem (the error is in its log)")


def _event(kind: str, data: str) -> str:
    return f"event: {kind}\ndata: {data}\n\n"


async def _refused(request: Request, refusal: _Refusal) -> Response:
    headers = {}
    if refusal.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(refusal.retry_after_s)))
    # ensure_ascii: a message quoting client text stays valid, whatever that text held
    return Response(json.dumps(refusal.body()), status_code=refusal.status, headers=headers,
                    media_type="application/json")


async def _http_error(request: Request, err: HTTPException) -> Response:
    response = await _refused(request, _Refusal(err.status_code, str(err.detail)))
    response.headers.update(err.headers or {})
    return response


async def _server_error(request: Request, err: Exception) -> Response:
    return await _refused(request, _Refusal(500, "the server failed on this request (the error is in its log)"))


app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))

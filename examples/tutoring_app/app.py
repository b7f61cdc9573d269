"""A small tutoring web app on m1reason.serving: a page where a student types a problem and watches the reasoning
and the answer stream in (server-sent events), and a JSON API. A starting point, not a product: no accounts,
the tenant is the X-Tenant header (else the client address).

    uvicorn examples.tutoring_app.app:app --port 8000        # then open http://127.0.0.1:8000

Routes: GET / (the page), GET /api/stream?problem=...&budget_s=... (SSE: started, text, sample, progress,
solution, error), POST /api/solve {"problem", "budget_s", "strategy"} -> Solution JSON, POST /api/check
{"candidate", "gold"} -> {"equivalent"}, GET /api/health. A full queue answers 429 with Retry-After.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Route

from m1reason.errors import BudgetError, CapacityError
from m1reason.serving import AsyncSolver

PAGE = Path(__file__).with_name("index.html")
MAX_BUDGET_S = 120.0


def create_app(solver_factory=None) -> Starlette:
    """The app; ``solver_factory()`` makes its AsyncSolver at startup (default: the model in $M1REASON_MODEL or
    the embedded one, 4 running and 8 waiting requests per tenant, 30 starts a minute per tenant)."""
    solver_factory = solver_factory or (lambda: AsyncSolver(
        max_queue=int(os.environ.get("M1REASON_MAX_QUEUE", "512")), tenant_rate=30, tenant_period_s=60.0,
        tenant_concurrency=4, tenant_queue=8))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.solver = solver_factory()
        await app.state.solver.start()
        yield
        await app.state.solver.aclose(grace_s=10.0)

    return Starlette(lifespan=lifespan, routes=[
        Route("/", page), Route("/api/stream", stream), Route("/api/solve", solve, methods=["POST"]),
        Route("/api/check", check, methods=["POST"]), Route("/api/health", health)])


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE.read_text())


async def solve(request: Request) -> JSONResponse:
    try:
        body = await request.json()
        problem, budget_s, strategy = _arguments(body)
    except (ValueError, TypeError, AttributeError) as err:
        return _error(400, f"bad request: {err}")
    try:
        solution = await request.app.state.solver.solve(problem, budget_s=budget_s, strategy=strategy,
                                                        tenant=_tenant(request))
    except CapacityError as err:
        return _busy(err)
    except (ValueError, BudgetError, ValidationError) as err:
        return _error(400, str(err))
    return JSONResponse(solution.model_dump(mode="json"))


async def stream(request: Request):
    try:
        problem, budget_s, strategy = _arguments(dict(request.query_params))
    except (ValueError, TypeError) as err:
        return _error(400, f"bad request: {err}")
    solver, tenant = request.app.state.solver, _tenant(request)

    async def events():
        # A client that goes away cancels this generator; its finally (in AsyncSolver.stream) cancels the samples.
        async with contextlib.aclosing(solver.stream(problem, budget_s=budget_s, strategy=strategy,
                                                     tenant=tenant)) as updates:
            try:
                async for update in updates:
                    kind = getattr(update, "kind", "solution")
                    yield f"event: {kind}\ndata: {update.model_dump_json()}\n\n"
            except CapacityError as err:
                yield f"event: error\ndata: {json.dumps({'error': str(err), 'retry_after_s': err.retry_after_s})}\n\n"
            except (ValueError, BudgetError) as err:
                yield f"event: error\ndata: {json.dumps({'error': str(err)})}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def check(request: Request) -> JSONResponse:
    try:
        body = await request.json()
        candidate, gold = str(body["candidate"]), str(body["gold"])
    except (ValueError, KeyError, TypeError) as err:
        return _error(400, f"bad request: need candidate and gold ({err})")
    return JSONResponse({"equivalent": await request.app.state.solver.check(candidate, gold)})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, **request.app.state.solver.stats()})


def _arguments(values: dict) -> tuple[str, float, str]:
    problem = values.get("problem")
    if not isinstance(problem, str) or not problem.strip():
        raise ValueError("problem must be a non-empty string")
    budget_s = float(values.get("budget_s", 30.0))
    if not 0 < budget_s <= MAX_BUDGET_S or math.isnan(budget_s):
        raise ValueError(f"budget_s must be in (0, {MAX_BUDGET_S}]")
    strategy = str(values.get("strategy", "auto"))
    if strategy not in ("auto", "budget", "sc", "long"):
        raise ValueError("strategy must be auto, budget, sc or long")
    return problem, budget_s, strategy


def _tenant(request: Request) -> str:
    return request.headers.get("x-tenant") or (request.client.host if request.client else "anonymous")


def _busy(err: CapacityError) -> JSONResponse:
    headers = {"Retry-After": str(math.ceil(err.retry_after_s))} if err.retry_after_s else {}
    return JSONResponse({"error": str(err), "retry_after_s": err.retry_after_s}, status_code=429, headers=headers)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))

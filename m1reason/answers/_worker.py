"""The sympy / math-verify worker process: run as a script, one JSON request per line on stdin.

It is a separate process because sympy can run away in C code (huge powers, factorials) where no
timeout reaches: the parent kills it on overrun. It imports nothing from m1reason (a plain script, so a
spawn costs sympy's import only), caps its own memory, and installs no signal handler (math-verify's timeouts
are disabled). Requests: {"op": "value"|"verify"|"ping", "args": [...]}; replies: {"ok": bool, "result": ...}.
Its one argument is the "lifeline" pipe's read end: EOF there means the parent is gone, and it exits.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading

# Run as a script, this folder is sys.path[0]; drop it so our private module names shadow nothing.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

MEMORY_HEADROOM = 1536 * 2**20
DPS = 60


def _limit_memory() -> None:
    """Cap the address space a little above what the imports use: a runaway allocation fails here."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            vsize = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = vsize + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, ImportError):
        logging.getLogger(__name__).debug("no memory cap in the answer worker", exc_info=True)


def _die_with_parent(lifeline: int) -> None:
    """Exit when the parent closes the lifeline or dies (by SIGKILL too), even in the middle of a runaway check.

    Where the kernel supports it (Linux), the lifeline gets O_ASYNC: its EOF sends SIGIO, whose default action
    ends this process with no Python code to run, so it works while sympy holds the interpreter lock in C code.
    Everywhere, a thread also waits for that EOF and exits (it needs the lock, so it may come later).
    """
    try:
        import fcntl
        import signal

        signal.signal(signal.SIGIO, signal.SIG_DFL)  # in case the parent ignored it: dispositions are inherited
        fcntl.fcntl(lifeline, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(lifeline, fcntl.F_SETFL, fcntl.fcntl(lifeline, fcntl.F_GETFL) | os.O_ASYNC)
    except (ImportError, AttributeError, OSError):
        logging.getLogger(__name__).debug("no SIGIO on the lifeline; the watching thread alone", exc_info=True)
    threading.Thread(target=_exit_at_eof, args=(lifeline,), name="lifeline", daemon=True).start()


def _exit_at_eof(fd: int) -> None:
    # Nothing is ever written to the lifeline: read returns only at EOF (or on an error, equally final).
    try:
        while os.read(fd, 1):
            pass
    finally:
        os._exit(0)


def _parse_latex(latex: str):
    from latex2sympy2_extended import latex2sympy
    from math_verify.grader import should_treat_as_complex

    return latex2sympy(latex, is_real=not should_treat_as_complex(latex), convert_degrees=False)


def value(latex: str):
    """A constant's value: {"rational": "p/q"} or {"re": str, "im": str} at 60 digits; None otherwise."""
    import sympy

    expr = _parse_latex(latex)
    if not isinstance(expr, sympy.Expr) or expr.free_symbols or isinstance(expr, sympy.Set):
        return None
    expr = expr.doit()
    if isinstance(expr, sympy.Rational):
        return {"rational": f"{expr.p}/{expr.q}"}
    v = sympy.N(expr, DPS)
    re, im = v.as_real_imag()
    if not (re.is_Number and im.is_Number) or re in (sympy.nan, sympy.zoo) or im in (sympy.nan, sympy.zoo):
        return None
    return {"re": str(re), "im": str(im)}


def verify(candidate: str, gold: str) -> bool:
    """math-verify on two LaTeX answers, latex extraction only (its expr parser runs parse_expr)."""
    from math_verify import LatexExtractionConfig, parse
    from math_verify import verify as mv_verify

    config = [LatexExtractionConfig(boxed_match_priority=0)]
    gold_parsed = parse(f"${gold}$", extraction_config=config, parsing_timeout=None)
    cand_parsed = parse(f"${candidate}$", extraction_config=config, parsing_timeout=None)
    if not gold_parsed or not cand_parsed:
        return False
    return bool(mv_verify(gold_parsed, cand_parsed, timeout_seconds=None))


def main() -> None:
    if len(sys.argv) > 1:
        _die_with_parent(int(sys.argv[1]))
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    # Anything a library prints must not corrupt the reply stream.
    sys.stdout = sys.stderr
    logging.disable(logging.CRITICAL)
    import math_verify  # noqa: F401  (import cost paid before "ready")
    import sympy  # noqa: F401

    _parse_latex("1+1")
    _limit_memory()
    ops = {"value": value, "verify": verify, "ping": lambda: "pong"}
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            reply = {"ok": True, "result": ops[req["op"]](*req.get("args", []))}
        except Exception as e:  # includes RecursionError and MemoryError from hostile input
            reply = {"ok": False, "error": type(e).__name__}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

"""``python -m m1reason``: the command line.

No subcommand opens the REPL. ``solve "problem"`` answers one problem; ``eval DATA.jsonl`` grades a strategy on
a dataset (resumable); ``bench`` measures decode speed; ``demo`` loads the embedded tiny M1, checks its decoding
and solves a few held-out problems; ``info`` prints versions, device and kernel backends. Bad input gets one line
on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from pydantic import ValidationError

from m1reason.errors import BudgetError, M1Error

__all__ = ["build_parser", "main"]


def _info(_args) -> int:
    import platform

    import torch

    from m1reason import __version__
    from m1reason.kernels import backends

    report = {
        "m1reason": __version__, "python": platform.python_version(), "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "kernels": backends(),
    }
    print(json.dumps(report, indent=2))
    return 0


def _demo(args) -> int:
    """The embedded tiny M1: load it, check step-by-step decoding against the parallel forward, then solve a few
    held-out problems with the default strategy. Exit code 1 if decoding disagrees with the forward."""
    import torch

    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.model import DenseCache, load_model
    from m1reason.solving import solve
    from m1reason.tokenizer import build_prompt, load_tokenizer
    from m1reason.train.data import heldout_problems

    if not (EMBEDDED_MODEL / "config.json").exists():
        print(f"{EMBEDDED_MODEL} is missing (a stripped install?): nothing to demo", file=sys.stderr)
        return 1
    started = time.perf_counter()
    model = load_model(EMBEDDED_MODEL, device=args.device)
    tokenizer = load_tokenizer(EMBEDDED_MODEL)
    load_s = time.perf_counter() - started
    config = model.config
    print(f"embedded tiny M1: {config.num_layers} layers (attention at {list(config.attn_layers)}, Mamba at "
          f"{list(config.mamba_layers)}), {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"loaded with its tokenizer in {load_s * 1e3:.0f} ms on {model.device}")

    prompt = tokenizer(build_prompt("What is 48 + 27?", tokenizer), add_special_tokens=False)["input_ids"]
    tokens = torch.tensor([prompt], device=model.device)
    cache = DenseCache(config, slots=1, max_len=len(prompt) + args.tokens, device=model.device)
    started = time.perf_counter()
    with torch.no_grad():
        logits = model.prefill(tokens, cache)
        for _ in range(args.tokens):
            next_token = logits.argmax(-1)
            tokens = torch.cat([tokens, next_token[:, None]], dim=1)
            logits = model.step(next_token, cache)
        decode_s = time.perf_counter() - started
        full = model(tokens)[:, len(prompt) - 1:-1].argmax(-1)
    agree = bool((full == tokens[:, len(prompt):]).all())
    print(f"greedy decode of {args.tokens} tokens at {args.tokens / decode_s:.0f} tok/s; step-by-step tokens equal "
          f"the parallel forward's argmax: {agree}")
    generated = tokens[0, len(prompt):].tolist()
    shown = generated[:generated.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in generated else generated
    print(f"  {tokenizer.decode(shown, skip_special_tokens=True)!r}")

    print(f"solve(problem, budget_s={args.budget_s:g}) on {args.problems} held-out problems (the model never saw "
          "them in training):")
    for problem in heldout_problems(args.problems, kind="arithmetic"):
        solution = solve(problem.problem, budget_s=args.budget_s)
        mark = "right" if solution.answer == problem.answer else f"wrong (expected {problem.answer})"
        print(f"  {problem.problem:28s} -> {solution.answer!s:6s} {mark}; {solution.plan.n} samples, vote share "
              f"{solution.vote_share or 0:.0%}, confidence {solution.confidence:.0%}, "
              f"{solution.timings['total_s']:.2f} s")
    return 0 if agree else 1


def _solve(args) -> int:
    from m1reason.solving import solve

    solution = solve(args.problem, budget_s=args.budget_s, strategy=_strategy_arg(args), model=args.model)
    if args.json:
        print(solution.model_dump_json(indent=2))
    elif solution.status == "out_of_scope":  # nothing ran: no vote, no plan to show
        print(solution.headline)
        print("no samples drawn: a model asked outside its training answers anyway, and is wrong; name another "
              "model with --model")
    else:
        print(solution.headline)
        print(f"vote share {solution.vote_share or 0:.0%} over {sum(s.counted for s in solution.samples)} samples; "
              f"{solution.timings['total_s']:.1f} s, stopped: {solution.stopped}")
        if solution.confidence_basis:
            print(f"confidence {solution.confidence:.0%}: {solution.confidence_basis}")
        print(f"plan ({solution.plan.strategy}): {solution.plan.reason}")
    return 0


def _eval(args) -> int:
    from pathlib import Path

    from m1reason.defaults import default_generator
    from m1reason.evaluation import _solver, load_dataset, plot_accuracy, run_eval, summarize

    rows = load_dataset(args.data, limit=args.limit)
    budgets = args.budget_s or [None]
    out = Path(args.out or Path(args.data).with_suffix("").name + ".results.jsonl")
    # --- begin scale-out change (issue 9): --ray hands the job to m1reason.distributed; --seed seeds per problem id
    if args.ray is not None:
        from m1reason.distributed import run_eval_ray

        records = run_eval_ray(rows, out, budgets=budgets, strategy=_strategy_arg(args), model=args.model,
                               seed=args.seed, workers=args.ray_workers, address=args.ray or None)
    else:
        records = run_eval(rows, _solver(_strategy_arg(args), default_generator(args.model)), out, budgets=budgets,
                           seed=args.seed)
    # --- end scale-out change
    records = [r for r in records if r["id"] in {row["id"] for row in rows}]
    table = summarize(records, k=args.k)
    print(f"{'budget_s':>9} {'problems':>8} {'accuracy':>8} {'pass@1':>7} {'maj@k':>10} {'mean_s':>7} "
          f"{'acc/s':>7} {'tok/s':>8}")
    for row in table:
        k = row["k"]
        print(f"{row['budget_s'] or '-':>9} {row['problems']:>8} {row['accuracy']:>8.3f} {row['pass@1']:>7.3f} "
              f"{'maj@' + str(k) + ' ' + format(row[f'maj@{k}'], '.3f'):>10} {row['mean_s']:>7.2f} "
              f"{row['accuracy_per_s']:>7.3f} {row['tokens_per_s']:>8.0f}")
    _print_failures([r for r in records if r.get("status") == "failed"], len(records), out)
    _print_out_of_scope([r for r in records if r.get("solution_status") == "out_of_scope"], len(records))
    print(f"records: {out}")
    if args.plot:
        sizes = [len(r["samples_correct"]) for r in records if r.get("status") != "failed"]
        model = args.model or os.environ.get("M1REASON_MODEL") or "the embedded model"
        path = plot_accuracy(table, Path(args.plot), model=model, strategy=args.strategy,
                             samples=sum(sizes) / len(sizes) if sizes else None)
        print(f"plot: {path}")
    return 0


def _print_failures(failed: list[dict], total: int, out, shown: int = 5) -> None:
    """Which records could not run and why: a few in full, then how to find the rest."""
    if not failed:
        return
    print(f"failed: {len(failed)} of {total} records could not run (counted as wrong):")
    for record in failed[:shown]:
        budget = "" if record["budget_s"] is None else f" (budget {record['budget_s']:g} s)"
        print(f"  {record['id']}{budget}: {record.get('error')}")
    if len(failed) > shown:
        print(f'  ... and {len(failed) - shown} more: the records with "status": "failed" in {out}')


def _print_out_of_scope(refused: list[dict], total: int, shown: int = 5) -> None:
    """Which problems the model's scope refused (no samples drawn, counted as wrong) and why: a few in full."""
    if not refused:
        return
    print(f"out of scope: {len(refused)} of {total} records, no samples drawn (counted as wrong):")
    for record in refused[:shown]:
        print(f"  {record['id']}: {record.get('status_reason')}")
    if len(refused) > shown:
        print(f'  ... and {len(refused) - shown} more: the records with "solution_status": "out_of_scope"')


def _bench(args) -> int:
    import platform

    import torch

    from m1reason import GenerationRequest, SamplingParams, __version__
    from m1reason.defaults import default_generator

    generator = default_generator(args.model, device=args.device)
    weight_bytes = sum(p.numel() * p.element_size() for p in generator.model.parameters())
    records = []
    for batch in args.batch:
        params = SamplingParams(n=batch, temperature=0.7, seed=0, max_new_tokens=args.tokens, ignore_eos=True)
        request = GenerationRequest(prompt_token_ids=[1] * args.prompt, sampling=params)
        started = time.perf_counter()
        generator.generate([request])
        seconds = time.perf_counter() - started
        step_s = seconds / args.tokens
        records.append({"batch": batch, "prompt": args.prompt, "tokens": args.tokens, "tokens_per_s": batch *
                        args.tokens / seconds, "ms_per_step": step_s * 1e3, "weights_gb_per_s": weight_bytes / step_s
                        / 1e9, "device": str(generator.model.device), "dtype": str(generator.model.dtype),
                        "model": generator.source.get("model_id"), "torch": torch.__version__,
                        "m1reason": __version__, "python": platform.python_version()})
        print(json.dumps(records[-1]))
    print(f"{'batch':>6} {'tok/s':>9} {'ms/step':>8} {'weights GB/s':>13}  (prefill included; GB/s: weights only)")
    for r in records:
        print(f"{r['batch']:>6} {r['tokens_per_s']:>9.0f} {r['ms_per_step']:>8.2f} {r['weights_gb_per_s']:>13.2f}")
    return 0


def _repl(args) -> int:
    from m1reason.repl import Repl

    return Repl(budget_s=args.budget_s, strategy=args.strategy, model=args.model, live=sys.stdout.isatty(),
                stream=not args.no_stream).run()


def _strategy_arg(args):
    """A name, or (with --n, --strict or --lenient) a strategy object with those settings."""
    from m1reason.solving import make_strategy

    strategy = make_strategy(args.strategy, args.budget_s if not isinstance(args.budget_s, list) else args.budget_s[0])
    changes = {"n": args.n} if getattr(args, "n", None) is not None else {}
    for mode in ("strict", "lenient"):
        if getattr(args, mode, False):
            changes[mode] = True
    return strategy.model_validate({**strategy.model_dump(), **changes}) if changes else args.strategy


def _positive(value: str) -> float:
    """A --budget-s value: seconds, checked by the validator solve and AsyncSolver use (same message)."""
    from m1reason.checks import check_budget

    try:
        number = float(value)
    except ValueError:
        number = value  # not a number: the check says so
    try:
        check_budget(number)
    except BudgetError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return number


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return number


def _budgets(value: str) -> list[float]:
    return [_positive(v) for v in value.split(",")]


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser; ``-v`` is taken before or after the subcommand.

    >>> build_parser().parse_args(["solve", "1+1?", "-v"]).verbose
    True
    """
    from m1reason import __version__

    # -v on every parser; SUPPRESS keeps a subcommand's unset -v from overwriting one given before it
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="log what the library does (on stderr)")
    parser = argparse.ArgumentParser(prog="m1reason", description=__doc__.splitlines()[0], parents=[verbose])
    parser.add_argument("--version", action="version", version=f"m1reason {__version__}")
    parser.add_argument("--model", default=None, help="hub id or folder (default: $M1REASON_MODEL, else embedded)")
    parser.add_argument("--budget-s", type=_positive, default=30.0, help="seconds per problem (REPL; default 30)")
    parser.add_argument("--strategy", default="auto", help="auto, budget, sc or long (REPL; default auto)")
    parser.add_argument("--no-stream", action="store_true",
                        help="REPL: do not print the leading sample's reasoning as it is written")
    parser.set_defaults(run=_repl)
    sub = parser.add_subparsers(dest="command", metavar="{info,demo,solve,eval,bench}")
    sub.add_parser("info", parents=[verbose], help="versions, device and kernel backends").set_defaults(run=_info)
    demo = sub.add_parser("demo", parents=[verbose],
                          help="the embedded tiny M1: load, check decoding, solve held-out problems")
    demo.add_argument("--tokens", type=_count, default=32, help="greedy tokens to decode in the check (default 32)")
    demo.add_argument("--problems", type=_count, default=5, help="held-out problems to solve (default 5)")
    demo.add_argument("--budget-s", type=_positive, default=2.0, help="seconds per problem (default 2)")
    demo.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    demo.set_defaults(run=_demo)
    solve = sub.add_parser("solve", parents=[verbose], help="answer one problem")
    solve.add_argument("problem", help="the problem, quoted")
    solve.add_argument("--budget-s", type=_positive, default=30.0, help="seconds for this problem (default 30)")
    solve.add_argument("--strategy", default="auto", help="auto, budget, sc or long (default auto)")
    solve.add_argument("--n", type=int, default=None,
                       help="samples to draw (budget: at most this many; default: the strategy's own)")
    solve.add_argument("--model", default=None, help="hub id or folder (default: $M1REASON_MODEL, else embedded)")
    solve.add_argument("--json", action="store_true", help="print the whole Solution as JSON")
    solve.set_defaults(run=_solve)
    evaluate = sub.add_parser("eval", parents=[verbose],
                              help="grade a strategy on a JSONL dataset (fields id, problem, answer)")
    evaluate.add_argument("data", help="JSONL file, one problem a line: id, problem, answer")
    evaluate.add_argument("--budget-s", type=_budgets, default=None,
                          help="seconds per problem; '5,10,30' sweeps (default: no budget)")
    evaluate.add_argument("--strategy", default="auto", help="auto, budget, sc or long (default auto)")
    evaluate.add_argument("--n", type=int, default=None,
                          help="samples per problem (budget: at most this many; default: the strategy's own)")
    evaluate.add_argument("--k", type=_count, default=None, help="k of maj@k (default: fewest samples voted)")
    evaluate.add_argument("--limit", type=_count, default=None, help="only the first LIMIT problems")
    evaluate.add_argument("--model", default=None,
                          help="hub id or folder (default: $M1REASON_MODEL, else embedded)")
    evaluate.add_argument("--out", default=None, help="records JSONL (resumes: problems in it, failed ones "
                          "included, are skipped; one eval at a time may write it)")
    evaluate.add_argument("--plot", default=None,
                          help="write accuracy vs budget, with 95%% intervals and a table, to this PNG")
    extraction = evaluate.add_mutually_exclusive_group()
    extraction.add_argument("--strict", action="store_true", help="grade as M1's grader: no </think>, no answer")
    extraction.add_argument("--lenient", action="store_true",
                            help="with neither a box nor an answer phrase, take a sample's last mathematical "
                                 "statement (docs/answers.md, lenient mode)")
    # --- begin scale-out change (issue 9)
    evaluate.add_argument("--seed", type=int, default=None, help="seed each problem's samples from its id and this")
    evaluate.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                          help="split the dataset over Ray actors (no ADDRESS: a local cluster or $RAY_ADDRESS)")
    evaluate.add_argument("--ray-workers", type=_count, default=None,
                          help="Ray workers (default: one per GPU, else CPU)")
    # --- end scale-out change
    evaluate.set_defaults(run=_eval)
    bench = sub.add_parser("bench", parents=[verbose],
                           help="decode speed per batch size, as JSON records and a table")
    bench.add_argument("--model", default=None, help="hub id or folder (default: $M1REASON_MODEL, else embedded)")
    bench.add_argument("--batch", type=lambda v: [int(b) for b in v.split(",")], default=[1, 4, 16],
                       help="batch sizes, comma-separated (default 1,4,16)")
    bench.add_argument("--tokens", type=_count, default=64, help="tokens decoded per batch (default 64)")
    bench.add_argument("--prompt", type=_count, default=32, help="prompt length in tokens (default 32)")
    bench.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    bench.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m m1reason`` and the ``m1reason`` script.

    >>> main(["info"])  # doctest: +ELLIPSIS
    {
      "m1reason": ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "strategy"):
        from m1reason.solving import make_strategy

        try:
            make_strategy(args.strategy, None)  # before any model loads
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(name)s: %(message)s")
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return code
    except BrokenPipeError:
        # The reader left (``m1reason info | head -4``): point stdout at devnull so the interpreter's final flush
        # does not fail again, and exit as a process killed by SIGPIPE would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (M1Error, ValueError, ValidationError) as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2


def _one_line(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in err.errors())
    return str(err)


if __name__ == "__main__":
    sys.exit(main())

"""``python -m m1reason``: the command line.

Subcommands so far: ``demo`` (an end-to-end run on a tiny random M1-layout checkpoint it writes itself)
and ``info`` (versions, device, kernel backends). solve/eval/bench and the REPL arrive with their issues.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time

__all__ = ["main"]


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
    """Write a tiny random checkpoint in the M1-3B layout, load it, decode greedily, check against forward."""
    import torch

    from m1reason.model import DenseCache, ModelConfig, load_model, write_random_checkpoint

    config = ModelConfig.tiny(num_layers=6, attn_layers=(2, 5), vocab_size=512)
    with tempfile.TemporaryDirectory() as folder:
        write_random_checkpoint(folder, config, dtype=torch.float32, shards=2, seed=args.seed)
        started = time.perf_counter()
        model = load_model(folder, device=args.device)
        load_s = time.perf_counter() - started
    prompt = torch.randint(0, config.vocab_size, (1, 16), generator=torch.Generator().manual_seed(args.seed))
    cache = DenseCache(config, slots=1, max_len=16 + args.tokens, device=model.device)
    tokens = prompt.to(model.device)
    started = time.perf_counter()
    with torch.no_grad():
        logits = model.prefill(tokens, cache)
        for _ in range(args.tokens):
            next_token = logits.argmax(-1)
            tokens = torch.cat([tokens, next_token[:, None]], dim=1)
            logits = model.step(next_token, cache)
        decode_s = time.perf_counter() - started
        full = model(tokens)[:, 16 - 1:-1].argmax(-1)
    agree = bool((full == tokens[:, 16:]).all())
    print(f"tiny random M1-layout model: {config.num_layers} layers (attention at {list(config.attn_layers)}), "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, loaded in {load_s * 1e3:.0f} ms on {model.device}")
    print(f"greedy decode of {args.tokens} tokens: {args.tokens / decode_s:.0f} tok/s; "
          f"step-by-step tokens equal the parallel forward's argmax: {agree}")
    print("(random weights: the tokens are meaningless; the trained embedded model comes with its issue)")
    return 0 if agree else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m m1reason`` and the ``m1reason`` script.

    >>> main(["info"])  # doctest: +ELLIPSIS
    {
      "m1reason": ...
    0
    """
    parser = argparse.ArgumentParser(prog="m1reason", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, device and kernel backends").set_defaults(run=_info)
    demo = sub.add_parser("demo", help="load a tiny random M1-layout checkpoint and decode with it")
    demo.add_argument("--tokens", type=int, default=32)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

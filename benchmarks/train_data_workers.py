"""Training speed with the data made inline versus in worker processes (m1reason.train.batches).

Trains the recipe's teacher (its shape, batch and learning rate) from scratch for ``--steps`` steps twice, in
fresh folders: once with the batches made in the training process, once with them made ahead by worker
processes. Reports milliseconds per step (after ``--skip`` warm-up steps, from the loop's own step times) and
whether both runs ended with identical weights (deterministic kernels: the batches, and so the weights, must not
depend on who made them). Writes the "train_data_workers" section of BENCHMARKS.md.

    python -m benchmarks.train_data_workers --device cuda        # about a minute on one GPU
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from benchmarks.report import environment, markdown_table, write_section


def train(folder: Path, *, device: str, steps: int, workers: int, skip: int) -> tuple[float, dict]:
    """Train the teacher stage into ``folder``; (ms per step after ``skip`` steps, final state dict)."""
    from m1reason.model import load_model
    from m1reason.train.loop import load_history
    from m1reason.train.recipe import recipe_settings
    from m1reason.train.stages import build_tokenizer, teacher

    base = recipe_settings(device=device, deterministic=True)["teacher"]
    settings = base.model_copy(update={"steps": steps, "data_workers": workers, "save_every": steps})
    teacher(folder / "teacher", tokenizer=build_tokenizer(folder / "tokenizer", seed=0), settings=settings)
    # float(norm) and loss.item() wait for the GPU inside every step, so a step's wall time is its whole cost
    timed = [row["step_s"] for row in load_history(folder / "teacher")][skip:]
    per_step = sum(timed) / len(timed)
    weights = load_model(folder / "teacher", device="cpu", dtype=torch.float32).state_dict()
    return 1000 * per_step, weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--skip", type=int, default=20, help="warm-up steps left out of the timing")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the device's)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    from m1reason.train.batches import default_workers

    workers = default_workers(args.device) if args.workers is None else args.workers
    rows, states = [], []
    for n in (0, workers):
        with tempfile.TemporaryDirectory() as d:
            ms, state = train(Path(d), device=args.device, steps=args.steps, workers=n, skip=args.skip)
        states.append(state)
        rows.append({"data made by": "the training process" if n == 0 else f"{n} worker processes",
                     "ms per step": ms, "steps timed": args.steps - args.skip})
    same = all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    rows[0]["speed-up"], rows[1]["speed-up"] = 1.0, rows[0]["ms per step"] / rows[1]["ms per step"]
    print(json.dumps({"rows": rows, "identical_weights": same}))
    body = (f"The recipe's teacher stage (its shape, batch and settings, deterministic kernels) trained from scratch "
            f"for {args.steps} steps on {args.device}, twice. Identical final weights both ways: {same}.\n\n"
            + markdown_table(rows, ["data made by", "ms per step", "speed-up", "steps timed"]))
    print(body)
    if not args.no_write:
        write_section("train_data_workers", "Training with the data made ahead in worker processes", body,
                      environment())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

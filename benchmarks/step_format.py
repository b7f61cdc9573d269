"""Which written-method step format a tiny hybrid learns best: the curriculum's column lines (``tens: 7 + 3 + 1 =
11, write 1 carry 1``) against lines that restate what is left of each number (``987 + 123: 7 + 3 + 1 = 11, ...``,
``written.restated_addition``), each model trained from scratch on the same problems, steps and seed, and scored
greedily on held-out sums and differences of 3 to 5 digits.

The hand-written set showed the shipped model's column work going wrong where a digit must be found by counting
from the right of a number written far back (the prompt) and where a carry is dropped in the last column; this
measures whether a format that keeps each column's digits next to the line that uses them fixes that, before the
curriculum adopts it. Writes the "step_format" section of BENCHMARKS.md.

    python -m benchmarks.step_format --steps 800            # CPU
    python -m benchmarks.step_format --steps 3000 --device cuda
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section
from m1reason.train.data.written import (
    column_addition,
    column_subtraction,
    restated_addition,
    restated_subtraction,
)

FORMATS = {
    "columns": (lambda a, b: column_addition([a, b]), column_subtraction),
    "restated": (lambda a, b: restated_addition([a, b]), restated_subtraction),
}


def draw(rng: random.Random) -> tuple[int, str, int]:
    """``a op b`` with operands of 3 to 5 digits each (``a >= b`` for a difference)."""
    a, b = (rng.randrange(10 ** (d - 1), 10**d) for d in (rng.randint(3, 5), rng.randint(3, 5)))
    op = rng.choice("+-")
    return (max(a, b), op, min(a, b)) if op == "-" else (a, op, b)


def reply(a: int, op: str, b: int, fmt: str) -> str:
    """The worked reply in format ``fmt``, ending with the claim of the result.

    >>> print(reply(95, "+", 7, "restated"))
    95 + 7: 5 + 7 = 12, write 2 carry 1
    9: 9 + 1 = 10, write 10
    so 95 + 7 = 102
    """
    add, subtract = FORMATS[fmt]
    lines = add(a, b) if op == "+" else subtract(a, b)
    return "\n".join([*lines, f"so {a} {op} {b} = {a + b if op == '+' else a - b}"])


def prompt(a: int, op: str, b: int) -> str:
    return f"Compute {a} {op} {b}.\n"


def tiny_hybrid(vocab_size: int):
    """The shipped model's layout (6 layers, attention at 2 and 5) at half its width, for a quick comparison."""
    from m1reason.model import HybridLM, ModelConfig
    from m1reason.model.config import RopeConfig

    config = ModelConfig(vocab_size=vocab_size, hidden_size=128, intermediate_size=384, num_layers=6, num_heads=4,
                         num_kv_heads=2, head_dim=32, rms_norm_eps=1e-5, rope=RopeConfig(theta=10000.0),
                         attn_layers=(2, 5), d_inner=128, d_xb=64, d_state=16, d_conv=4, dt_rank=8,
                         bos_token_id=0, eos_token_ids=(4,), pad_token_id=5)
    return HybridLM(config)


def batch(tokenizer, problems: list[tuple[int, str, int]], fmt: str):
    """Padded ids and reply mask of ``problems`` worked in format ``fmt`` (the recipe's collate)."""
    from m1reason.train.examples import Example, collate

    examples = []
    for a, op, b in problems:
        head = tokenizer(prompt(a, op, b), add_special_tokens=False)["input_ids"]
        tail = tokenizer(reply(a, op, b, fmt), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        examples.append(Example(head + tail, [0] * len(head) + [1] * len(tail)))
    return collate(examples, tokenizer.pad_token_id)


def train(fmt: str, tokenizer, *, steps: int, batch_size: int, lr: float, seed: int, device: str):
    """A tiny hybrid trained from scratch on format ``fmt``; the problems of step i are the same for every format."""
    import torch

    from m1reason.train.losses import masked_cross_entropy
    from m1reason.train.stages import _small_init

    torch.manual_seed(seed)
    model = tiny_hybrid(len(tokenizer))
    with torch.no_grad():
        _small_init(model)  # the recipe's teacher init; the Mamba layers' A, D and dt keep their own
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    started, losses = time.monotonic(), []
    for step in range(steps):
        rng = random.Random(f"{seed}/{step}")
        ids, mask = batch(tokenizer, [draw(rng) for _ in range(batch_size)], fmt)
        ids, mask = ids.to(device), mask.to(device)
        for group in opt.param_groups:  # linear warm-up, then linear decay to a tenth
            group["lr"] = lr * min((step + 1) / 50, 1.0 - 0.9 * step / steps)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            loss = masked_cross_entropy(model(ids), ids, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return model.eval(), {"train_s": round(time.monotonic() - started, 1), "final_loss": round(
        sum(losses[-20:]) / len(losses[-20:]), 4)}


def score(model, tokenizer, problems: list[tuple[int, str, int]], fmt: str, device: str) -> list[dict]:
    """Greedy replies to ``problems``, and whether each one's last claim is the right result."""
    import torch

    from m1reason.generator import GenerationRequest, M1Generator, SamplingParams

    if device.startswith("cuda"):
        model = model.to(torch.bfloat16)  # the dtype the engine serves in on a GPU (A_log and D stay fp32)
    longest = max(len(tokenizer(prompt(*p) + reply(*p, fmt))["input_ids"]) for p in problems)
    gen = M1Generator(model, tokenizer, max_slots=64, max_len=longest + 64, cuda_graphs=False)
    params = SamplingParams(temperature=0.0, max_new_tokens=longest + 32)
    results = gen.generate([GenerationRequest(prompt=prompt(*p), sampling=params, request_id=f"q{i}")
                            for i, p in enumerate(problems)])
    rows = []
    for (a, op, b), result in zip(problems, results):
        text = result.samples[0].text
        claims = re.findall(r"so \d+ [-+] \d+ = (-?\d+)", text)
        right = bool(claims) and int(claims[-1]) == (a + b if op == "+" else a - b)
        rows.append({"a": a, "op": op, "b": b, "digits": len(str(max(a, b))), "right": right, "text": text})
    return rows


def table(scored: dict[str, list[dict]]) -> list[dict]:
    from m1reason.stats import mean_ci

    rows = []
    groups = [(f"{op} {d} digits", lambda r, op=op, d=d: r["op"] == op and r["digits"] == d)
              for op in "+-" for d in (3, 4, 5)] + [("all", lambda r: True)]
    for name, keep in groups:
        row = {"problems": name}
        for fmt, records in scored.items():
            kept = [float(r["right"]) for r in records if keep(r)]
            if kept:
                mean, half = mean_ci(kept)
                row[f"{fmt} %"] = f"{100 * mean:.1f} ± {100 * half:.1f} ({len(kept)})"
        if len(row) > 1:
            rows.append(row)
    return rows


def section_body(args, runs: dict, text: str) -> str:
    trained = ", ".join(f"{fmt}: {r['train_s']} s, final loss {r['final_loss']}" for fmt, r in runs.items())
    return (f"A hybrid of the shipped layout at half width (6 layers, attention at 2 and 5, hidden 128) trained from "
            f"scratch for {args.steps} steps of {args.batch_size} problems (sums and differences, operands of 3-5 "
            f"digits, the same problems for every format; {trained}), then greedy on {args.problems} held-out "
            "problems; % right with 95% intervals. Formats: `columns` is the curriculum's "
            "(`written.column_addition`), `restated` restates what is left of each number on every line "
            f"(`written.restated_addition`). Records: `{args.out / 'step_format.json'}`.\n\n" + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--problems", type=int, default=300, help="held-out problems scored")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/step_format"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    import torch

    from m1reason.stats import paired_gain
    from m1reason.tokenizer import load_tokenizer

    torch.set_num_threads(max(1, torch.get_num_threads()))
    tokenizer = load_tokenizer("m1reason/embedded")
    rng = random.Random(f"held-out/{args.seed}")
    held = [draw(rng) for _ in range(args.problems)]
    scored, runs = {}, {}
    for fmt in args.formats:
        model, runs[fmt] = train(fmt, tokenizer, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                                 seed=args.seed, device=args.device)
        scored[fmt] = score(model, tokenizer, held, fmt, args.device)
        print(json.dumps({"format": fmt, **runs[fmt],
                          "accuracy": sum(r["right"] for r in scored[fmt]) / len(held)}), flush=True)
    rows = table(scored)
    text = markdown_table(rows, list(rows[0]))
    if len(scored) == 2:
        (first, a), (second, b) = scored.items()
        gain, half = paired_gain([float(r["right"]) for r in b], [float(r["right"]) for r in a])
        text += f"\n\nPaired on the same problems, {second} - {first}: {100 * gain:+.1f} ± {100 * half:.1f} points."
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "step_format.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                           "runs": runs, "scored": scored}, indent=1))
    if not args.no_write:
        write_section("step_format", "Written-method step formats: which one a tiny hybrid learns",
                      section_body(args, runs, text), environment())
    return 0


if __name__ == "__main__":
    sys.exit(main())

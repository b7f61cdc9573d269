"""The eval's picture: accuracy against the time budget, with 95% intervals, and the numbers in a table beside it.

It draws a table that ``evaluation.summarize`` made and knows nothing of how the records were graded.
matplotlib is imported only when a plot is drawn: grading never needs it.
"""

from __future__ import annotations

import math
from pathlib import Path

__all__ = ["accuracy_figure", "plot_accuracy", "wilson_interval"]


def wilson_interval(correct: float, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% for z = 1.96): unlike the normal one, it stays inside
    [0, 1] and is not empty at 0 or 100% right, which small evals hit often.

    >>> low, high = wilson_interval(8, 10); round(low, 3), round(high, 3)
    (0.49, 0.943)
    >>> wilson_interval(0, 0)
    (0.0, 1.0)
    """
    if total <= 0:
        return 0.0, 1.0
    share = correct / total
    middle = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return max(0.0, middle - half), min(1.0, middle + half)


def plot_accuracy(table: list[dict], path: Path, *, model: str | None = None, strategy: str | None = None,
                  samples: float | None = None) -> Path:
    """Accuracy against the time budget (the paper's Figure 3 shape) as a PNG at ``path``: 95% Wilson intervals
    as error bars, a title naming the model, the strategy, the problem count and the mean samples per problem
    (``samples``), and a table of the numbers beside it. A row without a budget is left out of the curve but kept
    in the table.

    >>> import tempfile
    >>> table = [{"budget_s": 5.0, "problems": 10, "accuracy": 0.6, "mean_s": 4.1},
    ...          {"budget_s": 10.0, "problems": 10, "accuracy": 0.8, "mean_s": 8.2}]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_accuracy(table, Path(folder) / "acc.png", model="embedded", strategy="auto").stat().st_size > 0
    True
    """
    import matplotlib.pyplot as plt

    fig = accuracy_figure(table, model=model, strategy=strategy, samples=samples)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def accuracy_figure(table: list[dict], *, model: str | None = None, strategy: str | None = None,
                    samples: float | None = None):
    """The matplotlib Figure that ``plot_accuracy`` saves, to show or to look inside.

    >>> fig = accuracy_figure([{"budget_s": 5.0, "problems": 4, "accuracy": 0.5, "mean_s": 4.0}], strategy="sc")
    >>> fig.get_suptitle()
    'sc on the default model: accuracy vs budget (n = 4 problems per budget)'
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: evals run on machines without a display
    import matplotlib.pyplot as plt

    intervals = [wilson_interval(row["accuracy"] * row["problems"], row["problems"]) for row in table]
    curve = [(row, ci) for row, ci in zip(table, intervals) if row["budget_s"] is not None]
    fig, (ax, side) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    if curve:
        x = [row["budget_s"] for row, _ in curve]
        y = [row["accuracy"] for row, _ in curve]
        below = [row["accuracy"] - low for row, (low, _) in curve]
        above = [high - row["accuracy"] for row, (_, high) in curve]
        ax.errorbar(x, y, yerr=[below, above], marker="o", capsize=4, label="accuracy, 95% interval")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("time budget per problem (s)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    problems = max((row["problems"] for row in table), default=0)
    per_problem = f", {samples:.1f} samples per problem" if samples is not None else ""
    fig.suptitle(f"{strategy or 'auto'} on {model or 'the default model'}: accuracy vs budget "
                 f"(n = {problems} problems per budget{per_problem})", fontsize=10)
    side.axis("off")
    cells = [[_budget(row["budget_s"]), str(row["problems"]), f"{row['accuracy']:.3f}", f"{low:.2f}-{high:.2f}",
              f"{row['mean_s']:.2f}"] for row, (low, high) in zip(table, intervals)]
    side.table(cellText=cells or [["-"] * 5], colLabels=["budget s", "n", "accuracy", "95% interval", "mean s"],
               loc="center").scale(1, 1.3)
    fig.tight_layout()
    return fig


def _budget(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"

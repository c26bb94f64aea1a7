"""The run report: a learning-curve figure and ``report.md`` with the summary table."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

# Distinct in grayscale: line style and marker vary, not only colour.
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (3, 1, 1, 1)), "P"), ((0, (1, 1)), "X"), ((0, (8, 2, 2, 2)), "*")]


def band_on_grid(runs: list[pd.DataFrame], x: str, y: str, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-band over seeds of ``y`` interpolated on ``grid`` of ``x`` (nan beyond a run's end)."""
    curves = np.full((len(runs), len(grid)), np.nan)
    for i, r in enumerate(runs):
        xs, ys = r[x].to_numpy(float), r[y].to_numpy(float)
        inside = grid <= xs[-1]
        curves[i, inside] = np.interp(grid[inside], xs, ys)
    count = np.sum(np.isfinite(curves), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(np.where(count > 0, curves, 0.0), axis=0)
        sd = np.nanstd(curves, axis=0, ddof=1) if len(runs) > 1 else np.zeros(len(grid))
        half = stats.t.ppf(0.975, np.maximum(count - 1, 1)) * sd / np.sqrt(np.maximum(count, 1))
    mean[count == 0] = np.nan
    return mean, mean - half, mean + half


def learning_curve_figure(df: pd.DataFrame, x: str = "cum_tokens", y: str = "test_pass", title: str = "") -> plt.Figure:
    """Test pass rate vs cumulative tokens, mean and 95% band over seeds, one line per allocator."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    scale, unit = (1e6, "million tokens") if x == "cum_tokens" else (1.0, x.replace("_", " "))
    for i, (alloc, g) in enumerate(df.groupby("allocator", sort=False)):
        runs = [r.sort_values("step") for _, r in g.groupby("seed")]
        end = min(r[x].iloc[-1] for r in runs)  # where every seed still has data
        grid = np.linspace(0, end, 200)
        mean, lo, hi = band_on_grid(runs, x, y, grid)
        ls, marker = STYLES[i % len(STYLES)]
        ax.plot(grid / scale, mean, linestyle=ls, marker=marker, markevery=25, label=f"{alloc} (n={len(runs)} seeds)")
        ax.fill_between(grid / scale, lo, hi, alpha=0.2)
    ax.set_xlabel(f"cumulative {unit}" if x == "cum_tokens" else unit)
    ax.set_ylabel("test pass rate (mean pass@1)")
    ax.set_title(title or "Test pass rate vs tokens spent (mean, 95% band over seeds)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def _fmt_table(summary: pd.DataFrame) -> str:
    cols = [c for c in summary.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in summary.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append("n/a" if not np.isfinite(v) else (f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(df: pd.DataFrame, summary: pd.DataFrame, out_dir: Path, title: str, command: str = "") -> Path:
    """Write ``learning_curve.png`` and ``report.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig = learning_curve_figure(df, title=f"{title}: test pass rate vs tokens (mean, 95% band over seeds)")
    fig.savefig(out_dir / "learning_curve.png")
    plt.close(fig)
    s = summary.iloc[0]
    text = [
        f"# {title}",
        "",
        f"Regenerate with: `{command}`" if command else "",
        "",
        "![test pass rate vs cumulative tokens](learning_curve.png)",
        "",
        f"Final test pass rate with a 95% Student-t interval over seeds; tokens to reach a test pass rate of "
        f"{s['target_test_pass']:.4f}; speedup = baseline tokens-to-target / allocator tokens-to-target "
        f"(`speedup_paired`: geometric mean of per-seed ratios; seeds share population and batch order).",
        "",
        _fmt_table(summary),
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(text))
    return path

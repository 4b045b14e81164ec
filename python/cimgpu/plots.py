"""plots.py -- the figures, one function each; every one returns (figure, data), the
matplotlib Figure and the numbers it drew, so that what a figure shows can be checked.

accuracy_vs:     top-1 accuracy against one configuration key (σ, ADC bits, crossbar size),
                 one line per mapping: the mean with its 95 % CI (from the file), the 5-95 %
                 chip band (from /trials) shaded, the digital baseline dashed.
chip_histograms: per-chip accuracy histograms in bins of whole images, one panel per sample.
yield_curves:    the fraction of chips reaching each accuracy target, one line per sample.

Figures are matplotlib.figure.Figure objects, made without pyplot (no GUI, no global state):
fig.savefig("x.png") writes them with the Agg renderer; a notebook shows them as they are.
A "sample" is one set of chips: {label: per-chip top-1 accuracies}.
"""
import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from . import naming, stats
from .tables import key_columns

MAX_PANELS = 12
TITLE_WIDTH = 84  # characters per title line (a 7-inch figure at the medium font)
LINE_STYLES = {"MAX": "-", "CALIB": "--"}
OTHER_STYLES = ("-", "--", ":", "-.")
BASELINE_COLOR = "0.35"
LINE_COLUMNS = ["config", "m_mode", "style", "x", "x_label", "mean", "ci_lo", "ci_hi",
                "band_lo", "band_hi", "chips", "baseline"]


def mapping_colors(modes):
    """{m_mode: color} from matplotlib's tab10 cycle, in the order given."""
    cycle = [f"C{i}" for i in range(10)]
    return {m: cycle[i % 10] for i, m in enumerate(dict.fromkeys(modes))}


def _x_axis(df, x):
    """(positions, labels, categorical) of the rows on the x axis of key x: a number at its
    own value, a size or a text at its rank (sizes sorted by area)."""
    cols = key_columns(df, x)
    values = [tuple(v) for v in df[cols].itertuples(index=False)]
    labels = [naming.value_text(x, v, unit=False) for v in values]
    numeric = len(cols) == 1 and pd.api.types.is_numeric_dtype(df[cols[0]]) \
        and not pd.api.types.is_bool_dtype(df[cols[0]])
    if numeric:
        return [float(v[0]) for v in values], labels, False
    order = list(dict.fromkeys(values))
    if all(isinstance(p, (int, float, np.number)) for v in order for p in v):
        order.sort(key=lambda v: (math.prod(v), v))
    rank = {v: i for i, v in enumerate(order)}
    return [float(rank[v]) for v in values], labels, True


def _chips(trials):
    """{config: its per-chip top-1 accuracies} of a read_sweep_trials table."""
    if trials is None:
        return {}
    return {c: g["top1"].to_numpy() for c, g in trials.groupby("config", sort=False)}


def wrapped(title, width=TITLE_WIDTH):
    """A title's lines wrapped at spaces to `width` characters, so a long list of conditions
    stays inside the figure."""
    return "\n".join(textwrap.fill(line, width) if line else line
                     for line in title.split("\n"))


def accuracy_vs(df, x, trials=None, style=None, title=None, colors=None):
    """Top-1 accuracy against configuration key x, one line per m_mode (and per value of the
    key `style`, drawn solid / dashed: MAX / CALIB for adc_calib_mode).

    df: the configurations to draw (rows of read_sweep; those not done are left out), one per
    line and x value. trials: read_sweep_trials of the same file, for the chip band (None: no
    band). colors: {m_mode: color} (default: tab10 in order of appearance).

    Returns (figure, data): data has one row per point, columns config, m_mode, style, x
    (the position drawn: the value, or the rank of a crossbar size), x_label ("128x128"),
    mean, ci_lo, ci_hi (top1_mean, top1_ci95_lo, top1_ci95_hi of the file), band_lo,
    band_hi (5 % and 95 % quantiles of the chips' top1, linear interpolation), chips (their
    number) and baseline (top1_baseline, drawn as a dashed horizontal line per value).
    """
    rows = df[df["done"]]
    chips = _chips(trials)
    xs, labels, categorical = _x_axis(rows, x)
    records = []
    for (c, row), xv, label in zip(rows.iterrows(), xs, labels):
        values = chips.get(c, np.empty(0))
        lo, hi = stats.chip_band(values)
        records.append((c, row["m_mode"], str(row[style]) if style else "", xv, label,
                        row["top1_mean"], row["top1_ci95_lo"], row["top1_ci95_hi"], lo, hi,
                        len(values), row["top1_baseline"]))
    data = pd.DataFrame.from_records(records, columns=LINE_COLUMNS)
    data = data.sort_values("x", kind="stable").reset_index(drop=True)
    colors = colors or mapping_colors(data["m_mode"])
    styles = {s: LINE_STYLES.get(s, OTHER_STYLES[i % len(OTHER_STYLES)])
              for i, s in enumerate(dict.fromkeys(data["style"]))}

    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    for (mode, sty), line in data.groupby(["m_mode", "style"], sort=False):
        color = colors.get(mode, "k")
        if line["band_lo"].notna().any():
            ax.fill_between(line["x"], line["band_lo"], line["band_hi"], color=color,
                            alpha=0.15, linewidth=0)
        yerr = np.vstack([line["mean"] - line["ci_lo"], line["ci_hi"] - line["mean"]])
        ax.errorbar(line["x"], line["mean"], yerr=yerr, color=color, linestyle=styles[sty],
                    marker="o", markersize=4, capsize=3,
                    label=f"{mode}, {sty}" if sty else mode)
    handles, _ = ax.get_legend_handles_labels()
    if data["band_lo"].notna().any():
        handles.append(Patch(color="0.5", alpha=0.3, label="5–95 % of chips"))
    for i, b in enumerate(sorted(data["baseline"].dropna().unique())):
        handles.append(ax.axhline(b, color=BASELINE_COLOR, linestyle="--", linewidth=1,
                                  label=f"digital baseline {b:.1%}" if i == 0 else None))
    ticks = data.drop_duplicates("x")
    if len(ticks) <= 12:
        ax.set_xticks(ticks["x"], ticks["x_label"])
    if categorical:
        ax.set_xlim(-0.5, len(ticks) - 0.5)
    ax.set_xlabel(naming.axis_label(x))
    ax.set_ylabel("top-1 accuracy (mean, 95 % CI)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    ax.legend(handles=[h for h in handles if h.get_label() and not
                       h.get_label().startswith("_")], fontsize="small")
    if title:
        ax.set_title(wrapped(title), fontsize="medium")
    return fig, data


def _limit(samples, limit):
    """(the first `limit` samples, the labels of the rest, a note for the title or None)."""
    labels = list(samples)
    kept = {k: samples[k] for k in labels[:limit]}
    rest = labels[limit:]
    note = f"the first {limit} of {len(labels)} drawn" if rest else None
    return kept, rest, note


def _range(counts):
    nonempty = [c for c in counts.values() if c.size]
    if not nonempty:
        raise ValueError("no chips to draw")
    return min(int(c.min()) for c in nonempty), max(int(c.max()) for c in nonempty)


def chip_histograms(samples, images, title=None, max_panels=MAX_PANELS):
    """Per-chip top-1 accuracy histograms, one panel per sample (the first max_panels), in
    common bins of whole images (accuracies are multiples of 1/images).

    Returns (figure, data), data a dict: edges_correct (bin edges in correct images:
    half-integers), edges (the same as accuracies), counts ({label: chips per bin}), mean
    ({label: mean accuracy}, the dotted line), skipped (labels not drawn), note (None or why).
    """
    kept, skipped, note = _limit(samples, max_panels)
    correct = {k: stats.correct_counts(v, images) for k, v in kept.items()}
    lo, hi = _range(correct)
    edges_correct = stats.image_bins(lo, hi)
    edges = edges_correct / images
    counts = {k: np.histogram(c, bins=edges_correct)[0] for k, c in correct.items()}
    means = {k: float(np.mean(v)) if len(v) else math.nan for k, v in kept.items()}

    n = len(kept)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(3.3 * ncols + 0.6, 2.5 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, (label, cnt) in zip(axes.flat, counts.items()):
        ax.stairs(cnt, edges, fill=True, color="C0", alpha=0.8)
        if math.isfinite(means[label]):
            ax.axvline(means[label], color="k", linestyle=":", linewidth=1)
        ax.set_title(label, fontsize="small")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("chips")
    for ax in axes[-1, :]:
        ax.set_xlabel("top-1 accuracy")
    fig.suptitle(wrapped((title + "\n" if title else "") + (note or "")), fontsize="medium")
    return fig, {"edges_correct": edges_correct, "edges": edges, "counts": counts,
                 "mean": means, "skipped": skipped, "note": note}


def yield_curves(samples, images, title=None, target=None, max_lines=MAX_PANELS):
    """Yield against accuracy target: for each sample (the first max_lines) the fraction of
    chips with top-1 accuracy >= target, for every target k/images from the lowest to the
    highest accuracy of the drawn chips (a step curve). target: a yield target to mark.

    Returns (figure, data), data a dict: targets (accuracies k/images), yield ({label:
    fractions}), target, skipped, note.
    """
    kept, skipped, note = _limit(samples, max_lines)
    correct = {k: stats.correct_counts(v, images) for k, v in kept.items()}
    lo, hi = _range(correct)
    targets = np.arange(lo, hi + 1) / images
    yields = {k: stats.yield_curve(c, lo, hi) for k, c in correct.items()}

    outside = len(yields) > 4           # a long legend goes beside the axes
    fig = Figure(figsize=(10.0 if outside else 7.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    for i, (label, y) in enumerate(yields.items()):     # past tab10's colours: dashed
        ax.plot(targets, y, drawstyle="steps-pre", linestyle="-" if i < 10 else "--",
                label=label)
    if target is not None and math.isfinite(target):
        ax.axvline(target, color=BASELINE_COLOR, linestyle=":", linewidth=1,
                   label=f"yield target {target:.1%}")
    ax.set_xlabel("accuracy target (top-1)")
    ax.set_ylabel("yield (fraction of chips ≥ target)")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", **({"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
                                   if outside else {}))
    ax.set_title(wrapped((title + "\n" if title else "") + (note or "")), fontsize="medium")
    return fig, {"targets": targets, "yield": yields, "target": target, "skipped": skipped,
                 "note": note}

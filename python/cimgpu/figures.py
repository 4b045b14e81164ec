"""figures.py -- every figure a results file gets, each named for the PNG it is saved as.

A sweep gets one line plot per axis it sweeps (accuracy vs hrs_noise, lrs_noise, resolution,
xbar_size), lines per mapping; when other keys vary too, one figure per combination of their
values (held fixed in it and named in the file name: acc_vs_hrs_noise__xbar_size_256x256), at
most MAX_FIGURES per axis (a warning says how many were left out). Every sweep and run also
gets the per-chip histograms and the yield curve. Only configurations that are done are drawn.
"""
import os
import warnings
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from . import naming, plots
from .files import RUN_FORMAT, file_format
from .run import Run, read_run
from .tables import key_columns, read_sweep, read_sweep_trials, swept_keys

MAX_FIGURES = 24
# (x key, key drawn as line style when it is swept too)
LINE_PLOTS = (("hrs_noise", None), ("lrs_noise", None), ("resolution", "adc_calib_mode"),
              ("xbar_size", None))
# Fixed conditions a title names when they are the same for every line of the figure.
CONTEXT = ("xbar_size", "hrs_lrs", "gmin_gmax", "adc", "resolution", "adc_calib_mode",
           "hrs_noise", "lrs_noise")
IDEAL_ONLY = ("resolution", "adc_calib_mode")     # not shown for the ideal ADC


@dataclass
class Plot:
    """One figure: name (the PNG's file name without .png), figure, data (what it drew; see
    the plots module's functions)."""
    name: str
    figure: Figure
    data: Any


def _values(df, key):
    """The distinct values of a key over rows of df, as tuples of its columns."""
    return list(dict.fromkeys(tuple(v) for v in df[key_columns(df, key)].itertuples(index=False)))


def _model(df):
    return " / ".join(dict.fromkeys(df["nn_name"]))


def _size(df):
    root = df.attrs.get("root", {})
    return f"{root.get('trials')} chips × {root.get('images')} images"


def _conditions(df, rows, shown):
    """The title's conditions: each CONTEXT key of the sweep that is the same in all rows and
    not already on the figure (shown), then chips x images."""
    ideal = set(rows["adc"]) == {"INF_ADC"} if "adc" in rows else False
    parts = []
    for key in CONTEXT:
        if key in shown or key not in df.attrs["configs"] or (ideal and key in IDEAL_ONLY):
            continue
        values = _values(rows, key)
        if len(values) == 1:
            parts.append(naming.condition_text(key, values[0]))
    return " · ".join(parts + [_size(df)])


def _line_plots(df, trials, x, style, held, colors):
    """The figures of accuracy vs x, one per combination of the held keys' values."""
    rows = df[df["done"]]
    cols = [c for k in held for c in key_columns(df, k)]
    by = cols[0] if len(cols) == 1 else cols
    groups = list(rows.groupby(by, sort=False, dropna=False)) if cols else [(None, rows)]
    if len(groups) > MAX_FIGURES:
        warnings.warn(f"acc_vs_{x}: {len(groups)} combinations of {', '.join(held)}; drawing "
                      f"the first {MAX_FIGURES}")
        groups = groups[:MAX_FIGURES]
    out = []
    for _, group in groups:
        name = f"acc_vs_{x}" + "".join(
            f"__{k}_{naming.file_text(k, _values(group, k)[0])}" for k in held)
        held_text = [naming.condition_text(k, _values(group, k)[0]) for k in held]
        conditions = " · ".join(held_text + [_conditions(df, group, {x, style, *held})])
        title = (f"{_model(group)}: top-1 accuracy vs {naming.axis_name(x)}\n{conditions}")
        fig, data = plots.accuracy_vs(group, x, trials, style=style, title=title, colors=colors)
        out.append(Plot(name, fig, data))
    return out


def _sample_plots(samples, images, title, target, names):
    """The histogram and yield figures of some samples ({label: top1 values})."""
    if not any(len(v) for v in samples.values()):
        return []
    fig, data = plots.chip_histograms(samples, images, title=title)
    out = [Plot(names[0], fig, data)]
    fig, data = plots.yield_curves(samples, images, title=title, target=target)
    return out + [Plot(names[1], fig, data)]


def sweep_plots(df, trials):
    """Every figure of a sweep: df from read_sweep, trials from read_sweep_trials."""
    keys = swept_keys(df)
    if not df["done"].any():
        warnings.warn(f"{df.attrs.get('path')}: no configuration is done yet: nothing to draw")
        return []
    colors = plots.mapping_colors(df["m_mode"])
    out = []
    for x, style in LINE_PLOTS:
        if x in keys:
            style = style if style in keys else None
            held = [k for k in keys if k not in (x, "m_mode", style)]
            out += _line_plots(df, trials, x, style, held, colors)
    done = df.index[df["done"]]
    chips = {c: g["top1"].to_numpy() for c, g in trials.groupby("config")}
    samples = {}
    for c in done:
        row = df.loc[[c]]
        text = [naming.value_text(k, _values(row, k)[0]) if k in ("m_mode", "nn_name") else
                naming.condition_text(k, _values(row, k)[0]) for k in keys]
        samples[f"#{c} " + " · ".join(text) if text else f"#{c}"] = chips.get(c, [])
    targets = df.loc[done, "yield_target"].dropna().unique() if "yield_target" in df else []
    root = df.attrs.get("root", {})
    title = f"{_model(df)}: per-chip top-1 accuracy · {_size(df)} per configuration"
    return out + _sample_plots(samples, int(root["images"]), title,
                               float(targets[0]) if len(targets) == 1 else None,
                               ("chip_histograms", "yield_vs_target"))


def run_plots(run: Run):
    """The figures of a run: its chips' histogram and yield curve."""
    attrs, n = run.attrs, len(run.trials)
    config = attrs.get("config_json") or {}
    label = f"{run.model} {attrs.get('mapping', '')}".strip()
    size = f"{config['M']}x{config['N']}" if "M" in config and "N" in config else ""
    partial = "" if run.complete else f" (unfinished: {n} of {attrs.get('trials')} chips)"
    title = f"{label} {size}: {n} chips × {attrs.get('images')} images{partial}"
    return _sample_plots({label: run.trials["accuracy"].to_numpy()}, int(attrs["images"]),
                         title, attrs.get("yield_target"), ("chip_histogram", "yield_vs_target"))


def file_plots(path):
    """Every figure of the results file at path (a sweep or a run, finished or .partial)."""
    path = os.fspath(path)
    if file_format(path) == RUN_FORMAT:
        return run_plots(read_run(path))
    return sweep_plots(read_sweep(path), read_sweep_trials(path))

"""tables.py -- a sweep file (`cimgpu sweep --out S.h5`) as pandas DataFrames.

read_sweep: one row per configuration, its /configs values and its /summary statistics.
read_sweep_trials: the per-chip accuracies of /trials in long format, written rows only.
swept_keys: which experiment keys vary over the configurations.

Values are taken as stored, converted only in kind: strings to str, uint8 booleans to bool,
2-D datasets split into one column per entry of their `columns` attribute. Nothing is
recomputed: the confidence intervals and quantiles are the ones the sweep wrote.
"""
import numpy as np
import pandas as pd

from .files import (SWEEP_FORMAT, ResultsFileError, dataset, decode, open_results, read_values,
                    root_attributes)

# /configs datasets that describe how a configuration was run or how far it got, never an axis
# of the experiment: they vary with every configuration or follow the keys that do.
BOOKKEEPING = ("model_path", "adc", "config_json", "run_command", "done", "trials_written")


def _column(values, key, path):
    """One DataFrame column from a 1-D slice of a /configs dataset."""
    if values.dtype == np.uint8:
        if np.any(values > 1):
            raise ResultsFileError(f"{path}: /configs/{key} holds values other than 0 and 1 "
                                   f"(a uint8 dataset is a boolean)")
        return values.astype(bool)
    if values.dtype.kind == "O":
        return values.astype(object)
    return values


def _ordered(group):
    """The names in a group in the writer's order: its attribute `keys` first (cimgpu
    writes it on /configs and /summary), then any others (/configs/done, trials_written)."""
    order = decode(group.attrs.get("keys"))
    order = [k for k in order if k in group] if isinstance(order, list) else []
    return order + [k for k in group if k not in order]


def _configs(f, path, n):
    """The /configs group: ({column: values}, {key: [its columns]}) in the group's order."""
    group = f.get("configs")
    if group is None:
        raise ResultsFileError(f"{path}: no group /configs (every {SWEEP_FORMAT} file has one)")
    columns, keys = {}, {}
    for key in _ordered(group):
        ds = dataset(f, f"configs/{key}", path)
        values = read_values(ds)
        if values.ndim not in (1, 2) or values.shape[0] != n:
            raise ResultsFileError(f"{path}: /configs/{key} has shape {values.shape}, expected "
                                   f"({n},) or ({n}, k) for n_configs = {n}")
        if values.ndim == 1:
            names = [key]
            columns[key] = _column(values, key, path)
        else:
            parts = decode(ds.attrs.get("columns"))
            if not isinstance(parts, list) or len(parts) != values.shape[1]:
                raise ResultsFileError(f"{path}: /configs/{key} ({n} x {values.shape[1]}) needs "
                                       f"an attribute columns of {values.shape[1]} strings")
            names = [f"{key}_{p}" for p in parts]
            for j, name in enumerate(names):
                columns[name] = _column(values[:, j], key, path)
        keys[key] = names
    for key in ("done", "trials_written"):
        if key not in keys:
            raise ResultsFileError(f"{path}: no dataset /configs/{key} (every {SWEEP_FORMAT} "
                                   f"file has one)")
    return columns, keys


def _n_configs(attrs, path):
    n = attrs.get("n_configs")
    if not isinstance(n, int) or n < 1:
        raise ResultsFileError(f"{path}: root attribute n_configs is {n!r}, expected an "
                               f"integer >= 1")
    return n


def read_sweep(path):
    """A sweep file as a DataFrame: one row per configuration, index `config` (0 .. C-1).

    Columns: every /configs dataset in the file's order (a 2-D one such as xbar_size as
    `xbar_size_M`, `xbar_size_N`, named by its `columns` attribute; strings as str, uint8
    booleans as bool), then every /summary statistic (top1_mean, top1_ci95_lo, ..., float64).
    A statistic whose name is also a configuration key keeps the configuration's column.
    In an unfinished file (`S.h5.partial`, read while the sweep runs) the statistics of the
    configurations not done are NaN; the bool column `done` says which are.

    df.attrs holds "path", "root" (the root attributes, decoded; experiment_json parsed) and
    "configs" ({key: [its columns]}, what swept_keys reads).

    >>> df = read_sweep("S.h5")
    >>> df[["m_mode", "hrs_noise", "top1_mean", "top1_ci95_lo", "top1_ci95_hi"]]
    """
    path = str(path)
    with open_results(path, SWEEP_FORMAT) as f:
        attrs = root_attributes(f)
        n = _n_configs(attrs, path)
        columns, keys = _configs(f, path, n)
        done = columns["done"]
        stats = []
        group = f.get("summary")
        if group is None:
            raise ResultsFileError(f"{path}: no group /summary (every {SWEEP_FORMAT} file has "
                                   f"one)")
        for stat in _ordered(group):
            values = dataset(f, f"summary/{stat}", path)[()]
            if values.shape != (n,):
                raise ResultsFileError(f"{path}: /summary/{stat} has shape {values.shape}, "
                                       f"expected ({n},)")
            if stat in columns:
                continue
            values = values.astype(np.float64)
            values[~done] = np.nan          # NaN until done, whatever order the writer flushed
            columns[stat] = values
            stats.append(stat)
    df = pd.DataFrame(columns, index=pd.RangeIndex(n, name="config"))
    df.attrs.update(path=path, root=attrs, configs=keys, summary=stats)
    return df


def read_sweep_trials(path):
    """The per-chip accuracies of a sweep file in long format: columns config, trial, top1 and
    top5 (when the file has /trials/top5), one row per written chip: trials 0 ..
    trials_written[c] - 1 of each configuration c, in configuration order.

    Join the configurations' keys on demand:
    >>> trials = read_sweep_trials("S.h5").join(read_sweep("S.h5")[["m_mode"]], on="config")
    """
    path = str(path)
    with open_results(path, SWEEP_FORMAT) as f:
        n = _n_configs(root_attributes(f), path)
        written = dataset(f, "configs/trials_written", path)[()]
        arrays = {"top1": dataset(f, "trials/top1", path)[()]}
        if "trials/top5" in f:
            arrays["top5"] = dataset(f, "trials/top5", path)[()]
    for name, values in arrays.items():
        if values.ndim != 2 or values.shape[0] != n:
            raise ResultsFileError(f"{path}: /trials/{name} has shape {values.shape}, expected "
                                   f"({n}, trials)")
    t = arrays["top1"].shape[1]
    if written.shape != (n,) or np.any(written < 0) or np.any(written > t):
        raise ResultsFileError(f"{path}: /configs/trials_written must be {n} counts in 0 .. {t}")
    config = np.repeat(np.arange(n, dtype=np.int64), written)
    trial = np.concatenate([np.arange(k, dtype=np.int64) for k in written])
    out = {"config": config, "trial": trial}
    for name, values in arrays.items():
        out[name] = values[config, trial]
    return pd.DataFrame(out)


def key_columns(df, key):
    """The DataFrame columns of configuration key `key` (["hrs_noise"], ["xbar_size_M",
    "xbar_size_N"]), from df.attrs["configs"] that read_sweep sets."""
    keys = df.attrs.get("configs")
    if keys is None:
        raise ValueError("the DataFrame has no attrs['configs'] (read it with read_sweep)")
    if key not in keys:
        raise KeyError(f"{key}: not a configuration key of this sweep (keys: "
                       f"{', '.join(keys)})")
    return list(keys[key])


def swept_keys(df):
    """The configuration keys that vary in the sweep (more than one distinct value), in
    /configs order, e.g. ["m_mode", "hrs_noise"]. Left out: what records how a configuration
    ran rather than what it is (model_path, adc, config_json, run_command, done,
    trials_written), ifm (it follows nn_name), adc_calib_dict (the entry of the configuration's
    model, size and mapping) and hrs_lrs when gmin_gmax is given (it is derived from it)."""
    keys = df.attrs.get("configs")
    if keys is None:
        raise ValueError("swept_keys: the DataFrame has no attrs['configs'] (read it with "
                         "read_sweep)")
    derived = set(BOOKKEEPING) | {"ifm", "adc_calib_dict"}
    if "gmin_gmax" in keys:
        derived.add("hrs_lrs")
    return [k for k, cols in keys.items()
            if k not in derived and len(df[cols].drop_duplicates()) > 1]

"""run.py -- a run file (`cimgpu run --out R.h5`) as a Run: root attributes, the written
trials as a DataFrame, the summary statistics as a dict.

Only the first trials_written rows of /trials are read: in an unfinished `R.h5.partial` those
are the final ones, in a finished file all T.
"""
import os
from dataclasses import dataclass, field

import pandas as pd

from .files import RUN_FORMAT, ResultsFileError, dataset, decode, open_results, root_attributes


@dataclass
class Run:
    """One network Monte-Carlo run.

    path:    the file read.
    attrs:   the root attributes (strings as str; config_json parsed into a dict).
    trials:  one row per written chip, index `trial` (from the root attribute trial_offset);
             columns accuracy, correct, top5_accuracy and top5_correct when the file has them,
             and layer_error_<layer> for each crossbar layer (its error rate).
    summary: /summary as {stat: value} (mean, std, ci95_lo, ci95_hi, q05, yield, ...; NaN or
             -1 until the run has finished).
    """
    path: str
    attrs: dict
    trials: pd.DataFrame
    summary: dict = field(default_factory=dict)

    @property
    def complete(self):
        """True for a finished run (root attribute complete = 1)."""
        return self.attrs.get("complete") == 1

    @property
    def model(self):
        """The model's name: its file name without .h5 (e.g. "tnn_cnn")."""
        name = os.path.basename(str(self.attrs.get("model_path", "")))
        return name[:-3] if name.endswith(".h5") else name


def read_run(path):
    """Reads a run file (finished, or `.partial` while the run writes it) into a Run.

    >>> run = read_run("R.h5")
    >>> run.summary["mean"], run.trials["accuracy"].quantile(0.05)
    """
    path = str(path)
    with open_results(path, RUN_FORMAT) as f:
        attrs = root_attributes(f)
        n = decode(dataset(f, "trials_written", path)[()])
        offset = attrs.get("trial_offset", 0)
        if not isinstance(n, int) or n < 0:
            raise ResultsFileError(f"{path}: /trials_written is {n!r}, expected a count >= 0")
        columns, layer_errors = {}, {}
        group = f.get("trials")
        if group is None:
            raise ResultsFileError(f"{path}: no group /trials (every {RUN_FORMAT} file has one)")
        for name in group:
            ds = dataset(f, f"trials/{name}", path)
            if ds.shape[0] < n:
                raise ResultsFileError(f"{path}: /trials/{name} has {ds.shape[0]} rows, "
                                       f"trials_written is {n}")
            if ds.ndim == 1:
                columns[name] = ds[:n]
            elif name == "layer_error_rate":
                layers = decode(ds.attrs.get("layers"))
                if not isinstance(layers, list) or len(layers) != ds.shape[1]:
                    raise ResultsFileError(f"{path}: /trials/layer_error_rate needs an "
                                           f"attribute layers of {ds.shape[1]} names")
                values = ds[:n]
                for j, layer in enumerate(layers):
                    layer_errors[f"layer_error_{layer}"] = values[:, j]
        if "accuracy" not in columns:
            raise ResultsFileError(f"{path}: no dataset /trials/accuracy (every {RUN_FORMAT} "
                                   f"file has one)")
        columns.update(layer_errors)
        summary = {}
        if "summary" in f:
            for stat in f["summary"]:
                summary[stat] = decode(dataset(f, f"summary/{stat}", path)[()])
    index = pd.RangeIndex(offset, offset + n, name="trial")
    return Run(path=path, attrs=attrs, trials=pd.DataFrame(columns, index=index),
               summary=summary)

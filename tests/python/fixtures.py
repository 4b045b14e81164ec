"""fixtures.py -- small results files in cimgpu's layouts, with known numbers, for the tests of
the cimgpu Python package.

write_sweep() writes a `cimgpu sweep --out` file: root attributes, /configs (one dataset per
experiment key, 2-D ones with a `columns` attribute, strings as variable-length UTF-8,
booleans as uint8), /summary (float64 per configuration, NaN until done) and /trials
(top1, top5: float64 configurations x trials, NaN where not written), HDF5 "latest" format as
SWMR needs. write_run() writes a `cimgpu run --out` file. Both return what they wrote (the
arrays the tests compare with). SweepWriter keeps a sweep file open as an SWMR writer in a
child process and finishes one configuration at a time, as a running sweep does.

Chips' accuracies are correct / images with correct counts drawn from a seeded generator, so
every number is known to the test that asks for the file.
"""
import itertools
import json
import os
import subprocess
import sys
import tempfile
import unittest
from dataclasses import dataclass, field

import h5py
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
STR = h5py.string_dtype("utf-8")
# Student t quantiles t(0.975, n - 1) for the fixtures' chip counts n.
T975 = {4: 3.182446305284263, 5: 2.7764451051977987, 6: 2.5705818366147395,
        8: 2.3646242510102993}
# The kind of each /configs dataset: (numpy dtype or STR, its columns for a 2-D one).
KINDS = {
    "nn_name": (STR, None), "nn_data_set": (STR, None), "nn_data": (STR, None),
    "batch": (np.int64, None), "num_runs": (np.int64, None), "digital_only": (np.uint8, None),
    "adc_type": (STR, None), "verbose": (np.uint8, None), "c2c_var": (np.uint8, None),
    "d2d_var": (np.uint8, None), "xbar_size": (np.int64, ["M", "N"]),
    "hrs_lrs": (np.float64, ["HRS", "LRS"]), "gmin_gmax": (np.float64, ["Gmin", "Gmax"]),
    "ifm": (np.int64, ["H", "W", "C"]), "resolution": (np.int64, None),
    "adc_calib_mode": (STR, None), "alpha": (np.float64, None), "m_mode": (STR, None),
    "hrs_noise": (np.float64, None), "lrs_noise": (np.float64, None),
    "V_read": (np.float64, None), "model_path": (STR, None), "adc": (STR, None),
    "config_json": (STR, None), "run_command": (STR, None), "done": (np.uint8, None),
    "trials_written": (np.int64, None),
}
ALWAYS = {"nn_name": "tnn_cnn", "m_mode": "TNN_I", "xbar_size": (256, 256),
          "hrs_lrs": (5.0, 30.0)}
STATS = ("top1_mean", "top1_std", "top1_ci95_lo", "top1_ci95_hi", "top1_q01", "top1_q05",
         "top1_q50", "top1_min", "top1_max", "yield", "yield_target", "top5_mean", "top5_std",
         "top1_baseline", "top5_baseline", "seconds")


@dataclass
class Sweep:
    """What write_sweep wrote."""
    path: str
    keys: list          # /configs keys in the order written
    configs: list       # one {key: value} per configuration
    images: int
    trials: int
    correct: np.ndarray     # C x T correct counts of every chip (written or not)
    correct5: np.ndarray
    written: np.ndarray     # C
    done: np.ndarray        # C, bool
    top1: np.ndarray        # /trials/top1 as written (NaN where not written)
    top5: np.ndarray
    summary: dict = field(default_factory=dict)   # stat -> C values as written


def grid(swept):
    """The configurations of swept keys ({key: [values]}), the last key varying fastest."""
    keys = list(swept)
    return [dict(zip(keys, combo)) for combo in itertools.product(*swept.values())]


def _accuracy_p(cfg):
    """A chip's chance to get an image right: lower with more noise and fewer ADC bits."""
    p = 0.9 - 0.06 * cfg.get("hrs_noise", 0.0) - 0.03 * cfg.get("lrs_noise", 0.0)
    p -= 0.05 * (cfg["m_mode"] != "TNN_I")
    if cfg.get("resolution", -1) > 0:
        p -= 0.2 / cfg["resolution"]
    p -= 0.02 * (cfg.get("adc_calib_mode") == "CALIB")
    p += 0.01 * (cfg["xbar_size"][0] == 128)
    return min(max(p, 0.05), 0.98)


def _summary_row(top1, top5, target, baseline):
    n = len(top1)
    mean, std = top1.mean(), top1.std(ddof=1)
    half = T975[n] * std / np.sqrt(n)
    q01, q05, q50 = np.quantile(top1, [0.01, 0.05, 0.5])
    return {"top1_mean": mean, "top1_std": std, "top1_ci95_lo": mean - half,
            "top1_ci95_hi": mean + half, "top1_q01": q01, "top1_q05": q05, "top1_q50": q50,
            "top1_min": top1.min(), "top1_max": top1.max(),
            "yield": np.mean(top1 >= target), "yield_target": target,
            "top5_mean": top5.mean(), "top5_std": top5.std(ddof=1),
            "top1_baseline": baseline[0], "top5_baseline": baseline[1], "seconds": 0.25 * n}


def sweep_fixture(path, swept, fixed=None, trials=5, images=10, seed=1, done=None,
                  written=None, target=0.8):
    """The numbers of a sweep file (see write_sweep), without writing it."""
    fixed = dict(fixed or {})
    given = list(fixed) + list(swept)
    configs = [dict(ALWAYS, **fixed, **cfg) for cfg in grid(swept)]
    keys = given + [k for k in ALWAYS if k not in given] + [
        "model_path", "adc", "config_json", "run_command", "done", "trials_written"]
    n = len(configs)
    rng = np.random.default_rng(seed)
    correct = np.stack([rng.binomial(images, _accuracy_p(c), size=trials) for c in configs])
    correct5 = np.minimum(images, correct + rng.integers(0, 3, size=correct.shape))
    done = np.ones(n, bool) if done is None else np.asarray(done, bool)
    written = np.where(done, trials, 0) if written is None else np.asarray(written)
    for i, cfg in enumerate(configs):
        cfg["model_path"] = f"/models/{cfg['nn_name']}.h5"
        cfg["adc"] = ("INF_ADC" if cfg.get("adc_type", "INF_ADC") == "INF_ADC" else
                      "SYM_RANGE_ADC")
        cfg["config_json"] = json.dumps({"m_mode": cfg["m_mode"], "M": cfg["xbar_size"][0],
                                         "N": cfg["xbar_size"][1],
                                         "HRS_NOISE": cfg.get("hrs_noise", 1.0)})
        cfg["run_command"] = f"cimgpu run --set m_mode={cfg['m_mode']} --trials {trials}"
        cfg["done"] = bool(done[i])
        cfg["trials_written"] = int(written[i])
    cols = np.arange(trials)[None, :]
    top1 = np.where(cols < written[:, None], correct / images, np.nan)
    top5 = np.where(cols < written[:, None], correct5 / images, np.nan)
    summary = {s: np.full(n, np.nan) for s in STATS}
    for i in np.flatnonzero(done):
        row = _summary_row(correct[i] / images, correct5[i] / images, target, (0.9, 1.0))
        for s, v in row.items():
            summary[s][i] = v
    return Sweep(path=str(path), keys=keys, configs=configs, images=images, trials=trials,
                 correct=correct, correct5=correct5, written=written, done=done, top1=top1,
                 top5=top5, summary=summary)


def _root_attributes(f, fx, complete):
    n = len(fx.configs)
    experiment = {"nn_names": ["tnn_cnn"], "batch": fx.images, "num_runs": 1}
    attrs = {"format": "cimgpu-sweep", "format_version": np.int32(1),
             "complete": np.int32(complete), "tool_version": "0.1.0",
             "git_revision": "0123456789ab", "command_line": "cimgpu sweep EXP.json --out S.h5",
             "device": "fixture", "created": "2026-01-01T00:00:00Z", "seed": np.uint64(7),
             "trials": np.int64(fx.trials), "images": np.int64(fx.images),
             "first_image": np.int64(0), "n_configs": np.int64(n),
             "experiment_path": "EXP.json", "experiment_json": json.dumps(experiment),
             "grid_sha256": "ab" * 32, "dataset_images": "t10k-images-idx3-ubyte.gz",
             "dataset_labels": "t10k-labels-idx1-ubyte.gz"}
    for k, v in attrs.items():
        if isinstance(v, str):
            f.attrs.create(k, v, dtype=STR)
        else:
            f.attrs[k] = v


def _create_sweep(f, fx, done, written, track_order):
    """The layout of a sweep file with the given done / trials_written (data rows NaN where
    not written, statistics NaN where not done)."""
    _root_attributes(f, fx, int(all(done)))
    group = f.create_group("configs", track_order=track_order)
    for key in fx.keys:
        dtype, columns = KINDS[key]
        values = [c[key] for c in fx.configs]
        if key == "done":
            values = done
        elif key == "trials_written":
            values = written
        if dtype is STR:
            ds = group.create_dataset(key, data=np.array(values, dtype=object), dtype=STR)
        else:
            ds = group.create_dataset(key, data=np.array(values, dtype=dtype))
        if columns:
            ds.attrs.create("columns", np.array(columns, dtype=object), dtype=STR)
    summary = f.create_group("summary")
    for s, v in fx.summary.items():
        summary.create_dataset(s, data=np.where(done, v, np.nan))
    trials = f.create_group("trials")
    cols = np.arange(fx.trials)[None, :]
    for name, values in (("top1", fx.top1), ("top5", fx.top5)):
        trials.create_dataset(name, data=np.where(cols < np.asarray(written)[:, None], values,
                                                  np.nan))


def write_sweep(path, swept, fixed=None, trials=5, images=10, seed=1, done=None, written=None,
                target=0.8, track_order=True):
    """Writes a sweep file of the configurations of `swept` ({key: [values]}, the last
    varying fastest) with the keys of `fixed` ({key: value}) and the always-present keys
    (nn_name, m_mode, xbar_size, hrs_lrs: defaults when not given). done / written: per
    configuration (default: all done, all trials written); complete = 1 only when all are
    done. Returns the Sweep it wrote."""
    fx = sweep_fixture(path, swept, fixed, trials, images, seed, done, written, target)
    with h5py.File(path, "w", libver="latest") as f:
        _create_sweep(f, fx, fx.done.astype(np.uint8), fx.written, track_order)
    return fx


def _finish_config(f, fx, c):
    """Writes configuration c's chips, statistics, then its counts (as a sweep does)."""
    for name, values in (("top1", fx.top1), ("top5", fx.top5)):
        f[f"trials/{name}"][c, :] = values[c]
    for s, v in fx.summary.items():
        f[f"summary/{s}"][c] = v[c]
    f["configs/trials_written"][c] = fx.written[c]
    f["configs/done"][c] = 1
    f.flush()


def swmr_main(path, swept_json):
    """The child of SweepWriter: creates the file with nothing done, starts SWMR, prints
    "ready"; each line "next" on stdin finishes the next configuration and prints "ok"."""
    fx = sweep_fixture(path, json.loads(swept_json))
    n = len(fx.configs)
    with h5py.File(path, "w", libver="latest") as f:
        _create_sweep(f, fx, np.zeros(n, np.uint8), np.zeros(n, np.int64), True)
        f.swmr_mode = True
        print("ready", flush=True)
        c = 0
        for line in sys.stdin:
            if line.strip() == "next" and c < n:
                _finish_config(f, fx, c)
                c += 1
                print("ok", flush=True)


class SweepWriter:
    """A sweep file held open by an SWMR writer in a child process (a running sweep):
    `with SweepWriter(path, swept) as w: ... w.finish_next() ...`."""

    def __init__(self, path, swept):
        self.path, self.swept = str(path), swept
        self.fixture = sweep_fixture(path, swept)

    def __enter__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        code = (f"import sys; sys.path.insert(0, {here!r}); import fixtures; "
                f"fixtures.swmr_main({self.path!r}, {json.dumps(self.swept)!r})")
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self._expect("ready")
        return self

    def _expect(self, word):
        line = self.proc.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"SWMR writer said {line!r}, expected {word!r}")

    def finish_next(self):
        self.proc.stdin.write("next\n")
        self.proc.stdin.flush()
        self._expect("ok")

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


@dataclass
class RunFile:
    """What write_run wrote."""
    path: str
    images: int
    trials: int
    written: int
    trial_offset: int
    correct: np.ndarray       # T (rows past written hold -1, as garbage)
    correct5: np.ndarray
    layer_error: np.ndarray   # T x L
    layers: list
    summary: dict


def write_run(path, trials=6, images=20, written=None, trial_offset=0, seed=3, top5=True,
              layers=("004_conv2d", "009_dense"), target=0.85):
    """Writes a run file of `trials` chips of which the first `written` are final
    (default: all; fewer makes it unfinished, complete = 0, summary NaN / -1)."""
    written = trials if written is None else written
    rng = np.random.default_rng(seed)
    correct = rng.binomial(images, 0.85, size=trials).astype(np.int64)
    correct5 = np.minimum(images, correct + 1)
    layer_error = rng.uniform(0.0, 0.3, size=(trials, len(layers)))
    correct[written:] = -1
    correct5[written:] = -1
    layer_error[written:] = -1.0
    done = written == trials
    acc = correct[:written] / images
    if done:
        q01, q05, q50 = np.quantile(acc, [0.01, 0.05, 0.5])
        half = T975[written] * acc.std(ddof=1) / np.sqrt(written)
        summary = {"mean": acc.mean(), "std": acc.std(ddof=1), "ci95_lo": acc.mean() - half,
                   "ci95_hi": acc.mean() + half, "min": acc.min(), "max": acc.max(),
                   "q01": q01, "q05": q05, "q50": q50, "yield": np.mean(acc >= target),
                   "yield_target": target, "digital_accuracy": 0.9,
                   "digital_correct": np.int64(round(0.9 * images)),
                   "top5_mean": (correct5 / images).mean(), "digital_top5_accuracy": 1.0}
    else:
        summary = {s: np.nan for s in ("mean", "std", "ci95_lo", "ci95_hi", "min", "max",
                                       "q01", "q05", "q50", "yield", "top5_mean",
                                       "digital_accuracy", "digital_top5_accuracy")}
        summary.update(yield_target=target, digital_correct=np.int64(-1))
    config = {"m_mode": "TNN_I", "M": 256, "N": 256, "HRS": 5, "LRS": 30}
    with h5py.File(path, "w", libver="latest") as f:
        attrs = {"format": "cimgpu-run", "format_version": np.int32(1),
                 "complete": np.int32(done), "seed": np.uint64(0),
                 "trials": np.int64(trials), "trial_offset": np.int64(trial_offset),
                 "images": np.int64(images), "first_image": np.int64(0), "mapping": "TNN_I",
                 "config_json": json.dumps(config), "model_path": "/models/tnn_cnn.h5",
                 "yield_target": np.float64(target), "trace": np.int32(0),
                 "created": "2026-01-01T00:00:00Z"}
        for k, v in attrs.items():
            if isinstance(v, str):
                f.attrs.create(k, v, dtype=STR)
            else:
                f.attrs[k] = v
        f["trials_written"] = np.int64(written)
        g = f.create_group("trials")
        per_trial = {"accuracy": np.where(correct >= 0, correct / images, -1.0),
                     "correct": correct, "layer_error_rate": layer_error}
        if top5:
            per_trial.update(top5_accuracy=np.where(correct5 >= 0, correct5 / images, -1.0),
                             top5_correct=correct5)
        for name, values in per_trial.items():
            g.create_dataset(name, data=values, maxshape=(None,) + values.shape[1:],
                             chunks=True)
        g["layer_error_rate"].attrs.create("layers", np.array(layers, dtype=object), dtype=STR)
        s = f.create_group("summary")
        for k, v in summary.items():
            s[k] = v
    return RunFile(path=str(path), images=images, trials=trials, written=written,
                   trial_offset=trial_offset, correct=correct, correct5=correct5,
                   layer_error=layer_error, layers=list(layers), summary=summary)


def package_env(scratch):
    """The environment for a child Python that imports the package from the source tree:
    PYTHONPATH=python, no bytecode files, matplotlib's cache in the scratch folder."""
    env = dict(os.environ)
    env.update(PYTHONPATH=os.path.join(ROOT, "python"), PYTHONDONTWRITEBYTECODE="1",
               MPLBACKEND="Agg", MPLCONFIGDIR=os.path.join(str(scratch), "mplconfig"))
    return env


# A sweep like an architect's first one: three mappings' worth of axes over fixed conditions.
STANDARD_SWEPT = {"xbar_size": [(128, 128), (256, 256)], "m_mode": ["TNN_I", "TNN_II"],
                  "hrs_noise": [0.0, 1.0, 2.0]}
STANDARD_FIXED = {"nn_data_set": "fashion_mnist", "nn_data": "TEST", "batch": 10,
                  "num_runs": 1, "ifm": (28, 28, 1), "digital_only": False,
                  "adc_type": "INF_ADC", "verbose": False, "hrs_lrs": (5.0, 30.0),
                  "resolution": -1, "lrs_noise": 0.0}


def standard_sweep(path, **kw):
    """write_sweep of STANDARD_SWEPT over STANDARD_FIXED (12 configurations)."""
    return write_sweep(path, STANDARD_SWEPT, STANDARD_FIXED, **kw)


class Scratch(unittest.TestCase):
    """A test case with its own scratch folder, self.tmp, removed after each test."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="cimgpu-py-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

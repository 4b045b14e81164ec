"""test_real_files.py -- the package on files the cimgpu binary writes: `cimgpu run` (8 chips)
and `cimgpu sweep` (a 2 x 2 experiment, 6 chips per configuration). read_run, read_sweep and
read_sweep_trials must give exactly the raw datasets, and the figures' data must agree with
/trials. The binary is $CIMGPU_BIN (ctest sets it), else build/cimgpu of the source tree;
skipped only when there is no binary or no OpenCL device. A failing cimgpu command fails."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

import cimgpu
import fixtures
from cimgpu import figures

EXPERIMENT = {
    "nn_names": ["tnn_cnn"], "ifm": [[28, 28, 1]], "batch": 10, "num_runs": 2,
    "xbar_size": [[256, 256]], "hrs_lrs": [[5.0, 30.0]], "adc_type": "INF_ADC",
    "m_mode": ["TNN_I", "TNN_II"], "hrs_noise": [0.0, 2.0], "lrs_noise": [0.0],
    "digital_only": False, "verbose": False,
}


def binary():
    path = os.environ.get("CIMGPU_BIN") or os.path.join(fixtures.ROOT, "build", "cimgpu")
    if not os.access(path, os.X_OK):
        if os.environ.get("CIMGPU_BIN"):
            raise AssertionError(f"CIMGPU_BIN={path}: not an executable")
        raise unittest.SkipTest(f"no cimgpu binary ({path}): build it or set CIMGPU_BIN")
    r = subprocess.run([path, "info"], capture_output=True, text=True, timeout=300)
    for line in r.stdout.splitlines():
        if line.startswith("Default device") and "no OpenCL device found" in line:
            raise unittest.SkipTest(f"no OpenCL device ({line.strip()})")
    return path


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def raw_column(ds, j=None):
    values = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    values = values if j is None else values[:, j]
    return values.astype(bool) if ds.dtype == np.uint8 else values


class RealFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = binary()
        cls._tmp = tempfile.TemporaryDirectory(prefix="cimgpu-py-real-")
        cls.tmp = cls._tmp.name

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def cimgpu(self, *args):
        r = subprocess.run([self.bin, *args], cwd=self.tmp, capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            self.fail(f"cimgpu {' '.join(args)} exited with status {r.returncode}: "
                      f"{r.stderr.strip()}")

    def made(self, name, *args):
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            self.cimgpu(*args)
        return path

    def plot_cli(self, name, folder):
        r = subprocess.run([sys.executable, "-m", "cimgpu.plot", name, "-o", folder],
                           cwd=self.tmp, env=fixtures.package_env(self.tmp),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [os.path.basename(p) for p in r.stdout.splitlines()]

    def test_run_file(self):
        path = self.made("R.h5", "run", "--images", "20", "--trials", "8", "--out", "R.h5")
        run = cimgpu.read_run(path)
        with h5py.File(path, "r") as f:
            self.assertTrue(run.complete)
            self.assertEqual(len(run.trials), 8)
            np.testing.assert_array_equal(run.trials["accuracy"], f["trials/accuracy"][()])
            np.testing.assert_array_equal(run.trials["correct"], f["trials/correct"][()])
            layers = [text(v) for v in f["trials/layer_error_rate"].attrs["layers"]]
            for j, layer in enumerate(layers):
                np.testing.assert_array_equal(run.trials[f"layer_error_{layer}"],
                                              f["trials/layer_error_rate"][:, j])
            for stat, ds in f["summary"].items():
                self.assertEqual(run.summary[stat], ds[()], stat)
            self.assertEqual(run.attrs["config_json"], json.loads(f.attrs["config_json"]))
            correct = f["trials/correct"][()]
        hist, yld = figures.run_plots(run)
        (counts,) = hist.data["counts"].values()
        np.testing.assert_array_equal(
            counts, np.histogram(correct, bins=hist.data["edges_correct"])[0])
        self.assertEqual(counts.sum(), 8)
        (y,) = yld.data["yield"].values()
        k = np.arange(correct.min(), correct.max() + 1)
        np.testing.assert_array_equal(y, (correct[:, None] >= k[None, :]).mean(axis=0))
        self.assertEqual(self.plot_cli("R.h5", "run_figs"),
                         ["chip_histogram.png", "yield_vs_target.png"])

    def sweep_file(self):
        with open(os.path.join(self.tmp, "EXP.json"), "w") as fh:
            json.dump(EXPERIMENT, fh)
        return self.made("S.h5", "sweep", "EXP.json", "--out", "S.h5", "--trials", "6")

    def test_sweep_tables_equal_the_raw_datasets(self):
        path = self.sweep_file()
        df = cimgpu.read_sweep(path)
        trials = cimgpu.read_sweep_trials(path)
        with h5py.File(path, "r") as f:
            self.assertEqual(f.attrs["format"], "cimgpu-sweep")
            self.assertEqual(f.attrs["complete"], 1)
            self.assertEqual(f.attrs["n_configs"], 4)
            self.assertEqual(f.attrs["trials"], 6)
            self.assertEqual(len(df), 4)
            self.assertEqual(list(df.index), [0, 1, 2, 3])
            columns = []
            for key in list(text(k) for k in f["configs"].attrs["keys"]) + ["done",
                                                                         "trials_written"]:
                ds = f["configs"][key]
                if ds.ndim == 2:
                    parts = [text(p) for p in ds.attrs["columns"]]
                    for j, p in enumerate(parts):
                        columns.append(f"{key}_{p}")
                        np.testing.assert_array_equal(df[f"{key}_{p}"], raw_column(ds, j), key)
                else:
                    columns.append(key)
                    self.assertEqual(df[key].tolist(), raw_column(ds).tolist(), key)
            stats = [s for s in (text(k) for k in f["summary"].attrs["keys"]) if s not in columns]
            self.assertEqual(list(df.columns), columns + stats)
            for stat in stats:
                np.testing.assert_array_equal(df[stat], f[f"summary/{stat}"][()], stat)
            self.assertTrue(df["done"].all())
            self.assertEqual(df["trials_written"].tolist(), [6] * 4)
            top1 = f["trials/top1"][()]
            self.assertEqual(top1.shape, (4, 6))
            self.assertEqual(len(trials), 24)
            np.testing.assert_array_equal(trials["top1"], top1.ravel())
            np.testing.assert_array_equal(trials["top5"], f["trials/top5"][()].ravel())
        # the grid's order: m_mode before hrs_noise, the last varying fastest
        self.assertEqual(cimgpu.swept_keys(df), ["m_mode", "hrs_noise"])
        self.assertEqual(list(zip(df["m_mode"], df["hrs_noise"])),
                         [("TNN_I", 0.0), ("TNN_I", 2.0), ("TNN_II", 0.0), ("TNN_II", 2.0)])
        # the sweep's own statistics against its chips
        np.testing.assert_allclose(df["top1_mean"], top1.mean(axis=1), rtol=0, atol=1e-12)
        np.testing.assert_allclose(df["top1_q05"], np.quantile(top1, 0.05, axis=1), atol=1e-12)
        self.assertTrue(((df["top1_ci95_lo"] <= df["top1_mean"])
                         & (df["top1_mean"] <= df["top1_ci95_hi"])).all())

    def test_sweep_figures_agree_with_trials(self):
        path = self.sweep_file()
        df, trials = cimgpu.read_sweep(path), cimgpu.read_sweep_trials(path)
        with h5py.File(path, "r") as f:
            top1 = f["trials/top1"][()]
            images = int(f.attrs["images"])
        self.assertEqual(images, 20)
        plots = figures.sweep_plots(df, trials)
        self.assertEqual([p.name for p in plots],
                         ["acc_vs_hrs_noise", "chip_histograms", "yield_vs_target"])
        line = plots[0].data
        self.assertEqual(sorted(line["config"]), [0, 1, 2, 3])
        for _, p in line.iterrows():
            c = p["config"]
            lo, hi = np.quantile(top1[c], [0.05, 0.95])
            self.assertEqual((p["band_lo"], p["band_hi"]), (lo, hi))
            self.assertEqual(p["mean"], df["top1_mean"][c])
            self.assertEqual((p["ci_lo"], p["ci_hi"]),
                             (df["top1_ci95_lo"][c], df["top1_ci95_hi"][c]))
            self.assertEqual(p["baseline"], df["top1_baseline"][c])
            self.assertEqual(p["x"], df["hrs_noise"][c])
        hist = plots[1].data
        correct = np.rint(top1 * images)
        for c, counts in enumerate(hist["counts"].values()):
            np.testing.assert_array_equal(counts, np.histogram(correct[c],
                                                               hist["edges_correct"])[0])
        yld = plots[2].data
        for c, y in enumerate(yld["yield"].values()):
            np.testing.assert_array_equal(y, (top1[c][:, None] >= yld["targets"]).mean(axis=0))
        self.assertEqual(self.plot_cli("S.h5", "sweep_figs"),
                         ["acc_vs_hrs_noise.png", "chip_histograms.png", "yield_vs_target.png"])


if __name__ == "__main__":
    unittest.main()

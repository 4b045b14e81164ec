"""test_studies.py -- the paper's studies (benchmarks/studies): the Welch statistics against
Student t tables and the sweep's own intervals, and one tiny study run end to end through
run_studies.sh (hrs_var with 2 mappings x 2 sigmas, 4 chips x 10 images): the experiment it
writes, report.md naming each of the three conclusions, its figures, and every interval it
quotes equal to the one computed from the results file. The binary is $CIMGPU_BIN (ctest
sets it), else build/cimgpu; skipped only without a binary or an OpenCL device."""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

import fixtures
import test_real_files

STUDIES = os.path.join(fixtures.ROOT, "benchmarks", "studies")
sys.path.insert(0, STUDIES)
import studystats  # noqa: E402

# t(0.975, df), from published tables (to 1e-12)
T_TABLE = {1: 12.706204736174698, 2: 4.302652729749464, 3: 3.182446305284263,
           10: 2.2281388519862744, 30: 2.0422724563012373, 100: 1.983971518523547,
           math.inf: 1.959963984540054}


def ci_text(mean, lo, hi):
    return f"{mean:.3f} (95 % CI {lo:.3f}–{hi:.3f})"


def diff_text(d, lo, hi):
    return f"{d:+.3f} (95 % CI {lo:+.3f} to {hi:+.3f})"


def welch_numpy(a, b):
    """mean(a) - mean(b), its Welch interval: written out here with numpy."""
    a, b = np.asarray(a), np.asarray(b)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    d = a.mean() - b.mean()
    if va + vb == 0:
        return d, d, d
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = studystats.t_quantile(0.975, df) * math.sqrt(va + vb)
    return d, d - half, d + half


class Statistics(unittest.TestCase):
    def test_t_quantile_matches_the_tables(self):
        for df, t in T_TABLE.items():
            self.assertAlmostEqual(studystats.t_quantile(0.975, df), t, delta=1e-11, msg=df)
            self.assertAlmostEqual(studystats.t_quantile(0.025, df), -t, delta=1e-11, msg=df)
        self.assertAlmostEqual(studystats.t_quantile(0.5, 7), 0.0, delta=1e-13)

    def test_incomplete_beta_exact_values(self):
        # I_x(2, 3) = 6x^2 - 8x^3 + 3x^4; I_x(1, 1) = x
        for x in (0.1, 0.4, 0.75):
            self.assertAlmostEqual(studystats.betainc(2, 3, x), 6 * x**2 - 8 * x**3 + 3 * x**4,
                                   delta=1e-14)
            self.assertAlmostEqual(studystats.betainc(1, 1, x), x, delta=1e-14)
        self.assertAlmostEqual(studystats.t_cdf(1.0, 1), 0.75, delta=1e-14)   # Cauchy

    def test_welch_cases(self):
        a, b = [0.8, 0.82, 0.85, 0.81], [0.7, 0.75, 0.72, 0.71, 0.74]
        d = studystats.welch_diff(a, b)
        self.assertEqual((d["estimate"], d["lo"], d["hi"]),
                         tuple(float(v) for v in welch_numpy(a, b)))
        flat = studystats.welch_diff([0.9, 0.9], [0.8, 0.8])
        self.assertAlmostEqual(flat["estimate"], 0.1, delta=1e-15)
        self.assertEqual((flat["lo"], flat["hi"], flat["se"]),
                         (flat["estimate"], flat["estimate"], 0.0))
        with self.assertRaises(ValueError):
            studystats.welch_diff([0.9], [0.8, 0.7])


class TinyStudy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = test_real_files.binary()
        cls._tmp = tempfile.TemporaryDirectory(prefix="cimgpu-py-studies-")
        cls.tmp = cls._tmp.name
        os.makedirs(os.path.join(cls.tmp, "studies"))
        with open(os.path.join(STUDIES, "hrs_var.json")) as fh:
            exp = json.load(fh)
        exp.update(nn_names=["bnn_cnn"], ifm=[[28, 28, 1]], m_mode=["BNN_I", "BNN_III"],
                   hrs_noise=[0.0, 8.0])
        with open(os.path.join(cls.tmp, "studies", "hrs_var.json"), "w") as fh:
            json.dump(exp, fh)
        cls.out = os.path.join(cls.tmp, "out")
        cls.first = cls.run_studies()
        cls.h5 = os.path.join(cls.out, "hrs_var.h5")
        with open(os.path.join(cls.out, "report", "report.md")) as fh:
            cls.md = fh.read()
        with open(os.path.join(cls.out, "report", "report.json")) as fh:
            cls.js = json.load(fh)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    @classmethod
    def run_studies(cls, out=None, trials=4, status=0):
        env = fixtures.package_env(cls.tmp)
        env.update(CIMGPU_BIN=cls.bin, PYTHON=sys.executable)
        r = subprocess.run(["bash", os.path.join(STUDIES, "run_studies.sh"), "--studies-dir",
                            os.path.join(cls.tmp, "studies"), "--only", "hrs_var",
                            "--trials", str(trials), "--images", "10", "--out", out or cls.out],
                           cwd=cls.tmp, env=env, capture_output=True, text=True, timeout=300)
        if r.returncode != status:
            raise AssertionError(f"run_studies.sh exited with status {r.returncode}, expected "
                                 f"{status}: {r.stderr.strip()[-2000:]}")
        return r

    def test_the_experiment_as_run(self):
        with open(os.path.join(self.out, "exp", "hrs_var.json")) as fh:
            exp = json.load(fh)
        self.assertEqual((exp["batch"], exp["num_runs"], exp["trials"]), (10, 1, 4))
        self.assertEqual(exp["m_mode"], ["BNN_I", "BNN_III"])
        with h5py.File(self.h5, "r") as f:
            self.assertEqual(f.attrs["complete"], 1)
            self.assertEqual((int(f.attrs["n_configs"]), int(f.attrs["trials"]),
                              int(f.attrs["images"])), (4, 4, 10))
        self.assertTrue(os.path.exists(os.path.join(self.out, "hrs_var.csv")))

    def test_report_names_each_conclusion(self):
        titles = [c["title"] for c in self.js["conclusions"]]
        self.assertEqual([c["id"] for c in self.js["conclusions"]], [1, 2, 3])
        for c in self.js["conclusions"]:
            self.assertIn(f"### ({c['id']}) {c['title']}", self.md)
            self.assertIn(f"**{c['statement']}**", self.md)
            self.assertTrue(c["statement"].startswith(c["verdict"]), c["statement"])
        self.assertIn("Differential mappings", titles[0])
        self.assertIn("3-bit ADCs", titles[1])
        self.assertIn("TNNs", titles[2])
        # only hrs_var ran: the ADC conclusions say so
        self.assertEqual([c["verdict"] for c in self.js["conclusions"][1:]],
                         ["not tested", "not tested"])
        self.assertIn("| lrs_var |", self.md)           # listed as not run
        self.assertRegex(self.md, r"\| hrs_var \|[^\n]*\| complete \| 4 \| 4 × 10 \|")

    def test_figures_exist(self):
        figs = self.js["figures"]["hrs_var"]
        self.assertIn(os.path.join("hrs_var", "acc_vs_hrs_noise.png"), figs)
        for rel in figs:
            with open(os.path.join(self.out, "report", rel), "rb") as fh:
                self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n", rel)
            self.assertIn(f"({rel})", self.md)
        self.assertIn("![hrs_var](hrs_var/acc_vs_hrs_noise.png)", self.md)

    def test_intervals_equal_the_file(self):
        with h5py.File(self.h5, "r") as f:
            top1 = f["trials/top1"][()]
            summary = {k: f[f"summary/{k}"][()] for k in
                       ("top1_mean", "top1_ci95_lo", "top1_ci95_hi")}
            modes = list(f["configs/m_mode"].asstr()[()])
            sigmas = list(f["configs/hrs_noise"][()])
        (c1,) = self.js["conclusions"][:1]
        self.assertEqual(len(c1["decisive"]), 1)
        p = c1["decisive"][0]
        self.assertEqual((p["sigma"], p["nn_name"], p["xbar"]), (8.0, "bnn_cnn", "256x256"))
        a = modes.index("BNN_I") + sigmas[modes.index("BNN_I"):].index(8.0)
        b = modes.index("BNN_III") + sigmas[modes.index("BNN_III"):].index(8.0)
        self.assertEqual((p["best_differential"]["config"], p["best_non_differential"]["config"]),
                         (a, b))
        for q in (p["best_differential"], p["best_non_differential"]):
            c = q["config"]
            values = (summary["top1_mean"][c], summary["top1_ci95_lo"][c],
                      summary["top1_ci95_hi"][c])
            self.assertEqual((q["mean"], q["lo"], q["hi"]), tuple(float(v) for v in values))
            self.assertIn(ci_text(*values), self.md)
            # the file's interval is Student's t of its chips, with t(0.975, n - 1) from a
            # table of 3 decimals: studystats' exact t of one sample agrees to 5e-4
            one = studystats.linear_ci([top1[c]], [1.0])
            self.assertAlmostEqual(one["estimate"], values[0], delta=1e-12)
            if one["se"] > 0:
                t_file = (values[2] - values[0]) / one["se"]
                self.assertAlmostEqual(t_file, one["t"], delta=5e-4)
                self.assertAlmostEqual(one["df"], top1.shape[1] - 1, delta=1e-9)
            else:
                self.assertEqual((values[1], values[2]), (values[0], values[0]))
        d, lo, hi = welch_numpy(top1[a], top1[b])
        got = p["delta"]
        for x, y in ((got["estimate"], d), (got["lo"], lo), (got["hi"], hi)):
            self.assertAlmostEqual(x, y, delta=1e-12)
        self.assertIn(diff_text(d, lo, hi), self.md)
        # every interval of the mapping table is the file's
        for row in re.findall(r"^\| (BNN_I|BNN_III) \| [^|]+ \| ([^|]+) \|", self.md, re.M):
            c = modes.index(row[0]) + sigmas[modes.index(row[0]):].index(8.0)
            self.assertEqual(row[1].strip(), ci_text(summary["top1_mean"][c],
                                                     summary["top1_ci95_lo"][c],
                                                     summary["top1_ci95_hi"][c]))

    def test_results_of_another_experiment_are_refused(self):
        other = os.path.join(self.tmp, "other")
        shutil.copytree(self.out, other)
        before = os.stat(os.path.join(other, "hrs_var.h5")).st_mtime_ns
        r = self.run_studies(other, trials=3, status=2)
        self.assertIn("hrs_var.h5 holds another experiment", r.stderr)
        self.assertEqual(os.stat(os.path.join(other, "hrs_var.h5")).st_mtime_ns, before)

    def test_a_second_run_keeps_the_results(self):
        before = os.stat(self.h5).st_mtime_ns
        r = self.run_studies()
        self.assertIn("hrs_var: ", r.stdout)
        self.assertIn("is complete, kept", r.stdout)
        self.assertEqual(os.stat(self.h5).st_mtime_ns, before)


if __name__ == "__main__":
    unittest.main()

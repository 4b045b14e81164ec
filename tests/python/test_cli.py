"""test_cli.py -- python3 -m cimgpu.plot: the PNGs written and the lines printed for sweep,
run and unfinished files; exit status 2 with one line on stderr for a missing file, a file
that is not HDF5 and an HDF5 file that is not cimgpu's."""
import os
import subprocess
import sys
import unittest

import h5py
import numpy as np

import fixtures

PNG = b"\x89PNG\r\n\x1a\n"


class Cli(fixtures.Scratch):
    def plot(self, *args):
        return subprocess.run([sys.executable, "-m", "cimgpu.plot", *args], cwd=self.tmp,
                              env=fixtures.package_env(self.tmp), capture_output=True, text=True,
                              timeout=300)

    def check_written(self, r, folder, names):
        self.assertEqual(r.returncode, 0, r.stderr)
        want = [os.path.join(folder, n + ".png") for n in names]
        self.assertEqual(r.stdout.splitlines(), want)
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, folder))),
                         sorted(n + ".png" for n in names))
        for path in want:
            with open(os.path.join(self.tmp, path), "rb") as fh:
                self.assertEqual(fh.read(8), PNG, path)

    def test_sweep(self):
        fixtures.standard_sweep(os.path.join(self.tmp, "S.h5"))
        r = self.plot("S.h5", "-o", "figs")
        self.check_written(r, "figs", [
            "acc_vs_hrs_noise__xbar_size_128x128", "acc_vs_hrs_noise__xbar_size_256x256",
            "acc_vs_xbar_size__hrs_noise_0", "acc_vs_xbar_size__hrs_noise_1",
            "acc_vs_xbar_size__hrs_noise_2", "chip_histograms", "yield_vs_target"])
        self.assertEqual(r.stderr, "")

    def test_unfinished_sweep(self):
        fixtures.write_sweep(os.path.join(self.tmp, "S.h5.partial"),
                             {"m_mode": ["TNN_I", "TNN_II"], "hrs_noise": [0.0, 1.0, 2.0]},
                             done=[1, 1, 0, 1, 0, 0], written=[5, 5, 2, 5, 0, 0])
        r = self.plot("S.h5.partial", "-o", "partial")
        self.check_written(r, "partial", ["acc_vs_hrs_noise", "chip_histograms",
                                          "yield_vs_target"])

    def test_run(self):
        fixtures.write_run(os.path.join(self.tmp, "R.h5"))
        r = self.plot("R.h5", "-o", "out")
        self.check_written(r, "out", ["chip_histogram", "yield_vs_target"])

    def test_too_many_figures_warns_on_one_line(self):
        fixtures.write_sweep(os.path.join(self.tmp, "S.h5"), {
            "hrs_noise": [0.0, 1.0], "lrs_noise": [0.1 * i for i in range(25)]}, trials=4)
        r = self.plot("S.h5", "-o", "many")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "cimgpu.plot: warning: acc_vs_hrs_noise: 25 combinations of "
                                   "lrs_noise; drawing the first 24\n")
        self.assertEqual(len(r.stdout.splitlines()), 24 + 2 + 2)

    def check_refused(self, name, expected):
        r = self.plot(name, "-o", "figs")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith(f"cimgpu.plot: {name}: "), r.stderr)
        self.assertIn(expected, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "figs")))

    def test_missing_file(self):
        self.check_refused("nothing.h5", "no such file")

    def test_not_hdf5(self):
        with open(os.path.join(self.tmp, "notes.txt"), "w") as fh:
            fh.write("hello\n")
        self.check_refused("notes.txt", "not a readable HDF5 file")

    def test_not_cimgpu(self):
        with h5py.File(os.path.join(self.tmp, "other.h5"), "w") as f:
            f["x"] = np.arange(4)
        self.check_refused("other.h5", "not a cimgpu results file")

    def test_mvm_file(self):
        with h5py.File(os.path.join(self.tmp, "mvm.h5"), "w") as f:
            f.attrs["format"] = "cimgpu-mvm"
            f.attrs["format_version"] = np.int32(1)
        self.check_refused("mvm.h5", "a cimgpu-mvm file, expected cimgpu-run or cimgpu-sweep")


if __name__ == "__main__":
    unittest.main()

"""test_tables.py -- read_sweep, read_sweep_trials, swept_keys and read_run against files of
known numbers (fixtures.py): columns, dtypes and values exactly, unfinished files (also one
held open by a live SWMR writer), and the one-line errors for files that are not what they
should be."""
import json
import unittest

import h5py
import numpy as np
import pandas as pd

import cimgpu
import fixtures

STANDARD_COLUMNS = [
    "nn_data_set", "nn_data", "batch", "num_runs", "ifm_H", "ifm_W", "ifm_C", "digital_only",
    "adc_type", "verbose", "hrs_lrs_HRS", "hrs_lrs_LRS", "resolution", "lrs_noise",
    "xbar_size_M", "xbar_size_N", "m_mode", "hrs_noise", "nn_name", "model_path", "adc",
    "config_json", "run_command", "done", "trials_written"]
# /summary is not created with creation order tracked: h5py lists it by name.
STAT_COLUMNS = sorted(fixtures.STATS)
STRINGS = ("nn_data_set", "nn_data", "adc_type", "m_mode", "nn_name", "model_path", "adc",
           "config_json", "run_command")
BOOLS = ("digital_only", "verbose", "done")
INTS = ("batch", "num_runs", "ifm_H", "ifm_W", "ifm_C", "resolution", "xbar_size_M",
        "xbar_size_N", "trials_written")


Scratch = fixtures.Scratch


def expected_config_column(fx, column):
    """A DataFrame column's values from the fixture's configurations."""
    for key, parts in (("xbar_size", "MN"), ("ifm", "HWC"), ("hrs_lrs", ("HRS", "LRS"))):
        for j, p in enumerate(parts):
            if column == f"{key}_{p}":
                return [c[key][j] for c in fx.configs]
    return [c[column] for c in fx.configs]


class ReadSweep(Scratch):
    def test_columns_dtypes_and_values(self):
        fx = fixtures.standard_sweep(self.path("S.h5"))
        df = cimgpu.read_sweep(fx.path)
        self.assertEqual(list(df.columns), STANDARD_COLUMNS + STAT_COLUMNS)
        self.assertIsInstance(df.index, pd.RangeIndex)
        self.assertEqual(df.index.name, "config")
        self.assertEqual(list(df.index), list(range(12)))
        for col in STANDARD_COLUMNS:
            if col in STRINGS:
                want = object
            elif col in BOOLS:
                want = bool
            elif col in INTS:
                want = np.int64
            else:
                want = np.float64
            self.assertEqual(df[col].dtype, want, col)
            values = df[col].tolist()
            self.assertEqual(values, expected_config_column(fx, col), col)
            if col in STRINGS:
                self.assertTrue(all(type(v) is str for v in values), col)
        for stat in STAT_COLUMNS:
            self.assertEqual(df[stat].dtype, np.float64, stat)
            np.testing.assert_array_equal(df[stat].to_numpy(), fx.summary[stat], stat)
        self.assertEqual(df["m_mode"].tolist()[:6], ["TNN_I"] * 3 + ["TNN_II"] * 3)
        self.assertEqual(df["hrs_noise"].tolist()[:3], [0.0, 1.0, 2.0])
        self.assertTrue(df["done"].all())
        root = df.attrs["root"]
        self.assertEqual(root["format"], "cimgpu-sweep")
        self.assertEqual(root["n_configs"], 12)
        self.assertEqual(root["complete"], 1)
        self.assertEqual(root["experiment_json"]["nn_names"], ["tnn_cnn"])
        self.assertEqual(df.attrs["configs"]["xbar_size"], ["xbar_size_M", "xbar_size_N"])
        self.assertEqual(df.attrs["configs"]["ifm"], ["ifm_H", "ifm_W", "ifm_C"])

    def test_name_order_without_creation_order(self):
        fx = fixtures.standard_sweep(self.path("S.h5"), track_order=False)
        df = cimgpu.read_sweep(fx.path)
        keys = list(df.attrs["configs"])
        self.assertEqual(keys, sorted(fx.keys))
        self.assertEqual(set(df.columns), set(STANDARD_COLUMNS + STAT_COLUMNS))

    def test_partial_file(self):
        done = [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
        written = [5, 5, 2, 0, 5, 0, 0, 0, 0, 0, 0, 5]
        fx = fixtures.standard_sweep(self.path("S.h5.partial"), done=done, written=written)
        with h5py.File(fx.path, "r") as f:
            self.assertEqual(f.attrs["complete"], 0)
        df = cimgpu.read_sweep(fx.path)
        self.assertEqual(df.attrs["root"]["complete"], 0)
        self.assertEqual(df["done"].tolist(), [bool(d) for d in done])
        self.assertEqual(df["trials_written"].tolist(), written)
        for stat in STAT_COLUMNS:
            np.testing.assert_array_equal(df[stat].to_numpy(), fx.summary[stat])
            self.assertTrue(df.loc[~df["done"], stat].isna().all(), stat)
            self.assertTrue(df.loc[df["done"], stat].notna().all(), stat)
        trials = cimgpu.read_sweep_trials(fx.path)
        self.assertEqual(len(trials), sum(written))
        self.assertEqual(trials.loc[trials["config"] == 2, "trial"].tolist(), [0, 1])
        np.testing.assert_array_equal(trials.loc[trials["config"] == 2, "top1"],
                                      fx.correct[2, :2] / fx.images)
        self.assertFalse(trials["top1"].isna().any())

    def test_summary_of_a_config_not_done_is_nan(self):
        # A writer may flush statistics before the done flag: not done means NaN here.
        fx = fixtures.standard_sweep(self.path("S.h5.partial"), done=[1] * 11 + [0])
        with h5py.File(fx.path, "r+", libver="latest") as f:
            f["summary/top1_mean"][11] = 0.5
        df = cimgpu.read_sweep(fx.path)
        self.assertTrue(np.isnan(df["top1_mean"][11]))
        self.assertEqual(df["top1_mean"][10], fx.summary["top1_mean"][10])

    def test_live_swmr_writer(self):
        path = self.path("S.h5.partial")
        swept = {"m_mode": ["TNN_I", "TNN_II"], "hrs_noise": [0.0, 2.0]}
        with fixtures.SweepWriter(path, swept) as w:
            df = cimgpu.read_sweep(path)
            self.assertEqual(len(df), 4)
            self.assertFalse(df["done"].any())
            self.assertTrue(df["top1_mean"].isna().all())
            self.assertEqual(len(cimgpu.read_sweep_trials(path)), 0)
            w.finish_next()
            w.finish_next()
            df = cimgpu.read_sweep(path)
            self.assertEqual(df["done"].tolist(), [True, True, False, False])
            np.testing.assert_array_equal(df["top1_mean"][:2], w.fixture.summary["top1_mean"][:2])
            trials = cimgpu.read_sweep_trials(path)
            self.assertEqual(trials["config"].tolist(), [0] * 5 + [1] * 5)
            np.testing.assert_array_equal(trials["top1"], w.fixture.top1[:2].ravel())

    def test_trials_long_format(self):
        fx = fixtures.standard_sweep(self.path("S.h5"))
        trials = cimgpu.read_sweep_trials(fx.path)
        self.assertEqual(list(trials.columns), ["config", "trial", "top1", "top5"])
        self.assertEqual(trials["config"].dtype, np.int64)
        self.assertEqual(trials["trial"].dtype, np.int64)
        self.assertEqual(trials["config"].tolist(), [c for c in range(12) for _ in range(5)])
        self.assertEqual(trials["trial"].tolist(), list(range(5)) * 12)
        np.testing.assert_array_equal(trials["top1"], (fx.correct / fx.images).ravel())
        np.testing.assert_array_equal(trials["top5"], (fx.correct5 / fx.images).ravel())
        joined = trials.join(cimgpu.read_sweep(fx.path)[["m_mode"]], on="config")
        self.assertEqual(joined["m_mode"].tolist()[:5], ["TNN_I"] * 5)


class SweptKeys(Scratch):
    def test_standard(self):
        df = cimgpu.read_sweep(fixtures.standard_sweep(self.path("S.h5")).path)
        self.assertEqual(cimgpu.swept_keys(df), ["xbar_size", "m_mode", "hrs_noise"])

    def test_single_configuration(self):
        fx = fixtures.write_sweep(self.path("S.h5"), {"m_mode": ["TNN_I"]})
        self.assertEqual(cimgpu.swept_keys(cimgpu.read_sweep(fx.path)), [])

    def test_derived_keys_left_out(self):
        # hrs_lrs follows gmin_gmax; ifm follows nn_name; adc follows m_mode
        fx = fixtures.write_sweep(self.path("S.h5"), {
            "nn_name": ["tnn_cnn", "tnn_mlp"], "gmin_gmax": [(25.0, 150.0), (50.0, 150.0)],
            "m_mode": ["TNN_I", "TNN_II"]}, {"V_read": -0.2, "adc_type": "FP_ALPHA_ADC"})
        df = cimgpu.read_sweep(fx.path)
        with h5py.File(fx.path, "r+") as f:      # what the sweep derives, varying
            f["configs/hrs_lrs"][...] = np.abs(f["configs/gmin_gmax"][()] * -0.2)
            f["configs/adc"][...] = ["SYM_RANGE_ADC" if m == "TNN_I" else "POS_RANGE_ONLY_ADC"
                                     for m in df["m_mode"]]
        df = cimgpu.read_sweep(fx.path)
        self.assertGreater(df[["hrs_lrs_HRS"]].nunique().iloc[0], 1)
        self.assertEqual(df["adc"].nunique(), 2)
        self.assertEqual(cimgpu.swept_keys(df), ["nn_name", "gmin_gmax", "m_mode"])

    def test_needs_read_sweep_attrs(self):
        with self.assertRaisesRegex(ValueError, "read_sweep"):
            cimgpu.swept_keys(pd.DataFrame({"m_mode": ["a", "b"]}))


class Errors(Scratch):
    def message(self, fn, path):
        with self.assertRaises(cimgpu.ResultsFileError) as cm:
            fn(path)
        text = str(cm.exception)
        self.assertNotIn("\n", text)
        self.assertTrue(text.startswith(path), text)
        return text

    def test_missing_file(self):
        self.assertIn("no such file", self.message(cimgpu.read_sweep, self.path("S.h5")))

    def test_missing_file_with_partial_beside_it(self):
        fixtures.standard_sweep(self.path("S.h5.partial"), done=[0] * 12)
        text = self.message(cimgpu.read_sweep, self.path("S.h5"))
        self.assertIn("S.h5.partial is there", text)

    def test_not_hdf5(self):
        with open(self.path("x.h5"), "w") as fh:
            fh.write("not HDF5\n")
        self.assertIn("not a readable HDF5 file", self.message(cimgpu.read_sweep,
                                                               self.path("x.h5")))

    def test_hdf5_without_format(self):
        with h5py.File(self.path("x.h5"), "w") as f:
            f["data"] = np.arange(3)
        self.assertIn("not a cimgpu results file", self.message(cimgpu.read_run,
                                                                self.path("x.h5")))

    def test_wrong_kind(self):
        fixtures.write_run(self.path("R.h5"))
        fixtures.standard_sweep(self.path("S.h5"))
        self.assertIn("a cimgpu-run file, expected cimgpu-sweep",
                      self.message(cimgpu.read_sweep, self.path("R.h5")))
        self.assertIn("a cimgpu-sweep file, expected cimgpu-run",
                      self.message(cimgpu.read_run, self.path("S.h5")))
        self.assertIn("expected cimgpu-sweep",
                      self.message(cimgpu.read_sweep_trials, self.path("R.h5")))

    def test_newer_format_version(self):
        fixtures.standard_sweep(self.path("S.h5"))
        with h5py.File(self.path("S.h5"), "r+") as f:
            f.attrs["format_version"] = np.int32(2)
        self.assertIn("format_version 2 is newer",
                      self.message(cimgpu.read_sweep, self.path("S.h5")))

    def test_2d_dataset_without_columns(self):
        fixtures.standard_sweep(self.path("S.h5"))
        with h5py.File(self.path("S.h5"), "r+") as f:
            del f["configs/xbar_size"].attrs["columns"]
        self.assertIn("/configs/xbar_size (12 x 2) needs an attribute columns",
                      self.message(cimgpu.read_sweep, self.path("S.h5")))

    def test_boolean_not_0_or_1(self):
        fixtures.standard_sweep(self.path("S.h5"))
        with h5py.File(self.path("S.h5"), "r+") as f:
            f["configs/verbose"][3] = 2
        self.assertIn("/configs/verbose holds values other than 0 and 1",
                      self.message(cimgpu.read_sweep, self.path("S.h5")))

    def test_missing_dataset(self):
        fixtures.standard_sweep(self.path("S.h5"))
        with h5py.File(self.path("S.h5"), "r+") as f:
            del f["trials/top1"]
        self.assertIn("no dataset /trials/top1",
                      self.message(cimgpu.read_sweep_trials, self.path("S.h5")))


class ReadRun(Scratch):
    def test_finished_run(self):
        fx = fixtures.write_run(self.path("R.h5"), trials=6, images=20)
        run = cimgpu.read_run(fx.path)
        self.assertTrue(run.complete)
        self.assertEqual(run.model, "tnn_cnn")
        self.assertEqual(run.attrs["format"], "cimgpu-run")
        self.assertEqual(run.attrs["mapping"], "TNN_I")
        self.assertIs(type(run.attrs["mapping"]), str)
        self.assertEqual(run.attrs["config_json"], {"m_mode": "TNN_I", "M": 256, "N": 256,
                                                    "HRS": 5, "LRS": 30})
        self.assertEqual(run.attrs["images"], 20)
        self.assertEqual(list(run.trials.columns),
                         ["accuracy", "correct", "top5_accuracy", "top5_correct",
                          "layer_error_004_conv2d", "layer_error_009_dense"])
        self.assertEqual(run.trials.index.name, "trial")
        self.assertEqual(list(run.trials.index), list(range(6)))
        np.testing.assert_array_equal(run.trials["correct"], fx.correct)
        np.testing.assert_array_equal(run.trials["accuracy"], fx.correct / 20)
        np.testing.assert_array_equal(run.trials["top5_correct"], fx.correct5)
        np.testing.assert_array_equal(run.trials["layer_error_009_dense"], fx.layer_error[:, 1])
        self.assertEqual(run.trials["correct"].dtype, np.int64)
        self.assertEqual(set(run.summary), set(fx.summary))
        for k, v in fx.summary.items():
            self.assertEqual(run.summary[k], v, k)
            self.assertIsInstance(run.summary[k], (int, float), k)

    def test_unfinished_run_reads_written_rows_only(self):
        fx = fixtures.write_run(self.path("R.h5.partial"), trials=6, written=3, trial_offset=100,
                                top5=False)
        run = cimgpu.read_run(fx.path)
        self.assertFalse(run.complete)
        self.assertEqual(list(run.trials.index), [100, 101, 102])
        self.assertEqual(list(run.trials.columns),
                         ["accuracy", "correct", "layer_error_004_conv2d",
                          "layer_error_009_dense"])
        np.testing.assert_array_equal(run.trials["correct"], fx.correct[:3])
        self.assertTrue((run.trials["correct"] >= 0).all())
        self.assertTrue(np.isnan(run.summary["mean"]))
        self.assertEqual(run.summary["digital_correct"], -1)

    def test_layers_attribute_checked(self):
        fixtures.write_run(self.path("R.h5"))
        with h5py.File(self.path("R.h5"), "r+") as f:
            f["trials/layer_error_rate"].attrs.create("layers", np.array(["a"], dtype=object),
                                                      dtype=fixtures.STR)
        with self.assertRaisesRegex(cimgpu.ResultsFileError, "layers of 2 names"):
            cimgpu.read_run(self.path("R.h5"))

    def test_run_summary_json_round_trip(self):
        fx = fixtures.write_run(self.path("R.h5"))
        run = cimgpu.read_run(fx.path)
        json.dumps(run.summary)     # plain Python numbers, no numpy scalars


if __name__ == "__main__":
    unittest.main()

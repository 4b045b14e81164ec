"""test_plots.py -- the figures' data against numpy on the same arrays: the mean and 95 % CI
as the file stores them, the 5-95 % chip band (np.quantile, linear), the digital baseline,
histogram counts in bins of whole images, yield curves; which figures a sweep gets, their
names, the limits on panels and figures, line styles and titles."""
import os
import unittest
import warnings

import numpy as np
from matplotlib.collections import PolyCollection

import cimgpu
import fixtures
from cimgpu import figures, stats


class Scratch(fixtures.Scratch):
    def read(self, fx):
        return cimgpu.read_sweep(fx.path), cimgpu.read_sweep_trials(fx.path)


def written_top1(fx, c):
    return fx.top1[c, :fx.written[c]]


class AccuracyVs(Scratch):
    def check_points(self, fx, data):
        """Every drawn point equals the file's statistics and numpy's band of its chips."""
        for _, p in data.iterrows():
            c = p["config"]
            self.assertTrue(fx.done[c])
            self.assertEqual(p["mean"], fx.summary["top1_mean"][c])
            self.assertEqual(p["ci_lo"], fx.summary["top1_ci95_lo"][c])
            self.assertEqual(p["ci_hi"], fx.summary["top1_ci95_hi"][c])
            self.assertEqual(p["baseline"], fx.summary["top1_baseline"][c])
            lo, hi = np.quantile(written_top1(fx, c), [0.05, 0.95])
            self.assertEqual((p["band_lo"], p["band_hi"]), (lo, hi))
            self.assertEqual(p["chips"], fx.written[c])
            self.assertEqual(p["m_mode"], fx.configs[c]["m_mode"])

    def test_noise_lines_per_mapping(self):
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5"))
        df, trials = self.read(fx)
        group = df[df["xbar_size_M"] == 256]
        fig, data = cimgpu.accuracy_vs(group, "hrs_noise", trials)
        self.assertEqual(sorted(data["config"]), list(range(6, 12)))
        self.check_points(fx, data)
        self.assertEqual(data["x"].tolist(), [0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
        self.assertEqual(data["x_label"].tolist(), ["0", "0", "1", "1", "2", "2"])
        ax = fig.axes[0]
        self.assertEqual(ax.get_xlabel(), "HRS σ (µA)")
        self.assertEqual(len(ax.containers), 2)           # one errorbar line per mapping
        labels = ax.get_legend().get_texts()
        self.assertEqual([t.get_text() for t in labels],
                         ["TNN_I", "TNN_II", "5–95 % of chips", "digital baseline 90.0%"])
        baselines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        self.assertEqual([ln.get_ydata()[0] for ln in baselines], [0.9])
        mean_line = ax.containers[0].lines[0]
        np.testing.assert_array_equal(mean_line.get_ydata(), fx.summary["top1_mean"][6:9])
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        self.assertEqual(len(bands), 2)
        first = data[data["m_mode"] == "TNN_I"]
        y = bands[0].get_paths()[0].vertices[:, 1]
        self.assertEqual((y.min(), y.max()), (first["band_lo"].min(), first["band_hi"].max()))

    def test_not_done_left_out(self):
        done = [1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5.partial"), done=done,
                                     written=[5, 3, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0])
        df, trials = self.read(fx)
        _, data = cimgpu.accuracy_vs(df[df["xbar_size_M"] == 128], "hrs_noise", trials)
        self.assertEqual(sorted(data["config"]), [0, 2, 3, 4, 5])
        self.check_points(fx, data)

    def test_no_trials_no_band(self):
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5"))
        df, _ = self.read(fx)
        fig, data = cimgpu.accuracy_vs(df[df["xbar_size_M"] == 128], "hrs_noise")
        self.assertTrue(data["band_lo"].isna().all())
        self.assertEqual(data["chips"].tolist(), [0] * 6)

    def test_adc_bits_solid_max_dashed_calib(self):
        fx = fixtures.write_sweep(os.path.join(self.tmp, "S.h5"), {
            "resolution": [3, 4, 6], "adc_calib_mode": ["MAX", "CALIB"],
            "m_mode": ["TNN_I", "TNN_II"]}, {"adc_type": "FP_ALPHA_ADC"})
        df, trials = self.read(fx)
        plots = figures.sweep_plots(df, trials)
        names = [p.name for p in plots]
        self.assertEqual(names, ["acc_vs_resolution", "chip_histograms", "yield_vs_target"])
        fig, data = plots[0].figure, plots[0].data
        self.check_points(fx, data)
        self.assertEqual(len(data), 12)
        self.assertEqual(set(data["style"]), {"MAX", "CALIB"})
        for c, style in zip(data["config"], data["style"]):
            self.assertEqual(style, fx.configs[c]["adc_calib_mode"])
        ax = fig.axes[0]
        styles = {t.get_text(): h.lines[0].get_linestyle()
                  for h, t in zip(ax.containers, ax.get_legend().get_texts())}
        self.assertEqual(styles, {"TNN_I, MAX": "-", "TNN_I, CALIB": "--",
                                  "TNN_II, MAX": "-", "TNN_II, CALIB": "--"})
        self.assertEqual(ax.get_xlabel(), "ADC resolution (bits)")
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ["3", "4", "6"])

    def test_crossbar_sizes_by_area(self):
        fx = fixtures.write_sweep(os.path.join(self.tmp, "S.h5"), {
            "xbar_size": [(256, 256), (64, 64), (128, 256), (128, 128)]})
        df, trials = self.read(fx)
        fig, data = cimgpu.accuracy_vs(df, "xbar_size", trials)
        self.check_points(fx, data)
        self.assertEqual(data["x_label"].tolist(), ["64x64", "128x128", "128x256", "256x256"])
        self.assertEqual(data["x"].tolist(), [0.0, 1.0, 2.0, 3.0])
        self.assertEqual(data["config"].tolist(), [1, 3, 2, 0])
        ax = fig.axes[0]
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()],
                         ["64x64", "128x128", "128x256", "256x256"])


class SweepFigures(Scratch):
    def test_standard_sweep_figures(self):
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5"))
        df, trials = self.read(fx)
        plots = figures.sweep_plots(df, trials)
        self.assertEqual([p.name for p in plots], [
            "acc_vs_hrs_noise__xbar_size_128x128", "acc_vs_hrs_noise__xbar_size_256x256",
            "acc_vs_xbar_size__hrs_noise_0", "acc_vs_xbar_size__hrs_noise_1",
            "acc_vs_xbar_size__hrs_noise_2", "chip_histograms", "yield_vs_target"])
        first = plots[0]
        self.assertEqual(sorted(first.data["config"]), [0, 1, 2, 3, 4, 5])
        title = first.figure.axes[0].get_title()
        self.assertEqual(title, "tnn_cnn: top-1 accuracy vs HRS σ\ncrossbar 128x128 · "
                                "HRS/LRS 5/30 µA · ADC INF_ADC · LRS σ 0 µA · "
                                "5 chips × 10 images")
        xbar = plots[3]
        self.assertEqual(sorted(xbar.data["config"]), [1, 4, 7, 10])
        self.assertEqual(xbar.figure.axes[0].get_xlabel(), "crossbar size (rows x columns)")

    def test_long_titles_wrap_at_spaces(self):
        from cimgpu import plots
        line = " · ".join(f"key{i} value{i}" for i in range(12))
        text = plots.wrapped("first line\n" + line, width=40)
        lines = text.split("\n")
        self.assertEqual(lines[0], "first line")
        self.assertTrue(len(lines) > 2 and all(len(l) <= 40 for l in lines))
        self.assertEqual(" ".join(lines[1:]), line)  # only line breaks were added

    def test_both_noises_one_figure_each_per_other(self):
        fx = fixtures.write_sweep(os.path.join(self.tmp, "S.h5"), {
            "m_mode": ["TNN_I"], "hrs_noise": [0.0, 1.0], "lrs_noise": [0.0, 0.5]})
        df, trials = self.read(fx)
        names = [p.name for p in figures.sweep_plots(df, trials)]
        self.assertEqual(names, ["acc_vs_hrs_noise__lrs_noise_0",
                                 "acc_vs_hrs_noise__lrs_noise_0.5",
                                 "acc_vs_lrs_noise__hrs_noise_0", "acc_vs_lrs_noise__hrs_noise_1",
                                 "chip_histograms", "yield_vs_target"])

    def test_at_most_24_figures_per_axis(self):
        fx = fixtures.write_sweep(os.path.join(self.tmp, "S.h5"), {
            "hrs_noise": [0.0, 1.0], "lrs_noise": [0.1 * i for i in range(25)]}, trials=4)
        df, trials = self.read(fx)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plots = figures.sweep_plots(df, trials)
        self.assertEqual([str(w.message) for w in caught],
                         ["acc_vs_hrs_noise: 25 combinations of lrs_noise; drawing the first 24"])
        names = [p.name for p in plots]
        self.assertEqual(sum(n.startswith("acc_vs_hrs_noise") for n in names), 24)
        self.assertEqual(sum(n.startswith("acc_vs_lrs_noise") for n in names), 2)

    def test_nothing_done(self):
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5.partial"), done=[0] * 12)
        df, trials = self.read(fx)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assertEqual(figures.sweep_plots(df, trials), [])
        self.assertIn("no configuration is done yet", str(caught[0].message))


class Histograms(Scratch):
    def test_sweep_histograms(self):
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5"))
        df, trials = self.read(fx)
        plot = [p for p in figures.sweep_plots(df, trials) if p.name == "chip_histograms"][0]
        data = plot.data
        self.assertEqual(len(data["counts"]), 12)
        self.assertEqual(data["skipped"], [])
        self.assertIsNone(data["note"])
        lo, hi = fx.correct.min(), fx.correct.max()
        np.testing.assert_array_equal(data["edges_correct"], np.arange(lo, hi + 2) - 0.5)
        np.testing.assert_array_equal(data["edges"], data["edges_correct"] / fx.images)
        for c, (label, counts) in enumerate(data["counts"].items()):
            want, _ = np.histogram(fx.correct[c], bins=np.arange(lo, hi + 2) - 0.5)
            np.testing.assert_array_equal(counts, want)
            self.assertEqual(counts.sum(), fx.trials)
            self.assertEqual(data["mean"][label], np.mean(fx.top1[c]))
            self.assertTrue(label.startswith(f"#{c} "), label)
        first = list(data["counts"])[0]
        self.assertEqual(first, "#0 crossbar 128x128 · TNN_I · HRS σ 0 µA")
        visible = [ax for ax in plot.figure.axes if ax.get_visible()]
        self.assertEqual(len(visible), 12)

    def test_at_most_12_panels(self):
        fx = fixtures.write_sweep(os.path.join(self.tmp, "S.h5"),
                                  {"hrs_noise": [0.25 * i for i in range(14)]})
        df, trials = self.read(fx)
        hist = [p for p in figures.sweep_plots(df, trials) if p.name == "chip_histograms"][0]
        self.assertEqual(len(hist.data["counts"]), 12)
        self.assertEqual(hist.data["skipped"], ["#12 HRS σ 3 µA", "#13 HRS σ 3.25 µA"])
        self.assertEqual(hist.data["note"], "the first 12 of 14 drawn")
        self.assertEqual(sum(ax.get_visible() for ax in hist.figure.axes), 12)

    def test_wide_range_groups_images(self):
        rng = np.random.default_rng(5)
        acc = rng.integers(0, 1001, size=300) / 1000
        fig, data = cimgpu.chip_histograms({"wide": acc}, 1000)
        edges = data["edges_correct"]
        step = edges[1] - edges[0]
        self.assertEqual(step, np.ceil((acc.max() - acc.min()) * 1000 + 1) // 40 + 1)
        self.assertLessEqual(len(edges) - 1, 40)
        self.assertEqual(data["counts"]["wide"].sum(), 300)
        np.testing.assert_array_equal(
            data["counts"]["wide"], np.histogram(np.rint(acc * 1000), bins=edges)[0])

    def test_accuracy_not_whole_images(self):
        with self.assertRaisesRegex(ValueError, "multiples of 1/10"):
            cimgpu.chip_histograms({"x": np.array([0.55])}, 10)


class Yield(Scratch):
    def test_sweep_yield_curves(self):
        fx = fixtures.standard_sweep(os.path.join(self.tmp, "S.h5"))
        df, trials = self.read(fx)
        plot = [p for p in figures.sweep_plots(df, trials) if p.name == "yield_vs_target"][0]
        data = plot.data
        lo, hi = fx.correct.min(), fx.correct.max()
        targets = np.arange(lo, hi + 1) / fx.images
        np.testing.assert_array_equal(data["targets"], targets)
        self.assertEqual(data["target"], 0.8)
        for c, y in enumerate(data["yield"].values()):
            want = (fx.top1[c][:, None] >= targets[None, :]).mean(axis=0)
            np.testing.assert_array_equal(y, want)
        self.assertEqual(data["yield"]["#0 crossbar 128x128 · TNN_I · HRS σ 0 µA"][0], 1.0)
        ax = plot.figure.axes[0]
        self.assertEqual(len([ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-pre"]),
                         12)
        # the file's yield: the curve at its target (0.8 is a multiple of 1/10)
        k = int(np.flatnonzero(np.isclose(targets, 0.8))[0])
        for c, y in enumerate(data["yield"].values()):
            self.assertEqual(y[k], fx.summary["yield"][c])

    def test_curve_helper(self):
        np.testing.assert_array_equal(stats.yield_curve([3, 5, 5, 7], 3, 7),
                                      [1.0, 0.75, 0.75, 0.25, 0.25])


class RunFigures(Scratch):
    def test_run_histogram_and_yield(self):
        fx = fixtures.write_run(os.path.join(self.tmp, "R.h5"), trials=8, images=20)
        plots = figures.run_plots(cimgpu.read_run(fx.path))
        self.assertEqual([p.name for p in plots], ["chip_histogram", "yield_vs_target"])
        hist, yld = plots[0].data, plots[1].data
        (counts,) = hist["counts"].values()
        lo, hi = fx.correct.min(), fx.correct.max()
        np.testing.assert_array_equal(counts, np.histogram(fx.correct,
                                                           np.arange(lo, hi + 2) - 0.5)[0])
        targets = np.arange(lo, hi + 1) / 20
        np.testing.assert_array_equal(yld["targets"], targets)
        (y,) = yld["yield"].values()
        np.testing.assert_array_equal(y, ((fx.correct / 20)[:, None] >= targets).mean(axis=0))
        self.assertEqual(yld["target"], 0.85)
        self.assertIn("tnn_cnn TNN_I 256x256: 8 chips × 20 images",
                      plots[0].figure.texts[0].get_text())

    def test_unfinished_run_title(self):
        fx = fixtures.write_run(os.path.join(self.tmp, "R.h5.partial"), trials=8, written=5)
        plots = figures.run_plots(cimgpu.read_run(fx.path))
        (counts,) = plots[0].data["counts"].values()
        self.assertEqual(counts.sum(), 5)
        self.assertIn("(unfinished: 5 of 8 chips)", plots[1].figure.axes[0].get_title())

    def test_run_without_chips(self):
        fx = fixtures.write_run(os.path.join(self.tmp, "R.h5.partial"), trials=8, written=0)
        self.assertEqual(figures.run_plots(cimgpu.read_run(fx.path)), [])


if __name__ == "__main__":
    unittest.main()

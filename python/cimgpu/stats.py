"""stats.py -- the few statistics the plots need that the results files do not store.

The files hold each configuration's mean, 95 % confidence interval of the mean (Student t),
quantiles and yield; what is computed here comes from the per-chip accuracies of /trials:
the 5-95 % chip band, correct-image counts, histogram bins of whole images and yield curves.
Accuracies are correct / images, so every chip's accuracy is a multiple of 1/images and the
histograms and yield curves work on the integer counts, exactly.
"""
import math

import numpy as np

BAND = (0.05, 0.95)


def chip_band(values, band=BAND):
    """The band's quantiles of one configuration's per-chip accuracies (numpy's linear
    interpolation, as the files' q05 and q50); (nan, nan) for no chips."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(values, band)
    return float(lo), float(hi)


def correct_counts(accuracy, images):
    """The correct-image counts of accuracies that are multiples of 1/images (int64)."""
    accuracy = np.asarray(accuracy, dtype=np.float64)
    counts = np.rint(accuracy * images)
    if np.any(np.abs(accuracy * images - counts) > 1e-6 * images):
        raise ValueError(f"accuracies are not multiples of 1/{images}")
    return counts.astype(np.int64)


def image_bins(lo, hi, max_bins=40):
    """Histogram bin edges, in correct-image counts, for counts lo .. hi: bins of `step` whole
    images each (step = 1 while that gives at most max_bins bins), edges at half-integers so
    that no count lies on an edge."""
    step = max(1, math.ceil((hi - lo + 1) / max_bins))
    n = math.ceil((hi - lo + 1) / step)
    return lo - 0.5 + step * np.arange(n + 1)


def yield_curve(correct, lo, hi):
    """The fraction of chips with at least k correct images, for k = lo .. hi (float64)."""
    correct = np.asarray(correct)
    k = np.arange(lo, hi + 1)
    if correct.size == 0:
        return np.full(k.shape, np.nan)
    return (correct[:, None] >= k[None, :]).mean(axis=0)

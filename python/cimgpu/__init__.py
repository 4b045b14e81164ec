"""cimgpu -- reading cimgpu's results files with pandas and drawing them with matplotlib.

    import cimgpu
    df = cimgpu.read_sweep("S.h5")          # one row per configuration: keys + statistics
    trials = cimgpu.read_sweep_trials("S.h5")   # one row per simulated chip
    run = cimgpu.read_run("R.h5")           # attrs, trials (DataFrame), summary (dict)
    for p in cimgpu.file_plots("S.h5"):     # every figure, or: python3 -m cimgpu.plot S.h5
        p.figure.savefig(p.name + ".png")

Modules: files (opening, format checks), tables (sweep DataFrames), run (run files),
stats (chip band, histogram bins, yield curves), naming (labels), plots (one figure per
function, returning the figure and its data), figures (every figure of a file), plot (CLI).
"""
from .figures import Plot, file_plots, run_plots, sweep_plots
from .files import ResultsFileError, open_results
from .plots import accuracy_vs, chip_histograms, yield_curves
from .run import Run, read_run
from .tables import key_columns, read_sweep, read_sweep_trials, swept_keys

__all__ = [
    "Plot", "ResultsFileError", "Run", "accuracy_vs", "chip_histograms", "file_plots",
    "key_columns", "open_results", "read_run", "read_sweep", "read_sweep_trials", "run_plots",
    "swept_keys", "sweep_plots", "yield_curves",
]

"""plot.py -- the command line: python3 -m cimgpu.plot FILE [-o DIR]

Draws every figure that fits the results file (a sweep: accuracy against each swept axis,
the chip histograms, the yield curve; a run: its histogram and yield curve) as PNGs in DIR,
printing one line per file written. The figures are drawn by matplotlib's Agg renderer, with
no display needed. Exit status 0; 2 when FILE is missing or not a cimgpu
results file (one line on stderr); 1 when a figure cannot be written.
"""
import argparse
import os
import sys
import warnings

from .figures import file_plots
from .files import ResultsFileError

PROG = "cimgpu.plot"


def main(argv=None):
    ap = argparse.ArgumentParser(prog=f"python3 -m {PROG}",
                                 description="Draw the figures of a cimgpu results file "
                                 "(cimgpu run --out / cimgpu sweep --out) as PNG files.")
    ap.add_argument("file", help="R.h5 or S.h5 (or a .partial one being written)")
    ap.add_argument("-o", "--out-dir", default=".", help="folder for the PNGs (default: .)")
    ap.add_argument("--dpi", type=int, default=120, help="resolution (default: %(default)s)")
    args = ap.parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            figures = file_plots(args.file)
        except ResultsFileError as e:
            print(f"{PROG}: {e}", file=sys.stderr)
            return 2
    for w in caught:
        print(f"{PROG}: warning: {w.message}", file=sys.stderr)
    try:
        os.makedirs(args.out_dir, exist_ok=True)
        for p in figures:
            name = os.path.join(args.out_dir, p.name + ".png")
            p.figure.savefig(name, dpi=args.dpi)
            print(name)
    except OSError as e:
        print(f"{PROG}: {args.out_dir}: cannot write the figures: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

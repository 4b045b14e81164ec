#!/usr/bin/env bash
# run_studies.sh -- runs the CIM-Explorer paper's studies on the shipped models with
# `cimgpu sweep` and writes the report (report.py) of what they show.
#
# Usage: benchmarks/studies/run_studies.sh [--trials T] [--images K] [--c2c-trials T]
#            [--c2c-images K] [--out DIR] [--only "STUDY ..."] [--studies-dir DIR]
#            [--no-report]
#
#   --trials T       chips per configuration of the D2D studies (default 50)
#   --images K       test images per chip of the D2D studies (default 1000)
#   --c2c-trials T   chips per configuration of the C2C study (default 10, at most T)
#   --c2c-images K   test images per chip of the C2C study (default 200, at most K)
#   --out DIR        results folder (default build/studies of the source tree, which git
#                    ignores): DIR/exp/STUDY.json is the
#                    experiment as run (batch, num_runs and trials written into it),
#                    DIR/STUDY.h5 and DIR/STUDY.csv its results, DIR/STUDY.log its output,
#                    DIR/report/report.md and the figures the report
#   --only "A B"     run only these studies (default: all, in the order below)
#   --studies-dir D  where the experiment files are (default: this script's folder)
#   --no-report      run the sweeps only
#
# Environment: CIMGPU_BIN, the binary (default build/cimgpu of the source tree); PYTHON, the
# interpreter for report.py (default: the first python3 with h5py, matplotlib, numpy and
# pandas).
#
# Studies: hrs_var, lrs_var (HRS / LRS sigma, BNN_I..VI, bnn_cnn and bnn_mlp), adc_bnn,
# adc_tnn (ADC 3-8 bits, MAX vs CALIB), xbar_scaling_bnn, xbar_scaling_tnn (128/256/512
# crossbars), c2c (D2D vs D2D + C2C on bnn_mlp).
#
# Interrupted (Ctrl-C, a crash, kill)? Run the same command again: a finished STUDY.h5 is
# kept, an unfinished STUDY.h5.partial is continued with `cimgpu sweep --resume`, to the
# results an uninterrupted run gives.
#
# Time. Measured on the project's 2-core x86-64 CPU (PoCL) with the defaults scaled down
# (--trials 5 --images 200: a fiftieth of the D2D chip-images; --c2c-trials 2: a fifth of
# the C2C ones), the configurations' seconds summed and scaled up linearly:
#   hrs_var 108 configurations ~6 min, lrs_var 108 ~6 min, adc_bnn 144 ~9.5 min,
#   adc_tnn 120 ~10 min, xbar_scaling_bnn 90 ~7.5 min, xbar_scaling_tnn 75 ~7 min,
#   c2c 18 (9 of them with C2C) ~3.5 min; report ~0.5 min: about 50 minutes in all on an
#   otherwise idle machine. Checks at a fifth of the defaults (--trials 10 --images 1000)
#   agree within 20 %: hrs_var 87 s (predicted 74 s, with other work on the machine),
#   adc_tnn 100 s (predicted 120 s). With other work running, count on about an hour.
#   The time scales with chips x images per configuration; C2C costs several hundred
#   times more per chip-image than D2D alone. Measured with the defaults: 2423 s of
#   configurations (40 minutes), with other work on the machine part of the time; that
#   run's report is docs/studies/report.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${CIMGPU_BIN:-$ROOT/build/cimgpu}
PYTHON=${PYTHON:-}
ALL="hrs_var lrs_var adc_bnn adc_tnn xbar_scaling_bnn xbar_scaling_tnn c2c"

TRIALS=50
IMAGES=1000
C2C_TRIALS=10
C2C_IMAGES=200
OUT=$ROOT/build/studies
ONLY=$ALL
STUDIES_DIR=$HERE
REPORT=1

die() {
    echo "run_studies.sh: $*" >&2
    exit 2
}

positive() { # NAME VALUE
    [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: expected a positive integer, got '$2'"
}

while [ $# -gt 0 ]; do
    case $1 in
    --trials | --images | --c2c-trials | --c2c-images | --out | --only | --studies-dir)
        [ $# -ge 2 ] || die "$1 needs a value"
        case $1 in
        --trials) positive "$1" "$2" && TRIALS=$2 ;;
        --images) positive "$1" "$2" && IMAGES=$2 ;;
        --c2c-trials) positive "$1" "$2" && C2C_TRIALS=$2 ;;
        --c2c-images) positive "$1" "$2" && C2C_IMAGES=$2 ;;
        --out) OUT=$2 ;;
        --only) ONLY=$2 ;;
        --studies-dir) STUDIES_DIR=$2 ;;
        esac
        shift 2
        ;;
    --no-report)
        REPORT=0
        shift
        ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
done

if [ -z "$PYTHON" ]; then # the first python3 with what report.py needs
    for p in python3 /usr/bin/python3; do
        if "$p" -c "import h5py, matplotlib, numpy, pandas" 2>/dev/null; then
            PYTHON=$p
            break
        fi
    done
    [ -n "$PYTHON" ] || die "no python3 with h5py, matplotlib, numpy and pandas: set PYTHON"
fi
[ -x "$BIN" ] || die "no cimgpu binary at $BIN: build it (bash tools/build.sh) or set CIMGPU_BIN"
for s in $ONLY; do
    [ -f "$STUDIES_DIR/$s.json" ] || die "--only: no experiment file $STUDIES_DIR/$s.json"
done
# the C2C study is ~100x slower per chip-image: never larger than the D2D ones
[ "$C2C_TRIALS" -le "$TRIALS" ] || C2C_TRIALS=$TRIALS
[ "$C2C_IMAGES" -le "$IMAGES" ] || C2C_IMAGES=$IMAGES

mkdir -p "$OUT/exp"
START=$(date +%s)
for s in $ONLY; do
    trials=$TRIALS images=$IMAGES
    if [ "$s" = c2c ]; then trials=$C2C_TRIALS images=$C2C_IMAGES; fi
    exp=$OUT/exp/$s.json h5=$OUT/$s.h5
    # the experiment as run: its grid as committed, the chips and images of this run
    "$PYTHON" - "$STUDIES_DIR/$s.json" "$exp" "$trials" "$images" <<'EOF'
import json, sys
src, dst, trials, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(src) as fh:
    exp = json.load(fh)
exp.update(batch=images, num_runs=1, trials=trials)
with open(dst, "w") as fh:
    json.dump(exp, fh, indent=4)
    fh.write("\n")
EOF
    if [ -f "$h5" ]; then
        # finished before: kept when it is this experiment, else refused
        other="$h5 holds another experiment (trials, images, grid): delete it or use another --out"
        "$PYTHON" - "$h5" "$exp" <<'EOF' || die "$other"
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    ran = json.loads(f.attrs["experiment_json"])
with open(sys.argv[2]) as fh:
    sys.exit(0 if json.load(fh) == ran else 1)
EOF
        echo "$s: $h5 is complete, kept"
        continue
    fi
    mode=(--out "$h5" --csv "$OUT/$s.csv")
    [ -f "$h5.partial" ] && mode+=(--resume)
    echo "$s: $("$BIN" sweep "$exp" --dry-run | head -2 | tr '\n' ' ')"
    t0=$(date +%s)
    set +e
    "$BIN" sweep "$exp" "${mode[@]}" 2>&1 | tee -i -a "$OUT/$s.log"
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -eq 0 ] ||
        die "$s: cimgpu sweep exited with status $rc (the same command again resumes it)"
    echo "$s: done in $(($(date +%s) - t0)) s"
done
echo "sweeps: $(($(date +%s) - START)) s"

if [ "$REPORT" = 1 ]; then
    "$PYTHON" "$HERE/report.py" "$OUT" -o "$OUT/report"
fi

#!/usr/bin/env python3
"""make_calib.py -- fills the adc_calib_dict of the ADC studies (adc_bnn.json, adc_tnn.json)
with per-layer ADC ranges from `cimgpu calibrate`.

For every model, crossbar size and mapping of an experiment it runs

    cimgpu calibrate --model MODELS/<net>.h5 --mapping <m_mode> --adc-bits 8
                     --set M=<M> --set N=<N> --set HRS=<HRS> --set LRS=<LRS>
                     --hrs-noise <hrs_noise> --lrs-noise <lrs_noise> --images 1000 --seed 0

(the experiment's own cell currents and D2D sigmas, one chip, the first 1000 TRAINING images,
the rule `auto`: mean +- 3 sigma for signed column currents, the occupied bins otherwise) and
writes the ranges back into the experiment in the reference flow's nested form
{net: {"[M, N]": {m_mode: {layer: [lo, hi]}}}}, leaving every other key as it was. One range
serves every resolution of the sweep, so it is profiled with a fine (8-bit) ADC, whose
quantisation barely changes what the later layers see.

    python3 benchmarks/studies/make_calib.py [EXP.json ...] [--bin CIMGPU] [--models DIR]

Default experiments: adc_bnn.json and adc_tnn.json beside this script; default binary:
$CIMGPU_BIN, else build/cimgpu of the source tree; default models: $CIMGPU_MODEL_DIR, else
data/models of the source tree.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPERIMENTS = ("adc_bnn.json", "adc_tnn.json")
CALIB_BITS = 8
CALIB_IMAGES = 1000
CALIB_SEED = 0


def single(exp, path, key):
    """The one value of a key that may be given as a one-element list."""
    v = exp[key]
    if isinstance(v, list):
        if len(v) != 1:
            sys.exit(f"{path}: key \"{key}\": make_calib needs one value (the ranges are "
                     f"profiled once per model, crossbar size and mapping), got {len(v)}")
        v = v[0]
    return v


def as_list(v):
    return v if isinstance(v, list) else [v]


def number(v):
    """A JSON number as --set and the flags take it: 5.0 -> "5", 0.5 -> "0.5"."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def calibrate(binary, models, net, size, mode, hrs_lrs, hrs_noise, lrs_noise):
    """The adc_calib_dict {layer: [lo, hi]} `cimgpu calibrate` writes for one point."""
    with tempfile.TemporaryDirectory(prefix="cimgpu-calib-") as tmp:
        out = os.path.join(tmp, "calib.json")
        cmd = [binary, "calibrate", "--model", os.path.join(models, f"{net}.h5"),
               "--mapping", mode, "--adc-bits", str(CALIB_BITS),
               "--set", f"M={size[0]}", "--set", f"N={size[1]}",
               "--set", f"HRS={number(hrs_lrs[0])}", "--set", f"LRS={number(hrs_lrs[1])}",
               "--hrs-noise", number(hrs_noise), "--lrs-noise", number(lrs_noise),
               "--images", str(CALIB_IMAGES), "--seed", str(CALIB_SEED), "--out", out]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: exit status {r.returncode}: {r.stderr.strip()}")
        with open(out) as fh:
            return json.load(fh)["adc_calib_dict"]


def calib_dict(exp, path, binary, models):
    """The nested adc_calib_dict of every model, crossbar size and mapping of exp."""
    hrs_lrs = single(exp, path, "hrs_lrs")
    hrs_noise = single(exp, path, "hrs_noise")
    lrs_noise = single(exp, path, "lrs_noise")
    out = {}
    for net in as_list(exp["nn_names"]):
        for size in exp["xbar_size"]:
            for mode in as_list(exp["m_mode"]):
                ranges = calibrate(binary, models, net, size, mode, hrs_lrs, hrs_noise,
                                   lrs_noise)
                out.setdefault(net, {}).setdefault(f"[{size[0]}, {size[1]}]", {})[mode] = ranges
                print(f"{os.path.basename(path)}: {net} {size[0]}x{size[1]} {mode}: "
                      + ", ".join(f"{k} [{v[0]:g}, {v[1]:g}]" for k, v in ranges.items()))
    return out


def dumps(exp):
    """The experiment as the studies' files are written: one key per line, short values on
    that line, adc_calib_dict one layer per line."""
    lines = []
    for key, value in exp.items():
        if key == "adc_calib_dict" and value:
            inner = json.dumps(value, indent=4).replace("\n", "\n    ")
            # the [lo, hi] pairs on one line each
            inner = _join_pairs(inner)
            lines.append(f"    {json.dumps(key)}: {inner}")
        else:
            lines.append(f"    {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _join_pairs(text):
    """json.dumps(indent=4) writes [lo, hi] over four lines; put each pair on one."""
    out, buf = [], None
    for line in text.split("\n"):
        stripped = line.strip()
        if buf is None and stripped.endswith(": ["):
            buf = [line]
        elif buf is not None:
            buf.append(stripped)
            if stripped.startswith("]"):
                head = buf[0]
                items = " ".join(buf[1:-1])
                out.append(f"{head}{items}{stripped}")
                buf = None
        else:
            out.append(line)
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiments", nargs="*",
                    default=[os.path.join(HERE, e) for e in EXPERIMENTS])
    ap.add_argument("--bin", default=os.environ.get("CIMGPU_BIN")
                    or os.path.join(ROOT, "build", "cimgpu"))
    ap.add_argument("--models", default=os.environ.get("CIMGPU_MODEL_DIR")
                    or os.path.join(ROOT, "data", "models"))
    args = ap.parse_args(argv)
    for path in args.experiments:
        with open(path) as fh:
            exp = json.load(fh)
        exp["adc_calib_dict"] = calib_dict(exp, path, args.bin, args.models)
        with open(path, "w") as fh:
            fh.write(dumps(exp))
        print(f"{path}: adc_calib_dict written")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""h5_compare.py -- are two cimgpu results files the same, byte for byte?

    /usr/bin/python3 benchmarks/h5_compare.py A.h5 B.h5 [--exclude PATH:ATTR]...

Used by benchmarks/gpu_check.sh to compare the results of the same command
run on two devices (docs/benchmarks.md). Both files must hold the same
objects (groups and datasets, by path), every dataset the same dtype, shape
and bytes (the values read back, not the file's storage layout, which holds
HDF5's own timestamps), and every object the same attributes with the same
dtype, shape and bytes -- except what must differ between two runs of one
command on two devices:

    /:device        excluded: the OpenCL platform, device and driver that
                    ran it
    /:created       excluded: the UTC time the file was created
    /:command_line  compared without the values of --device and --out (the
                    device and the output file), which the two runs name
                    differently; everything else on it must be equal

(--exclude adds exclusions, as PATH:NAME; --no-default-excludes drops the
two above and compares the command lines as they are.)
Floating-point data compare by their bytes, so a NaN equals only the same
NaN and -0.0 differs from 0.0.

Exit status: 0 equal, 1 different (each difference printed, up to 50), 2
usage error or an unreadable file.
"""
import shlex
import sys

import h5py
import numpy as np

DEFAULT_EXCLUDES = ("/:device", "/:created")
PER_RUN_OPTIONS = ("--device", "--out")  # their values differ between the two runs
MAX_REPORTED = 50


def value_bytes(value):
    """A dataset's or attribute's value as (dtype text, shape, bytes)."""
    a = np.asarray(value)
    if a.dtype.kind == "O":  # variable-length strings
        items = [x.encode() if isinstance(x, str) else bytes(x) for x in a.ravel()]
        return ("vlen", a.shape, b"\0".join(items))
    if a.dtype.kind == "U":
        return ("str", a.shape, "\0".join(a.ravel().tolist()).encode())
    return (a.dtype.str, a.shape, a.tobytes())


def command_without_run_options(line):
    """The command line's words without the options naming device and output
    (the program's own path too: the same binary may sit elsewhere)."""
    words, kept, skip = shlex.split(line), [], False
    for w in words[1:]:
        if skip:
            skip = False
        elif w in PER_RUN_OPTIONS:
            skip = True
        elif not any(w.startswith(o + "=") for o in PER_RUN_OPTIONS):
            kept.append(w)
    return kept


def objects(f):
    """{path: kind} for every group and dataset, the root included."""
    found = {"/": "group"}

    def visit(name, obj):
        found["/" + name] = "dataset" if isinstance(obj, h5py.Dataset) else "group"

    f.visititems(visit)
    return found


def compare(a_path, b_path, excludes, normalise):
    diffs = []
    compared = {"datasets": 0, "attributes": 0, "excluded": 0}
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        oa, ob = objects(a), objects(b)
        for p in sorted(set(oa) ^ set(ob)):
            diffs.append("%s: only in %s" % (p, a_path if p in oa else b_path))
        for p in sorted(set(oa) & set(ob)):
            if oa[p] != ob[p]:
                diffs.append("%s: a %s in one file, a %s in the other" % (p, oa[p], ob[p]))
                continue
            xa, xb = a[p], b[p]
            if oa[p] == "dataset":
                compared["datasets"] += 1
                va, vb = value_bytes(xa[()]), value_bytes(xb[()])
                if va[:2] != vb[:2]:
                    diffs.append("%s: dtype/shape %s %s against %s %s"
                                 % (p, va[0], va[1], vb[0], vb[1]))
                elif va[2] != vb[2]:
                    diffs.append("%s: values differ (%s %s)" % (p, va[0], va[1]))
            na, nb = set(xa.attrs), set(xb.attrs)
            for n in sorted(na ^ nb):
                diffs.append("%s: attribute %s only in %s"
                             % (p, n, a_path if n in na else b_path))
            for n in sorted(na & nb):
                if "%s:%s" % (p, n) in excludes:
                    compared["excluded"] += 1
                    continue
                compared["attributes"] += 1
                if normalise and p == "/" and n == "command_line":
                    ca = command_without_run_options(str(xa.attrs[n]))
                    cb = command_without_run_options(str(xb.attrs[n]))
                    if ca != cb:
                        diffs.append("/: command_line differs beyond %s: %r against %r"
                                     % ("/".join(PER_RUN_OPTIONS), ca, cb))
                    continue
                va, vb = value_bytes(xa.attrs[n]), value_bytes(xb.attrs[n])
                if va != vb:
                    diffs.append("%s: attribute %s differs: %r against %r"
                                 % (p, n, xa.attrs[n], xb.attrs[n]))
    return diffs, compared


def main(argv):
    args, excludes, normalise, i = [], set(DEFAULT_EXCLUDES), True, 1
    while i < len(argv):
        if argv[i] == "--exclude" and i + 1 < len(argv):
            excludes.add(argv[i + 1])
            i += 2
        elif argv[i] == "--no-default-excludes":
            excludes -= set(DEFAULT_EXCLUDES)
            normalise = False
            i += 1
        elif argv[i].startswith("-"):
            print("h5_compare: unknown option %s" % argv[i], file=sys.stderr)
            return 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        diffs, n = compare(args[0], args[1], excludes, normalise)
    except (OSError, KeyError, ValueError) as e:
        print("h5_compare: %s" % e, file=sys.stderr)
        return 2
    for d in diffs[:MAX_REPORTED]:
        print("h5_compare: %s" % d)
    if len(diffs) > MAX_REPORTED:
        print("h5_compare: ... %d more differences" % (len(diffs) - MAX_REPORTED))
    print("h5_compare: %s %s and %s: %d datasets and %d attributes compared, %d excluded (%s)%s"
          % ("DIFFERENT" if diffs else "equal", args[0], args[1], n["datasets"],
             n["attributes"], n["excluded"], ", ".join(sorted(excludes)),
             "; /:command_line without %s" % " and ".join(PER_RUN_OPTIONS) if normalise else ""))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

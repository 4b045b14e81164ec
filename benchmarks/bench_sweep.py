#!/usr/bin/env python3
"""bench_sweep.py -- what a sweep costs beyond its configurations' Monte-Carlo.

A sweep pays once what separate runs pay each time: opening the device and
building the kernels, loading the model and the images, the digital baseline.
What it still pays per configuration -- building the configuration's plan,
writing its chips and summary to the results file -- is the overhead this
measures, as a ratio to a configuration that computes for about a second
(target: <= 5 %):

  1. a probe run sizes the trial count so that one configuration's
     Monte-Carlo takes about --seconds;
  2. a sweep of one configuration gives the start-up cost
     (wall time - that configuration's /summary/seconds);
  3. a sweep of N configurations: overhead per configuration
     = (wall - start-up - sum of /summary/seconds) / N;
  4. the same N configurations as N separate `cimgpu run` processes (the
     command lines `--dry-run` prints), for the saving.

All in one invocation, so the figures compare like with like. Usage:
  python3 benchmarks/bench_sweep.py [--build build] [--seconds 1.5] [--repeat 3]
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time

import h5py

MAPPINGS = ["TNN_I", "TNN_II", "TNN_III"]
SIGMAS = [1.0, 2.0]


def experiment(path, mappings, sigmas, trials):
    with open(path, "w") as f:
        json.dump({"nn_names": ["tnn_cnn"], "ifm": [[28, 28, 1]], "batch": 100, "num_runs": 1,
                   "xbar_size": [[256, 256]], "hrs_lrs": [[5.0, 30.0]], "adc_type": "INF_ADC",
                   "m_mode": mappings, "hrs_noise": sigmas, "lrs_noise": [4.0],
                   "digital_only": False, "verbose": False, "trials": trials}, f)


def timed(args):
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def sweep(cimgpu, exp, out):
    wall = timed([cimgpu, "sweep", exp, "--out", out, "--force"])
    with h5py.File(out, "r") as f:
        return wall, f["summary/seconds"][()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=3, help="rounds of steps 2 and 3 (median)")
    ap.add_argument("--seconds", type=float, default=1.5,
                    help="Monte-Carlo time of one configuration to aim for")
    a = ap.parse_args()
    cimgpu = os.path.join(a.build, "cimgpu")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as d:
        # 1. the trial count for about --seconds of Monte-Carlo per configuration
        probe = os.path.join(d, "probe.json")
        experiment(probe, MAPPINGS[:1], SIGMAS[:1], 64)
        _, sec = sweep(cimgpu, probe, os.path.join(d, "probe.h5"))
        trials = max(16, math.ceil(64 * a.seconds / sec[0]))
        # 2. start-up (a sweep of one configuration) and 3. N configurations in
        # one sweep, alternated --repeat times: medians, with the spread
        one, many = os.path.join(d, "one.json"), os.path.join(d, "many.json")
        experiment(one, MAPPINGS[:1], SIGMAS[:1], trials)
        experiment(many, MAPPINGS, SIGMAS, trials)
        rounds = []
        for _ in range(a.repeat):
            wall1, sec1 = sweep(cimgpu, one, os.path.join(d, "one.h5"))
            wall, sec = sweep(cimgpu, many, os.path.join(d, "many.h5"))
            startup = wall1 - sec1[0]
            rounds.append(((wall - startup - sec.sum()) / len(sec), startup, wall, sec))
        rounds.sort(key=lambda r: r[0])
        per_config, startup, wall, sec = rounds[len(rounds) // 2]
        n = len(sec)
        spread = (rounds[0][0], rounds[-1][0])
        # 4. the same configurations as separate runs
        lines = subprocess.run([cimgpu, "sweep", many, "--dry-run"], check=True,
                               capture_output=True, text=True).stdout.splitlines()
        runs = [shlex.split(l.split(": ", 1)[1])[1:] for l in lines if l[:1].isdigit()]
        assert len(runs) == n
        separate = sum(timed([cimgpu] + r) for r in runs)
    print(f"sweep of {n} configurations (tnn_cnn, 100 images, {trials} chips each)")
    print(f"  Monte-Carlo per configuration        {sec.mean():8.3f} s  "
          f"(min {sec.min():.3f}, max {sec.max():.3f})")
    print(f"  start-up, once per sweep             {startup:8.3f} s  (device, kernels, model, "
          f"images, baseline)")
    print(f"  sweep wall time                      {wall:8.3f} s")
    print(f"  overhead per configuration           {per_config:8.3f} s  = "
          f"{100 * per_config / sec.mean():5.1f} % of a configuration  (target <= 5 %)")
    print(f"    over {a.repeat} rounds                       {spread[0]:8.3f} .. {spread[1]:.3f} s "
          f"(the median above)")
    print(f"  {n} separate cimgpu run processes      {separate:8.3f} s  "
          f"({separate / wall:.2f}x the sweep)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench_mpi.py -- scaling of `mpirun -np R cimgpu run` on this machine, the measured cost of a
work item, and the efficiency that cost projects for 8-64 GPUs (docs/mpi.md, "Scaling").

1. Scaling, one core per rank: the same run as one process pinned to one core
   (taskset, PoCL with one thread) and as `mpirun -np 2 --bind-to core` (each rank one core,
   one PoCL thread), in interleaved rounds; the median wall times give the speed-up and the
   parallel efficiency (speed-up / 2), the 1-rank MPI job the launcher's start-up. Beside
   them two independent processes of half the chips at once, one per core: what the two
   cores give without MPI, so that the MPI job's share of the loss is seen apart from the
   machine's.
2. The cost of a work item, from rank 0's own accounting (the line `cimgpu: R ranks ...`
   that a job of several ranks ends with): compute seconds per item, result bytes per item,
   rank 0's seconds per item receiving and writing, and the fixed start-up (a one-item run).
   Measured with and without --trace (the trace sends every prediction).
3. The projection: rank 0 does the serial part of every item (receive, check, write:
   t0 per item, plus bytes / bandwidth over a network instead of this machine's shared
   memory); R ranks each compute an item in t_item. A job of N items then takes about
   T(R) = T_start + max(N (t_item + t0) / R, N t0), and the efficiency is
   E(R) = (T_start + N t_item) / (R T(R)). t_item for a GPU is an input (--gpu-item-seconds;
   the default is the H200 target of the performance work: 10 000 chips x 10 000 images of
   tnn_cnn in 60 s, i.e. 0.096 s per item of 16 chips), as is the network bandwidth.

Usage: python3 benchmarks/bench_mpi.py [--build build] [--trials 256] [--images 100]
                                       [--rounds 3] [--json out.json]
Needs mpirun (Open MPI) and a cimgpu built with MPI; runs as root only when allowed
(OMPI_ALLOW_RUN_AS_ROOT, which this script sets).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

STATS = re.compile(r"cimgpu: (\d+) ranks on .*?: (\d+) work items \((\d+) on rank 0\), "
                   r"([\d.]+) s of compute summed over ranks in ([\d.]+) s .*?received "
                   r"(\d+) bytes in ([\d.]+) ms, wrote for ([\d.]+) ms, waited ([\d.]+) ms")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", POCL_MAX_PTHREAD_COUNT="1")


def timed(args):
    t = time.perf_counter()
    r = subprocess.run(args, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"bench_mpi: {' '.join(args)} failed: {r.stderr.strip()}")
    return wall, r.stderr


def pair(cimgpu, run_half):
    """Two independent processes at once, one per core, each half the chips: what the cores
    give two ranks with no MPI at all (they share caches, memory and, in a VM, more)."""
    t = time.perf_counter()
    ps = [subprocess.Popen(["taskset", "-c", str(c), cimgpu] + run_half, env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in (0, 1)]
    for p in ps:
        if p.wait() != 0:
            sys.exit("bench_mpi: an independent process failed")
    return time.perf_counter() - t


def stats(stderr):
    m = STATS.search(stderr)
    if not m:
        sys.exit("bench_mpi: no `cimgpu: R ranks` line in the job's stderr")
    keys = ("ranks", "items", "items_rank0", "compute_s", "wall_s", "bytes", "receive_ms",
            "deliver_ms", "wait_ms")
    d = {k: float(v) for k, v in zip(keys, m.groups())}
    for k in ("receive", "deliver", "wait"):
        d[k + "_s"] = d.pop(k + "_ms") / 1e3
    return d


def projection(t_start, n_items, t_item, t0):
    rows = []
    for r in (1, 8, 16, 32, 64):
        t = t_start + max(n_items * (t_item + (t0 if r > 1 else 0)) / r, n_items * t0 if r > 1 else 0)
        rows.append((r, t, (t_start + n_items * t_item) / (r * t)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--trials", type=int, default=256)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gpu-item-seconds", type=float, default=60.0 / (10000 / 16))
    ap.add_argument("--gpu-images", type=int, default=10000)
    ap.add_argument("--trace-images", type=int, default=2000,
                    help="images of the traced run that measures the per-prediction cost")
    ap.add_argument("--bandwidth", type=float, default=12.5e9,
                    help="network bytes/s for the projection (100 Gb/s InfiniBand: 12.5e9)")
    ap.add_argument("--json")
    a = ap.parse_args()
    cimgpu = os.path.abspath(os.path.join(a.build, "cimgpu"))
    mpirun = shutil.which("mpirun")
    if not mpirun:
        sys.exit("bench_mpi: no mpirun (tools/install-deps.sh installs Open MPI)")
    info = subprocess.run([cimgpu, "info"], capture_output=True, text=True).stdout
    if "not built in" in "".join(l for l in info.splitlines() if l.split()[:1] == ["MPI"]):
        sys.exit("bench_mpi: this cimgpu was built without MPI")
    tmp = tempfile.mkdtemp(prefix="bench-mpi-")
    run = ["run", "--trials", str(a.trials), "--images", str(a.images)]
    one = ["taskset", "-c", "0", cimgpu] + run
    mpi = lambda n, extra=(): [mpirun, "--bind-to", "core", "--map-by", "core", "-np", str(n),
                               cimgpu] + run + list(extra)
    # warm PoCL's kernel cache so no round pays the kernel compilation
    timed(one[:4] + ["run", "--trials", "1", "--images", "1"])
    half = ["run", "--trials", str(a.trials // 2), "--images", str(a.images)]
    walls = {"one process": [], "mpirun -np 1": [], "mpirun -np 2": [], "2 independent": []}
    last = None
    for _ in range(a.rounds):
        walls["one process"].append(timed(one)[0])
        walls["mpirun -np 1"].append(timed(mpi(1))[0])
        w, err = timed(mpi(2))
        walls["mpirun -np 2"].append(w)
        last = stats(err)
        walls["2 independent"].append(pair(cimgpu, half))
    med = {k: statistics.median(v) for k, v in walls.items()}
    speedup = med["one process"] / med["mpirun -np 2"]
    print(f"workload: tnn_cnn, {a.trials} chips x {a.images} images, one core per rank "
          f"(PoCL with one thread), median of {a.rounds} interleaved rounds")
    for k, v in walls.items():
        print(f"  {k:14s} {med[k]:7.2f} s   (rounds: {', '.join(f'{x:.2f}' for x in v)})")
    hw = med["one process"] / med["2 independent"]
    print(f"  speed-up 2 ranks / 1 process: {speedup:.2f}x, parallel efficiency "
          f"{speedup / 2:.0%}")
    print(f"  the cores alone: 2 independent half-size processes give {hw:.2f}x; the MPI job "
          f"reaches {speedup / hw:.0%} of that (what MPI and the writer cost)")

    # the cost of a work item: without the trace, and with it on more images (the trace sends
    # and writes every prediction, so its bytes grow with the images)
    cost = {}
    cases = (("no trace", run, []),
             ("--trace", ["run", "--trials", "32", "--images", str(a.trace_images)], ["--trace"]))
    for label, base, extra in cases:
        out = os.path.join(tmp, "r.h5")
        cmd = [mpirun, "--bind-to", "core", "--map-by", "core", "-np", "2", cimgpu] + base
        _, err = timed(cmd + ["--out", out, "--force"] + extra)
        s = stats(err)
        n, remote = s["items"], max(s["items"] - s["items_rank0"], 1)
        cost[label] = {"images": int(base[base.index("--images") + 1]), "items": n,
                       "compute_s": s["compute_s"] / n, "bytes": s["bytes"] / remote,
                       "receive_s": s["receive_s"] / remote, "deliver_s": s["deliver_s"] / n}
    wall1, _ = timed(mpi(2, ["--trials", "16"]))  # one item: the fixed part
    t_start = wall1 - last["compute_s"] / last["items"]
    print("\ncost per work item (16 chips), rank 0's accounting of `mpirun -np 2 ... --out`:")
    for label, c in cost.items():
        print(f"  {label:9s} {c['images']:5d} images: compute {c['compute_s'] * 1e3:8.1f} ms, "
              f"result {c['bytes']:8.0f} B, rank 0 receive {c['receive_s'] * 1e6:7.1f} us + "
              f"write {c['deliver_s'] * 1e6:7.1f} us")
    print(f"  start-up of a 2-rank job (one item's wall time minus its compute): {t_start:.2f} s")

    # the projection for GPUs: the result bytes and rank 0's time per item at --gpu-images
    # images, from the measured per-image rate with the trace (linear in the images: a
    # fixed part per item plus a part per prediction) and the fixed cost without
    print(f"\nprojection: items of 16 chips x {a.gpu_images} images, "
          f"{a.gpu_item_seconds * 1e3:.0f} ms per item on one GPU (assumed), network "
          f"{a.bandwidth / 1e9:.1f} GB/s (assumed), rank 0's receive + write per item as measured")
    proj = {}
    base_t0 = cost["no trace"]["receive_s"] + cost["no trace"]["deliver_s"]
    tr = cost["--trace"]
    per_image = max(tr["receive_s"] + tr["deliver_s"] - base_t0, 0.0) / tr["images"]
    for label in ("no trace", "--trace"):
        b = cost[label]["bytes"] if label == "no trace" else tr["bytes"] * a.gpu_images / tr["images"]
        t0 = base_t0 + (per_image * a.gpu_images if label == "--trace" else 0.0) + b / a.bandwidth
        for job, n_items in (("one run of 10 000 chips", 10000 / 16),
                             ("a sweep of 100 such configurations", 100 * 10000 / 16)):
            rows = projection(t_start, n_items, a.gpu_item_seconds, t0)
            proj[f"{label}, {job}"] = [{"ranks": r, "seconds": t, "efficiency": e}
                                       for r, t, e in rows]
            print(f"  {label:8s} {job:35s} " +
                  ", ".join(f"{r:2d}: {e:4.0%} ({t:6.1f} s)" for r, t, e in rows))
        print(f"  {label:8s} rank 0 {t0 * 1e3:.3f} ms per item: it saturates at "
              f"{a.gpu_item_seconds / t0:.0f} ranks")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"walls": walls, "median": med, "speedup": speedup,
                       "independent_speedup": hw, "cost": cost,
                       "start_s": t_start, "projection": proj}, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

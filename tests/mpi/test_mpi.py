"""test_mpi.py -- `mpirun -np R cimgpu run|sweep` against one process (docs/mpi.md).

Every results file a job of R ranks writes must hold the same datasets, byte for byte, as the
same command in one process, for R = 1, 2, 3 and an R larger than the number of work items;
a rank that fails or is killed ends the job with one line, the .partial keeps every finished
chunk, and --resume with another rank count completes it to the same bytes.

Run as `python3 test_mpi.py CIMGPU` (ctest does). With a cimgpu built without MPI only the
refusal of a multi-process launch is tested. Open MPI runs here with --oversubscribe (more
ranks than cores), as root only when allowed (OMPI_ALLOW_RUN_AS_ROOT), and without the
single-copy shared-memory path that containers forbid.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MLP = os.path.join(ROOT, "data", "models", "tnn_mlp.h5")
CIMGPU = None
HAS_MPI = False
MPIRUN = shutil.which("mpirun")
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
MEASURED = {"summary/seconds"}
PROGRESS = re.compile(r"^cimgpu: (run|sweep: configuration \d+ \(\d+% of its chips\)): \d+ of \d+ ")  # a sweep's compute seconds: a measurement, not a result


def datasets(path):
    """{name: (dtype, shape, values)} of every dataset; strings decoded."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                v = obj[()]
                if obj.dtype.kind == "O":
                    v = [x.decode() if isinstance(x, bytes) else x for x in v.ravel().tolist()]
                else:
                    v = v.tobytes()
                out[name] = (str(obj.dtype), obj.shape, v)
        f.visititems(visit)
    return out


def experiment(path, model, images, xbars, sigmas, trials):
    """An experiment config of TNN_I and TNN_IV over crossbar sizes and HRS sigmas."""
    with open(path, "w") as f:
        json.dump({"nn_names": [model], "ifm": [[28, 28, 1]], "nn_data_set": "fashion_mnist",
                   "nn_data": "TEST", "batch": images, "num_runs": 1,
                   "xbar_size": [[x, x] for x in xbars], "hrs_lrs": [[5, 30]],
                   "m_mode": ["TNN_I", "TNN_IV"], "hrs_noise": sigmas, "lrs_noise": [4],
                   "adc_type": "INF_ADC", "resolution": -1, "trials": trials}, f)
    return path


def mpirun(ranks, args, **kw):
    return subprocess.run([MPIRUN, "--oversubscribe", "-np", str(ranks), CIMGPU] + args,
                          env=MPI_ENV, capture_output=True, text=True, timeout=600, **kw)


def cimgpu_lines(stderr):
    """cimgpu's own lines (the launcher adds its notices)."""
    return [l for l in stderr.splitlines() if l.startswith("cimgpu: ")]


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cimgpu-mpi-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertSameDatasets(self, a, b, skip=()):
        da, db = datasets(a), datasets(b)
        self.assertEqual(sorted(da), sorted(db))
        for name in da:
            if name not in skip:
                self.assertEqual(da[name], db[name], f"{name} differs between {a} and {b}")

    def plain(self, args):
        r = subprocess.run([CIMGPU] + args, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r


@unittest.skipUnless(MPIRUN, "no mpirun")
class WithoutMpi(Scratch):
    """A cimgpu built without MPI refuses a launch of several processes."""

    def test_refused(self):
        if HAS_MPI:
            self.skipTest("this cimgpu has MPI")
        r = mpirun(2, ["run", "--trials", "2", "--images", "2"])
        self.assertNotEqual(r.returncode, 0)
        lines = cimgpu_lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)  # rank 0 speaks for both
        self.assertIn("built without MPI", lines[0])
        self.assertEqual(r.stdout, "")

    def test_one_process_runs(self):
        if HAS_MPI:
            self.skipTest("this cimgpu has MPI")
        r = mpirun(1, ["run", "--trials", "2", "--images", "2"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mean accuracy", r.stdout)


@unittest.skipUnless(MPIRUN, "no mpirun")
class SameBytes(Scratch):
    RUN = ["run", "--model", MLP, "--trials", "40", "--images", "24", "--trace"]

    def setUp(self):
        super().setUp()
        if not HAS_MPI:
            self.skipTest("cimgpu built without MPI")

    def run_case(self, args, name):
        ref = self.path(f"{name}-ref.h5")
        self.plain(args + ["--out", ref])
        # 40 trials make 3 work items of 16, 16 and 8 chips: 5 ranks are more than items
        for ranks in (1, 2, 3, 5):
            out = self.path(f"{name}-{ranks}.h5")
            r = mpirun(ranks, args + ["--out", out])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertSameDatasets(ref, out)
            self.assertIn("mean accuracy", r.stdout)
            self.assertEqual(r.stdout.count("mean accuracy"), 1)  # rank 0 alone prints
            if ranks > 1:
                self.assertIn(f"cimgpu: {ranks} ranks on ", r.stderr)
                self.assertIn("work items", r.stderr)
                # the banner and the file's provenance say how many ranks ran it
                self.assertIn(f"; MPI: {ranks} ranks on 1 node (", r.stdout)
                with h5py.File(out, "r") as f:
                    device = f.attrs["device"]
                    device = device.decode() if isinstance(device, bytes) else device
                    self.assertIn(f"; MPI: {ranks} ranks on 1 node (", device)

    def test_run_d2d_and_trace(self):
        self.run_case(self.RUN, "d2d")

    def test_run_adc_c2c_profiles(self):
        # a 4-bit ADC with cycle-to-cycle noise, ADC input profiles and layer error rates
        self.run_case(self.RUN + ["--c2c", "--set", "adc_type=SYM_RANGE_ADC", "--set",
                                  "resolution=4", "--set", "adc_profile=true"], "profile")

    def test_device_list_per_local_rank(self):
        ref = self.path("ref.h5")
        self.plain(self.RUN + ["--out", ref])
        out = self.path("list.h5")
        r = mpirun(2, self.RUN + ["--out", out, "--device", "0,0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameDatasets(ref, out)

    def test_sweep(self):
        exp = experiment(self.path("exp.json"), "tnn_mlp", 12, [128, 256], [1, 2], 20)
        ref = self.path("sweep-ref.h5")
        self.plain(["sweep", exp, "--out", ref])
        # 8 configurations of 2 items each (16 + 4 chips): 16 items; 17 ranks are more
        for ranks in (1, 2, 3):
            out = self.path(f"sweep-{ranks}.h5")
            r = mpirun(ranks, ["sweep", exp, "--out", out, "--csv", out + ".csv"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertSameDatasets(ref, out, skip=MEASURED)
            self.assertTrue(os.path.exists(out + ".csv"))
        small = experiment(self.path("small.json"), "tnn_mlp", 12, [256], [1], 16)
        ref = self.path("small-ref.h5")
        self.plain(["sweep", small, "--out", ref])
        out = self.path("small-4.h5")  # 2 items, 4 ranks
        r = mpirun(4, ["sweep", small, "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameDatasets(ref, out, skip=MEASURED)
        r = mpirun(2, ["sweep", small, "--dry-run"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("cimgpu run"), 2)  # rank 0's two lines only


def trials_written(path):
    try:
        with h5py.File(path, "r", libver="latest", swmr=True) as f:
            return int(f["trials_written"][()])
    except (OSError, KeyError):
        return 0


def rank_pids(rank):
    """PIDs of cimgpu processes the launcher started as `rank`."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")[0]
        except OSError:
            continue
        if os.path.basename(cmd) == b"cimgpu" and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            pids.append(int(d))
    return pids


@unittest.skipUnless(MPIRUN, "no mpirun")
class Faults(Scratch):
    # 480 chips of tnn_cnn on 100 images: seconds of work, 30 items of 16
    RUN = ["run", "--trials", "480", "--images", "100"]

    def setUp(self):
        super().setUp()
        if not HAS_MPI:
            self.skipTest("cimgpu built without MPI")

    def fault(self, ranks, args, partial, chips, rank, sig, launcher=(), status_nonzero=True):
        """Starts `mpirun -np ranks cimgpu args`, sends sig to `rank` once `partial` holds
        `chips` chips; cimgpu's one line other than progress."""
        p = subprocess.Popen([MPIRUN, "--oversubscribe"] + list(launcher) +
                             ["-np", str(ranks), CIMGPU] + args,
                             env=MPI_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        deadline = time.time() + 300
        while trials_written(partial) < chips:
            self.assertIsNone(p.poll(), "the job ended before the fault")
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        for pid in rank_pids(rank):
            os.kill(pid, sig)
        _, err = p.communicate(timeout=120)
        if status_nonzero:
            self.assertNotEqual(p.returncode, 0)
        lines = [l for l in cimgpu_lines(err) if not PROGRESS.match(l)]
        self.assertEqual(len(lines), 1, err)
        return lines[0]

    def test_failing_rank_named(self):
        out = self.path("dev.h5")
        r = mpirun(3, ["run", "--trials", "4", "--images", "4", "--out", out, "--device",
                       "0,0,no-such-device"])
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = cimgpu_lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], r"^cimgpu: rank 2 \([^)]*\): .*no-such-device")
        self.assertFalse(os.path.exists(out) or os.path.exists(out + ".partial"))

    def test_ranks_with_other_inputs_refused(self):
        # rank 1 finds another model under the default name in its model folder (as a node
        # with another copy of the models would): refused before any work, naming the rank
        same, other = self.path("same"), self.path("other")
        os.makedirs(same)
        os.makedirs(other)
        shutil.copy(os.path.join(ROOT, "data", "models", "tnn_cnn.h5"), same)
        shutil.copy(MLP, os.path.join(other, "tnn_cnn.h5"))
        out = self.path("inputs.h5")
        args = [CIMGPU, "run", "--trials", "4", "--images", "4", "--out", out]
        r = subprocess.run([MPIRUN, "--oversubscribe", "-np", "1", "-x", f"CIMGPU_MODEL_DIR={same}"]
                           + args + [":", "-np", "1", "-x", f"CIMGPU_MODEL_DIR={other}"] + args,
                           env=MPI_ENV, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = cimgpu_lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], r"^cimgpu: rank 1 \([^)]*\): the model differs from rank 0's")
        self.assertFalse(os.path.exists(out) or os.path.exists(out + ".partial"))

    def test_other_subcommands_refused(self):
        r = mpirun(2, ["mvm", "--help"])
        self.assertEqual(r.returncode, 2)
        lines = cimgpu_lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("mvm: runs as one process", lines[0])

    def test_killed_rank_then_resume_with_other_counts(self):
        ref = self.path("ref.h5")
        self.plain(self.RUN + ["--out", ref])
        out = self.path("kill.h5")
        # rank 0 writes its line from the handler of the launcher's SIGTERM, naming the rank
        # of this node that is gone, what the file keeps and how to go on
        line = self.fault(3, self.RUN + ["--out", out], out + ".partial", 64, 2, signal.SIGKILL)
        self.assertRegex(line, r"^cimgpu: run: stopped by SIGTERM after \d+ of 480 trials; "
                                   r".*kill\.h5\.partial keeps them: the same command with "
                                   r"--resume completes the run; rank 2 \(process \d+\) had ended$")
        self.assertFalse(os.path.exists(out))
        kept = trials_written(out + ".partial")
        said = int(line.split(" after ")[1].split(" ")[0])
        self.assertEqual(said, kept)  # nothing is appended once the line is written
        self.assertGreaterEqual(kept, 64)
        self.assertLess(kept, 480)
        r = mpirun(2, self.RUN + ["--out", out, "--resume"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameDatasets(ref, out)

    def test_rank_lost_without_the_launcher_stopping_the_job(self):
        # Open MPI's --enable-recovery keeps the job when a rank dies, as srun without
        # --kill-on-bad-exit does: rank 0 sees the rank of its node gone and ends the job
        # (the launcher's own status then is its business)
        out = self.path("lost.h5")
        line = self.fault(3, self.RUN + ["--out", out], out + ".partial", 32, 2, signal.SIGKILL,
                          launcher=["--enable-recovery"], status_nonzero=False)
        self.assertRegex(line, r"^cimgpu: rank 2 \([^)]*\) ended without a word \(its process "
                               r"is gone\) \(.*lost\.h5\.partial keeps \d+ finished trials")
        self.assertGreaterEqual(trials_written(out + ".partial"), 32)

    def test_interrupted_rank_named_then_resume_in_one_process(self):
        ref = self.path("ref.h5")
        self.plain(self.RUN + ["--out", ref])
        out = self.path("term.h5")
        line = self.fault(2, self.RUN + ["--out", out], out + ".partial", 32, 1, signal.SIGTERM)
        self.assertRegex(line, r"^cimgpu: rank 1 \([^)]*\): interrupted by SIGTERM")
        self.assertIn("--resume", line)
        self.assertTrue(os.path.exists(out + ".partial"))
        r = subprocess.run([CIMGPU] + self.RUN + ["--out", out, "--resume"], capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameDatasets(ref, out)

    def test_sweep_interrupted_inside_a_configuration_then_resumed(self):
        exp = experiment(self.path("exp.json"), "tnn_cnn", 100, [256], [1, 2], 96)
        ref = self.path("ref.h5")
        self.plain(["sweep", exp, "--out", ref])
        out = self.path("sweep.h5")
        # inside configuration 0 (96 chips)
        line = self.fault(3, ["sweep", exp, "--out", out], out + ".partial", 40, 1,
                          signal.SIGTERM)
        self.assertRegex(line, r"^cimgpu: rank 1 \([^)]*\): interrupted by SIGTERM")
        self.assertIn("--resume", line)
        kept = trials_written(out + ".partial")
        self.assertGreaterEqual(kept, 40)
        self.assertLess(kept, 4 * 96)
        r = mpirun(2, ["sweep", exp, "--out", out, "--resume"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{kept} of 384 chips done", r.stdout)
        self.assertSameDatasets(ref, out, skip=MEASURED)

    def test_progress_lines_on_rank_0(self):
        out = self.path("progress.h5")
        r = mpirun(2, self.RUN + ["--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr
        progress = [l for l in cimgpu_lines(err) if PROGRESS.match(l)]
        self.assertGreaterEqual(len(progress), 1, err)  # the first after a second of work
        self.assertRegex(progress[0], r"^cimgpu: run: \d+ of 480 trials \(\d+%\)")
        self.assertNotIn("\r", err)


if __name__ == "__main__":
    CIMGPU = os.path.abspath(sys.argv.pop(1))
    info = subprocess.run([CIMGPU, "info"], capture_output=True, text=True).stdout
    HAS_MPI = any(l.split()[:1] == ["MPI"] and "not built in" not in l
                  for l in info.splitlines())
    unittest.main(verbosity=2)

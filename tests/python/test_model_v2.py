"""test_model_v2.py -- data/cimgpu_model.py (the executable form of data/model_format.md) on
format_version 2, the layer graph of §9, and on the shipped version-1 files.

The shipped models still validate and predict, on 200 Fashion-MNIST test images, what the
version-1 reader predicted (a recorded count and checksum), the same as a straightforward
reference pass written here, and the same again when rewritten as version 2 with explicit
`inputs`. Small hand-made version-2 models (residual add with scales, concat of 3-D and 1-D
tensors, sumpool2d, global_sumpool, dense/conv2d on a pre-activation, add and global_sumpool
as the last layer) give exactly the reference's scores. Every refusal rule has a test of its
own: IntModel raises ModelError with a message that names the layer."""
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import unittest
import weakref
from unittest import mock

import h5py
import numpy as np

import fixtures

MODEL_PY = os.path.join(fixtures.ROOT, "data", "cimgpu_model.py")
_spec = importlib.util.spec_from_file_location("cimgpu_model", MODEL_PY)
cm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cm)

DATA_DIR = cm.DEFAULT_DATA_DIR
SHIPPED = ("bnn_mlp", "tnn_mlp", "bnn_cnn", "tnn_cnn")
# What the version-1 reader predicts on the first 200 test images: correct count, and the
# first 16 hex digits of the SHA-256 of the predictions as int64.
BASELINE_200 = {"bnn_mlp": (185, "b52e0ff13f5a4574"), "tnn_mlp": (181, "c7e6f768312319d1"),
                "bnn_cnn": (180, "4ec1549c12c335d8"), "tnn_cnn": (183, "3261fa23bd125577")}
INT32 = 1 << 31


def have_dataset():
    return os.path.exists(os.path.join(DATA_DIR, "t10k-images-idx3-ubyte.gz"))


# ---- an independent reference: each layer's formula, read from the file with h5py --------

def _text(v):
    return (v.decode() if isinstance(v, bytes) else str(v)).rstrip("\0")


def _windows(x, kh, kw, sh, sw):
    """(i, j, x[:, :, i*sh : i*sh+kh, j*sw : j*sw+kw]) for every complete window."""
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    for i in range(ho):
        for j in range(wo):
            yield i, j, x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]


def reference_scores(path, images):
    """The model's output for images [N, C, H, W], computed layer by layer from the formulas
    of model_format.md in int64 (no validation), every value checked to fit in int32."""
    with h5py.File(path, "r") as f:
        names = sorted(f["layers"])
        out = {-1: np.asarray(images, dtype=np.int64)}
        for i, name in enumerate(names):
            g = f["layers"][name]
            t = _text(g.attrs["type"])
            inputs = ([int(e) for e in np.atleast_1d(g.attrs["inputs"])]
                      if "inputs" in g.attrs else [i - 1])
            xs = [out[j] for j in inputs]
            x = xs[0]

            def ints(key):
                return [int(e) for e in np.atleast_1d(g.attrs[key])]

            if t == "dense":
                y = np.einsum("ni,oi->no", x, g["weight"][()].astype(np.int64))
            elif t == "conv2d":
                w = g["weight"][()].astype(np.int64)
                (kh, kw), (sh, sw), (ph, pw) = ints("kernel"), ints("stride"), ints("padding")
                xp = np.full((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw),
                             ints("pad_value")[0], dtype=np.int64)
                xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
                ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
                y = np.zeros((x.shape[0], w.shape[0], ho, wo), dtype=np.int64)
                for r, s, win in _windows(xp, kh, kw, sh, sw):
                    y[:, :, r, s] = np.einsum("ncuv,ocuv->no", win, w)
            elif t in ("maxpool2d", "sumpool2d"):
                (kh, kw), (sh, sw) = ints("kernel"), ints("stride")
                ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
                y = np.zeros(x.shape[:2] + (ho, wo), dtype=np.int64)
                for r, s, win in _windows(x, kh, kw, sh, sw):
                    y[:, :, r, s] = win.max(axis=(2, 3)) if t == "maxpool2d" else \
                        win.sum(axis=(2, 3))
            elif t == "global_sumpool":
                y = x.sum(axis=(2, 3))
            elif t == "flatten":
                y = x.reshape(x.shape[0], -1)
            elif t == "batchnorm_threshold":
                shp = (1, -1) + (1,) * (x.ndim - 2)
                lo = g["threshold_lo"][()].astype(np.int64).reshape(shp)
                hi = g["threshold_hi"][()].astype(np.int64).reshape(shp)
                fl = g["flip"][()].astype(np.int64).reshape(shp)
                y = fl * np.where(x > hi, x - hi, np.where(x < lo, x - lo, 0))
            elif t == "sign":
                y = np.where(x >= 0, 1, -1)
            elif t == "ternary":
                y = np.sign(x)
            elif t == "add":
                scale = ints("scale") if "scale" in g.attrs else [1] * len(xs)
                y = sum(s * xj for s, xj in zip(scale, xs))
            elif t == "concat":
                y = np.concatenate(xs, axis=1)
            else:
                raise AssertionError(t)
            assert np.abs(y).max() < INT32, f"{name}: a value outside int32"
            out[i] = y.astype(np.int64)
        return out[len(names) - 1]


# ---- building models ---------------------------------------------------------------------

class Builder:
    """Layer entries for cm.write_model with seeded random weights and thresholds."""

    def __init__(self, kind, seed=1):
        self.kind = kind
        self.rng = np.random.default_rng(seed)
        self.values = [-1, 1] if kind == "bnn" else [-1, 0, 1]

    def _w(self, shape):
        return self.rng.choice(self.values, size=shape).astype(np.int8)

    @staticmethod
    def _in(attrs, inputs):
        if inputs is not None:
            attrs["inputs"] = inputs
        return attrs

    def dense(self, nin, nout, inputs=None):
        return ("dense", self._in({"in_features": nin, "out_features": nout}, inputs),
                {"weight": self._w((nout, nin))})

    def conv(self, cin, cout, k=3, stride=1, pad=0, pad_value=0, inputs=None):
        attrs = {"in_channels": cin, "out_channels": cout, "kernel": [k, k],
                 "stride": [stride, stride], "padding": [pad, pad], "pad_value": pad_value}
        return ("conv2d", self._in(attrs, inputs), {"weight": self._w((cout, cin, k, k))})

    def bn(self, c, spread, inputs=None):
        """Thresholds drawn in [-spread, spread] (a dead zone for tnn), random flips."""
        lo = self.rng.integers(-spread, spread + 1, size=c)
        width = np.zeros(c, np.int64) if self.kind == "bnn" else \
            self.rng.integers(0, max(1, spread // 2) + 1, size=c)
        return ("batchnorm_threshold", self._in({"channels": c}, inputs),
                {"threshold_lo": lo.astype(np.int32), "threshold_hi": (lo + width).astype(np.int32),
                 "flip": self.rng.choice([-1, 1], size=c).astype(np.int8)})

    def act(self, inputs=None):
        return ("sign" if self.kind == "bnn" else "ternary", self._in({}, inputs), {})

    @staticmethod
    def layer(ltype, inputs=None, **attrs):
        return (ltype, Builder._in(attrs, inputs), {})


def write(path, layers, kind="bnn", input_shape=(1, 6, 6), num_classes=3, version=2, **root):
    attrs = {"format": "cimgpu-model", "format_version": version, "name": "test", "kind": kind,
             "input_shape": list(input_shape), "input_preprocessing": "raw_uint8",
             "num_classes": num_classes, "num_layers": len(layers)}
    attrs.update(root)
    cm.write_model(path, attrs, layers)
    return path


def images(shape, n=9, seed=5):
    return np.random.default_rng(seed).integers(0, 256, size=(n,) + tuple(shape)).astype(np.int32)


def residual_layers(b, c=4):
    """bnn [1,6,6] -> 3 classes: two conv blocks and the sum of their activations, scaled."""
    return [
        b.conv(1, c, pad=1),                         # 000 on pixels -> [c,6,6] pre
        b.bn(c, 600),                                # 001
        b.act(),                                     # 002 act
        b.conv(c, c, pad=1, pad_value=-1),           # 003
        b.bn(c, 6),                                  # 004
        b.act(),                                     # 005 act
        b.layer("add", [2, 5], scale=[2, -3]),       # 006 pre, bound 5
        b.layer("flatten"),                          # 007
        b.dense(c * 36, 3),                          # 008
    ]


class ModelCase(fixtures.Scratch):
    def check_against_reference(self, path, x, nontrivial=True):
        """IntModel(path).forward(x) is exactly the reference's scores; returns the model."""
        model = cm.IntModel(path)
        got = model.forward(x.copy())
        want = reference_scores(path, x)
        self.assertEqual(got.dtype, np.int32)
        np.testing.assert_array_equal(got, want)
        if nontrivial:
            self.assertGreater(len(np.unique(got)), 1, "degenerate test model: constant scores")
        return model

    def refused(self, layers, regex, **kw):
        path = write(self.path("bad.h5"), layers, **kw)
        with self.assertRaisesRegex(cm.ModelError, regex):
            cm.IntModel(path)


# ---- the shipped version-1 models ---------------------------------------------------------

class ShippedModels(ModelCase):
    def shipped(self, name):
        return os.path.join(fixtures.ROOT, "data", "models", name + ".h5")

    def test_shipped_models_validate_as_version_1(self):
        for name in SHIPPED:
            with self.subTest(name):
                m = cm.IntModel(self.shipped(name))
                self.assertEqual(m.version, 1)
                self.assertEqual([L["inputs"] for L in m.layers],
                                 [[i - 1] for i in range(len(m.layers))])
                self.assertEqual(m.last_use, {j: j + 1 for j in range(-1, len(m.layers) - 1)})
                self.assertLessEqual(max(L["bound"] for L in m.layers
                                         if L["bound"] is not None), 784 * 255)

    @unittest.skipUnless(have_dataset(), f"no Fashion-MNIST in {DATA_DIR}")
    def test_predictions_unchanged_and_as_version_2(self):
        x, y = cm.load_split(DATA_DIR, "test")
        x, y = x[:200].astype(np.int32).reshape(200, 1, 28, 28), y[:200]
        for name in SHIPPED:
            with self.subTest(name):
                m = cm.IntModel(self.shipped(name))
                scores = m.forward(x)
                pred = np.argmax(scores, axis=1)
                np.testing.assert_array_equal(m.predict(x[:, 0]), pred)
                digest = hashlib.sha256(pred.astype(np.int64).tobytes()).hexdigest()[:16]
                self.assertEqual((int(np.sum(pred == y)), digest), BASELINE_200[name])
                np.testing.assert_array_equal(scores, reference_scores(self.shipped(name), x))
                # the same chain written as version 2, with explicit inputs (some scalar)
                v2 = self.path(name + "_v2.h5")
                shutil.copy(self.shipped(name), v2)
                with h5py.File(v2, "r+") as f:
                    f.attrs["format_version"] = np.int32(2)
                    for i, lname in enumerate(sorted(f["layers"])):
                        f["layers"][lname].attrs["inputs"] = \
                            np.int32(i - 1) if i % 2 else np.array([i - 1], np.int32)
                m2 = cm.IntModel(v2)
                self.assertEqual(m2.version, 2)
                np.testing.assert_array_equal(m2.forward(x), scores)

    @unittest.skipUnless(have_dataset(), f"no Fashion-MNIST in {DATA_DIR}")
    def test_command_line_on_version_1(self):
        r = subprocess.run([sys.executable, MODEL_PY, self.shipped("bnn_mlp")],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid bnn model, 8 layers", r.stdout)
        self.assertIn("(8907/10000), stored digital_test_correct 8907", r.stdout)


# ---- hand-made version-2 models -----------------------------------------------------------

class GraphModels(ModelCase):
    def test_residual_add_with_scales(self):
        b = Builder("bnn")
        path = write(self.path("res.h5"), residual_layers(b))
        x = images((1, 6, 6))
        m = self.check_against_reference(path, x)
        self.assertEqual(m.layers[6]["scale"], [2, -3])
        self.assertEqual(m.layers[6]["bound"], 5)
        self.assertEqual(m.last_use[2], 6)
        # the add by hand: 2 * act(002) - 3 * act(005), from the chains that end there
        chain2 = write(self.path("a.h5"), residual_layers(Builder("bnn"))[:3] + [
            Builder.layer("flatten")], num_classes=144)
        chain5 = write(self.path("b.h5"), residual_layers(Builder("bnn"))[:6] + [
            Builder.layer("flatten")], num_classes=144)
        a, c = reference_scores(chain2, x), reference_scores(chain5, x)
        added = reference_scores(write(self.path("sum.h5"), residual_layers(Builder("bnn"))[:8],
                                       num_classes=144), x)
        np.testing.assert_array_equal(added, 2 * a - 3 * c)
        self.assertTrue(set(np.unique(added)) <= {-5, -1, 1, 5})

    def test_residual_with_batchnorm_after_the_add_tnn(self):
        b = Builder("tnn", seed=3)
        layers = [b.conv(1, 3, pad=1), b.bn(3, 500), b.act(),          # 000-002 act
                  b.conv(3, 3, pad=1, pad_value=0), b.bn(3, 4), b.act(),  # 003-005 act
                  b.layer("add", [2, 5]),                               # 006 pre, bound 2
                  b.bn(3, 1), b.act(),                                  # 007-008
                  b.layer("flatten"), b.dense(108, 3)]
        path = write(self.path("res_tnn.h5"), layers, kind="tnn")
        self.check_against_reference(path, images((1, 6, 6)))

    def test_concat_3d(self):
        b = Builder("tnn", seed=2)
        layers = [b.conv(1, 4, pad=1), b.bn(4, 500), b.act(),      # 002: act [4,6,6]
                  b.conv(4, 2, pad=1, inputs=[2]),                # 003: [2,6,6]
                  b.conv(4, 3, k=1, inputs=[2]),                  # 004: [3,6,6]
                  b.layer("concat", [3, 4], axis=0),               # 005: [5,6,6] pre
                  b.layer("maxpool2d", kernel=[2, 2], stride=[2, 2]),   # 006: [5,3,3]
                  b.bn(5, 5), b.act(), b.layer("flatten"), b.dense(45, 3)]
        path = write(self.path("cat3.h5"), layers, kind="tnn")
        m = self.check_against_reference(path, images((1, 6, 6)))
        self.assertEqual(m.layers[5]["out_shape"], (5, 6, 6))
        self.assertEqual(m.layers[5]["bound"], 36)          # max(4*3*3, 4*1*1)

    def test_concat_of_activations_and_of_the_image(self):
        b = Builder("bnn", seed=4)
        layers = [b.layer("maxpool2d", kernel=[1, 1], stride=[1, 1]),    # 000 image [1,6,6]
                  b.layer("concat", [-1, 0]),                          # 001 image [2,6,6]
                  b.conv(2, 3, k=3),                                   # 002 pre [3,4,4]
                  b.bn(3, 400), b.act(),                               # 003-004 act
                  b.conv(3, 2, k=1), b.bn(2, 2), b.act(),              # 005-007 act [2,4,4]
                  b.layer("concat", [4, 7]),                           # 008 act [5,4,4]
                  b.layer("flatten"), b.dense(80, 3)]
        path = write(self.path("cat_act.h5"), layers)
        m = self.check_against_reference(path, images((1, 6, 6)))
        self.assertEqual(m.layers[1]["out_alphabet"], "image")
        self.assertEqual(m.layers[8]["out_alphabet"], "act")
        self.assertEqual(m.layers[8]["bound"], 1)

    def test_concat_1d_as_the_last_layer(self):
        b = Builder("bnn", seed=5)
        layers = [b.layer("flatten"), b.dense(36, 8), b.bn(8, 300), b.act(),   # 003 act [8]
                  b.dense(8, 2, inputs=[3]), b.dense(8, 3, inputs=[3]),        # 004, 005
                  b.layer("concat", [5, 4])]                                   # 006 [5]
        path = write(self.path("cat1.h5"), layers, num_classes=5)
        m = self.check_against_reference(path, images((1, 6, 6)))
        # the class order is the inputs' order: 005's three scores, then 004's two
        x = images((1, 6, 6))
        act = reference_scores(write(self.path("h.h5"), layers[:4], num_classes=8), x)
        w4, w5 = layers[4][2]["weight"].astype(np.int64), layers[5][2]["weight"].astype(np.int64)
        np.testing.assert_array_equal(m.forward(x), np.concatenate([act @ w5.T, act @ w4.T], 1))

    def test_sumpool2d(self):
        b = Builder("tnn", seed=6)
        layers = [b.layer("sumpool2d", kernel=[2, 2], stride=[2, 2]),   # 000 on pixels [1,4,4]
                  b.conv(1, 4, k=3, pad=1),                            # 001 pre input, pv 0
                  b.layer("sumpool2d", kernel=[3, 2], stride=[1, 2]),  # 002 [4,2,2]
                  b.bn(4, 20000), b.act(), b.layer("flatten"), b.dense(16, 3)]
        path = write(self.path("sum.h5"), layers, kind="tnn", input_shape=(1, 8, 8))
        x = images((1, 8, 8))
        m = self.check_against_reference(path, x)
        self.assertEqual([L["bound"] for L in m.layers[:3]], [1020, 9180, 55080])
        self.assertEqual(m.layers[2]["out_shape"], (4, 2, 2))
        # the first layer by hand: sums of 2x2 pixel blocks
        first = reference_scores(write(self.path("s0.h5"), layers[:1] + [
            Builder.layer("flatten")], kind="tnn", input_shape=(1, 8, 8), num_classes=16), x)
        blocks = x.reshape(len(x), 4, 2, 4, 2).sum(axis=(2, 4)).reshape(len(x), 16)
        np.testing.assert_array_equal(first, blocks)

    def test_global_sumpool_as_the_last_layer(self):
        b = Builder("bnn", seed=7)
        layers = [b.conv(1, 4, pad=1), b.bn(4, 500), b.act(),
                  b.conv(4, 3, k=3), b.layer("global_sumpool")]      # 004 [3], bound 36*16
        path = write(self.path("gap.h5"), layers)
        m = self.check_against_reference(path, images((1, 6, 6)))
        self.assertEqual(m.layers[4]["out_shape"], (3,))
        self.assertEqual(m.layers[4]["bound"], 36 * 16)

    def test_global_sumpool_by_hand_and_a_dense_head_on_it(self):
        b = Builder("bnn", seed=8)
        layers = [b.layer("global_sumpool"),             # 000 image [3,4,5] -> [3], bound 5100
                  b.dense(3, 4)]                         # 001 pre input, bound 15300
        path = write(self.path("gsum.h5"), layers, input_shape=(3, 4, 5), num_classes=4)
        x = images((3, 4, 5))
        m = self.check_against_reference(path, x)
        w = layers[1][2]["weight"].astype(np.int64)
        np.testing.assert_array_equal(m.forward(x), x.sum(axis=(2, 3)) @ w.T)
        self.assertEqual(m.layers[1]["bound"], 15300)

    def test_dense_and_conv2d_on_a_pre_activation(self):
        b = Builder("tnn", seed=9)
        layers = [b.conv(1, 2, k=3),                              # 000 pre [2,4,4], bound 2295
                  b.conv(2, 2, k=3, pad=1, pad_value=-2295),      # 001 pre input, pad = -bound
                  b.layer("flatten"),                             # 002 [32]
                  b.dense(32, 6), b.dense(6, 3)]                  # 003, 004: pre inputs
        path = write(self.path("pre.h5"), layers, kind="tnn")
        m = self.check_against_reference(path, images((1, 6, 6)))
        self.assertEqual([L["bound"] for L in m.layers],
                         [2295, 41310, 41310, 1321920, 7931520])

    def test_add_as_the_last_layer(self):
        b = Builder("bnn", seed=10)
        layers = [b.layer("flatten"), b.dense(36, 16), b.bn(16, 300), b.act(),   # 003 act [16]
                  b.dense(16, 3), b.dense(36, 3, inputs=[0]),                   # 004, 005
                  b.layer("add", [5, 4], scale=[1, 300])]                       # 006 [3]
        path = write(self.path("add_last.h5"), layers)
        m = self.check_against_reference(path, images((1, 6, 6)))
        self.assertEqual(m.layers[6]["bound"], 36 * 255 + 300 * 16)
        self.assertEqual(m.last_use, {-1: 0, 0: 5, 1: 2, 2: 3, 3: 4, 4: 6, 5: 6})

    def test_bound_at_the_limit_is_accepted(self):
        # (16383 + 2) * 129 * 127 = 2^28 - 1
        b = Builder("bnn", seed=11)
        layers = [b.conv(1, 2, k=1), b.act(),            # 001 act [2,129,127]
                  b.conv(2, 2, k=1),                     # 002 pre, bound 2
                  b.layer("add", [1, 2], scale=[16383, 1]),
                  b.layer("global_sumpool")]
        path = write(self.path("limit.h5"), layers, input_shape=(1, 129, 127), num_classes=2)
        m = self.check_against_reference(path, images((1, 129, 127), n=2))
        self.assertEqual(m.layers[4]["bound"], (1 << 28) - 1)

    def test_scalar_inputs_attribute(self):
        b = Builder("bnn")
        path = write(self.path("res.h5"), residual_layers(b))
        with h5py.File(path, "r+") as f:
            f["layers/003_conv2d"].attrs["inputs"] = np.int64(2)
            f["layers/007_flatten"].attrs["inputs"] = np.array([6], np.uint8)
        self.check_against_reference(path, images((1, 6, 6)))

    def test_write_model_writes_inputs_rank_1_and_takes_two_element_entries(self):
        b = Builder("bnn")
        layers = residual_layers(b)
        layers[3] = (layers[3][0], dict(layers[3][1], inputs=2), layers[3][2])
        layers[7] = ("flatten", {"inputs": [6]})                # no datasets: a 2-tuple
        path = write(self.path("w.h5"), layers)
        with h5py.File(path, "r") as f:
            self.assertEqual(f.attrs["format_version"], 2)
            for name in ("003_conv2d", "007_flatten"):
                a = f["layers"][name].attrs["inputs"]
                self.assertEqual((a.shape, a.dtype), ((1,), np.int32))
            self.assertEqual(list(f["layers/006_add"].attrs["inputs"]), [2, 5])
            self.assertNotIn("inputs", f["layers/000_conv2d"].attrs)
        self.check_against_reference(path, images((1, 6, 6)))

    def test_forward_drops_each_tensor_after_its_last_use(self):
        b = Builder("bnn")
        path = write(self.path("res.h5"), residual_layers(b))
        m = cm.IntModel(path)
        refs, seen = [], []
        real_apply = cm._apply

        def spy(L, ins):
            # the layer outputs still alive when layer len(refs) starts (weak references: the
            # spy holds none), not counting one that is alive only as the base of a view
            objs = [r() for r in refs]
            alive = [j for j, o in enumerate(objs) if o is not None and
                     not any(v is not None and v.base is o for v in objs)]
            del objs
            seen.append((len(refs), alive))
            y = real_apply(L, ins)
            refs.append(weakref.ref(y))
            return y

        with mock.patch.object(cm, "_apply", spy):
            m.forward(images((1, 6, 6), n=50))
        self.assertEqual(len(seen), 9)
        for i, alive in seen:
            needed = [j for j in range(i) if m.last_use[j] >= i]
            self.assertEqual(alive, needed, f"before layer {i}")
        self.assertEqual(seen[6], (6, [2, 5]))             # the add: both branches held
        self.assertEqual(seen[5], (5, [2, 4]))             # 002 waits for the add

    @unittest.skipUnless(have_dataset(), f"no Fashion-MNIST in {DATA_DIR}")
    def test_command_line_on_version_2(self):
        b = Builder("bnn", seed=12)
        layers = [b.conv(1, 4, k=3, stride=2), b.bn(4, 800), b.act(),        # [4,13,13]
                  b.conv(4, 4, k=3, pad=1, pad_value=1), b.bn(4, 6), b.act(),
                  b.layer("add", [2, 5]),
                  b.layer("sumpool2d", kernel=[2, 2], stride=[2, 2]),         # [4,6,6]
                  b.bn(4, 8), b.act(), b.layer("global_sumpool"), b.dense(4, 10)]
        path = write(self.path("cli.h5"), layers, input_shape=(1, 28, 28), num_classes=10)
        r = subprocess.run([sys.executable, MODEL_PY, path], capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid bnn model (format_version 2), 12 layers", r.stdout)
        self.assertRegex(r.stdout, r"006 add +2 inputs -> \[4, 13, 13\] +"
                                   r"\{'inputs': \[2, 5\], 'scale': \[1, 1\]\}")
        r = subprocess.run([sys.executable, MODEL_PY, self.path("missing.h5")],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 2)


# ---- refusals: one rule each, the message names the layer --------------------------------

class Version1Refusals(ModelCase):
    def mlp(self, b):
        return [b.layer("flatten"), b.dense(36, 8), b.bn(8, 300), b.act(), b.dense(8, 3)]

    def test_the_v1_mlp_is_valid(self):
        path = write(self.path("ok.h5"), self.mlp(Builder("bnn")), version=1)
        self.assertEqual(cm.IntModel(path).version, 1)

    def test_inputs_attribute(self):
        layers = self.mlp(Builder("bnn"))
        layers[1][1]["inputs"] = [0]
        self.refused(layers, r"layers/001_dense: attribute 'inputs' \(the layer graph\) needs "
                     r"format_version 2", version=1)

    def test_new_layer_types(self):
        b = Builder("bnn")
        for ltype, attrs in (("add", {}), ("concat", {}), ("global_sumpool", {}),
                             ("sumpool2d", {"kernel": [2, 2], "stride": [2, 2]})):
            with self.subTest(ltype):
                layers = [b.layer(ltype, **attrs), b.layer("flatten"), b.dense(9, 3)]
                self.refused(layers, rf"layers/000_{ltype}: layer type '{ltype}' needs "
                             rf"format_version 2", version=1)

    def test_dense_on_a_pre_activation(self):
        b = Builder("bnn")
        layers = [b.layer("flatten"), b.dense(36, 8), b.dense(8, 3)]
        self.refused(layers, r"layers/002_dense: input is a pre-activation; dense/conv2d need "
                     r"the image or a sign output \(a pre-activation input needs "
                     r"format_version 2\)", version=1)
        write(self.path("v2.h5"), layers)
        cm.IntModel(self.path("v2.h5"))

    def test_last_layer_other_than_dense(self):
        b = Builder("bnn")
        layers = [b.conv(1, 3, k=6), b.layer("flatten")]          # pre [3,1,1] -> [3]
        self.refused(layers, r"layers/001_flatten: a last layer other than dense needs "
                     r"format_version 2", version=1)
        write(self.path("v2.h5"), layers)
        cm.IntModel(self.path("v2.h5"))

    def test_last_layer_message_unchanged(self):
        layers = self.mlp(Builder("bnn"))[:4]
        self.refused(layers, r"the last layer must be dense with out_features = num_classes "
                     r"\(3\)$", version=1)

    def test_unsupported_version(self):
        self.refused(self.mlp(Builder("bnn")), r"format_version 3 not supported \(expected 1 "
                     r"or 2\)", version=3)


class GraphRefusals(ModelCase):
    def setUp(self):
        super().setUp()
        self.b = Builder("bnn")
        self.layers = residual_layers(self.b)

    def test_the_base_model_is_valid(self):
        write(self.path("ok.h5"), self.layers)
        cm.IntModel(self.path("ok.h5"))

    def test_input_out_of_range(self):
        for bad in (7, 6, -2):
            with self.subTest(bad):
                self.layers[6][1]["inputs"] = [2, bad]
                self.refused(self.layers, rf"layers/006_add: input {bad} out of range -1 \.\. 5")

    def test_input_listed_twice(self):
        self.layers[6][1]["inputs"] = [5, 5]
        self.refused(self.layers, r"layers/006_add: input 5 is listed twice")

    def test_inputs_empty(self):
        self.layers[7][1]["inputs"] = np.zeros(0, np.int32)
        self.refused(self.layers, r"layers/007_flatten: attribute 'inputs' is empty")

    def test_inputs_not_integers(self):
        path = write(self.path("bad.h5"), self.layers)
        with h5py.File(path, "r+") as f:
            f["layers/007_flatten"].attrs["inputs"] = np.array([6.0])
        with self.assertRaisesRegex(cm.ModelError, r"layers/007_flatten: attribute 'inputs' "
                                    r"must be integers"):
            cm.IntModel(path)

    def test_inputs_rank_2(self):
        path = write(self.path("bad.h5"), self.layers)
        with h5py.File(path, "r+") as f:
            f["layers/006_add"].attrs["inputs"] = np.array([[2, 5]], np.int32)
        with self.assertRaisesRegex(cm.ModelError, r"layers/006_add: attribute 'inputs' must "
                                    r"be a scalar or a rank-1 array"):
            cm.IntModel(path)

    def test_add_with_one_input(self):
        self.layers[6] = self.b.layer("add", [5])
        self.refused(self.layers, r"layers/006_add: add takes 2 \.\. 16 inputs, found 1")

    def test_add_without_inputs_takes_one(self):
        self.layers[6] = self.b.layer("add")
        self.refused(self.layers, r"layers/006_add: add takes 2 \.\. 16 inputs, found 1")

    def test_concat_with_17_inputs(self):
        b = self.b
        layers = [b.layer("maxpool2d", kernel=[1, 1], stride=[1, 1]) for _ in range(17)]
        layers += [b.layer("concat", list(range(17))), b.layer("global_sumpool")]
        self.refused(layers, r"layers/017_concat: concat takes 2 \.\. 16 inputs, found 17",
                     num_classes=17)

    def test_sixteen_inputs_are_accepted(self):
        b = self.b
        layers = [b.layer("maxpool2d", kernel=[1, 1], stride=[1, 1]) for _ in range(16)]
        layers += [b.layer("concat", list(range(16))), b.layer("global_sumpool")]
        path = write(self.path("ok16.h5"), layers, num_classes=16)
        self.check_against_reference(path, images((1, 6, 6)))

    def test_one_input_layer_with_two(self):
        self.layers[7][1]["inputs"] = [6, 5]
        self.refused(self.layers, r"layers/007_flatten: flatten takes exactly one input, "
                     r"found 2")

    def test_dead_layer(self):
        self.layers[3][1]["inputs"] = [2]
        self.layers.insert(3, self.b.conv(4, 4, k=1))              # 003: nobody takes it
        self.layers[7] = self.b.layer("add", [2, 6], scale=[2, -3])
        self.refused(self.layers, r"layers/003_conv2d: its output is not an input of any later "
                     r"layer \(a dead layer\)")

    def test_batchnorm_output_taken_by_another_layer(self):
        self.layers[6][1]["inputs"] = [2, 4]
        self.refused(self.layers, r"layers/006_add: takes the output of "
                     r"layers/004_batchnorm_threshold, which only the next layer \(its sign\) "
                     r"may take")

    def test_batchnorm_followed_by_an_activation_on_another_input(self):
        self.layers[5][1]["inputs"] = [3]
        self.refused(self.layers, r"layers/005_sign: must take the output of "
                     r"layers/004_batchnorm_threshold as its only input")

    def test_batchnorm_not_followed_by_the_activation(self):
        self.layers.insert(5, self.b.layer("flatten"))
        self.refused(self.layers, r"layers/004_batchnorm_threshold: must be followed by a "
                     r"'sign' layer")

    def test_batchnorm_on_an_activation(self):
        self.layers.insert(3, self.b.bn(4, 1))
        self.layers.insert(4, self.b.act())
        self.layers[7] = self.b.layer("add", [4, 7])
        self.refused(self.layers, r"layers/003_batchnorm_threshold: input must be a "
                     r"pre-activation, found an activation output")

    def test_activation_on_an_activation(self):
        self.layers.insert(3, self.b.act())
        self.layers[7] = self.b.layer("add", [3, 6])
        self.refused(self.layers, r"layers/003_sign: input must be a pre-activation or a "
                     r"batchnorm_threshold output, found an activation output")

    def test_add_shapes_differ(self):
        b = self.b
        self.layers[3] = b.conv(4, 4, k=3, pad=0, pad_value=0)        # [4,4,4]
        self.refused(self.layers, r"layers/006_add: input 1 \(layers/005_sign\) has shape "
                     r"\[4, 4, 4\], input 0 \(layers/002_sign\) \[4, 6, 6\]: add needs equal "
                     r"shapes")

    def test_add_scale_zero(self):
        self.layers[6][1]["scale"] = [2, 0]
        self.refused(self.layers, r"layers/006_add: scale 0: each scale must be nonzero")

    def test_add_scale_too_large(self):
        self.layers[6][1]["scale"] = [1, -(1 << 15) - 1]
        self.refused(self.layers, r"layers/006_add: scale -32769: each scale must be nonzero "
                     r"with \|scale\| <= 2\^15")
        self.layers[6][1]["scale"] = [1, -(1 << 15)]
        write(self.path("ok.h5"), self.layers)
        cm.IntModel(self.path("ok.h5"))

    def test_add_scale_length(self):
        self.layers[6][1]["scale"] = [1, 2, 3]
        self.refused(self.layers, r"layers/006_add: attribute 'scale' must be 2 integers")

    def test_concat_3d_with_1d(self):
        b = self.b
        layers = [b.conv(1, 2, k=6), b.layer("flatten"),               # 001 pre [2]
                  b.layer("concat", [0, 1]), b.layer("flatten"), b.dense(4, 3)]
        self.refused(layers, r"layers/002_concat: input 1 \(layers/001_flatten\) has shape "
                     r"\[2\], input 0 \[2, 1, 1\]: concat needs all 3-D or all 1-D inputs")

    def test_concat_height_width_differ(self):
        b = self.b
        layers = [b.layer("maxpool2d", kernel=[2, 2], stride=[2, 2]),      # image [1,3,3]
                  b.layer("maxpool2d", kernel=[2, 2], stride=[1, 1], inputs=[-1]),  # [1,5,5]
                  b.layer("concat", [0, 1]), b.layer("global_sumpool")]
        self.refused(layers, r"layers/002_concat: input 1 \(layers/001_maxpool2d\) has shape "
                     r"\[1, 5, 5\], input 0 \[1, 3, 3\]: concat needs equal H and W",
                     num_classes=2)

    def test_concat_alphabets_differ(self):
        self.layers[6] = self.b.layer("concat", [2, 3])
        self.layers[8] = self.b.dense(8 * 36, 3)
        self.refused(self.layers, r"layers/006_concat: input 1 \(layers/003_conv2d\) is a "
                     r"pre-activation, input 0 an activation output: concat needs one alphabet")

    def test_concat_axis(self):
        self.layers[6] = self.b.layer("concat", [2, 5], axis=1)
        self.refused(self.layers, r"layers/006_concat: axis 1 not supported")

    def test_sumpool_window_too_large(self):
        b = self.b
        layers = [b.layer("sumpool2d", kernel=[7, 2], stride=[1, 1]), b.layer("global_sumpool")]
        self.refused(layers, r"layers/000_sumpool2d: kernel larger than the input",
                     num_classes=1 + 1, input_shape=(2, 6, 6))

    def test_sumpool_stride_zero(self):
        b = self.b
        layers = [b.layer("sumpool2d", kernel=[2, 2], stride=[0, 1]), b.layer("global_sumpool")]
        self.refused(layers, r"layers/000_sumpool2d: needs a 3-D input, kernel and stride >= 1",
                     input_shape=(2, 6, 6), num_classes=2)

    def test_sumpool_on_1d(self):
        b = self.b
        layers = [b.layer("flatten"), b.layer("sumpool2d", kernel=[1, 1], stride=[1, 1]),
                  b.dense(36, 3)]
        self.refused(layers, r"layers/001_sumpool2d: needs a 3-D input")

    def test_global_sumpool_on_1d(self):
        b = self.b
        layers = [b.layer("flatten"), b.layer("global_sumpool"), b.dense(36, 3)]
        self.refused(layers, r"layers/001_global_sumpool: needs a 3-D input")

    def test_pad_value_on_a_pre_activation_beyond_its_bound(self):
        b = self.b
        layers = [b.conv(1, 2, k=3), b.conv(2, 2, k=3, pad=1, pad_value=2296),
                  b.layer("global_sumpool"), b.dense(2, 3)]
        self.refused(layers, r"layers/001_conv2d: pad_value 2296 is not a value of its input "
                     r"\(a pre-activation: \|pad_value\| <= its bound 2295\)")

    def test_pad_value_on_an_activation(self):
        self.layers[3][1]["pad_value"] = 0
        self.refused(self.layers, r"layers/003_conv2d: pad_value 0 is not a value of its input "
                     r"\(\[-1, 1\]\)")

    def test_bound_above_the_limit(self):
        b = Builder("bnn", seed=11)
        layers = [b.conv(1, 2, k=1), b.act(), b.conv(2, 2, k=1),
                  b.layer("add", [1, 2], scale=[16384, 1]), b.layer("global_sumpool")]
        self.refused(layers, r"layers/004_global_sumpool: its values reach 268451838 in "
                     r"magnitude, above 2\^28 - 1 \(rule B\)",
                     input_shape=(1, 129, 127), num_classes=2)

    def test_bound_of_a_weight_layer_above_the_limit(self):
        b = self.b
        layers = [b.layer("flatten"), b.dense(36, 1024), b.dense(1024, 1024),
                  b.dense(1024, 3)]
        self.refused(layers, r"layers/003_dense: its values reach 9625927680 in magnitude")

    def test_last_layer_not_a_pre_activation(self):
        self.layers[8:] = [self.b.dense(144, 3), self.b.layer("sign")]
        self.refused(self.layers, r"layers/009_sign: the last layer's output must be a 1-D "
                     r"pre-activation of length num_classes \(3\), found an activation output "
                     r"of shape \[3\]")

    def test_last_layer_wrong_length(self):
        self.refused(self.layers, r"layers/008_dense: the last layer's output must be a 1-D "
                     r"pre-activation of length num_classes \(4\), found a pre-activation of "
                     r"shape \[3\]", num_classes=4)

    def test_last_layer_3d(self):
        self.layers[7:] = []
        self.refused(self.layers, r"layers/006_add: the last layer's output must be a 1-D "
                     r"pre-activation .* found a pre-activation of shape \[4, 6, 6\]")


if __name__ == "__main__":
    unittest.main()

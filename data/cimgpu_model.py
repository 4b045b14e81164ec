#!/usr/bin/env python3
"""cimgpu model files: write, read, validate, and run them with exact integer inference.

This module is the executable form of data/model_format.md. `IntModel(path)` applies every
validation rule of that document and `IntModel.predict` implements its inference arithmetic
with integers only; data/train.py uses it to measure the accuracy it stores in each file, and
a converter author can use it to check a file written by another tool:

    python3 data/cimgpu_model.py data/models/tnn_cnn.h5 [--data DIR]

which validates the file, prints its layers and re-measures its test accuracy. Exit status: 2
when a file is invalid, 1 when the accuracy differs from a stored `digital_test_correct`.
"""
import argparse
import gzip
import os
import re
import sys

import numpy as np
import h5py

FORMAT_NAME = "cimgpu-model"
FORMAT_VERSION = 1
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
THRESHOLD_LIMIT = 1 << 30      # |threshold_lo|, |threshold_hi| <= 2^30
FAN_IN_LIMIT = 1 << 20         # in_features and in_channels*kh*kw <= 2^20


# --------------------------------------------------------------------------------------
# Dataset (IDX, gzip or plain)
# --------------------------------------------------------------------------------------
def _open_maybe_gz(path):
    if os.path.exists(path):
        return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise FileNotFoundError(path)


def load_idx(path):
    with _open_maybe_gz(path) as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} bytes of data, found {data.size}")
    return data.reshape(dims)


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{data_dir}: {split} images/labels do not match")
    return images, labels.astype(np.int64)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------
def _str_attr(obj, key, value):
    # fixed-length, NUL-padded ASCII string (model_format.md §1)
    obj.attrs.create(key, np.bytes_(value.encode("ascii")))


def _int_attr(obj, key, value):
    arr = np.asarray(value, dtype=np.int32)
    obj.attrs.create(key, arr, dtype=np.int32)


def _group(parent, name):
    """Group without modification times, so identical content gives identical bytes."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    gid = h5py.h5g.create(parent.id, name.encode("ascii"), gcpl=gcpl)
    return h5py.Group(gid)


def write_model(path, root_attrs, layer_list):
    """Write a model file. root_attrs: {name: str | int | [int] | float} (model_format.md §2;
    `train_seed` is written as int64, other integers as int32). layer_list: in layer order,
    (type, {attribute: int | [int]}, {dataset: numpy array of its final dtype}). The file is
    written under `path + ".partial"` and renamed, so a crash never leaves a complete-looking
    file. Validation is IntModel's job: read the file back with it."""
    tmp = path + ".partial"
    with h5py.File(tmp, "w", libver="earliest") as f:
        for key, value in root_attrs.items():
            if isinstance(value, str):
                _str_attr(f, key, value)
            elif isinstance(value, float):
                f.attrs.create(key, np.float64(value), dtype=np.float64)
            elif key == "train_seed":
                f.attrs.create(key, np.int64(value), dtype=np.int64)
            else:
                _int_attr(f, key, value)
        layers_group = _group(f, "layers")
        for i, (ltype, attrs, datasets) in enumerate(layer_list):
            g = _group(layers_group, f"{i:03d}_{ltype}")
            _str_attr(g, "type", ltype)
            for key, value in attrs.items():
                _int_attr(g, key, value)
            for key, arr in datasets.items():
                g.create_dataset(key, data=arr, dtype=arr.dtype, track_times=False)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------
# Reading, validation and exact integer inference (the executable form of model_format.md)
# --------------------------------------------------------------------------------------
class ModelError(ValueError):
    pass


LAYER_ATTRS = {  # type -> (required integer attributes with their lengths (0 = scalar), datasets)
    "dense": ({"in_features": 0, "out_features": 0}, ("weight",)),
    "conv2d": ({"in_channels": 0, "out_channels": 0, "kernel": 2, "stride": 2,
                "padding": 2, "pad_value": 0}, ("weight",)),
    "maxpool2d": ({"kernel": 2, "stride": 2}, ()),
    "batchnorm_threshold": ({"channels": 0}, ("threshold_lo", "threshold_hi", "flip")),
    "flatten": ({}, ()),
    "sign": ({}, ()),
    "ternary": ({}, ()),
}
ROOT_STR = ("format", "name", "kind", "input_preprocessing")
ROOT_INT = {"format_version": 0, "input_shape": 3, "num_classes": 0, "num_layers": 0}
OPTIONAL_STR = ("dataset", "description", "training_tool", "training_config")
OPTIONAL_INT = ("train_seed", "digital_test_correct", "digital_test_images")


def _read_str(obj, key, where):
    if key not in obj.attrs:
        raise ModelError(f"{where}: missing string attribute '{key}'")
    v = obj.attrs[key]
    if isinstance(v, bytes):
        v = v.decode("ascii", "replace")
    if isinstance(v, np.ndarray) or not isinstance(v, str):
        raise ModelError(f"{where}: attribute '{key}' must be a scalar string")
    return v.rstrip("\0")


def _read_int(obj, key, length, where):
    if key not in obj.attrs:
        raise ModelError(f"{where}: missing integer attribute '{key}'")
    v = np.asarray(obj.attrs[key])
    if v.dtype.kind not in "iu":
        raise ModelError(f"{where}: attribute '{key}' must be an integer, found {v.dtype}")
    if length == 0:
        if v.shape not in ((), (1,)):
            raise ModelError(f"{where}: attribute '{key}' must be a scalar")
        return int(v.reshape(()))
    if v.shape != (length,):
        raise ModelError(f"{where}: attribute '{key}' must be {length} integers, found shape "
                         f"{v.shape}")
    return [int(e) for e in v]


def _read_ds(g, key, shape, allowed, where):
    if key not in g or not isinstance(g[key], h5py.Dataset):
        raise ModelError(f"{where}: missing dataset '{key}'")
    ds = g[key]
    if ds.dtype.kind not in "iu":
        raise ModelError(f"{where}/{key}: must be an integer dataset, found {ds.dtype}")
    if tuple(ds.shape) != tuple(shape):
        raise ModelError(f"{where}/{key}: expected shape {list(shape)}, found {list(ds.shape)}")
    a = ds[()].astype(np.int64)
    if allowed is not None and not np.isin(a, allowed).all():
        bad = a[~np.isin(a, allowed)][0]
        raise ModelError(f"{where}/{key}: value {bad} not in {sorted(allowed)}")
    return a


class IntModel:
    """A validated cimgpu model and its exact integer forward pass."""

    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            self._load(f)

    def _load(self, f):
        where = self.path
        fmt = _read_str(f, "format", where)
        if fmt != FORMAT_NAME:
            raise ModelError(f"{where}: attribute 'format' is '{fmt}', expected '{FORMAT_NAME}'")
        ver = _read_int(f, "format_version", 0, where)
        if ver != FORMAT_VERSION:
            raise ModelError(f"{where}: format_version {ver} not supported (expected 1)")
        self.root = {k: _read_str(f, k, where) for k in ROOT_STR}
        for k, n in ROOT_INT.items():
            self.root[k] = _read_int(f, k, n, where)
        for k in OPTIONAL_STR:
            if k in f.attrs:
                self.root[k] = _read_str(f, k, where)
        for k in OPTIONAL_INT:
            if k in f.attrs:
                self.root[k] = _read_int(f, k, 0, where)
        if "digital_test_accuracy" in f.attrs:
            v = np.asarray(f.attrs["digital_test_accuracy"])
            if v.dtype.kind != "f" or v.shape not in ((), (1,)):
                raise ModelError(f"{where}: attribute 'digital_test_accuracy' must be a scalar "
                                 f"float")
            self.root["digital_test_accuracy"] = float(v.reshape(()))
        self.kind = self.root["kind"]
        if self.kind not in ("bnn", "tnn"):
            raise ModelError(f"{where}: attribute 'kind' is '{self.kind}', expected bnn or tnn")
        if self.root["input_preprocessing"] != "raw_uint8":
            raise ModelError(f"{where}: input_preprocessing must be 'raw_uint8'")
        cin, hin, win = self.root["input_shape"]
        if min(cin, hin, win) < 1:
            raise ModelError(f"{where}: input_shape must be 3 positive integers [C,H,W]")
        if self.root["num_classes"] < 2:
            raise ModelError(f"{where}: num_classes must be >= 2")
        if "layers" not in f or not isinstance(f["layers"], h5py.Group):
            raise ModelError(f"{where}: missing group 'layers'")
        names = sorted(f["layers"].keys())
        nl = self.root["num_layers"]
        if len(names) != nl or not 1 <= nl <= 1000:
            raise ModelError(f"{where}: num_layers is {nl} but group 'layers' has "
                             f"{len(names)} members")
        weight_alphabet = [-1, 1] if self.kind == "bnn" else [-1, 0, 1]
        act_type = "sign" if self.kind == "bnn" else "ternary"
        # tensor state: shape (3-D C,H,W or 1-D), alphabet: image | pre | act
        shape, alphabet = (cin, hin, win), "image"
        self.layers = []
        self.macs = 0
        self.params = 0
        for i, name in enumerate(names):
            m = re.fullmatch(r"(\d{3})_([a-z0-9_]+)", name)
            lw = f"{where}: layers/{name}"
            if not m or int(m.group(1)) != i:
                raise ModelError(f"{where}: layer group '{name}' out of order or badly named "
                                 f"(expected '{i:03d}_<type>')")
            g = f["layers"][name]
            if not isinstance(g, h5py.Group):
                raise ModelError(f"{lw}: must be a group")
            ltype = _read_str(g, "type", lw)
            if ltype != m.group(2):
                raise ModelError(f"{lw}: attribute 'type' is '{ltype}' but the name says "
                                 f"'{m.group(2)}'")
            if ltype not in LAYER_ATTRS:
                raise ModelError(f"{lw}: unknown layer type '{ltype}'")
            ints, _ = LAYER_ATTRS[ltype]
            a = {k: _read_int(g, k, n, lw) for k, n in ints.items()}
            layer = {"type": ltype, "in_shape": shape, "in_alphabet": alphabet}
            if ltype in ("dense", "conv2d"):
                if alphabet == "pre":
                    raise ModelError(f"{lw}: input is a pre-activation; dense/conv2d need the "
                                     f"image or a {act_type} output")
            if ltype == "dense":
                if len(shape) != 1:
                    raise ModelError(f"{lw}: input must be 1-D (insert a flatten layer)")
                if a["in_features"] != shape[0] or a["out_features"] < 1:
                    raise ModelError(f"{lw}: in_features {a['in_features']} does not match the "
                                     f"input length {shape[0]}")
                if a["in_features"] > FAN_IN_LIMIT:
                    raise ModelError(f"{lw}: in_features above 2^20")
                layer["weight"] = _read_ds(g, "weight", (a["out_features"], a["in_features"]),
                                           weight_alphabet, lw)
                self.macs += a["out_features"] * a["in_features"]
                self.params += layer["weight"].size
                shape, alphabet = (a["out_features"],), "pre"
            elif ltype == "conv2d":
                if len(shape) != 3 or a["in_channels"] != shape[0]:
                    raise ModelError(f"{lw}: input shape {list(shape)} does not match "
                                     f"in_channels {a['in_channels']}")
                kh, kw = a["kernel"]
                sh, sw = a["stride"]
                ph, pw = a["padding"]
                if min(kh, kw, sh, sw, a["out_channels"]) < 1 or min(ph, pw) < 0 \
                        or ph >= kh or pw >= kw:
                    raise ModelError(f"{lw}: need kernel, stride, out_channels >= 1 and "
                                     f"0 <= padding < kernel")
                if a["in_channels"] * kh * kw > FAN_IN_LIMIT:
                    raise ModelError(f"{lw}: in_channels*kh*kw above 2^20")
                pv = a["pad_value"]
                allowed_pad = {"image": range(0, 256), "act": weight_alphabet}[alphabet]
                if (ph or pw) and pv not in allowed_pad:   # ignored without padding
                    raise ModelError(f"{lw}: pad_value {pv} is not a value of its input "
                                     f"({'0..255' if alphabet == 'image' else weight_alphabet})")
                ho = (shape[1] + 2 * ph - kh) // sh + 1
                wo = (shape[2] + 2 * pw - kw) // sw + 1
                if ho < 1 or wo < 1:
                    raise ModelError(f"{lw}: kernel larger than the padded input")
                layer.update(a)
                layer["weight"] = _read_ds(g, "weight", (a["out_channels"], a["in_channels"],
                                                         kh, kw), weight_alphabet, lw)
                self.macs += a["out_channels"] * a["in_channels"] * kh * kw * ho * wo
                self.params += layer["weight"].size
                shape, alphabet = (a["out_channels"], ho, wo), "pre"
            elif ltype == "maxpool2d":
                kh, kw = a["kernel"]
                sh, sw = a["stride"]
                if len(shape) != 3 or min(kh, kw, sh, sw) < 1:
                    raise ModelError(f"{lw}: needs a 3-D input, kernel and stride >= 1")
                ho, wo = (shape[1] - kh) // sh + 1, (shape[2] - kw) // sw + 1
                if ho < 1 or wo < 1:
                    raise ModelError(f"{lw}: kernel larger than the input")
                layer.update(a)
                shape = (shape[0], ho, wo)
            elif ltype == "flatten":
                if len(shape) != 3:
                    raise ModelError(f"{lw}: needs a 3-D input")
                shape = (int(np.prod(shape)),)
            elif ltype == "batchnorm_threshold":
                if alphabet != "pre":
                    raise ModelError(f"{lw}: input must be a dense/conv2d output")
                c = shape[0]
                if a["channels"] != c:
                    raise ModelError(f"{lw}: channels {a['channels']} does not match the input "
                                     f"({c})")
                lim = range(-THRESHOLD_LIMIT, THRESHOLD_LIMIT + 1)
                lo = _read_ds(g, "threshold_lo", (c,), None, lw)
                hi = _read_ds(g, "threshold_hi", (c,), None, lw)
                fl = _read_ds(g, "flip", (c,), [-1, 1], lw)
                if lo.min() < lim.start or lo.max() >= lim.stop or \
                        hi.min() < lim.start or hi.max() >= lim.stop:
                    raise ModelError(f"{lw}: thresholds must lie in [-2^30, 2^30]")
                if np.any(lo > hi + 1):
                    raise ModelError(f"{lw}: threshold_lo > threshold_hi + 1 at channel "
                                     f"{int(np.argmax(lo > hi + 1))}")
                nxt = names[i + 1] if i + 1 < len(names) else ""
                if not nxt.endswith("_" + act_type):
                    raise ModelError(f"{lw}: must be followed by a '{act_type}' layer")
                layer.update(lo=lo, hi=hi, flip=fl)
                alphabet = "bn"
            elif ltype in ("sign", "ternary"):
                if ltype != act_type:
                    raise ModelError(f"{lw}: a {self.kind} model uses '{act_type}' activations")
                if alphabet not in ("pre", "bn"):
                    raise ModelError(f"{lw}: input must be a dense/conv2d or "
                                     f"batchnorm_threshold output")
                alphabet = "act"
            if ltype in ("maxpool2d", "flatten") and alphabet == "bn":
                raise ModelError(f"{lw}: cannot follow batchnorm_threshold")
            layer["out_shape"] = shape
            self.layers.append(layer)
        last = self.layers[-1]
        if last["type"] != "dense" or shape != (self.root["num_classes"],):
            raise ModelError(f"{where}: the last layer must be dense with out_features = "
                             f"num_classes ({self.root['num_classes']})")

    def predict(self, images, chunk=500):
        """images: uint8 [N, H, W] or [N, C, H, W]; returns int64 class indices."""
        preds = []
        for a in range(0, len(images), chunk):
            x = images[a:a + chunk].astype(np.int32)
            x = x.reshape((x.shape[0],) + tuple(self.root["input_shape"]))
            scores = self.forward(x)
            preds.append(np.argmax(scores, axis=1))   # first maximum: ties -> lowest index
        return np.concatenate(preds)

    def forward(self, x):
        for L in self.layers:
            t = L["type"]
            if t == "flatten":
                x = x.reshape(x.shape[0], -1)               # C-order: c*H*W + h*W + w
            elif t == "dense":
                x = x @ L["weight"].astype(np.int32).T     # z[o] = sum_i W[o,i] x[i]
            elif t == "conv2d":
                x = _int_conv2d(x, L)
            elif t == "maxpool2d":
                x = _int_maxpool(x, L)
            elif t == "batchnorm_threshold":
                shp = (1, -1) + (1,) * (x.ndim - 2)
                lo = L["lo"].reshape(shp)
                hi = L["hi"].reshape(shp)
                fl = L["flip"].reshape(shp)
                u = np.where(x > hi, x - hi, np.where(x < lo, x - lo, 0))
                x = (fl * u).astype(np.int32)
            elif t == "sign":
                x = np.where(x >= 0, 1, -1).astype(np.int32)
            elif t == "ternary":
                x = np.sign(x).astype(np.int32)
        return x

    def accuracy(self, images, labels):
        pred = self.predict(images)
        correct = int(np.sum(pred == labels))
        return correct, correct / len(labels)


def _int_conv2d(x, L):
    n, c, h, w = x.shape
    kh, kw = L["kernel"]
    sh, sw = L["stride"]
    ph, pw = L["padding"]
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=L["pad_value"])
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (w + 2 * pw - kw) // sw + 1
    cols = np.empty((n, ho, wo, c, kh, kw), dtype=np.int32)
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u:u + sh * (ho - 1) + 1:sh, v:v + sw * (wo - 1) + 1:sw]
            cols[:, :, :, :, u, v] = patch.transpose(0, 2, 3, 1)
    wmat = L["weight"].astype(np.int32).reshape(L["out_channels"], -1)   # (c, u, v) order
    z = cols.reshape(n * ho * wo, -1) @ wmat.T
    return z.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)


def _int_maxpool(x, L):
    kh, kw = L["kernel"]
    sh, sw = L["stride"]
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = None
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u:u + sh * (ho - 1) + 1:sh, v:v + sw * (wo - 1) + 1:sw]
            out = patch.copy() if out is None else np.maximum(out, patch)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Validate cimgpu model files and measure their "
                                 "exact integer test accuracy.")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR, help="directory with the IDX files")
    args = ap.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            model = IntModel(path)
        except (ModelError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            status = 2
            continue
        for i, L in enumerate(model.layers):
            extra = {k: L[k] for k in ("kernel", "stride", "padding", "pad_value") if k in L}
            print(f"  {i:03d} {L['type']:<20} {str(list(L['in_shape'])):>14} -> "
                  f"{str(list(L['out_shape'])):<14} {extra if extra else ''}")
        test_x, test_y = load_split(args.data, "test")
        correct, acc = model.accuracy(test_x, test_y)
        stored = model.root.get("digital_test_correct")   # optional (model_format.md §2)
        print(f"{path}: valid {model.kind} model, {len(model.layers)} layers, {model.params} "
              f"weights, {model.macs} MACs/image; test accuracy {acc:.4f} "
              f"({correct}/{len(test_y)}), "
              + (f"stored digital_test_correct {stored}" if stored is not None
                 else "no digital_test_correct stored"))
        if stored is not None and stored != correct:
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""cimgpu model files: write, read, validate, and run them with exact integer inference.

This module is the executable form of data/model_format.md (format versions 1 and 2: a chain
of layers, or a layer graph). `IntModel(path)` applies every validation rule of that document
and `IntModel.predict` implements its inference arithmetic with integers only; data/train.py
uses it to measure the accuracy it stores in each file, and a converter author can use it to
check a file written by another tool:

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
FORMAT_VERSION = 1             # what data/train.py writes: a chain of layers
FORMAT_VERSIONS = (1, 2)       # what IntModel reads; 2 adds the layer graph (model_format.md §9)
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
THRESHOLD_LIMIT = 1 << 30      # |threshold_lo|, |threshold_hi| <= 2^30
FAN_IN_LIMIT = 1 << 20         # in_features and in_channels*kh*kw <= 2^20
BOUND_LIMIT = (1 << 28) - 1    # rule B: every tensor's bound (max |value|) <= 2^28 - 1
MAX_INPUTS = 16                # add and concat take 2 .. 16 inputs
ADD_SCALE_LIMIT = 1 << 15      # add: 1 <= |scale| <= 2^15


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
    `train_seed` is written as int64, other integers as int32), format_version included as
    given. layer_list: in layer order, (type, {attribute: int | [int]}, {dataset: numpy array
    of its final dtype}); the datasets may be left out for a layer without any: (type, attrs).
    A version-2 layer graph is written with the attributes of model_format.md §9, e.g.
    ("add", {"inputs": [3, 7], "scale": [1, 2]}): `inputs` is always written as a rank-1
    int32 array, even when given as one int. The file is written under `path + ".partial"` and
    renamed, so a crash never leaves a complete-looking file. Validation is IntModel's job:
    read the file back with it."""
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
        for i, entry in enumerate(layer_list):
            ltype, attrs, datasets = (tuple(entry) + ({}, {}))[:3]
            g = _group(layers_group, f"{i:03d}_{ltype}")
            _str_attr(g, "type", ltype)
            for key, value in attrs.items():
                _int_attr(g, key, np.atleast_1d(value) if key == "inputs" else value)
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
    # format_version 2 (optional attributes: add's `scale`, concat's `axis`)
    "add": ({}, ()),
    "concat": ({}, ()),
    "sumpool2d": ({"kernel": 2, "stride": 2}, ()),
    "global_sumpool": ({}, ()),
}
V2_TYPES = ("add", "concat", "sumpool2d", "global_sumpool")
ROOT_STR = ("format", "name", "kind", "input_preprocessing")
ROOT_INT = {"format_version": 0, "input_shape": 3, "num_classes": 0, "num_layers": 0}
OPTIONAL_STR = ("dataset", "description", "training_tool", "training_config")
OPTIONAL_INT = ("train_seed", "digital_test_correct", "digital_test_images")
ALPHABET_WORDS = {"image": "the image (pixels 0..255)", "pre": "a pre-activation",
                  "bn": "a batchnorm_threshold output", "act": "an activation output"}


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


def _read_inputs(g, i, version, where):
    """The `inputs` of layer i (model_format.md §9.1): absent -> [i - 1], the chain."""
    if "inputs" not in g.attrs:
        return [i - 1]
    if version < 2:
        raise ModelError(f"{where}: attribute 'inputs' (the layer graph) needs format_version 2")
    v = np.asarray(g.attrs["inputs"])
    if v.dtype.kind not in "iu":
        raise ModelError(f"{where}: attribute 'inputs' must be integers, found {v.dtype}")
    if v.ndim > 1:
        raise ModelError(f"{where}: attribute 'inputs' must be a scalar or a rank-1 array, "
                         f"found shape {v.shape}")
    inputs = [int(e) for e in v.reshape(-1)]
    if not inputs:
        raise ModelError(f"{where}: attribute 'inputs' is empty")
    for e in inputs:
        if not -1 <= e <= i - 1:
            raise ModelError(f"{where}: input {e} out of range -1 .. {i - 1} (-1 is the model "
                             f"input; a layer takes only earlier layers' outputs)")
    for n, e in enumerate(inputs):
        if e in inputs[:n]:
            raise ModelError(f"{where}: input {e} is listed twice in 'inputs'")
    return inputs


def _window(shape, a, padding=(0, 0)):
    """Output height and width of a kernel/stride window over a 3-D input (maxpool2d,
    sumpool2d; conv2d with its padding)."""
    kh, kw = a["kernel"]
    sh, sw = a["stride"]
    ph, pw = padding
    return (shape[1] + 2 * ph - kh) // sh + 1, (shape[2] + 2 * pw - kw) // sw + 1


def _source(names, j):
    """How a message names tensor j: the model input (-1) or a layer's output."""
    return "the model input" if j < 0 else f"layers/{names[j]}"


class Tensor:
    """What validation knows of a tensor: shape (3-D (C, H, W) or 1-D (N,)), alphabet
    (image | pre | bn | act) and bound b (max |value|; None for a bn tensor)."""
    __slots__ = ("shape", "alphabet", "bound")

    def __init__(self, shape, alphabet, bound):
        self.shape, self.alphabet, self.bound = tuple(shape), alphabet, bound


class IntModel:
    """A validated cimgpu model (format_version 1 or 2) and its exact integer forward pass."""

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
        if ver not in FORMAT_VERSIONS:
            raise ModelError(f"{where}: format_version {ver} not supported (expected 1 or 2)")
        self.version = ver
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
        self.weight_alphabet = [-1, 1] if self.kind == "bnn" else [-1, 0, 1]
        self.act_type = "sign" if self.kind == "bnn" else "ternary"
        tensors = {-1: Tensor((cin, hin, win), "image", 255)}   # -1: the model input
        users = {-1: []}
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
            if ltype in V2_TYPES and ver < 2:
                raise ModelError(f"{lw}: layer type '{ltype}' needs format_version 2")
            inputs = _read_inputs(g, i, ver, lw)
            self._check_graph(names, i, ltype, inputs, lw)
            for j in inputs:
                users[j].append(i)
            users[i] = []
            ins = [tensors[j] for j in inputs]
            layer = {"type": ltype, "inputs": inputs,
                     "in_shape": ins[0].shape if len(ins) == 1 else [t.shape for t in ins],
                     "in_alphabet": ins[0].alphabet if len(ins) == 1 else
                     [t.alphabet for t in ins]}
            out = self._layer(g, names, i, layer, ins, lw)
            if out.alphabet != "bn" and out.bound > BOUND_LIMIT:
                raise ModelError(f"{lw}: its values reach {out.bound} in magnitude, above "
                                 f"2^28 - 1 (rule B)")
            tensors[i] = out
            layer["out_shape"] = out.shape
            layer["out_alphabet"] = out.alphabet
            layer["bound"] = out.bound
            self.layers.append(layer)
        for j in range(nl - 1):         # every output but the last is used (layer 0: the image)
            if not users[j]:
                raise ModelError(f"{where}: layers/{names[j]}: its output is not an input of "
                                 f"any later layer (a dead layer)")
        self._check_last(names, tensors[nl - 1])
        # the last layer that takes each tensor: forward frees the tensor after it
        self.last_use = {j: max(u) for j, u in users.items() if u}

    def _check_graph(self, names, i, ltype, inputs, lw):
        """Arity and the batchnorm_threshold -> activation pairing (model_format.md §9.1)."""
        if ltype in ("add", "concat"):
            if not 2 <= len(inputs) <= MAX_INPUTS:
                raise ModelError(f"{lw}: {ltype} takes 2 .. {MAX_INPUTS} inputs, found "
                                 f"{len(inputs)}")
        elif len(inputs) != 1:
            raise ModelError(f"{lw}: {ltype} takes exactly one input, found {len(inputs)}")
        for j in inputs:
            if j >= 0 and self.layers[j]["type"] == "batchnorm_threshold" and j != i - 1:
                raise ModelError(f"{lw}: takes the output of layers/{names[j]}, which only "
                                 f"the next layer (its {self.act_type}) may take")
        if i >= 1 and self.layers[i - 1]["type"] == "batchnorm_threshold" and inputs != [i - 1]:
            raise ModelError(f"{lw}: must take the output of layers/{names[i - 1]} as its only "
                             f"input (a batchnorm_threshold feeds the activation after it)")

    def _need(self, lw, ltype, ins, allowed):
        """Every input's alphabet is one of allowed."""
        for n, t in enumerate(ins):
            if t.alphabet not in allowed:
                which = "input" if len(ins) == 1 else f"input {n}"
                raise ModelError(f"{lw}: {which} is {ALPHABET_WORDS[t.alphabet]}; {ltype} "
                                 f"takes " + " or ".join(ALPHABET_WORDS[a] for a in allowed))

    def _layer(self, g, names, i, layer, ins, lw):
        """Validates layer i of type layer["type"] on its inputs ins, reads its attributes and
        datasets into layer, and returns its output Tensor."""
        ltype, ver = layer["type"], self.version
        wa, act_type = self.weight_alphabet, self.act_type
        ints, _ = LAYER_ATTRS[ltype]
        a = {k: _read_int(g, k, n, lw) for k, n in ints.items()}
        x = ins[0]
        shape, alphabet, bound = x.shape, x.alphabet, x.bound
        if ltype in ("dense", "conv2d"):
            if alphabet == "pre" and ver < 2:
                raise ModelError(f"{lw}: input is a pre-activation; dense/conv2d need the "
                                 f"image or a {act_type} output (a pre-activation input needs "
                                 f"format_version 2)")
            self._need(lw, ltype, ins, ("image", "pre", "act"))
        if ltype == "dense":
            if len(shape) != 1:
                raise ModelError(f"{lw}: input must be 1-D (insert a flatten layer)")
            if a["in_features"] != shape[0] or a["out_features"] < 1:
                raise ModelError(f"{lw}: in_features {a['in_features']} does not match the "
                                 f"input length {shape[0]}")
            if a["in_features"] > FAN_IN_LIMIT:
                raise ModelError(f"{lw}: in_features above 2^20")
            layer["weight"] = _read_ds(g, "weight", (a["out_features"], a["in_features"]),
                                       wa, lw)
            self.macs += a["out_features"] * a["in_features"]
            self.params += layer["weight"].size
            return Tensor((a["out_features"],), "pre", a["in_features"] * bound)
        if ltype == "conv2d":
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
            fan_in = a["in_channels"] * kh * kw
            if fan_in > FAN_IN_LIMIT:
                raise ModelError(f"{lw}: in_channels*kh*kw above 2^20")
            pv = a["pad_value"]
            if ph or pw:                                   # ignored without padding
                if alphabet == "pre":
                    if abs(pv) > bound:
                        raise ModelError(f"{lw}: pad_value {pv} is not a value of its input "
                                         f"(a pre-activation: |pad_value| <= its bound "
                                         f"{bound})")
                elif pv not in {"image": range(0, 256), "act": wa}[alphabet]:
                    raise ModelError(f"{lw}: pad_value {pv} is not a value of its input "
                                     f"({'0..255' if alphabet == 'image' else wa})")
            ho, wo = _window(shape, a, (ph, pw))
            if ho < 1 or wo < 1:
                raise ModelError(f"{lw}: kernel larger than the padded input")
            layer.update(a)
            layer["weight"] = _read_ds(g, "weight", (a["out_channels"], a["in_channels"],
                                                     kh, kw), wa, lw)
            self.macs += a["out_channels"] * fan_in * ho * wo
            self.params += layer["weight"].size
            return Tensor((a["out_channels"], ho, wo), "pre", fan_in * bound)
        if ltype in ("maxpool2d", "sumpool2d"):
            if alphabet == "bn":
                raise ModelError(f"{lw}: cannot follow batchnorm_threshold")
            kh, kw = a["kernel"]
            sh, sw = a["stride"]
            if len(shape) != 3 or min(kh, kw, sh, sw) < 1:
                raise ModelError(f"{lw}: needs a 3-D input, kernel and stride >= 1")
            ho, wo = _window(shape, a)
            if ho < 1 or wo < 1:
                raise ModelError(f"{lw}: kernel larger than the input")
            layer.update(a)
            if ltype == "maxpool2d":
                return Tensor((shape[0], ho, wo), alphabet, bound)
            return Tensor((shape[0], ho, wo), "pre", kh * kw * bound)
        if ltype == "flatten":
            if alphabet == "bn":
                raise ModelError(f"{lw}: cannot follow batchnorm_threshold")
            if len(shape) != 3:
                raise ModelError(f"{lw}: needs a 3-D input")
            return Tensor((int(np.prod(shape)),), alphabet, bound)
        if ltype == "global_sumpool":
            self._need(lw, ltype, ins, ("image", "pre", "act"))
            if len(shape) != 3:
                raise ModelError(f"{lw}: needs a 3-D input")
            return Tensor((shape[0],), "pre", shape[1] * shape[2] * bound)
        if ltype == "batchnorm_threshold":
            if alphabet != "pre":
                raise ModelError(f"{lw}: input must be a dense/conv2d output" if ver < 2 else
                                 f"{lw}: input must be a pre-activation, found "
                                 f"{ALPHABET_WORDS[alphabet]}")
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
            return Tensor(shape, "bn", None)
        if ltype in ("sign", "ternary"):
            if ltype != act_type:
                raise ModelError(f"{lw}: a {self.kind} model uses '{act_type}' activations")
            if alphabet not in ("pre", "bn"):
                raise ModelError(f"{lw}: input must be a dense/conv2d or batchnorm_threshold "
                                 f"output" if ver < 2 else
                                 f"{lw}: input must be a pre-activation or a "
                                 f"batchnorm_threshold output, found {ALPHABET_WORDS[alphabet]}")
            return Tensor(shape, "act", 1)
        if ltype == "add":
            k = len(ins)
            scale = _read_int(g, "scale", k, lw) if "scale" in g.attrs else [1] * k
            for s in scale:
                if s == 0 or abs(s) > ADD_SCALE_LIMIT:
                    raise ModelError(f"{lw}: scale {s}: each scale must be nonzero with "
                                     f"|scale| <= 2^15")
            self._need(lw, ltype, ins, ("image", "pre", "act"))
            for n, t in enumerate(ins[1:], 1):
                if t.shape != shape:
                    raise ModelError(f"{lw}: input {n} ({_source(names, layer['inputs'][n])}) "
                                     f"has shape {list(t.shape)}, input 0 "
                                     f"({_source(names, layer['inputs'][0])}) {list(shape)}: "
                                     f"add needs equal shapes")
            layer["scale"] = scale
            return Tensor(shape, "pre", sum(abs(s) * t.bound for s, t in zip(scale, ins)))
        if ltype == "concat":
            axis = _read_int(g, "axis", 0, lw) if "axis" in g.attrs else 0
            if axis != 0:
                raise ModelError(f"{lw}: axis {axis} not supported (concat joins along axis 0)")
            self._need(lw, ltype, ins, ("image", "pre", "act"))
            for n, t in enumerate(ins[1:], 1):
                src = f"input {n} ({_source(names, layer['inputs'][n])})"
                if len(t.shape) != len(shape):
                    raise ModelError(f"{lw}: {src} has shape {list(t.shape)}, input 0 "
                                     f"{list(shape)}: concat needs all 3-D or all 1-D inputs")
                if len(shape) == 3 and t.shape[1:] != shape[1:]:
                    raise ModelError(f"{lw}: {src} has shape {list(t.shape)}, input 0 "
                                     f"{list(shape)}: concat needs equal H and W")
                if t.alphabet != alphabet:
                    raise ModelError(f"{lw}: {src} is {ALPHABET_WORDS[t.alphabet]}, input 0 "
                                     f"{ALPHABET_WORDS[alphabet]}: concat needs one alphabet")
            layer["axis"] = axis
            out = (sum(t.shape[0] for t in ins),) + shape[1:]
            return Tensor(out, alphabet, max(t.bound for t in ins))
        raise AssertionError(ltype)

    def _check_last(self, names, out):
        where, nc = self.path, self.root["num_classes"]
        last = self.layers[-1]
        if self.version < 2:
            if last["type"] != "dense" or out.shape != (nc,):
                if last["type"] != "dense" and out.alphabet == "pre" and out.shape == (nc,):
                    raise ModelError(f"{where}: layers/{names[-1]}: a last layer other than "
                                     f"dense needs format_version 2")
                raise ModelError(f"{where}: the last layer must be dense with out_features = "
                                 f"num_classes ({nc})")
        elif out.alphabet != "pre" or out.shape != (nc,):
            raise ModelError(f"{where}: layers/{names[-1]}: the last layer's output must be a "
                             f"1-D pre-activation of length num_classes ({nc}), found "
                             f"{ALPHABET_WORDS[out.alphabet]} of shape {list(out.shape)}")

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
        """x: int32 images [N, C, H, W]; returns the last layer's output [N, num_classes].
        Runs the layers in index order; each tensor is dropped after the last layer that
        takes it, so only the tensors still needed are held."""
        values = {-1: x}
        for i, L in enumerate(self.layers):
            ins = [values[j] for j in L["inputs"]]
            for j in L["inputs"]:
                if self.last_use[j] == i:
                    del values[j]
            values[i] = _apply(L, ins)
            del ins
        return values[len(self.layers) - 1]

    def accuracy(self, images, labels):
        pred = self.predict(images)
        correct = int(np.sum(pred == labels))
        return correct, correct / len(labels)


def _int32(a):
    """a (any integer dtype) as int32; the bounds of rule B keep every value in range, so a
    value outside it means the input was not an image of 0..255 pixels."""
    if a.size and (a.min() < -(1 << 31) or a.max() >= 1 << 31):
        raise OverflowError("a value outside int32 (is the input 0..255 pixels?)")
    return a.astype(np.int32)


def _apply(L, ins):
    """One layer on its input batches ins (each [N, ...]); model_format.md §4 and §9.2."""
    t = L["type"]
    x = ins[0]
    if t == "flatten":
        return x.reshape(x.shape[0], -1)                # C-order: c*H*W + h*W + w
    if t == "dense":
        return x @ L["weight"].astype(np.int32).T      # z[o] = sum_i W[o,i] x[i]
    if t == "conv2d":
        return _int_conv2d(x, L)
    if t == "maxpool2d":
        return _int_maxpool(x, L)
    if t == "batchnorm_threshold":
        shp = (1, -1) + (1,) * (x.ndim - 2)
        lo = L["lo"].reshape(shp)
        hi = L["hi"].reshape(shp)
        fl = L["flip"].reshape(shp)
        u = np.where(x > hi, x - hi, np.where(x < lo, x - lo, 0))
        return (fl * u).astype(np.int32)
    if t == "sign":
        return np.where(x >= 0, 1, -1).astype(np.int32)
    if t == "ternary":
        return np.sign(x).astype(np.int32)
    if t == "add":                                      # y = sum_j scale[j] * x_j
        y = np.zeros(x.shape, dtype=np.int64)
        for s, xj in zip(L["scale"], ins):
            y += np.int64(s) * xj.astype(np.int64)
        return _int32(y)
    if t == "concat":                                   # along the channel axis
        return np.concatenate(ins, axis=1).astype(np.int32, copy=False)
    if t == "sumpool2d":
        return _int_sumpool(x, L)
    if t == "global_sumpool":                           # y[c] = sum_{h,w} x[c,h,w]
        return _int32(x.sum(axis=(2, 3), dtype=np.int64))
    raise AssertionError(t)


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


def _windows(x, L):
    """The kh*kw strided views of x [N, C, H, W] whose elementwise max/sum is the pooling."""
    kh, kw = L["kernel"]
    sh, sw = L["stride"]
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    for u in range(kh):
        for v in range(kw):
            yield x[:, :, u:u + sh * (ho - 1) + 1:sh, v:v + sw * (wo - 1) + 1:sw]


def _int_maxpool(x, L):
    out = None
    for patch in _windows(x, L):
        out = patch.copy() if out is None else np.maximum(out, patch)
    return out


def _int_sumpool(x, L):
    out = None
    for patch in _windows(x, L):
        out = patch.astype(np.int64) if out is None else out + patch
    return _int32(out)


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
            extra = {k: L[k] for k in ("kernel", "stride", "padding", "pad_value", "scale")
                     if k in L}
            if L["inputs"] != [i - 1]:
                extra = {"inputs": L["inputs"], **extra}
            ins = str(list(L["in_shape"])) if len(L["inputs"]) == 1 else \
                f"{len(L['inputs'])} inputs"
            print(f"  {i:03d} {L['type']:<20} {ins:>14} -> "
                  f"{str(list(L['out_shape'])):<14} {extra if extra else ''}")
        test_x, test_y = load_split(args.data, "test")
        correct, acc = model.accuracy(test_x, test_y)
        stored = model.root.get("digital_test_correct")   # optional (model_format.md §2)
        version = "" if model.version == 1 else f" (format_version {model.version})"
        print(f"{path}: valid {model.kind} model{version}, {len(model.layers)} layers, "
              f"{model.params} weights, {model.macs} MACs/image; test accuracy {acc:.4f} "
              f"({correct}/{len(test_y)}), "
              + (f"stored digital_test_correct {stored}" if stored is not None
                 else "no digital_test_correct stored"))
        if stored is not None and stored != correct:
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())

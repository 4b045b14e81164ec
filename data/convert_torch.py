#!/usr/bin/env python3
"""Convert a PyTorch binary or ternary network to a cimgpu model file, exactly.

    python3 data/convert_torch.py m.pt net.json -o data/models/my_tnn.h5

m.pt: what `torch.save(model.state_dict(), "m.pt")` writes (read without torch: a restricted
unpickler that builds numpy arrays and allows no other globals), or an .npz of the same
names. net.json: the layer sequence or graph of the network, which a state_dict does not
hold (the format is below and in docs/converting.md). Every layer maps to the integer layers
of data/model_format.md; the result is validated with data/cimgpu_model.py's IntModel and
its digital accuracy on the test set is stored in the file. Where torch can be imported, the
description also runs in float32 with torch.nn.functional on the same images (or, with
--module/--class, your own nn.Module class does), and the agreement of the predictions is
printed.

The JSON description:

  {"input_shape": [1, 28, 28], "input_scale": 255, "kind": "bnn", "num_classes": 10,
   "layers": [
     {"type": "conv2d", "weight": "features.0.weight", "stride": 1, "padding": 1,
      "quantize": "sign"},
     {"type": "batchnorm", "prefix": "features.1", "activation": "sign"},
     {"type": "maxpool2d", "kernel": 2},
     {"type": "conv2d", "weight": "features.4.weight", "padding": 1, "pad_value": 1,
      "quantize": "sign", "name": "a"},
     {"type": "conv2d", "weight": "features.5.weight", "padding": 1, "pad_value": 1,
      "quantize": "sign", "inputs": [2]},
     {"type": "add", "inputs": ["a", 4]},
     {"type": "batchnorm", "prefix": "features.6", "activation": "sign"},
     {"type": "flatten"},
     {"type": "linear", "weight": "classifier.weight", "quantize": "sign"}]}

Each layer reads the previous one unless it says "inputs" (indices into "layers", -1 the
image, or the "name" of a layer). Layer types: conv2d, linear, batchnorm, sign, ternary,
maxpool2d, avgpool2d, adaptive_avgpool2d (output_size 1), adaptive_maxpool2d, flatten, add,
concat, dropout, identity. "quantize" (weights) and "input_quantize", "activation"
(batchnorm): "sign" (+1 where x >= 0, else -1), {"ternary": D} (+1 where x > D, -1 where
x < -D, else 0), for weights also {"ternary": "twn"} (D = 0.7 * mean|w| of the layer),
"none". "scale" (a weight layer's per-output alpha): "mean_abs" (XNOR-Net), "twn" (the mean
|w| of the nonzero ternary weights), a state_dict key, or numbers. Exit status: 0 written;
2 refused or unreadable (one line, no file written); 1 written, but fewer than
--min-agreement of the float predictions agree.
"""
import argparse
import collections
import importlib.util
import io
import json
import os
import pickle
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_common as cc  # noqa: E402
from convert_common import ConvertError  # noqa: E402

STORAGE_DTYPES = {
    "DoubleStorage": "f8", "FloatStorage": "f4", "HalfStorage": "f2", "BFloat16Storage": "bf16",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "?", "UntypedStorage": "u1",
}
LAYER_KEYS = {
    "conv2d": ("weight", "bias", "stride", "padding", "pad_value", "quantize", "scale",
               "input_quantize", "dilation", "groups"),
    "linear": ("weight", "bias", "quantize", "scale", "input_quantize"),
    "batchnorm": ("prefix", "weight", "bias", "running_mean", "running_var", "eps",
                  "activation"),
    "sign": (),
    "ternary": ("threshold",),
    "maxpool2d": ("kernel", "stride", "padding"),
    "avgpool2d": ("kernel", "stride", "padding"),
    "adaptive_avgpool2d": ("output_size",),
    "adaptive_maxpool2d": ("output_size",),
    "flatten": (),
    "add": ("scale",),
    "concat": ("dim",),
    "dropout": ("p",),
    "identity": (),
}
COMMON_KEYS = ("type", "name", "inputs", "comment")
ROOT_KEYS = ("input_shape", "input_scale", "kind", "num_classes", "name", "layers", "comment",
             "output")


# --------------------------------------------------------------------------------------
# Reading a state_dict without torch
# --------------------------------------------------------------------------------------
class _StorageType:
    def __init__(self, name):
        self.name = name


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None,
                       metadata=None):
    return _view(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, hooks=None):
    return data


def _view(storage, offset, size, stride):
    arr, _ = storage
    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if len(size) != len(stride) or min(size + (0,)) < 0 or min(stride + (0,)) < 0 \
            or offset < 0:
        raise ValueError("bad tensor geometry")
    n = int(np.prod(size)) if size else 1
    if n == 0:
        return np.zeros(size, arr.dtype)
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= arr.size:
        raise ValueError(f"a tensor reaches element {last} of a storage of {arr.size}")
    item = arr.itemsize
    view = np.lib.stride_tricks.as_strided(arr[offset:], shape=size,
                                           strides=tuple(st * item for st in stride))
    return np.array(view)


class _Unpickler(pickle.Unpickler):
    """Allows only the globals a state_dict needs; builds numpy arrays."""

    def __init__(self, fh, load_storage):
        super().__init__(fh)
        self.load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module in ("torch", "torch.storage") and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise ConvertError(f"the pickle asks for the global {module}.{name}, which a "
                           f"state_dict does not need: refused (nothing was run)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] in ("storage", b"storage")
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.60}")
        return self.load_storage(pid[1].name, str(pid[2]), int(pid[4]))


def _bf16(raw, order):
    u = np.frombuffer(raw, dtype=order + "u2").astype(np.uint32) << 16
    return u.view(np.float32)


def read_torch_zip(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkl) != 1:
            raise ConvertError(f"{path}: a zip file without one data.pkl: not a torch.save "
                               f"file")
        prefix = pkl[0][:-len("data.pkl")]
        order = "<"
        if prefix + "byteorder" in names:
            order = ">" if zf.read(prefix + "byteorder").strip() == b"big" else "<"
        cache = {}

        def load_storage(type_name, key, numel):
            if key not in cache:
                rec = f"{prefix}data/{key}"
                if rec not in names:
                    raise pickle.UnpicklingError(f"storage record {rec} is missing")
                raw = zf.read(rec)
                code = STORAGE_DTYPES[type_name]
                if code == "bf16":
                    arr = _bf16(raw, order)
                else:
                    dt = np.dtype(order + code if code not in ("?", "u1", "i1") else code)
                    if len(raw) % dt.itemsize:
                        raise pickle.UnpicklingError(f"storage {key}: {len(raw)} bytes is not "
                                                     f"a whole number of {type_name} items")
                    arr = np.frombuffer(raw, dtype=dt)
                if arr.size < numel:
                    raise pickle.UnpicklingError(f"storage {key} holds {arr.size} items, "
                                                 f"{numel} expected")
                cache[key] = (arr, type_name)
            return cache[key]

        return _Unpickler(io.BytesIO(zf.read(pkl[0])), load_storage).load()


def read_state_dict(path):
    """{name: numpy array} of a torch.save'd state_dict (zip format) or an .npz."""
    if not os.path.exists(path):
        raise ConvertError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80":
        raise ConvertError(f"{path}: the legacy (before PyTorch 1.6) torch.save format; save it "
                           f"again with a current torch (the zip format)")
    if not zipfile.is_zipfile(path):
        raise ConvertError(f"{path}: not a torch.save zip file or .npz (truncated?)")
    try:
        with zipfile.ZipFile(path) as zf:
            npz = all(n.endswith(".npy") for n in zf.namelist())
        if npz:
            with np.load(path, allow_pickle=False) as z:
                obj = {k: z[k] for k in z.files}
        else:
            obj = read_torch_zip(path)
    except ConvertError as e:
        raise ConvertError(f"{path}: {e}" if not str(e).startswith(path) else str(e))
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, KeyError,
            TypeError, AttributeError, IndexError, OSError) as e:
        raise ConvertError(f"{path}: not a readable state_dict ({str(e) or type(e).__name__})")
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict):
        raise ConvertError(f"{path}: holds a {type(obj).__name__}, not a state_dict (a dict "
                           f"of tensors)")
    sd = {str(k): v for k, v in obj.items() if isinstance(v, np.ndarray)}
    if not sd:
        raise ConvertError(f"{path}: the state_dict holds no tensors")
    return sd


# --------------------------------------------------------------------------------------
# The description
# --------------------------------------------------------------------------------------
def read_description(path):
    try:
        with open(path, encoding="utf-8") as fh:
            desc = json.load(fh)
    except json.JSONDecodeError as e:
        raise ConvertError(f"{path}: not valid JSON: line {e.lineno} column {e.colno}: {e.msg}")
    except UnicodeDecodeError as e:
        raise ConvertError(f"{path}: not UTF-8 text ({e.reason})")
    if not isinstance(desc, dict):
        raise ConvertError(f"{path}: the description must be a JSON object")
    for k in desc:
        if k not in ROOT_KEYS:
            raise ConvertError(f"{path}: unknown key {k!r} (known: {', '.join(ROOT_KEYS)})")
    layers = desc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ConvertError(f"{path}: \"layers\" must be a non-empty list")
    shape = desc.get("input_shape")
    if not (isinstance(shape, list) and len(shape) == 3 and all(
            isinstance(v, int) and v >= 1 for v in shape)):
        raise ConvertError(f"{path}: \"input_shape\" must be [C, H, W], three positive "
                           f"integers")
    if desc.get("kind") not in (None, "bnn", "tnn"):
        raise ConvertError(f"{path}: \"kind\" must be \"bnn\" or \"tnn\"")
    scale = desc.get("input_scale", 1)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
        raise ConvertError(f"{path}: \"input_scale\" must be a positive number")
    names = {}
    for i, L in enumerate(layers):
        if not isinstance(L, dict) or not isinstance(L.get("type"), str):
            raise ConvertError(f"{path}: layer {i} must be an object with a \"type\"")
        t = L["type"]
        if t not in LAYER_KEYS:
            raise ConvertError(f"{path}: layer {i}: type {t!r} is not supported (supported: "
                               f"{', '.join(LAYER_KEYS)})")
        for k in L:
            if k not in COMMON_KEYS and k not in LAYER_KEYS[t]:
                raise ConvertError(f"{path}: layer {i} ({t}): unknown key {k!r} (known: "
                                   f"{', '.join(COMMON_KEYS[1:] + LAYER_KEYS[t])})")
        if "name" in L:
            if not isinstance(L["name"], str) or L["name"] in names:
                raise ConvertError(f"{path}: layer {i}: \"name\" must be a string used once")
            names[L["name"]] = i
    return desc, names


def _where(i, L):
    name = f' "{L["name"]}"' if "name" in L else ""
    return f"layer {i}{name} ({L['type']})"


def _int2(v, what, where, allow_same=False):
    if allow_same and v == "same":
        return "same"
    if isinstance(v, int) and not isinstance(v, bool):
        return [v, v]
    if isinstance(v, list) and len(v) == 2 and all(isinstance(e, int) and not isinstance(
            e, bool) for e in v):
        return list(v)
    raise ConvertError(f"{where}: \"{what}\" must be an integer or two integers")


def _number(v, what, where):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise ConvertError(f"{where}: \"{what}\" must be a number")


def activation_quantizer(spec, where, what):
    """None, or a cc.Quantizer of a description's "sign" / {"ternary": D}."""
    if spec in (None, "none"):
        return None
    if spec == "sign":
        return cc.sign_quantizer("sign")
    if isinstance(spec, dict) and set(spec) == {"ternary"}:
        d = spec["ternary"]
        if isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0:
            return cc.ternary_quantizer(d, False, f"ternary({d})")
    raise ConvertError(f"{where}: \"{what}\" must be \"sign\", {{\"ternary\": D}} with D >= 0, "
                       f"or \"none\"")


def twn_delta(w):
    w = np.asarray(w, dtype=np.float32)
    return float(np.float32(0.7) * np.mean(np.abs(w), dtype=np.float32))


def weight_quantizer(spec, w, where):
    """(integer weights, TWN delta or None)."""
    if spec in (None, "none"):
        return cc.provable_weights(w, where, "quantizer (\"quantize\")"), None
    if spec == "sign":
        return cc.quantize_weights(w, cc.sign_quantizer(), where), None
    if isinstance(spec, dict) and set(spec) == {"ternary"}:
        d = spec["ternary"]
        if d == "twn":
            d = twn_delta(w)
            return cc.quantize_weights(w, cc.ternary_quantizer(d, False, "twn"), where), d
        if isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0:
            return cc.quantize_weights(w, cc.ternary_quantizer(d, False, "ternary"), where), d
    raise ConvertError(f"{where}: \"quantize\" must be \"sign\", {{\"ternary\": D}}, "
                       f"{{\"ternary\": \"twn\"}} or \"none\"")


class Converter:
    def __init__(self, sd_path, sd, desc_path, desc, names, input_scale):
        self.sd_path, self.sd, self.desc_path, self.desc = sd_path, sd, desc_path, desc
        self.names = names
        self.layers = desc["layers"]
        self.input_scale = desc.get("input_scale", 1) if input_scale is None else input_scale
        self.inputs = [self.resolve(i, L) for i, L in enumerate(self.layers)]
        out = desc.get("output", len(self.layers) - 1)
        self.out = self.ref(out, len(self.layers), "output")

    def ref(self, r, i, where):
        if isinstance(r, str):
            if r not in self.names:
                raise ConvertError(f"{self.desc_path}: {where}: no layer named {r!r}")
            r = self.names[r]
        if not isinstance(r, int) or isinstance(r, bool) or not -1 <= r < i:
            raise ConvertError(f"{self.desc_path}: {where}: input {r!r} is not -1 (the image) "
                               f"or an earlier layer")
        return r

    def resolve(self, i, L):
        w = _where(i, L)
        if "inputs" not in L:
            return [i - 1]
        ins = L["inputs"]
        if not isinstance(ins, list) or not ins:
            raise ConvertError(f"{self.desc_path}: {w}: \"inputs\" must be a non-empty list")
        out = [self.ref(r, i, w) for r in ins]
        if L["type"] not in ("add", "concat") and len(out) != 1:
            raise ConvertError(f"{self.desc_path}: {w}: takes one input, {len(out)} given")
        if L["type"] in ("add", "concat") and len(out) < 2:
            raise ConvertError(f"{self.desc_path}: {w}: needs at least two inputs")
        return out

    def tensor(self, key, where, ndim=None):
        if not isinstance(key, str):
            raise ConvertError(f"{self.desc_path}: {where}: a state_dict key must be a string")
        if key not in self.sd:
            raise ConvertError(f"{self.sd_path}: {where}: the state_dict has no key {key!r}")
        v = self.sd[key]
        if ndim is not None and v.ndim != ndim:
            raise ConvertError(f"{self.sd_path}: {where}: {key!r} has shape {list(v.shape)}, "
                               f"{ndim} dimensions expected")
        if v.dtype.kind not in "fiub":
            raise ConvertError(f"{self.sd_path}: {where}: {key!r} is not a number tensor")
        return v.astype(np.float32) if v.dtype != np.float64 else v

    def scale(self, L, w_float, wq, delta, where):
        spec = L.get("scale")
        o = w_float.shape[0]
        if spec is None:
            return None
        if spec == "mean_abs":
            return np.mean(np.abs(w_float.astype(np.float64)).reshape(o, -1), axis=1)
        if spec == "twn":
            if delta is None:
                raise ConvertError(f"{self.desc_path}: {where}: \"scale\": \"twn\" needs "
                                   f"ternary weights")
            mask = np.abs(w_float) > delta
            return [float(np.abs(w_float.astype(np.float64))[mask].mean()) if mask.any()
                    else 1.0]
        if isinstance(spec, str):
            v = self.tensor(spec, where)
            if v.size not in (1, o):
                raise ConvertError(f"{self.sd_path}: {where}: scale {spec!r} has {v.size} "
                                   f"values, 1 or {o} expected")
            return v.astype(np.float64).reshape(-1)
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return [float(spec)]
        if isinstance(spec, list) and all(isinstance(e, (int, float)) for e in spec):
            return [float(e) for e in spec]
        raise ConvertError(f"{self.desc_path}: {where}: \"scale\" must be \"mean_abs\", "
                           f"\"twn\", a state_dict key or numbers")

    def convert(self, kind):
        B = cc.Builder(kind, self.desc["input_shape"], self.input_scale)
        self.B = B
        outs = {-1: B.image()}
        for i, L in enumerate(self.layers):
            w = _where(i, L)
            xs = [outs[j] for j in self.inputs[i]]
            try:
                outs[i] = self.layer(B, L, xs, w)
            except ConvertError as e:
                msg = str(e)
                if not msg.startswith((self.desc_path + ":", self.sd_path + ":")):
                    msg = f"{self.desc_path}: {msg if msg.startswith(w) else w + ': ' + msg}"
                raise type(e)(msg)
        last = self.layers[self.out] if self.out >= 0 else {"type": "input"}
        try:
            n = B.output(_where(self.out, last), outs[self.out])
        except ConvertError as e:
            raise type(e)(f"{self.desc_path}: {e}")
        want = self.desc.get("num_classes")
        if want is not None and want != n:
            raise ConvertError(f"{self.desc_path}: the output has {n} classes, \"num_classes\" "
                               f"says {want}")
        return B

    def layer(self, B, L, xs, w):
        t = L["type"]
        x = xs[0]
        if t in ("conv2d", "linear"):
            iq = activation_quantizer(L.get("input_quantize"), w, "input_quantize")
            if iq is not None:
                x = B.quantize(w, x, iq)
            wf = self.tensor(L.get("weight"), w, 4 if t == "conv2d" else 2)
            wq, delta = weight_quantizer(L.get("quantize"), wf, w)
            alpha = self.scale(L, wf, wq, delta, w)
            bias = None
            if L.get("bias") is not None:
                bias = self.tensor(L["bias"], w, 1)
                if bias.size != wf.shape[0]:
                    raise ConvertError(f"{self.sd_path}: {w}: bias {L['bias']!r} has "
                                       f"{bias.size} values, {wf.shape[0]} expected")
            if t == "linear":
                if len(x.shape) == 1 and wf.shape[1] != x.shape[0]:
                    raise ConvertError(f"{self.sd_path}: {w}: {L['weight']!r} has shape "
                                       f"{list(wf.shape)}; the input has {x.shape[0]} "
                                       f"features")
                return B.dense(w, x, wq, alpha, bias)
            if len(x.shape) == 3 and wf.shape[1] != x.shape[0]:
                raise ConvertError(f"{self.sd_path}: {w}: {L['weight']!r} has shape "
                                   f"{list(wf.shape)}; the input has {x.shape[0]} channels")
            if _int2(L.get("dilation", 1), "dilation", w) != [1, 1]:
                raise ConvertError(f"{w}: dilated convolution is not supported")
            if L.get("groups", 1) != 1:
                raise ConvertError(f"{w}: grouped convolution is not supported")
            kh, kw = wf.shape[2:]
            stride = _int2(L.get("stride", 1), "stride", w)
            pad = _int2(L.get("padding", 0), "padding", w, allow_same=True)
            if pad == "same":
                if stride != [1, 1] or kh % 2 == 0 or kw % 2 == 0:
                    raise ConvertError(f"{w}: padding \"same\" needs stride 1 and an odd "
                                       f"kernel (PyTorch pads an even one unequally)")
                pad = [kh // 2, kw // 2]
            pv = _number(L.get("pad_value", 0), "pad_value", w)
            return B.conv2d(w, x, wq, stride, pad, pv, alpha, bias)
        if t == "batchnorm":
            prefix = L.get("prefix")
            if prefix is not None and not isinstance(prefix, str):
                raise ConvertError(f"{w}: \"prefix\" must be a string")
            key = {k: L.get(k, f"{prefix}.{k}" if prefix is not None else None)
                   for k in ("weight", "bias", "running_mean", "running_var")}
            n = x.shape[0]
            for k in ("running_mean", "running_var"):
                if key[k] is None:
                    raise ConvertError(f"{w}: needs \"prefix\" or \"{k}\"")
            mean = self.tensor(key["running_mean"], w, 1)
            var = self.tensor(key["running_var"], w, 1)
            gamma = self.tensor(key["weight"], w, 1) if key["weight"] in self.sd else np.ones(n)
            beta = self.tensor(key["bias"], w, 1) if key["bias"] in self.sd else np.zeros(n)
            if "weight" in L and L["weight"] not in self.sd:
                self.tensor(L["weight"], w)         # an explicit key must exist
            if "bias" in L and L["bias"] not in self.sd:
                self.tensor(L["bias"], w)
            for name, v in (("running_mean", mean), ("running_var", var), ("weight", gamma),
                            ("bias", beta)):
                if v.size != n:
                    raise ConvertError(f"{self.sd_path}: {w}: {name} has {v.size} values, the "
                                       f"input has {n} channels")
            eps = _number(L.get("eps", 1e-5), "eps", w)
            y = B.batchnorm(w, x, gamma, beta, mean, var, eps)
            q = activation_quantizer(L.get("activation"), w, "activation")
            return y if q is None else B.quantize(w, y, q)
        if t == "sign":
            return B.quantize(w, x, cc.sign_quantizer())
        if t == "ternary":
            d = _number(L.get("threshold", 0.5), "threshold", w)
            if d < 0:
                raise ConvertError(f"{w}: \"threshold\" must be >= 0")
            return B.quantize(w, x, cc.ternary_quantizer(d, False, f"ternary({d:g})"))
        if t in ("maxpool2d", "avgpool2d"):
            k = _int2(L.get("kernel"), "kernel", w)
            s = _int2(L.get("stride", k), "stride", w)
            if _int2(L.get("padding", 0), "padding", w) != [0, 0]:
                raise ConvertError(f"{w}: pooling with padding is not supported")
            return B.maxpool(w, x, k, s) if t == "maxpool2d" else B.avgpool(w, x, k, s)
        if t in ("adaptive_avgpool2d", "adaptive_maxpool2d"):
            if L.get("output_size", 1) not in (1, [1, 1]):
                raise ConvertError(f"{w}: only output_size 1 (global pooling) is supported")
            return B.global_avgpool(w, x) if t == "adaptive_avgpool2d" else \
                B.global_maxpool(w, x)
        if t == "flatten":
            return B.flatten(w, x, "chw")
        if t == "add":
            coefs = L.get("scale")
            if coefs is not None and not (isinstance(coefs, list) and len(coefs) == len(xs)
                                          and all(isinstance(c, (int, float)) for c in coefs)):
                raise ConvertError(f"{w}: \"scale\" must be one number per input")
            return B.add(w, xs, coefs)
        if t == "concat":
            if L.get("dim", 1) not in (1, -3 if len(x.shape) == 3 else -1):
                raise ConvertError(f"{w}: only dim 1 (the channels) is supported")
            return B.concat(w, xs)
        if t in ("dropout", "identity"):
            return x
        raise ConvertError(f"{w}: type not supported")


# --------------------------------------------------------------------------------------
# The float model in torch (the agreement check)
# --------------------------------------------------------------------------------------
def torch_predictions_from_description(conv, images):
    """The description run in float32 with torch.nn.functional; None without torch."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in conv.sd.items()}

    def q_act(spec, v):
        if spec in (None, "none"):
            return v
        if spec == "sign":
            return torch.where(v >= 0, 1.0, -1.0)
        d = float(spec["ternary"])
        return (v > d).float() - (v < -d).float()

    def q_w(spec, wt):
        if spec in (None, "none"):
            return wt
        if spec == "sign":
            return torch.where(wt >= 0, 1.0, -1.0)
        d = spec["ternary"]
        d = 0.7 * wt.abs().mean() if d == "twn" else float(d)
        return (wt > d).float() - (wt < -d).float(), d

    c, h, w = conv.desc["input_shape"]
    outs = {-1: torch.from_numpy(images.astype(np.float32)).reshape(-1, c, h, w)
            / float(conv.input_scale)}
    with torch.no_grad():
        for i, L in enumerate(conv.layers):
            t = L["type"]
            xs = [outs[j] for j in conv.inputs[i]]
            x = xs[0]
            if t in ("conv2d", "linear"):
                x = q_act(L.get("input_quantize"), x)
                wt = sd[L["weight"]].float()
                r = q_w(L.get("quantize"), wt)
                wq, delta = r if isinstance(r, tuple) else (r, None)
                spec = L.get("scale")
                if spec == "mean_abs":
                    alpha = wt.abs().reshape(wt.shape[0], -1).mean(dim=1)
                elif spec == "twn":
                    alpha = wt.abs()[wt.abs() > delta].mean()
                elif isinstance(spec, str):
                    alpha = sd[spec].float().reshape(-1)
                elif spec is not None:
                    alpha = torch.tensor(spec, dtype=torch.float32).reshape(-1)
                else:
                    alpha = None
                if alpha is not None:
                    wq = wq * alpha.reshape((-1,) + (1,) * (wq.dim() - 1))
                bias = sd[L["bias"]].float() if L.get("bias") else None
                if t == "linear":
                    y = F.linear(x, wq, bias)
                else:
                    kh, kw = wq.shape[2:]
                    pad = L.get("padding", 0)
                    pad = [kh // 2, kw // 2] if pad == "same" else _int2(pad, "", "")
                    if pad != [0, 0]:
                        x = F.pad(x, (pad[1], pad[1], pad[0], pad[0]),
                                  value=float(L.get("pad_value", 0)))
                    y = F.conv2d(x, wq, bias, stride=_int2(L.get("stride", 1), "", ""))
            elif t == "batchnorm":
                p = L.get("prefix")
                key = {k: L.get(k, f"{p}.{k}") for k in ("weight", "bias", "running_mean",
                                                        "running_var")}
                n = x.shape[1]
                g = sd[key["weight"]].float() if key["weight"] in sd else torch.ones(n)
                b = sd[key["bias"]].float() if key["bias"] in sd else torch.zeros(n)
                y = F.batch_norm(x, sd[key["running_mean"]].float(),
                                 sd[key["running_var"]].float(), g, b, False, 0.0,
                                 float(L.get("eps", 1e-5)))
                y = q_act(L.get("activation"), y)
            elif t == "sign":
                y = q_act("sign", x)
            elif t == "ternary":
                y = q_act({"ternary": L.get("threshold", 0.5)}, x)
            elif t == "maxpool2d":
                k = _int2(L["kernel"], "", "")
                y = F.max_pool2d(x, k, _int2(L.get("stride", L["kernel"]), "", ""))
            elif t == "avgpool2d":
                k = _int2(L["kernel"], "", "")
                y = F.avg_pool2d(x, k, _int2(L.get("stride", L["kernel"]), "", ""))
            elif t == "adaptive_avgpool2d":
                y = F.adaptive_avg_pool2d(x, 1)
            elif t == "adaptive_maxpool2d":
                y = F.adaptive_max_pool2d(x, 1)
            elif t == "flatten":
                y = torch.flatten(x, 1)
            elif t == "add":
                coefs = L.get("scale") or [1] * len(xs)
                y = sum(float(k) * v for k, v in zip(coefs, xs))
            elif t == "concat":
                y = torch.cat(xs, dim=1)
            else:
                y = x
            outs[i] = y
        scores = outs[conv.out].reshape(len(images), -1)
    return scores.argmax(dim=1).numpy()


def torch_predictions_from_module(module_path, class_name, class_args, sd, images,
                                  input_shape, input_scale):
    """Your own nn.Module run on the images; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    spec = importlib.util.spec_from_file_location("converted_network", module_path)
    if spec is None:
        raise ConvertError(f"{module_path}: cannot be imported as a Python module")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, class_name):
        raise ConvertError(f"{module_path}: no class {class_name!r}")
    net = getattr(mod, class_name)(**class_args)
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    net.eval()
    c, h, w = input_shape
    x = torch.from_numpy(images.astype(np.float32)).reshape(-1, c, h, w) / float(input_scale)
    preds = []
    with torch.no_grad():
        for a in range(0, len(x), 500):
            preds.append(net(x[a:a + 500]).reshape(min(500, len(x) - a), -1).argmax(dim=1))
    return torch.cat(preds).numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " See docs/converting.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    ap.add_argument("state_dict", help="torch.save(model.state_dict()) file, or an .npz")
    ap.add_argument("description", help="the JSON description of the layers")
    cc.add_common_args(ap)
    ap.add_argument("--module", help="agreement check with your own nn.Module: its .py file")
    ap.add_argument("--class", dest="cls", help="the nn.Module class in --module")
    ap.add_argument("--class-args", default="{}",
                    help="JSON object of the class's keyword arguments (default {})")
    ap.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    def body():
        if bool(args.module) != bool(args.cls):
            raise ConvertError("--module and --class go together")
        try:
            class_args = json.loads(args.class_args)
            if not isinstance(class_args, dict):
                raise ValueError("not an object")
        except ValueError as e:
            raise ConvertError(f"--class-args: not a JSON object ({e})")
        desc, names = read_description(args.description)
        sd = read_state_dict(args.state_dict)
        conv = Converter(args.state_dict, sd, args.description, desc, names, args.input_scale)
        kind = args.kind if args.kind != "auto" else (desc.get("kind") or "auto")
        builder = cc.build(kind, conv.convert)
        version, layer_list = builder.finish()
        images, labels = cc.load_images(args, builder.input_shape)
        name = args.name or desc.get("name") or cc.default_name(args.out)
        root = cc.root_attributes(
            builder, version, name,
            f"converted from {os.path.basename(args.state_dict)} and "
            f"{os.path.basename(args.description)} by data/convert_torch.py (input scale "
            f"{float(conv.input_scale):g})", os.path.basename(args.state_dict))
        model, pred = cc.write_checked(args.out, root, layer_list, images, labels)
        print(cc.summary(args.state_dict, args.out, model, version, labels))
        if images is None:
            return 0
        if args.module:
            theirs = torch_predictions_from_module(args.module, args.cls, class_args, sd,
                                                   images,
                                                   builder.input_shape, conv.input_scale)
            label = f"PyTorch ({args.cls} of {os.path.basename(args.module)})"
        else:
            theirs = torch_predictions_from_description(conv, images)
            label = "PyTorch (the description in float32)"
        if theirs is None:
            print("agreement with PyTorch: not checked (torch cannot be imported here)")
            return 0
        return cc.agreement(label, pred, theirs, args.min_agreement)

    return cc.run_cli(body, args.debug)


if __name__ == "__main__":
    sys.exit(main())

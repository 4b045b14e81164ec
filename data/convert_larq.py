#!/usr/bin/env python3
"""Convert a saved Keras/Larq binary or ternary network to a cimgpu model file, exactly,
without TensorFlow.

    python3 data/convert_larq.py m.h5 -o data/models/my_bnn.h5 --input-scale 255

Reads what `model.save("m.h5")` writes (Keras 2 HDF5: the root attribute `model_config`,
the group `model_weights`) or a Keras 3 `.keras` archive (config.json + model.weights.h5),
maps every layer to the integer layers of data/model_format.md (docs/converting.md lists
what maps to what), validates the result with data/cimgpu_model.py's IntModel, measures its
digital accuracy on the test set (stored in the file) and, where TensorFlow and Larq can be
imported, prints how many of Keras's own float predictions agree with the integer model's.

A layer that cannot be made exact is refused with one line that names it and why, exit
status 2, and no output file. Exit status 1: the file is written but fewer than
--min-agreement of the framework's predictions agree.
"""
import argparse
import importlib
import io
import json
import os
import re
import sys
import zipfile

import numpy as np
import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_common as cc  # noqa: E402
from convert_common import ConvertError  # noqa: E402

IDENTITY_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
                   "GaussianDropout", "AlphaDropout", "ActivityRegularization")
QUANTIZER_LAYERS = ("SteSign", "ApproxSign", "SwishSign", "SteTern", "SteHeaviside",
                    "MagnitudeAwareSign", "DoReFa", "DoReFaQuantizer", "NoOp",
                    "NoOpQuantizer")
MONOTONE = ("softmax", "sigmoid")    # allowed on the class scores only


# --------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------
class Layer:
    def __init__(self, name, cls, config, inputs):
        self.name, self.cls, self.config, self.inputs = name, cls, config, inputs
        self.weights = {}        # short name (kernel, bias, gamma, ...) -> float array

    @property
    def where(self):
        return f'layer "{self.name}" ({self.cls})'


def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        return _text(v[()])
    return str(v)


def _attr_list(group, name):
    """A list attribute as Keras writes it (maybe split into name0, name1, ...)."""
    if name in group.attrs:
        values = list(np.asarray(group.attrs[name]).reshape(-1))
    else:
        values, k = [], 0
        while f"{name}{k}" in group.attrs:
            values += list(np.asarray(group.attrs[f"{name}{k}"]).reshape(-1))
            k += 1
    return [_text(v) for v in values]


def _class(entry):
    """A Keras class name without a registration prefix ('larq>QuantConv2D')."""
    name = entry.get("class_name") if isinstance(entry, dict) else None
    if not isinstance(name, str):
        raise ConvertError("a layer entry without a class_name in the model config")
    return name.split(">")[-1]


def _history(obj, out):
    """The input tensors of one call node (Keras 2: [name, node, tensor, kwargs] lists;
    Keras 3: __keras_tensor__ dicts with keras_history), in order."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            h = obj.get("config", {}).get("keras_history")
            out.append((h[0], int(h[1]), int(h[2])))
            return
        for v in obj.values():
            _history(v, out)
    elif isinstance(obj, list):
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int) \
                and isinstance(obj[2], int):
            out.append((obj[0], obj[1], obj[2]))
            return
        for v in obj:
            _history(v, out)


def _input_shape(cfg):
    for key in ("batch_input_shape", "batch_shape"):
        v = cfg.get(key)
        if isinstance(v, dict) and "items" in v:      # TensorShape
            v = v["items"]
        if isinstance(v, list):
            return v
    return None


def parse_config(top, where):
    """(layers in config order, input layer name or None, output layer name, input shape)."""
    cls = _class(top)
    cfg = top.get("config", {})
    entries = cfg.get("layers") if isinstance(cfg, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConvertError(f"{where}: model config without layers")
    layers = []
    if cls == "Sequential":
        prev = None
        shape = _input_shape(cfg) or (cfg.get("build_input_shape") if isinstance(
            cfg.get("build_input_shape"), list) else None)
        if shape is None and isinstance(top.get("build_config"), dict):
            shape = top["build_config"].get("input_shape")
        for k, e in enumerate(entries):
            c = e.get("config", {})
            name = c.get("name") or e.get("name") or f"layer_{k}"
            if shape is None:
                shape = _input_shape(c)
                if shape is None and isinstance(e.get("build_config"), dict):
                    shape = e["build_config"].get("input_shape")
            layers.append(Layer(name, _class(e), c, [] if prev is None else [prev]))
            prev = name
        if layers[0].cls != "InputLayer":
            layers.insert(0, Layer("input", "InputLayer", {}, []))
            layers[1].inputs = ["input"]
        if shape is None:
            raise ConvertError(f"{where}: the Sequential model has no input shape (no "
                               f"InputLayer, batch_input_shape or build_config)")
        return layers, layers[0].name, layers[-1].name, shape
    if cls not in ("Functional", "Model"):
        raise ConvertError(f"{where}: a {cls} model: only Sequential and Functional models "
                           f"can be read (a subclassed model has no architecture in the "
                           f"file)")
    for e in entries:
        c = e.get("config", {})
        name = e.get("name") or c.get("name")
        nodes = e.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise ConvertError(f'{where}: layer "{name}" ({_class(e)}) is called '
                               f'{len(nodes)} times (a shared layer): not supported')
        hist = []
        if nodes:
            _history(nodes[0], hist)
        for src, node, _ in hist:
            if node != 0:
                raise ConvertError(f'{where}: layer "{name}" reads call {node} of "{src}" '
                                   f'(a shared layer): not supported')
        layers.append(Layer(name, _class(e), c, [h[0] for h in hist]))

    def one(key):
        v = cfg.get(key)
        if isinstance(v, list) and v and isinstance(v[0], str):
            v = [v]
        if isinstance(v, dict):
            v = list(v.values())
        if not isinstance(v, list) or len(v) != 1:
            raise ConvertError(f"{where}: the model has {len(v) if isinstance(v, list) else 0} "
                               f"{key.split('_')[0]}s; exactly one is supported")
        return v[0][0]
    inp, out = one("input_layers"), one("output_layers")
    by_name = {L.name: L for L in layers}
    if inp not in by_name or by_name[inp].cls != "InputLayer":
        raise ConvertError(f"{where}: the input {inp!r} is not an InputLayer")
    return layers, inp, out, _input_shape(by_name[inp].config)


def _snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def _var_names(L):
    c = L.config
    if L.cls in ("BatchNormalization", "SyncBatchNormalization"):
        return ([n for n, flag in (("gamma", c.get("scale", True)), ("beta", c.get("center", True)))
                 if flag] + ["moving_mean", "moving_variance"])
    if "kernel_size" in c or "units" in c:
        return ["kernel"] + (["bias"] if c.get("use_bias", True) else [])
    return None


def read_keras(path):
    """(layers, input name, output name, Keras input shape) with each layer's weights."""
    where = path
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
                if "config.json" not in names or "model.weights.h5" not in names:
                    raise ConvertError(f"{where}: a zip file without config.json and "
                                       f"model.weights.h5: not a Keras 3 .keras file")
                top = json.loads(zf.read("config.json").decode("utf-8"))
                weights_blob = zf.read("model.weights.h5")
        except (zipfile.BadZipFile, KeyError, EOFError, ValueError) as e:
            raise ConvertError(f"{where}: not a readable .keras archive ({e})")
        layers, inp, out, shape = parse_config(top, where)
        try:
            with h5py.File(io.BytesIO(weights_blob), "r") as f:
                _keras3_weights(f, layers, where)
        except OSError as e:
            raise ConvertError(f"{where}: model.weights.h5 is not readable HDF5 ({e})")
        return layers, inp, out, shape
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ConvertError(f"{where}: not a readable HDF5 or .keras file ({e})")
    with f:
        if "model_config" not in f.attrs:
            if "layer_names" in f.attrs:
                raise ConvertError(f"{where}: a weights-only file (save_weights): it has no "
                                   f"architecture; save the whole model with model.save")
            raise ConvertError(f"{where}: no model_config attribute: not a Keras model file")
        try:
            top = json.loads(_text(f.attrs["model_config"]))
        except ValueError as e:
            raise ConvertError(f"{where}: model_config is not valid JSON ({e})")
        if "model_weights" not in f or not isinstance(f["model_weights"], h5py.Group):
            raise ConvertError(f"{where}: no group model_weights")
        layers, inp, out, shape = parse_config(top, where)
        g = f["model_weights"]
        stored = set(_attr_list(g, "layer_names")) or set(g.keys())
        for L in layers:
            if L.name not in stored or L.name not in g:
                continue
            lg = g[L.name]
            for wname in _attr_list(lg, "weight_names"):
                if wname not in lg:
                    raise ConvertError(f"{where}: {L.where}: weight {wname!r} is listed but "
                                       f"missing")
                short = wname.split("/")[-1].split(":")[0]
                L.weights[short] = np.asarray(lg[wname][()])
    return layers, inp, out, shape


def _keras3_weights(f, layers, where):
    """model.weights.h5 of Keras 3: layers/<snake_case class name>[_k]/vars/<i>."""
    counts = {}
    for L in layers:
        snake = _snake(L.cls)
        k = counts.get(snake)
        counts[snake] = 0 if k is None else k + 1
        key = snake if k is None else f"{snake}_{k + 1}"
        names = _var_names(L)
        if names is None:
            continue
        for prefix in ("layers", "_layer_checkpoint_dependencies"):
            p = f"{prefix}/{key}/vars"
            if p in f:
                g = f[p]
                if len(g) != len(names):
                    raise ConvertError(f"{where}: {L.where}: {len(g)} stored variables, "
                                       f"{len(names)} expected ({', '.join(names)})")
                for i, n in enumerate(names):
                    L.weights[n] = np.asarray(g[str(i)][()])
                break


# --------------------------------------------------------------------------------------
# Quantizers
# --------------------------------------------------------------------------------------
class KerasQuantizer:
    """A Larq quantizer from its serialized form (a name or a class_name/config dict)."""

    def __init__(self, spec, where, role):
        self.where, self.role = where, role
        params = {}
        if isinstance(spec, str):
            name = spec
        elif isinstance(spec, dict):
            name = spec.get("class_name", "")
            cfg = spec.get("config")
            if name == "function" and isinstance(cfg, str):
                name = cfg
            elif isinstance(cfg, dict):
                params = cfg
        else:
            raise ConvertError(f"{where}: cannot read the {role} {spec!r}")
        self.name = name.split(">")[-1]
        self.key = self.name.replace("_", "").lower()
        self.params = params

    def _refuse(self, why):
        raise ConvertError(f"{self.where}: {self.role} {self.name}: {why}")

    def _tern(self):
        t = self.params.get("threshold_value", 0.05)
        try:
            return cc.ternary_quantizer(t, True, f"{self.name}(threshold_value={t})")
        except ValueError:
            self._refuse(f"threshold_value {t} must be a number >= 0")

    def activation(self):
        """The quantizer of an input or activation (a cc.Quantizer)."""
        k = self.key
        if k in ("stesign", "approxsign", "swishsign"):
            return cc.sign_quantizer(self.name)
        if k == "stetern":
            if self.params.get("ternary_weight_networks"):
                self._refuse("the ternary-weight-networks threshold depends on each batch of "
                             "data: not representable")
            return self._tern()
        if k == "steheaviside":
            return cc.heaviside_quantizer(self.name)
        self._why_not()

    def kernel(self, w):
        """(integer weights of the same layout, per-output scale or None) for a kernel whose
        last axis is the output."""
        k = self.key
        if k in ("stesign", "approxsign", "swishsign"):
            return cc.quantize_weights(w, cc.sign_quantizer(), self.where), None
        if k == "magnitudeawaresign":
            alpha = np.mean(np.abs(w.astype(np.float64)), axis=tuple(range(w.ndim - 1)))
            return cc.quantize_weights(w, cc.sign_quantizer(), self.where), alpha
        if k == "stetern":
            q = self._tern()
            if self.params.get("ternary_weight_networks"):
                w32 = w.astype(np.float32)
                t = np.float32(np.float32(0.7) * np.sum(np.abs(w32), dtype=np.float32)) \
                    / np.float32(w32.size)
                q = cc.ternary_quantizer(float(t), True, f"{self.name}(twn)")
            return cc.quantize_weights(w, q, self.where), None
        if k == "steheaviside":
            return cc.quantize_weights(w, cc.heaviside_quantizer(), self.where), None
        self._why_not()

    def _why_not(self):
        k = self.key
        if k in ("dorefa", "dorefaquantizer"):
            self._refuse("a multi-level quantizer, not binary or ternary")
        if k in ("noop", "noopquantizer"):
            self._refuse("leaves the values as floats")
        if k == "magnitudeawaresign":
            self._refuse("its scale is a mean over each batch of data: representable only as "
                         "a kernel quantizer")
        self._refuse("not a quantizer this converter knows")


def _quantizer(cfg, key, where):
    spec = cfg.get(key)
    if spec in (None, "", "linear"):
        return None
    return KerasQuantizer(spec, where, key)


# --------------------------------------------------------------------------------------
# The layers
# --------------------------------------------------------------------------------------
def _pair(v, what, where):
    if isinstance(v, int):
        return [v, v]
    if isinstance(v, list) and len(v) == 2 and all(isinstance(e, int) for e in v):
        return list(v)
    raise ConvertError(f"{where}: {what} {v!r} is not an integer or two integers")


def _channels_last(cfg, where):
    df = cfg.get("data_format") or "channels_last"
    if df != "channels_last":
        raise ConvertError(f"{where}: data_format {df}: only channels_last is supported")


def _same_padding(size, k, s, where, what):
    """Keras padding='same': (before, after) along one axis; refused when asymmetric."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    before, after = total // 2, total - total // 2
    if before != after:
        raise ConvertError(f"{where}: padding='same' with {what} {k} and stride {s} on "
                           f"{size} pads {before} before and {after} after; the format pads "
                           f"both sides equally (use an odd kernel and stride 1, or "
                           f"padding='valid')")
    return before


class Converter:
    def __init__(self, path, layers, inp, out, shape, input_scale):
        self.path = path
        self.layers = {L.name: L for L in layers}
        self.order = layers
        self.inp, self.out = inp, out
        self.input_scale = 1.0 if input_scale is None else input_scale
        s = list(shape)[1:] if shape else []
        if len(s) == 3 and all(isinstance(v, int) for v in s):
            self.input_shape, self.input_rank = (s[2], s[0], s[1]), 4
        elif len(s) == 2 and all(isinstance(v, int) for v in s):
            self.input_shape, self.input_rank = (1, s[0], s[1]), 3
        else:
            raise ConvertError(f"{path}: input shape {shape}: only images [H, W, C] or "
                               f"[H, W] with known sizes are supported")

    def ancestors(self):
        """The layers the output depends on, every layer after its inputs."""
        order, state = [], {}
        stack = [(self.out, iter(()))]
        state[self.out] = "open"
        self._check(self.out)
        stack[-1] = (self.out, iter(self.layers[self.out].inputs))
        while stack:
            name, it = stack[-1]
            src = next(it, None)
            if src is None:
                stack.pop()
                state[name] = "done"
                order.append(name)
                continue
            if state.get(src) == "done":
                continue
            if state.get(src) == "open":
                raise ConvertError(f"{self.path}: the layer graph has a cycle at {src!r}")
            self._check(src)
            state[src] = "open"
            stack.append((src, iter(self.layers[src].inputs)))
        return order

    def _check(self, name):
        if name not in self.layers:
            raise ConvertError(f"{self.path}: the model config names a layer {name!r} that it "
                               f"does not define")

    def convert(self, kind):
        B = cc.Builder(kind, self.input_shape, self.input_scale)
        self.B = B
        tensors = {}
        for name in self.ancestors():
            L = self.layers[name]
            xs = [tensors[s] for s in L.inputs]
            if L.cls == "InputLayer":
                if name != self.inp:
                    raise ConvertError(f"{self.path}: {L.where}: a second input")
                tensors[name] = B.image()
                continue
            if not xs:
                raise ConvertError(f"{self.path}: {L.where}: has no input")
            try:
                tensors[name] = self.layer(L, xs, name == self.out)
            except ConvertError as e:
                msg = str(e)
                if not msg.startswith(L.where):
                    msg = f"{L.where}: {msg}"
                raise type(e)(f"{self.path}: {msg}")
        try:
            B.output(self.layers[self.out].where, tensors[self.out])
        except ConvertError as e:
            raise type(e)(f"{self.path}: {e}")
        return B

    def one(self, L, xs):
        if len(xs) != 1:
            raise ConvertError(f"takes {len(xs)} inputs, one expected")
        return xs[0]

    def activation(self, L, x, is_output):
        spec = L.config.get("activation")
        if spec in (None, "linear"):
            return x
        name = spec if isinstance(spec, str) else (spec.get("class_name") if isinstance(
            spec, dict) else None)
        if name in MONOTONE or (name == "function" and isinstance(spec, dict)
                                and spec.get("config") in MONOTONE):
            if is_output:
                return x        # keeps the argmax
            raise ConvertError(f"activation {name} before the last layer cannot be made exact")
        q = KerasQuantizer(spec, L.where, "activation")
        if q.key not in ("stesign", "approxsign", "swishsign", "stetern", "steheaviside",
                         "magnitudeawaresign", "dorefa", "dorefaquantizer", "noop",
                         "noopquantizer"):
            raise ConvertError(f"activation {q.name}: a float activation that cannot be made "
                               f"exact")
        return self.B.quantize(L.where, x, q.activation())

    def input_q(self, L, x):
        q = _quantizer(L.config, "input_quantizer", L.where)
        return x if q is None else self.B.quantize(L.where, x, q.activation())

    def weight(self, L, name, shape):
        if name not in L.weights:
            raise ConvertError(f"no stored weight {name!r}")
        w = L.weights[name]
        if shape is not None and tuple(w.shape) != tuple(shape):
            raise ConvertError(f"weight {name!r} has shape {list(w.shape)}, {list(shape)} "
                               f"expected")
        return w

    def kernel(self, L, shape):
        k = self.weight(L, "kernel", shape).astype(np.float32)
        q = _quantizer(L.config, "kernel_quantizer", L.where)
        if q is None:
            return cc.provable_weights(k, L.where, "kernel quantizer"), None
        return q.kernel(k)

    def layer(self, L, xs, is_output):
        B, c, cls, w = self.B, L.config, L.cls, L.where
        if cls in ("QuantConv2D", "Conv2D"):
            x = self.input_q(L, self.one(L, xs))
            _channels_last(c, w)
            if len(x.shape) != 3:
                raise ConvertError("needs an image-shaped input")
            if _pair(c.get("dilation_rate", 1), "dilation_rate", w) != [1, 1]:
                raise ConvertError("dilated convolution is not supported")
            if c.get("groups", 1) != 1:
                raise ConvertError("grouped convolution is not supported")
            kh, kw = _pair(c.get("kernel_size"), "kernel_size", w)
            sh, sw = _pair(c.get("strides", 1), "strides", w)
            filters = c.get("filters")
            wq, alpha = self.kernel(L, (kh, kw, x.shape[0], filters))
            bias = self.weight(L, "bias", (filters,)) if c.get("use_bias", True) else None
            pad = c.get("padding", "valid")
            if pad == "valid":
                ph = pw = 0
            elif pad == "same":
                ph = _same_padding(x.shape[1], kh, sh, w, "kernel")
                pw = _same_padding(x.shape[2], kw, sw, w, "kernel")
            else:
                raise ConvertError(f"padding {pad!r} is not supported")
            pv = c.get("pad_values", 0.0) if pad == "same" else 0.0
            if not isinstance(pv, (int, float)):
                raise ConvertError(f"pad_values {pv!r} is not one number")
            z = B.conv2d(w, x, wq.transpose(3, 2, 0, 1), (sh, sw), (ph, pw), pv, alpha, bias)
            return self.activation(L, z, is_output)
        if cls in ("QuantDense", "Dense"):
            x = self.input_q(L, self.one(L, xs))
            if len(x.shape) != 1:
                raise ConvertError(f"a Dense layer on an image-shaped input (shape "
                                   f"{list(x.shape)}): add a Flatten before it")
            units = c.get("units")
            wq, alpha = self.kernel(L, (x.shape[0], units))
            bias = self.weight(L, "bias", (units,)) if c.get("use_bias", True) else None
            z = B.dense(w, x, wq.T, alpha, bias)
            return self.activation(L, z, is_output)
        if cls in ("BatchNormalization", "SyncBatchNormalization"):
            x = self.one(L, xs)
            axis = c.get("axis", -1)
            axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
            rank = 4 if len(x.shape) == 3 else 2
            if axis not in (-1, rank - 1):
                raise ConvertError(f"normalizes axis {axis}, not the channels")
            n = x.shape[0]
            gamma = self.weight(L, "gamma", (n,)) if c.get("scale", True) else np.ones(n)
            beta = self.weight(L, "beta", (n,)) if c.get("center", True) else np.zeros(n)
            return B.batchnorm(w, x, gamma, beta, self.weight(L, "moving_mean", (n,)),
                               self.weight(L, "moving_variance", (n,)),
                               float(c.get("epsilon", 1e-3)))
        if cls in ("MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D"):
            x = self.one(L, xs)
            _channels_last(c, w)
            if len(x.shape) != 3:
                raise ConvertError("needs an image-shaped input")
            k = _pair(c.get("pool_size", 2), "pool_size", w)
            s = _pair(c.get("strides") or k, "strides", w)
            if c.get("padding", "valid") == "same":
                for d in (0, 1):
                    if _same_padding(x.shape[1 + d], k[d], s[d], w, "pool size") or \
                            (x.shape[1 + d] - k[d]) % s[d]:
                        raise ConvertError("padding='same' pads this input: use 'valid'")
            elif c.get("padding", "valid") != "valid":
                raise ConvertError(f"padding {c.get('padding')!r} is not supported")
            if cls.startswith("Max"):
                return B.maxpool(w, x, k, s)
            return B.avgpool(w, x, k, s)
        if cls in ("GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D",
                   "GlobalMaxPool2D"):
            x = self.one(L, xs)
            _channels_last(c, w)
            if len(x.shape) != 3:
                raise ConvertError("needs an image-shaped input")
            if "Max" in cls:
                return B.global_maxpool(w, x)
            return B.global_avgpool(w, x)
        if cls == "Flatten":
            x = self.one(L, xs)
            order = "chw" if c.get("data_format") == "channels_first" else "hwc"
            return B.flatten(w, x, order)
        if cls in ("Add", "Subtract", "Average"):
            if len(xs) < 2:
                raise ConvertError(f"{len(xs)} input")
            if cls == "Subtract":
                if len(xs) != 2:
                    raise ConvertError("Subtract takes two inputs")
                return B.add(w, xs, [1, -1])
            if cls == "Average":
                return B.add(w, xs, [cc.Fraction(1, len(xs))] * len(xs))
            return B.add(w, xs)
        if cls == "Concatenate":
            axis = c.get("axis", -1)
            rank = 4 if len(xs[0].shape) == 3 else 2
            if axis not in (-1, rank - 1):
                raise ConvertError(f"joins along axis {axis}, not the channels")
            return B.concat(w, xs)
        if cls == "Activation":
            return self.activation(L, self.one(L, xs), is_output)
        if cls == "Softmax":
            if not is_output:
                raise ConvertError("a softmax before the last layer cannot be made exact")
            return self.one(L, xs)
        if cls in QUANTIZER_LAYERS:
            q = KerasQuantizer({"class_name": cls, "config": c}, w, "quantizer")
            return B.quantize(w, self.one(L, xs), q.activation())
        if cls in IDENTITY_LAYERS:
            return self.one(L, xs)
        if cls == "Rescaling":
            x = self.one(L, xs)
            n = x.shape[0]
            scale = np.broadcast_to(np.asarray(c.get("scale", 1.0), np.float64), (n,))
            offset = np.broadcast_to(np.asarray(c.get("offset", 0.0), np.float64), (n,))
            return B.affine(w, x, cc.fracs(scale, "scale"), cc.fracs(offset, "offset"))
        if cls in ("Sequential", "Functional", "Model"):
            raise ConvertError("a nested model: not supported (flatten it into one model)")
        raise ConvertError("layer type not supported")


def larq_predictions(path, images, rank, scale):
    """Keras's own float predictions, where TensorFlow and Larq can be imported; else None."""
    try:
        import tensorflow as tf
        importlib.import_module("larq")     # registers the Larq layers and quantizers
    except ImportError:
        return None
    model = tf.keras.models.load_model(path, compile=False)
    x = images.astype(np.float32) / np.float32(scale)
    if rank == 4:
        x = x[..., None]
    return np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Convert a saved Keras/Larq binary or ternary network (model.save's .h5, "
                    "or a Keras 3 .keras file) to a cimgpu model file, exactly, without "
                    "TensorFlow. See docs/converting.md.",
        epilog="Exit status: 0 written; 2 refused or unreadable (one line, no file written); "
               "1 written, but Keras's float predictions agree less than --min-agreement.")
    ap.add_argument("model", help="the Keras file (.h5 from model.save, or .keras)")
    cc.add_common_args(ap)
    ap.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    def body():
        src = args.model
        layers, inp, out, shape = read_keras(src)
        conv = Converter(src, layers, inp, out, shape, args.input_scale)
        builder = cc.build(args.kind, conv.convert)
        version, layer_list = builder.finish()
        images, labels = cc.load_images(args, builder.input_shape)
        name = args.name or cc.default_name(args.out)
        root = cc.root_attributes(
            builder, version, name,
            f"converted from {os.path.basename(src)} by data/convert_larq.py "
            f"(input scale {conv.input_scale:g})", os.path.basename(src))
        model, pred = cc.write_checked(args.out, root, layer_list, images, labels)
        print(cc.summary(src, args.out, model, version, labels))
        status = 0
        if images is not None:
            theirs = larq_predictions(src, images, conv.input_rank, conv.input_scale)
            if theirs is None:
                print("agreement with Keras/Larq: not checked (tensorflow and larq cannot be "
                      "imported here)")
            else:
                status = cc.agreement("Keras/Larq", pred, theirs, args.min_agreement)
        return status

    return cc.run_cli(body, args.debug)


if __name__ == "__main__":
    sys.exit(main())

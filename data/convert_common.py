#!/usr/bin/env python3
"""What data/convert_larq.py and data/convert_torch.py share: the lowering of a trained
network's float operations to the exact integer layers of data/model_format.md, the test-set
measurement and the writing of the file.

A converter reads its framework's file and calls a `Builder` once per operation, in an order
where every operation's inputs come first: `image()`, `conv2d`, `dense`, `batchnorm`, `affine`,
`quantize`, `maxpool`, `avgpool`, `global_avgpool`, `global_maxpool`, `flatten`, `add`,
`concat`, and `output` for the class scores. The builder keeps, for every tensor of the
float network, the integer tensor that the model file computes and the exact per-channel
affine map between the two:

    float value v  =  a[c] * z + b[c]        (z: the integer tensor, c: its channel)

with a and b held as exact fractions of the float64 parameters (batch-norm's
s = sqrt(var + eps) is rounded to float64 once). Weight layers multiply a by their scale
alpha and fold their bias and the input's b into b; batch-norm, average pooling and the
input scaling change a and b and emit nothing; an activation quantizer turns (a, b) into a
`batchnorm_threshold` + `sign`/`ternary` pair whose integer thresholds select exactly the z
where the float quantizer gives +1, 0 or -1 (model_format.md §7, computed with exact
arithmetic); max pooling needs a >= 0; a residual add needs the branches' a to stand in an
exact small integer ratio, channel by channel (the `add` layer's integer scales). What
cannot be made exact raises ConvertError with one line that names the layer and why.

The model file is format_version 1 when the result is a chain of version-1 layers, else
format_version 2 (the layer graph: `inputs`, add, concat, sumpool2d, global_sumpool).
"""
import math
import os
import sys
from fractions import Fraction

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cimgpu_model import (DEFAULT_DATA_DIR, FAN_IN_LIMIT, THRESHOLD_LIMIT,  # noqa: E402
                          IntModel, ModelError, load_split, write_model)

ADD_SCALE_LIMIT = 1 << 15          # |scale| of an add input (format version 2)
MAX_INPUTS = 16                    # inputs of an add or concat
V2_TYPES = ("add", "concat", "sumpool2d", "global_sumpool")
ZERO = Fraction(0)
ONE = Fraction(1)


class ConvertError(Exception):
    """A network (or a file) that cannot be converted exactly: the message is one line."""


class NeedTernary(ConvertError):
    """Raised by a bnn Builder at the first ternary element (kind auto: build again as tnn)."""


def frac(x):
    """The exact value of a float (or int) as a Fraction; refuses NaN and infinities."""
    if isinstance(x, Fraction):
        return x
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("not finite")
    return Fraction(x)


def fracs(values, what):
    """A list of exact Fractions of an array's float64 values."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ConvertError(f"{what} holds NaN or infinite values")
    return [Fraction(float(v)) for v in arr]


def _floor(q):
    return q.numerator // q.denominator


def _ceil(q):
    return -((-q.numerator) // q.denominator)


# --------------------------------------------------------------------------------------
# Quantizers: q(v) of a float v, with the exact comparison operators of the framework
# --------------------------------------------------------------------------------------
class Quantizer:
    """q(v) = +1 where `v pos_op pos_t`, -1 where `v neg_op neg_t`, else 0 (neg None: never
    -1). A binary quantizer has neg = the complement of pos. `label` names it in messages."""

    def __init__(self, label, pos, neg, values):
        self.label = label
        self.pos = (pos[0], frac(pos[1]))
        self.neg = None if neg is None else (neg[0], frac(neg[1]))
        self.values = tuple(values)

    @property
    def ternary(self):
        return self.values != (-1, 1)

    @property
    def key(self):
        return (self.pos, self.neg)

    def of(self, v):
        """q of one exact value (a Fraction)."""
        op, t = self.pos
        if (v >= t) if op == ">=" else (v > t):
            return 1
        if self.neg is not None:
            op, t = self.neg
            if (v <= t) if op == "<=" else (v < t):
                return -1
        return 0

    def apply(self, x):
        """q of a float array, elementwise, as int8 (the comparisons in float64)."""
        x = np.asarray(x, dtype=np.float64)
        op, t = self.pos
        t = float(t)
        out = np.zeros(x.shape, dtype=np.int8)
        neg = np.zeros(x.shape, dtype=bool)
        if self.neg is not None:
            nop, nt = self.neg
            neg = (x <= float(nt)) if nop == "<=" else (x < float(nt))
        out[neg] = -1
        out[(x >= t) if op == ">=" else (x > t)] = 1
        return out


def sign_quantizer(label="sign"):
    """+1 where v >= 0, else -1 (sign(0) = +1: Larq's ste_sign, model_format.md's sign)."""
    return Quantizer(label, (">=", 0), ("<", 0), (-1, 1))


def ternary_quantizer(delta, inclusive, label):
    """+1 where v > delta, -1 where v < -delta, else 0 (inclusive: >= and <=, Larq's
    ste_tern for delta > 0). delta >= 0."""
    d = frac(delta)
    if d < 0:
        raise ValueError("negative threshold")
    if inclusive and d > 0:
        return Quantizer(label, (">=", d), ("<=", -d), (-1, 0, 1))
    return Quantizer(label, (">", d), ("<", -d), (-1, 0, 1))


def heaviside_quantizer(label="ste_heaviside"):
    """+1 where v > 0, else 0 (Larq's ste_heaviside; values {0, 1}: a tnn alphabet)."""
    return Quantizer(label, (">", 0), None, (0, 1))


def quantize_weights(w, q, where):
    """The integer weights of a float weight array under quantizer q (int8)."""
    w = np.asarray(w)
    if not np.all(np.isfinite(w)):
        raise ConvertError(f"{where}: weights hold NaN or infinite values")
    return q.apply(w)


def provable_weights(w, where, framework_hint):
    """Weights stored without a quantizer: accepted only when every value already is -1 or
    +1 (or 0); else the refusal of float weights."""
    w = np.asarray(w)
    if w.size and np.all(np.isin(w, (-1.0, 0.0, 1.0))):
        return w.astype(np.int8)
    raise ConvertError(f"{where}: float weights without a {framework_hint} cannot be made exact")


# --------------------------------------------------------------------------------------
# The integer graph and the float-to-integer maps of its tensors
# --------------------------------------------------------------------------------------
class T:
    """A tensor of the float network: `layer` (the model-file layer whose output holds its
    integer form z; -1 the image), `shape` (the file's: (C, H, W) or (N,)), `alphabet`
    (image, pre, act), `a`, `b` (per channel of a 3-D tensor, per element of a 1-D one, in
    the file's order; v = a*z + b exactly), `perm` (1-D only: the framework's element k is
    the file's element perm[k]; None = the same order) and `values` (an act tensor's
    possible integers)."""
    __slots__ = ("layer", "shape", "alphabet", "a", "b", "perm", "values", "lazy")

    def __init__(self, layer, shape, alphabet, a, b, perm=None, values=None, lazy=None):
        self.layer, self.shape, self.alphabet = layer, tuple(shape), alphabet
        self.a, self.b, self.perm, self.values = list(a), list(b), perm, values
        self.lazy = lazy        # (3-D source T, order): a flatten not emitted yet

    def channels(self):
        return self.shape[0]

    def with_affine(self, a, b):
        return T(self.layer, self.shape, self.alphabet, a, b, self.perm, self.values,
                 self.lazy)


def _uniform(values):
    return all(v == values[0] for v in values)


def _fmt(q):
    return f"{float(q):.6g}"


class Builder:
    """Lowers a float network to the layers of a cimgpu model (see the module docstring).
    kind: bnn or tnn. input_shape: [C, H, W]. input_scale: the network saw pixel/input_scale.
    Every method takes `where` (e.g. 'layer "conv2d_1" (QuantConv2D)') for its messages."""

    def __init__(self, kind, input_shape, input_scale):
        if kind not in ("bnn", "tnn"):
            raise ValueError(kind)
        self.kind = kind
        self.input_shape = tuple(int(v) for v in input_shape)
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise ConvertError(f"input shape {list(self.input_shape)} is not 3 positive "
                               f"integers [C, H, W]")
        try:
            s = frac(input_scale)
        except ValueError:
            s = ZERO
        if s <= 0:
            raise ConvertError(f"input scale {input_scale} must be a positive number")
        self.input_scale = s
        self.layers = []        # [type, attrs, datasets, inputs]
        self.users = {-1: 0}    # layer index -> number of layers that read its output
        self.memo = {}          # (tensor key, a, b, quantizer key) -> quantized T
        self.flat = {}          # (id of a 3-D T, order) -> its flatten layer
        self.keep = []          # the T's whose ids are keys
        self.v2_reasons = []

    # ---- helpers ---------------------------------------------------------------------
    @property
    def act_type(self):
        return "sign" if self.kind == "bnn" else "ternary"

    @property
    def weight_alphabet(self):
        return (-1, 1) if self.kind == "bnn" else (-1, 0, 1)

    def _emit(self, ltype, attrs, datasets, inputs):
        i = len(self.layers)
        for j in inputs:
            self.users[j] = self.users.get(j, 0) + 1
        self.users[i] = 0
        self.layers.append([ltype, attrs, datasets, list(inputs)])
        if ltype in V2_TYPES:
            self._v2(f"layer type {ltype}")
        return i

    def _in(self, x):
        """The layer that holds x's integers (emits a pending flatten)."""
        if x.layer is None:
            src, order = x.lazy
            key = (id(src), order)
            if key not in self.flat:
                self.flat[key] = self._emit("flatten", {}, {}, [self._in(src)])
                self.keep.append(src)
            x.layer = self.flat[key]
        return x.layer

    def _key(self, x):
        return x.layer if x.layer is not None else ("flat", id(x.lazy[0]), x.lazy[1])

    def _v2(self, reason):
        if reason not in self.v2_reasons:
            self.v2_reasons.append(reason)

    def _weights(self, w, where):
        w = np.asarray(w)
        if np.any(w == 0) and self.kind == "bnn":
            raise NeedTernary(f"{where}: weights with zeros")
        if not np.all(np.isin(w, self.weight_alphabet)):
            raise ConvertError(f"{where}: weights outside {list(self.weight_alphabet)}")
        return np.array(w, dtype=np.int8, order="C", copy=True)

    def _to_file_order(self, x, values):
        """Per-element values given in the framework's order of a 1-D tensor, in the file's."""
        if x.perm is None:
            return list(values)
        out = [None] * len(values)
        for k, p in enumerate(x.perm):
            out[p] = values[k]
        return out

    def _uniform_scale(self, x, where, what):
        if not _uniform(x.a):
            raise ConvertError(f"{where}: {what} has a different float scale per channel (a "
                               f"batch-norm or scale without an activation quantizer before "
                               f"it): the integer weights cannot reproduce it exactly")
        a = x.a[0]
        if a == 0:
            raise ConvertError(f"{where}: {what} is constant (a zero scale)")
        return a

    def _pad_integer(self, x, pad_value, a, where):
        """The integer that the file pads x's integer form with, for a float pad value."""
        try:
            pv = frac(pad_value)
        except ValueError:
            raise ConvertError(f"{where}: padding value {pad_value} is not finite")
        zs = {(pv - b) / a for b in x.b}
        z = zs.pop() if len(zs) == 1 else None
        if z is None or z.denominator != 1:
            raise ConvertError(f"{where}: the padding value {_fmt(pv)} is not one integer of "
                               f"the layer's integer input in every channel")
        z = int(z)
        if x.alphabet == "image":
            if not 0 <= z <= 255:
                raise ConvertError(f"{where}: the padding value {_fmt(pv)} is pixel {z}, "
                                   f"outside 0..255")
        elif x.alphabet == "act":
            if z not in self.weight_alphabet:
                if self.kind == "bnn" and z == 0:
                    raise ConvertError(
                        f"{where}: zero padding of a binary input is not representable in a "
                        f"bnn model (its inputs are -1 or +1): pad with +1 or -1 (Larq: "
                        f"pad_values=1.0), or convert with --kind tnn")
                raise ConvertError(f"{where}: padding value {z} is not one of the "
                                   f"activations {list(self.weight_alphabet)}")
        return z

    # ---- the operations --------------------------------------------------------------
    def image(self):
        c, h, w = self.input_shape
        a = ONE / self.input_scale
        return T(-1, (c, h, w), "image", [a] * c, [ZERO] * c)

    def affine(self, where, x, scale, shift):
        """v -> scale*v + shift per channel (3-D) or element (1-D, framework order); scale
        and shift: sequences of exact Fractions (or floats)."""
        n = x.channels() if len(x.shape) == 3 else x.shape[0]
        scale = [frac(s) for s in scale]
        shift = [frac(s) for s in shift]
        if len(scale) != n or len(shift) != n:
            raise ConvertError(f"{where}: {len(scale)} channels, the input has {n}")
        if len(x.shape) == 1:
            scale, shift = self._to_file_order(x, scale), self._to_file_order(x, shift)
        return x.with_affine([s * a for s, a in zip(scale, x.a)],
                             [s * b + t for s, b, t in zip(scale, x.b, shift)])

    def batchnorm(self, where, x, gamma, beta, mean, var, eps):
        """y = gamma*(v - mean)/sqrt(var + eps) + beta (float64 sqrt, exact otherwise)."""
        n = x.channels() if len(x.shape) == 3 else x.shape[0]
        arrays = {}
        for name, v in (("gamma", gamma), ("beta", beta), ("moving mean", mean),
                        ("moving variance", var)):
            v = np.asarray(v, dtype=np.float64).reshape(-1)
            if v.size != n:
                raise ConvertError(f"{where}: {name} has {v.size} values, the input has {n} "
                                   f"channels")
            if not np.all(np.isfinite(v)):
                raise ConvertError(f"{where}: {name} holds NaN or infinite values")
            arrays[name] = v
        s = np.sqrt(arrays["moving variance"] + float(eps))
        if not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ConvertError(f"{where}: variance + epsilon is not positive")
        scale, shift = [], []
        for g, be, m, sd in zip(arrays["gamma"], arrays["beta"], arrays["moving mean"], s):
            k = Fraction(float(g)) / Fraction(float(sd))
            scale.append(k)
            shift.append(Fraction(float(be)) - Fraction(float(m)) * k)
        return self.affine(where, x, scale, shift)

    def conv2d(self, where, x, weight, stride, padding, pad_value=0.0, alpha=None, bias=None):
        """weight: integers [O, C, kh, kw]; the float layer computes
        alpha[o] * sum(weight * xpad) + bias[o], xpad = x padded with pad_value."""
        if len(x.shape) != 3:
            raise ConvertError(f"{where}: needs a 3-D input, found a 1-D one")
        w = self._weights(weight, where)
        o, c, kh, kw = w.shape
        if c != x.channels():
            raise ConvertError(f"{where}: the kernel takes {c} input channels, the input has "
                               f"{x.channels()}")
        sh, sw = (int(v) for v in stride)
        ph, pw = (int(v) for v in padding)
        if min(sh, sw) < 1 or min(ph, pw) < 0 or ph >= kh or pw >= kw:
            raise ConvertError(f"{where}: needs stride >= 1 and 0 <= padding < kernel")
        if c * kh * kw > FAN_IN_LIMIT:
            raise ConvertError(f"{where}: fan-in {c * kh * kw} above 2^20")
        ho = (x.shape[1] + 2 * ph - kh) // sh + 1
        wo = (x.shape[2] + 2 * pw - kw) // sw + 1
        if ho < 1 or wo < 1:
            raise ConvertError(f"{where}: the kernel is larger than the padded input")
        if x.alphabet == "pre":
            self._v2("conv2d on a pre-activation")
        a = self._uniform_scale(x, where, "its input")
        pz = self._pad_integer(x, pad_value, a, where) if (ph or pw) else 0
        alpha = self._alpha(alpha, w, where)
        bias = [ZERO] * o if bias is None else fracs(bias, f"{where}: bias")
        if len(bias) != o:
            raise ConvertError(f"{where}: bias has {len(bias)} values, {o} expected")
        outs_b = list(bias)
        if any(x.b):
            wsum = w.astype(np.int64).sum(axis=(2, 3))          # [O, C]
            for oi in range(o):
                outs_b[oi] += alpha[oi] * sum(int(wsum[oi, ci]) * x.b[ci] for ci in range(c)
                                              if wsum[oi, ci])
        i = self._emit("conv2d", {"in_channels": c, "out_channels": o, "kernel": [kh, kw],
                                  "stride": [sh, sw], "padding": [ph, pw], "pad_value": pz},
                       {"weight": w}, [self._in(x)])
        return T(i, (o, ho, wo), "pre", [a * al for al in alpha], outs_b)

    def dense(self, where, x, weight, alpha=None, bias=None):
        """weight: integers [O, N], columns in the framework's order of the input."""
        if len(x.shape) != 1:
            raise ConvertError(f"{where}: needs a 1-D input (flatten first), found shape "
                               f"{list(x.shape)}")
        w = self._weights(weight, where)
        o, n = w.shape
        if n != x.shape[0]:
            raise ConvertError(f"{where}: the kernel takes {n} inputs, the input has "
                               f"{x.shape[0]}")
        if n > FAN_IN_LIMIT:
            raise ConvertError(f"{where}: fan-in {n} above 2^20")
        if x.alphabet == "pre":
            self._v2("dense on a pre-activation")
        a = self._uniform_scale(x, where, "its input")
        if x.perm is not None:
            wf = np.empty_like(w)
            wf[:, x.perm] = w
            w = wf
        alpha = self._alpha(alpha, w, where)
        bias = [ZERO] * o if bias is None else fracs(bias, f"{where}: bias")
        if len(bias) != o:
            raise ConvertError(f"{where}: bias has {len(bias)} values, {o} expected")
        outs_b = list(bias)
        nz = [k for k in range(n) if x.b[k] != 0]
        if nz:
            for oi in range(o):
                outs_b[oi] += alpha[oi] * sum(int(w[oi, k]) * x.b[k] for k in nz)
        i = self._emit("dense", {"in_features": n, "out_features": o}, {"weight": w},
                       [self._in(x)])
        return T(i, (o,), "pre", [a * al for al in alpha], outs_b)

    def _alpha(self, alpha, w, where):
        """The per-output scales, made >= 0: an output with a negative scale gets its weights
        negated (model_format.md §7). w (int8 [O, ...]) is changed in place."""
        o = w.shape[0]
        if alpha is None:
            return [ONE] * o
        al = fracs(alpha, f"{where}: weight scale")
        if len(al) == 1:
            al = al * o
        if len(al) != o:
            raise ConvertError(f"{where}: the weight scale has {len(al)} values, {o} expected")
        for k in range(o):
            if al[k] < 0:
                al[k] = -al[k]
                w[k] = -w[k]
        return al

    def quantize(self, where, x, q):
        """The activation quantizer q applied to x."""
        if q.ternary and self.kind == "bnn":
            raise NeedTernary(f"{where}: {q.label}")
        key = (self._key(x), tuple(x.a), tuple(x.b), q.key)
        if key in self.memo:
            return self.memo[key]
        if x.layer is None:
            # quantize(flatten(v)) = flatten(quantize(v)): per channel, before the flatten
            src, order = x.lazy
            hw = src.shape[1] * src.shape[2]
            per = range(src.shape[0])
            if all(_uniform(x.a[c * hw:(c + 1) * hw]) and _uniform(x.b[c * hw:(c + 1) * hw])
                   for c in per):
                q3 = self.quantize(where, src.with_affine([x.a[c * hw] for c in per],
                                                          [x.b[c * hw] for c in per]), q)
                out = self.flatten(where, q3, order)
                self.memo[key] = out
                self.keep.append(x)
                return out
        if x.alphabet == "image":
            raise ConvertError(f"{where}: the quantizer {q.label} acts on the raw input image "
                               f"(no weight layer before it): not supported")
        if x.alphabet == "act":
            # already integers: only a quantizer that leaves every value unchanged is exact
            for c in range(len(x.a)):
                for v in x.values:
                    if q.of(x.a[c] * v + x.b[c]) != v:
                        raise ConvertError(
                            f"{where}: the quantizer {q.label} changes the activation value "
                            f"{v} (channel {c}); only a quantizer that keeps an activation "
                            f"as it is can follow one")
            out = x.with_affine([ONE] * len(x.a), [ZERO] * len(x.a))
        else:
            lo, hi, flip = self._thresholds(q, x.a, x.b)
            i = self._emit("batchnorm_threshold", {"channels": len(x.a)},
                           {"threshold_lo": lo, "threshold_hi": hi, "flip": flip},
                           [self._in(x)])
            j = self._emit(self.act_type, {}, {}, [i])
            out = T(j, x.shape, "act", [ONE] * len(x.a), [ZERO] * len(x.a), x.perm, q.values)
        self.memo[key] = out
        self.keep.append(x)
        return out

    def _thresholds(self, q, a_list, b_list):
        """Integer thresholds (lo, hi, flip) of batchnorm_threshold + the activation for
        q(a*z + b), z an integer: model_format.md's general definition, exactly."""
        L = THRESHOLD_LIMIT
        n = len(a_list)
        lo = np.zeros(n, np.int64)
        hi = np.zeros(n, np.int64)
        flip = np.ones(n, np.int64)
        bnn = self.kind == "bnn"
        pop, pt = q.pos
        for c in range(n):
            a, b = a_list[c], b_list[c]
            if a == 0:                      # constant channel: q(b)
                v = q.of(b)
                if bnn:
                    lo[c] = hi[c] = -L if v > 0 else L
                else:
                    lo[c], hi[c] = {1: (-L + 1, -L), -1: (L, L - 1), 0: (-L, L)}[v]
                continue
            r = (pt - b) / a
            if a > 0:                       # +1 iff z >= zp
                zp = _ceil(r) if pop == ">=" else _floor(r) + 1
                if q.neg is None:
                    zn = None
                else:                       # -1 iff z <= zn
                    nop, nt = q.neg
                    rn = (nt - b) / a
                    zn = _floor(rn) if nop == "<=" else _ceil(rn) - 1
                if bnn:
                    lo[c] = hi[c] = zp
                else:
                    hi[c] = zp - 1
                    lo[c] = -L if zn is None else zn + 1
            else:                           # +1 iff z <= zp
                flip[c] = -1
                zp = _floor(r) if pop == ">=" else _ceil(r) - 1
                if q.neg is None:
                    zn = None
                else:                       # -1 iff z >= zn
                    nop, nt = q.neg
                    rn = (nt - b) / a
                    zn = _ceil(rn) if nop == "<=" else _floor(rn) + 1
                if bnn:
                    lo[c] = hi[c] = zp
                else:
                    lo[c] = zp + 1
                    hi[c] = L if zn is None else zn - 1
        lo = np.clip(lo, -L, L)
        hi = np.clip(hi, -L, L)
        if not bnn:
            lo = np.minimum(lo, hi + 1)
        return lo.astype(np.int32), hi.astype(np.int32), flip.astype(np.int8)

    def maxpool(self, where, x, kernel, stride):
        if len(x.shape) != 3:
            raise ConvertError(f"{where}: needs a 3-D input")
        neg = [c for c, a in enumerate(x.a) if a < 0]
        if neg:
            raise ConvertError(f"{where}: max pooling of a channel with a negative float scale "
                               f"(channel {neg[0]}, e.g. a batch-norm with gamma < 0 before "
                               f"it) is a min of the integers: not representable")
        kh, kw = (int(v) for v in kernel)
        sh, sw = (int(v) for v in stride)
        ho, wo = self._window(x, kh, kw, sh, sw, where)
        i = self._emit("maxpool2d", {"kernel": [kh, kw], "stride": [sh, sw]}, {},
                       [self._in(x)])
        return T(i, (x.shape[0], ho, wo), x.alphabet, x.a, x.b, None, x.values)

    def _window(self, x, kh, kw, sh, sw, where):
        if min(kh, kw, sh, sw) < 1:
            raise ConvertError(f"{where}: kernel and stride must be >= 1")
        ho, wo = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
        if ho < 1 or wo < 1:
            raise ConvertError(f"{where}: the window is larger than the input")
        return ho, wo

    def avgpool(self, where, x, kernel, stride):
        """Average pooling without padding: sumpool2d, its 1/(kh*kw) folded into a."""
        if len(x.shape) != 3:
            raise ConvertError(f"{where}: needs a 3-D input")
        kh, kw = (int(v) for v in kernel)
        sh, sw = (int(v) for v in stride)
        ho, wo = self._window(x, kh, kw, sh, sw, where)
        i = self._emit("sumpool2d", {"kernel": [kh, kw], "stride": [sh, sw]}, {},
                       [self._in(x)])
        n = kh * kw
        return T(i, (x.shape[0], ho, wo), "pre", [a / n for a in x.a], x.b)

    def global_avgpool(self, where, x):
        if len(x.shape) != 3:
            raise ConvertError(f"{where}: needs a 3-D input")
        i = self._emit("global_sumpool", {}, {}, [self._in(x)])
        n = x.shape[1] * x.shape[2]
        return T(i, (x.shape[0],), "pre", [a / n for a in x.a], x.b)

    def global_maxpool(self, where, x):
        if len(x.shape) != 3:
            raise ConvertError(f"{where}: needs a 3-D input")
        y = self.maxpool(where, x, x.shape[1:], x.shape[1:])
        return self.flatten(where, y, "chw")

    def flatten(self, where, x, order):
        """order: the framework's element order, 'chw' (PyTorch) or 'hwc' (Keras, NHWC)."""
        if len(x.shape) == 1:
            return x
        c, h, w = x.shape
        perm = None
        if order == "hwc" and c > 1 and h * w > 1:
            hh, ww, cc = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
            perm = (cc * h * w + hh * w + ww).reshape(-1)     # Keras index (h, w, c) -> file
        hw = h * w
        a = [x.a[k // hw] for k in range(c * hw)]
        b = [x.b[k // hw] for k in range(c * hw)]
        self.keep.append(x)
        return T(None, (c * hw,), x.alphabet, a, b, perm, x.values, (x, order))

    def add(self, where, xs, coefs=None):
        """sum_j coefs[j] * x_j (coefs: exact numbers, default all 1) as an `add` layer with
        integer scales; the branches' float scales must stand in an exact integer ratio."""
        coefs = [ONE] * len(xs) if coefs is None else [frac(k) for k in coefs]
        shape = xs[0].shape
        for x in xs:
            if x.shape != shape:
                raise ConvertError(f"{where}: inputs of different shapes "
                                   f"{[list(t.shape) for t in xs]}")
            if len(shape) == 1 and not _same_perm(x.perm, xs[0].perm):
                raise ConvertError(f"{where}: inputs flattened in different element orders")
        n = len(xs[0].a)
        merged = {}                 # layer -> [a, b, T] (one layer read once)
        for x, k in zip(xs, coefs):
            a = [k * v for v in x.a]
            b = [k * v for v in x.b]
            key = self._key(x)
            if key in merged:
                m = merged[key]
                m[0] = [p + q for p, q in zip(m[0], a)]
                m[1] = [p + q for p, q in zip(m[1], b)]
            else:
                merged[key] = [a, b, x]
        b_out = [ZERO] * n
        branches = []
        for layer, (a, b, x) in merged.items():
            b_out = [p + q for p, q in zip(b_out, b)]
            if any(a):
                branches.append((a, x))
        if not branches:
            return xs[0].with_affine([ZERO] * n, b_out)
        if len(branches) == 1:
            return branches[0][1].with_affine(branches[0][0], b_out)
        if len(branches) > MAX_INPUTS:
            raise ConvertError(f"{where}: {len(branches)} inputs, at most {MAX_INPUTS}")
        for a, x in branches:
            if x.alphabet not in ("image", "pre", "act"):
                raise ConvertError(f"{where}: an input of alphabet {x.alphabet}")
        ref = branches[0][0]
        ratios = []
        for a, x in branches:
            r = None
            for c in range(n):
                if ref[c] == 0:
                    if a[c] != 0:
                        raise ConvertError(f"{where}: channel {c} is zero in the first input "
                                           f"but not in another: no integer ratio")
                    continue
                rc = a[c] / ref[c]
                if r is None:
                    r = rc
                elif rc != r:
                    raise ConvertError(
                        f"{where}: the inputs' float scales differ in ratio between channels "
                        f"(e.g. {_fmt(r)} and {_fmt(rc)}): an add of integer tensors with one "
                        f"integer scale per input cannot reproduce it (batch-normed "
                        f"branches?)")
            ratios.append(r)
        den = 1
        for r in ratios:
            den = den * r.denominator // math.gcd(den, r.denominator)
        scales = [int(r * den) for r in ratios]
        g = 0
        for s in scales:
            g = math.gcd(g, abs(s))
        scales = [s // g for s in scales]
        if max(abs(s) for s in scales) > ADD_SCALE_LIMIT:
            raise ConvertError(f"{where}: the inputs' float scales stand in the ratio "
                               f"{':'.join(str(s) for s in scales)}, beyond the add layer's "
                               f"integer scales (|scale| <= 2^15)")
        a_out = [v / scales[0] for v in ref]    # a_j = scales[j] * a_out in every channel
        attrs = {"inputs": [self._in(x) for _, x in branches]}
        if any(s != 1 for s in scales):
            attrs["scale"] = scales
        i = self._emit("add", attrs, {}, attrs["inputs"])
        return T(i, shape, "pre", a_out, b_out, xs[0].perm if len(shape) == 1 else None)

    def concat(self, where, xs):
        """Channel concatenation (3-D: equal H, W) or 1-D concatenation, in input order."""
        if len(xs) > MAX_INPUTS:
            raise ConvertError(f"{where}: {len(xs)} inputs, at most {MAX_INPUTS}")
        if len(xs) == 1:
            return xs[0]
        rank = len(xs[0].shape)
        if any(len(x.shape) != rank for x in xs) or (
                rank == 3 and any(x.shape[1:] != xs[0].shape[1:] for x in xs)):
            raise ConvertError(f"{where}: inputs of shapes {[list(x.shape) for x in xs]} "
                               f"cannot be joined along the channels")
        alph = {x.alphabet for x in xs}
        if len(alph) != 1:
            raise ConvertError(f"{where}: joins tensors of different kinds "
                               f"({', '.join(sorted(alph))}): concat needs all activations or "
                               f"all pre-activations")
        layers = [self._in(x) for x in xs]
        if len(set(layers)) != len(layers):
            raise ConvertError(f"{where}: the same tensor twice")
        a = [v for x in xs for v in x.a]
        b = [v for x in xs for v in x.b]
        perm = None
        if rank == 1 and any(x.perm is not None for x in xs):
            parts, off = [], 0
            for x in xs:
                p = np.arange(x.shape[0]) if x.perm is None else x.perm
                parts.append(p + off)
                off += x.shape[0]
            perm = np.concatenate(parts)
        values = None
        if xs[0].alphabet == "act":
            values = tuple(sorted({v for x in xs for v in x.values}))
        shape = ((sum(x.shape[0] for x in xs),) + xs[0].shape[1:])
        i = self._emit("concat", {"inputs": layers}, {}, layers)
        return T(i, shape, xs[0].alphabet, a, b, perm, values)

    def output(self, where, x):
        """x: the class scores. Their argmax is the integer scores' argmax only when every
        class has the same positive scale and the same offset."""
        if len(x.shape) != 1:
            raise ConvertError(f"{where}: the output must be 1-D class scores, found shape "
                               f"{list(x.shape)}")
        if x.alphabet == "pre":
            self._in(x)
        if x.alphabet != "pre" or x.layer < 0:
            raise ConvertError(f"{where}: the output is not the integer scores of a layer "
                               f"(it is {x.alphabet})")
        if x.perm is not None and not np.array_equal(x.perm, np.arange(len(x.perm))):
            raise ConvertError(f"{where}: the class scores are a flattened tensor in another "
                               f"order")
        if not _uniform(x.a) or x.a[0] <= 0:
            raise ConvertError(f"{where}: the classes' scores have different or negative float "
                               f"scales (e.g. a per-class weight scale, or a batch-norm on the "
                               f"scores): the argmax of the integer scores would differ")
        if not _uniform(x.b):
            raise ConvertError(f"{where}: the classes' scores have different offsets (a bias "
                               f"or batch-norm shift on the last layer): the argmax of the "
                               f"integer scores would differ")
        if x.layer != len(self.layers) - 1:
            raise ConvertError(f"{where}: the class scores are not the last layer's output")
        if x.shape[0] < 2:
            raise ConvertError(f"{where}: {x.shape[0]} class score, at least 2 needed")
        self.num_classes = x.shape[0]
        return self.num_classes

    def finish(self):
        """(format_version, layer_list for write_model) after output()."""
        last = len(self.layers) - 1
        for j in range(-1, last):
            if self.users.get(j, 0) == 0:
                raise ConvertError(f"internal: layer {j} of the converted model is not used")
        chain = all(L[3] == [i - 1] for i, L in enumerate(self.layers))
        if not chain:
            self._v2("a layer graph")
        if self.layers[-1][0] != "dense":
            self._v2(f"the last layer is {self.layers[-1][0]}")
        version = 2 if self.v2_reasons else 1
        out = []
        for i, (ltype, attrs, datasets, inputs) in enumerate(self.layers):
            attrs = dict(attrs)
            if version == 2 and inputs != [i - 1]:
                attrs["inputs"] = inputs
            else:
                attrs.pop("inputs", None)
            out.append((ltype, attrs, datasets))
        return version, out


def _same_perm(p, q):
    if p is None and q is None:
        return True
    n = len(p) if p is not None else len(q)
    p = np.arange(n) if p is None else p
    q = np.arange(n) if q is None else q
    return np.array_equal(p, q)


def build(kind, convert):
    """convert(kind) -> the Builder after its output(). kind 'auto': a bnn first, a tnn when
    the network has a ternary element (NeedTernary)."""
    if kind != "auto":
        try:
            return convert(kind)
        except NeedTernary as e:
            raise ConvertError(f"{e}: a ternary element in a bnn model (--kind tnn or auto)")
    try:
        return convert("bnn")
    except NeedTernary:
        return convert("tnn")


# --------------------------------------------------------------------------------------
# Command-line parts: the test-set measurement, writing, the summary
# --------------------------------------------------------------------------------------
def add_common_args(ap):
    ap.add_argument("-o", "--out", required=True, help="the cimgpu model file to write")
    ap.add_argument("--input-scale", type=float, default=None,
                    help="the network saw pixel/SCALE (e.g. 255 for inputs in [0, 1]); "
                         "default 1: raw pixels 0..255")
    ap.add_argument("--kind", choices=("auto", "bnn", "tnn"), default="auto",
                    help="bnn or tnn model; auto (default): tnn when the network has a "
                         "ternary quantizer or zero weights, else bnn")
    ap.add_argument("--name", help="the model's name (default: the output file's stem)")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR,
                    help="the IDX dataset folder (default: %(default)s)")
    ap.add_argument("--split", choices=("test", "train"), default="test",
                    help="which split measures the digital accuracy (default: test)")
    ap.add_argument("--images", type=int, default=None,
                    help="measure on the first N images only (default: all)")
    ap.add_argument("--no-test", action="store_true",
                    help="write the model without measuring it (no digital_test_* attributes)")
    ap.add_argument("--min-agreement", type=float, default=0.99,
                    help="exit status 1 when fewer of the framework's float predictions "
                         "agree with the integer model's (default: %(default)s)")


def load_images(args, input_shape):
    """(images uint8 [N, H, W] or None, labels)."""
    if args.no_test:
        return None, None
    try:
        images, labels = load_split(args.data, args.split)
    except (OSError, ValueError) as e:
        raise ConvertError(f"cannot read the {args.split} images from {args.data} ({e}); "
                           f"--data DIR, or --no-test to convert without measuring")
    if args.images is not None:
        if args.images < 1:
            raise ConvertError("--images must be >= 1")
        images, labels = images[:args.images], labels[:args.images]
    c, h, w = input_shape
    if (c, h, w) != (1,) + tuple(images.shape[1:]):
        raise ConvertError(f"the model takes [C, H, W] = {[c, h, w]}, the {args.split} images "
                           f"of {args.data} are {images.shape[1]}x{images.shape[2]} with one "
                           f"channel (--no-test converts without measuring)")
    return images, labels


def write_checked(out, root, layer_list, images, labels):
    """Writes the model, validates it with IntModel and, with images, measures it and writes
    the digital_test_* attributes. Returns (IntModel, predictions or None). Nothing named
    `out` exists unless everything succeeded."""
    tmp = out + ".check"
    try:
        write_model(tmp, root, layer_list)
        try:
            model = IntModel(tmp)
        except ModelError as e:
            raise ConvertError(f"the converted model does not validate: {e}")
        pred = None
        if images is not None:
            pred = model.predict(images)
            correct = int(np.sum(pred == labels))
            root = dict(root, digital_test_accuracy=correct / len(labels),
                        digital_test_correct=correct, digital_test_images=len(labels))
        write_model(out, root, layer_list)
        model.path = out
        model.root.update({k: v for k, v in root.items() if k.startswith("digital_test")})
        return model, pred
    finally:
        for p in (tmp, tmp + ".partial", out + ".partial"):
            if os.path.exists(p):
                os.remove(p)


def root_attributes(builder, version, name, description, source):
    return {"format": "cimgpu-model", "format_version": version, "name": name,
            "kind": builder.kind, "input_shape": list(builder.input_shape),
            "input_preprocessing": "raw_uint8", "num_classes": builder.num_classes,
            "num_layers": len(builder.layers), "description": description,
            "converted_from": source}


def default_name(out):
    stem = os.path.splitext(os.path.basename(out))[0]
    return stem or "converted"


def summary(src, out, model, version, labels):
    counts = {}
    for L in model.layers:
        counts[L["type"]] = counts.get(L["type"], 0) + 1
    layers = ", ".join(f"{t} {n}" for t, n in counts.items())
    text = (f"{src} -> {out}: {model.kind} model, format_version {version}, "
            f"{len(model.layers)} layers ({layers}), {model.params} weights, {model.macs} "
            f"MACs/image")
    if labels is not None:
        c = model.root["digital_test_correct"]
        text += f"; digital accuracy {c / len(labels):.4f} ({c}/{len(labels)})"
    return text


def agreement(label, ours, theirs, min_agreement):
    """Prints how many predictions agree; returns the exit status (0, or 1 when below)."""
    same = int(np.sum(ours == theirs))
    n = len(ours)
    print(f"agreement with {label}: {same}/{n} predictions equal")
    if same < min_agreement * n:
        diff = np.flatnonzero(ours != theirs)[:10]
        print(f"error: agreement {same / n:.4f} below --min-agreement {min_agreement} "
              f"(first differing images: {', '.join(str(int(k)) for k in diff)})",
              file=sys.stderr)
        return 1
    return 0


def run_cli(main_body, debug=False):
    """Runs main_body() -> exit status; a ConvertError or OSError becomes one line on stderr
    and exit status 2 (no traceback)."""
    try:
        return main_body()
    except (ConvertError, OSError, ModelError) as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2

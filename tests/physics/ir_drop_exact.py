#!/usr/bin/env python3
"""ir_drop_exact.py -- `cimgpu mvm` with bit-line IR drop against the exact answer.

The exact answer is computed here independently of cimgpu's tables: the
physical rows of every mapping as docs/physics/ir_drop.md lays them out, the
wire ladder of every physical column in exact rational arithmetic
(fractions.Fraction), the ADC in exact arithmetic, then the reference
simulator's truncation chain for the ideal ADC. The cases are noise-free and
generated from a fixed seed: all eleven mappings, 8 to 64 physical rows, one
and two tiles, w_res 0.5 / 1 / 3 ohm, V_read -0.2 / -0.4 V, HRS/LRS 5/30 and
0.5/4 uA, the ideal ADC and 3- and 6-bit ADCs.

cimgpu's ladder is fixed point (each step rounded down to 2^-24 nA), so a
result may differ from the exact one only where an exact value lies within
that error of a decision point (an integer at a truncation point, a level
boundary of a finite ADC). Such outputs are counted and reported, never
silently passed: the test fails on any other difference, and also if more
than 1 % of the outputs are that close.

Usage: ir_drop_exact.py CIMGPU_BINARY [SCRATCH_DIR]
"""
import math
import os
import random
import subprocess
import sys
import tempfile
from fractions import Fraction as Fr

FINE = 1 << 24
# the fixed-point error bound, in nA, of one column over at most 64 rows
# (less than one fine unit per row), doubled for differential columns
CLOSE_NA = Fr(2 * 64 + 2, FINE)

MAPPINGS = ["BNN_I", "BNN_II", "BNN_III", "BNN_IV", "BNN_V", "BNN_VI",
            "TNN_I", "TNN_II", "TNN_III", "TNN_IV", "TNN_V"]
SIGNED = {"BNN_I", "BNN_II", "BNN_VI", "TNN_I", "TNN_II", "TNN_III"}
TWO_ROWS = {"BNN_V", "BNN_VI", "TNN_I"}
BIT_COLUMNS = {"TNN_IV", "TNN_V"}


def trunc(v):
    """Truncation toward zero of a Fraction."""
    return math.trunc(v)


def ladder(row_currents, n_rows, iw):
    """Exact column current: row_currents[i] is the current of physical row i
    (0 when undriven or absent); rows past the list still add a segment."""
    u = Fr(0)
    for i in range(n_rows):
        s = u + (row_currents[i] if i < len(row_currents) else 0)
        u = s * iw / (s + iw) if s else Fr(0)
    return u


def round_half_away(v):
    f = math.floor(abs(v) + Fr(1, 2))
    return f if v >= 0 else -f


class Adc:
    """A(I, k, o) of the semantics: the ideal ADC returns the exact value."""

    def __init__(self, kind, bits, n_rows, hrs, lrs):
        self.kind, self.delta = kind, lrs - hrs
        if kind == "POS_RANGE_ONLY_ADC":
            self.lo, self.hi, self.steps = Fr(0), Fr(n_rows * lrs), 2 ** bits - 1
        elif kind == "SYM_RANGE_ADC":
            self.lo, self.hi = Fr(-n_rows * self.delta), Fr(n_rows * self.delta)
            self.steps = 2 ** bits - 2
        self.close = False  # set when a finite conversion was near a level boundary

    def __call__(self, current, k, offset):
        j = current + offset
        if self.kind == "INF_ADC":
            return j * k / self.delta
        jc = min(max(j, self.lo), self.hi)
        h = (self.hi - self.lo) / self.steps
        t = (jc - self.lo) / h
        if abs(t - math.floor(t) - Fr(1, 2)) * h <= CLOSE_NA:
            self.close = True
        jq = self.lo + h * round_half_away(t)
        return round_half_away(jq * k / self.delta)


def tile_result(mapping, w, x, n_rows, hrs, lrs, iw, adc):
    """Exact result of one tile: w the tile's weights of one output, x the
    tile's inputs. Returns (result, close): close when an exact value at a
    truncation point lies within the fixed-point error of an integer."""
    n = len(x)
    S = sum(x)
    sumw = sum(w)
    st = lambda bit: lrs if bit else hrs  # noqa: E731
    dp = [1 if v == 1 else 0 for v in x]
    dm = [1 if v == -1 else 0 for v in x]
    L = lambda cells: ladder(cells, n_rows, iw)  # noqa: E731
    close = [False]
    inf = adc.kind == "INF_ADC"

    def t(v, scale):
        """A truncation point of the chain; scale converts nA into its unit.
        Exact integers count as close (the fixed point may land just below)."""
        if not inf:
            return v
        if v == round(v) or abs(v - round(v)) <= CLOSE_NA * scale * 4:
            close[0] = close[0] or v != 0
        return trunc(v)

    d = Fr(lrs - hrs)
    if mapping in ("BNN_I", "BNN_II"):
        P = [st(v == 1) for v in w]
        Q = [st(v == -1) for v in w]
        dr = dp if mapping == "BNN_I" else dm
        cur = L([P[i] * dr[i] for i in range(n)]) - L([Q[i] * dr[i] for i in range(n)])
        if mapping == "BNN_II":
            cur = -cur
        a = adc(cur, 2, 0)
        r = t(a - sumw, 2 / d) if mapping == "BNN_I" else t(a + sumw, 2 / d)
    elif mapping in ("BNN_III", "BNN_IV"):
        P = [st(v == (1 if mapping == "BNN_III" else -1)) for v in w]
        ip = L([P[i] * dp[i] for i in range(n)])
        im = L([P[i] * dm[i] for i in range(n)])
        ap, am = adc(ip, 2, -S * hrs), adc(im, 2, 0)
        r = t(ap - am - S, 2 / d) if mapping == "BNN_III" else t(am - ap + S, 2 / d)
    elif mapping == "BNN_V":
        rows = []
        for i in range(n):
            rows += [st(w[i] == 1) * dp[i], st(w[i] == -1) * dm[i]]
        r = t(adc(L(rows), 2, -n * hrs) - n, 2 / d)
    elif mapping in ("BNN_VI", "TNN_I"):
        a_rows, b_rows = [], []
        for i in range(n):
            p, q = st(w[i] == 1), st(w[i] == -1)
            a_rows += [p * dp[i], q * dm[i]]
            b_rows += [q * dp[i], p * dm[i]]
        r = t(adc(L(a_rows) - L(b_rows), 1, 0), 1 / d)
    elif mapping in ("TNN_II", "TNN_III"):
        P = [st(v == 1) for v in w]
        Q = [st(v == -1) for v in w]
        if mapping == "TNN_II":
            d0, d1 = [1 if v != 0 else 0 for v in x], dm
        else:
            d0, d1 = [1 if v == 0 else 0 for v in x], dp
        i0 = L([P[i] * d0[i] for i in range(n)]) - L([Q[i] * d0[i] for i in range(n)])
        i1 = L([P[i] * d1[i] for i in range(n)]) - L([Q[i] * d1[i] for i in range(n)])
        a0, a1 = adc(i0, 1, 0), adc(i1, 2, 0)
        r = t(a0, 1 / d)
        if mapping == "TNN_II":
            r = t(r - a1, 2 / d)
        else:
            r = t(r + a1, 2 / d) - sumw
    elif mapping == "TNN_IV":
        P = [st(v in (-1, 1)) for v in w]
        Q = [st(v == -1) for v in w]
        a = L([P[i] * dp[i] for i in range(n)])
        b = L([P[i] * dm[i] for i in range(n)])
        e = L([Q[i] * dp[i] for i in range(n)])
        f = L([Q[i] * dm[i] for i in range(n)])
        r = t(adc(a, 1, Fr(S * hrs, 2)) - adc(b, 1, -Fr(S * hrs, 2)) - adc(e, 2, 0) +
              adc(f, 2, 0), 2 / d)
    elif mapping == "TNN_V":
        P = [st(v == 0) for v in w]
        Q = [st(v == 1) for v in w]
        a = L([P[i] * dp[i] for i in range(n)])
        b = L([P[i] * dm[i] for i in range(n)])
        e = L([Q[i] * dp[i] for i in range(n)])
        f = L([Q[i] * dm[i] for i in range(n)])
        r = t(adc(a, 1, 0) - adc(b, 1, 3 * S * hrs) + adc(e, 2, 0) - adc(f, 2, 0), 2 / d) - S
    else:
        raise ValueError(mapping)
    return int(r), close[0]


def exact_mvm(mapping, W, X, M, N, hrs, lrs, iw, adc_kind, bits):
    """Every output of W x for every input vector, tiled as cimgpu tiles
    with parasitics on, and how many outputs were close to a decision."""
    tile_n = N // 2 if mapping in TWO_ROWS else N
    tile_m = M // 2 if mapping in BIT_COLUMNS else M
    rows, cols = len(W), len(W[0])
    out, close = [], 0
    for x in X:
        line = []
        for m in range(rows):
            total, near = 0, False
            for n0 in range(0, cols, tile_n):
                adc = Adc(adc_kind, bits, N, hrs, lrs)
                r, c = tile_result(mapping, W[m][n0:n0 + tile_n], x[n0:n0 + tile_n], N, hrs,
                                   lrs, iw, adc)
                total += r
                near = near or c or adc.close
            line.append(total)
            close += near
        out.append(line)
    assert tile_m >= 1
    return out, close


def segment_current_fine(v_read, w_res):
    """I_w in fine units exactly as cimgpu rounds it (double arithmetic)."""
    x = abs(v_read) * 1e9 * float(FINE) / w_res
    return Fr(math.floor(x + 0.5), FINE)


def main():
    binary = sys.argv[1]
    scratch = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp()
    os.makedirs(scratch, exist_ok=True)
    rng = random.Random(20261201)
    outputs = close_total = 0
    cases = 0
    for mapping in MAPPINGS:
        for k in range(4):
            ternary = mapping.startswith("TNN")
            alphabet = [-1, 0, 1] if ternary else [-1, 1]
            N = rng.choice([8, 16, 32, 64])
            M = rng.choice([4, 6])
            tile_n = N // 2 if mapping in TWO_ROWS else N
            cols = rng.choice([tile_n, tile_n + rng.randint(1, tile_n)])
            rows = rng.randint(1, M + 3)
            hrs, lrs = rng.choice([(5, 30), (0.5, 4)])
            w_res = rng.choice([0.5, 1.0, 3.0])
            v_read = rng.choice([-0.2, -0.4])
            adc_kind = ["INF_ADC", "FINITE", "FINITE", "INF_ADC"][k]
            bits = [-1, 6, 3, -1][k]
            if adc_kind == "FINITE":
                adc_kind = "SYM_RANGE_ADC" if mapping in SIGNED else "POS_RANGE_ONLY_ADC"
            W = [[rng.choice(alphabet) for _ in range(cols)] for _ in range(rows)]
            X = [[rng.choice(alphabet) for _ in range(cols)] for _ in range(5)]
            cfg = ('{"m_mode": "%s", "M": %d, "N": %d, "HRS": %g, "LRS": %g, "adc_type": "%s", '
                   '"resolution": %d, "parasitics": true, "w_res": %g, "V_read": %g}'
                   % (mapping, M, N, hrs, lrs, adc_kind, bits, w_res, v_read))
            base = os.path.join(scratch, "%s_%d" % (mapping, k))
            with open(base + ".json", "w") as f:
                f.write(cfg)
            for name, mat in (("w", W), ("x", X)):
                with open("%s_%s.csv" % (base, name), "w") as f:
                    f.write("".join(",".join(str(v) for v in r) + "\n" for r in mat))
            run = subprocess.run([binary, "mvm", "--config", base + ".json", "--weights",
                                  base + "_w.csv", "--inputs", base + "_x.csv"],
                                 capture_output=True, text=True)
            if run.returncode != 0 and "no OpenCL device found" in run.stderr:
                print("ir_drop_exact: skipped: no OpenCL device")
                sys.exit(77)
            if run.returncode != 0:
                sys.exit("%s: cimgpu failed: %s" % (cfg, run.stderr.strip()))
            got = [[int(v) for v in line.split(",")] for line in run.stdout.split()]
            hrs_na, lrs_na = round(hrs * 1000), round(lrs * 1000)
            want, close = exact_mvm(mapping, W, X, M, N, hrs_na, lrs_na,
                                    segment_current_fine(v_read, w_res), adc_kind, bits)
            for i in range(len(X)):
                for m in range(rows):
                    if got[i][m] != want[i][m]:
                        # allowed only where the exact value is that close to a decision
                        sys.exit("%s: input %d output %d: cimgpu %d, exact %d (weights %s)"
                                 % (cfg, i, m, got[i][m], want[i][m], base + "_w.csv"))
            outputs += len(X) * rows
            close_total += close
            cases += 1
    print("ir_drop_exact: %d cases, %d outputs equal the exact answer; %d of them lie within "
          "the fixed-point error of a decision point" % (cases, outputs, close_total))
    if close_total > outputs // 100:
        sys.exit("too many outputs near a decision point for the comparison to mean much")


if __name__ == "__main__":
    main()

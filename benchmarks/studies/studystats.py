"""studystats.py -- confidence intervals for differences of mean accuracies (Welch's t).

The sweep files hold each configuration's mean with its 95 % confidence interval; comparing
two configurations (two mappings, two resolutions) needs the interval of a difference of
means, and comparing two drops (BNN vs TNN) that of a sum of four means with signs. Both are
linear combinations L = sum(c_i * mean_i) of independent samples (the chips of different
configurations are drawn independently), with

    se^2 = sum(c_i^2 s_i^2 / n_i),
    df   = se^4 / sum((c_i^2 s_i^2 / n_i)^2 / (n_i - 1))      (Welch-Satterthwaite),
    L +- t_{0.975}(df) * se.

The t quantile is exact up to 1e-12: Student's t distribution function is written with the
regularized incomplete beta function (a continued fraction, with math.lgamma for the
prefactor) and inverted by bisection; df = inf (every sample without spread but one with
infinitely many chips cannot occur; se = 0 gives the point L) uses the normal quantile.
"""
import math

import numpy as np

LEVEL = 0.95


def _beta_cf(a, b, x, eps=1e-15, max_iter=500):
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, max_iter + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            return h
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc: x = {x} is outside [0, 1]")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """Student's t distribution function with df > 0 degrees of freedom (df = inf: normal)."""
    if math.isinf(df):
        return 0.5 * math.erfc(-t / math.sqrt(2.0))
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_quantile(p, df):
    """The p quantile of Student's t with df degrees of freedom (0 < p < 1), by bisection of
    t_cdf to 1e-12."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile: p = {p} is outside (0, 1)")
    if not df > 0:
        raise ValueError(f"t_quantile: df = {df} must be positive")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, 2.0 * hi
    while hi - lo > 1e-14 * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def linear_ci(samples, coeffs, level=LEVEL):
    """The estimate and Welch confidence interval of sum(c_i * mean(samples_i)).

    samples: sequences of per-chip accuracies (independent, each with at least 2 values);
    coeffs: one number each. Returns a dict: estimate, lo, hi, se, df (inf when se = 0:
    then lo = hi = estimate, no sample having any spread), t (the quantile used), n (sizes).
    """
    if len(samples) != len(coeffs) or not samples:
        raise ValueError("linear_ci: one coefficient per sample, at least one sample")
    est, var, denom, sizes = 0.0, 0.0, 0.0, []
    for x, c in zip(samples, coeffs):
        x = np.asarray(x, dtype=np.float64)
        if x.size < 2:
            raise ValueError(f"linear_ci: a sample of {x.size} chips has no variance")
        v = c * c * float(np.var(x, ddof=1)) / x.size
        est += c * float(np.mean(x))
        var += v
        denom += v * v / (x.size - 1)
        sizes.append(int(x.size))
    se = math.sqrt(var)
    if se == 0.0:
        return {"estimate": est, "lo": est, "hi": est, "se": 0.0, "df": math.inf, "t": 0.0,
                "n": sizes}
    df = var * var / denom if denom > 0.0 else math.inf
    t = t_quantile(0.5 + level / 2.0, df)
    return {"estimate": est, "lo": est - t * se, "hi": est + t * se, "se": se, "df": df,
            "t": t, "n": sizes}


def welch_diff(a, b, level=LEVEL):
    """mean(a) - mean(b) with its Welch confidence interval (see linear_ci)."""
    return linear_ci([a, b], [1.0, -1.0], level)

#!/usr/bin/env python3
"""report.py -- the report of the paper's studies: what the sweeps of run_studies.sh show
about the CIM-Explorer paper's three conclusions, with confidence intervals.

    python3 benchmarks/studies/report.py RESULTS_DIR [-o REPORT_DIR]

RESULTS_DIR holds the studies' results files (hrs_var.h5, lrs_var.h5, adc_bnn.h5,
adc_tnn.h5, xbar_scaling_bnn.h5, xbar_scaling_tnn.h5, c2c.h5; an unfinished STUDY.h5.partial
is read as far as it got; a missing study is reported as not run). REPORT_DIR (default
RESULTS_DIR/report) gets report.md, report.json (every number of the report, for scripts)
and the figures, REPORT_DIR/STUDY/*.png, drawn by the cimgpu package.

Numbers: a configuration's mean top-1 accuracy and its 95 % confidence interval are the
sweep file's (top1_mean, top1_ci95_lo, top1_ci95_hi); a difference of means, or of two
accuracy drops, gets a 95 % Welch interval computed here from the chips' accuracies in
/trials/top1 (studystats.py: Student's t quantile from the incomplete beta function, the
Welch-Satterthwaite degrees of freedom).
"""
import argparse
import json
import math
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import cimgpu
except ImportError:                     # run from the source tree without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
    import cimgpu

import studystats                       # noqa: E402

STUDIES = {
    "hrs_var": "HRS σ 0–16 µA, BNN_I–VI, HRS/LRS 5/30 µA, ideal ADC, 256x256",
    "lrs_var": "LRS σ 0–16 µA, BNN_I–VI, HRS/LRS 5/30 µA, ideal ADC, 256x256",
    "adc_bnn": "ADC 3–8 bits, MAX vs CALIB, BNN_I–VI, HRS/LRS 5/50 µA, 256x256",
    "adc_tnn": "ADC 3–8 bits, MAX vs CALIB, TNN_I–V, HRS/LRS 5/50 µA, 256x256",
    "xbar_scaling_bnn": "crossbars 128²/256²/512², HRS σ 0–3 µA, BNN_I–VI, 0.5/4 µA",
    "xbar_scaling_tnn": "crossbars 128²/256²/512², HRS σ 0–3 µA, TNN_I–V, 0.5/4 µA",
    "c2c": "D2D vs D2D + C2C, HRS σ, BNN_I/III/VI on bnn_mlp, HRS/LRS 5/30 µA",
}
# Mappings whose column currents are signed (a differential pair or an offset column per
# output): the paper's "differential" mappings.
DIFFERENTIAL = ("BNN_I", "BNN_II", "BNN_VI", "TNN_I", "TNN_II", "TNN_III")
# "Larger" networks in crossbar terms: the MLPs' crossbar layers (512 inputs) fill every row
# of a 256x256 tile, the CNNs' mostly do not.
LARGER = ("bnn_mlp", "tnn_mlp")
TOLERANCE = 0.01    # a low resolution "suffices": within one point of the highest one
FIGURE_DPI = 110
VERDICTS = ("supported", "partly supported", "inconclusive", "not supported", "not tested")


# ----------------------------------------------------------------------------- data

class Study:
    """One study's sweep: df (read_sweep), done (its finished rows), chips {config: top1}."""

    def __init__(self, name, path):
        self.name, self.path = name, path
        self.df = cimgpu.read_sweep(path)
        trials = cimgpu.read_sweep_trials(path)
        self.chips = {int(c): g["top1"].to_numpy() for c, g in trials.groupby("config")}
        self.done = self.df[self.df["done"]]
        self.root = self.df.attrs["root"]

    @property
    def complete(self):
        return bool(self.root.get("complete"))

    def point(self, c):
        """A configuration as the report quotes it: its mapping, mean and the file's CI."""
        row = self.df.loc[c]
        return {"study": self.name, "config": int(c), "m_mode": row["m_mode"],
                "mean": float(row["top1_mean"]), "lo": float(row["top1_ci95_lo"]),
                "hi": float(row["top1_ci95_hi"]), "chips": int(len(self.chips.get(c, [])))}


def load(results_dir):
    """{study: Study} of the studies whose results file (or .partial) is in results_dir."""
    out = {}
    for name in STUDIES:
        for path in (os.path.join(results_dir, f"{name}.h5"),
                     os.path.join(results_dir, f"{name}.h5.partial")):
            if os.path.exists(path):
                out[name] = Study(name, path)
                break
    return out


def diff(study_a, ca, study_b, cb):
    """Welch CI of mean(a) - mean(b) from the chips of configurations ca and cb."""
    return studystats.welch_diff(study_a.chips[ca], study_b.chips[cb])


def _clean(ci):
    return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in ci.items()}


# ----------------------------------------------------------------------------- text

def ci_text(p):
    return f"{p['mean']:.3f} (95 % CI {p['lo']:.3f}–{p['hi']:.3f})"


def diff_text(d):
    return f"{d['estimate']:+.3f} (95 % CI {d['lo']:+.3f} to {d['hi']:+.3f})"


def num(v):
    return cimgpu.naming.number_text(v)


def sigma_name(key):
    return {"hrs_noise": "σ_HRS", "lrs_noise": "σ_LRS"}[key]


def size_text(row):
    return f"{int(row['xbar_size_M'])}x{int(row['xbar_size_N'])}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def verdict_of(holds, against, total):
    """supported when every point holds, partly when some do; when none does: not supported
    if some point shows the opposite, inconclusive if every one is within the noise."""
    if total == 0:
        return "not tested"
    if holds == total:
        return "supported"
    if holds:
        return "partly supported"
    return "not supported" if against else "inconclusive"


# ----------------------------------------------------------------------------- conclusion 1

def robustness_points(study, sigma_key):
    """For each model, crossbar size and σ > 0 of a variability study: the best differential
    mapping against the best non-differential one (and the worst differential one against
    the best non-differential: the strong form), Welch CIs of the differences."""
    points = []
    rows = study.done
    for (net, m, n, sigma), g in rows.groupby(["nn_name", "xbar_size_M", "xbar_size_N",
                                               sigma_key], sort=True):
        if sigma <= 0:
            continue
        dif = g[g["m_mode"].isin(DIFFERENTIAL)]
        non = g[~g["m_mode"].isin(DIFFERENTIAL)]
        if dif.empty or non.empty:
            continue
        best_d = int(dif["top1_mean"].idxmax())
        worst_d = int(dif["top1_mean"].idxmin())
        best_n = int(non["top1_mean"].idxmax())
        points.append({
            "study": study.name, "nn_name": net, "xbar": f"{int(m)}x{int(n)}",
            "sigma_key": sigma_key, "sigma": float(sigma),
            "best_differential": study.point(best_d), "worst_differential": study.point(worst_d),
            "best_non_differential": study.point(best_n),
            "delta": _clean(diff(study, best_d, study, best_n)),
            "delta_strong": _clean(diff(study, worst_d, study, best_n)),
        })
    return points


def mapping_table(study, net, xbar, sigma_key, sigmas):
    """Rows: mappings; columns: the mean (CI) at each σ given."""
    g = study.done[(study.done["nn_name"] == net)
                   & (study.done.apply(size_text, axis=1) == xbar)]
    modes = list(dict.fromkeys(g["m_mode"]))
    rows = []
    for mode in modes:
        cells = []
        for s in sigmas:
            r = g[(g["m_mode"] == mode) & (g[sigma_key] == s)]
            cells.append(ci_text(study.point(int(r.index[0]))) if len(r) else "—")
        kind = "differential" if mode in DIFFERENTIAL else "non-differential"
        rows.append([mode, kind] + cells)
    header = ["mapping", "column current"] + [f"{sigma_name(sigma_key)} = {num(s)} µA"
                                              for s in sigmas]
    return table(header, rows)


def conclusion_robustness(studies):
    sources = [(n, k) for n, k in (("hrs_var", "hrs_noise"), ("lrs_var", "lrs_noise"),
                                   ("xbar_scaling_bnn", "hrs_noise"),
                                   ("xbar_scaling_tnn", "hrs_noise")) if n in studies]
    points, tables, decisive = [], [], []
    for name, key in sources:
        study = studies[name]
        pts = robustness_points(study, key)
        points += pts
        groups = {}
        for p in pts:
            groups.setdefault((p["nn_name"], p["xbar"]), []).append(p)
        for (net, xbar), gp in groups.items():
            top = max(gp, key=lambda p: p["sigma"])
            decisive.append(top)
            sigmas = sorted({p["sigma"] for p in gp})
            mid = min(sigmas, key=lambda s: abs(s - sigmas[-1] / 2))
            shown = sorted({mid, sigmas[-1]})
            tables.append((f"{name}: {net}, {xbar}",
                           mapping_table(study, net, xbar, key, shown)))
    holds = sum(p["delta"]["lo"] > 0 for p in decisive)
    against = sum(p["delta"]["hi"] < 0 for p in decisive)
    strong = sum(p["delta_strong"]["lo"] > 0 for p in decisive)
    verdict = verdict_of(holds, against, len(decisive))
    lines = []
    for p in decisive:
        bd, bn = p["best_differential"], p["best_non_differential"]
        wd = p["worst_differential"]
        state = ("holds" if p["delta"]["lo"] > 0 else
                 "reversed" if p["delta"]["hi"] < 0 else "within the noise")
        lines.append(
            f"- {p['study']}, {p['nn_name']} {p['xbar']}, {sigma_name(p['sigma_key'])} = "
            f"{num(p['sigma'])} µA: best differential {bd['m_mode']} {ci_text(bd)} vs best "
            f"non-differential {bn['m_mode']} {ci_text(bn)}: difference "
            f"{diff_text(p['delta'])} — {state}; worst differential {wd['m_mode']} "
            f"{ci_text(wd)}, difference to {bn['m_mode']} {diff_text(p['delta_strong'])}.")
    if decisive:
        best = max(decisive, key=lambda p: p["delta"]["estimate"])
        bd, bn = best["best_differential"], best["best_non_differential"]
        head = (f"{verdict}: at the largest σ of each sweep the best differential mapping "
                f"beats the best non-differential one (95 % CI of the difference above 0) in "
                f"{holds} of {len(decisive)} cases"
                + (f", is beaten in {against}" if against else "")
                + f"; every differential mapping beats every non-differential one in "
                f"{strong} of {len(decisive)}. Clearest case: {best['study']}, "
                f"{best['nn_name']} {best['xbar']}, {sigma_name(best['sigma_key'])} = "
                f"{num(best['sigma'])} µA: {bd['m_mode']} keeps {ci_text(bd)} vs "
                f"{bn['m_mode']} {ci_text(bn)}.")
    else:
        head = ("not tested: no variability study with both differential and "
                "non-differential mappings at σ > 0 was found")
    return {"id": 1, "title": "Differential mappings (BNN_I, BNN_II, BNN_VI, TNN_I–III: signed "
            "column currents) are the most robust to cell variability",
            "verdict": verdict, "statement": head, "details": lines, "tables": tables,
            "points": points, "decisive": decisive,
            "studies": [n for n, _ in sources]}


# ----------------------------------------------------------------------------- ADC studies

def adc_rows(study, net, mode, calib):
    g = study.done[(study.done["nn_name"] == net) & (study.done["m_mode"] == mode)
                   & (study.done["adc_calib_mode"] == calib)]
    return {int(r["resolution"]): int(c) for c, r in g.iterrows()}


def min_bits(study, res_cfg):
    """The fewest bits whose mean is within TOLERANCE of the highest resolution's (point
    estimates)."""
    top = study.point(res_cfg[max(res_cfg)])["mean"]
    ok = [b for b, c in res_cfg.items() if study.point(c)["mean"] >= top - TOLERANCE]
    return min(ok) if ok else None


def adc_points(study):
    """Per model and mapping: low and high resolution in both range modes, the drop from high
    to low (Welch CI) and CALIB vs MAX at the low resolution."""
    out = []
    df = study.done
    for net in dict.fromkeys(df["nn_name"]):
        for mode in dict.fromkeys(df[df["nn_name"] == net]["m_mode"]):
            by = {cal: adc_rows(study, net, mode, cal) for cal in ("MAX", "CALIB")}
            p = {"study": study.name, "nn_name": net, "m_mode": mode}
            for cal, res in by.items():
                if len(res) < 2:
                    continue
                low, high = min(res), max(res)
                p[cal] = {"low_bits": low, "high_bits": high, "low": study.point(res[low]),
                          "high": study.point(res[high]),
                          "change": _clean(diff(study, res[low], study, res[high])),
                          "min_bits": min_bits(study, res)}
            if "MAX" in p and "CALIB" in p and p["MAX"]["low_bits"] == p["CALIB"]["low_bits"]:
                p["calib_vs_max"] = _clean(diff(study, p["CALIB"]["low"]["config"], study,
                                                p["MAX"]["low"]["config"]))
            if "MAX" in p or "CALIB" in p:
                p["baseline"] = float(df[df["nn_name"] == net]["top1_baseline"].iloc[0])
                out.append(p)
    return out


def adc_table(points, net):
    rows = []
    for p in points:
        if p["nn_name"] != net:
            continue
        cells = [p["m_mode"]]
        for cal in ("MAX", "CALIB"):
            q = p.get(cal)
            cells += ([ci_text(q["low"]), ci_text(q["high"]), diff_text(q["change"]),
                       q["min_bits"] if q["min_bits"] is not None else "—"]
                      if q else ["—"] * 4)
        rows.append(cells)
    any_p = next(p for p in points if p["nn_name"] == net)
    q = any_p.get("CALIB") or any_p.get("MAX")
    lo, hi = q["low_bits"], q["high_bits"]
    header = ["mapping"]
    for cal in ("MAX", "CALIB"):
        header += [f"{cal} {lo} bits", f"{cal} {hi} bits", f"{cal} {lo} − {hi} bits",
                   f"{cal}: fewest bits within {TOLERANCE:.2f}"]
    return table(header, rows)


def conclusion_low_bits_bnn(studies):
    if "adc_bnn" not in studies:
        return {"id": 2, "title": TITLE_2, "verdict": "not tested",
                "statement": "not tested: adc_bnn was not run", "details": [], "tables": [],
                "points": [], "studies": []}
    study = studies["adc_bnn"]
    points = adc_points(study)
    nets = list(dict.fromkeys(p["nn_name"] for p in points))
    lines, decisive = [], []
    for net in nets:
        cand = [p for p in points if p["nn_name"] == net and "CALIB" in p]
        if not cand:
            continue
        ok = [p for p in cand if p["CALIB"]["change"]["lo"] >= -TOLERANCE]
        near = [p for p in cand if p["CALIB"]["change"]["estimate"] >= -TOLERANCE]
        # the mapping quoted: the best low-resolution one among those that suffice (over the
        # whole CI), else among those within the tolerance as a point estimate, else overall
        best = max(ok or near or cand, key=lambda p: p["CALIB"]["low"]["mean"])
        state = "suffices" if ok else "near" if near else "fails"
        decisive.append({"nn_name": net, "larger": net in LARGER, "best": best,
                         "state": state, "mappings_that_suffice": [p["m_mode"] for p in ok]})
        q = best["CALIB"]
        text = (f"- {net}{' (larger)' if net in LARGER else ''}: {q['low_bits']}-bit CALIB "
                f"{best['m_mode']} {ci_text(q['low'])} vs its {q['high_bits']}-bit CALIB "
                f"{ci_text(q['high'])}: change {diff_text(q['change'])}; digital baseline "
                f"{best['baseline']:.3f}.")
        if "MAX" in best:
            text += f" The same mapping with MAX: {ci_text(best['MAX']['low'])}"
            if "calib_vs_max" in best:
                text += f", CALIB − MAX {diff_text(best['calib_vs_max'])}"
            text += "."
        text += (f" Mappings whose {q['low_bits']}-bit CALIB accuracy is within "
                 f"{TOLERANCE:.2f} of {q['high_bits']} bits over the whole CI: "
                 f"{', '.join(p['m_mode'] for p in ok) if ok else 'none'}.")
        lines.append(text)
    judged = [e for e in decisive if e["larger"]]
    holds = sum(e["state"] == "suffices" for e in judged)
    if not judged:
        verdict = "not tested"
    elif holds == len(judged):
        verdict = "supported"
    elif holds:
        verdict = "partly supported"
    elif any(e["state"] == "near" for e in judged):
        verdict = "inconclusive"
    else:
        verdict = "not supported"
    if not judged:
        head = "not tested: adc_bnn holds no larger BNN (bnn_mlp) with CALIB ranges"
    else:
        e = max(judged, key=lambda e: (e["state"] == "suffices", e["state"] == "near",
                                       e["best"]["CALIB"]["low"]["mean"]))
        q, mode = e["best"]["CALIB"], e["best"]["m_mode"]
        said = {"suffices": f"within {TOLERANCE:.2f} over the whole CI",
                "near": f"within {TOLERANCE:.2f} as a point estimate, but not over the whole "
                        f"CI",
                "fails": f"more than {TOLERANCE:.2f} lost"}[e["state"]]
        head = (f"{verdict}: on {e['nn_name']} a {q['low_bits']}-bit ADC with calibrated "
                f"ranges keeps {mode} at {ci_text(q['low'])} vs {ci_text(q['high'])} with "
                f"{q['high_bits']} bits, a change of {diff_text(q['change'])}: {said}")
        if "MAX" in e["best"]:
            mx = e["best"]["MAX"]
            head += (f"; with the full-scale range (MAX) the same mapping has "
                     f"{ci_text(mx['low'])} at {mx['low_bits']} bits")
        small = [d for d in decisive if not d["larger"]]
        if small:
            d = small[0]
            head += (f". The smaller {d['nn_name']}: {d['best']['CALIB']['low_bits']}-bit "
                     f"CALIB {d['best']['m_mode']} {ci_text(d['best']['CALIB']['low'])}, "
                     f"change {diff_text(d['best']['CALIB']['change'])}")
        head += "."
    tables = [(f"adc_bnn: {net}", adc_table(points, net)) for net in nets]
    return {"id": 2, "title": TITLE_2, "verdict": verdict, "statement": head, "details": lines,
            "tables": tables, "points": points, "decisive": decisive, "studies": ["adc_bnn"]}


TITLE_2 = "3-bit ADCs can suffice for larger BNNs with a suitable range (CALIB)"
TITLE_3 = "TNNs trade differently: they are more tolerant of low ADC resolution"


def family_drop(study, points, net, cal, best_only):
    """(samples, coeffs, label) of the drop mean(high) - mean(low) of the mapping best at the
    low resolution (best_only) or of the average over all mappings of net."""
    cand = [p for p in points if p["nn_name"] == net and cal in p]
    if not cand:
        return None
    if best_only:
        cand = [max(cand, key=lambda p: p[cal]["low"]["mean"])]
    k = 1.0 / len(cand)
    samples, coeffs = [], []
    for p in cand:
        samples += [study.chips[p[cal]["high"]["config"]], study.chips[p[cal]["low"]["config"]]]
        coeffs += [k, -k]
    label = cand[0]["m_mode"] if best_only else f"mean of {len(cand)} mappings"
    return samples, coeffs, label, cand


def conclusion_tnn(studies):
    if "adc_bnn" not in studies or "adc_tnn" not in studies:
        missing = [n for n in ("adc_bnn", "adc_tnn") if n not in studies]
        return {"id": 3, "title": TITLE_3, "verdict": "not tested",
                "statement": f"not tested: {' and '.join(missing)} not run", "details": [],
                "tables": [], "points": [], "studies": []}
    sb, st = studies["adc_bnn"], studies["adc_tnn"]
    pb, pt = adc_points(sb), adc_points(st)
    kinds = {}
    for p in pb:
        kinds.setdefault(p["nn_name"].split("_", 1)[-1], {})["bnn"] = p["nn_name"]
    for p in pt:
        kinds.setdefault(p["nn_name"].split("_", 1)[-1], {})["tnn"] = p["nn_name"]
    comps, lines = [], []
    for kind, nets in kinds.items():
        if len(nets) < 2:
            continue
        for cal in ("MAX", "CALIB"):
            for best_only in (True, False):
                b = family_drop(sb, pb, nets["bnn"], cal, best_only)
                t = family_drop(st, pt, nets["tnn"], cal, best_only)
                if not b or not t:
                    continue
                d_b = studystats.linear_ci(b[0], b[1])
                d_t = studystats.linear_ci(t[0], t[1])
                d = studystats.linear_ci(b[0] + t[0], b[1] + [-c for c in t[1]])
                c = {"kind": kind, "adc_calib_mode": cal, "best_only": best_only,
                     "bnn": nets["bnn"], "tnn": nets["tnn"], "bnn_mapping": b[2],
                     "tnn_mapping": t[2], "bnn_drop": _clean(d_b), "tnn_drop": _clean(d_t),
                     "difference": _clean(d),
                     "low_bits": b[3][0][cal]["low_bits"], "high_bits": b[3][0][cal]["high_bits"]}
                if best_only:
                    c["bnn_low"] = b[3][0][cal]["low"]
                    c["tnn_low"] = t[3][0][cal]["low"]
                comps.append(c)
                which = ("best at the low resolution" if best_only else "all mappings")
                state = ("TNN more tolerant" if d["lo"] > 0 else
                         "BNN more tolerant" if d["hi"] < 0 else "no difference resolved")
                lines.append(
                    f"- {kind}, {cal}, {which}: drop from {c['high_bits']} to {c['low_bits']} "
                    f"bits {nets['bnn']} {b[2]} {diff_text(d_b)}, {nets['tnn']} {t[2]} "
                    f"{diff_text(d_t)}; BNN drop − TNN drop {diff_text(d)} — {state}.")
    decisive = [c for c in comps if c["best_only"]]
    holds = sum(c["difference"]["lo"] > 0 for c in decisive)
    against = sum(c["difference"]["hi"] < 0 for c in decisive)
    verdict = verdict_of(holds, against, len(decisive))
    if decisive:
        e = max(decisive, key=lambda c: c["difference"]["estimate"])
        head = (f"{verdict}: the drop from {e['high_bits']} to {e['low_bits']} bits of the "
                f"best low-resolution mapping is smaller for the TNN than for the BNN (95 % CI "
                f"of BNN drop − TNN drop above 0) in {holds} of {len(decisive)} comparisons "
                f"(network × range mode)"
                + (f", larger in {against}" if against else "")
                + f". The case most favourable to the TNN: {e['kind']}, {e['adc_calib_mode']}: "
                f"{e['tnn']} {e['tnn_mapping']} {ci_text(e['tnn_low'])} at {e['low_bits']} bits, "
                f"drop {diff_text(e['tnn_drop'])}, vs {e['bnn']} {e['bnn_mapping']} "
                f"{ci_text(e['bnn_low'])}, drop {diff_text(e['bnn_drop'])}; difference "
                f"{diff_text(e['difference'])}.")
    else:
        head = "not tested: no network kind with both a BNN and a TNN in the ADC studies"
    tables = [(f"adc_tnn: {net}", adc_table(pt, net))
              for net in dict.fromkeys(p["nn_name"] for p in pt)]
    return {"id": 3, "title": TITLE_3, "verdict": verdict, "statement": head, "details": lines,
            "tables": tables, "points": comps, "decisive": decisive,
            "studies": ["adc_bnn", "adc_tnn"]}


# ----------------------------------------------------------------------------- C2C

def c2c_section(studies):
    if "c2c" not in studies:
        return None
    study = studies["c2c"]
    df = study.done
    keys = [k for k in ("nn_name", "m_mode", "hrs_noise", "lrs_noise") if k in df]
    rows, points = [], []
    for vals, g in df.groupby(keys, sort=False):
        on, off = g[g["c2c_var"]], g[~g["c2c_var"]]
        if on.empty or off.empty:
            continue
        a, b = int(on.index[0]), int(off.index[0])
        d = _clean(diff(study, a, study, b))
        p = {"keys": dict(zip(keys, [v if isinstance(v, str) else float(v) for v in vals])),
             "d2d": study.point(b), "c2c": study.point(a), "delta": d}
        points.append(p)
        rows.append([p["keys"].get("nn_name", ""), p["keys"]["m_mode"],
                     num(p["keys"]["hrs_noise"]), num(p["keys"].get("lrs_noise", 0)),
                     ci_text(p["d2d"]), ci_text(p["c2c"]), diff_text(d)])
    return {"table": table(["model", "mapping", "σ_HRS (µA)", "σ_LRS (µA)", "D2D",
                            "D2D + C2C", "C2C − D2D"], rows), "points": points}


# ----------------------------------------------------------------------------- figures

def draw(studies, out_dir):
    """Every figure of every study (cimgpu.sweep_plots), and D2D vs C2C on one axis; returns
    {study: [relative PNG paths]}."""
    figures = {}
    for name, study in studies.items():
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        trials = cimgpu.read_sweep_trials(study.path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plots = cimgpu.sweep_plots(study.df, trials)
        if name == "c2c" and "c2c_var" in study.df and study.done["c2c_var"].nunique() == 2:
            df = study.df.copy()
            df["c2c_var"] = df["c2c_var"].map({False: "D2D", True: "D2D + C2C"})
            root = study.root
            title = (f"{' / '.join(dict.fromkeys(df['nn_name']))}: D2D (solid) vs D2D + C2C "
                     f"(dashed), same σ\n{root['trials']} chips × {root['images']} images")
            fig, data = cimgpu.accuracy_vs(df, "hrs_noise", trials, style="c2c_var",
                                           title=title)
            plots.append(cimgpu.Plot("acc_vs_hrs_noise_d2d_vs_c2c", fig, data))
        figures[name] = []
        for p in plots:
            path = os.path.join(folder, p.name + ".png")
            p.figure.savefig(path, dpi=FIGURE_DPI)
            figures[name].append(os.path.relpath(path, out_dir))
    return figures


def key_figures(figures, name, prefix):
    return [f for f in figures.get(name, []) if os.path.basename(f).startswith(prefix)]


# ----------------------------------------------------------------------------- report

def grid_text(study):
    """What a sweep varies, then what it holds, from its file: "model bnn_cnn, bnn_mlp ·
    mapping BNN_I, BNN_III · HRS σ 0, 8 µA · crossbar 256x256 · HRS/LRS 5/30 µA · ..."."""
    df = study.df
    configs = df.attrs["configs"]
    parts = []
    keys = cimgpu.swept_keys(df)
    for key in keys + [k for k in ("nn_name", "xbar_size", "hrs_lrs", "hrs_noise",
                                   "lrs_noise", "adc") if k not in keys]:
        if key not in configs:
            continue
        values = list(dict.fromkeys(tuple(v) for v in
                                    df[configs[key]].itertuples(index=False)))
        texts = [cimgpu.naming.value_text(key, v, unit=False) for v in values]
        unit = cimgpu.naming.UNITS.get(key)
        parts.append(f"{cimgpu.naming.NAMES.get(key, key)} {', '.join(texts)}"
                     + (f" {unit}" if unit else ""))
    return " · ".join(parts)


def study_summary(studies):
    out = {}
    for name, s in studies.items():
        out[name] = {"file": os.path.basename(s.path), "complete": s.complete,
                     "grid": grid_text(s),
                     "configs": int(len(s.df)), "done": int(s.df["done"].sum()),
                     "trials": int(s.root["trials"]), "images": int(s.root["images"]),
                     "seconds": float(s.df["seconds"].sum(skipna=True)),
                     "device": str(s.root.get("device", "")),
                     "git_revision": str(s.root.get("git_revision", ""))}
    return out


def markdown(summary, conclusions, c2c, figures):
    md = ["# The CIM-Explorer paper's studies on cimgpu's models", ""]
    md += ["Each configuration is a network Monte-Carlo of many simulated chips on the "
           "Fashion-MNIST test images. A configuration is quoted as its mean top-1 accuracy "
           "with the 95 % confidence interval of that mean, as the sweep file holds it "
           "(top1_mean, top1_ci95_lo, top1_ci95_hi); a difference of means as the estimate "
           "with its 95 % Welch interval, computed from the chips' accuracies (/trials/top1) "
           "with Student's t quantile at the Welch–Satterthwaite degrees of freedom (exact "
           "t, from the incomplete beta function; for up to 31 chips cimgpu's own "
           "per-configuration intervals take t from a table of three decimals, which moves "
           "their ends by at most 0.03 % of the half-width). \"Holds\" means the whole "
           "interval is on the claimed side of 0.", ""]
    md += ["Set-up: the shipped models (bnn_cnn, tnn_cnn: CNNs; bnn_mlp, tnn_mlp: MLPs "
           "784-512-512-10 whose crossbar layers, 512 inputs each, fill whole 256-row tiles: "
           "the larger networks in crossbar terms), their first layer exact on the host. "
           "The variability studies vary one state's D2D σ with the other's at 0; the "
           "crossbar-size study varies σ_HRS at HRS/LRS 0.5/4 µA. The ADC studies run at "
           "σ_HRS = σ_LRS = 1 µA so that chips differ; their CALIB ranges come from `cimgpu "
           "calibrate` (benchmarks/studies/make_calib.py: one chip, 1000 training images, "
           f"an 8-bit ADC, the reference flow's rule). A low resolution \"suffices\" when "
           f"its accuracy is within {TOLERANCE:.2f} of the highest resolution's over the "
           "whole 95 % interval of the difference.", ""]
    md += ["## Studies run", ""]
    rows = []
    total = 0.0
    for name in STUDIES:
        s = summary.get(name)
        if not s:
            rows.append([name, STUDIES[name], "not run", "", "", ""])
            continue
        total += s["seconds"]
        state = "complete" if s["complete"] else f"unfinished: {s['done']} of {s['configs']}"
        rows.append([name, s["grid"], state, s["configs"],
                     f"{s['trials']} × {s['images']}", f"{s['seconds']:.1f}"])
    md += [table(["study", "grid", "state", "configurations", "chips × images",
                  "seconds"], rows), ""]
    devices = sorted({s["device"] for s in summary.values() if s["device"]})
    revisions = sorted({s["git_revision"] for s in summary.values() if s["git_revision"]})
    md += [f"Measured compute time (sum of the configurations' seconds): {total:.0f} s "
           f"({total / 60:.1f} min) on {', '.join(devices) or 'an unnamed device'}"
           f"{', cimgpu ' + ', '.join(revisions) if revisions else ''}. With "
           "run_studies.sh's defaults (50 chips × 1000 images, C2C 10 × 200) the whole set "
           "was extrapolated from runs at a fiftieth of that size to about 50 minutes on an "
           "idle 2-core CPU (about an hour with other work on it).", ""]
    md += ["## Conclusions", ""]
    for c in conclusions:
        md += [f"### ({c['id']}) {c['title']}", "", f"**{c['statement']}**", ""]
        if c["details"]:
            md += c["details"] + [""]
        for title, t in c["tables"]:
            md += [f"*{title}*", "", t, ""]
        for name in c.get("studies", []):
            for f in key_figures(figures, name, "acc_vs_"):
                md += [f"![{name}]({f})", ""]
    if c2c:
        md += ["## Cycle-to-cycle variation (c2c)", "",
               "Each read draws a fresh deviation on top of the programmed (D2D) one, with "
               "the same σ.", "", c2c["table"], ""]
        for f in key_figures(figures, "c2c", "acc_vs_hrs_noise_d2d_vs_c2c"):
            md += [f"![c2c]({f})", ""]
    md += ["## All figures", ""]
    for name, files in figures.items():
        md += [f"- {name}: " + ", ".join(f"[{os.path.basename(f)}]({f})" for f in files)]
    return "\n".join(md) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results_dir")
    ap.add_argument("-o", "--out", default=None, help="report folder (default RESULTS/report)")
    args = ap.parse_args(argv)
    out_dir = args.out or os.path.join(args.results_dir, "report")
    studies = load(args.results_dir)
    if not studies:
        print(f"report.py: {args.results_dir}: no study results ({', '.join(STUDIES)}.h5)",
              file=sys.stderr)
        return 2
    os.makedirs(out_dir, exist_ok=True)
    conclusions = [conclusion_robustness(studies), conclusion_low_bits_bnn(studies),
                   conclusion_tnn(studies)]
    c2c = c2c_section(studies)
    figures = draw(studies, out_dir)
    summary = study_summary(studies)
    with open(os.path.join(out_dir, "report.md"), "w") as fh:
        fh.write(markdown(summary, conclusions, c2c, figures))
    with open(os.path.join(out_dir, "report.json"), "w") as fh:
        json.dump({"studies": summary, "tolerance": TOLERANCE,
                   "conclusions": [{k: v for k, v in c.items() if k != "tables"}
                                   for c in conclusions],
                   "c2c": c2c["points"] if c2c else [], "figures": figures}, fh, indent=1)
    for c in conclusions:
        print(f"({c['id']}) {c['verdict']}: {c['title']}")
    print(f"report: {os.path.join(out_dir, 'report.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""naming.py -- how configuration keys and their values read on the plots and in file names.

axis_label("hrs_noise") is "HRS σ (µA)"; value_text gives a key's value as a reader wants it
("256x256", "5/30 µA", "TNN_I"); file_text the same made safe for a file name ("256x256",
"5-30", "TNN_I").
"""
import math
import re

import numpy as np

# Display names of the experiment's keys; a key not listed is shown by its own name.
NAMES = {
    "nn_name": "model", "m_mode": "mapping", "xbar_size": "crossbar", "hrs_lrs": "HRS/LRS",
    "gmin_gmax": "Gmin/Gmax", "hrs_noise": "HRS σ", "lrs_noise": "LRS σ",
    "hrs_noise_c2c": "HRS σ C2C", "lrs_noise_c2c": "LRS σ C2C", "resolution": "ADC resolution",
    "adc_calib_mode": "ADC range", "alpha": "ADC α", "adc": "ADC", "adc_type": "ADC",
    "c2c_var": "C2C", "d2d_var": "D2D", "V_read": "V_read",
}
UNITS = {
    "hrs_lrs": "µA", "gmin_gmax": "µS", "hrs_noise": "µA", "lrs_noise": "µA",
    "hrs_noise_c2c": "µA", "lrs_noise_c2c": "µA", "resolution": "bits", "V_read": "V",
}
# Names on an axis, where they differ.
AXIS_NAMES = {"xbar_size": "crossbar size (rows x columns)"}
# Keys whose columns are joined with "x" (sizes); other pairs are joined with "/".
SIZES = ("xbar_size", "ifm")


def axis_label(key):
    """An axis label with the unit: "HRS σ (µA)", "ADC resolution (bits)"."""
    name = axis_name(key)
    return f"{name} ({UNITS[key]})" if key in UNITS else name


def axis_name(key):
    """An axis's name without the unit: "HRS σ", "crossbar size (rows x columns)"."""
    return AXIS_NAMES.get(key, NAMES.get(key, key))


def number_text(v):
    """A number as short text: 2.0 -> "2", 0.25 -> "0.25", True -> "on"."""
    if isinstance(v, (bool, np.bool_)):
        return "on" if v else "off"
    if isinstance(v, str):
        return v
    v = float(v)
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:g}"


def value_text(key, values, unit=True):
    """A key's value (a tuple of its columns' values) as text: ("256", "256") of xbar_size ->
    "256x256", (5.0, 30.0) of hrs_lrs -> "5/30 µA"."""
    parts = [number_text(v) for v in values]
    text = ("x" if key in SIZES else "/").join(parts)
    if unit and key in UNITS:
        text += f" {UNITS[key]}"
    return text


def condition_text(key, values):
    """ "crossbar 256x256", "HRS σ 2 µA": a held or fixed condition in a title."""
    return f"{NAMES.get(key, key)} {value_text(key, values)}"


def file_text(key, values):
    """A key's value for a file name: letters, digits, '.', '_', '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", value_text(key, values, unit=False).replace("/", "-"))

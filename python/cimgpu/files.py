"""files.py -- opening cimgpu results files for reading and turning HDF5 values into Python.

A finished file (`R.h5`, root attribute complete = 1) is opened as a plain reader; a file whose
name ends in `.partial` is one a run or sweep may still be writing, so it is opened as an HDF5
single-writer/multiple-reader (SWMR) reader, which sees every row the writer has flushed. The
root attribute `format` says which layout the file has ("cimgpu-run", "cimgpu-sweep"); a file
without it, of another kind, or of a newer format_version than this package reads is refused
with a ResultsFileError whose message is one line naming the file.
"""
import json
import os

import h5py
import numpy as np

RUN_FORMAT = "cimgpu-run"
SWEEP_FORMAT = "cimgpu-sweep"
# The newest format_version of each layout this package reads.
FORMAT_VERSIONS = {RUN_FORMAT: 2, SWEEP_FORMAT: 1}


class ResultsFileError(ValueError):
    """A file that is not a readable cimgpu results file of the kind asked for. The message is
    one line that names the file and says what was expected."""


def decode(value):
    """An HDF5 attribute or dataset value as plain Python: bytes -> str, a numpy scalar -> int,
    float or bool, an array of strings -> a list of str; other arrays are returned as they are."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            return [decode(v) for v in value.tolist()]
        return value.item() if value.ndim == 0 else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def root_attributes(f):
    """The root attributes of an open results file as a dict of plain Python values; those
    whose names end in `_json` (config_json, experiment_json) are parsed into dicts."""
    attrs = {}
    for name, value in f.attrs.items():
        value = decode(value)
        if name.endswith("_json") and isinstance(value, str) and value:
            try:
                value = json.loads(value)
            except ValueError as e:
                raise ResultsFileError(f"{f.filename}: root attribute {name} is not JSON: {e}")
        attrs[name] = value
    return attrs


def open_results(path, kind=None):
    """Opens the cimgpu results file `path` for reading and returns the h5py.File (use it in a
    `with` statement). A `.partial` file is opened as an SWMR reader (libver="latest",
    swmr=True). `kind`: RUN_FORMAT or SWEEP_FORMAT to accept only that layout, None for any
    cimgpu layout. Raises ResultsFileError (one line naming the file) for a missing file, a
    file that is not HDF5, not a cimgpu file, of another kind or of a newer format_version."""
    path = os.fspath(path)
    if not os.path.exists(path):
        hint = ""
        if os.path.exists(path + ".partial"):
            hint = f" ({path}.partial is there: the unfinished file; read that one)"
        raise ResultsFileError(f"{path}: no such file{hint}")
    try:
        if path.endswith(".partial"):
            f = h5py.File(path, "r", libver="latest", swmr=True)
        else:
            f = h5py.File(path, "r")
    except OSError as e:
        raise ResultsFileError(f"{path}: not a readable HDF5 file ({e})") from None
    try:
        check_format(f, path, kind)
    except BaseException:
        f.close()
        raise
    return f


def check_format(f, path, kind=None):
    """Checks the root attributes format and format_version of an open file; returns the
    format. kind: as for open_results."""
    fmt = decode(f.attrs.get("format"))
    wanted = (kind,) if kind else tuple(FORMAT_VERSIONS)
    if fmt is None:
        raise ResultsFileError(f"{path}: not a cimgpu results file (no root attribute format; "
                               f"expected {' or '.join(wanted)})")
    if fmt not in wanted:
        raise ResultsFileError(f"{path}: a {fmt} file, expected {' or '.join(wanted)}")
    version = decode(f.attrs.get("format_version"))
    if not isinstance(version, int) or version < 1:
        raise ResultsFileError(f"{path}: root attribute format_version is {version!r}, "
                               f"expected an integer >= 1")
    if version > FORMAT_VERSIONS[fmt]:
        raise ResultsFileError(f"{path}: {fmt} format_version {version} is newer than this "
                               f"package reads ({FORMAT_VERSIONS[fmt]})")
    return fmt


def file_format(path):
    """The format of the cimgpu results file at path ("cimgpu-run" or "cimgpu-sweep")."""
    with open_results(path) as f:
        return decode(f.attrs["format"])


def dataset(f, name, path):
    """The dataset `name` of an open file, or ResultsFileError naming what is missing."""
    ds = f.get(name)
    if not isinstance(ds, h5py.Dataset):
        fmt = decode(f.attrs.get("format"))
        raise ResultsFileError(f"{path}: no dataset /{name} (every {fmt} file has one)")
    return ds


def read_values(ds):
    """All of a dataset's values: strings as str, everything else as stored."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return ds.asstr()[()]
    return ds[()]

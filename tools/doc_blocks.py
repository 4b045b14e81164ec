#!/usr/bin/env python3
"""doc_blocks.py -- run the code blocks of the documentation, in document order.

Every fenced code block of README.md, docs/*.md, docs/physics/*.md and data/*.md must carry a
language:

  ```sh / ```bash   run with bash (set -eE -o pipefail: a failing command fails the block)
  ```python         run with Debian's /usr/bin/python3 (--python), MPLBACKEND=Agg
  ```text (also ```json, ```csv)   output, synopses and data: never run

A block without a language, or with another one, is an error. A run block may be preceded,
on the lines directly above its opening fence, by markers (HTML comments, invisible when
rendered, visible in the Markdown):

  <!-- doc-test: skip: REASON -->          not run (REASON is required and printed)
  <!-- doc-test: replace "OLD" "NEW" -->   run with every OLD replaced by NEW; OLD must
                                           occur in the block (\\" and \\\\ escape)
  <!-- doc-test: needs: mpi -->            run only where mpirun is on PATH and the build
                                           has MPI (`cimgpu info`); else skipped, saying why

A marker anywhere else, an unknown marker, or skip together with replace is an error.

Each Markdown file runs in its own scratch folder (a fresh temporary directory, removed
unless a block fails or --keep is given) that looks like the repository root to the docs'
commands: copies of data/ and tools/ (so no block can write into the source tree), a build/
folder with a symbolic link to each entry of the build folder (build/cimgpu, ...), and a
bin/ on PATH whose python3 is the --python interpreter, so `python3 ...` in a shell block
is Debian's Python too. Blocks of one file share its folder: a block may read what an
earlier one wrote.

Exit status: 0 every run block passed; 1 a block failed or a file is malformed (the
message names the file, the line and the command); 77 (ctest's SKIP_RETURN_CODE) when the
blocks cannot run here: no OpenCL device, or the Python lacks h5py, numpy or matplotlib.
Malformed files are reported before any skip, so they fail on every machine.

  python3 tools/doc_blocks.py --build build            # run them (what ctest runs)
  python3 tools/doc_blocks.py --list                   # how each block is classified
  python3 tools/doc_blocks.py --build build README.md  # only some files
  python3 tools/doc_blocks.py -v --keep README.md      # with every block's output
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP_RETURN_CODE = 77
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULT_FILES = ("README.md", "docs/*.md", "docs/physics/*.md", "data/*.md")
COPIED_DIRS = ("data", "tools", "python", "benchmarks")  # what the docs' commands read from the root
SHELL = ("sh", "bash")
PYTHON = ("python",)
NOT_RUN = ("text", "json", "csv")
PYTHON_MODULES = ("h5py", "numpy", "matplotlib")
FAIL_TAG = "__doc_test_failed__"
# Line 1 of every shell script (the fence line itself, so block lines keep their numbers):
# report the failing command's line, status and text, then stop.
SHELL_PRELUDE = ("set -eE -o pipefail; trap 'printf \"\\n" + FAIL_TAG +
                 " %s %s %s\\n\" \"$LINENO\" \"$?\" \"$BASH_COMMAND\" >&2' ERR")

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
MARKER = re.compile(r"^\s*<!--\s*doc-test:(.*?)-->\s*$")
MARKER_START = re.compile(r"^\s*<!--\s*doc-test")
QUOTED = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')


class DocError(Exception):
    pass


class Block:
    def __init__(self, path, line, lang, body):
        self.path = path          # relative to ROOT
        self.line = line          # 1-based line of the opening fence
        self.lang = lang
        self.body = body          # list of lines (without newlines), fence indent removed
        self.skip = None          # reason
        self.replaces = []        # (old, new)
        self.needs = None         # "mpi": runs only with MPI

    @property
    def where(self):
        return f"{self.path}:{self.line}"

    def runs(self):
        return self.lang in SHELL + PYTHON and self.skip is None

    def source(self):
        text = "\n".join(self.body) + "\n"
        for old, new in self.replaces:
            text = text.replace(old, new)
        return text


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def parse_marker(path, lineno, text, pending):
    """Adds the directive of one `<!-- doc-test: ... -->` line to pending (a dict)."""
    where = f"{path}:{lineno}"
    text = text.strip()
    if text.startswith("skip:"):
        reason = text[len("skip:"):].strip()
        if not reason:
            raise DocError(f"{where}: `doc-test: skip:` needs a reason")
        if pending.get("skip"):
            raise DocError(f"{where}: a second skip marker for the same block")
        pending["skip"] = reason
    elif text.startswith("replace"):
        rest, args = text[len("replace"):], []
        while rest.strip():
            m = QUOTED.match(rest)
            if not m:
                raise DocError(f'{where}: `doc-test: replace` takes two quoted strings, '
                               f'"OLD" "NEW"; got: {text}')
            args.append(unescape(m.group(1)))
            rest = rest[m.end():]
        if len(args) != 2 or not args[0]:
            raise DocError(f'{where}: `doc-test: replace` takes two quoted strings, "OLD" '
                           f'"NEW" (OLD not empty); got: {text}')
        pending.setdefault("replaces", []).append((args[0], args[1], lineno))
    elif text.startswith("needs:"):
        what = text[len("needs:"):].strip()
        if what != "mpi":
            raise DocError(f"{where}: `doc-test: needs:` knows only `mpi`; got `{what}`")
        pending["needs"] = what
    else:
        raise DocError(f"{where}: unknown doc-test marker `{text}` "
                       f"(known: `skip: REASON`, `replace \"OLD\" \"NEW\"`, `needs: mpi`)")


def parse(path, errors):
    """The fenced code blocks of one Markdown file (path relative to ROOT), classified; what
    is wrong with the file is appended to errors (one message each)."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    blocks, pending, marker_lines = [], {}, []

    def stray():                       # markers that no code block follows
        if marker_lines:
            errors.append(f"{path}:{marker_lines[0]}: doc-test marker not directly above a "
                          f"code block")
        pending.clear()
        marker_lines.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line)
        if marker:
            if marker_lines and marker_lines[-1] != i:     # i is 0-based: the line above
                stray()
            try:
                parse_marker(path, i + 1, marker.group(1), pending)
            except DocError as e:
                errors.append(str(e))
            marker_lines.append(i + 1)
            i += 1
            continue
        if MARKER_START.search(line):
            errors.append(f"{path}:{i + 1}: a doc-test marker is one whole line, "
                          f"`<!-- doc-test: ... -->`")
        m = FENCE.match(line)
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):    # not a fence
            stray()
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        start = i + 1
        body, i = [], i + 1
        while i < len(lines):
            c = FENCE.match(lines[i])
            if c and c.group(2)[0] == fence[0] and len(c.group(2)) >= len(fence) \
                    and not c.group(3).strip():
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else
                        lines[i].lstrip())
            i += 1
        else:
            errors.append(f"{path}:{start}: code block is never closed")
            break
        i += 1
        lang = info.split()[0].lower() if info else ""
        b = Block(path, start, lang, body)
        if not lang:
            errors.append(f"{b.where}: code block without a language: use ```text for output "
                          f"and synopses, ```sh or ```python for what a reader runs")
        elif lang not in SHELL + PYTHON + NOT_RUN:
            errors.append(f"{b.where}: code block language `{lang}` is not one this tool knows "
                          f"(run: {', '.join(SHELL + PYTHON)}; not run: {', '.join(NOT_RUN)})")
        elif marker_lines and lang in NOT_RUN:
            errors.append(f"{path}:{marker_lines[0]}: doc-test marker above a ```{lang} block, "
                          f"which is never run")
        elif pending.get("skip") and pending.get("replaces"):
            errors.append(f"{path}:{marker_lines[0]}: a block is either skipped or run with "
                          f"replacements, not both")
        else:
            b.skip = pending.get("skip")
            b.needs = pending.get("needs")
            text = "\n".join(body)
            for old, new, mline in pending.get("replaces", []):
                if old in text:
                    b.replaces.append((old, new))
                else:
                    errors.append(f'{path}:{mline}: replace "{old}": not in the block at line '
                                  f'{start}')
        pending.clear()
        marker_lines.clear()
        blocks.append(b)
    stray()
    return blocks


def doc_files(args):
    if args.files:
        out = []
        for f in args.files:
            p = os.path.relpath(os.path.abspath(f), ROOT)
            if p.startswith(".."):
                raise DocError(f"{f}: not inside the repository {ROOT}")
            out.append(p)
        return out
    out = []
    for pattern in DEFAULT_FILES:
        out += sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))
    return out


def describe(b):
    if b.lang in NOT_RUN:
        return "not run"
    if b.skip:
        return f"skip: {b.skip}"
    if b.replaces:
        return "run with " + ", ".join(f'"{o}" -> "{n}"' for o, n in b.replaces)
    return "run"


# ---- running -------------------------------------------------------------------------

def why_no_mpi(cimgpu):
    """None when blocks that need MPI can run, else why not."""
    if not shutil.which("mpirun"):
        return "no mpirun on PATH (Open MPI: openmpi-bin)"
    r = subprocess.run([cimgpu, "info"], capture_output=True, text=True, timeout=300)
    if any(l.split()[:1] == ["MPI"] and "not built in" in l for l in r.stdout.splitlines()):
        return "this cimgpu is built without MPI"
    return None


def why_not_runnable(python, cimgpu):
    """None when the blocks can run here, else why not (a skip)."""
    probe = ("import importlib.util, sys; "
             f"missing = [m for m in {PYTHON_MODULES!r} if importlib.util.find_spec(m) is None]; "
             "print(' '.join(missing)); sys.exit(1 if missing else 0)")
    try:
        r = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    except OSError as e:
        return f"cannot run {python}: {e}"
    if r.returncode != 0:
        return (f"{python} lacks {r.stdout.strip() or 'a module'} "
                f"(Debian: python3-h5py python3-numpy python3-matplotlib)")
    if not os.access(cimgpu, os.X_OK):
        raise DocError(f"{cimgpu}: no cimgpu binary there (build it: bash tools/build.sh)")
    r = subprocess.run([cimgpu, "info"], capture_output=True, text=True, timeout=300)
    for line in r.stdout.splitlines():
        if line.startswith("Default device") and ": none: " in line:
            if "no OpenCL device found" in line:
                return "no OpenCL device (cimgpu info: " + line.split(": none: ", 1)[1] + ")"
            raise DocError(f"`{cimgpu} info`: {line}")
    if r.returncode != 0:
        raise DocError(f"`{cimgpu} info` exited with status {r.returncode}: {r.stderr.strip()}")
    return None


def make_scratch(base, name, build):
    work = os.path.join(base, name)
    os.makedirs(os.path.join(work, "build"))
    for d in COPIED_DIRS:
        shutil.copytree(os.path.join(ROOT, d), os.path.join(work, d), symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.partial"))
    for entry in sorted(os.listdir(build)):
        os.symlink(os.path.join(build, entry), os.path.join(work, "build", entry))
    return work


def tail(text, n=40):
    lines = text.rstrip("\n").split("\n")
    cut = lines[-n:]
    return ("    ...\n" if len(lines) > n else "") + "\n".join("    " + s for s in cut)


def run_block(b, work, scripts, env, python, timeout, verbose):
    """Runs one block; None on success, else the failure message."""
    ext = "py" if b.lang in PYTHON else "sh"
    script = os.path.join(scripts, f"{b.path.replace('/', '_')}-{b.line}.{ext}")
    # Padded so that the script's line numbers are the Markdown file's.
    first = "" if b.lang in PYTHON else SHELL_PRELUDE
    with open(script, "w", encoding="utf-8") as fh:
        fh.write(first + "\n" * b.line + b.source())
    cmd = [python, script] if b.lang in PYTHON else ["bash", script]
    try:
        r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = "".join(x.decode(errors="replace") if isinstance(x, bytes) else x
                      for x in (e.stdout or "", e.stderr or ""))
        return f"{b.where}: {b.lang} block still running after {timeout} s, stopped\n{tail(out)}"
    if r.returncode == 0:
        if verbose:
            for name, text in (("stdout", r.stdout), ("stderr", r.stderr)):
                if text.strip():
                    print(f"  {name}:\n{tail(text, 1000)}")
        return None
    src = b.source().split("\n")

    def doc_line(n):
        k = n - b.line - 1
        return src[k].strip() if 0 <= k < len(src) else "?"

    stderr, failed = [], None
    for line in r.stderr.split("\n"):
        if line.startswith(FAIL_TAG + " "):
            parts = line.split(" ", 3)
            failed = (int(parts[1]), parts[2], parts[3] if len(parts) > 3 else "")
        else:
            stderr.append(line)
    stderr = "\n".join(stderr).strip("\n")
    if b.lang in SHELL and failed:
        n, rc, command = failed
        text = doc_line(n)
        inside = "" if command.startswith(text.rstrip("\\").strip()) else f" in `{text}`"
        head = (f"{b.path}:{n}: `{command}`{inside} exited with status {rc} "
                f"(sh block at line {b.line})")
    elif b.lang in PYTHON:
        lines = [int(x) for x in re.findall(r'File "' + re.escape(script) + r'", line (\d+)',
                                            r.stderr)]
        last = stderr.split("\n")[-1] if stderr else ""
        if lines:
            n = lines[-1]
            head = (f"{b.path}:{n}: `{doc_line(n)}` failed: {last} "
                    f"(python block at line {b.line}, exit status {r.returncode})")
        else:
            head = f"{b.where}: python block exited with status {r.returncode}: {last}"
    else:
        head = f"{b.where}: sh block exited with status {r.returncode}"
    out = ""
    if r.stdout.strip():
        out += "  stdout:\n" + tail(r.stdout) + "\n"
    if stderr:
        out += "  stderr:\n" + tail(stderr) + "\n"
    shown = "\n".join("    " + s for s in b.source().rstrip("\n").split("\n"))
    return f"{head}\n  block as run:\n{shown}\n{out}"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the ```sh and ```python blocks of the docs "
                                 "in document order (see the top of this file).")
    ap.add_argument("files", nargs="*", help=f"Markdown files (default: {' '.join(DEFAULT_FILES)})")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="the build folder, reachable as build/ (default: ROOT/build)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the Python of ```python blocks and of python3 (default: %(default)s)")
    ap.add_argument("--list", action="store_true", help="only show how each block is treated")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also show the output of the blocks that pass")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per block (%(default)s)")
    args = ap.parse_args(argv)
    errors = []
    try:
        blocks = {f: parse(f, errors) for f in doc_files(args)}
    except (DocError, OSError) as e:
        errors.append(str(e))
    if errors:
        for e in errors:
            print(f"doc_blocks: {e}", file=sys.stderr)
        return 1
    if args.list:
        for f, bs in blocks.items():
            for b in bs:
                print(f"{b.where:<24} {b.lang:<7} {describe(b)}")
        return 0
    build = os.path.abspath(args.build)
    python = args.python
    try:
        why = why_not_runnable(python, os.path.join(build, "cimgpu"))
    except (DocError, OSError, subprocess.SubprocessError) as e:
        print(f"doc_blocks: {e}", file=sys.stderr)
        return 1
    if why:
        print(f"doc_blocks: skipped: {why}")
        return SKIP_RETURN_CODE
    base = tempfile.mkdtemp(prefix="cimgpu-doc-test-")
    bindir, scripts = os.path.join(base, "bin"), os.path.join(base, "scripts")
    os.makedirs(bindir)
    os.makedirs(scripts)
    os.symlink(python, os.path.join(bindir, "python3"))
    env = dict(os.environ)
    env.update(PATH=bindir + os.pathsep + env.get("PATH", ""), MPLBACKEND="Agg",
               MPLCONFIGDIR=os.path.join(base, "mplconfig"), PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT + "/python", env.get("PYTHONPATH")) if p)
    no_mpi = why_no_mpi(os.path.join(build, "cimgpu"))
    for bs in blocks.values():
        for b in bs:
            if b.needs == "mpi" and no_mpi and not b.skip:
                b.skip = f"needs MPI: {no_mpi}"
    failures, ran, skipped, t_all = [], 0, 0, time.monotonic()
    for f, bs in blocks.items():
        if not any(b.runs() for b in bs):
            for b in bs:
                if b.skip:
                    print(f"{b.where:<24} {b.lang:<7} {describe(b)}")
                    skipped += 1
            continue
        work = make_scratch(base, f.replace("/", "_"), build)
        for b in bs:
            if b.lang in NOT_RUN:
                continue
            if b.skip:
                print(f"{b.where:<24} {b.lang:<7} {describe(b)}")
                skipped += 1
                continue
            t0 = time.monotonic()
            if args.verbose:
                print(f"{b.where:<24} {b.lang:<7} {describe(b)}", flush=True)
            msg = run_block(b, work, scripts, env, python, args.timeout, args.verbose)
            dt = time.monotonic() - t0
            ran += 1
            print(f"{b.where:<24} {b.lang:<7} {'FAILED' if msg else 'ok':<6} {dt:6.1f} s"
                  f"{'  (' + describe(b) + ')' if b.replaces else ''}", flush=True)
            if msg:
                later = sum(1 for x in bs if x.runs() and x.line > b.line)
                if later:       # they may need what this one makes
                    msg += f"  ({later} later blocks of {f} not run)\n"
                failures.append(msg)
                print(msg, file=sys.stderr, flush=True)
                break
    total = time.monotonic() - t_all
    print(f"doc_blocks: {ran} blocks run, {len(failures)} failed, {skipped} skipped, "
          f"{total:.1f} s")
    if failures or args.keep:
        print(f"doc_blocks: scratch folders kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

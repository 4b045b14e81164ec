#!/usr/bin/env bash
# gpu_check.sh -- the checks and figures that need a GPU, in one script for a
# machine with an NVIDIA GPU (docs/benchmarks.md, "The GPU check"). Nothing
# requires it: CI has no GPU.
#
#   bash benchmarks/gpu_check.sh
#
# Steps, each timed (elapsed seconds printed), in under 10 minutes in all:
#   1. packages: ocl-icd-libopencl1, ocl-icd-opencl-dev, clinfo when missing;
#      the build dependencies (tools/install-deps.sh) when there is no build;
#      an ICD file for the NVIDIA driver's OpenCL library when the driver
#      has one and /etc/OpenCL/vendors does not name it
#   2. build (tools/build.sh) and `build/cimgpu info`, clinfo -l
#   3. the kernel suite on the GPU: CIMGPU_DEVICE=<GPU> ctest -R test_kernels
#      (a skipped test counts as a failure here: it means no device opened)
#   4. the same `cimgpu mvm` and `cimgpu run` commands, fixed seeds, on the
#      GPU and on PoCL (CPU) into results files, compared byte for byte by
#      benchmarks/h5_compare.py (only the device name and the creation time
#      excluded, the command line compared without --device and --out), and
#      the stdout of `cimgpu mvm` (its results) compared with cmp
#   5. bench_mvm and bench_run on the GPU
#   6. `cimgpu --trials 10000 --images 10000` on the GPU, timed against the
#      60 s target (docs/design.md §5)
# then a summary block. Exit status 0 when every step passed (a missed
# performance target is reported, not a failure), 1 when a step failed or a
# comparison found a difference.
#
# Environment (defaults in brackets):
#   GPU_CHECK_GPU      device spec of the GPU side [NVIDIA]
#   GPU_CHECK_CPU      device spec of the CPU side [Portable Computing Language]
#                      (specs as --device takes them: an index or a
#                      substring of "platform / device", see `cimgpu info`;
#                      GPU_CHECK_GPU="Portable Computing Language" runs
#                      every step on PoCL, which tests the script itself)
#   GPU_CHECK_OUT      folder for logs and results [build/gpu_check]
#   GPU_CHECK_BUDGET_S total time budget in seconds [570]
#   GPU_CHECK_NO_INSTALL=1  never install packages
#   GPU_CHECK_SMALL=1  tiny workloads everywhere (a test of the script)
#   GPU_CHECK_MVM_BENCH, GPU_CHECK_RUN_BENCH, GPU_CHECK_FULL: the arguments of
#                      bench_mvm, bench_run and of the full-size cimgpu run
# shellcheck disable=SC2317 # the steps' functions run through `step` (bash -c)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

GPU=${GPU_CHECK_GPU:-NVIDIA}
CPU=${GPU_CHECK_CPU:-Portable Computing Language}
OUT=${GPU_CHECK_OUT:-build/gpu_check}
BUDGET=${GPU_CHECK_BUDGET_S:-570}
PY=/usr/bin/python3
if [ "${GPU_CHECK_SMALL:-0}" = 1 ]; then
  MVM_BENCH=${GPU_CHECK_MVM_BENCH:---trials 4 --inputs 64 --repeat 2 --no-ladder}
  RUN_BENCH=${GPU_CHECK_RUN_BENCH:---trials 8 --images 8 --repeat 2 --c2c-trials 2 --c2c-images 2 --proj-trials 4}
  FULL=${GPU_CHECK_FULL:---trials 20 --images 100}
  RUN_TRIALS=8 RUN_IMAGES=20 C2C_TRIALS=2 C2C_IMAGES=4 MVM_TRIALS=4
else
  MVM_BENCH=${GPU_CHECK_MVM_BENCH:---trials 128 --inputs 1024 --repeat 3}
  RUN_BENCH=${GPU_CHECK_RUN_BENCH:---trials 64 --images 100 --repeat 3 --c2c-trials 8 --c2c-images 8 --proj-trials 500}
  FULL=${GPU_CHECK_FULL:---trials 10000 --images 10000}
  RUN_TRIALS=64 RUN_IMAGES=100 C2C_TRIALS=4 C2C_IMAGES=16 MVM_TRIALS=16
fi
FULL_TARGET_S=60 # docs/design.md §5: 10000 chips x 10000 images on one H100-class GPU
RESERVE_S=150    # kept for the full-size run while the benchmarks run

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
START=$(date +%s)
FAILED=0
SUMMARY=()
sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi

elapsed() { echo $(($(date +%s) - START)); }
left() { echo $((BUDGET - $(elapsed))); }

# step NAME TIMEOUT_S COMMAND...: runs COMMAND with at most TIMEOUT_S (and
# never past the budget), its output on the terminal and in OUT/NAME.log;
# records pass/fail and the elapsed time.
step() {
  local name=$1 limit=$2 rem t0 rc
  shift 2
  rem=$(left)
  if [ "$limit" -gt "$rem" ]; then limit=$rem; fi
  echo
  echo "=== $name (at $(elapsed) s; limit ${limit} s)"
  if [ "$limit" -le 5 ]; then
    echo "gpu_check: $name: skipped, out of time (budget ${BUDGET} s)"
    SUMMARY+=("$(printf '%-28s %6s  %s' "$name" "-" "FAILED: skipped, out of time")")
    FAILED=1
    return 1
  fi
  t0=$(date +%s.%N)
  # a function of this script runs in a child bash (timeout runs programs)
  if declare -F "$1" >/dev/null; then set -- bash -c "$*"; fi
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  local dt
  dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "=== $name: $([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)") in ${dt} s"
  if [ "$rc" = 0 ]; then
    SUMMARY+=("$(printf '%-28s %6s  %s' "$name" "${dt}s" ok)")
  else
    [ "$rc" = 124 ] && rc="$rc: timed out after ${limit} s"
    SUMMARY+=("$(printf '%-28s %6s  %s' "$name" "${dt}s" "FAILED (exit $rc)")")
    FAILED=1
  fi
  return 0
}

# ---- 1. packages ----------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
packages() {
  local missing=() p
  for p in ocl-icd-libopencl1 ocl-icd-opencl-dev clinfo; do installed "$p" || missing+=("$p"); done
  if [ ! -x build/cimgpu ]; then
    echo "no build/cimgpu: installing the build dependencies (tools/install-deps.sh)"
    bash tools/install-deps.sh || return 1
  else
    installed python3-h5py || missing+=(python3-h5py)
    installed pocl-opencl-icd || missing+=(pocl-opencl-icd)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null; }; then
      echo "gpu_check: could not install ${missing[*]}"
      return 1
    fi
  else
    echo "packages present: ocl-icd-libopencl1 ocl-icd-opencl-dev clinfo python3-h5py pocl-opencl-icd"
  fi
  # The NVIDIA driver's OpenCL library without an ICD file (containers).
  if ! grep -qsl nvidia /etc/OpenCL/vendors/*.icd; then
    if ldconfig -p 2>/dev/null | grep -q 'libnvidia-opencl.so.1'; then
      echo "adding /etc/OpenCL/vendors/nvidia.icd for the driver's libnvidia-opencl.so.1"
      $sudo mkdir -p /etc/OpenCL/vendors &&
        echo libnvidia-opencl.so.1 | $sudo tee /etc/OpenCL/vendors/nvidia.icd >/dev/null
    else
      echo "note: no NVIDIA OpenCL ICD in /etc/OpenCL/vendors and no libnvidia-opencl.so.1"
    fi
  fi
  for f in /etc/OpenCL/vendors/*.icd; do [ -e "$f" ] && echo "ICD: $f: $(cat "$f")"; done
  return 0
}

# ---- 2. build, devices ------------------------------------------------------
devices() {
  build/cimgpu info || return 1
  if command -v clinfo >/dev/null; then clinfo -l || true; fi
  local g c
  g=$(CIMGPU_DEVICE="$GPU" build/cimgpu info | sed -n 's/^Default device ([^)]*): //p')
  c=$(CIMGPU_DEVICE="$CPU" build/cimgpu info | sed -n 's/^Default device ([^)]*): //p')
  echo "GPU side (\"$GPU\"): $g"
  echo "CPU side (\"$CPU\"): $c"
  case "$g$c" in none:* | *none:*) echo "gpu_check: a device spec matches no device"; return 1 ;; esac
  [ -n "$g" ] && [ -n "$c" ] || return 1
  if [ "$g" = "$c" ]; then
    echo "note: both sides are the same device: the comparisons test the script, not the GPU"
  fi
  printf '%s\n' "$g" >"$OUT/gpu_device.txt"
  return 0
}

# ---- 3. the kernel suite on the GPU ---------------------------------------
kernel_tests() {
  CIMGPU_DEVICE="$GPU" ctest --test-dir build -R '^test_kernels$' --output-on-failure -V \
    >"$OUT/test_kernels.out" 2>&1
  local rc=$?
  grep -E '\[ *(PASSED|FAILED|SKIPPED) *\]|tests? (passed|failed)|Total Test' \
    "$OUT/test_kernels.out"
  if grep -q 'SKIPPED' "$OUT/test_kernels.out"; then
    echo "gpu_check: test_kernels skipped tests: the device did not open"
    return 1
  fi
  if ! grep -q 'PASSED' "$OUT/test_kernels.out"; then
    echo "gpu_check: test_kernels ran no test"
    return 1
  fi
  return "$rc"
}

# ---- 4. the same commands on GPU and PoCL, compared -------------------------
make_inputs() {
  # a 300 x 70 ternary matrix (two input tiles of 256) and 24 input vectors
  $PY - "$OUT" <<'EOF'
import random, sys
r = random.Random(20240601)
d = sys.argv[1]
rows = lambda n, m: "\n".join(",".join(str(r.choice((-1, 0, 1))) for _ in range(m)) for _ in range(n))
open(d + "/w.csv", "w").write(rows(70, 300) + "\n")
open(d + "/x.csv", "w").write(rows(24, 300) + "\n")
open(d + "/analog.json", "w").write('{"m_mode": "TNN_I", "M": 256, "N": 256, "HRS": 5, "LRS": 30, '
    '"d2d_var": true, "HRS_NOISE": 1, "LRS_NOISE": 4, "adc_type": "SYM_RANGE_ADC", '
    '"resolution": 5}\n')
open(d + "/c2c.json", "w").write('{"m_mode": "TNN_IV", "M": 128, "N": 64, "HRS": 5, "LRS": 30, '
    '"d2d_var": true, "c2c_var": true, "HRS_NOISE": 1, "LRS_NOISE": 4, '
    '"adc_type": "POS_RANGE_ONLY_ADC", "resolution": 4}\n')
open(d + "/digital.json", "w").write('{"m_mode": "TNN_I", "M": 256, "N": 256, "digital_only": true}\n')
EOF
}
# compare_case NAME ARGS...: `cimgpu ARGS` on both sides, then the files
compare_case() {
  local name=$1 side spec rc=0
  shift
  for side in gpu cpu; do
    spec=$GPU
    [ "$side" = cpu ] && spec=$CPU
    build/cimgpu "$@" --device "$spec" --out "$OUT/$name.$side.h5" --force \
      >"$OUT/$name.$side.stdout" || { echo "gpu_check: $name on $side failed"; return 1; }
  done
  $PY benchmarks/h5_compare.py "$OUT/$name.gpu.h5" "$OUT/$name.cpu.h5" || rc=1
  if [ "$1" = mvm ]; then
    if cmp "$OUT/$name.gpu.stdout" "$OUT/$name.cpu.stdout"; then
      echo "stdout (results) equal: $(wc -l <"$OUT/$name.gpu.stdout") lines"
    else
      echo "gpu_check: $name: stdout differs"
      rc=1
    fi
  fi
  return "$rc"
}
compare_all() {
  local rc=0
  make_inputs || return 1
  compare_case mvm_analog mvm --config "$OUT/analog.json" --weights "$OUT/w.csv" \
    --inputs "$OUT/x.csv" --trials "$MVM_TRIALS" --seed 11 --trace || rc=1
  compare_case mvm_c2c mvm --config "$OUT/c2c.json" --weights "$OUT/w.csv" \
    --inputs "$OUT/x.csv" --trials "$MVM_TRIALS" --seed 12 || rc=1
  compare_case mvm_digital mvm --config "$OUT/digital.json" --weights "$OUT/w.csv" \
    --inputs "$OUT/x.csv" --seed 13 || rc=1
  compare_case run_d2d run --trials "$RUN_TRIALS" --images "$RUN_IMAGES" --seed 21 --trace || rc=1
  compare_case run_c2c_adc run --trials "$C2C_TRIALS" --images "$C2C_IMAGES" --seed 22 --c2c \
    --adc-bits 4 || rc=1
  compare_case run_crossbar_first run --trials "$C2C_TRIALS" --images "$RUN_IMAGES" --seed 23 \
    --first-layer crossbar --adc-bits 6 || rc=1
  return "$rc"
}

# ---- 5. the benchmarks on the GPU --------------------------------------------
bench_limit() {
  local l=$(($(left) - RESERVE_S))
  [ "$l" -gt "$1" ] && l=$1
  echo "$l"
}

# ---- 6. the full-size run -------------------------------------------------------
full_run() {
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  build/cimgpu $FULL --device "$GPU" || return 1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$OUT/full_seconds.txt"
}

# ---- the steps ---------------------------------------------------------------
export GPU CPU OUT PY sudo FULL MVM_TRIALS RUN_TRIALS RUN_IMAGES C2C_TRIALS C2C_IMAGES
export -f installed packages devices kernel_tests make_inputs compare_case compare_all full_run
if [ "${GPU_CHECK_NO_INSTALL:-0}" = 1 ]; then
  SUMMARY+=("$(printf '%-28s %6s  %s' packages - "not checked (GPU_CHECK_NO_INSTALL=1)")")
else
  step packages 400 packages # generous: an apt-get killed half-way leaves a broken system
fi
step build 300 bash tools/build.sh
if [ ! -x build/cimgpu ]; then
  echo "gpu_check: no build/cimgpu, nothing more to check"
  exit 1
fi
step devices 60 devices
GPU_NAME=$(cat "$OUT/gpu_device.txt" 2>/dev/null || echo "?")
step test_kernels 240 kernel_tests
step compare_gpu_pocl 240 compare_all
# shellcheck disable=SC2086 # the argument lists are word lists
step bench_mvm "$(bench_limit 150)" build/benchmarks/bench_mvm --device "$GPU" $MVM_BENCH
# shellcheck disable=SC2086
step bench_run "$(bench_limit 150)" build/benchmarks/bench_run --device "$GPU" $RUN_BENCH
step full_run 400 full_run

# ---- summary -----------------------------------------------------------------
echo
echo "==================== gpu_check summary ===================="
echo "GPU side: $GPU_NAME"
echo "CPU side: $CPU"
echo "logs and results: $OUT"
printf '%-28s %6s  %s\n' step time result
printf '%s\n' "${SUMMARY[@]}"
echo
echo "comparisons (GPU against PoCL, byte for byte):"
grep -h '^h5_compare: \(equal\|DIFFERENT\)' "$OUT/compare_gpu_pocl.log" 2>/dev/null |
  sed "s|$OUT/||g; s/^/  /" || echo "  none ran"
echo
echo "figures against targets (bench_mvm, bench_run on the GPU):"
for b in bench_mvm bench_run; do
  [ -f "$OUT/$b.log" ] || continue
  grep -E '( met( |;|$)|NOT MET)' "$OUT/$b.log" | sed "s/^ */  $b: /"
done
if [ "$FULL" != "--trials 10000 --images 10000" ]; then
  echo "  cimgpu $FULL: $(cat "$OUT/full_seconds.txt" 2>/dev/null || echo '?') s (not the 10000 x 10000 run: no verdict)"
elif [ -f "$OUT/full_seconds.txt" ]; then
  s=$(cat "$OUT/full_seconds.txt")
  v=$(awk -v s="$s" -v t="$FULL_TARGET_S" 'BEGIN { print (s <= t) ? "met" : "NOT MET (above target)" }')
  echo "  cimgpu $FULL: ${s} s (target <= ${FULL_TARGET_S} s for 10000 x 10000 on one H100/H200-class GPU): $v"
else
  echo "  cimgpu $FULL: no time (the run failed or ran out of time): NOT MET"
fi
echo "total: $(elapsed) s of a ${BUDGET} s budget"
[ "$FAILED" = 0 ] && echo "gpu_check: every step passed" || echo "gpu_check: FAILED (see above)"
exit "$FAILED"

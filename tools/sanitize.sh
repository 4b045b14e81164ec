#!/usr/bin/env bash
# sanitize.sh -- build with AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ and run the test suites there (all of them unless ctest
# arguments are given, e.g. `bash tools/sanitize.sh -L host`).
# Undefined behaviour and memory errors stop the test; leaks fail it except
# those inside PoCL's in-process LLVM kernel compiler (tools/lsan.supp).
# This build is the one without MPI (-DCIM_MPI=OFF): its suites test cimgpu
# as a build without MPI behaves (test_mpi: the refusal of a multi-process
# launch), while build/ with Open MPI tests the MPI path.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CIM_SANITIZE_DIR:-build-asan}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIM_SANITIZE=ON -DCIM_MPI=OFF \
      -DCIM_WERROR="${CIM_WERROR:-OFF}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure "$@"

#!/usr/bin/env bash
# build.sh -- configure and build cimgpu (binary: build/cimgpu).
# CIM_WERROR=ON in the environment makes warnings errors (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCIM_WERROR="${CIM_WERROR:-OFF}" >/dev/null
cmake --build build -j"$(nproc)"

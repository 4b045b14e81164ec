#!/usr/bin/env bash
# build.sh -- configure and build cimgpu (binary: build/cimgpu).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

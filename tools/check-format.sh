#!/usr/bin/env bash
# check-format.sh -- fail when a tracked C or OpenCL C file differs from what
# clang-format (the root .clang-format) makes of it. Generated files are
# excluded. To fix: clang-format -i FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format}
mapfile -t files < <(git ls-files -- '*.c' '*.h' '*.cl' ':!:kernels/cim_gauss_table.h')
"$clang_format" --version
"$clang_format" --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files formatted"

#!/usr/bin/env bash
# install-deps.sh -- the Debian packages cimgpu needs to build, test and run.
# One list for the README's set-up command and for CI (.ci/run).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  libhdf5-dev hdf5-tools libcjson-dev libcmocka-dev librandom123-dev zlib1g-dev libssl-dev
  dataset-fashion-mnist
  # MPI: `mpirun -np R cimgpu run|sweep` (optional at build time; docs/mpi.md)
  openmpi-bin libopenmpi-dev
  # Python: the cross-check tests, data/*.py and the docs' examples (tools/doc_blocks.py)
  python3 python3-numpy python3-h5py python3-matplotlib python3-pandas
  # PyTorch: data/convert_torch.py's agreement check and its tests; training of the larger model
  python3-torch
  clang-format
)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

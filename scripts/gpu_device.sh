#!/usr/bin/env bash
# On a GPU machine prepared by scripts/gpu_pack.sh (the `.device` folder
# carried along): puts Deno on PATH, unpacks node_modules, supplies OpenBLAS
# when the machine has none, and runs `deno task gpu:check` with the given
# options. Its report lands in bench/GPU.md and, where OUT is set, in
# $OUT/gpu_check.md and $OUT/gpu_check.log.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source .device/enter.sh
if [ ! -d node_modules ] && [ -f .device/node_modules.tar.xz ]; then
  xz -dc .device/node_modules.tar.xz | tar xf -
fi
if ! ldconfig -p | grep -q 'libopenblas.so.0' ||
  ! echo '#include <cblas.h>' | gcc -xc -E - >/dev/null 2>&1; then
  if [ -f .device/blas.tar.xz ]; then
    mkdir -p /tmp/lits-blas
    xz -dc .device/blas.tar.xz | tar xf - -C /tmp/lits-blas
    export CPATH=/tmp/lits-blas/include${CPATH:+:$CPATH}
    export LIBRARY_PATH=/tmp/lits-blas/lib${LIBRARY_PATH:+:$LIBRARY_PATH}
    export LD_LIBRARY_PATH=/tmp/lits-blas/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "gpu_device.sh: this machine has no OpenBLAS; using the carried one (/tmp/lits-blas)"
  fi
fi
exec deno task gpu:check "$@"

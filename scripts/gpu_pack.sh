#!/usr/bin/env bash
# Prepares .device/ (ignored by git) so that a GPU machine with no Deno and no
# network can run `deno task gpu:check`: Deno itself (the workplace's
# pack.sh), node_modules as one archive, and OpenBLAS (runtime and headers)
# for machines whose image lacks it. Then carry `.device` and run there:
#
#   bash scripts/gpu_device.sh
#
# Everything here comes from this machine; nothing is downloaded.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
bash "${PACK_SH:-/work/shared/device/pack.sh}"

[ -d node_modules ] || deno install
tar cf - node_modules | xz -T0 -6 > .device/node_modules.tar.xz

# OpenBLAS as the CPU library links it (libopenblas.so.0 and what it needs).
stage=$(mktemp -d)
mkdir -p "$stage/lib" "$stage/include"
includes=$(echo '#include <cblas.h>' | gcc -xc -E -H - 2>&1 >/dev/null || true)
for h in cblas.h openblas_config.h; do
  path=$(printf '%s\n' "$includes" | awk -v h="/$h" 'index($2, h) {print $2; exit}')
  cp "$(readlink -f "$path")" "$stage/include/$h"
done
cache=$(ldconfig -p)
for lib in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  path=$(printf '%s\n' "$cache" | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
  [ -n "$path" ] && cp "$(readlink -f "$path")" "$stage/lib/$lib"
done
ln -s libopenblas.so.0 "$stage/lib/libopenblas.so"
tar cf - -C "$stage" . | xz -T0 -6 > .device/blas.tar.xz
rm -rf "$stage"
du -sh .device | awk '{print "gpu_pack.sh: .device is " $1 " (carry .device; run: bash scripts/gpu_device.sh)"}'

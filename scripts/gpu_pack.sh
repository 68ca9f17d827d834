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
# The carried tree may not pass 64 MiB: only Linux x64 binaries travel
# (onnxruntime-node ships every platform's, about 240 MB more), without the
# packages' own test data and source maps, and Deno is packed at xz -9e.
tar cf - --exclude='*/bin/napi-v6/darwin' --exclude='*/bin/napi-v6/win32' \
  --exclude='*/bin/napi-v6/linux/arm64' --exclude='*/tests/data' --exclude='*.map' \
  node_modules | xz -T0 -9 > .device/node_modules.tar.xz
if [ ! -f .device/deno.9e ] || [ .device/deno.xz -nt .device/deno.9e ]; then
  xz -dc .device/deno.xz | xz -T0 -9e > .device/deno.xz.tmp
  mv .device/deno.xz.tmp .device/deno.xz && touch .device/deno.9e
fi

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
mib=$(( ($(du -sb .device | cut -f1) + $(git ls-files -z | du -cb --files0-from=- | tail -n 1 | cut -f1)) / 1048576 ))
[ "$mib" -le 64 ] || echo "gpu_pack.sh: .device and the tracked files come to $mib MiB, over the 64 MiB a device call carries" >&2
du -sh .device | awk '{print "gpu_pack.sh: .device is " $1 " (carry .device; run: bash scripts/gpu_device.sh)"}'

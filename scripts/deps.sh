#!/bin/sh
# Install what mmk needs on a fresh Debian 12 machine, from Debian's packages
# only.  Quiet and quick when everything is already there.
#   scripts/deps.sh          build and test dependencies
#   scripts/deps.sh bench    plus the benchmark peers
set -eu
pkgs="cmake make gcc pkg-config libcmocka-dev libzstd-dev zstd libjansson-dev"
if [ "${1:-}" = bench ]; then
  pkgs="$pkgs libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq $missing >/dev/null

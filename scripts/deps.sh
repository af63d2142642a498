#!/bin/sh
# Install what mmk needs on a fresh Debian 12 machine, from Debian's packages
# only.  Quiet and quick when everything is already there.
#   scripts/deps.sh          build and test dependencies
#   scripts/deps.sh bench    plus the benchmark peers
set -eu
pkgs="cmake make gcc pkg-config libcmocka-dev libzstd-dev zstd libjansson-dev"
# QEMU boots the bare-metal kernel (kernel/) in the tests; installed without
# its recommendations (no GUI), its firmware comes as dependencies.
lean="qemu-system-x86"
if [ "${1:-}" = bench ]; then
  pkgs="$pkgs libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev"
fi
absent() {
  out=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
  done
  echo "$out"
}
missing=$(absent $pkgs)
missing_lean=$(absent $lean)
[ -z "$missing$missing_lean" ] && exit 0
echo "deps: installing$missing$missing_lean"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
[ -z "$missing" ] || $SUDO apt-get install -y -qq $missing >/dev/null
[ -z "$missing_lean" ] || $SUDO apt-get install -y -qq --no-install-recommends $missing_lean >/dev/null

#!/bin/sh
# Boot the mmk kernel (kernel/) under QEMU and, with --check, judge its
# report.  Builds nothing: the image comes from the CMake build.
#   scripts/qemu-run.sh [--check] [--append CMDLINE] [--expect-status N]
#                       [--expect-text TEXT] [--module FILE]... KERNEL
# QEMU runs with TCG, 128 MiB, no display, the serial port as the console,
# stdin from /dev/null, isa-debug-exit for the status and no reboot, under
# a timeout.  Each --module FILE is passed as a Multiboot module (QEMU's
# -initrd "a,b,c"): the user programs, build/kernel/user/prog_*.elf, which
# the kernel finds by file name and runs (without them its program tests
# fail).  With --check the exit status is 0
# only when QEMU exited with the expected status (33: the kernel's pass),
# the last report line is "N passed, 0 failed" with N > 0 (for the default
# expectation), TEXT (if given) appears in the report, and no timeout hit;
# the boot-to-exit time is printed.  The selftest tests use the last two
# options to prove a failure is caught (kernel/selftest.c).
set -u
check=0 append="" expect=33 text="" modules=""
while [ $# -gt 1 ]; do
  case "$1" in
    --check) check=1; shift ;;
    --append) append=$2; shift 2 ;;
    --expect-status) expect=$2; shift 2 ;;
    --expect-text) text=$2; shift 2 ;;
    --module)
      case "$2" in
        *,*|*" "*) echo "qemu-run: module path $2 has a comma or a space (QEMU's -initrd separators)" >&2; exit 1 ;;
      esac
      if [ ! -f "$2" ]; then
        echo "qemu-run: no module file $2 (build it first: make qemu or make check)" >&2; exit 1
      fi
      modules=${modules:+$modules,}$2; shift 2 ;;
    *) break ;;
  esac
done
kernel=${1:?usage: qemu-run.sh [--check] [--append CMDLINE] [--expect-status N] [--expect-text TEXT] [--module FILE]... KERNEL}
qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
  echo "qemu-run: qemu-system-x86_64 is not installed (Debian package qemu-system-x86; scripts/deps.sh installs it)" >&2
  exit 1
fi
if [ ! -f "$kernel" ]; then
  echo "qemu-run: no kernel image at $kernel (build it first: make, make qemu or make check)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- -accel tcg -m 128M -display none -monitor none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -kernel "$kernel" -append "$append"
if [ -n "$modules" ]; then
  set -- "$@" -initrd "$modules"
fi
start=$(date +%s%N)
if [ $check -eq 0 ]; then
  timeout 60 "$qemu" "$@" -serial stdio < /dev/null
  status=$?
else
  timeout 60 "$qemu" "$@" -serial "file:$tmp/serial.log" < /dev/null
  status=$?
  tr -d '\r' < "$tmp/serial.log" > "$tmp/report.txt"
  cat "$tmp/report.txt"
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "qemu-run: QEMU exit status $status after $ms ms (boot to exit)"
[ $check -eq 1 ] || exit 0
if [ $status -eq 124 ]; then
  echo "qemu-run: FAIL: timeout (a hang)"; exit 1
fi
if [ $status -ne "$expect" ]; then
  echo "qemu-run: FAIL: exit status $status, expected $expect (33: all passed; 3: a test failed; 7: kernel trap; 0: triple fault)"
  exit 1
fi
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/report.txt" | tail -n 1)
if [ "$expect" -eq 33 ]; then
  case "$last" in
    "0 passed"*|"") echo "qemu-run: FAIL: no passing report line"; exit 1 ;;
    *" passed, 0 failed") ;;
    *) echo "qemu-run: FAIL: $last"; exit 1 ;;
  esac
fi
if [ -n "$text" ] && ! grep -qF "$text" "$tmp/report.txt"; then
  echo "qemu-run: FAIL: the report lacks \"$text\""; exit 1
fi
echo "qemu-run: ok: status $status, $last"

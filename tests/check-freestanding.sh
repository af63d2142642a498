#!/bin/sh
# The core must link without libc: every undefined symbol of libmmk_core.a is
# defined inside it, is the HAL's (hal_*, pmap_*), a compiler helper the
# freestanding build may call (mem*, libgcc bit helpers), or a sanitizer hook (__asan_*, __ubsan_*).
set -eu
lib=$1
undef=$(nm -u --format=posix "$lib" 2>/dev/null | awk 'NF >= 2 {print $1}' | sort -u)
def=$(nm --defined-only --format=posix "$lib" 2>/dev/null | awk 'NF >= 2 {print $1}' | sort -u)
bad=0
for s in $undef; do
  case "$s" in
    hal_*|pmap_*|__popcount*|__ctz*|__clz*|__udivti3|__umodti3|memset|memcpy|memmove|memcmp|__asan_*|__ubsan_*|__sanitizer_*|__tsan_*|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail) continue ;;
  esac
  if ! printf '%s\n' "$def" | grep -qx "$s"; then
    echo "core needs a symbol outside itself and the HAL: $s"; bad=1
  fi
done
[ $bad -eq 0 ] && echo "core is freestanding: $(printf '%s\n' "$undef" | grep -c . || true) undefined symbols, all HAL or compiler"
exit $bad

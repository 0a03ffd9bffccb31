#!/usr/bin/env bash
# Runs a firmware ELF under QEMU (MPS2-AN386, semihosting) with the counter plugin, the
# window gated by the entries of `inference_start` and `inference_end` (firmware/src/main.rs):
# one window per inference. The firmware's output goes to stdout, the counts to stderr
# (and to OUT_FILE when given).
#
# Usage: firmware/counter/count.sh PLUGIN_DIR ELF [OUT_FILE]   (PLUGIN_DIR: build.sh's OUT_DIR)
set -euo pipefail

die() { echo "counter/count.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: count.sh PLUGIN_DIR ELF [OUT_FILE]"
plugin=$1/libcounter.so elf=$2
[ -f "$plugin" ] || die "no $plugin (run firmware/counter/build.sh $1)"
[ -f "$elf" ] || die "no ELF at $elf"
command -v readelf >/dev/null || die "missing 'readelf' (apt-get install -y binutils)"
command -v qemu-system-arm >/dev/null || die "missing 'qemu-system-arm' (apt-get install -y qemu-system-arm)"

# A Thumb function's symbol value has bit 0 set; the instruction is at the value without it.
entry() {
    local v
    v=$(readelf -sW "$elf" | awk -v name="$1" '$4 == "FUNC" && $8 == name { print $2; exit }')
    [ -n "$v" ] || die "no function $1 in $elf's symbol table"
    printf '0x%x' $((0x$v & ~1))
}
start=$(entry inference_start)
end=$(entry inference_end)
args="start=$start,end=$end"
[ $# -eq 3 ] && args="$args,out=$3"

exec qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -semihosting-config enable=on,target=native -plugin "$plugin,$args" -kernel "$elf"

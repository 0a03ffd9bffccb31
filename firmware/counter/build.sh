#!/usr/bin/env bash
# Builds the instruction-counting QEMU plugin (counter.c) into OUT_DIR/libcounter.so.
#
# Debian ships no qemu-plugin.h, so this takes it from Debian's source tarball of the
# QEMU it runs (7.2), once, into OUT_DIR (nothing is written into the repository).
# Needs: curl, xz-utils, tar, a C compiler (cc), pkg-config and libglib2.0-dev.
#
# Usage: firmware/counter/build.sh OUT_DIR
set -euo pipefail

die() { echo "counter/build.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: build.sh OUT_DIR"
out=$1
here=$(cd "$(dirname "$0")" && pwd)
url=${QEMU_ORIG_TARBALL:-http://deb.debian.org/debian/pool/main/q/qemu/qemu_7.2+dfsg.orig.tar.xz}
# qemu-plugin.h of QEMU 7.2 (plugin API version 1), as in the tarball above.
header_sha256=19f277b037d05a8bcb5069f2f81a465d177208e5903048a915c56627d4c3748e

for tool in cc pkg-config curl tar xz sha256sum; do
    command -v "$tool" >/dev/null || die "missing '$tool' (apt-get install -y build-essential pkg-config curl xz-utils)"
done
pkg-config --exists glib-2.0 || die "missing glib-2.0 development files (apt-get install -y libglib2.0-dev)"

mkdir -p "$out" || die "cannot create $out"
header=$out/include/qemu-plugin.h
if [ ! -f "$header" ]; then
    mkdir -p "$out/include"
    tmp=$header.part
    curl -fsSL "$url" | tar -xJO --wildcards '*/include/qemu/qemu-plugin.h' >"$tmp" \
        || { rm -f "$tmp"; die "cannot fetch qemu-plugin.h from $url"; }
    [ -s "$tmp" ] || { rm -f "$tmp"; die "no include/qemu/qemu-plugin.h in $url"; }
    mv "$tmp" "$header"
fi
got=$(sha256sum "$header" | cut -d' ' -f1)
[ "$got" = "$header_sha256" ] || die "$header has sha256 $got, not QEMU 7.2's $header_sha256 (delete it to fetch again)"

# shellcheck disable=SC2046 # pkg-config's flags are meant to split
cc -shared -fPIC -O2 -Wall -Wextra -I"$out/include" $(pkg-config --cflags glib-2.0) \
    "$here/counter.c" -o "$out/libcounter.so" || die "cannot compile $here/counter.c"
echo "$out/libcounter.so"

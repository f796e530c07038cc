#!/bin/sh
# A packager's build: afxsock configured, built and installed with its own dependencies
# alone (GLib, OpenSSL), Criterion hidden from pkg-config, tests/samples/fuzz on 'auto'.
# Fails if the configuration needs Criterion or the install lacks a part.
# Usage: tools/packager-build.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-packager}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Every .pc file pkg-config would find, except Criterion's.
mkdir "$scratch/pc"
for dir in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
    for pc in "$dir"/*.pc; do
        [ -e "$pc" ] && [ "$(basename "$pc")" != criterion.pc ] && ln -sf "$pc" "$scratch/pc/"
    done
done
if PKG_CONFIG_LIBDIR="$scratch/pc" pkg-config --exists criterion; then
    echo "packager-build: Criterion is still visible to pkg-config" >&2
    exit 1
fi

rm -rf "$build"
PKG_CONFIG_LIBDIR="$scratch/pc" meson setup "$build" -Dtests=auto -Dsamples=auto -Dfuzz=auto \
    -Dbench=disabled -Dintrospection=disabled --prefix=/usr >"$scratch/setup.log" || {
    cat "$scratch/setup.log" >&2
    exit 1
}
grep -q "tests *: *False" "$scratch/setup.log" || {
    echo "packager-build: the tests were configured without Criterion" >&2
    exit 1
}
meson compile -C "$build" >/dev/null
meson install -C "$build" --destdir "$scratch/root" >/dev/null
for installed in usr/include/afxsock-1/afxsock.h usr/include/afxsock-1/afxsock/c-socket-service.h \
    "usr/lib/$(cc -print-multiarch)/pkgconfig/afxsock.pc" "usr/lib/$(cc -print-multiarch)/libafxsock.so"; do
    [ -e "$scratch/root/$installed" ] || {
        echo "packager-build: /$installed was not installed" >&2
        exit 1
    }
done
echo "packager-build: configured without Criterion, built and installed ($(find "$scratch/root" -type f | wc -l) files)"

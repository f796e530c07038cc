#!/bin/sh
# Makes docs/images/chatter-gtk.png again: the README's picture of samples/chatter-gtk,
# saved by the window's own test (tests/samples/chatter_gtk_test.py) under Xvfb while its
# connect blocks on a stopped server.
#
#   tools/chatter-screenshot.sh [BUILD_DIR]     (default: build, with chatter-gtk built)
#
# Needs what the test needs (tools/setup-deps.sh installs it): Xvfb, xdotool, xmodmap, and
# the fonts the picture shows. The test's certificates are made in BUILD_DIR/tests/tls-certs
# if they are not there yet, as meson test makes them.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
if [ ! -x "$build/samples/chatter-gtk/chatter-gtk" ]; then
    echo "no $build/samples/chatter-gtk/chatter-gtk: build it first (needs GTK 4 and JSON-GLib)" >&2
    exit 1
fi
status=0
AFXSOCK_TLS_CERTS="$build/tests/tls-certs" AFXSOCK_MAKE_CERTS="$root/tools/make-test-certs.sh" \
    python3 "$root/tests/samples/chatter_gtk_test.py" "$build/samples/chatter-gtk/chatter-gtk" \
    "$build/samples/chat/chat-server" "$build/samples/chat/chat-client" \
    "$root/docs/images/chatter-gtk.png" || status=$?
if [ "$status" != 0 ]; then
    echo "the test did not pass (status $status): docs/images/chatter-gtk.png may be stale" >&2
    exit 1
fi
echo "wrote docs/images/chatter-gtk.png"

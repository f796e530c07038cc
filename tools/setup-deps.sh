#!/bin/sh
# Installs the Debian packages afxsock needs to build and test, if any are missing.
# Usage: tools/setup-deps.sh [extra-package...]
set -eu

packages="gcc meson ninja-build pkg-config libglib2.0-dev libcriterion-dev python3 clang-format
valgrind iproute2 gobject-introspection libgirepository1.0-dev python3-gi gi-docgen
libuv1-dev libevent-dev libmsgpack-dev libtirpc-dev liburing-dev libssl-dev openssl glib-networking gnutls-bin
libgtk-4-dev libjson-glib-dev xvfb xdotool x11-xserver-utils fonts-dejavu-core fonts-nanum $*"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

#!/bin/sh
# The main demo, from a fresh Debian 12 machine: installs what is missing, builds, and runs
# the chat demo in the CHATSRVR/CHATTER tradition on loopback: one server, three clients, a
# short conversation, a clean shutdown. Pass --mfc for MFC's own archive format on the wire,
# --tls for the conversation over TLS (test certificates made in a temporary directory).
set -eu
cd "$(dirname "$0")/.."

tools/setup-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
exec samples/chat/demo.sh "$@" build

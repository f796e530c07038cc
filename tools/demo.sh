#!/bin/sh
# The main demo, from a fresh Debian 12 machine: installs what is missing, builds, and runs
# the echo server and client on loopback.
set -eu
cd "$(dirname "$0")/.."

tools/setup-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null

out=$(mktemp)
trap 'rm -f "$out"; kill "$server" 2>/dev/null || true' EXIT
build/samples/echo/echo-server --port 0 --address 127.0.0.1 --clients 1 >"$out" &
server=$!
while ! grep -q "listening on" "$out"; do
    kill -0 "$server" || { cat "$out"; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^listening on //p' "$out")
echo "== echo-server listening on 127.0.0.1 port $port"
echo "== echo-client sends three lines"
build/samples/echo/echo-client --host localhost --port "$port" "Hello from afxsock" \
    "CAsyncSocket on a GLib main loop" "Goodbye"
wait "$server"
echo "== echo-server log"
cat "$out"

#!/bin/sh
# samples/chat/demo.sh: one chat-server, three chat-clients taking turns, a clean shutdown.
#
#   samples/chat/demo.sh [--mfc] [--tls] [BUILD_DIR]
#
# BUILD_DIR (default: build at the top of the tree) must hold a build of afxsock. The
# server listens on 127.0.0.1, port 0, and prints the port it got; the clients connect by
# name (localhost). Each client says its lines in turn (--after N: once N messages were
# seen); the server shuts down after the sixth message and tells every client. The script
# then prints what each client's terminal showed, and the server's log.
#
# --mfc: MFC's archive format on the wire. --tls: the conversation over TLS, with test
# certificates made by tools/make-test-certs.sh in the demo's temporary directory (the
# server's is for localhost; each client verifies it against the test CA).
set -eu

mfc=
tls=
while [ $# -gt 0 ]; do
    case "$1" in
        --mfc) mfc=--mfc ;;
        --tls) tls=yes ;;
        -*) echo "usage: $0 [--mfc] [--tls] [BUILD_DIR]" >&2; exit 2 ;;
        *) break ;;
    esac
    shift
done
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build}/samples/chat
dir=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT

server_tls=
client_tls=
if [ -n "$tls" ]; then
    "$root/tools/make-test-certs.sh" "$dir/certs" >/dev/null
    server_tls="--tls-certificate=$dir/certs/server.pem --tls-key=$dir/certs/server.key"
    client_tls="--tls --tls-ca=$dir/certs/ca.pem"
fi

# The server's output comes through a pipe, so its first line (the port) can be read as soon
# as it is printed; the rest of the log is collected in the background.
mkfifo "$dir/server.pipe"
"$bin/chat-server" --port 0 --address 127.0.0.1 --exit-after 6 $mfc $server_tls \
    >"$dir/server.pipe" 2>&1 &
server=$!
exec 3<"$dir/server.pipe"
read -r first <&3 || true
case "$first" in
    "listening on "*) port=${first#listening on } ;;
    *) echo "chat-server did not start: $first" >&2; exit 1 ;;
esac
echo "$first" >"$dir/server.log"
cat <&3 >>"$dir/server.log" &
collector=$!
exec 3<&-

format="network byte order"
[ -n "$mfc" ] && format="MFC's CArchive format"
[ -n "$tls" ] && format="$format, over TLS"
echo "== chat-server on 127.0.0.1 port $port, messages in $format"
echo "== alice, bob and carol take turns; the server shuts down after 6 messages"

client() {
    name=$1
    shift
    "$bin/chat-client" --host localhost --port "$port" --name "$name" $mfc $client_tls "$@" \
        >"$dir/$name.out" 2>&1
}
client alice --say "Hi all! alice here, on a GLib main loop." \
    --after 3 --say "And nobody freezes while waiting for the others." &
alice=$!
client bob --after 1 --say "Hello alice. bob here: CSocket and CArchive, as in CHATTER." \
    --after 4 --say "The server keeps the history, so latecomers catch up." &
bob=$!
client carol --after 2 --say "carol here. Each message is one CArchive record." \
    --after 5 --say "Time to go. Bye!" &
carol=$!

status=0
wait "$alice" || status=1
wait "$bob" || status=1
wait "$carol" || status=1
wait "$server" || status=1
server=
wait "$collector" || true

for name in alice bob carol; do
    echo "---- $name's terminal"
    cat "$dir/$name.out"
done
echo "---- chat-server's log"
cat "$dir/server.log"
exit $status

#!/usr/bin/env python3
"""Runs samples/udp-peer: three peers as processes on loopback, three times.

First they find each other by broadcast (the first peer picks the shared port and prints
it), then through a multicast group on lo (the same, with the group's port), then through
peer lists (each peer is told the addresses of those started before it).
A garbage datagram sent to the first peer must be reported and ignored. Each peer says two
things and quits after hearing the four messages of the two others; every peer must have
heard every message of the others, once, and none of its own.
"""
import socket
import subprocess
import sys

peer_path = sys.argv[1]
names = ["alice", "bob", "carol"]


def start(name, extra):
    args = [peer_path, "--name", name, "--say", "hello from " + name, "--say", name + " again",
            "--expect", "4", "--timeout", "20"] + extra
    # Standard input stays open (its end would make the peer quit).
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(peer, prefix):
    """Returns the first line starting with prefix; the lines before it are kept."""
    seen = []
    for line in peer.stdout:
        seen.append(line)
        if line.startswith(prefix):
            return line, seen
    raise AssertionError("%s never printed %r: %r" % (peer.args, prefix, seen))


def finish(peers, early):
    results = {}
    for name, peer in zip(names, peers):
        # Not communicate(): it would close standard input at once. Each peer quits by
        # itself (after its messages, or its own --timeout).
        out = peer.stdout.read()
        peer.wait(timeout=30)
        results[name] = (peer.returncode, "".join(early[name]) + out, peer.stderr.read())
        peer.stdin.close()
    return results


def check(results, mode):
    for name, (code, out, err) in results.items():
        assert code == 0, (mode, name, code, out, err)
        lines = out.splitlines()
        for other in names:
            said = ["%s #1: hello from %s" % (other, other), "%s #2: %s again" % (other, other)]
            for line in said:
                expected = 0 if other == name else 1
                assert lines.count(line) == expected, (mode, name, line, out)
            if other != name:
                assert any(l.startswith("met %s at 127.0.0.1:" % other) for l in lines), \
                    (mode, name, other, out)
        assert "received 4 messages" in lines, (mode, name, out)
    print("%s: every peer heard the 4 messages of the two others" % mode)


def run_discovery(first_args, other_args):
    """The first peer picks the shared port; other_args(port) are the others' options."""
    peers, early = [], {}
    try:
        first = start(names[0], first_args)
        peers.append(first)
        line, early[names[0]] = read_until(first, "discovery on port ")
        port = line.split()[3]
        for name in names[1:]:
            peer = start(name, other_args(port))
            peers.append(peer)
            # Started one after the other, each once the previous one is listening.
            _, early[name] = read_until(peer, "discovery on port ")
        return finish(peers, early)
    finally:
        for peer in peers:
            if peer.poll() is None:
                peer.kill()
                peer.wait()


def run_peer_list():
    peers, early, addresses = [], {}, []
    try:
        for name in names:
            extra = ["--port", "0"]
            for address in addresses:
                extra += ["--peer", address]
            peer = start(name, extra)
            peers.append(peer)
            line, early[name] = read_until(peer, name + " listening on ")
            words = line.split()
            addresses.append("%s:%s" % (words[-3], words[-1]))
            if name == names[0]:
                # Anybody can send a datagram: garbage is reported and ignored.
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as garbage:
                    garbage.sendto(b"not an archive", (words[-3], int(words[-1])))
        results = finish(peers, early)
        err = results[names[0]][2]
        assert "ignored a datagram from 127.0.0.1:" in err, err
        return results
    finally:
        for peer in peers:
            if peer.poll() is None:
                peer.kill()
                peer.wait()


GROUP = "239.255.71.99"
check(run_discovery(["--broadcast", "0"], lambda port: ["--broadcast", port]), "broadcast")
check(run_discovery(["--multicast", GROUP + ":0"],
                    lambda port: ["--multicast", "%s:%s" % (GROUP, port), "--interface", "lo"]),
      "multicast")
check(run_peer_list(), "peer list")

# A --multicast that is not a group and a port is refused with a clear message.
for bad in ["10.0.0.1:5000", "239.255.71.99", "[ff15::1]"]:
    result = subprocess.run([peer_path, "--name", "dave", "--multicast", bad],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and "--multicast " + bad in result.stderr, \
        (bad, result.returncode, result.stderr)

# A bad peer address is refused with a clear message.
bad = subprocess.run([peer_path, "--name", "dave", "--peer", "nowhere"], capture_output=True,
                     text=True, timeout=10)
assert bad.returncode != 0 and "--peer nowhere" in bad.stderr, (bad.returncode, bad.stderr)
print("1 passed, 0 failed")

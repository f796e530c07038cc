#!/usr/bin/env python3
"""Runs samples/ping against 127.0.0.1 (and nothing else): -c 3, output as ping(8)'s.

The raw socket needs CAP_NET_RAW, the fallback ICMP datagram socket needs the user's group
in net.ipv4.ping_group_range. Where neither is permitted the test is skipped (exit 77);
where only one is, the other run is reported as not exercised.
"""
import re
import subprocess
import sys

ping_path = sys.argv[1]
NOT_PERMITTED = "ICMP sockets are not permitted here"

reply_re = re.compile(r"^64 bytes from 127\.0\.0\.1: icmp_seq=(\d+)( ttl=(\d+))? "
                      r"time=(\d+\.\d{3}) ms$")
rtt_re = re.compile(r"^rtt min/avg/max/mdev = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3})/"
                    r"(\d+\.\d{3}) ms$")


def run(extra):
    result = subprocess.run([ping_path, "-c", "3", "-i", "0.2"] + extra + ["127.0.0.1"],
                            capture_output=True, text=True, timeout=30)
    if result.returncode == 2 and NOT_PERMITTED in result.stderr:
        return None, result.stderr.strip()
    assert result.returncode == 0, (extra, result.returncode, result.stdout, result.stderr)
    return result.stdout.splitlines(), None


def check(lines, raw):
    assert lines[0] == "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.", lines
    replies = [reply_re.match(line) for line in lines[1:4]]
    assert all(replies), lines
    assert [int(m.group(1)) for m in replies] == [1, 2, 3], lines
    for m in replies:
        # A raw socket sees the IP header and its TTL; a datagram socket does not.
        assert (m.group(3) is not None) == raw, (raw, m.group(0))
        if raw:
            assert 1 <= int(m.group(3)) <= 255, m.group(0)
    assert lines[4] == "", lines
    assert lines[5] == "--- 127.0.0.1 ping statistics ---", lines
    assert re.match(r"^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$",
                    lines[6]), lines
    rtt = rtt_re.match(lines[7])
    assert rtt, lines
    low, average, high = (float(rtt.group(i)) for i in (1, 2, 3))
    times = [float(m.group(4)) for m in replies]
    assert low <= average <= high and low == min(times) and high == max(times), lines
    assert len(lines) == 8, lines


# The default: raw if permitted, else the datagram socket.
lines, refused = run([])
if lines is None:
    print("SKIP: " + refused)
    sys.exit(77)
raw = any(reply_re.match(line) and " ttl=" in line for line in lines)
check(lines, raw)
print("default (%s socket): 3 replies from 127.0.0.1" % ("raw" if raw else "datagram"))

# The unprivileged kind, asked for explicitly.
lines, refused = run(["--datagram"])
if lines is None:
    print("datagram socket not exercised: " + refused)
else:
    check(lines, False)
    print("--datagram: 3 replies from 127.0.0.1")

# Usage errors exit with 2, as ping(8) does.
usage = subprocess.run([ping_path, "-c", "1"], capture_output=True, text=True, timeout=10)
assert usage.returncode == 2 and "one HOST is needed" in usage.stderr, usage
print("1 passed, 0 failed")

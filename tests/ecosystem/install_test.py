#!/usr/bin/env python3
"""`meson install` into a temporary prefix, then a consumer built with pkg-config.

Usage: install_test.py BUILD_DIR CONSUMER_SOURCE
"""
import os
import shutil
import subprocess
import sys
import tempfile

build_dir, consumer = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as root:
    subprocess.run(["meson", "install", "--no-rebuild", "--quiet", "-C", build_dir,
                    "--destdir", root], check=True)
    pcs = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f == "afxsock.pc"]
    assert len(pcs) == 1, pcs
    headers = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f == "afxsock.h"]
    assert len(headers) == 1 and "/afxsock-1/" in headers[0], headers
    # Point the installed .pc file's prefix into the temporary root, where it was installed.
    with open(pcs[0]) as f:
        lines = f.read().splitlines()
    with open(pcs[0], "w") as f:
        for line in lines:
            if line.startswith("prefix="):
                line = "prefix=" + root + line[len("prefix="):]
            f.write(line + "\n")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "afxsock"],
                           env=env, capture_output=True, text=True, check=True).stdout.split()
    assert any(f.endswith("/afxsock-1") for f in flags), flags
    program = os.path.join(root, "consumer")
    subprocess.run(["cc", "-o", program, consumer] + flags, check=True)
    libdir = [f[2:] for f in flags if f.startswith("-L")]
    run = subprocess.run([program], env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdir)),
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr)
    assert "consumer: connected and echoed" in run.stdout, run.stdout
print("1 passed, 0 failed")

#!/usr/bin/env python3
"""`meson install` into a temporary prefix, then a consumer built with pkg-config, by the
command README.md shows ("Using it from C"), run as written.

Usage: install_test.py BUILD_DIR CONSUMER_SOURCE README
"""
import os
import shutil
import subprocess
import sys
import tempfile

from readme_blocks import block

build_dir, consumer, readme = sys.argv[1], sys.argv[2], sys.argv[3]
command = block(readme, "Using it from C", "sh").strip()
assert command.startswith("cc ") and "pkg-config --cflags --libs afxsock" in command, command
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
    shutil.copy(consumer, os.path.join(root, "consumer.c"))
    subprocess.run(command, shell=True, cwd=root, env=env, check=True)
    libdir = [f[2:] for f in flags if f.startswith("-L")]
    run = subprocess.run([program], env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdir)),
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr)
    assert "consumer: connected and echoed" in run.stdout, run.stdout

    # The Python overrides, where they were installed, are the ones PyGObject loads.
    overrides = [d for d, _, fs in os.walk(root) for f in fs if f == "Afx.py"]
    typelibs = [d for d, _, fs in os.walk(root) for f in fs if f == "Afx-1.0.typelib"]
    if overrides and typelibs and os.path.exists("/usr/bin/python3"):
        site = os.path.dirname(os.path.dirname(overrides[0]))  # site/gi/overrides -> site
        check = ("import gi; gi.require_version('Afx', '1.0'); from gi.repository import Afx; "
                 "assert Afx.AsyncSocket.receive.__module__ == 'gi.overrides.Afx'; print('ok')")
        python = subprocess.run(
            ["/usr/bin/python3", "-c", check], capture_output=True, text=True, timeout=30,
            env=dict(os.environ, PYTHONPATH=site, GI_TYPELIB_PATH=typelibs[0],
                     LD_LIBRARY_PATH=":".join(libdir)))
        assert python.returncode == 0 and python.stdout == "ok\n", (python.stdout, python.stderr)
print("1 passed, 0 failed")

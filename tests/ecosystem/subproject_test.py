#!/usr/bin/env python3
"""afxsock as a Meson subproject: a consumer project pulls it in and uses it, with the
meson.build README.md shows ("Using it from C"), as written.

Usage: subproject_test.py SOURCE_ROOT CONSUMER_SOURCE README
"""
import os
import shutil
import subprocess
import sys
import tempfile

from readme_blocks import block

source_root, consumer, readme = sys.argv[1], sys.argv[2], sys.argv[3]
meson_build = block(readme, "Using it from C", "meson")
assert "subproject('afxsock'" in meson_build, meson_build
with tempfile.TemporaryDirectory() as top:
    os.makedirs(os.path.join(top, "subprojects"))
    os.symlink(os.path.abspath(source_root), os.path.join(top, "subprojects", "afxsock"))
    shutil.copy(consumer, os.path.join(top, "consumer.c"))
    with open(os.path.join(top, "meson.build"), "w") as f:
        f.write(meson_build)
    build = os.path.join(top, "build")
    subprocess.run(["meson", "setup", build, top], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["meson", "compile", "-C", build, "consumer"], check=True,
                   stdout=subprocess.DEVNULL)
    run = subprocess.run([os.path.join(build, "consumer")], capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr)
    assert "consumer: connected and echoed" in run.stdout, run.stdout
print("1 passed, 0 failed")

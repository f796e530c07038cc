#!/usr/bin/env python3
"""Runs the Python example of README.md's "From Python" section, as a reader would paste it.

    readme_python_test.py README.md

The block must run to its end within the deadline and print b'hello' (the echo).
"""
import re
import subprocess
import sys

readme = open(sys.argv[1], encoding="utf-8").read()
section = readme.split("\n## From Python\n", 1)
assert len(section) == 2, "README.md has no '## From Python' section"
section = section[1].split("\n## ", 1)[0]
blocks = re.findall(r"```python\n(.*?)```", section, re.S)
assert blocks, "the 'From Python' section has no python block"
result = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True,
                        timeout=30)
assert result.returncode == 0, "the README's example failed:\n" + result.stderr
assert result.stdout == "b'hello'\n", "the README's example printed %r" % result.stdout
print("1 passed, 0 failed")

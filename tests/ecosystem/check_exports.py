#!/usr/bin/env python3
"""The shared library exports exactly the functions the public headers declare.

Usage: check_exports.py LIBRARY HEADER...
Every declaration marked AFXSOCK_AVAILABLE_IN_ALL (a function, or the get_type function of
a G_DECLARE_* macro) must be exported, and nothing else may be.
"""
import re
import subprocess
import sys

library, headers = sys.argv[1], sys.argv[2:]

declared = set()
for header in headers:
    text = open(header, encoding="utf-8").read()
    for match in re.finditer(r"AFXSOCK_AVAILABLE_IN_ALL\s+(G_DECLARE_\w+\s*\([^)]*\)|[^;]*?;)",
                             text, re.S):
        declaration = match.group(1)
        macro = re.match(r"G_DECLARE_\w+\s*\(\s*\w+\s*,\s*(\w+)", declaration)
        if macro:
            declared.add(macro.group(1) + "_get_type")
            continue
        name = re.search(r"(\w+)\s*\(", declaration)
        assert name, "cannot read the declaration: " + declaration
        declared.add(name.group(1))

output = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True,
                        text=True, check=True).stdout
exported = {line.split()[-1] for line in output.splitlines()
            if len(line.split()) == 3 and line.split()[1] in "TWBDR"}
exported = {name for name in exported if not name.startswith("_")}

missing = sorted(declared - exported)
extra = sorted(exported - declared)
for name in missing:
    print("declared but not exported:", name)
for name in extra:
    print("exported but not declared:", name)
print(f"{len(declared)} declared, {len(exported)} exported")
if missing or extra:
    print("0 passed, 1 failed")
    sys.exit(1)
print("1 passed, 0 failed")

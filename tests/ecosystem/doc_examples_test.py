#!/usr/bin/env python3
"""Compiles the C examples of the API reference, as a reader would paste them.

    doc_examples_test.py Afx-1.0.gir SOURCE_ROOT BUILD_ROOT CC...

Every class and interface page of the reference opens with an example (the doc comment's
```c block, as it stands in the introspection data gi-docgen reads). Each example must
compile on its own after `#include <afxsock.h>`, warnings as errors, and each type listed
in TYPES must have one.
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TYPES = {"AsyncSocket", "Socket", "SocketFile", "Archive", "Serializable", "TlsSettings",
         "SocketService", "Collection"}
CORE = "{http://www.gtk.org/introspection/core/1.0}"

gir, source_root, build_root, cc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cflags = subprocess.run(["pkg-config", "--cflags", "gio-2.0"], check=True, capture_output=True,
                        text=True).stdout.split()
namespace = ET.parse(gir).getroot().find(CORE + "namespace")
examples = {}
for element in list(namespace.findall(CORE + "class")) + list(namespace.findall(CORE + "interface")):
    doc = element.find(CORE + "doc")
    blocks = re.findall(r"```c\n(.*?)```", doc.text if doc is not None else "", re.S)
    if blocks:
        examples[element.get("name")] = blocks

failures = ["%s: no example on its page" % name for name in sorted(TYPES - examples.keys())]
with tempfile.TemporaryDirectory() as scratch:
    for name, blocks in sorted(examples.items()):
        for number, block in enumerate(blocks):
            path = os.path.join(scratch, "%s-%d.c" % (name, number))
            with open(path, "w") as source:
                source.write("#include <afxsock.h>\n\n" + block)
            result = subprocess.run(
                cc + ["-fsyntax-only", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                      "-Wno-unused-function", "-Wno-unused-parameter",
                      "-I" + os.path.join(source_root, "include"),
                      "-I" + os.path.join(build_root, "include"), path] + cflags,
                capture_output=True, text=True)
            if result.returncode != 0:
                failures.append("%s example %d does not compile:\n%s" % (name, number,
                                                                         result.stderr))
            else:
                print("ok   %s example %d" % (name, number))
for failure in failures:
    print("FAIL " + failure)
print("%d examples compiled, %d failures" % (sum(map(len, examples.values())), len(failures)))
sys.exit(1 if failures else 0)

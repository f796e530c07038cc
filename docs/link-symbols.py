#!/usr/bin/env python3
"""Copies the reference's content pages, linking the C functions they name.

    link-symbols.py Afx-1.0.gir OUTPUT_DIR PAGE.md...

The pages in docs/ are plain Markdown, read as they are in the repository; for the API
reference (gi-docgen), each `c_function()` they mention outside code blocks becomes
gi-docgen's link to the function's page ([method@Afx.AsyncSocket.connect], ...). Functions
hidden from introspection have no page and stay as they are.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

CORE = "{http://www.gtk.org/introspection/core/1.0}"
C = "{http://www.gtk.org/introspection/c/1.0}"
KINDS = {"method": "method", "constructor": "ctor", "function": "func"}

gir, output_dir, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
namespace = ET.parse(gir).getroot().find(CORE + "namespace")
prefix = namespace.get("name")
links = {}
for container in namespace:
    owner = container.get("name")
    for element in container:
        kind = element.tag.replace(CORE, "")
        identifier = element.get(C + "identifier")
        if identifier is None:
            continue
        if container.tag == CORE + "function":
            continue
        if kind in KINDS:
            links[identifier] = "%s@%s.%s.%s" % (KINDS[kind], prefix, owner,
                                                 element.get("name"))
for element in namespace.findall(CORE + "function"):
    links[element.get(C + "identifier")] = "func@%s.%s" % (prefix, element.get("name"))

SYMBOL = re.compile(r"`(c_[a-z0-9_]+)(?: ?\(\))?`|\b(c_[a-z0-9_]+) ?\(\)")


def link(match):
    target = links.get(match.group(1) or match.group(2))
    return "[%s]" % target if target else match.group(0)


os.makedirs(output_dir, exist_ok=True)
for page in pages:
    out, fenced = [], False
    for line in open(page, encoding="utf-8"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append(line if fenced else SYMBOL.sub(link, line))
    with open(os.path.join(output_dir, os.path.basename(page)), "w", encoding="utf-8") as copy:
        copy.writelines(out)

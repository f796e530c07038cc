#!/usr/bin/env python3
"""Writes the first ```LANGUAGE block after HEADING in a Markdown file to OUT.

    extract_block.py DOC HEADING LANGUAGE OUT

So that a document's example is compiled and run as written (meson test howto-mfc-peer).
"""
import re
import sys

doc, heading, language, out = sys.argv[1:5]
text = open(doc, encoding="utf-8").read()
match = re.search(r"^#+ %s\n(.*)" % re.escape(heading), text, re.M | re.S)
if not match:
    sys.exit("%s has no heading '%s'" % (doc, heading))
code = re.search(r"```%s\n(.*?)```" % re.escape(language), match.group(1), re.S)
if not code:
    sys.exit("%s: no %s block after '%s'" % (doc, language, heading))
with open(out, "w", encoding="utf-8") as f:
    f.write(code.group(1))

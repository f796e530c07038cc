"""The code blocks of README.md, for the tests that run them as written."""
import re


def block(readme, heading, language):
    """The first ```language block of README.md's section titled `heading` (## or ###)."""
    text = open(readme, encoding="utf-8").read()
    match = re.search(r"^#{2,3} %s\n(.*?)(?=^## |\Z)" % re.escape(heading), text, re.M | re.S)
    assert match, "README.md has no section '%s'" % heading
    code = re.search(r"```%s\n(.*?)```" % re.escape(language), match.group(1), re.S)
    assert code, "README.md's section '%s' has no %s block" % (heading, language)
    return code.group(1)

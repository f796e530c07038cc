#!/usr/bin/env python3
# wire_check.py: an independent CArchive decoder and encoder, written from
# docs/wire-format.md alone with the struct module and Python's codecs (no afxsock
# code), checked against the specification's test vectors (§10.1-§10.4) and against the
# C library through archive-wire-helper.
#
# Usage: wire_check.py HELPER WIRE_FORMAT_MD
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import datetime
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

NETWORK, MFC = "network", "mfc"


class WireError(Exception):
    pass


class Writer:
    """Encodes fields as §2-§7 of the specification describe them."""

    def __init__(self, fmt):
        self.fmt = fmt
        self.order = ">" if fmt == NETWORK else "<"
        self.out = bytearray()
        self.next_id = 1
        self.objects = {}  # id(obj) -> archive id
        self.classes = {}  # class name -> archive id

    def pack(self, code, value):
        self.out += struct.pack(self.order + code, value)

    def byte(self, v): self.pack("B", v)
    def word(self, v): self.pack("H", v)
    def long(self, v): self.pack("i", v)
    def dword(self, v): self.pack("I", v)
    def int(self, v): self.pack("i", v)
    def unsigned(self, v): self.pack("I", v)
    def short(self, v): self.pack("h", v)
    def char(self, v): self.pack("b", v)
    def wchar(self, v): self.pack("H", v)
    def bool(self, v): self.pack("B", 1 if v else 0)
    def float(self, v): self.pack("f", v)
    def double(self, v): self.pack("d", v)
    def longlong(self, v): self.pack("q", v)
    def ulonglong(self, v): self.pack("Q", v)

    def network_length(self, n):  # §3
        if n < 0xFFFFFFFF:
            self.dword(n)
        else:
            self.dword(0xFFFFFFFF)
            self.ulonglong(n)

    def mfc_string_length(self, n, wide):  # §4.1
        if wide:
            self.byte(0xFF)
            self.word(0xFFFE)
        if n < 0xFF:
            self.byte(n)
        elif n < 0xFFFE:
            self.byte(0xFF)
            self.word(n)
        elif n < 0xFFFFFFFF:
            self.byte(0xFF)
            self.word(0xFFFF)
            self.dword(n)
        else:
            self.byte(0xFF)
            self.word(0xFFFF)
            self.dword(0xFFFFFFFF)
            self.ulonglong(n)

    def count(self, n):  # §3, §4.2
        if self.fmt == NETWORK:
            self.network_length(n)
        elif n < 0xFFFF:
            self.word(n)
        else:
            self.word(0xFFFF)
            if n < 0xFFFFFFFF:
                self.dword(n)
            else:
                self.dword(0xFFFFFFFF)
                self.ulonglong(n)

    def cstring(self, text):  # §5.1
        data = text.encode("utf-8")
        if self.fmt == NETWORK:
            self.network_length(len(data))
            self.out += data
        elif all(b < 0x80 for b in data):
            self.mfc_string_length(len(data), False)
            self.out += data
        else:
            units = text.encode("utf-16-le")
            self.mfc_string_length(len(units) // 2, True)
            self.out += units

    def block(self, data):  # §5.2
        self.count(len(data))
        self.out += data

    def line(self, text):  # §5.3
        self.out += text.encode("utf-8")

    def tag(self, ident, is_class):  # §7.2
        if ident < 0x7FFF:
            self.word((0x8000 | ident) if is_class else ident)
        else:
            self.word(0x7FFF)
            self.dword((0x80000000 | ident) if is_class else ident)

    def write_class(self, name, schema):
        if name in self.classes:
            self.tag(self.classes[name], True)
            return
        self.word(0xFFFF)
        self.word(schema)
        self.word(len(name))
        self.out += name.encode("ascii")
        self.classes[name] = self.next_id
        self.next_id += 1

    def write_object(self, obj):
        if obj is None:
            self.word(0)
            return
        if id(obj) in self.objects:
            self.tag(self.objects[id(obj)], False)
            return
        self.write_class(obj.CLASS, obj.SCHEMA)
        self.objects[id(obj)] = self.next_id  # before its fields: cycles
        self.next_id += 1
        obj.store(self)


class Reader:
    def __init__(self, data, fmt, classes):
        self.data = bytes(data)
        self.pos = 0
        self.fmt = fmt
        self.order = ">" if fmt == NETWORK else "<"
        self.classes = classes  # name -> (schema, python class)
        self.table = [None]  # id -> ("class", cls) or ("object", obj)

    def take(self, n):
        if self.pos + n > len(self.data):
            raise WireError("end of archive at offset %d" % self.pos)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, code):
        size = struct.calcsize(code)
        return struct.unpack(self.order + code, self.take(size))[0]

    def byte(self): return self.unpack("B")
    def word(self): return self.unpack("H")
    def long(self): return self.unpack("i")
    def dword(self): return self.unpack("I")
    def int(self): return self.unpack("i")
    def unsigned(self): return self.unpack("I")
    def short(self): return self.unpack("h")
    def char(self): return self.unpack("b")
    def wchar(self): return self.unpack("H")
    def float(self): return self.unpack("f")
    def double(self): return self.unpack("d")
    def longlong(self): return self.unpack("q")
    def ulonglong(self): return self.unpack("Q")

    def bool(self):
        b = self.byte()
        if self.fmt == NETWORK and b > 1:
            raise WireError("bool byte %d" % b)
        return b != 0

    def network_length(self):
        n = self.dword()
        return self.ulonglong() if n == 0xFFFFFFFF else n

    def mfc_string_length(self):  # §4.1, step for step
        wide = False
        b = self.byte()
        if b < 0xFF:
            return b, wide
        w = self.word()
        if w == 0xFFFE:
            wide = True
            b = self.byte()
            if b < 0xFF:
                return b, wide
            w = self.word()
        if w < 0xFFFF:
            return w, wide
        d = self.dword()
        if d < 0xFFFFFFFF:
            return d, wide
        return self.ulonglong(), wide

    def count(self):
        if self.fmt == NETWORK:
            return self.network_length()
        n = self.word()
        if n < 0xFFFF:
            return n
        n = self.dword()
        return self.ulonglong() if n == 0xFFFFFFFF else n

    def cstring(self):
        if self.fmt == NETWORK:
            text = self.take(self.network_length()).decode("utf-8")
        else:
            n, wide = self.mfc_string_length()
            raw = self.take(2 * n if wide else n)
            text = raw.decode("utf-16-le" if wide else "utf-8")
        if "\0" in text:
            raise WireError("NUL in string")
        return text

    def block(self):
        return self.take(self.count())

    def line(self):
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        raw = self.take(end - self.pos)
        return raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8")

    def tag(self):
        """Returns (kind, value): ("null"|"object"|"class"|"new class", id)."""
        w = self.word()
        if w == 0xFFFF:
            return "new class", None
        if w == 0x7FFF:
            t = self.dword()
        else:
            t = ((w & 0x8000) << 16) | (w & 0x7FFF)
        if t & 0x80000000:
            return "class", t & 0x7FFFFFFF
        return ("null", 0) if t == 0 else ("object", t)

    def class_entry(self, kind, ident):
        if kind == "new class":
            schema = self.word()
            name = self.take(self.word()).decode("ascii")
            if name not in self.classes:
                raise WireError("unknown class %r" % name)
            if self.classes[name][0] != schema:
                raise WireError("schema mismatch for %r" % name)
            self.table.append(("class", self.classes[name][1]))
            return self.classes[name][1]
        if ident == 0 or ident >= len(self.table) or self.table[ident][0] != "class":
            raise WireError("class id %d is not defined" % ident)
        return self.table[ident][1]

    def read_class(self):
        kind, ident = self.tag()
        if kind in ("null", "object"):
            raise WireError("expected a class tag")
        return self.class_entry(kind, ident)

    def read_object(self):
        kind, ident = self.tag()
        if kind == "null":
            return None
        if kind == "object":
            if ident >= len(self.table) or self.table[ident][0] != "object":
                raise WireError("object id %d is not defined" % ident)
            return self.table[ident][1]
        cls = self.class_entry(kind, ident)
        obj = cls()
        self.table.append(("object", obj))  # before its fields: cycles
        obj.load(self)
        return obj

    def at_end(self):
        return self.pos == len(self.data)


class Node:
    """CNode, schema 1: LONG value, object next (§10.2)."""
    CLASS, SCHEMA = "CNode", 1

    def __init__(self, value=0, next=None):
        self.value, self.next = value, next

    def store(self, w):
        w.long(self.value)
        w.write_object(self.next)

    def load(self, r):
        self.value = r.long()
        self.next = r.read_object()


class Versioned:
    """CVersioned, schema 2: LONG a, LONG b (§10.2)."""
    CLASS, SCHEMA = "CVersioned", 2

    def __init__(self, a=0, b=0):
        self.a, self.b = a, b

    def store(self, w):
        w.long(self.a)
        w.long(self.b)

    def load(self, r):
        self.a = r.long()
        self.b = r.long()


class StringList:
    """CStringList, schema 0: a count and that many CStrings (§12)."""
    CLASS, SCHEMA = "CStringList", 0

    def __init__(self, items=()):
        self.items = list(items)

    def store(self, w):
        w.strv(self.items)

    def load(self, r):
        self.items = r.strv()


CLASSES = {"CNode": (1, Node), "CVersioned": (2, Versioned), "CStringList": (0, StringList)}


# MFC's collections (§12) and value types (§13), written from the specification alone.

EPOCH_OLE = datetime.datetime(1899, 12, 30, tzinfo=datetime.timezone.utc)
EPOCH_UNIX = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
TIME64_MARK = 0x8000000A
STATUS = {"error": -1, "valid": 0, "invalid": 1, "null": 2}


def ole_date(when):
    """§13.2: days since 1899-12-30; before it, the fraction still runs forward."""
    ms = (when - EPOCH_OLE) // datetime.timedelta(milliseconds=1)
    day, rest = divmod(ms, 86400000)
    return day + rest / 86400000 if day >= 0 else day - rest / 86400000


def from_ole_date(date):
    day = math.floor(date) if date >= 0 else math.ceil(date)
    ms = round(abs(date - day) * 86400000)
    return EPOCH_OLE + datetime.timedelta(days=day, milliseconds=ms)


class MfcWriter(Writer):
    def __init__(self, fmt, version=0x0E00):
        super().__init__(fmt)
        self.version = version

    def strv(self, items):
        self.count(len(items))
        for text in items:
            self.cstring(text)

    def numbers(self, code, values):
        self.count(len(values))
        for v in values:
            self.pack(code, v)

    def object_list(self, objs):
        self.count(len(objs))
        for obj in objs:
            self.write_object(obj)

    def entries(self, pairs, key, value):  # keys in ascending order (§12)
        self.count(len(pairs))
        for k in sorted(pairs):
            key(k)
            value(pairs[k])

    def raw_elements(self, data, n):  # the elements' memory, in both formats
        self.count(n)
        self.out += data

    def mfc_bool(self, v):  # §13.3: MFC 6 writes bool as an int
        if self.fmt == MFC and self.version < 0x0700:
            self.long(1 if v else 0)
        else:
            self.bool(v)

    def ctime(self, when):
        seconds = (when - EPOCH_UNIX) // datetime.timedelta(seconds=1)
        if self.fmt == MFC and self.version < 0x0800:
            self.long(seconds)
        else:
            self.dword(TIME64_MARK)
            self.longlong(seconds)

    def ole(self, status, code, value):
        self.long(STATUS[status])
        if code == "cy":
            self.long(value >> 32)
            self.dword(value & 0xFFFFFFFF)
        else:
            self.double(value if status == "valid" else 0.0)


class MfcReader(Reader):
    def __init__(self, data, fmt, classes, version=0x0E00):
        super().__init__(data, fmt, classes)
        self.version = version

    def strv(self):
        return [self.cstring() for _ in range(self.count())]

    def numbers(self, code):
        return [self.unpack(code) for _ in range(self.count())]

    def object_list(self):
        return [self.read_object() for _ in range(self.count())]

    def entries(self, key, value):
        result = {}
        for _ in range(self.count()):
            k = key()
            if k in result:
                raise WireError("duplicate key %r" % (k,))
            result[k] = value()
        return result

    def raw_elements(self, size):
        n = self.count()
        return self.take(n * size)

    def mfc_bool(self):
        if self.fmt == MFC and self.version < 0x0700:
            return self.long() != 0
        return self.bool()

    def ctime(self):
        first = self.dword()
        if first == TIME64_MARK and (self.fmt == NETWORK or self.version >= 0x0800):
            seconds = self.longlong()
        else:
            seconds = first - (1 << 32) if first & 0x80000000 else first
        return EPOCH_UNIX + datetime.timedelta(seconds=seconds)

    def ole(self, code):
        status = {v: k for k, v in STATUS.items()}.get(self.long())
        if status is None:
            raise WireError("bad status")
        if code == "cy":
            hi, lo = self.long(), self.dword()
            return status, (hi << 32) | lo
        return status, self.double()

failures = []
checks = [0]


def check(ok, what):
    checks[0] += 1
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def hexbytes(data):
    return " ".join("%02x" % b for b in data)


def unhex(text):
    return bytes.fromhex(text.replace(" ", "").replace("\n", ""))


# Vectors (§10.1)

def parse_value(kind, value):
    if kind in ("CString", "line"):
        m = re.fullmatch(r'"(.*)"(?: × (\S+))?', value)
        unit = m.group(1).replace("\\n", "\n")
        return unit * (int(m.group(2), 0) if m.group(2) else 1)
    if kind == "byte block":
        return unhex(value.strip("[]"))
    if kind in ("float", "double"):
        return float(value)
    return int(value, 0)


def encode(kind, value, fmt):
    w = Writer(fmt)
    method = {"BYTE": w.byte, "WORD": w.word, "LONG": w.long, "DWORD": w.dword,
              "int": w.int, "unsigned": w.unsigned, "short": w.short, "char": w.char,
              "wchar_t": w.wchar, "bool": w.bool, "float": w.float, "double": w.double,
              "LONGLONG": w.longlong, "ULONGLONG": w.ulonglong, "count": w.count,
              "CString": w.cstring, "byte block": w.block, "line": w.line}[kind]
    method(value)
    return bytes(w.out)


def decode(kind, data, fmt):
    r = Reader(data, fmt, CLASSES)
    method = {"BYTE": r.byte, "WORD": r.word, "LONG": r.long, "DWORD": r.dword,
              "int": r.int, "unsigned": r.unsigned, "short": r.short, "char": r.char,
              "wchar_t": r.wchar, "bool": r.bool, "float": r.float, "double": r.double,
              "LONGLONG": r.longlong, "ULONGLONG": r.ulonglong, "count": r.count,
              "CString": r.cstring, "byte block": r.block, "line": r.line}[kind]
    value = method()
    check(r.at_end(), "%s: bytes left after decoding" % kind)
    return value


def same(kind, a, b):
    if kind in ("float", "double"):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if kind == "line":
        return a == b.rstrip("\n")
    if kind == "bool":
        return bool(a) == bool(b)
    return a == b


def check_vectors(spec):
    block = spec.split("<!-- vectors:begin -->")[1].split("<!-- vectors:end -->")[0]
    rows = 0
    for line in block.splitlines():
        cells = [c.strip().strip("`") for c in line.split("|")[1:-1]]
        if len(cells) != 4 or cells[0] in ("type", "---"):
            continue
        kind, value = cells[0], parse_value(cells[0], cells[1])
        for fmt, expected in ((NETWORK, cells[2]), (MFC, cells[3])):
            prefix = expected.endswith("…")
            expected = expected.rstrip("…").strip()
            data = encode(kind, value, fmt)
            shown = data[:len(unhex(expected))] if prefix else data
            check(hexbytes(shown) == expected,
                  "vector %s %s (%s): encoded %s" % (kind, cells[1], fmt, hexbytes(shown)))
            source = data if prefix else unhex(expected)
            check(same(kind, decode(kind, source, fmt), value),
                  "vector %s %s (%s): decoded wrong" % (kind, cells[1], fmt))
        rows += 1
    check(rows > 50, "vector table found (%d rows)" % rows)


# Object graph (§10.2)

def spec_graph(spec, fmt):
    after = spec.split("<!-- graph:%s -->" % fmt)[1]
    return unhex(after.split("```")[1])


def check_graph(spec):
    for fmt in (NETWORK, MFC):
        data = spec_graph(spec, fmt)
        r = Reader(data, fmt, CLASSES)
        a, b, null, v, v2 = (r.read_object() for _ in range(5))
        cls = r.read_class()
        check(r.at_end(), "graph (%s): bytes left" % fmt)
        check(a.value == 1 and b.value == 2 and a.next is b and b.next is a,
              "graph (%s): cycle A -> B -> A" % fmt)
        check(null is None and v is v2 and (v.a, v.b) == (5, 6),
              "graph (%s): NULL and back-reference to V" % fmt)
        check(cls is Node, "graph (%s): class alone" % fmt)

        a, b = Node(1), Node(2)
        a.next, b.next = b, a
        v = Versioned(5, 6)
        w = Writer(fmt)
        for obj in (a, b, None, v, v):
            w.write_object(obj)
        w.write_class("CNode", 1)
        check(bytes(w.out) == data, "graph (%s): encoded %s" % (fmt, hexbytes(w.out)))


# The interop record, network format. Layout: BYTE, WORD, LONG, DWORD, int, unsigned,
# short, char, wchar_t, bool, bool, float, double, LONGLONG, ULONGLONG, CString (ASCII),
# CString (Unicode), CString (empty), byte block, count + that many CStrings, a line,
# object A (CNode, A.next = B, B.next = A), object B (back-reference), NULL, class CNode.

RECORDS = {
    "a": dict(byte=0xAB, word=0xBEEF, long=-123456789, dword=0xDEADBEEF, int=-42,
              unsigned=4000000000, short=-1234, char=ord("Z"), wchar=0xE9, yes=True, no=False,
              float=3.5, double=-1.25e-300, longlong=-9000000000000000000,
              ulonglong=18000000000000000000, ascii="Hello, MFC", unicode="Grüße 😀",
              empty="", block=bytes(range(0, 256, 17)), list=["one", "two", "three"],
              line="a line", node_a=1, node_b=2),
    "b": dict(byte=0x01, word=0x0102, long=2147483647, dword=0, int=-2147483648,
              unsigned=1, short=32767, char=-128, wchar=0x20AC, yes=False, no=True,
              float=-0.0, double=1e308, longlong=-1, ulonglong=0, ascii="from python",
              unicode="€ ∑ 中文", empty="", block=b"\x00\xff", list=["x"],
              line="python line", node_a=10, node_b=20),
}

NUMBERS = ["byte", "word", "long", "dword", "int", "unsigned", "short", "char", "wchar"]


NOON = datetime.datetime(2000, 1, 1, 12, tzinfo=datetime.timezone.utc)


def encode_record(rec, fmt=NETWORK):
    w = MfcWriter(fmt)
    for name in NUMBERS:
        getattr(w, name)(rec[name])
    w.bool(rec["yes"])
    w.bool(rec["no"])
    w.float(rec["float"])
    w.double(rec["double"])
    w.longlong(rec["longlong"])
    w.ulonglong(rec["ulonglong"])
    for name in ("ascii", "unicode", "empty"):
        w.cstring(rec[name])
    w.block(rec["block"])
    w.count(len(rec["list"]))
    for text in rec["list"]:
        w.cstring(text)
    w.line(rec["line"] + "\n")
    a, b = Node(rec["node_a"]), Node(rec["node_b"])
    a.next, b.next = b, a
    for obj in (a, b, None):
        w.write_object(obj)
    w.write_class("CNode", 1)
    w.strv(rec["list"])
    for v in (rec["node_a"], rec["node_b"], -rec["node_a"], -rec["node_b"]):
        w.long(v)
    w.ole("valid", "d", ole_date(NOON))
    w.ole("valid", "cy", rec["long"])
    return bytes(w.out)


def decode_record(data, rec, fmt=NETWORK):
    r = MfcReader(data, fmt, CLASSES)
    for name in NUMBERS:
        check(getattr(r, name)() == rec[name], "record: " + name)
    check(r.bool() is rec["yes"] and r.bool() is rec["no"], "record: bools")
    f = r.float()
    check(f == rec["float"] and math.copysign(1, f) == math.copysign(1, rec["float"]),
          "record: float")
    check(r.double() == rec["double"], "record: double")
    check(r.longlong() == rec["longlong"], "record: LONGLONG")
    check(r.ulonglong() == rec["ulonglong"], "record: ULONGLONG")
    for name in ("ascii", "unicode", "empty"):
        check(r.cstring() == rec[name], "record: string " + name)
    check(r.block() == rec["block"], "record: byte block")
    n = r.count()
    check([r.cstring() for _ in range(n)] == rec["list"], "record: list")
    check(r.line() == rec["line"], "record: line")
    a, b, null = r.read_object(), r.read_object(), r.read_object()
    check(a.value == rec["node_a"] and b.value == rec["node_b"], "record: node values")
    check(a.next is b and b.next is a and null is None, "record: cycle and NULL")
    check(r.read_class() is Node, "record: class")
    check(r.strv() == rec["list"], "record: CStringList")
    check([r.long() for _ in range(4)]
          == [rec["node_a"], rec["node_b"], -rec["node_a"], -rec["node_b"]], "record: CRect")
    status, date = r.ole("d")
    check(status == "valid" and from_ole_date(date) == NOON, "record: COleDateTime")
    check(r.ole("cy") == ("valid", rec["long"]), "record: COleCurrency")
    check(r.at_end(), "record: bytes left")


def check_interop(helper):
    for fmt in (NETWORK, MFC):
        with tempfile.TemporaryDirectory() as tmp:
            from_c = os.path.join(tmp, "from-c.bin")
            subprocess.run([helper, "write", from_c, "a", fmt], check=True)
            with open(from_c, "rb") as f:
                data = f.read()
            decode_record(data, RECORDS["a"], fmt)
            check(data == encode_record(RECORDS["a"], fmt),
                  "record a (%s): Python encodes C's bytes" % fmt)

            from_python = os.path.join(tmp, "from-python.bin")
            with open(from_python, "wb") as f:
                f.write(encode_record(RECORDS["b"], fmt))
            result = subprocess.run([helper, "check", from_python, "b", fmt])
            check(result.returncode == 0, "record b (%s): C decodes Python's bytes" % fmt)


def node(value):
    return Node(value)


def collection_vectors():
    """§12.1: name -> (write(w), check(r))."""
    def write_objects(w):
        n = Node(7)
        w.object_list([n, None, n])

    def check_objects(r):
        a, null, b = r.object_list()
        return a.value == 7 and a.next is None and null is None and b is a

    def write_word_map(w):
        w.entries({7: None, 3: Node(1)}, w.word, w.write_object)

    def check_word_map(r):
        m = r.entries(r.word, r.read_object)
        return set(m) == {3, 7} and m[7] is None and m[3].value == 1

    return {
        "strv": (lambda w: w.strv(["one", "", "two"]),
                 lambda r: r.strv() == ["one", "", "two"]),
        "words": (lambda w: w.numbers("H", [1, 0xABCD]), lambda r: r.numbers("H") == [1, 0xABCD]),
        "dwords": (lambda w: w.numbers("I", [1, 0xDEADBEEF]),
                   lambda r: r.numbers("I") == [1, 0xDEADBEEF]),
        "objects": (write_objects, check_objects),
        "string map": (lambda w: w.entries({"b": "2", "a": "1"}, w.cstring, w.cstring),
                       lambda r: r.entries(r.cstring, r.cstring) == {"a": "1", "b": "2"}),
        "word map": (write_word_map, check_word_map),
        "string object map": (lambda w: w.entries({"x": None}, w.cstring, w.write_object),
                              lambda r: r.entries(r.cstring, r.read_object) == {"x": None}),
        "elements": (lambda w: w.raw_elements(struct.pack("<ii", 1, -1), 2),
                     lambda r: struct.unpack("<ii", r.raw_elements(4)) == (1, -1)),
        "element map": (lambda w: w.raw_elements(struct.pack("<Hi", 5, 9), 1),
                        lambda r: struct.unpack("<Hi", r.raw_elements(6)) == (5, 9)),
        "CStringList object": (lambda w: w.write_object(StringList(["a"])),
                               lambda r: r.read_object().items == ["a"]),
    }


def spec_table(spec, name, columns):
    block = spec.split("<!-- %s:begin -->" % name)[1].split("<!-- %s:end -->" % name)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    rows = []
    for line in lines[2:]:  # after the header and the separator
        cells = [c.strip().strip("`") for c in line.split("|")[1:-1]]
        if len(cells) == columns:
            rows.append(cells)
    return rows


def check_collections(spec):
    vectors = collection_vectors()
    rows = spec_table(spec, "collections", 3)
    check(len(rows) == len(vectors), "collections table: %d rows" % len(rows))
    for name, net, mfc in rows:
        write, read = vectors[name]
        for fmt, expected in ((NETWORK, net), (MFC, mfc)):
            w = MfcWriter(fmt)
            write(w)
            check(hexbytes(w.out) == expected,
                  "collection %s (%s): encoded %s" % (name, fmt, hexbytes(w.out)))
            r = MfcReader(unhex(expected), fmt, CLASSES)
            check(read(r) and r.at_end(), "collection %s (%s): decoded wrong" % (name, fmt))


def iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def mfc_type_codec(kind, value):
    """§13: (write(w), check(r)) for one row of the mfc-types table."""
    numbers = [int(v, 0) for v in value.split(",")] if kind in ("BOOL", "POINT", "SIZE", "RECT",
                                                                 "bool") else []
    if kind == "BOOL":
        return (lambda w: w.long(numbers[0]), lambda r: r.long() == numbers[0])
    if kind in ("POINT", "SIZE", "RECT"):
        return (lambda w: [w.long(v) for v in numbers],
                lambda r: [r.long() for _ in numbers] == numbers)
    if kind == "bool":
        return (lambda w: w.mfc_bool(numbers[0]), lambda r: r.mfc_bool() == bool(numbers[0]))
    if kind == "CTime":
        return (lambda w: w.ctime(iso(value)), lambda r: r.ctime() == iso(value))
    if kind == "CTime64":
        seconds = (iso(value) - EPOCH_UNIX) // datetime.timedelta(seconds=1)
        return (lambda w: w.longlong(seconds), lambda r: r.longlong() == seconds)
    if kind in ("CTimeSpan", "CTimeSpan64"):
        code = "q" if kind.endswith("64") else "i"
        return (lambda w: w.pack(code, int(value)), lambda r: r.unpack(code) == int(value))
    status, _, rest = value.partition(" ")
    if kind == "COleDateTime":
        date = ole_date(iso(rest)) if rest else 0.0
        return (lambda w: w.ole(status, "d", date),
                lambda r: (lambda s, d: s == status and (not rest or from_ole_date(d) == iso(rest)))
                (*r.ole("d")))
    if kind == "COleDateTimeSpan":
        days = int(rest) / 86400 if rest else 0.0
        return (lambda w: w.ole(status, "d", days), lambda r: r.ole("d") == (status, days))
    amount = int(rest) if rest else 0
    return (lambda w: w.ole(status, "cy", amount), lambda r: r.ole("cy") == (status, amount))


def check_mfc_types(spec):
    rows = spec_table(spec, "mfc-types", 5)
    check(len(rows) > 25, "mfc-types table: %d rows" % len(rows))
    for kind, value, version, net, mfc in rows:
        version = int(version, 0) if version else 0x0E00
        write, read = mfc_type_codec(kind, value)
        for fmt, expected in ((NETWORK, net), (MFC, mfc)):
            w = MfcWriter(fmt, version)
            write(w)
            check(hexbytes(w.out) == expected,
                  "%s %s (%s): encoded %s" % (kind, value, fmt, hexbytes(w.out)))
            r = MfcReader(unhex(expected), fmt, CLASSES, version)
            check(read(r) and r.at_end(), "%s %s (%s): decoded wrong" % (kind, value, fmt))


# Text options (§5.5, §10.4), with Python's own codecs: the peer's code page
# ("CP949" is Python's "cp949"), "utf-16-le" for wide text.

def parse_text_value(value):
    m = re.fullmatch(r'"(.*)"(?: × (\S+))?', value)
    unit = m.group(1).replace("\\n", "\n").replace("\\r", "\r").replace("\\0", "\0")
    return unit * (int(m.group(2), 0) if m.group(2) else 1)


def encode_text(kind, text, fmt, wide, code_page):
    """§5.5, writing: a string (kind "CString" or "CString (len)") or a line."""
    w = Writer(fmt)
    if fmt == NETWORK:
        if kind == "line":
            w.line(text)
        else:
            data = text.encode("utf-8")
            w.network_length(len(data))
            w.out += data
    elif kind == "line":
        if wide:
            w.out += text.encode("utf-16-le")
        elif code_page:
            w.out += text.encode(code_page)
        else:
            w.out += text.encode("utf-8")
    elif wide or (not code_page and any(ord(c) >= 0x80 for c in text)):
        units = text.encode("utf-16-le")
        w.mfc_string_length(len(units) // 2, True)
        w.out += units
    else:
        data = text.encode(code_page or "ascii")
        w.mfc_string_length(len(data), False)
        w.out += data
    return bytes(w.out)


def decode_text(kind, data, fmt, wide, code_page):
    """§5.5, reading: narrow strings in the code page, wide ones in UTF-16LE, wide lines
    up to the unit 0a 00."""
    r = Reader(data, fmt, CLASSES)
    if fmt == NETWORK:
        if kind == "line":
            return r.line()
        return r.take(r.network_length()).decode("utf-8")
    if kind == "line":
        if not wide:
            end = data.find(b"\n")
            end = len(data) if end < 0 else end + 1
            raw = r.take(end).rstrip(b"\n").rstrip(b"\r")
            return raw.decode(code_page or "utf-8")
        units = b""
        while not r.at_end():
            unit = r.take(2)
            units += unit
            if unit == b"\n\0":
                break
        if units.endswith(b"\n\0"):
            units = units[:-2]
        if units.endswith(b"\r\0"):
            units = units[:-2]
        return units.decode("utf-16-le")
    n, is_wide = r.mfc_string_length()
    if is_wide:
        return r.take(2 * n).decode("utf-16-le")
    return r.take(n).decode(code_page or "utf-8")


def check_text_vectors(spec):
    block = spec.split("<!-- text:begin -->")[1].split("<!-- text:end -->")[0]
    rows = 0
    for line in block.splitlines():
        cells = [c.strip().strip("`") for c in line.split("|")[1:-1]]
        if len(cells) != 5 or cells[0] in ("type", "---"):
            continue
        kind, options, value = cells[0], cells[1], cells[2]
        wide = "wide" in options
        code_page = next((o.strip().lower() for o in options.split(",")
                          if o.strip().startswith("CP")), None)
        rows += 1
        if kind == "string length":  # the MFC length prefix alone (§4.1)
            n = int(value, 0)
            w = Writer(MFC)
            w.mfc_string_length(n, wide)
            check(hexbytes(w.out) == cells[4],
                  "text vector length %s: encoded %s" % (value, hexbytes(w.out)))
            r = Reader(unhex(cells[4]), MFC, CLASSES)
            check(r.mfc_string_length() == (n, wide) and r.at_end(),
                  "text vector length %s: decoded wrong" % value)
            continue
        text = parse_text_value(value)
        for fmt, expected in ((NETWORK, cells[3]), (MFC, cells[4])):
            prefix = expected.endswith("…")
            expected = expected.rstrip("…").strip()
            data = encode_text(kind, text, fmt, wide, code_page)
            shown = data[:len(unhex(expected))] if prefix else data
            what = "text vector %s [%s] %s (%s)" % (kind, options, value, fmt)
            check(hexbytes(shown) == expected, "%s: encoded %s" % (what, hexbytes(shown)))
            source = data if prefix else unhex(expected)
            decoded = decode_text(kind, source, fmt, wide, code_page)
            check(decoded == (text.rstrip("\n").rstrip("\r") if kind == "line" else text),
                  "%s: decoded %r" % (what, decoded))
    check(rows > 20, "text vector table found (%d rows)" % rows)


def main():
    helper, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as f:
        spec = f.read()
    check_vectors(spec)
    check_text_vectors(spec)
    check_graph(spec)
    check_collections(spec)
    check_mfc_types(spec)
    check_interop(helper)
    print("%d passed, %d failed" % (checks[0] - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

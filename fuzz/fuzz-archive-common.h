/* fuzz-archive-common.h: the classes and the operation set of the archive fuzz target
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>

G_BEGIN_DECLS

/* An input is one flags byte and an archive. The archive is a series of operations: a
 * BYTE naming the next read, then the field itself. The seeds write that same series, so
 * the fuzzer starts from valid records of every kind. */
enum
{
  FUZZ_FLAG_MFC = 1 << 0,
  FUZZ_FLAG_ONE_BYTE_STREAM = 1 << 1,
  FUZZ_FLAG_SEVEN_BYTE_STREAM = 1 << 2,
};

typedef enum
{
  FUZZ_OP_BYTE,
  FUZZ_OP_WORD,
  FUZZ_OP_LONG,
  FUZZ_OP_DWORD,
  FUZZ_OP_INT,
  FUZZ_OP_UINT,
  FUZZ_OP_SHORT,
  FUZZ_OP_CHAR,
  FUZZ_OP_WCHAR,
  FUZZ_OP_BOOL,
  FUZZ_OP_FLOAT,
  FUZZ_OP_DOUBLE,
  FUZZ_OP_INT64,
  FUZZ_OP_UINT64,
  FUZZ_OP_CSTRING,
  FUZZ_OP_BYTES,
  FUZZ_OP_STRING_LIST, /* count, then that many CStrings */
  FUZZ_OP_LINE,
  FUZZ_OP_RAW,    /* BYTE n, then n raw bytes */
  FUZZ_OP_OBJECT, /* any registered class */
  FUZZ_OP_NODE,   /* must be an FNode */
  FUZZ_OP_CLASS,
  FUZZ_OP_MAP,         /* maps a fresh object, reads nothing */
  FUZZ_OP_CSTRING_LEN, /* a CString with NULs: c_archive_read_cstring_len() */
  /* MFC's collections and value types (fuzz-archive-mfc.c) */
  FUZZ_OP_MFC_VERSION, /* BYTE: which version, then nothing */
  FUZZ_OP_STRV,
  FUZZ_OP_WORDS,
  FUZZ_OP_DWORDS,
  FUZZ_OP_OBJECT_LIST,
  FUZZ_OP_STRING_MAP,
  FUZZ_OP_STRING_OBJECT_MAP,
  FUZZ_OP_WORD_OBJECT_MAP,
  FUZZ_OP_ELEMENTS,    /* BYTE element size, then the elements */
  FUZZ_OP_ELEMENT_MAP, /* BYTE key size, BYTE value size, then the map */
  FUZZ_OP_WIN_BOOL,
  FUZZ_OP_RECT,
  FUZZ_OP_TIME,
  FUZZ_OP_TIME64,
  FUZZ_OP_TIME_SPAN,
  FUZZ_OP_OLE_DATE,
  FUZZ_OP_OLE_SPAN,
  FUZZ_OP_OLE_CURRENCY,
  FUZZ_N_OPS
} FuzzOp;

/* FNode (schema 1): LONG value, object next. next is a weak pointer, so that cyclic
 * input cannot leak. */
#define FUZZ_TYPE_NODE (fuzz_node_get_type ())
G_DECLARE_FINAL_TYPE (FuzzNode, fuzz_node, FUZZ, NODE, GObject)

/* FVersioned (schema 3, versionable): LONG; schema 2 adds a CString; schema 3 a count
 * and that many LONGs. */
#define FUZZ_TYPE_VERSIONED (fuzz_versioned_get_type ())
G_DECLARE_FINAL_TYPE (FuzzVersioned, fuzz_versioned, FUZZ, VERSIONED, GObject)

/* FBag: archived through its properties (int, double, string, enum, strv, bytes and a
 * weak object). */
#define FUZZ_TYPE_BAG (fuzz_bag_get_type ())
G_DECLARE_FINAL_TYPE (FuzzBag, fuzz_bag, FUZZ, BAG, GObject)

void fuzz_register_classes (void);

/* The MFC format's text options (docs/wire-format.md §5.5), from bits of a flags byte:
 * FUZZ_FLAG_WIDE_STRINGS, and a code page in the two bits at FUZZ_CODE_PAGE_SHIFT (none,
 * CP949, CP932, CP1252). fuzz-archive-load takes these bits of its flags byte as they are;
 * fuzz-socket-file has its own bits and passes them on. */
enum
{
  FUZZ_FLAG_WIDE_STRINGS = 1 << 3,
  FUZZ_CODE_PAGE_SHIFT = 4,
  FUZZ_CODE_PAGE_MASK = 3 << FUZZ_CODE_PAGE_SHIFT,
};

void fuzz_set_text_options (CArchive *ar, gboolean wide_strings, guint code_page);
FuzzNode *fuzz_node_new (gint32 value, GObject *next);
void fuzz_node_set_next (FuzzNode *self, GObject *next);
FuzzVersioned *fuzz_versioned_new (gint32 value, const char *text);

/* fuzz-archive-mfc.c: the reads of FUZZ_OP_MFC_VERSION and the ops after it (objects read
 * go to keep), and the seeds that write them. */
void fuzz_read_mfc_op (CArchive *ar, FuzzOp op, GPtrArray *keep);
void fuzz_write_mfc_seed (CArchive *ar);

G_END_DECLS

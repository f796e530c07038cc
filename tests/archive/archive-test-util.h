/* archive-test-util.h: streams, hex helpers and serializable classes for the archive tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>

G_BEGIN_DECLS

/* How a test moves bytes: straight memory, GIO memory streams, or streams that move one
 * byte (or a few) per call to exercise every refill and partial write. */
typedef enum
{
  TRANSPORT_MEMORY,
  TRANSPORT_STREAM,
  TRANSPORT_ONE_BYTE_STREAM,
  TRANSPORT_SEVEN_BYTE_STREAM,
  N_TRANSPORTS
} Transport;

extern const char *const transport_names[N_TRANSPORTS];
extern const char *const format_names[2];

/* A GInputStream over bytes that returns at most chunk bytes per read and records the
 * reads: how many, and the largest count asked for. fail_at, when not -1, makes the read
 * that would cross that offset fail with G_IO_ERROR_CONNECTION_CLOSED. */
#define TEST_TYPE_CHUNKED_INPUT (test_chunked_input_get_type ())
G_DECLARE_FINAL_TYPE (TestChunkedInput, test_chunked_input, TEST, CHUNKED_INPUT, GInputStream)

struct _TestChunkedInput
{
  GInputStream parent_instance;
  GBytes *bytes;
  gsize offset;
  gsize chunk;
  gssize fail_at;
  guint reads;
  gsize largest_request;
};

TestChunkedInput *test_chunked_input_new (GBytes *bytes, gsize chunk);

/* A GOutputStream that accepts at most chunk bytes per write and collects them. */
#define TEST_TYPE_CHUNKED_OUTPUT (test_chunked_output_get_type ())
G_DECLARE_FINAL_TYPE (TestChunkedOutput, test_chunked_output, TEST, CHUNKED_OUTPUT, GOutputStream)

struct _TestChunkedOutput
{
  GOutputStream parent_instance;
  GByteArray *data;
  gsize chunk;
  guint writes;
  guint flushes;
  gboolean fail;
};

TestChunkedOutput *test_chunked_output_new (gsize chunk);

/* Stores through a transport: store_begin gives the archive, store_end closes it and
 * returns every byte that was written. */
typedef struct
{
  CArchive *archive;
  Transport transport;
  GOutputStream *stream;
} TestStore;

void test_store_begin (TestStore *store, CArchiveFormat format, Transport transport);
GBytes *test_store_end (TestStore *store);
CArchive *test_load (GBytes *bytes, CArchiveFormat format, Transport transport);

/* Hex: "12 34 ab" (spaces optional) to bytes and back. */
GBytes *test_bytes_from_hex (const char *hex);
char *test_hex (GBytes *bytes);
char *test_hex_prefix (GBytes *bytes, gsize n);

/* Asserts that the archive failed with domain/code and that the message contains each
 * fragment (NULL-terminated list). */
void test_assert_archive_error (CArchive *archive, GQuark domain, int code,
                                ...) G_GNUC_NULL_TERMINATED;

/* Registers the classes below (idempotent). */
void test_classes_register (void);

/* CNode on the wire: LONG value, object next. Holds a reference to next. */
#define TEST_TYPE_NODE (test_node_get_type ())
G_DECLARE_FINAL_TYPE (TestNode, test_node, TEST, NODE, GObject)

struct _TestNode
{
  GObject parent_instance;
  gint32 value;
  GObject *next;
};

TestNode *test_node_new (gint32 value, GObject *next);

/* CVersioned, schema 2, versionable: schema 1 stored LONG a; schema 2 adds LONG b. */
#define TEST_TYPE_VERSIONED (test_versioned_get_type ())
G_DECLARE_FINAL_TYPE (TestVersioned, test_versioned, TEST, VERSIONED, GObject)

struct _TestVersioned
{
  GObject parent_instance;
  gint32 a;
  gint32 b;
  gint loaded_schema;
};

/* TestBag: archived through its properties, one of every supported type. */
#define TEST_TYPE_BAG (test_bag_get_type ())
G_DECLARE_FINAL_TYPE (TestBag, test_bag, TEST, BAG, GObject)

struct _TestBag
{
  GObject parent_instance;
  gboolean flag;
  gint8 c;
  guint8 uc;
  gint i;
  guint u;
  glong l;
  gulong ul;
  gint64 i64;
  guint64 u64;
  gfloat f;
  gdouble d;
  CArchiveFormat format;
  CArchiveClassFlags flags;
  char *text;
  GObject *child;
  char **strv;
  GBytes *bytes;
  gint percent;        /* 0 to 100 */
  gint construct_only; /* not archived */
};

/* Registered nowhere: writing it must fail. */
#define TEST_TYPE_UNREGISTERED (test_unregistered_get_type ())
G_DECLARE_FINAL_TYPE (TestUnregistered, test_unregistered, TEST, UNREGISTERED, GObject)

G_END_DECLS

G_BEGIN_DECLS

/* Stores with writer and loads with reader in both formats through every transport;
 * checks that every transport produced the same bytes, that reading left no error and
 * consumed everything. test_context names the current format and transport for
 * assertion messages. */
typedef void (*TestWriter) (CArchive *archive);
typedef void (*TestReader) (CArchive *archive);

extern char test_context[64];

void test_roundtrip_everywhere (TestWriter writer, TestReader reader);
void test_roundtrip_with (TestWriter writer, TestReader reader, CArchiveFormat format,
                          Transport transport);
void test_assert_ok (CArchive *archive);

G_END_DECLS

G_BEGIN_DECLS

/* The rows of a table of docs/wire-format.md between "<!-- NAME:begin -->" and
 * "<!-- NAME:end -->", header and separator rows left out: each a GStrv of its cells,
 * trimmed and without backquotes. */
GPtrArray *test_spec_table (const char *spec_path, const char *name);

/* A table cell trimmed, its backquotes removed. */
char *test_spec_cell (const char *raw);

/* Asserts that @archive failed with C_ARCHIVE_ERROR @code and a message that contains
 * @fragment; @what and @transport name the case in the failure. */
void test_assert_malformed (CArchive *archive, int code, const char *fragment, const char *what,
                            Transport transport);

G_END_DECLS

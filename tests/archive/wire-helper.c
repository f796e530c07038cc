/* wire-helper.c: writes and checks the interop record that wire_check.py decodes and encodes
 *
 *   archive-wire-helper write FILE SET [FORMAT]   store record SET (a or b), in network
 *                                                 (default) or mfc format
 *   archive-wire-helper check FILE SET [FORMAT]   load FILE and check it holds record SET
 *
 * The record's layout is described in tests/archive/wire_check.py; the Python side knows
 * nothing of this program beyond that layout and docs/wire-format.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "archive-test-util.h"

typedef struct
{
  guint8 byte;
  guint16 word;
  gint32 long_value;
  guint32 dword;
  gint int_value;
  guint uint_value;
  gint16 short_value;
  gchar char_value;
  gunichar2 wchar;
  gboolean yes;
  gboolean no;
  gfloat float_value;
  gdouble double_value;
  gint64 int64_value;
  guint64 uint64_value;
  const char *ascii;
  const char *unicode;
  const char *empty;
  const char *block;
  gsize block_length;
  const char *list[4];
  const char *line;
  gint32 node_a;
  gint32 node_b;
} Record;

/* The COleDateTime of every record (set in main). */
static GDateTime *noon;

static const Record records[2] = {
  { 0xAB,
    0xBEEF,
    -123456789,
    0xDEADBEEF,
    -42,
    4000000000u,
    -1234,
    'Z',
    0x00E9,
    TRUE,
    FALSE,
    3.5f,
    -1.25e-300,
    G_GINT64_CONSTANT (-9000000000000000000),
    G_GUINT64_CONSTANT (18000000000000000000),
    "Hello, MFC",
    "Gr\xc3\xbc\xc3\x9f\x65 \xf0\x9f\x98\x80",
    "",
    "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
    16,
    { "one", "two", "three", NULL },
    "a line",
    1,
    2 },
  { 0x01,
    0x0102,
    G_MAXINT32,
    0,
    G_MININT32,
    1,
    G_MAXINT16,
    -128,
    0x20AC,
    FALSE,
    TRUE,
    -0.0f,
    1e308,
    -1,
    0,
    "from python",
    "\xe2\x82\xac \xe2\x88\x91 \xe4\xb8\xad\xe6\x96\x87",
    "",
    "\x00\xff",
    2,
    { "x", NULL },
    "python line",
    10,
    20 },
};

static void
write_record (CArchive *ar, const Record *r)
{
  g_autoptr (TestNode) a = test_node_new (r->node_a, NULL);
  g_autoptr (TestNode) b = test_node_new (r->node_b, G_OBJECT (a));
  guint n = g_strv_length ((char **) r->list);

  c_archive_write_byte (ar, r->byte);
  c_archive_write_word (ar, r->word);
  c_archive_write_long (ar, r->long_value);
  c_archive_write_dword (ar, r->dword);
  c_archive_write_int (ar, r->int_value);
  c_archive_write_uint (ar, r->uint_value);
  c_archive_write_short (ar, r->short_value);
  c_archive_write_char (ar, r->char_value);
  c_archive_write_wchar (ar, r->wchar);
  c_archive_write_bool (ar, r->yes);
  c_archive_write_bool (ar, r->no);
  c_archive_write_float (ar, r->float_value);
  c_archive_write_double (ar, r->double_value);
  c_archive_write_int64 (ar, r->int64_value);
  c_archive_write_uint64 (ar, r->uint64_value);
  c_archive_write_cstring (ar, r->ascii);
  c_archive_write_cstring (ar, r->unicode);
  c_archive_write_cstring (ar, r->empty);
  c_archive_write_data (ar, r->block, r->block_length);
  c_archive_write_count (ar, n);
  for (guint i = 0; i < n; i++)
    c_archive_write_cstring (ar, r->list[i]);
  c_archive_write_string (ar, r->line);
  c_archive_write_string (ar, "\n");
  /* A -> B -> A, then B again (a back-reference), NULL, and the class alone. */
  a->next = g_object_ref (G_OBJECT (b));
  c_archive_write_object (ar, G_OBJECT (a));
  c_archive_write_object (ar, G_OBJECT (b));
  c_archive_write_object (ar, NULL);
  c_archive_write_class (ar, TEST_TYPE_NODE);
  g_clear_object (&a->next);
  /* MFC's types (§12, §13): the list again as a CStringList, a CRect, a COleDateTime at
   * noon of 2000-01-01, a COleCurrency of the LONG field. */
  c_archive_write_strv (ar, r->list);
  c_archive_write_rect (ar, r->node_a, r->node_b, -r->node_a, -r->node_b);
  c_archive_write_ole_date_time (ar, C_ARCHIVE_OLE_VALID, noon);
  c_archive_write_ole_currency (ar, C_ARCHIVE_OLE_VALID, r->long_value);
}

static gboolean failed;

static void
expect (gboolean ok, const char *what)
{
  if (!ok)
    {
      fprintf (stderr, "mismatch: %s\n", what);
      failed = TRUE;
    }
}

static void
expect_text (char *text, const char *expected, const char *what)
{
  expect (text != NULL && strcmp (text, expected) == 0, what);
  g_free (text);
}

static void
check_numbers (CArchive *ar, const Record *r)
{
  gfloat f;
  gdouble d;

  expect (c_archive_read_byte (ar) == r->byte, "BYTE");
  expect (c_archive_read_word (ar) == r->word, "WORD");
  expect (c_archive_read_long (ar) == r->long_value, "LONG");
  expect (c_archive_read_dword (ar) == r->dword, "DWORD");
  expect (c_archive_read_int (ar) == r->int_value, "int");
  expect (c_archive_read_uint (ar) == r->uint_value, "unsigned");
  expect (c_archive_read_short (ar) == r->short_value, "short");
  expect (c_archive_read_char (ar) == r->char_value, "char");
  expect (c_archive_read_wchar (ar) == r->wchar, "wchar_t");
  expect (c_archive_read_bool (ar) == r->yes, "bool (true)");
  expect (c_archive_read_bool (ar) == r->no, "bool (false)");
  f = c_archive_read_float (ar);
  expect (f == r->float_value && signbit (f) == signbit (r->float_value), "float");
  d = c_archive_read_double (ar);
  expect (d == r->double_value, "double");
  expect (c_archive_read_int64 (ar) == r->int64_value, "LONGLONG");
  expect (c_archive_read_uint64 (ar) == r->uint64_value, "ULONGLONG");
}

static void
check_objects (CArchive *ar, const Record *r)
{
  g_autoptr (GObject) a = c_archive_read_object (ar, TEST_TYPE_NODE);
  g_autoptr (GObject) b = c_archive_read_object (ar, TEST_TYPE_NODE);
  g_autoptr (GObject) null = c_archive_read_object (ar, TEST_TYPE_NODE);

  expect (a != NULL && TEST_NODE (a)->value == r->node_a, "node A");
  expect (b != NULL && TEST_NODE (b)->value == r->node_b, "node B");
  expect (a != NULL && TEST_NODE (a)->next == b, "A.next is B");
  expect (b != NULL && TEST_NODE (b)->next == a, "B.next is A (cycle)");
  expect (null == NULL, "NULL object");
  expect (c_archive_read_class (ar, TEST_TYPE_NODE, NULL) == TEST_TYPE_NODE, "class CNode");
  if (b != NULL)
    g_clear_object (&TEST_NODE (b)->next);
}

static void
check_mfc_types (CArchive *ar, const Record *r)
{
  g_auto (GStrv) list = c_archive_read_strv (ar);
  g_autoptr (GDateTime) date = NULL;
  gint32 rect[4];
  gint64 amount = 0;

  expect (g_strv_equal ((const char *const *) list, r->list), "CStringList");
  c_archive_read_rect (ar, &rect[0], &rect[1], &rect[2], &rect[3]);
  expect (rect[0] == r->node_a && rect[1] == r->node_b && rect[2] == -r->node_a
              && rect[3] == -r->node_b,
          "CRect");
  expect (c_archive_read_ole_date_time (ar, &date) == C_ARCHIVE_OLE_VALID && date != NULL
              && g_date_time_compare (date, noon) == 0,
          "COleDateTime");
  expect (c_archive_read_ole_currency (ar, &amount) == C_ARCHIVE_OLE_VALID
              && amount == r->long_value,
          "COleCurrency");
}

static void
check_record (CArchive *ar, const Record *r)
{
  g_autoptr (GBytes) block = NULL;
  guint64 n;

  check_numbers (ar, r);
  expect_text (c_archive_read_cstring (ar), r->ascii, "ASCII string");
  expect_text (c_archive_read_cstring (ar), r->unicode, "Unicode string");
  expect_text (c_archive_read_cstring (ar), r->empty, "empty string");
  block = c_archive_read_bytes (ar);
  expect (g_bytes_get_size (block) == r->block_length
              && memcmp (g_bytes_get_data (block, NULL), r->block, r->block_length) == 0,
          "byte block");
  n = c_archive_read_count (ar);
  expect (n == g_strv_length ((char **) r->list), "count");
  for (guint64 i = 0; i < n && i < 3; i++)
    expect_text (c_archive_read_cstring (ar), r->list[i], "list element");
  expect_text (c_archive_read_string (ar), r->line, "line");
  check_objects (ar, r);
  check_mfc_types (ar, r);
  expect (c_archive_is_buffer_empty (ar), "nothing left over");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const Record *record;

  CArchiveFormat format = C_ARCHIVE_FORMAT_NETWORK;

  if ((argc != 4 && argc != 5) || (strcmp (argv[3], "a") != 0 && strcmp (argv[3], "b") != 0))
    {
      fprintf (stderr, "usage: %s write|check FILE a|b [network|mfc]\n", argv[0]);
      return 2;
    }
  if (argc == 5)
    format = strcmp (argv[4], "mfc") == 0 ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK;
  record = &records[argv[3][0] - 'a'];
  noon = g_date_time_new_utc (2000, 1, 1, 12, 0, 0);
  test_classes_register ();
  if (strcmp (argv[1], "write") == 0)
    {
      g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
      g_autoptr (GBytes) bytes = NULL;

      write_record (ar, record);
      if (!c_archive_check (ar, &error))
        goto fail;
      bytes = c_archive_steal_bytes (ar);
      if (!g_file_set_contents (argv[2], g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                &error))
        goto fail;
      return 0;
    }
  else
    {
      g_autoptr (GMappedFile) file = g_mapped_file_new (argv[2], FALSE, &error);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (CArchive) ar = NULL;

      if (file == NULL)
        goto fail;
      bytes = g_mapped_file_get_bytes (file);
      ar = c_archive_new_load_from_bytes (bytes, format);
      check_record (ar, record);
      if (!c_archive_check (ar, &error))
        goto fail;
      return failed ? 1 : 0;
    }
fail:
  fprintf (stderr, "%s: %s\n", argv[0], error->message);
  return 1;
}

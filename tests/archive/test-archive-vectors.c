/* test-archive-vectors.c: byte-exact checks against the vectors of docs/wire-format.md
 *
 * The vectors are read from the document itself, so the specification and the code cannot
 * drift apart: every row is encoded in both formats and compared, then decoded back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

#ifndef WIRE_FORMAT_MD
#error "WIRE_FORMAT_MD must name docs/wire-format.md"
#endif

typedef struct
{
  char *type;
  char *value;
  char *hex[2]; /* network, MFC */
} Vector;

static void
vector_free (Vector *vector)
{
  g_free (vector->type);
  g_free (vector->value);
  g_free (vector->hex[0]);
  g_free (vector->hex[1]);
  g_free (vector);
}

static char *
read_spec (void)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  cr_assert (g_file_get_contents (WIRE_FORMAT_MD, &text, NULL, &error), "%s",
             error ? error->message : "");
  return text;
}

static GPtrArray *
load_vectors (void)
{
  g_autofree char *text = read_spec ();
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *vectors = g_ptr_array_new_with_free_func ((GDestroyNotify) vector_free);
  gboolean inside = FALSE;

  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) cells = NULL;
      Vector *vector;

      if (g_str_has_prefix (*line, "<!-- vectors:"))
        {
          inside = g_str_has_prefix (*line, "<!-- vectors:begin");
          continue;
        }
      if (!inside || !g_str_has_prefix (*line, "| ") || g_str_has_prefix (*line, "| type"))
        continue;
      cells = g_strsplit (*line, "|", -1);
      cr_assert_eq (g_strv_length (cells), 6, "bad vector row: %s", *line);
      vector = g_new0 (Vector, 1);
      vector->type = test_spec_cell (cells[1]);
      vector->value = test_spec_cell (cells[2]);
      vector->hex[0] = test_spec_cell (cells[3]);
      vector->hex[1] = test_spec_cell (cells[4]);
      g_ptr_array_add (vectors, vector);
    }
  cr_assert_gt (vectors->len, 50, "the vector table was not found");
  return vectors;
}

/* "\"x\" × 0xff" or "\"hello\\n\"" -> the text */
static char *
parse_text (const char *value)
{
  const char *end = strchr (value + 1, '"');
  g_autofree char *quoted = NULL;
  g_autofree char *unit = NULL;
  const char *times;
  GString *text;
  guint64 n = 1;

  cr_assert (value[0] == '"' && end != NULL, "bad string value %s", value);
  quoted = g_strndup (value + 1, (gsize) (end - value - 1));
  unit = g_strcompress (quoted);
  times = strstr (end, "\xc3\x97"); /* × */
  if (times != NULL)
    n = g_ascii_strtoull (times + 2, NULL, 0);
  text = g_string_new (NULL);
  for (guint64 i = 0; i < n; i++)
    g_string_append (text, unit);
  return g_string_free (text, FALSE);
}

static GBytes *
parse_block (const char *value)
{
  g_autofree char *inner = g_strndup (value + 1, strlen (value) - 2);

  return test_bytes_from_hex (inner);
}

static void
write_vector (CArchive *ar, const Vector *v)
{
  const char *t = v->type;
  gint64 i = g_ascii_strtoll (v->value, NULL, 0);
  guint64 u = g_ascii_strtoull (v->value, NULL, 0);
  gdouble d = g_ascii_strtod (v->value, NULL);

  if (strcmp (t, "BYTE") == 0)
    c_archive_write_byte (ar, (guint8) u);
  else if (strcmp (t, "WORD") == 0)
    c_archive_write_word (ar, (guint16) u);
  else if (strcmp (t, "LONG") == 0)
    c_archive_write_long (ar, (gint32) i);
  else if (strcmp (t, "DWORD") == 0)
    c_archive_write_dword (ar, (guint32) u);
  else if (strcmp (t, "int") == 0)
    c_archive_write_int (ar, (gint) i);
  else if (strcmp (t, "unsigned") == 0)
    c_archive_write_uint (ar, (guint) u);
  else if (strcmp (t, "short") == 0)
    c_archive_write_short (ar, (gint16) i);
  else if (strcmp (t, "char") == 0)
    c_archive_write_char (ar, (gchar) i);
  else if (strcmp (t, "wchar_t") == 0)
    c_archive_write_wchar (ar, (gunichar2) u);
  else if (strcmp (t, "bool") == 0)
    c_archive_write_bool (ar, u != 0);
  else if (strcmp (t, "float") == 0)
    c_archive_write_float (ar, (gfloat) d);
  else if (strcmp (t, "double") == 0)
    c_archive_write_double (ar, d);
  else if (strcmp (t, "LONGLONG") == 0)
    c_archive_write_int64 (ar, i);
  else if (strcmp (t, "ULONGLONG") == 0)
    c_archive_write_uint64 (ar, u);
  else if (strcmp (t, "count") == 0)
    c_archive_write_count (ar, u);
  else if (strcmp (t, "CString") == 0 || strcmp (t, "line") == 0)
    {
      g_autofree char *text = parse_text (v->value);

      if (t[0] == 'C')
        c_archive_write_cstring (ar, text);
      else
        c_archive_write_string (ar, text);
    }
  else if (strcmp (t, "byte block") == 0)
    {
      g_autoptr (GBytes) block = parse_block (v->value);
      c_archive_write_bytes (ar, block);
    }
  else
    cr_assert_fail ("unknown vector type '%s'", t);
}

static gboolean
same_number (gdouble read, gdouble expected)
{
  return (isnan (read) && isnan (expected))
         || (read == expected && signbit (read) == signbit (expected));
}

/* Reads the field back and compares it with the row's value. */
static void
check_vector (CArchive *ar, const Vector *v)
{
  const char *t = v->type;
  gint64 i = g_ascii_strtoll (v->value, NULL, 0);
  guint64 u = g_ascii_strtoull (v->value, NULL, 0);
  gdouble d = g_ascii_strtod (v->value, NULL);

  if (strcmp (t, "BYTE") == 0)
    cr_assert_eq (c_archive_read_byte (ar), (guint8) u);
  else if (strcmp (t, "WORD") == 0)
    cr_assert_eq (c_archive_read_word (ar), (guint16) u);
  else if (strcmp (t, "LONG") == 0)
    cr_assert_eq (c_archive_read_long (ar), (gint32) i);
  else if (strcmp (t, "DWORD") == 0)
    cr_assert_eq (c_archive_read_dword (ar), (guint32) u);
  else if (strcmp (t, "int") == 0)
    cr_assert_eq (c_archive_read_int (ar), (gint) i);
  else if (strcmp (t, "unsigned") == 0)
    cr_assert_eq (c_archive_read_uint (ar), (guint) u);
  else if (strcmp (t, "short") == 0)
    cr_assert_eq (c_archive_read_short (ar), (gint16) i);
  else if (strcmp (t, "char") == 0)
    cr_assert_eq (c_archive_read_char (ar), (gchar) i);
  else if (strcmp (t, "wchar_t") == 0)
    cr_assert_eq (c_archive_read_wchar (ar), (gunichar2) u);
  else if (strcmp (t, "bool") == 0)
    cr_assert_eq (c_archive_read_bool (ar), u != 0);
  else if (strcmp (t, "float") == 0)
    cr_assert (same_number (c_archive_read_float (ar), (gfloat) d));
  else if (strcmp (t, "double") == 0)
    cr_assert (same_number (c_archive_read_double (ar), d));
  else if (strcmp (t, "LONGLONG") == 0)
    cr_assert_eq (c_archive_read_int64 (ar), i);
  else if (strcmp (t, "ULONGLONG") == 0)
    cr_assert_eq (c_archive_read_uint64 (ar), u);
  else if (strcmp (t, "count") == 0)
    {
      c_archive_set_limit (ar, C_ARCHIVE_LIMIT_COUNT, G_MAXUINT64);
      cr_assert_eq (c_archive_read_count (ar), u);
    }
  else if (strcmp (t, "CString") == 0 || strcmp (t, "line") == 0)
    {
      g_autofree char *expected = parse_text (v->value);
      g_autofree char *text
          = t[0] == 'C' ? c_archive_read_cstring (ar) : c_archive_read_string (ar);

      if (t[0] == 'l')
        expected[strcspn (expected, "\n")] = '\0';
      cr_assert_str_eq (text, expected);
    }
  else
    {
      g_autoptr (GBytes) expected = parse_block (v->value);
      g_autoptr (GBytes) block = c_archive_read_bytes (ar);

      cr_assert (g_bytes_equal (block, expected));
    }
}

static void
check_row (const Vector *v, CArchiveFormat format)
{
  const char *hex = v->hex[format];
  gboolean prefix = g_str_has_suffix (hex, "\xe2\x80\xa6"); /* … */
  g_autofree char *expected = g_strstrip (g_strndup (hex, strlen (hex) - (prefix ? 3 : 0)));
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (CArchive) load = NULL;
  g_autofree char *actual = NULL;

  write_vector (store, v);
  test_assert_ok (store);
  bytes = c_archive_steal_bytes (store);
  actual = prefix ? test_hex_prefix (bytes, (strlen (expected) + 1) / 3) : test_hex (bytes);
  cr_assert_str_eq (actual, expected, "%s %s (%s)", v->type, v->value, format_names[format]);
  /* Decode what the spec shows (or, for abbreviated rows, what was written). */
  if (!prefix)
    {
      g_autoptr (GBytes) spec_bytes = test_bytes_from_hex (expected);
      load = c_archive_new_load_from_bytes (spec_bytes, format);
    }
  else
    load = c_archive_new_load_from_bytes (bytes, format);
  check_vector (load, v);
  test_assert_ok (load);
  cr_assert (c_archive_is_buffer_empty (load), "%s %s (%s) left bytes", v->type, v->value,
             format_names[format]);
}

Test (archive_vectors, every_value_vector_of_the_spec_is_byte_exact, .timeout = 60)
{
  g_autoptr (GPtrArray) vectors = load_vectors ();

  for (guint i = 0; i < vectors->len; i++)
    for (int format = 0; format < 2; format++)
      check_row (g_ptr_array_index (vectors, i), format);
}

/* The hex block after "<!-- graph:NAME -->". */
static GBytes *
spec_graph (const char *name)
{
  g_autofree char *text = read_spec ();
  g_autofree char *marker = g_strdup_printf ("<!-- graph:%s -->", name);
  const char *start = strstr (text, marker);
  const char *fence;
  const char *end;
  g_autofree char *hex = NULL;

  cr_assert_not_null (start, "no %s in the spec", marker);
  fence = strstr (start, "```\n");
  cr_assert_not_null (fence);
  end = strstr (fence + 4, "```");
  cr_assert_not_null (end);
  hex = g_strndup (fence + 4, (gsize) (end - fence - 4));
  return test_bytes_from_hex (hex);
}

static GBytes *
store_graph (CArchiveFormat format)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
  g_autoptr (TestNode) a = test_node_new (1, NULL);
  g_autoptr (TestNode) b = test_node_new (2, G_OBJECT (a));
  g_autoptr (TestVersioned) v = g_object_new (TEST_TYPE_VERSIONED, NULL);

  a->next = g_object_ref (G_OBJECT (b));
  v->a = 5;
  v->b = 6;
  c_archive_write_object (ar, G_OBJECT (a));
  c_archive_write_object (ar, G_OBJECT (b));
  c_archive_write_object (ar, NULL);
  c_archive_write_object (ar, G_OBJECT (v));
  c_archive_write_object (ar, G_OBJECT (v));
  c_archive_write_class (ar, TEST_TYPE_NODE);
  test_assert_ok (ar);
  g_clear_object (&a->next);
  return c_archive_steal_bytes (ar);
}

static void
load_graph (GBytes *bytes, CArchiveFormat format)
{
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, format);
  g_autoptr (GObject) a = c_archive_read_object (ar, TEST_TYPE_NODE);
  g_autoptr (GObject) b = c_archive_read_object (ar, TEST_TYPE_NODE);
  g_autoptr (GObject) null = c_archive_read_object (ar, G_TYPE_OBJECT);
  g_autoptr (GObject) v = c_archive_read_object (ar, TEST_TYPE_VERSIONED);
  g_autoptr (GObject) v_again = c_archive_read_object (ar, TEST_TYPE_VERSIONED);

  cr_assert_eq (c_archive_read_class (ar, TEST_TYPE_NODE, NULL), TEST_TYPE_NODE);
  test_assert_ok (ar);
  cr_assert (c_archive_is_buffer_empty (ar));
  cr_assert_eq (TEST_NODE (a)->value, 1);
  cr_assert_eq (TEST_NODE (a)->next, b);
  cr_assert_eq (TEST_NODE (b)->value, 2);
  cr_assert_eq (TEST_NODE (b)->next, a, "the cycle is restored");
  cr_assert_null (null);
  cr_assert_eq (v, v_again);
  cr_assert_eq (TEST_VERSIONED (v)->a, 5);
  cr_assert_eq (TEST_VERSIONED (v)->b, 6);
  g_clear_object (&TEST_NODE (b)->next);
}

Test (archive_vectors, object_graph_with_back_reference_and_cycle, .timeout = 10,
      .init = test_classes_register)
{
  static const char *const names[2] = { "network", "mfc" };

  for (int format = 0; format < 2; format++)
    {
      g_autoptr (GBytes) expected = spec_graph (names[format]);
      g_autoptr (GBytes) actual = store_graph (format);
      g_autofree char *expected_hex = test_hex (expected);
      g_autofree char *actual_hex = test_hex (actual);

      cr_assert_str_eq (actual_hex, expected_hex, "%s", names[format]);
      load_graph (expected, format);
    }
}

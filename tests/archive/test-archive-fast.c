/* test-archive-fast.c: the direct paths of fixed-size fields and strings, the storing
 * archive's own buffer, and a loading archive reused with c_archive_reload()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

#define N C_ARCHIVE_FORMAT_NETWORK
#define M C_ARCHIVE_FORMAT_MFC

/* One fixed-size type: how to write and read a sample value, its name in errors, its
 * size, and its exact bytes in each format. */
typedef struct
{
  const char *field;
  gsize size;
  void (*write) (CArchive *ar);
  gboolean (*read) (CArchive *ar); /* TRUE if the sample came back */
  const char *network;
  const char *mfc;
} FixedType;

static void
write_byte (CArchive *ar)
{
  c_archive_write_byte (ar, 0xA5);
}

static gboolean
read_byte (CArchive *ar)
{
  return c_archive_read_byte (ar) == 0xA5;
}

static void
write_word (CArchive *ar)
{
  c_archive_write_word (ar, 0xBEEF);
}

static gboolean
read_word (CArchive *ar)
{
  return c_archive_read_word (ar) == 0xBEEF;
}

static void
write_short (CArchive *ar)
{
  c_archive_write_short (ar, -2);
}

static gboolean
read_short (CArchive *ar)
{
  return c_archive_read_short (ar) == -2;
}

static void
write_long (CArchive *ar)
{
  c_archive_write_long (ar, -123456);
}

static gboolean
read_long (CArchive *ar)
{
  return c_archive_read_long (ar) == -123456;
}

static void
write_dword (CArchive *ar)
{
  c_archive_write_dword (ar, 4000000007u);
}

static gboolean
read_dword (CArchive *ar)
{
  return c_archive_read_dword (ar) == 4000000007u;
}

static void
write_int (CArchive *ar)
{
  c_archive_write_int (ar, G_MININT32);
}

static gboolean
read_int (CArchive *ar)
{
  return c_archive_read_int (ar) == G_MININT32;
}

static void
write_uint (CArchive *ar)
{
  c_archive_write_uint (ar, 0x01020304);
}

static gboolean
read_uint (CArchive *ar)
{
  return c_archive_read_uint (ar) == 0x01020304;
}

static void
write_char (CArchive *ar)
{
  c_archive_write_char (ar, 'z');
}

static gboolean
read_char (CArchive *ar)
{
  return c_archive_read_char (ar) == 'z';
}

static void
write_wchar (CArchive *ar)
{
  c_archive_write_wchar (ar, 0x20AC);
}

static gboolean
read_wchar (CArchive *ar)
{
  return c_archive_read_wchar (ar) == 0x20AC;
}

static void
write_bool (CArchive *ar)
{
  c_archive_write_bool (ar, 42);
}

static gboolean
read_bool (CArchive *ar)
{
  return c_archive_read_bool (ar) == TRUE;
}

static void
write_float (CArchive *ar)
{
  c_archive_write_float (ar, -0.75f);
}

static gboolean
read_float (CArchive *ar)
{
  return c_archive_read_float (ar) == -0.75f;
}

static void
write_double (CArchive *ar)
{
  c_archive_write_double (ar, 1234.5678);
}

static gboolean
read_double (CArchive *ar)
{
  return c_archive_read_double (ar) == 1234.5678;
}

static void
write_int64 (CArchive *ar)
{
  c_archive_write_int64 (ar, G_GINT64_CONSTANT (-2));
}

static gboolean
read_int64 (CArchive *ar)
{
  return c_archive_read_int64 (ar) == G_GINT64_CONSTANT (-2);
}

static void
write_uint64 (CArchive *ar)
{
  c_archive_write_uint64 (ar, G_GUINT64_CONSTANT (0x0102030405060708));
}

static gboolean
read_uint64 (CArchive *ar)
{
  return c_archive_read_uint64 (ar) == G_GUINT64_CONSTANT (0x0102030405060708);
}

static const FixedType fixed_types[] = {
  { "BYTE", 1, write_byte, read_byte, "a5", "a5" },
  { "WORD", 2, write_word, read_word, "be ef", "ef be" },
  { "short", 2, write_short, read_short, "ff fe", "fe ff" },
  { "LONG", 4, write_long, read_long, "ff fe 1d c0", "c0 1d fe ff" },
  { "DWORD", 4, write_dword, read_dword, "ee 6b 28 07", "07 28 6b ee" },
  { "int", 4, write_int, read_int, "80 00 00 00", "00 00 00 80" },
  { "unsigned", 4, write_uint, read_uint, "01 02 03 04", "04 03 02 01" },
  { "char", 1, write_char, read_char, "7a", "7a" },
  { "wchar_t", 2, write_wchar, read_wchar, "20 ac", "ac 20" },
  { "bool", 1, write_bool, read_bool, "01", "01" },
  { "float", 4, write_float, read_float, "bf 40 00 00", "00 00 40 bf" },
  { "double", 8, write_double, read_double, "40 93 4a 45 6d 5c fa ad", "ad fa 5c 6d 45 4a 93 40" },
  { "LONGLONG", 8, write_int64, read_int64, "ff ff ff ff ff ff ff fe", "fe ff ff ff ff ff ff ff" },
  { "ULONGLONG", 8, write_uint64, read_uint64, "01 02 03 04 05 06 07 08",
    "08 07 06 05 04 03 02 01" },
};

static void
assert_hex (GBytes *bytes, const char *expected)
{
  g_autofree char *hex = test_hex (bytes);

  cr_assert_str_eq (hex, expected);
}

/* Every fixed-size type, both formats: the exact bytes in memory and through a stream
 * (the fast paths of both kinds of buffer), and the value back through every transport. */
Test (archive_fast, every_fixed_type_has_its_exact_bytes_and_roundtrips, .timeout = 30)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fixed_types); i++)
    for (int format = 0; format < 2; format++)
      for (int t = 0; t < N_TRANSPORTS; t++)
        {
          const FixedType *type = &fixed_types[i];
          TestStore store;
          g_autoptr (GBytes) bytes = NULL;
          g_autoptr (CArchive) ar = NULL;

          test_store_begin (&store, format, t);
          type->write (store.archive);
          /* A second one, so that the second field starts at an offset of its own. */
          type->write (store.archive);
          bytes = test_store_end (&store);
          {
            g_autofree char *expected
                = g_strdup_printf ("%s %s", format == N ? type->network : type->mfc,
                                   format == N ? type->network : type->mfc);

            assert_hex (bytes, expected);
          }
          ar = test_load (bytes, format, t);
          cr_assert (type->read (ar), "%s %s %s", type->field, format_names[format],
                     transport_names[t]);
          cr_assert (type->read (ar));
          cr_assert_eq (c_archive_get_position (ar), 2 * type->size);
          test_assert_ok (ar);
        }
}

/* A fixed field cut short names itself and its own offset, after fields that succeeded. */
Test (archive_fast, truncated_fixed_field_names_field_and_offset, .timeout = 30)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fixed_types); i++)
    for (int format = 0; format < 2; format++)
      for (int t = 0; t < N_TRANSPORTS; t++)
        {
          const FixedType *type = &fixed_types[i];
          g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
          g_autoptr (GBytes) whole = NULL;
          g_autoptr (GBytes) cut = NULL;
          g_autoptr (CArchive) ar = NULL;
          g_autofree char *expected = NULL;

          c_archive_write_dword (store, 7);
          c_archive_write_byte (store, 1);
          type->write (store);
          whole = c_archive_steal_bytes (store);
          cut = g_bytes_new_from_bytes (whole, 0, 5 + type->size - 1);
          ar = test_load (cut, format, t);
          cr_assert_eq (c_archive_read_dword (ar), 7);
          cr_assert_eq (c_archive_read_byte (ar), 1);
          type->read (ar);
          expected = g_strdup_printf ("reading %s at offset 5: end of archive (%" G_GSIZE_FORMAT
                                      " bytes needed, %" G_GSIZE_FORMAT " left)",
                                      type->field, type->size, type->size - 1);
          test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE, expected,
                                     NULL);
          /* Sticky: the next reads are zero and move nothing (the bytes of the cut field
           * were consumed, as they always were). */
          cr_assert_eq (c_archive_get_position (ar), 5 + type->size - 1);
          cr_assert_eq (c_archive_read_dword (ar), 0);
          cr_assert_eq (c_archive_read_double (ar), 0);
          cr_assert_eq (c_archive_get_position (ar), 5 + type->size - 1);
        }
}

Test (archive_fast, wrong_direction_and_closed_archives_fail_by_name, .timeout = 30)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (N);
  g_autoptr (CArchive) load = c_archive_new_load_from_data ("\1\2\3\4\5\6\7\10", 8, N);
  g_autoptr (CArchive) closed = c_archive_new_load_from_data ("\1\2\3\4\5\6\7\10", 8, M);

  c_archive_write_word (store, 1);
  cr_assert_eq (c_archive_read_dword (store), 0);
  test_assert_archive_error (store, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_WRITE_ONLY,
                             "reading DWORD at offset 2: the archive is open for storing", NULL);
  c_archive_write_word (store, 2);
  cr_assert_eq (c_archive_get_position (store), 2);

  cr_assert_eq (c_archive_read_byte (load), 1);
  c_archive_write_double (load, 1.0);
  test_assert_archive_error (load, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_READ_ONLY,
                             "writing double at offset 1: the archive is open for loading", NULL);

  cr_assert_eq (c_archive_read_word (closed), 0x0201);
  c_archive_abort (closed);
  cr_assert_eq (c_archive_read_word (closed), 0);
  test_assert_archive_error (closed, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_GENERIC,
                             "reading WORD at offset 2: the archive is closed", NULL);
}

Test (archive_fast, bad_bool_after_fast_fields_names_its_offset, .timeout = 30)
{
  static const guint8 data[] = { 0, 0, 0, 9, 1, 2 };
  g_autoptr (CArchive) net = c_archive_new_load_from_data (data, sizeof data, N);
  g_autoptr (CArchive) mfc = c_archive_new_load_from_data (data, sizeof data, M);

  cr_assert_eq (c_archive_read_dword (net), 9);
  cr_assert_eq (c_archive_read_bool (net), TRUE);
  cr_assert_eq (c_archive_read_bool (net), FALSE);
  test_assert_archive_error (net, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                             "reading bool at offset 5: bool byte 0x02 is neither 0 nor 1", NULL);
  /* MFC's bool is any non-zero byte. */
  cr_assert_eq (c_archive_read_dword (mfc), 0x09000000);
  cr_assert_eq (c_archive_read_bool (mfc), TRUE);
  cr_assert_eq (c_archive_read_bool (mfc), TRUE);
  test_assert_ok (mfc);
}

/* Property errors are found after the value was read, and name the last field read, as
 * they always did. */
Test (archive_fast, property_errors_name_the_last_field_read, .timeout = 30,
      .init = test_classes_register)
{
  static const char *const cases[][2] = {
    { "ff ff 00 01 00 07 54 65 73 74 42 61 67 00 00 00 01 00 00 00 01 69 5a 00",
      "reading BYTE at offset 22: unknown kind 0x5a of property 'i'" },
    { "ff ff 00 01 00 07 54 65 73 74 42 61 67 00 00 00 01 00 00 00 07 70 65 72 63 65 6e 74 69 "
      "00 00 00 65",
      "reading LONG at offset 29: value of property 'percent' is out of range" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) bytes = test_bytes_from_hex (cases[i][0]);
      g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, N);
      g_autoptr (GObject) object = c_archive_read_object (ar, G_TYPE_INVALID);

      cr_assert_null (object);
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA, cases[i][1], NULL);
    }
}

/* Strings of every length around the word size, in both formats, ASCII and not, through
 * memory and streams. */
Test (archive_fast, strings_of_every_short_length_roundtrip, .timeout = 60)
{
  static const char *const fillers[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };

  for (int format = 0; format < 2; format++)
    for (gsize f = 0; f < G_N_ELEMENTS (fillers); f++)
      for (gsize n = 0; n < 40; n++)
        for (int t = 0; t < N_TRANSPORTS; t++)
          {
            g_autoptr (GString) text = g_string_new (NULL);
            TestStore store;
            g_autoptr (GBytes) bytes = NULL;
            g_autoptr (CArchive) ar = NULL;
            g_autofree char *back = NULL;
            char into[200];

            for (gsize k = 0; k < n; k++)
              g_string_append (text, k % 3 == 1 ? fillers[f] : "x");
            test_store_begin (&store, format, t);
            c_archive_write_cstring (store.archive, text->str);
            c_archive_write_cstring (store.archive, text->str);
            bytes = test_store_end (&store);
            ar = test_load (bytes, format, t);
            back = c_archive_read_cstring (ar);
            cr_assert_str_eq (back, text->str);
            cr_assert_eq (c_archive_read_cstring_into (ar, into, sizeof into), text->len);
            cr_assert_str_eq (into, text->str);
            test_assert_ok (ar);
            cr_assert (c_archive_is_buffer_empty (ar));
          }
}

/* A byte of 0x80 or more, or a NUL, at any position of a narrow string: the word-at-a-time
 * check must see it wherever it is. */
Test (archive_fast, bad_string_bytes_are_found_at_every_position, .timeout = 60)
{
  static const guint8 bad[] = { 0x00, 0x80, 0xff, 0xc3 };

  for (gsize n = 1; n < 34; n++)
    for (gsize at = 0; at < n; at++)
      for (gsize b = 0; b < G_N_ELEMENTS (bad); b++)
        for (int format = 0; format < 2; format++)
          {
            g_autoptr (GByteArray) wire = g_byte_array_new ();
            g_autoptr (GBytes) bytes = NULL;
            g_autoptr (CArchive) ar = NULL;
            g_autoptr (CArchive) ar2 = NULL;
            g_autofree char *text = NULL;
            g_autofree char *expected = NULL;
            char into[64] = "unchanged";
            guint8 prefix[4] = { 0, 0, 0, (guint8) n };

            g_byte_array_append (wire, (const guint8 *) "\x07", 1);
            if (format == N)
              g_byte_array_append (wire, prefix, 4);
            else
              g_byte_array_append (wire, prefix + 3, 1);
            for (gsize k = 0; k < n; k++)
              {
                guint8 c = k == at ? bad[b] : (guint8) ('a' + k % 26);

                g_byte_array_append (wire, &c, 1);
              }
            bytes = g_byte_array_free_to_bytes (g_steal_pointer (&wire));
            ar = c_archive_new_load_from_bytes (bytes, format);
            ar2 = c_archive_new_load_from_bytes (bytes, format);
            cr_assert_eq (c_archive_read_byte (ar), 7);
            text = c_archive_read_cstring (ar);
            cr_assert_str_eq (text, "");
            /* The error names the bad byte's place in the string. */
            expected = bad[b] == 0
                           ? g_strdup_printf ("reading CString at offset 1: the string contains "
                                              "NUL (at byte %zu,",
                                              at)
                           : g_strdup_printf ("reading CString at offset 1: the string is not "
                                              "valid UTF-8 (byte 0x%02x at byte %zu,",
                                              bad[b], at);
            test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA, expected,
                                       NULL);
            cr_assert_eq (c_archive_read_byte (ar2), 7);
            cr_assert_eq (c_archive_read_cstring_into (ar2, into, sizeof into), 0);
            cr_assert_str_eq (into, "");
            test_assert_archive_error (ar2, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                       "reading CString at offset 1", NULL);
          }
}

Test (archive_fast, string_limits_hold_on_the_direct_path, .timeout = 30)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("00 00 00 05 68 65 6c 6c 6f");
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, N);
  g_autofree char *text = NULL;

  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 4);
  text = c_archive_read_cstring (ar);
  cr_assert_str_eq (text, "");
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                             "reading CString at offset 0: a string of 5 bytes exceeds the limit "
                             "of 4 bytes",
                             NULL);
}

Test (archive_fast, read_cstring_into_refuses_what_does_not_fit, .timeout = 30)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("00 00 00 01 00 00 00 05 68 65 6c 6c 6f");
  char buffer[6];

  for (gsize size = 1; size <= sizeof buffer; size++)
    {
      g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, N);
      g_autofree char *expected = NULL;

      memset (buffer, 'x', sizeof buffer);
      cr_assert_eq (c_archive_read_dword (ar), 1);
      if (size == 6)
        {
          cr_assert_eq (c_archive_read_cstring_into (ar, buffer, size), 5);
          cr_assert_str_eq (buffer, "hello");
          test_assert_ok (ar);
          continue;
        }
      cr_assert_eq (c_archive_read_cstring_into (ar, buffer, size), 0);
      cr_assert_str_eq (buffer, "");
      expected = g_strdup_printf ("reading CString at offset 4: a string of 5 bytes does not "
                                  "fit a buffer of %" G_GSIZE_FORMAT " bytes",
                                  size);
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED, expected,
                                 NULL);
    }
}

Test (archive_fast, read_cstring_into_takes_wide_mfc_strings, .timeout = 30)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (M);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (CArchive) ar = NULL;
  char buffer[16];

  c_archive_write_cstring (store, "caf\xc3\xa9");
  bytes = c_archive_steal_bytes (store);
  assert_hex (bytes, "ff fe ff 04 63 00 61 00 66 00 e9 00");
  ar = c_archive_new_load_from_bytes (bytes, M);
  cr_assert_eq (c_archive_read_cstring_into (ar, buffer, sizeof buffer), 5);
  cr_assert_str_eq (buffer, "caf\xc3\xa9");
  test_assert_ok (ar);
}

/* The storing buffer: steal, keep writing, get_bytes copies, the position goes on. */
Test (archive_fast, steal_then_more_records, .timeout = 30)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
      g_autoptr (GBytes) empty = NULL;
      g_autoptr (GBytes) first = NULL;
      g_autoptr (GBytes) copy = NULL;
      g_autoptr (GBytes) second = NULL;

      empty = c_archive_steal_bytes (store);
      cr_assert_eq (g_bytes_get_size (empty), 0);
      cr_assert (c_archive_is_buffer_empty (store));
      c_archive_write_dword (store, 0x01020304);
      c_archive_write_cstring (store, "one");
      cr_assert_not (c_archive_is_buffer_empty (store));
      copy = c_archive_get_bytes (store);
      first = c_archive_steal_bytes (store);
      cr_assert (g_bytes_equal (copy, first));
      cr_assert (c_archive_is_buffer_empty (store));
      cr_assert_eq (c_archive_get_position (store), 4 + (format == N ? 7 : 4));
      c_archive_write_word (store, 0x0506);
      second = c_archive_steal_bytes (store);
      assert_hex (first,
                  format == N ? "01 02 03 04 00 00 00 03 6f 6e 65" : "04 03 02 01 03 6f 6e 65");
      assert_hex (second, format == N ? "05 06" : "06 05");
      cr_assert_eq (c_archive_get_position (store), 4 + (format == N ? 7 : 4) + 2);
      test_assert_ok (store);
    }
}

/* Records larger than the buffer grow it, one field at a time and in one big block, and a
 * small record after a big one is still right. */
Test (archive_fast, big_records_grow_the_buffer, .timeout = 60)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
      g_autoptr (CArchive) load = c_archive_new_load_from_data (NULL, 0, format);
      g_autofree guint8 *block = g_malloc (300000);
      g_autofree char *text = g_strnfill (100000, 'q');

      for (gsize i = 0; i < 300000; i++)
        block[i] = (guint8) (i * 7);
      for (int round = 0; round < 3; round++)
        {
          g_autoptr (GBytes) big = NULL;
          g_autoptr (GBytes) small = NULL;
          g_autoptr (GBytes) back = NULL;
          g_autofree char *back_text = NULL;

          for (guint32 i = 0; i < 50000; i++)
            c_archive_write_dword (store, i);
          c_archive_write_cstring (store, text);
          c_archive_write_data (store, block, 300000);
          c_archive_write_uint64 (store, G_MAXUINT64);
          test_assert_ok (store);
          big = c_archive_steal_bytes (store);
          cr_assert_eq (g_bytes_get_size (big), 200000 + (format == N ? 4 : 7) + 100000
                                                    + (format == N ? 4 : 6) + 300000 + 8);
          c_archive_write_byte (store, 9);
          small = c_archive_steal_bytes (store);
          assert_hex (small, "09");

          c_archive_reload (load, big);
          for (guint32 i = 0; i < 50000; i++)
            cr_assert_eq (c_archive_read_dword (load), i);
          back_text = c_archive_read_cstring (load);
          cr_assert_str_eq (back_text, text);
          back = c_archive_read_bytes (load);
          cr_assert_eq (g_bytes_get_size (back), 300000);
          cr_assert_eq (memcmp (g_bytes_get_data (back, NULL), block, 300000), 0);
          cr_assert_eq (c_archive_read_uint64 (load), G_MAXUINT64);
          test_assert_ok (load);
          cr_assert (c_archive_is_buffer_empty (load));
        }
    }
}

/* c_archive_reload(): the next record sees nothing of the previous one but the format
 * and the limits. */
Test (archive_fast, reload_clears_error_and_position, .timeout = 30)
{
  g_autoptr (GBytes) truncated = test_bytes_from_hex ("00 00 00 01 00 02");
  g_autoptr (GBytes) good = test_bytes_from_hex ("00 00 00 02 00 00 00 03");
  g_autoptr (GBytes) short_second = test_bytes_from_hex ("00 00 00 04 00 00 00 05 00 00");
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (truncated, N);

  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 3);
  cr_assert_eq (c_archive_read_dword (ar), 1);
  cr_assert_eq (c_archive_read_dword (ar), 0);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE,
                             "reading DWORD at offset 4: end of archive (4 bytes needed, 2 left)",
                             NULL);

  c_archive_reload (ar, good);
  cr_assert_null (c_archive_get_error (ar));
  cr_assert_eq (c_archive_get_position (ar), 0);
  cr_assert_eq (c_archive_read_dword (ar), 2);
  cr_assert_eq (c_archive_read_dword (ar), 3);
  test_assert_ok (ar);
  cr_assert (c_archive_is_buffer_empty (ar));

  /* A truncated record reports its own offsets, not the previous records'. */
  c_archive_reload (ar, short_second);
  cr_assert_eq (c_archive_read_dword (ar), 4);
  cr_assert_eq (c_archive_read_dword (ar), 5);
  cr_assert_eq (c_archive_read_dword (ar), 0);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE,
                             "reading DWORD at offset 8: end of archive (4 bytes needed, 2 left)",
                             NULL);

  /* Format and limits stay. */
  cr_assert_eq (c_archive_get_format (ar), N);
  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH), 3);
}

Test (archive_fast, reload_forgets_objects_and_reopens, .timeout = 30,
      .init = test_classes_register)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (N);
  g_autoptr (TestNode) node = test_node_new (17, NULL);
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) back_reference = NULL;
  g_autoptr (CArchive) ar = NULL;
  g_autoptr (GObject) loaded = NULL;
  g_autoptr (GObject) again = NULL;
  g_autoptr (GObject) dangling = NULL;
  GWeakRef weak;

  /* The first record defines the object (id 2, after its class); the second, written by
   * the same storing archive, refers back to it. */
  c_archive_write_object (store, G_OBJECT (node));
  first = c_archive_steal_bytes (store);
  c_archive_write_object (store, G_OBJECT (node));
  back_reference = c_archive_steal_bytes (store);
  assert_hex (back_reference, "00 02");

  ar = c_archive_new_load_from_bytes (first, N);
  loaded = c_archive_read_object (ar, TEST_TYPE_NODE);
  cr_assert_not_null (loaded);
  cr_assert_eq (TEST_NODE (loaded)->value, 17);
  test_assert_ok (ar);
  g_weak_ref_init (&weak, loaded);

  /* Reloading drops the table: the back-reference names nothing now. */
  c_archive_reload (ar, back_reference);
  g_clear_object (&loaded);
  again = g_weak_ref_get (&weak);
  cr_assert_null (again, "the archive kept the previous record's object");
  g_weak_ref_clear (&weak);
  dangling = c_archive_read_object (ar, TEST_TYPE_NODE);
  cr_assert_null (dangling);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_INDEX,
                             "reading object at offset 0: object id 2 is not defined", NULL);

  /* The same record again, after a close: reloading reopens and defines it anew. */
  c_archive_close (ar, NULL);
  c_archive_reload (ar, first);
  loaded = c_archive_read_object (ar, TEST_TYPE_NODE);
  cr_assert_not_null (loaded);
  cr_assert_eq (TEST_NODE (loaded)->value, 17);
  test_assert_ok (ar);
}

Test (archive_fast, reload_works_for_both_formats_and_many_records, .timeout = 30)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
      g_autoptr (CArchive) load = c_archive_new_load_from_data ("", 0, format);

      for (guint32 i = 0; i < 1000; i++)
        {
          g_autoptr (GBytes) record = NULL;
          g_autofree char *name = g_strdup_printf ("record %u", i);
          g_autofree char *back = NULL;

          c_archive_write_dword (store, i);
          c_archive_write_double (store, i / 4.0);
          c_archive_write_cstring (store, name);
          c_archive_write_bool (store, i % 2);
          record = c_archive_steal_bytes (store);
          c_archive_reload (load, record);
          cr_assert_eq (c_archive_read_dword (load), i);
          cr_assert_eq (c_archive_read_double (load), i / 4.0);
          back = c_archive_read_cstring (load);
          cr_assert_str_eq (back, name);
          cr_assert_eq (c_archive_read_bool (load), i % 2);
          test_assert_ok (load);
          cr_assert (c_archive_is_buffer_empty (load));
        }
    }
}

/* c_archive_get_data() + c_archive_clear_bytes() on the storing side and
 * c_archive_reload_data() on the loading side: record after record without a GBytes. */
Test (archive_fast, borrowed_records_roundtrip_without_bytes_objects, .timeout = 30)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
      g_autoptr (CArchive) load = c_archive_new_load_from_data ("", 0, format);
      guint64 position = 0;
      gsize length;

      cr_assert_null (c_archive_get_data (store, &length));
      cr_assert_eq (length, 0);
      for (guint32 i = 0; i < 500; i++)
        {
          g_autofree char *name = g_strdup_printf ("record %u", i);
          char back[32];
          const guint8 *data;

          c_archive_write_dword (store, i);
          c_archive_write_cstring (store, name);
          c_archive_write_int64 (store, -(gint64) i);
          data = c_archive_get_data (store, &length);
          cr_assert_not_null (data);
          /* The same bytes c_archive_get_bytes() copies, in place. */
          {
            g_autoptr (GBytes) copy = c_archive_get_bytes (store);
            cr_assert_eq (g_bytes_get_size (copy), length, "record %u: %zu bytes", i, length);
            cr_assert_eq (memcmp (g_bytes_get_data (copy, NULL), data, length), 0);
          }
          /* The first bytes are the DWORD in the archive's byte order. */
          cr_assert_eq (format == C_ARCHIVE_FORMAT_NETWORK ? data[3] : data[0], (guint8) i);
          position += length;
          cr_assert_eq (c_archive_get_position (store), position);

          c_archive_reload_data (load, data, length);
          cr_assert_eq (c_archive_get_position (load), 0);
          cr_assert_eq (c_archive_read_dword (load), i);
          cr_assert_eq (c_archive_read_cstring_into (load, back, sizeof back), strlen (name));
          cr_assert_str_eq (back, name);
          cr_assert_eq (c_archive_read_int64 (load), -(gint64) i);
          test_assert_ok (load);
          cr_assert (c_archive_is_buffer_empty (load));

          c_archive_clear_bytes (store);
          cr_assert_null (c_archive_get_data (store, &length));
          cr_assert_eq (length, 0);
          /* Positions go on counting, as after c_archive_steal_bytes(). */
          cr_assert_eq (c_archive_get_position (store), position);
        }
    }
}

Test (archive_fast, reload_data_reads_nothing_beyond_its_length, .timeout = 30)
{
  /* Eight bytes in memory, four of them lent: the second DWORD is an end of archive, not
   * the bytes that happen to follow. */
  static const guint8 memory[] = { 0, 0, 0, 7, 0, 0, 0, 9 };
  g_autoptr (GBytes) earlier = test_bytes_from_hex ("00 00 00 01");
  g_autoptr (CArchive) load = c_archive_new_load_from_bytes (earlier, C_ARCHIVE_FORMAT_NETWORK);

  c_archive_read_dword (load);
  c_archive_read_dword (load);
  cr_assert_not_null (c_archive_get_error (load));

  c_archive_reload_data (load, memory, 4);
  cr_assert_null (c_archive_get_error (load), "the previous record's error survived");
  cr_assert_eq (c_archive_read_dword (load), 7);
  cr_assert_eq (c_archive_read_dword (load), 0);
  test_assert_archive_error (load, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE,
                             "reading DWORD at offset 4: end of archive (4 bytes needed, 0 left)",
                             NULL);

  /* An empty record is allowed and reads nothing. */
  c_archive_reload_data (load, NULL, 0);
  cr_assert_eq (c_archive_read_byte (load), 0);
  cr_assert_not_null (c_archive_get_error (load));
}

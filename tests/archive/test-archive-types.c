/* test-archive-types.c: fixed-size values round-trip at their limits, in both byte orders
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

static GBytes *
store_one (CArchiveFormat format, TestWriter writer)
{
  TestStore store;

  test_store_begin (&store, format, TRANSPORT_MEMORY);
  writer (store.archive);
  return test_store_end (&store);
}

static void
assert_hex (GBytes *bytes, const char *expected)
{
  g_autofree char *hex = test_hex (bytes);

  cr_assert_str_eq (hex, expected);
}

static void
write_dword_12345678 (CArchive *ar)
{
  c_archive_write_dword (ar, 0x12345678);
}

Test (archive, dword_roundtrip_network_order_bytes, .timeout = 10)
{
  g_autoptr (GBytes) network = store_one (C_ARCHIVE_FORMAT_NETWORK, write_dword_12345678);
  g_autoptr (GBytes) mfc = store_one (C_ARCHIVE_FORMAT_MFC, write_dword_12345678);
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (network, C_ARCHIVE_FORMAT_NETWORK);
  guint32 wire;

  assert_hex (network, "12 34 56 78");
  assert_hex (mfc, "78 56 34 12");
  /* What any peer would do: ntohl on the four bytes. */
  memcpy (&wire, g_bytes_get_data (network, NULL), 4);
  cr_assert_eq (g_ntohl (wire), 0x12345678);
  cr_assert_eq (c_archive_read_dword (ar), 0x12345678);
  test_assert_ok (ar);
}

static void
write_integers (CArchive *ar)
{
  c_archive_write_byte (ar, 0);
  c_archive_write_byte (ar, G_MAXUINT8);
  c_archive_write_word (ar, 0);
  c_archive_write_word (ar, G_MAXUINT16);
  c_archive_write_long (ar, 0);
  c_archive_write_long (ar, G_MININT32);
  c_archive_write_long (ar, G_MAXINT32);
  c_archive_write_long (ar, -1);
  c_archive_write_dword (ar, 0);
  c_archive_write_dword (ar, G_MAXUINT32);
  c_archive_write_int (ar, G_MININT);
  c_archive_write_int (ar, G_MAXINT);
  c_archive_write_uint (ar, 0);
  c_archive_write_uint (ar, G_MAXUINT);
  c_archive_write_short (ar, G_MININT16);
  c_archive_write_short (ar, G_MAXINT16);
  c_archive_write_short (ar, -1);
  c_archive_write_char (ar, G_MININT8);
  c_archive_write_char (ar, G_MAXINT8);
  c_archive_write_char (ar, 0);
  c_archive_write_wchar (ar, 0);
  c_archive_write_wchar (ar, 0xFFFF);
  c_archive_write_wchar (ar, 0x20AC);
  c_archive_write_int64 (ar, G_MININT64);
  c_archive_write_int64 (ar, G_MAXINT64);
  c_archive_write_int64 (ar, 0);
  c_archive_write_uint64 (ar, 0);
  c_archive_write_uint64 (ar, G_MAXUINT64);
  c_archive_write_bool (ar, TRUE);
  c_archive_write_bool (ar, FALSE);
}

static void
read_integers (CArchive *ar)
{
  cr_assert_eq (c_archive_read_byte (ar), 0, "[%s]", test_context);
  cr_assert_eq (c_archive_read_byte (ar), G_MAXUINT8);
  cr_assert_eq (c_archive_read_word (ar), 0);
  cr_assert_eq (c_archive_read_word (ar), G_MAXUINT16);
  cr_assert_eq (c_archive_read_long (ar), 0);
  cr_assert_eq (c_archive_read_long (ar), G_MININT32);
  cr_assert_eq (c_archive_read_long (ar), G_MAXINT32);
  cr_assert_eq (c_archive_read_long (ar), -1);
  cr_assert_eq (c_archive_read_dword (ar), 0);
  cr_assert_eq (c_archive_read_dword (ar), G_MAXUINT32);
  cr_assert_eq (c_archive_read_int (ar), G_MININT);
  cr_assert_eq (c_archive_read_int (ar), G_MAXINT);
  cr_assert_eq (c_archive_read_uint (ar), 0);
  cr_assert_eq (c_archive_read_uint (ar), G_MAXUINT);
  cr_assert_eq (c_archive_read_short (ar), G_MININT16);
  cr_assert_eq (c_archive_read_short (ar), G_MAXINT16);
  cr_assert_eq (c_archive_read_short (ar), -1);
  cr_assert_eq (c_archive_read_char (ar), G_MININT8);
  cr_assert_eq (c_archive_read_char (ar), G_MAXINT8);
  cr_assert_eq (c_archive_read_char (ar), 0);
  cr_assert_eq (c_archive_read_wchar (ar), 0);
  cr_assert_eq (c_archive_read_wchar (ar), 0xFFFF);
  cr_assert_eq (c_archive_read_wchar (ar), 0x20AC);
  cr_assert_eq (c_archive_read_int64 (ar), G_MININT64);
  cr_assert_eq (c_archive_read_int64 (ar), G_MAXINT64);
  cr_assert_eq (c_archive_read_int64 (ar), 0);
  cr_assert_eq (c_archive_read_uint64 (ar), 0);
  cr_assert_eq (c_archive_read_uint64 (ar), G_MAXUINT64, "[%s]", test_context);
  cr_assert_eq (c_archive_read_bool (ar), TRUE);
  cr_assert_eq (c_archive_read_bool (ar), FALSE);
}

Test (archive, integers_roundtrip_at_their_limits, .timeout = 20)
{
  test_roundtrip_everywhere (write_integers, read_integers);
}

static const gfloat float_values[] = { 0.0f,        -0.0f,      1.0f,  -1.5f, G_MAXFLOAT,
                                       -G_MAXFLOAT, G_MINFLOAT, 1e-45f /* smallest subnormal */ };
static const gdouble double_values[]
    = { 0.0,         -0.0,         1.0,         -2.5,
        G_MAXDOUBLE, -G_MAXDOUBLE, G_MINDOUBLE, 4.9e-324 /* smallest subnormal */ };

static void
write_floats (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (float_values); i++)
    c_archive_write_float (ar, float_values[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (double_values); i++)
    c_archive_write_double (ar, double_values[i]);
  c_archive_write_float (ar, INFINITY);
  c_archive_write_float (ar, -INFINITY);
  c_archive_write_float (ar, NAN);
  c_archive_write_double (ar, INFINITY);
  c_archive_write_double (ar, -INFINITY);
  c_archive_write_double (ar, NAN);
}

static gboolean
same_float_bits (gfloat a, gfloat b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

static gboolean
same_double_bits (gdouble a, gdouble b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

static void
read_floats (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (float_values); i++)
    cr_assert (same_float_bits (c_archive_read_float (ar), float_values[i]), "[%s] float %zu",
               test_context, i);
  for (gsize i = 0; i < G_N_ELEMENTS (double_values); i++)
    cr_assert (same_double_bits (c_archive_read_double (ar), double_values[i]), "[%s] double %zu",
               test_context, i);
  cr_assert (isinf (c_archive_read_float (ar)) == 1);
  cr_assert (isinf (c_archive_read_float (ar)) == -1);
  cr_assert (isnan (c_archive_read_float (ar)));
  cr_assert (isinf (c_archive_read_double (ar)) == 1);
  cr_assert (isinf (c_archive_read_double (ar)) == -1);
  cr_assert (isnan (c_archive_read_double (ar)));
}

Test (archive, floats_roundtrip_bit_exact_with_nan_and_infinities, .timeout = 20)
{
  test_roundtrip_everywhere (write_floats, read_floats);
}

static void
write_nan_payload (CArchive *ar)
{
  guint32 bits = 0x7FA12345; /* a signalling NaN with a payload */
  gfloat value;

  memcpy (&value, &bits, sizeof value);
  c_archive_write_float (ar, value);
}

Test (archive, float_nan_payload_survives, .timeout = 10)
{
  g_autoptr (GBytes) network = store_one (C_ARCHIVE_FORMAT_NETWORK, write_nan_payload);
  g_autoptr (GBytes) mfc = store_one (C_ARCHIVE_FORMAT_MFC, write_nan_payload);

  assert_hex (network, "7f a1 23 45");
  assert_hex (mfc, "45 23 a1 7f");
}

static void
write_every_width (CArchive *ar)
{
  c_archive_write_byte (ar, 0x01);
  c_archive_write_word (ar, 0x0203);
  c_archive_write_long (ar, 0x04050607);
  c_archive_write_int64 (ar, 0x08090A0B0C0D0E0F);
  c_archive_write_double (ar, 1.0);
}

Test (archive, mfc_format_is_little_endian_and_network_big_endian, .timeout = 10)
{
  g_autoptr (GBytes) network = store_one (C_ARCHIVE_FORMAT_NETWORK, write_every_width);
  g_autoptr (GBytes) mfc = store_one (C_ARCHIVE_FORMAT_MFC, write_every_width);

  assert_hex (network, "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 3f f0 00 00 00 00 00 00");
  assert_hex (mfc, "01 03 02 07 06 05 04 0f 0e 0d 0c 0b 0a 09 08 00 00 00 00 00 00 f0 3f");
}

Test (archive, mfc_bool_reads_any_nonzero_byte_as_true, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_load_from_data ("\x02\x00\xff", 3, C_ARCHIVE_FORMAT_MFC);

  cr_assert (c_archive_read_bool (ar));
  cr_assert_not (c_archive_read_bool (ar));
  cr_assert (c_archive_read_bool (ar));
  test_assert_ok (ar);
}

Test (archive, reads_after_an_error_return_zero_values, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_load_from_data ("\x01", 1, C_ARCHIVE_FORMAT_NETWORK);
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GBytes) block = NULL;
  guint8 raw[4] = { 9, 9, 9, 9 };

  cr_assert_eq (c_archive_read_dword (ar), 0);
  cr_assert_eq (c_archive_read_byte (ar), 0, "the byte that is there is not read any more");
  cr_assert_eq (c_archive_read_int64 (ar), 0);
  cr_assert_eq (c_archive_read_double (ar), 0.0);
  cr_assert_eq (c_archive_read_bool (ar), FALSE);
  cr_assert_eq (c_archive_read_count (ar), 0);
  cr_assert_eq (c_archive_read (ar, raw, sizeof raw), 0);
  text = c_archive_read_cstring (ar);
  cr_assert_str_eq (text, "");
  block = c_archive_read_bytes (ar);
  cr_assert_eq (g_bytes_get_size (block), 0);
  line = c_archive_read_string (ar);
  cr_assert_null (line);
  cr_assert_null (c_archive_read_object (ar, G_TYPE_INVALID));
  cr_assert_eq (c_archive_read_class (ar, G_TYPE_INVALID, NULL), G_TYPE_INVALID);
  /* One error, the first: it names the DWORD at offset 0. */
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE,
                             "reading DWORD at offset 0: end of archive", NULL);
}

Test (archive, error_names_field_type_and_offset, .timeout = 10)
{
  g_autoptr (CArchive) ar
      = c_archive_new_load_from_data ("\x00\x00\x00\x01\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"
                                      "\xaa\xbb",
                                      16, C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GError) error = NULL;

  cr_assert_eq (c_archive_read_dword (ar), 1);
  cr_assert_eq (c_archive_read_word (ar), 2);
  cr_assert_eq (c_archive_read_int64 (ar), 0);
  cr_assert_eq (c_archive_read_dword (ar), 0);
  cr_assert_not (c_archive_check (ar, &error));
  cr_assert_str_eq (error->message,
                    "reading DWORD at offset 14: end of archive (4 bytes needed, 2 left)");
}

Test (archive, writing_to_a_loading_archive_is_a_read_only_error, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_load_from_data ("\x01", 1, C_ARCHIVE_FORMAT_NETWORK);

  c_archive_write_dword (ar, 5);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_READ_ONLY,
                             "writing DWORD at offset 0", "open for loading", NULL);
  cr_assert_eq (c_archive_read_byte (ar), 0, "the error is sticky");
}

Test (archive, reading_a_storing_archive_is_a_write_only_error, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);

  c_archive_write_word (ar, 1);
  cr_assert_eq (c_archive_read_word (ar), 0);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_WRITE_ONLY,
                             "reading WORD at offset 2", "open for storing", NULL);
}

Test (archive, mode_and_format_accessors, .timeout = 10)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) load = c_archive_new_load_from_data (NULL, 0, C_ARCHIVE_FORMAT_NETWORK);
  CArchiveFormat format;
  gboolean loading;

  cr_assert (c_archive_is_storing (store));
  cr_assert_not (c_archive_is_loading (store));
  cr_assert (c_archive_is_loading (load));
  cr_assert_eq (c_archive_get_format (store), C_ARCHIVE_FORMAT_MFC);
  g_object_get (store, "format", &format, "loading", &loading, NULL);
  cr_assert_eq (format, C_ARCHIVE_FORMAT_MFC);
  cr_assert_not (loading);
  cr_assert (c_archive_is_buffer_empty (load));
}

static void
count_notify (int *notified)
{
  (*notified)++;
}

Test (archive, limits_have_defaults_and_match_properties, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  guint64 depth;
  int notified = 0;

  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH), 64 * 1024 * 1024);
  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_COUNT), 16 * 1024 * 1024);
  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_DEPTH), 64);
  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_OBJECTS), 1024 * 1024);
  g_signal_connect_swapped (ar, "notify::max-depth", G_CALLBACK (count_notify), &notified);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_DEPTH, 8);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_DEPTH, 8);
  cr_assert_eq (notified, 1, "one notification per change");
  g_object_set (ar, "max-depth", (guint64) 9, NULL);
  cr_assert_eq (notified, 2);
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_DEPTH, 8);
  g_object_get (ar, "max-depth", &depth, NULL);
  cr_assert_eq (depth, 8);
  g_object_set (ar, "max-count", (guint64) 10, NULL);
  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_COUNT), 10);
}

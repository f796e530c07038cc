/* test-archive-strings.c: strings, byte blocks, counts, lines and raw bytes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

static const char *const texts[] = {
  "",
  "a",
  "Hello, world",
  "h\xc3\xa9llo",                /* é: two UTF-8 bytes, one UTF-16 unit */
  "\xe2\x82\xac 5",              /* €: three UTF-8 bytes */
  "\xf0\x9f\x98\x80 grin",       /* U+1F600: a surrogate pair in UTF-16 */
  "\xe4\xb8\xad\xe6\x96\x87",    /* CJK */
  "tab\there\nnewline \x7f del", /* ASCII control characters stay narrow */
};

static void
write_texts (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    c_archive_write_cstring (ar, texts[i]);
}

static void
read_texts (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *text = c_archive_read_cstring (ar);

      cr_assert_str_eq (text, texts[i], "[%s] text %zu", test_context, i);
    }
}

Test (archive, strings_roundtrip_ascii_and_unicode, .timeout = 30)
{
  test_roundtrip_everywhere (write_texts, read_texts);
}

/* Lengths around every escape of both formats. */
static const gsize boundary_lengths[]
    = { 0, 1, 0xFD, 0xFE, 0xFF, 0x100, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x10001 };

static char *
repeat (const char *unit, gsize n)
{
  gsize unit_length = strlen (unit);
  char *text = g_malloc (unit_length * n + 1);

  for (gsize i = 0; i < n; i++)
    memcpy (text + i * unit_length, unit, unit_length);
  text[unit_length * n] = '\0';
  return text;
}

static void
write_boundary_strings (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (boundary_lengths); i++)
    {
      g_autofree char *narrow = repeat ("a", boundary_lengths[i]);
      g_autofree char *wide = repeat ("\xc3\xa9", boundary_lengths[i]);

      c_archive_write_cstring (ar, narrow);
      c_archive_write_cstring (ar, wide);
    }
}

static void
read_boundary_strings (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (boundary_lengths); i++)
    {
      g_autofree char *narrow = repeat ("a", boundary_lengths[i]);
      g_autofree char *wide = repeat ("\xc3\xa9", boundary_lengths[i]);
      g_autofree char *narrow_read = c_archive_read_cstring (ar);
      g_autofree char *wide_read = c_archive_read_cstring (ar);

      cr_assert_str_eq (narrow_read, narrow, "[%s] narrow length %zx", test_context,
                        boundary_lengths[i]);
      cr_assert_str_eq (wide_read, wide, "[%s] wide length %zx", test_context, boundary_lengths[i]);
    }
}

Test (archive, strings_roundtrip_at_each_length_escape, .timeout = 120)
{
  test_roundtrip_everywhere (write_boundary_strings, read_boundary_strings);
}

#define ONE_MIB (1024 * 1024)

static void
write_big_strings (CArchive *ar)
{
  g_autofree char *ascii = repeat ("x", ONE_MIB);
  g_autofree char *unicode = repeat ("\xe2\x82\xac", ONE_MIB / 3);

  c_archive_write_cstring (ar, ascii);
  c_archive_write_cstring (ar, unicode);
}

static void
read_big_strings (CArchive *ar)
{
  g_autofree char *ascii = c_archive_read_cstring (ar);
  g_autofree char *unicode = c_archive_read_cstring (ar);
  g_autofree char *expected = repeat ("\xe2\x82\xac", ONE_MIB / 3);

  cr_assert_eq (strlen (ascii), ONE_MIB, "[%s]", test_context);
  cr_assert_eq (strspn (ascii, "x"), ONE_MIB);
  cr_assert_str_eq (unicode, expected, "[%s]", test_context);
}

Test (archive, one_mib_strings_roundtrip, .timeout = 120)
{
  static const Transport transports[]
      = { TRANSPORT_MEMORY, TRANSPORT_STREAM, TRANSPORT_SEVEN_BYTE_STREAM };

  for (int format = 0; format < 2; format++)
    for (gsize t = 0; t < G_N_ELEMENTS (transports); t++)
      test_roundtrip_with (write_big_strings, read_big_strings, format, transports[t]);
}

static GBytes *
store_text (CArchiveFormat format, const char *text)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);

  c_archive_write_cstring (ar, text);
  test_assert_ok (ar);
  return c_archive_steal_bytes (ar);
}

static void
assert_stored_hex (CArchiveFormat format, const char *text, const char *hex)
{
  g_autoptr (GBytes) bytes = store_text (format, text);
  g_autofree char *actual = test_hex (bytes);

  cr_assert_str_eq (actual, hex, "text '%s'", text);
}

Test (archive, mfc_writes_ascii_narrow_and_other_text_wide, .timeout = 10)
{
  assert_stored_hex (C_ARCHIVE_FORMAT_MFC, "abc", "03 61 62 63");
  assert_stored_hex (C_ARCHIVE_FORMAT_MFC, "h\xc3\xa9", "ff fe ff 02 68 00 e9 00");
  assert_stored_hex (C_ARCHIVE_FORMAT_MFC, "\xf0\x9f\x98\x80", "ff fe ff 02 3d d8 00 de");
  assert_stored_hex (C_ARCHIVE_FORMAT_NETWORK, "h\xc3\xa9", "00 00 00 03 68 c3 a9");
}

static char *
load_text (CArchiveFormat format, const char *hex)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex (hex);
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, format);
  char *text = c_archive_read_cstring (ar);

  test_assert_ok (ar);
  cr_assert (c_archive_is_buffer_empty (ar));
  return text;
}

Test (archive, mfc_reads_wide_ascii_and_non_canonical_lengths, .timeout = 10)
{
  g_autofree char *unicode_build
      = load_text (C_ARCHIVE_FORMAT_MFC, "ff fe ff 03 61 00 62 00 63 00");
  g_autofree char *word_length = load_text (C_ARCHIVE_FORMAT_MFC, "ff 02 00 68 69");
  g_autofree char *dword_length = load_text (C_ARCHIVE_FORMAT_MFC, "ff ff ff 02 00 00 00 68 69");
  g_autofree char *qword_length
      = load_text (C_ARCHIVE_FORMAT_MFC, "ff ff ff ff ff ff ff 02 00 00 00 00 00 00 00 68 69");
  g_autofree char *wide_mark_twice = load_text (C_ARCHIVE_FORMAT_MFC, "ff fe ff ff 01 00 41 00");

  cr_assert_str_eq (unicode_build, "abc");
  cr_assert_str_eq (word_length, "hi");
  cr_assert_str_eq (dword_length, "hi");
  cr_assert_str_eq (qword_length, "hi");
  cr_assert_str_eq (wide_mark_twice, "A");
}

Test (archive, network_reads_qword_length_escape, .timeout = 10)
{
  g_autofree char *text
      = load_text (C_ARCHIVE_FORMAT_NETWORK, "ff ff ff ff 00 00 00 00 00 00 00 02 68 69");

  cr_assert_str_eq (text, "hi");
}

Test (archive, invalid_utf8_is_refused_when_writing, .timeout = 10)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);

      c_archive_write_word (ar, 1);
      c_archive_write_cstring (ar, "bad \xc3\x28 text");
      c_archive_write_word (ar, 2);
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                 "writing CString at offset 2", "not valid UTF-8", NULL);
    }
}

static const guint64 counts[]
    = { 0, 1, 0xFFFE, 0xFFFF, 0x10000, 0xFFFFFFFE, 0xFFFFFFFF, 0x100000000, G_MAXUINT64 };

static void
write_counts (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    c_archive_write_count (ar, counts[i]);
}

static void
read_counts (CArchive *ar)
{
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_COUNT, G_MAXUINT64);
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    cr_assert_eq (c_archive_read_count (ar), counts[i], "[%s] count %zu", test_context, i);
}

Test (archive, counts_roundtrip_at_each_escape, .timeout = 30)
{
  test_roundtrip_everywhere (write_counts, read_counts);
}

static const gsize block_sizes[] = { 0, 1, 0xFFFE, 0xFFFF, 0x10000, 100000 };

static void
write_blocks (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (block_sizes); i++)
    {
      g_autofree guint8 *data = g_malloc (block_sizes[i] + 1);

      for (gsize j = 0; j < block_sizes[i]; j++)
        data[j] = (guint8) (j * 7 + i);
      if (i % 2 == 0)
        c_archive_write_data (ar, data, block_sizes[i]);
      else
        {
          g_autoptr (GBytes) bytes = g_bytes_new (data, block_sizes[i]);
          c_archive_write_bytes (ar, bytes);
        }
    }
}

static void
read_blocks (CArchive *ar)
{
  for (gsize i = 0; i < G_N_ELEMENTS (block_sizes); i++)
    {
      g_autoptr (GBytes) bytes = c_archive_read_bytes (ar);
      gsize size;
      const guint8 *data = g_bytes_get_data (bytes, &size);

      cr_assert_eq (size, block_sizes[i], "[%s] block %zu", test_context, i);
      for (gsize j = 0; j < size; j++)
        cr_assert_eq (data[j], (guint8) (j * 7 + i), "[%s] block %zu byte %zu", test_context, i, j);
    }
}

Test (archive, byte_blocks_roundtrip_at_each_escape, .timeout = 120)
{
  test_roundtrip_everywhere (write_blocks, read_blocks);
}

Test (archive, byte_block_layout_is_count_then_bytes, .timeout = 10)
{
  g_autoptr (CArchive) network = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (CArchive) mfc = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (GBytes) network_bytes = NULL;
  g_autoptr (GBytes) mfc_bytes = NULL;
  g_autofree char *network_hex = NULL;
  g_autofree char *mfc_hex = NULL;

  c_archive_write_data (network, "\x01\x02\x03", 3);
  c_archive_write_data (mfc, "\x01\x02\x03", 3);
  network_bytes = c_archive_steal_bytes (network);
  mfc_bytes = c_archive_steal_bytes (mfc);
  network_hex = test_hex (network_bytes);
  mfc_hex = test_hex (mfc_bytes);
  cr_assert_str_eq (network_hex, "00 00 00 03 01 02 03");
  cr_assert_str_eq (mfc_hex, "03 00 01 02 03");
}

static void
write_lines (CArchive *ar)
{
  g_autofree char *long_line = repeat ("L", 1000);

  c_archive_write_string (ar, "first\n");
  c_archive_write_string (ar, "second\r\n");
  c_archive_write_string (ar, "\n");
  c_archive_write_string (ar, "na\xc3\xafve\n");
  c_archive_write_string (ar, long_line);
  c_archive_write_string (ar, "\nlast without newline");
}

static void
read_lines (CArchive *ar)
{
  static const char *const expected[]
      = { "first", "second", "", "na\xc3\xafve", NULL, "last without newline" };

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *line = c_archive_read_string (ar);

      cr_assert_not_null (line, "[%s] line %zu", test_context, i);
      if (expected[i] == NULL)
        cr_assert (strlen (line) == 1000 && strspn (line, "L") == 1000, "[%s]", test_context);
      else
        cr_assert_str_eq (line, expected[i], "[%s] line %zu", test_context, i);
    }
  cr_assert_null (c_archive_read_string (ar), "[%s] end of archive gives NULL", test_context);
}

Test (archive, lines_roundtrip_and_end_gives_null, .timeout = 30)
{
  test_roundtrip_everywhere (write_lines, read_lines);
}

Test (archive, write_string_adds_no_terminator, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *hex = NULL;

  c_archive_write_string (ar, "ab");
  c_archive_write_string (ar, "c\n");
  bytes = c_archive_steal_bytes (ar);
  hex = test_hex (bytes);
  cr_assert_str_eq (hex, "61 62 63 0a");
}

static void
write_raw (CArchive *ar)
{
  c_archive_write (ar, "raw\x00\xff", 5);
  c_archive_write_word (ar, 0x0102);
}

static void
read_raw (CArchive *ar)
{
  guint8 buffer[5];

  cr_assert_eq (c_archive_read (ar, buffer, 5), 5, "[%s]", test_context);
  cr_assert (memcmp (buffer, "raw\x00\xff", 5) == 0);
  cr_assert_eq (c_archive_read_word (ar), 0x0102);
}

Test (archive, raw_bytes_roundtrip_without_prefix, .timeout = 10)
{
  test_roundtrip_everywhere (write_raw, read_raw);
}

Test (archive, raw_read_at_end_is_short_and_not_an_error, .timeout = 10)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("abc", 3);

  for (int t = 0; t < N_TRANSPORTS; t++)
    {
      g_autoptr (CArchive) ar = test_load (bytes, C_ARCHIVE_FORMAT_NETWORK, t);
      char buffer[10];

      cr_assert_eq (c_archive_read (ar, buffer, sizeof buffer), 3, "%s", transport_names[t]);
      cr_assert_eq (c_archive_read (ar, buffer, sizeof buffer), 0);
      test_assert_ok (ar);
    }
}

/* ---- A line read as a CString, and a CString read as a line (docs/wire-format.md §5.3) -- */

typedef void (*Writer) (CArchive *ar);

static GBytes *
store_with (CArchiveFormat format, Writer writer)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);

  writer (ar);
  test_assert_ok (ar);
  return c_archive_steal_bytes (ar);
}

static void
write_line_then_number (CArchive *ar)
{
  c_archive_write_string (ar, "hello world\n");
  c_archive_write_long (ar, 0);
}

Test (archive, line_read_as_cstring_says_so, .timeout = 10)
{
  for (int f = 0; f < 2; f++)
    {
      g_autoptr (GBytes) bytes = store_with ((CArchiveFormat) f, write_line_then_number);

      for (int t = 0; t < N_TRANSPORTS; t++)
        {
          g_autoptr (CArchive) ar = test_load (bytes, (CArchiveFormat) f, t);
          g_autoptr (CArchive) into = test_load (bytes, (CArchiveFormat) f, t);
          g_autofree char *text = c_archive_read_cstring (ar);
          char buffer[64];

          cr_assert_str_eq (text, "", "%s %s", format_names[f], transport_names[t]);
          test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                     "reading CString at offset 0: expected a length-prefixed "
                                     "CString, found what looks like a text line (starting \"hell",
                                     "c_archive_write_string()", "c_archive_read_string()", NULL);
          cr_assert_eq (c_archive_read_cstring_into (into, buffer, sizeof buffer), 0);
          test_assert_archive_error (into, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                     "found what looks like a text line", NULL);
        }
    }
}

static void
write_cstring_then_number (CArchive *ar)
{
  c_archive_write_cstring (ar, "hello");
  c_archive_write_long (ar, 0);
}

static void
write_wide_cstring (CArchive *ar)
{
  c_archive_write_cstring (ar, "h\xc3\xa9llo");
  c_archive_write_long (ar, 0);
}

Test (archive, cstring_read_as_line_says_so, .timeout = 10)
{
  for (int f = 0; f < 2; f++)
    {
      g_autoptr (GBytes) bytes = store_with ((CArchiveFormat) f, write_cstring_then_number);

      for (int t = 0; t < N_TRANSPORTS; t++)
        {
          g_autoptr (CArchive) ar = test_load (bytes, (CArchiveFormat) f, t);

          cr_assert_null (c_archive_read_string (ar), "%s %s", format_names[f], transport_names[t]);
          test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                     "reading line at offset 0: expected a text line, found "
                                     "what looks like a length-prefixed CString of 5 bytes",
                                     "c_archive_write_cstring()", "c_archive_read_cstring()", NULL);
        }
    }
  {
    /* MFC's wide form: the 0xFF escape. */
    g_autoptr (GBytes) bytes = store_with (C_ARCHIVE_FORMAT_MFC, write_wide_cstring);
    g_autoptr (CArchive) ar = test_load (bytes, C_ARCHIVE_FORMAT_MFC, TRANSPORT_MEMORY);

    cr_assert_null (c_archive_read_string (ar));
    test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                               "found what looks like a length-prefixed CString (MFC's long or "
                               "wide form)",
                               NULL);
  }
}

/* Failures that are not a mix-up keep their own error: the explanation needs bytes that
 * look like the other kind. */
Test (archive, other_string_failures_keep_their_errors, .timeout = 10)
{
  static const struct
  {
    CArchiveFormat format;
    gboolean line;
    const char *hex;
    CArchiveError code;
    const char *fragment;
  } cases[] = {
    /* a network length of 64 MiB + 1 (zero first byte: not text) */
    { C_ARCHIVE_FORMAT_NETWORK, FALSE, "04 00 00 01 41 42", C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
      "exceeds the limit" },
    /* MFC: 'h' taken as a length, text behind it but no newline: a cut-off string */
    { C_ARCHIVE_FORMAT_MFC, FALSE, "68 65 6c 6c 6f", C_ARCHIVE_ERROR_END_OF_FILE,
      "end of archive" },
    /* a string with a NUL inside, the bytes after the length not text */
    { C_ARCHIVE_FORMAT_NETWORK, FALSE, "00 00 00 02 41 00", C_ARCHIVE_ERROR_BAD_DATA,
      "the string contains NUL (at byte 1, offset 5): read strings with NULs with "
      "c_archive_read_cstring_len()" },
    /* a line with invalid UTF-8 that starts as text */
    { C_ARCHIVE_FORMAT_NETWORK, TRUE, "61 62 ff 0a", C_ARCHIVE_ERROR_BAD_DATA,
      "the line is not valid UTF-8 (byte 0xff at byte 2, offset 2)" },
    /* a line with a zero first byte whose "length" runs past the line */
    { C_ARCHIVE_FORMAT_NETWORK, TRUE, "00 00 00 09 61 0a", C_ARCHIVE_ERROR_BAD_DATA,
      "the line contains NUL (at byte 0, offset 0)" },
    /* MFC: a control byte whose "length" runs past the line */
    { C_ARCHIVE_FORMAT_MFC, TRUE, "07 00 61 0a", C_ARCHIVE_ERROR_BAD_DATA,
      "the line contains NUL (at byte 1, offset 1)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) bytes = test_bytes_from_hex (cases[i].hex);
      g_autoptr (CArchive) ar = test_load (bytes, cases[i].format, TRANSPORT_MEMORY);
      g_autofree char *text
          = cases[i].line ? c_archive_read_string (ar) : c_archive_read_cstring (ar);
      const GError *error = c_archive_get_error (ar);

      cr_assert_not_null (error, "case %zu: no error", i);
      cr_assert (strstr (error->message, "looks like") == NULL, "case %zu: %s", i, error->message);
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, cases[i].code, cases[i].fragment, NULL);
    }
}

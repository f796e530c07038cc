/* test-archive-text-errors.c: malformed text, text a code page lacks, and the options' API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

#define N C_ARCHIVE_FORMAT_NETWORK
#define M C_ARCHIVE_FORMAT_MFC

typedef enum
{
  READ_CSTRING,
  READ_CSTRING_LEN,
  READ_CSTRING_INTO,
  READ_LINE
} ReadOp;

typedef enum
{
  WITH_NOTHING,
  WITH_CP949,
  WITH_CP932,
  WITH_CP1252,
  WITH_WIDE,
  WITH_WIDE_LINE_LIMIT_4,
  WITH_UNLIMITED_STRINGS,
} Options;

typedef struct
{
  const char *name;
  CArchiveFormat format;
  Options options;
  const char *hex;
  ReadOp op;
  CArchiveError code;
  const char *fragment;
} Malformed;

static const Malformed table[] = {
  { "CP949: bytes that are no character", M, WITH_CP949, "03 81 20 41", READ_CSTRING,
    C_ARCHIVE_ERROR_BAD_DATA,
    "reading CString at offset 0: bytes 0x81 0x20 at byte 0 of the string (offset 1) are not "
    "text in code page CP949" },
  { "CP949: a character cut by the string's end", M, WITH_CP949, "03 41 42 c7", READ_CSTRING,
    C_ARCHIVE_ERROR_BAD_DATA,
    "the string ends inside a character of code page CP949 (byte 0xc7 at byte 2, offset 3)" },
  { "CP949: the same through the _len read", M, WITH_CP949, "03 41 42 c7", READ_CSTRING_LEN,
    C_ARCHIVE_ERROR_BAD_DATA, "reading CString at offset 0: the string ends inside a character" },
  { "CP932: an invalid trail byte", M, WITH_CP932, "02 81 ff", READ_CSTRING,
    C_ARCHIVE_ERROR_BAD_DATA,
    "bytes 0x81 0xff at byte 0 of the string (offset 1) are not text in code page CP932" },
  { "CP1252: a byte the code page leaves undefined", M, WITH_CP1252, "02 41 81", READ_CSTRING,
    C_ARCHIVE_ERROR_BAD_DATA,
    "byte 0x81 at byte 1 of the string (offset 2) is not text in code page CP1252" },
  { "CP949: a line with bytes that are no character", M, WITH_CP949, "41 81 20 0a", READ_LINE,
    C_ARCHIVE_ERROR_BAD_DATA,
    "reading line at offset 0: bytes 0x81 0x20 at byte 1 of the line (offset 1) are not text "
    "in code page CP949" },
  { "CP949: NUL, read without _len", M, WITH_CP949, "03 c7 d1 00", READ_CSTRING,
    C_ARCHIVE_ERROR_BAD_DATA,
    "the string contains NUL (at byte 2, offset 3): read strings with NULs with "
    "c_archive_read_cstring_len()" },
  { "NUL, read into a buffer", N, WITH_NOTHING, "00 00 00 02 00 41", READ_CSTRING_INTO,
    C_ARCHIVE_ERROR_BAD_DATA, "contains NUL (at byte 0, offset 4)" },
  { "MFC narrow text of a code page, no code page named", M, WITH_NOTHING, "04 63 61 66 e9",
    READ_CSTRING, C_ARCHIVE_ERROR_BAD_DATA,
    "the string is not valid UTF-8 (byte 0xe9 at byte 3, offset 4); if an ANSI MFC program "
    "wrote it, name its code page with c_archive_set_code_page()" },
  { "network UTF-8 invalid, through _len", N, WITH_NOTHING, "00 00 00 03 61 00 ff",
    READ_CSTRING_LEN, C_ARCHIVE_ERROR_BAD_DATA,
    "the string is not valid UTF-8 (byte 0xff at byte 2, offset 6)" },
  { "wide string in an odd number of bytes", M, WITH_WIDE, "ff fe ff 02 41 00 42", READ_CSTRING,
    C_ARCHIVE_ERROR_END_OF_FILE,
    "reading CString at offset 0: end of archive (4 bytes needed, 3 left)" },
  { "wide string, lone low surrogate, through _len", M, WITH_NOTHING, "ff fe ff 02 41 00 00 dc",
    READ_CSTRING_LEN, C_ARCHIVE_ERROR_BAD_DATA,
    "the wide string is not valid UTF-16: lone low surrogate 0xdc00 at unit 1 (offset 6)" },
  { "wide string, high surrogate at the end", M, WITH_NOTHING, "ff fe ff 02 41 00 3d d8",
    READ_CSTRING, C_ARCHIVE_ERROR_BAD_DATA,
    "not valid UTF-16: unpaired high surrogate 0xd83d at unit 1 (offset 6)" },
  { "wide string with NUL", M, WITH_NOTHING, "ff fe ff 02 41 00 00 00", READ_CSTRING,
    C_ARCHIVE_ERROR_BAD_DATA,
    "the wide string contains NUL (at unit 1, offset 6): read strings with NULs with "
    "c_archive_read_cstring_len()" },
  { "wide string of 4 GiB with 2 bytes, no limit", M, WITH_UNLIMITED_STRINGS,
    "ff fe ff ff ff ff ff ff ff 7f 41 00", READ_CSTRING_LEN, C_ARCHIVE_ERROR_END_OF_FILE,
    "(4294967294 bytes needed, 2 left)" },
  { "wide string of 4 GiB with 2 bytes, default limit", M, WITH_WIDE,
    "ff fe ff ff ff ff ff ff ff 7f 41 00", READ_CSTRING, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
    "a string of 4294967294 bytes exceeds the limit of 67108864 bytes" },
  { "wide line in an odd number of bytes", M, WITH_WIDE, "41 00 42", READ_LINE,
    C_ARCHIVE_ERROR_END_OF_FILE,
    "reading line at offset 0: end of archive inside a UTF-16 code unit (the wide line has 3 "
    "bytes)" },
  { "wide line with an unpaired surrogate", M, WITH_WIDE, "00 d8 0a 00", READ_LINE,
    C_ARCHIVE_ERROR_BAD_DATA,
    "the wide line is not valid UTF-16: unpaired high surrogate 0xd800 at unit 0 (offset 0)" },
  { "wide line with NUL", M, WITH_WIDE, "41 00 00 00 0a 00", READ_LINE, C_ARCHIVE_ERROR_BAD_DATA,
    "the wide line contains NUL (at unit 1, offset 2)" },
  { "wide line over the limit", M, WITH_WIDE_LINE_LIMIT_4, "41 00 42 00 43 00 0a 00", READ_LINE,
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "reading line at offset 0: a line of" },
  /* A '\n' byte that is half of a unit (U+0A41, U+410A) does not end a wide line. */
  { "wide line: 0a bytes inside units", M, WITH_WIDE, "41 0a 0a 41 00 d8", READ_LINE,
    C_ARCHIVE_ERROR_BAD_DATA, "unpaired high surrogate 0xd800 at unit 2 (offset 4)" },
};

static void
apply (CArchive *ar, Options options)
{
  static const char *const code_pages[]
      = { [WITH_CP949] = "CP949", [WITH_CP932] = "CP932", [WITH_CP1252] = "CP1252" };

  if (options >= WITH_CP949 && options <= WITH_CP1252)
    cr_assert (c_archive_set_code_page (ar, code_pages[options], NULL));
  if (options == WITH_WIDE || options == WITH_WIDE_LINE_LIMIT_4)
    c_archive_set_wide_strings (ar, TRUE);
  if (options == WITH_WIDE_LINE_LIMIT_4)
    c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, 4);
  if (options == WITH_UNLIMITED_STRINGS)
    c_archive_set_limit (ar, C_ARCHIVE_LIMIT_STRING_LENGTH, G_MAXUINT64);
}

static void
run_op (CArchive *ar, ReadOp op)
{
  g_autofree char *text = NULL;
  char buffer[16];
  gsize length = 99;

  switch (op)
    {
      case READ_CSTRING:
        text = c_archive_read_cstring (ar);
        cr_assert_str_eq (text, "");
        break;
      case READ_CSTRING_LEN:
        text = c_archive_read_cstring_len (ar, &length);
        cr_assert (length == 0 && text[0] == '\0', "an error gives the empty string");
        break;
      case READ_CSTRING_INTO:
        cr_assert_eq (c_archive_read_cstring_into (ar, buffer, sizeof buffer), 0);
        cr_assert_str_eq (buffer, "");
        break;
      case READ_LINE:
        cr_assert_null (c_archive_read_string (ar));
        break;
    }
}

Test (archive_text_errors, each_malformed_text_gives_its_specific_error, .timeout = 60)
{
  static const Transport transports[]
      = { TRANSPORT_MEMORY, TRANSPORT_ONE_BYTE_STREAM, TRANSPORT_SEVEN_BYTE_STREAM };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    for (gsize t = 0; t < G_N_ELEMENTS (transports); t++)
      {
        const Malformed *m = &table[i];
        g_autoptr (GBytes) bytes = test_bytes_from_hex (m->hex);
        g_autoptr (CArchive) ar = test_load (bytes, m->format, transports[t]);
        const GError *error;

        apply (ar, m->options);
        run_op (ar, m->op);
        test_assert_malformed (ar, (int) m->code, m->fragment, m->name, transports[t]);
        error = c_archive_get_error (ar);
        /* Sticky: the next read reads nothing. */
        cr_assert_eq (c_archive_read_byte (ar), 0);
        cr_assert_eq (c_archive_get_error (ar), error);
      }
}

/* ---- Writing text a code page lacks -------------------------------------------------- */

Test (archive_text_errors, text_a_code_page_lacks_is_refused_with_character_and_offset,
      .timeout = 10)
{
  static const struct
  {
    const char *code_page;
    gboolean line;
    const char *text;
    const char *fragment;
  } cases[] = {
    { "CP1252", FALSE, "caf\xc3\xa9 \xed\x95\x9c",
      "writing CString at offset 2: the character U+D55C '\xed\x95\x9c' at byte 6 of the text "
      "has no encoding in code page CP1252" },
    { "CP949", FALSE, "\xed\x95\x9c \xf0\x9f\x98\x80",
      "the character U+1F600 '\xf0\x9f\x98\x80' at byte 4 of the text has no encoding in code "
      "page CP949" },
    { "CP932", TRUE, "\xe6\x97\xa5 \xed\x95\x9c\n",
      "writing line at offset 2: the character U+D55C '\xed\x95\x9c' at byte 4 of the text" },
    /* A character that cannot be shown is named by its code point alone. */
    { "CP949", FALSE, "\xc2\x80", "the character U+0080 at byte 0 of the text has no encoding" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int t = 0; t < N_TRANSPORTS; t++)
      {
        TestStore store;

        test_store_begin (&store, M, t);
        cr_assert (c_archive_set_code_page (store.archive, cases[i].code_page, NULL));
        c_archive_write_word (store.archive, 0x0102);
        if (cases[i].line)
          c_archive_write_string (store.archive, cases[i].text);
        else
          c_archive_write_cstring (store.archive, cases[i].text);
        c_archive_write_word (store.archive, 0x0304);
        test_assert_archive_error (store.archive, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                   cases[i].fragment, NULL);
        /* Nothing of the refused text, and nothing after it, was written: never a '?'. */
        cr_assert_eq (c_archive_get_position (store.archive), 2, "case %zu (%s)", i,
                      transport_names[t]);
        if (t == TRANSPORT_MEMORY)
          {
            gsize n;
            const guint8 *data = c_archive_get_data (store.archive, &n);

            cr_assert (n == 2 && data[0] == 0x02 && data[1] == 0x01);
          }
        c_archive_abort (store.archive);
        g_clear_object (&store.archive);
        g_clear_object (&store.stream);
      }
}

Test (archive_text_errors, invalid_utf8_with_nuls_is_refused_at_its_byte, .timeout = 10)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);

      c_archive_write_cstring_len (ar, "a\0\xff", 3);
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                                 "writing CString at offset 0: the text is not valid UTF-8 (byte "
                                 "0xff at byte 2)",
                                 NULL);
    }
}

/* ---- The options' API ---------------------------------------------------------------- */

Test (archive_text_errors, a_code_page_that_cannot_be_used_is_refused_when_set, .timeout = 10)
{
  static const struct
  {
    const char *name;
    const char *fragment;
  } cases[] = {
    { "CP99999", "code page 'CP99999' is not known to the system's character conversion" },
    { "", "code page '' is not known" },
    { "SHIFT_JIS", "code page 'SHIFT_JIS' does not keep ASCII as it is (byte 0x5c)" },
    { "UTF-16", "does not keep ASCII as it is (byte 0x01)" },
    { "ISO-2022-JP", "does not keep ASCII as it is (byte 0x1b)" },
  };
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (M);

  cr_assert (c_archive_set_code_page (ar, "CP949", NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      cr_assert_not (c_archive_set_code_page (ar, cases[i].name, &error), "%s", cases[i].name);
      cr_assert (g_error_matches (error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION));
      cr_assert (strstr (error->message, cases[i].fragment) != NULL, "'%s' lacks '%s'",
                 error->message, cases[i].fragment);
      /* The archive keeps what it had, and has no error of its own. */
      cr_assert_str_eq (c_archive_get_code_page (ar), "CP949");
      test_assert_ok (ar);
    }
}

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  (*(guint *) data)++;
}

Test (archive_text_errors, options_are_properties_with_notify, .timeout = 10)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (M);
  g_autofree char *code_page = NULL;
  guint notified = 0;
  gboolean wide = TRUE;

  g_signal_connect (ar, "notify", G_CALLBACK (count_notify), &notified);
  g_object_get (ar, "wide-strings", &wide, "code-page", &code_page, NULL);
  cr_assert_not (wide);
  cr_assert_null (code_page);
  g_object_set (ar, "wide-strings", TRUE, "code-page", "949", NULL);
  cr_assert_eq (notified, 2);
  cr_assert (c_archive_get_wide_strings (ar));
  cr_assert_str_eq (c_archive_get_code_page (ar), "949", "the name as it was given");
  /* The same values again notify nothing. */
  c_archive_set_wide_strings (ar, 2);
  cr_assert (c_archive_set_code_page (ar, "949", NULL));
  cr_assert_eq (notified, 2);
  cr_assert (c_archive_set_code_page (ar, NULL, NULL));
  cr_assert_null (c_archive_get_code_page (ar));
  cr_assert_eq (notified, 3);
  /* The other properties still work through the same class. */
  g_object_set (ar, "max-count", (guint64) 7, NULL);
  cr_assert_eq (c_archive_get_limit (ar, C_ARCHIVE_LIMIT_COUNT), 7);
}

static GBytes *
store_with_changes (CArchiveFormat format)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);

  c_archive_write_cstring (ar, "\xc3\xa9");
  c_archive_set_wide_strings (ar, TRUE);
  c_archive_write_cstring (ar, "a");
  cr_assert (c_archive_set_code_page (ar, "CP949", NULL));
  c_archive_set_wide_strings (ar, FALSE);
  c_archive_write_cstring (ar, "\xed\x95\x9c");
  c_archive_write_string (ar, "\xed\x95\x9c\n");
  test_assert_ok (ar);
  return c_archive_steal_bytes (ar);
}

Test (archive_text_errors, options_changed_between_fields_apply_to_the_next, .timeout = 10)
{
  g_autoptr (GBytes) mfc = store_with_changes (M);
  g_autoptr (GBytes) network = store_with_changes (N);
  g_autofree char *mfc_hex = test_hex (mfc);
  g_autofree char *network_hex = test_hex (network);
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (mfc, M);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *d = NULL;

  cr_assert_str_eq (mfc_hex, "ff fe ff 01 e9 00 ff fe ff 01 61 00 02 c7 d1 c7 d1 0a");
  cr_assert_str_eq (network_hex,
                    "00 00 00 02 c3 a9 00 00 00 01 61 00 00 00 03 ed 95 9c ed 95 "
                    "9c 0a",
                    "the network format ignores the options");
  a = c_archive_read_cstring (ar);
  b = c_archive_read_cstring (ar);
  cr_assert (c_archive_set_code_page (ar, "CP949", NULL));
  c = c_archive_read_cstring (ar);
  d = c_archive_read_string (ar);
  test_assert_ok (ar);
  cr_assert_str_eq (a, "\xc3\xa9");
  cr_assert_str_eq (b, "a");
  cr_assert_str_eq (c, "\xed\x95\x9c");
  cr_assert_str_eq (d, "\xed\x95\x9c");
}

/* The fast path reads ASCII and UTF-8 in place; with a code page, text that would be
 * valid UTF-8 must still be read as the code page's. */
Test (archive_text_errors, code_page_text_that_looks_like_utf8_is_the_code_pages, .timeout = 10)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("02 c3 a9 02 c3 a9");
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, M);
  g_autofree char *plain = c_archive_read_cstring (ar);
  g_autofree char *cp1252 = NULL;

  cr_assert_str_eq (plain, "\xc3\xa9");
  cr_assert (c_archive_set_code_page (ar, "CP1252", NULL));
  cp1252 = c_archive_read_cstring (ar);
  cr_assert_str_eq (cp1252, "\xc3\x83\xc2\xa9", "\"Ã©\"");
}

Test (archive_text_errors, reload_keeps_the_options, .timeout = 10)
{
  g_autoptr (GBytes) first = test_bytes_from_hex ("02 c7 d1");
  g_autoptr (GBytes) second = test_bytes_from_hex ("02 b1 b9 6b 00 0a 00");
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (first, M);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *line = NULL;

  cr_assert (c_archive_set_code_page (ar, "CP949", NULL));
  c_archive_set_wide_strings (ar, TRUE);
  a = c_archive_read_cstring (ar);
  c_archive_reload (ar, second);
  b = c_archive_read_cstring (ar);
  line = c_archive_read_string (ar);
  test_assert_ok (ar);
  cr_assert_str_eq (a, "\xed\x95\x9c");
  cr_assert_str_eq (b, "\xea\xb5\xad");
  cr_assert_str_eq (line, "k");
}

Test (archive_text_errors, read_cstring_into_converts_before_it_measures, .timeout = 10)
{
  /* Four CP949 bytes are six bytes of UTF-8: they do not fit seven bytes with the NUL. */
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("04 c7 d1 b1 b9 04 c7 d1 b1 b9");
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, M);
  char big[7], small[6];

  cr_assert (c_archive_set_code_page (ar, "CP949", NULL));
  cr_assert_eq (c_archive_read_cstring_into (ar, big, sizeof big), 6);
  cr_assert_str_eq (big, "\xed\x95\x9c\xea\xb5\xad");
  cr_assert_eq (c_archive_read_cstring_into (ar, small, sizeof small), 0);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                             "a string of 6 bytes does not fit a buffer of 6 bytes", NULL);
}

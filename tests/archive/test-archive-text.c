/* test-archive-text.c: Unicode builds, ANSI code pages and strings with NULs
 *
 * The vectors of docs/wire-format.md §10.4, read from the document; round trips with each
 * option through every transport; the options' API (errors, properties, changes between
 * fields, reload).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"
#include "text-vectors.h"

#ifndef WIRE_FORMAT_MD
#error "WIRE_FORMAT_MD must name docs/wire-format.md"
#endif

#define N C_ARCHIVE_FORMAT_NETWORK
#define M C_ARCHIVE_FORMAT_MFC

static void
apply_options (CArchive *ar, const char *code_page, gboolean wide)
{
  g_autoptr (GError) error = NULL;

  cr_assert (c_archive_set_code_page (ar, code_page, &error), "%s", error ? error->message : "");
  c_archive_set_wide_strings (ar, wide);
}

/* ---- §10.4 ------------------------------------------------------------------------------ */

static void
write_vector (CArchive *ar, const TextVector *v)
{
  if (strcmp (v->type, "CString") == 0)
    c_archive_write_cstring (ar, v->text->str);
  else if (strcmp (v->type, "CString (len)") == 0)
    c_archive_write_cstring_len (ar, v->text->str, v->text->len);
  else if (strcmp (v->type, "line") == 0)
    c_archive_write_string (ar, v->text->str);
  else
    cr_assert_fail ("unknown row type '%s'", v->type);
}

static void
check_vector (CArchive *ar, const TextVector *v, const char *context)
{
  g_autofree char *text = NULL;
  gsize length = 0;

  if (strcmp (v->type, "CString (len)") == 0)
    text = c_archive_read_cstring_len (ar, &length);
  else
    {
      text = strcmp (v->type, "line") == 0 ? c_archive_read_string (ar)
                                           : c_archive_read_cstring (ar);
      cr_assert_not_null (text, "%s", context);
      length = strlen (text);
    }
  test_assert_ok (ar);
  if (strcmp (v->type, "line") == 0)
    {
      /* The line comes back without its newline, and without a "\r" before it. */
      gsize expected = v->text->len;

      if (expected > 0 && v->text->str[expected - 1] == '\n')
        expected--;
      if (expected > 0 && v->text->str[expected - 1] == '\r')
        expected--;
      cr_assert (length == expected && memcmp (text, v->text->str, expected) == 0, "%s: '%s'",
                 context, text);
      return;
    }
  cr_assert (length == v->text->len && memcmp (text, v->text->str, length) == 0, "%s: '%s'",
             context, text);
}

static void
check_length_row (const TextVector *v)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex (v->hex[M]);
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, M);
  g_autofree char *text = c_archive_read_cstring (ar);
  g_autofree char *expected = g_strdup_printf ("a string of %" G_GUINT64_FORMAT " bytes exceeds",
                                               v->wide ? 2 * v->length : v->length);

  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED, expected, NULL);
}

static void
check_row (const TextVector *v, CArchiveFormat format)
{
  const char *hex = v->hex[format];
  gboolean prefix = g_str_has_suffix (hex, "\xe2\x80\xa6"); /* … */
  g_autofree char *expected = g_strstrip (g_strndup (hex, strlen (hex) - (prefix ? 3 : 0)));
  g_autofree char *context
      = g_strdup_printf ("%s [%s] %s (%s)", v->type, v->options, v->value, format_names[format]);
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) spec_bytes = NULL;
  g_autoptr (CArchive) load = NULL;
  g_autofree char *actual = NULL;

  apply_options (store, v->code_page, v->wide);
  write_vector (store, v);
  test_assert_ok (store);
  bytes = c_archive_steal_bytes (store);
  actual = prefix ? test_hex_prefix (bytes, (strlen (expected) + 1) / 3) : test_hex (bytes);
  cr_assert_str_eq (actual, expected, "%s", context);
  /* Decode what the spec shows (or, for abbreviated rows, what was written). */
  spec_bytes = prefix ? g_bytes_ref (bytes) : test_bytes_from_hex (expected);
  load = c_archive_new_load_from_bytes (spec_bytes, format);
  apply_options (load, v->code_page, v->wide);
  check_vector (load, v, context);
  cr_assert (c_archive_is_buffer_empty (load), "%s: bytes left", context);
}

Test (archive_text, every_text_vector_of_the_spec_is_byte_exact, .timeout = 60)
{
  g_autoptr (GPtrArray) vectors = text_vectors_load (WIRE_FORMAT_MD);

  cr_assert_geq (vectors->len, 25, "the text vector table was not found");
  for (guint i = 0; i < vectors->len; i++)
    {
      const TextVector *v = g_ptr_array_index (vectors, i);

      if (strcmp (v->type, "string length") == 0)
        {
          check_length_row (v);
          continue;
        }
      cr_assert_not_null (v->text, "bad value %s", v->value);
      check_row (v, N);
      check_row (v, M);
    }
}

/* ---- Round trips through every transport ------------------------------------------------ */

/* Each code page with text it can represent, ASCII and NULs included. */
static const struct
{
  const char *code_page;
  const char *texts[6];
} samples[] = {
  { "CP1252",
    { "", "plain ASCII", "caf\xc3\xa9 \xe2\x82\xac 5",
      "\xc3\x9c"
      "ber",
      "\xc2\xa0\xc3\xbf" } },
  { "CP949",
    { "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", "a\xed\x95\x9c", "\xea\xb0\x80\n\xea\xb0\x81",
      "mixed \xed\x95\x9c ascii" } },
  { "CP932", { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xe3\x82\xab\xe3\x83\x8a {}\\" } },
  { "CP936", { "\xe4\xb8\xad\xe6\x96\x87", "\xe4\xbd\xa0\xe5\xa5\xbd, world" } },
};

static const char *current_code_page;
static gboolean current_wide;
static const char *const *current_texts;

static void
write_texts (CArchive *ar)
{
  apply_options (ar, current_code_page, current_wide);
  for (gsize i = 0; current_texts[i] != NULL; i++)
    {
      g_autofree char *line = g_strconcat (current_texts[i], "\r\n", NULL);
      g_autofree char *with_nul = g_strconcat ("<", current_texts[i], NULL);

      c_archive_write_cstring (ar, current_texts[i]);
      c_archive_write_string (ar, strchr (current_texts[i], '\n') ? "no newline" : line);
      if (strchr (current_texts[i], '\n') != NULL)
        c_archive_write_string (ar, "\n");
      /* "<" NUL text NUL: the NULs at both ends of the text. */
      c_archive_write_cstring_len (ar, with_nul, strlen (with_nul) + 1);
      with_nul[0] = '\0';
      c_archive_write_cstring_len (ar, with_nul, strlen (current_texts[i]) + 2);
    }
}

static void
read_texts (CArchive *ar)
{
  apply_options (ar, current_code_page, current_wide);
  for (gsize i = 0; current_texts[i] != NULL; i++)
    {
      const char *t = current_texts[i];
      g_autofree char *text = c_archive_read_cstring (ar);
      g_autofree char *line = c_archive_read_string (ar);
      gsize n1 = 0, n2 = 0;
      g_autofree char *with_nul = c_archive_read_cstring_len (ar, &n1);
      g_autofree char *nul_first = c_archive_read_cstring_len (ar, &n2);

      test_assert_ok (ar);
      cr_assert_str_eq (text, t, "[%s, %s] text %zu", test_context, current_code_page, i);
      cr_assert_str_eq (line, strchr (t, '\n') ? "no newline" : t, "[%s] line %zu", test_context,
                        i);
      cr_assert (n1 == strlen (t) + 2 && with_nul[0] == '<' && strcmp (with_nul + 1, t) == 0
                     && with_nul[n1 - 1] == '\0',
                 "[%s] <text NUL> %zu", test_context, i);
      cr_assert (n2 == strlen (t) + 2 && nul_first[0] == '\0' && strcmp (nul_first + 1, t) == 0,
                 "[%s] NUL text NUL %zu", test_context, i);
    }
}

Test (archive_text, code_page_texts_roundtrip_everywhere, .timeout = 120)
{
  for (gsize s = 0; s < G_N_ELEMENTS (samples); s++)
    for (int wide = 0; wide < 2; wide++)
      {
        current_code_page = samples[s].code_page;
        current_wide = wide;
        current_texts = samples[s].texts;
        test_roundtrip_everywhere (write_texts, read_texts);
      }
}

static const char *const any_texts[] = {
  "", "a", "h\xc3\xa9llo", "\xf0\x9f\x98\x80 grin", "\xe4\xb8\xad\xe6\x96\x87", "tab\there", NULL,
};

Test (archive_text, wide_texts_roundtrip_everywhere, .timeout = 60)
{
  current_code_page = NULL;
  current_wide = TRUE;
  current_texts = any_texts;
  test_roundtrip_everywhere (write_texts, read_texts);
  /* Without options too: the NULs of the _len functions in the default encodings. */
  current_wide = FALSE;
  test_roundtrip_everywhere (write_texts, read_texts);
}

/* Lengths around every escape, in UTF-16 units (wide) and in code-page bytes (CP949's
 * 'a' and two-byte syllables). */
static const gsize boundary_lengths[]
    = { 0, 1, 0xFD, 0xFE, 0xFF, 0x100, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x10001 };

static char *
text_of_length (gsize n, const char *two_bytes)
{
  GString *text = g_string_new (n % 2 ? "a" : "");

  for (gsize i = 0; i < n / 2; i++)
    g_string_append (text, two_bytes);
  return g_string_free (text, FALSE);
}

static void
write_boundaries (CArchive *ar)
{
  apply_options (ar, current_code_page, current_wide);
  for (gsize i = 0; i < G_N_ELEMENTS (boundary_lengths); i++)
    {
      g_autofree char *text = text_of_length (boundary_lengths[i], "\xed\x95\x9c");

      c_archive_write_cstring (ar, text);
    }
}

static void
read_boundaries (CArchive *ar)
{
  apply_options (ar, current_code_page, current_wide);
  for (gsize i = 0; i < G_N_ELEMENTS (boundary_lengths); i++)
    {
      g_autofree char *expected = text_of_length (boundary_lengths[i], "\xed\x95\x9c");
      g_autofree char *text = c_archive_read_cstring (ar);

      cr_assert_str_eq (text, expected, "[%s] length %zx", test_context, boundary_lengths[i]);
    }
}

Test (archive_text, lengths_at_each_escape_roundtrip_wide_and_in_a_code_page, .timeout = 120)
{
  for (int wide = 0; wide < 2; wide++)
    {
      current_code_page = "CP949";
      current_wide = wide;
      test_roundtrip_everywhere (write_boundaries, read_boundaries);
    }
}

/* The length prefix of a narrow CP949 string counts its bytes, at each escape. */
Test (archive_text, code_page_length_counts_bytes, .timeout = 10)
{
  static const struct
  {
    gsize bytes;
    const char *prefix;
  } cases[] = { { 0xFE, "fe" }, { 0xFF, "ff ff 00" }, { 0xFFFE, "ff ff ff fe ff 00 00" } };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CArchive) ar = c_archive_new_store_to_memory (M);
      g_autofree char *text = text_of_length (cases[i].bytes, "\xed\x95\x9c");
      g_autoptr (GBytes) bytes = NULL;
      g_autofree char *hex = NULL;

      apply_options (ar, "CP949", FALSE);
      c_archive_write_cstring (ar, text);
      bytes = c_archive_steal_bytes (ar);
      hex = test_hex_prefix (bytes, (strlen (cases[i].prefix) + 1) / 3 + 2);
      cr_assert (g_str_has_prefix (hex, cases[i].prefix), "%zx: %s", cases[i].bytes, hex);
      cr_assert_eq (g_bytes_get_size (bytes), cases[i].bytes + (strlen (cases[i].prefix) + 1) / 3);
    }
}

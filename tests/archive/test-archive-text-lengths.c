/* test-archive-text-lengths.c: the MFC length prefixes of strings too long to make
 *
 * A string of 0xFFFFFFFF UTF-16 units would take 8 GiB: the rows "string length" of
 * docs/wire-format.md §10.4 are checked against the archive's own length writer instead
 * (the one every string goes through), linked from the library's internals.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include <afxsock.h>

#include "c-archive-private.h"
#include "text-vectors.h"

static char *
hex_of (CArchive *ar)
{
  gsize n;
  const guint8 *data = c_archive_get_data (ar, &n);
  GString *hex = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (hex, i == 0 ? "%02x" : " %02x", data[i]);
  return g_string_free (hex, FALSE);
}

Test (archive_text_lengths, length_prefixes_of_the_spec_are_byte_exact, .timeout = 10)
{
  g_autoptr (GPtrArray) vectors = text_vectors_load (WIRE_FORMAT_MD);
  guint rows = 0;

  for (guint i = 0; i < vectors->len; i++)
    {
      const TextVector *v = g_ptr_array_index (vectors, i);
      g_autoptr (CArchive) ar = NULL;
      g_autofree char *hex = NULL;

      if (strcmp (v->type, "string length") != 0)
        continue;
      ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
      c_archive_put_mfc_length (ar, v->length, v->wide);
      hex = hex_of (ar);
      cr_assert_str_eq (hex, v->hex[1], "length %s (%s)", v->value, v->options);
      rows++;
    }
  cr_assert_geq (rows, 4, "the string length rows were not found");
}

/* Every escape, both kinds: what the reader makes of what the writer wrote. */
Test (archive_text_lengths, each_escape_reads_back, .timeout = 10)
{
  static const guint64 lengths[] = { 0,      0xFE,       0xFF,       0xFFFD,      0xFFFE,
                                     0xFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0x100000000, G_MAXUINT64 / 2 };

  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    for (int wide = 0; wide < 2; wide++)
      {
        g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
        g_autoptr (CArchive) load = NULL;
        g_autofree char *text = NULL;
        g_autofree char *expected = NULL;
        const guint8 *data;
        gsize n;

        c_archive_put_mfc_length (store, lengths[i], wide);
        data = c_archive_get_data (store, &n);
        load = c_archive_new_load_from_data (data, n, C_ARCHIVE_FORMAT_MFC);
        c_archive_set_limit (load, C_ARCHIVE_LIMIT_STRING_LENGTH, 0);
        text = c_archive_read_cstring (load);
        if (lengths[i] == 0)
          {
            cr_assert_null (c_archive_get_error (load), "empty, wide %d", wide);
            continue;
          }
        /* A limit of 0 makes the reader name the length it decoded. */
        expected = g_strdup_printf ("a string of %" G_GUINT64_FORMAT " bytes exceeds",
                                    wide ? 2 * lengths[i] : lengths[i]);
        cr_assert (strstr (c_archive_get_error (load)->message, expected) != NULL, "%s lacks %s",
                   c_archive_get_error (load)->message, expected);
      }
}

/* gen-archive-corpus.c: writes the seed corpus of fuzz-archive-load
 *
 *   gen-archive-corpus DIR   writes DIR/archive-* seeds (valid records of every kind, in
 *                            both formats and through every transport, plus broken ones)
 *
 * The seeds in fuzz/corpus/archive-load were made by this program; rerun it after a
 * change of the operation set in fuzz-archive-common.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>

#include "fuzz-archive-common.h"

static void
op (CArchive *ar, FuzzOp which)
{
  c_archive_write_byte (ar, which);
}

static void
write_numbers (CArchive *ar)
{
  op (ar, FUZZ_OP_BYTE), c_archive_write_byte (ar, 0xFF);
  op (ar, FUZZ_OP_WORD), c_archive_write_word (ar, 0xFFFF);
  op (ar, FUZZ_OP_LONG), c_archive_write_long (ar, G_MININT32);
  op (ar, FUZZ_OP_DWORD), c_archive_write_dword (ar, 0xDEADBEEF);
  op (ar, FUZZ_OP_INT), c_archive_write_int (ar, -1);
  op (ar, FUZZ_OP_UINT), c_archive_write_uint (ar, G_MAXUINT);
  op (ar, FUZZ_OP_SHORT), c_archive_write_short (ar, G_MININT16);
  op (ar, FUZZ_OP_CHAR), c_archive_write_char (ar, 'A');
  op (ar, FUZZ_OP_WCHAR), c_archive_write_wchar (ar, 0x20AC);
  op (ar, FUZZ_OP_BOOL), c_archive_write_bool (ar, TRUE);
  op (ar, FUZZ_OP_FLOAT), c_archive_write_float (ar, 1.5f);
  op (ar, FUZZ_OP_DOUBLE), c_archive_write_double (ar, -2.5);
  op (ar, FUZZ_OP_INT64), c_archive_write_int64 (ar, G_MININT64);
  op (ar, FUZZ_OP_UINT64), c_archive_write_uint64 (ar, G_MAXUINT64);
}

static void
write_texts (CArchive *ar)
{
  g_autofree char *long_text = g_strnfill (300, 'a');

  op (ar, FUZZ_OP_CSTRING), c_archive_write_cstring (ar, "hello");
  op (ar, FUZZ_OP_CSTRING), c_archive_write_cstring (ar, "h\xc3\xa9llo \xf0\x9f\x98\x80");
  op (ar, FUZZ_OP_CSTRING), c_archive_write_cstring (ar, long_text);
  op (ar, FUZZ_OP_CSTRING), c_archive_write_cstring (ar, "");
  op (ar, FUZZ_OP_BYTES), c_archive_write_data (ar, "\x00\x01\x02", 3);
  op (ar, FUZZ_OP_STRING_LIST);
  c_archive_write_count (ar, 2);
  c_archive_write_cstring (ar, "one");
  c_archive_write_cstring (ar, "two");
  op (ar, FUZZ_OP_RAW), c_archive_write_byte (ar, 4), c_archive_write (ar, "raw!", 4);
  op (ar, FUZZ_OP_LINE), c_archive_write_string (ar, "a line\r\n");
}

/* Text for the archive's options (docs/wire-format.md §5.5): what its code page has, NULs
 * through the _len op, lines. */
static void
write_option_texts (CArchive *ar)
{
  const char *code_page = c_archive_get_code_page (ar);
  const char *text = g_strcmp0 (code_page, "CP949") == 0   ? "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4"
                     : g_strcmp0 (code_page, "CP932") == 0 ? "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
                     : code_page != NULL                   ? "caf\xc3\xa9 \xe2\x82\xac"
                                                           : "h\xc3\xa9llo \xf0\x9f\x98\x80";
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);
  g_autofree char *with_nul = g_strconcat ("a", text, NULL);

  op (ar, FUZZ_OP_CSTRING), c_archive_write_cstring (ar, text);
  op (ar, FUZZ_OP_CSTRING), c_archive_write_cstring (ar, "ascii");
  op (ar, FUZZ_OP_CSTRING_LEN), c_archive_write_cstring_len (ar, "\0", 1);
  with_nul[0] = '\0';
  op (ar, FUZZ_OP_CSTRING_LEN), c_archive_write_cstring_len (ar, with_nul, strlen (text) + 1);
  op (ar, FUZZ_OP_LINE), c_archive_write_string (ar, line);
  op (ar, FUZZ_OP_STRING_LIST);
  c_archive_write_count (ar, 2);
  c_archive_write_cstring (ar, text);
  c_archive_write_cstring (ar, "");
}

static void
write_objects (CArchive *ar)
{
  g_autoptr (FuzzNode) a = fuzz_node_new (1, NULL);
  g_autoptr (FuzzNode) b = fuzz_node_new (2, G_OBJECT (a));
  g_autoptr (FuzzVersioned) v = fuzz_versioned_new (7, "seven");
  g_autoptr (GObject) mapped = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr (GBytes) bytes = g_bytes_new_static ("\x01\x02", 2);
  static const char *const strv[] = { "x", "y", NULL };
  g_autoptr (FuzzBag) bag
      = g_object_new (FUZZ_TYPE_BAG, "number", 5, "real", 0.5, "text", "bag", "format",
                      C_ARCHIVE_FORMAT_MFC, "strv", strv, "bytes", bytes, "other", a, NULL);

  fuzz_node_set_next (a, G_OBJECT (b)); /* a cycle */
  op (ar, FUZZ_OP_MAP), c_archive_map_object (ar, mapped);
  op (ar, FUZZ_OP_NODE), c_archive_write_object (ar, G_OBJECT (a));
  op (ar, FUZZ_OP_OBJECT), c_archive_write_object (ar, G_OBJECT (b));
  op (ar, FUZZ_OP_OBJECT), c_archive_write_object (ar, NULL);
  op (ar, FUZZ_OP_OBJECT), c_archive_write_object (ar, G_OBJECT (v));
  op (ar, FUZZ_OP_OBJECT), c_archive_write_object (ar, G_OBJECT (bag));
  op (ar, FUZZ_OP_CLASS), c_archive_write_class (ar, FUZZ_TYPE_NODE);
  op (ar, FUZZ_OP_CLASS), c_archive_write_class (ar, FUZZ_TYPE_BAG);
}

static const struct
{
  const char *name;
  void (*write) (CArchive *ar);
} kinds[] = {
  { "numbers", write_numbers },           { "texts", write_texts },
  { "objects", write_objects },           { "mfc-types", fuzz_write_mfc_seed },
  { "option-texts", write_option_texts },
};

static const struct
{
  const char *name;
  guint8 flags;
} variants[] = {
  { "net", 0 },
  { "mfc", FUZZ_FLAG_MFC },
  { "net-1byte", FUZZ_FLAG_ONE_BYTE_STREAM },
  { "mfc-7byte", FUZZ_FLAG_MFC | FUZZ_FLAG_SEVEN_BYTE_STREAM },
  { "mfc-wide", FUZZ_FLAG_MFC | FUZZ_FLAG_WIDE_STRINGS },
  { "mfc-cp949", FUZZ_FLAG_MFC | 1 << FUZZ_CODE_PAGE_SHIFT },
  { "mfc-cp932-1byte", FUZZ_FLAG_MFC | FUZZ_FLAG_ONE_BYTE_STREAM | 2 << FUZZ_CODE_PAGE_SHIFT },
  { "mfc-wide-cp1252-7byte", FUZZ_FLAG_MFC | FUZZ_FLAG_SEVEN_BYTE_STREAM | FUZZ_FLAG_WIDE_STRINGS
                                 | 3 << FUZZ_CODE_PAGE_SHIFT },
};

static gboolean
save (const char *dir, const char *name, guint8 flags, GBytes *archive, gsize keep)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("%s/archive-%s", dir, name);
  g_autoptr (GByteArray) seed = g_byte_array_new ();

  g_byte_array_append (seed, &flags, 1);
  g_byte_array_append (seed, g_bytes_get_data (archive, NULL),
                       MIN (keep, g_bytes_get_size (archive)));
  if (g_file_set_contents (path, (const char *) seed->data, seed->len, &error))
    return TRUE;
  fprintf (stderr, "%s\n", error->message);
  return FALSE;
}

/* Hand-made hostile archives: bombs and lies the fuzzer should start from too. */
static gboolean
save_hostile (const char *dir)
{
  static const struct
  {
    const char *name;
    guint8 flags;
    const char *data;
    gsize length;
  } hostile[] = {
    { "hostile-4gib-string", 0,
      "\x0e\xff\xff\xff\xfe"
      "0123456789",
      15 },
    { "hostile-count-bomb", 0, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 13 },
    { "hostile-forward-reference", FUZZ_FLAG_MFC, "\x13\x05\x00", 3 },
    { "hostile-unknown-class", 0,
      "\x13\xff\xff\x00\x01\x00\x04"
      "CFoo",
      11 },
    { "hostile-wide-surrogate", FUZZ_FLAG_MFC, "\x0e\xff\xfe\xff\x01\x00\xd8", 7 },
    { "hostile-cp949-bad-bytes", FUZZ_FLAG_MFC | 1 << FUZZ_CODE_PAGE_SHIFT, "\x0e\x03\x81\x20\x41",
      5 },
    { "hostile-cp949-cut-character", FUZZ_FLAG_MFC | 1 << FUZZ_CODE_PAGE_SHIFT,
      "\x0e\x03\x41\x42\xc7", 5 },
    { "hostile-wide-line-odd", FUZZ_FLAG_MFC | FUZZ_FLAG_WIDE_STRINGS, "\x11\x41\x00\x42", 4 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new_static (hostile[i].data, hostile[i].length);

      if (!save (dir, hostile[i].name, hostile[i].flags, bytes, G_MAXSIZE))
        return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR\n", argv[0]);
      return 2;
    }
  fuzz_register_classes ();
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
      {
        CArchiveFormat format
            = (variants[v].flags & FUZZ_FLAG_MFC) ? C_ARCHIVE_FORMAT_MFC : C_ARCHIVE_FORMAT_NETWORK;
        g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
        g_autoptr (GBytes) bytes = NULL;
        g_autofree char *name = NULL;
        g_autofree char *truncated = NULL;

        /* The text options (and text the code page has) for the option-texts kind only. */
        if ((variants[v].flags & (FUZZ_FLAG_WIDE_STRINGS | FUZZ_CODE_PAGE_MASK)) != 0
            && kinds[k].write != write_option_texts)
          continue;
        fuzz_set_text_options (ar, (variants[v].flags & FUZZ_FLAG_WIDE_STRINGS) != 0,
                               (variants[v].flags & FUZZ_CODE_PAGE_MASK) >> FUZZ_CODE_PAGE_SHIFT);
        kinds[k].write (ar);
        if (!c_archive_check (ar, NULL))
          return 1;
        bytes = c_archive_steal_bytes (ar);
        name = g_strdup_printf ("%s-%s", variants[v].name, kinds[k].name);
        truncated = g_strdup_printf ("%s-%s-truncated", variants[v].name, kinds[k].name);
        if (!save (argv[1], name, variants[v].flags, bytes, G_MAXSIZE)
            || !save (argv[1], truncated, variants[v].flags, bytes, g_bytes_get_size (bytes) / 2))
          return 1;
      }
  return save_hostile (argv[1]) ? 0 : 1;
}

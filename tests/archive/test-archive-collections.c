/* test-archive-collections.c: MFC's collections (docs/wire-format.md §12)
 *
 * The vectors of §12.1 are read from the document and checked byte for byte in both
 * formats, then read back through every transport; then the collections as objects
 * (`ar << &coll`), the strange uses the API allows, and malformed input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

#ifndef WIRE_FORMAT_MD
#error "WIRE_FORMAT_MD must name docs/wire-format.md"
#endif

static const char *const strv_value[] = { "one", "", "two", NULL };
static const guint16 words_value[] = { 1, 0xabcd };
static const guint32 dwords_value[] = { 1, 0xdeadbeef };

static void
init (void)
{
  /* A critical (say, a NULL element unreffed) is a bug here, not a message. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  test_classes_register ();
}

static void
unref_nullable (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

TestSuite (archive_collections, .init = init, .timeout = 60);

/* ---- The vectors: each builds its value and writes it, or reads and checks it ---- */

static GHashTable *
string_map (void)
{
  GHashTable *map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert (map, g_strdup ("b"), g_strdup ("2"));
  g_hash_table_insert (map, g_strdup ("a"), g_strdup ("1"));
  return map;
}

static void
write_vector (CArchive *ar, const char *name)
{
  if (strcmp (name, "strv") == 0)
    c_archive_write_strv (ar, strv_value);
  else if (strcmp (name, "words") == 0)
    c_archive_write_words (ar, words_value, G_N_ELEMENTS (words_value));
  else if (strcmp (name, "dwords") == 0)
    c_archive_write_dwords (ar, dwords_value, G_N_ELEMENTS (dwords_value));
  else if (strcmp (name, "objects") == 0)
    {
      g_autoptr (GPtrArray) objects = g_ptr_array_new_with_free_func (unref_nullable);
      TestNode *node = test_node_new (7, NULL);

      g_ptr_array_add (objects, node);
      g_ptr_array_add (objects, NULL);
      g_ptr_array_add (objects, g_object_ref (node));
      c_archive_write_objects (ar, objects);
    }
  else if (strcmp (name, "string map") == 0)
    {
      g_autoptr (GHashTable) map = string_map ();
      c_archive_write_string_map (ar, map);
    }
  else if (strcmp (name, "word map") == 0)
    {
      g_autoptr (GHashTable) map = g_hash_table_new_full (NULL, NULL, NULL, unref_nullable);

      g_hash_table_insert (map, GUINT_TO_POINTER (7), NULL);
      g_hash_table_insert (map, GUINT_TO_POINTER (3), test_node_new (1, NULL));
      c_archive_write_word_object_map (ar, map);
    }
  else if (strcmp (name, "string object map") == 0)
    {
      g_autoptr (GHashTable) map = g_hash_table_new (g_str_hash, g_str_equal);

      g_hash_table_insert (map, "x", NULL);
      c_archive_write_string_object_map (ar, map);
    }
  else if (strcmp (name, "elements") == 0)
    {
      g_autoptr (GArray) elements = g_array_new (FALSE, FALSE, sizeof (gint32));
      gint32 values[] = { 1, -1 };

      g_array_append_vals (elements, values, 2);
      c_archive_write_elements (ar, elements);
    }
  else if (strcmp (name, "element map") == 0)
    {
      g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (guint16));
      g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (gint32));
      guint16 key = 5;
      gint32 value = 9;

      g_array_append_val (keys, key);
      g_array_append_val (values, value);
      c_archive_write_element_map (ar, keys, values);
    }
  else if (strcmp (name, "CStringList object") == 0)
    {
      g_autoptr (CCollection) list = c_collection_new (C_TYPE_STRING_LIST);

      g_ptr_array_add (c_collection_get_items (list), g_strdup ("a"));
      c_archive_write_object (ar, G_OBJECT (list));
    }
  else
    cr_assert (FALSE, "unknown vector %s", name);
}

static void
check_vector (CArchive *ar, const char *name)
{
  if (strcmp (name, "strv") == 0)
    {
      g_auto (GStrv) strv = c_archive_read_strv (ar);
      cr_assert (g_strv_equal ((const char *const *) strv, strv_value), "[%s] strv", test_context);
    }
  else if (strcmp (name, "words") == 0 || strcmp (name, "dwords") == 0)
    {
      gboolean words = name[0] == 'w';
      g_autoptr (GArray) values = words ? c_archive_read_words (ar) : c_archive_read_dwords (ar);

      cr_assert_eq (values->len, 2);
      cr_assert_eq (g_array_get_element_size (values), words ? 2 : 4);
      cr_assert (memcmp (values->data, words ? (const void *) words_value : dwords_value,
                         words ? sizeof words_value : sizeof dwords_value)
                     == 0,
                 "[%s] %s", test_context, name);
    }
  else if (strcmp (name, "objects") == 0)
    {
      g_autoptr (GPtrArray) objects = c_archive_read_objects (ar, TEST_TYPE_NODE);

      cr_assert_eq (objects->len, 3, "[%s]", test_context);
      cr_assert_eq (TEST_NODE (objects->pdata[0])->value, 7);
      cr_assert_null (objects->pdata[1]);
      cr_assert_eq (objects->pdata[2], objects->pdata[0], "the back-reference is the same object");
    }
  else if (strcmp (name, "string map") == 0)
    {
      g_autoptr (GHashTable) map = c_archive_read_string_map (ar);

      cr_assert_eq (g_hash_table_size (map), 2);
      cr_assert_str_eq (g_hash_table_lookup (map, "a"), "1");
      cr_assert_str_eq (g_hash_table_lookup (map, "b"), "2");
    }
  else if (strcmp (name, "word map") == 0)
    {
      g_autoptr (GHashTable) map = c_archive_read_word_object_map (ar, TEST_TYPE_NODE);
      gpointer value = NULL;

      cr_assert_eq (g_hash_table_size (map), 2);
      cr_assert (g_hash_table_lookup_extended (map, GUINT_TO_POINTER (7), NULL, &value));
      cr_assert_null (value);
      cr_assert_eq (TEST_NODE (g_hash_table_lookup (map, GUINT_TO_POINTER (3)))->value, 1);
    }
  else if (strcmp (name, "string object map") == 0)
    {
      g_autoptr (GHashTable) map = c_archive_read_string_object_map (ar, G_TYPE_INVALID);
      gpointer value = &value;

      cr_assert_eq (g_hash_table_size (map), 1);
      cr_assert (g_hash_table_lookup_extended (map, "x", NULL, &value));
      cr_assert_null (value);
    }
  else if (strcmp (name, "elements") == 0)
    {
      g_autoptr (GArray) elements = c_archive_read_elements (ar, sizeof (gint32));

      cr_assert_eq (elements->len, 2);
      cr_assert_eq (g_array_index (elements, gint32, 0), 1);
      cr_assert_eq (g_array_index (elements, gint32, 1), -1);
    }
  else if (strcmp (name, "element map") == 0)
    {
      g_autoptr (GArray) keys = NULL;
      g_autoptr (GArray) values = NULL;

      cr_assert (
          c_archive_read_element_map (ar, sizeof (guint16), sizeof (gint32), &keys, &values));
      cr_assert_eq (keys->len, 1);
      cr_assert_eq (g_array_index (keys, guint16, 0), 5);
      cr_assert_eq (g_array_index (values, gint32, 0), 9);
    }
  else if (strcmp (name, "CStringList object") == 0)
    {
      g_autoptr (GObject) list = c_archive_read_object (ar, C_TYPE_COLLECTION);
      GPtrArray *items;

      cr_assert (C_IS_STRING_LIST (list), "[%s] read a %s", test_context,
                 list ? G_OBJECT_TYPE_NAME (list) : "NULL");
      items = c_collection_get_items (C_COLLECTION (list));
      cr_assert_eq (items->len, 1);
      cr_assert_str_eq (items->pdata[0], "a");
    }
}

Test (archive_collections, vectors_from_the_specification)
{
  g_autoptr (GPtrArray) rows = test_spec_table (WIRE_FORMAT_MD, "collections");

  cr_assert_eq (rows->len, 10, "the vector table has %u rows", rows->len);
  for (guint r = 0; r < rows->len; r++)
    {
      char **row = rows->pdata[r];

      for (int format = 0; format < 2; format++)
        {
          g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
          g_autoptr (GBytes) expected = test_bytes_from_hex (row[1 + format]);
          g_autoptr (GBytes) bytes = NULL;
          g_autofree char *hex = NULL;

          write_vector (ar, row[0]);
          test_assert_ok (ar);
          bytes = c_archive_steal_bytes (ar);
          hex = test_hex (bytes);
          cr_assert (g_bytes_equal (bytes, expected), "%s (%s): wrote %s, the table says %s",
                     row[0], format_names[format], hex, row[1 + format]);
          for (int transport = 0; transport < N_TRANSPORTS; transport++)
            {
              g_autoptr (CArchive) loader = test_load (expected, format, transport);

              g_snprintf (test_context, sizeof test_context, "%s, %s, %s", row[0],
                          format_names[format], transport_names[transport]);
              check_vector (loader, row[0]);
              test_assert_ok (loader);
              cr_assert (c_archive_is_buffer_empty (loader), "[%s] bytes left", test_context);
            }
        }
    }
}

/* ---- Collections as objects ---- */

static CCollection *
string_array (const char *first, ...)
{
  CCollection *array = c_collection_new (C_TYPE_STRING_ARRAY);
  va_list args;

  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    g_ptr_array_add (c_collection_get_items (array), g_strdup (s));
  va_end (args);
  return array;
}

/* A CObArray holding a CStringArray twice (the second a back-reference), NULL, a map of
 * strings, a CWordArray, a CByteArray, and a CMapWordToOb whose value is the same
 * CStringArray again: what an MFC document with shared members writes. */
static void
write_nested (CArchive *ar)
{
  g_autoptr (CCollection) outer = c_collection_new (C_TYPE_OB_ARRAY);
  g_autoptr (CCollection) strings = string_array ("héllo", "wörld", NULL);
  g_autoptr (CCollection) map = c_collection_new (C_TYPE_MAP_STRING_TO_STRING);
  g_autoptr (CCollection) words = c_collection_new (C_TYPE_WORD_ARRAY);
  g_autoptr (CCollection) bytes = c_collection_new (C_TYPE_BYTE_ARRAY);
  g_autoptr (CCollection) by_word = c_collection_new (C_TYPE_MAP_WORD_TO_OB);
  GPtrArray *items = c_collection_get_items (outer);
  guint16 w[] = { 0, 65535, 42 };
  guint8 b[] = { 0, 0xff };

  g_hash_table_insert (c_collection_get_map (map), g_strdup ("k"), g_strdup ("v"));
  g_array_append_vals (c_collection_get_values (words), w, 3);
  g_array_append_vals (c_collection_get_values (bytes), b, 2);
  g_hash_table_insert (c_collection_get_map (by_word), GUINT_TO_POINTER (9),
                       g_object_ref (strings));
  g_ptr_array_add (items, g_object_ref (strings));
  g_ptr_array_add (items, g_object_ref (strings));
  g_ptr_array_add (items, NULL);
  g_ptr_array_add (items, g_object_ref (map));
  g_ptr_array_add (items, g_object_ref (words));
  g_ptr_array_add (items, g_object_ref (bytes));
  g_ptr_array_add (items, g_object_ref (by_word));
  c_archive_write_object (ar, G_OBJECT (outer));
}

static void
read_nested (CArchive *ar)
{
  g_autoptr (GObject) outer = c_archive_read_object (ar, C_TYPE_OB_ARRAY);
  GPtrArray *items, *strings;
  GArray *words, *bytes;
  GHashTable *by_word;

  cr_assert (C_IS_OB_ARRAY (outer), "[%s]", test_context);
  items = c_collection_get_items (C_COLLECTION (outer));
  cr_assert_eq (items->len, 7, "[%s]", test_context);
  cr_assert (C_IS_STRING_ARRAY (items->pdata[0]));
  cr_assert_eq (items->pdata[1], items->pdata[0], "[%s] back-reference", test_context);
  cr_assert_null (items->pdata[2]);
  strings = c_collection_get_items (items->pdata[0]);
  cr_assert_eq (strings->len, 2);
  cr_assert_str_eq (strings->pdata[0], "héllo");
  cr_assert_str_eq (strings->pdata[1], "wörld");
  cr_assert_str_eq (g_hash_table_lookup (c_collection_get_map (items->pdata[3]), "k"), "v");
  words = c_collection_get_values (items->pdata[4]);
  cr_assert_eq (words->len, 3);
  cr_assert_eq (g_array_index (words, guint16, 1), 65535);
  bytes = c_collection_get_values (items->pdata[5]);
  cr_assert_eq (bytes->len, 2);
  cr_assert_eq (g_array_index (bytes, guint8, 1), 0xff);
  by_word = c_collection_get_map (items->pdata[6]);
  cr_assert_eq (g_hash_table_lookup (by_word, GUINT_TO_POINTER (9)), items->pdata[0],
                "[%s] the map's value is the same CStringArray", test_context);
}

Test (archive_collections, collections_as_objects_nested_and_shared)
{
  test_roundtrip_everywhere (write_nested, read_nested);
}

/* The embedded form and the object form of one collection are the same bytes after the
 * class tag: what coll.Serialize (ar) writes is what ar << &coll writes after its class. */
Test (archive_collections, serialize_is_the_object_without_its_class)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) embedded = c_archive_new_store_to_memory (format);
      g_autoptr (CArchive) object = c_archive_new_store_to_memory (format);
      g_autoptr (CCollection) list = string_array ("x", "yy", NULL);
      g_autoptr (GBytes) a = NULL, b = NULL;
      gsize tag = 2 + 2 + 2 + strlen ("CStringArray"); /* new class, schema, name */

      c_serializable_serialize (C_SERIALIZABLE (list), embedded);
      c_archive_write_object (object, G_OBJECT (list));
      a = c_archive_steal_bytes (embedded);
      b = c_archive_steal_bytes (object);
      cr_assert_eq (g_bytes_get_size (b), g_bytes_get_size (a) + tag);
      cr_assert (memcmp (g_bytes_get_data (a, NULL),
                         (const guint8 *) g_bytes_get_data (b, NULL) + tag, g_bytes_get_size (a))
                 == 0);
    }
}

/* Strange but allowed: an empty collection of every kind, a collection written twice into
 * one archive, one archive reading into an existing collection (its old contents replaced),
 * and the same CCollection written through two archives. */
Test (archive_collections, empty_repeated_and_reused)
{
  const GType types[]
      = { C_TYPE_STRING_ARRAY,  C_TYPE_STRING_LIST,          C_TYPE_BYTE_ARRAY,
          C_TYPE_WORD_ARRAY,    C_TYPE_DWORD_ARRAY,          C_TYPE_OB_ARRAY,
          C_TYPE_OB_LIST,       C_TYPE_MAP_STRING_TO_STRING, C_TYPE_MAP_STRING_TO_OB,
          C_TYPE_MAP_WORD_TO_OB };

  for (int format = 0; format < 2; format++)
    for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
      {
        g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
        g_autoptr (CCollection) empty = c_collection_new (types[t]);
        g_autoptr (GBytes) bytes = NULL;
        g_autoptr (CArchive) loader = NULL;
        g_autoptr (GObject) first = NULL, second = NULL;

        c_archive_write_object (ar, G_OBJECT (empty));
        c_archive_write_object (ar, G_OBJECT (empty));
        test_assert_ok (ar);
        bytes = c_archive_steal_bytes (ar);
        loader = c_archive_new_load_from_bytes (bytes, format);
        first = c_archive_read_object (loader, types[t]);
        second = c_archive_read_object (loader, types[t]);
        test_assert_ok (loader);
        cr_assert_eq (G_OBJECT_TYPE (first), types[t]);
        cr_assert_eq (first, second, "%s: the second is a back-reference", g_type_name (types[t]));
      }

  /* Reading into a collection that already holds elements replaces them. */
  {
    g_autoptr (CCollection) list = string_array ("old", "older", NULL);
    g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
    g_autoptr (CArchive) loader = NULL;
    g_autoptr (GBytes) bytes = NULL;
    const char *fresh[] = { "new", NULL };

    c_archive_write_strv (ar, fresh);
    bytes = c_archive_steal_bytes (ar);
    loader = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_MFC);
    c_serializable_serialize (C_SERIALIZABLE (list), loader);
    test_assert_ok (loader);
    cr_assert_eq (c_collection_get_items (list)->len, 1);
    cr_assert_str_eq (c_collection_get_items (list)->pdata[0], "new");
  }
}

/* ---- Malformed input: each a specific error, never more memory than what arrived ---- */

typedef enum
{
  READ_STRV,
  READ_WORDS,
  READ_DWORDS,
  READ_OBJECTS,
  READ_STRING_MAP,
  READ_STRING_OBJECT_MAP,
  READ_WORD_OBJECT_MAP,
  READ_ELEMENTS,
  READ_ELEMENT_MAP,
  READ_COLLECTION_OBJECT
} Reader;

static void
read_with (CArchive *ar, Reader reader)
{
  g_auto (GStrv) strv = NULL;
  g_autoptr (GArray) array = NULL;
  g_autoptr (GArray) values = NULL;
  g_autoptr (GPtrArray) objects = NULL;
  g_autoptr (GHashTable) map = NULL;
  g_autoptr (GObject) object = NULL;

  switch (reader)
    {
      case READ_STRV:
        strv = c_archive_read_strv (ar);
        cr_assert_null (strv[0], "an empty list after an error");
        break;
      case READ_WORDS:
        array = c_archive_read_words (ar);
        cr_assert_eq (array->len, 0);
        break;
      case READ_DWORDS:
        array = c_archive_read_dwords (ar);
        cr_assert_eq (array->len, 0);
        break;
      case READ_OBJECTS:
        objects = c_archive_read_objects (ar, G_TYPE_INVALID);
        cr_assert_eq (objects->len, 0);
        break;
      case READ_STRING_MAP:
        map = c_archive_read_string_map (ar);
        break;
      case READ_STRING_OBJECT_MAP:
        map = c_archive_read_string_object_map (ar, G_TYPE_INVALID);
        break;
      case READ_WORD_OBJECT_MAP:
        map = c_archive_read_word_object_map (ar, TEST_TYPE_NODE);
        break;
      case READ_ELEMENTS:
        array = c_archive_read_elements (ar, 4);
        cr_assert_eq (array->len, 0);
        break;
      case READ_ELEMENT_MAP:
        cr_assert_not (c_archive_read_element_map (ar, 2, 4, &array, &values));
        cr_assert_eq (array->len + values->len, 0);
        break;
      case READ_COLLECTION_OBJECT:
        object = c_archive_read_object (ar, C_TYPE_COLLECTION);
        cr_assert_null (object);
        break;
    }
  if (map != NULL)
    cr_assert_eq (g_hash_table_size (map), 0, "an empty map after an error");
}

typedef struct
{
  const char *what;
  CArchiveFormat format;
  Reader reader;
  const char *hex;
  int code;
  const char *fragments[3];
} Malformed;

static const Malformed malformed[] = {
  /* Count bombs: a count far beyond the bytes that follow. */
  { "strings: 65534 claimed, one sent",
    C_ARCHIVE_FORMAT_MFC,
    READ_STRV,
    "fe ff 01 61",
    C_ARCHIVE_ERROR_END_OF_FILE,
    { "string list element 1 of 65534", NULL } },
  { "words: 16 Mi claimed, 2 bytes sent",
    C_ARCHIVE_FORMAT_NETWORK,
    READ_WORDS,
    "00 ff ff ff 00 01",
    C_ARCHIVE_ERROR_END_OF_FILE,
    { "WORD array", NULL } },
  { "dwords: 65534 claimed, 3 bytes sent",
    C_ARCHIVE_FORMAT_MFC,
    READ_DWORDS,
    "fe ff 01 02 03",
    C_ARCHIVE_ERROR_END_OF_FILE,
    { "DWORD array", NULL } },
  { "elements: 16 Mi claimed",
    C_ARCHIVE_FORMAT_MFC,
    READ_ELEMENTS,
    "ff ff ff ff ff 00 01",
    C_ARCHIVE_ERROR_END_OF_FILE,
    { "elements", NULL } },
  { "objects: a count over the limit",
    C_ARCHIVE_FORMAT_MFC,
    READ_OBJECTS,
    "ff ff 00 00 00 10",
    C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
    { "count 268435456 exceeds", NULL } },
  { "string map: ends inside a value",
    C_ARCHIVE_FORMAT_MFC,
    READ_STRING_MAP,
    "02 00 01 61 05 31",
    C_ARCHIVE_ERROR_END_OF_FILE,
    { "CMapStringToString entry 0 of 2", NULL } },
  /* Duplicate keys. */
  { "string map: a key twice",
    C_ARCHIVE_FORMAT_MFC,
    READ_STRING_MAP,
    "02 00 01 61 01 31 01 61 01 32",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "CMapStringToString entry 1 of 2", "duplicate key \"a\"", NULL } },
  { "word map: a key twice",
    C_ARCHIVE_FORMAT_NETWORK,
    READ_WORD_OBJECT_MAP,
    "00 00 00 02 00 07 00 00 00 07 00 00",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "CMapWordToOb entry 1 of 2", "duplicate key 7", NULL } },
  { "string object map: a key twice",
    C_ARCHIVE_FORMAT_MFC,
    READ_STRING_OBJECT_MAP,
    "02 00 01 78 00 00 01 78 00 00",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "duplicate key \"x\"", NULL } },
  { "element map: a key twice",
    C_ARCHIVE_FORMAT_MFC,
    READ_ELEMENT_MAP,
    "02 00 05 00 09 00 00 00 05 00 0a 00 00 00",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "CMap entry 1 of 2", "duplicate key", NULL } },
  /* Elements of the wrong kind. */
  { "word map: a value of another class",
    C_ARCHIVE_FORMAT_MFC,
    READ_WORD_OBJECT_MAP,
    "01 00 03 00 ff ff 00 00 0b 00 43 53 74 72 69 6e 67 4c 69 73 74 00 00",
    C_ARCHIVE_ERROR_BAD_CLASS,
    { "CMapWordToOb entry 0 of 1", NULL } },
  { "strings: invalid UTF-8",
    C_ARCHIVE_FORMAT_NETWORK,
    READ_STRV,
    "00 00 00 02 00 00 00 01 61 00 00 00 01 ff",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "string list element 1 of 2", NULL } },
  /* A CObArray (class id 1, object id 2) that holds itself: a cycle never freed. */
  { "a CObArray holding itself",
    C_ARCHIVE_FORMAT_MFC,
    READ_COLLECTION_OBJECT,
    "ff ff 00 00 08 00 43 4f 62 41 72 72 61 79 01 00 02 00",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "holds itself", NULL } },
  /* A CObList holding a CObArray holding the CObList. */
  { "two collections holding each other",
    C_ARCHIVE_FORMAT_MFC,
    READ_COLLECTION_OBJECT,
    "ff ff 00 00 07 00 43 4f 62 4c 69 73 74 01 00 ff ff 00 00 08 00 43 4f 62 41 72 72 61 79 "
    "01 00 02 00",
    C_ARCHIVE_ERROR_BAD_DATA,
    { "holds itself", NULL } },
};

Test (archive_collections, malformed_input)
{
  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      const Malformed *m = &malformed[i];
      g_autoptr (GBytes) bytes = test_bytes_from_hex (m->hex);

      for (int transport = 0; transport < N_TRANSPORTS; transport++)
        {
          g_autoptr (CArchive) ar = test_load (bytes, m->format, transport);
          const GError *error;

          read_with (ar, m->reader);
          error = c_archive_get_error (ar);
          cr_assert_not_null (error, "%s (%s): no error", m->what, transport_names[transport]);
          cr_assert (g_error_matches (error, C_ARCHIVE_ERROR, m->code), "%s (%s): %s (code %d)",
                     m->what, transport_names[transport], error->message, error->code);
          for (int f = 0; m->fragments[f] != NULL; f++)
            cr_assert (strstr (error->message, m->fragments[f]) != NULL, "%s: \"%s\" lacks \"%s\"",
                       m->what, error->message, m->fragments[f]);
        }
    }
}

/* Writing what MFC cannot read is refused, not truncated. */
Test (archive_collections, word_key_out_of_range)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (GHashTable) map = g_hash_table_new (NULL, NULL);

  g_hash_table_insert (map, GUINT_TO_POINTER (65536), NULL);
  c_archive_write_word_object_map (ar, map);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                             "key 65536 is not a WORD", NULL);
}

/* The wrong direction is the archive's usual error, from every collection call. */
Test (archive_collections, wrong_direction)
{
  g_autoptr (CArchive) storing = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_auto (GStrv) strv = c_archive_read_strv (storing);

  test_assert_archive_error (storing, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_WRITE_ONLY, NULL);
  cr_assert_null (strv[0]);
}

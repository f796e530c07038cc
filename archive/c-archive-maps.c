/* c-archive-maps.c: MFC's serializable maps (CMapStringToString, CMapStringToOb,
 * CMapWordToOb) over GHashTable, and the default SerializeElements of MFC's templates
 * (CArray<T>, CList<T>, CMap<K,V> of plain types) over GArray
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A map is a count and then key, value, key, value… in the order of MFC's hash buckets,
 * which a reader must not rely on: we write keys in ascending order (deterministic bytes)
 * and read any order. MFC's SetAt keeps the last of two equal keys; a map with a duplicate
 * key is never what an MFC writer produces, so we refuse it (C_ARCHIVE_ERROR_BAD_DATA).
 * docs/wire-format.md §12 gives the bytes.
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* Elements of a template collection read in one c_archive_take_into(). */
#define ELEMENT_CHUNK_BYTES 65536

/* The largest element c_archive_read_elements() accepts: a plain MFC type or struct. */
#define MAX_ELEMENT_SIZE 65536

typedef enum
{
  KEY_STRING,
  KEY_WORD
} KeyKind;

typedef enum
{
  VALUE_STRING,
  VALUE_OBJECT
} ValueKind;

/* What one map type is: its MFC name (for errors), key and value kinds. */
typedef struct
{
  const char *name;
  KeyKind key;
  ValueKind value;
  const char *writer; /* the public functions, for their criticals */
  const char *reader;
} MapKind;

static const MapKind string_to_string
    = { "CMapStringToString", KEY_STRING, VALUE_STRING, "c_archive_write_string_map",
        "c_archive_read_string_map" };
static const MapKind string_to_object
    = { "CMapStringToOb", KEY_STRING, VALUE_OBJECT, "c_archive_write_string_object_map",
        "c_archive_read_string_object_map" };
static const MapKind word_to_object
    = { "CMapWordToOb", KEY_WORD, VALUE_OBJECT, "c_archive_write_word_object_map",
        "c_archive_read_word_object_map" };

static void
name_entry (CArchive *self, const char *map, guint64 index, guint64 count)
{
  if (self->error != NULL && !g_str_has_prefix (self->error->message, map))
    g_prefix_error (&self->error, "%s entry %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ": ", map,
                    index, count);
}

static gint
compare_string_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gint
compare_word_keys (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(const gpointer *) a), y = GPOINTER_TO_UINT (*(const gpointer *) b);

  return x < y ? -1 : x > y;
}

static void
write_map (CArchive *self, const MapKind *kind, GHashTable *map)
{
  g_autofree gpointer *keys = NULL;
  guint n = 0;

  if (!c_archive_check_self (self, kind->writer) || self->error != NULL)
    return;
  keys = g_hash_table_get_keys_as_array (map, &n);
  qsort (keys, n, sizeof *keys, kind->key == KEY_STRING ? compare_string_keys : compare_word_keys);
  c_archive_write_count (self, n);
  for (guint i = 0; i < n && self->error == NULL; i++)
    {
      gpointer value = g_hash_table_lookup (map, keys[i]);

      if (kind->key == KEY_STRING)
        c_archive_write_cstring (self, keys[i]);
      else if (GPOINTER_TO_UINT (keys[i]) > G_MAXUINT16)
        c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "key %u is not a WORD",
                        GPOINTER_TO_UINT (keys[i]));
      else
        c_archive_write_word (self, (guint16) GPOINTER_TO_UINT (keys[i]));
      if (kind->value == VALUE_STRING)
        c_archive_write_cstring (self, value);
      else
        c_archive_write_object (self, value);
      name_entry (self, kind->name, i, n);
    }
}

static void
unref_nullable (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

static GHashTable *
new_map (const MapKind *kind)
{
  GDestroyNotify free_value = kind->value == VALUE_STRING ? g_free : unref_nullable;

  if (kind->key == KEY_STRING)
    return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_value);
  return g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, free_value);
}

static GHashTable *
read_map (CArchive *self, const MapKind *kind, GType expected_type)
{
  GHashTable *map = new_map (kind);
  guint64 n;

  if (!c_archive_check_self (self, kind->reader))
    return map;
  n = c_archive_read_count (self);
  for (guint64 i = 0; i < n && self->error == NULL; i++)
    {
      gpointer key, value;
      guint16 word = 0;
      gboolean duplicate;

      key = kind->key == KEY_STRING ? (gpointer) c_archive_read_cstring (self)
                                    : GUINT_TO_POINTER (word = c_archive_read_word (self));
      value = kind->value == VALUE_STRING ? (gpointer) c_archive_read_cstring (self)
                                          : (gpointer) c_archive_read_object (self, expected_type);
      duplicate = self->error == NULL && g_hash_table_contains (map, key);
      if (duplicate && kind->key == KEY_STRING)
        c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "duplicate key \"%s\"", (char *) key);
      else if (duplicate)
        c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "duplicate key %u", word);
      name_entry (self, kind->name, i, n);
      if (self->error == NULL)
        {
          g_hash_table_insert (map, key, value);
          continue;
        }
      if (kind->key == KEY_STRING)
        g_free (key);
      if (kind->value == VALUE_STRING)
        g_free (value);
      else
        unref_nullable (value);
    }
  if (self->error != NULL)
    g_hash_table_remove_all (map);
  return map;
}

/**
 * c_archive_write_string_map:
 * @self: a storing archive
 * @map: (element-type utf8 utf8): the map
 *
 * Writes a map of strings to strings as MFC's `CMapStringToString::Serialize` does: a
 * count, then each key and its value as c_archive_write_cstring() writes them. Keys are
 * written in ascending byte order (MFC writes its hash order, which readers ignore).
 */
void
c_archive_write_string_map (CArchive *self, GHashTable *map)
{
  g_return_if_fail (map != NULL);
  write_map (self, &string_to_string, map);
}

/**
 * c_archive_read_string_map:
 * @self: a loading archive
 *
 * Reads what c_archive_write_string_map() wrote (MFC's `CMapStringToString`), entries in
 * any order. A key that comes twice is #C_ARCHIVE_ERROR_BAD_DATA (MFC would keep the
 * last value).
 *
 * Returns: (transfer full) (element-type utf8 utf8): the map; empty after an error
 */
GHashTable *
c_archive_read_string_map (CArchive *self)
{
  return read_map (self, &string_to_string, G_TYPE_INVALID);
}

/**
 * c_archive_write_string_object_map:
 * @self: a storing archive
 * @map: (element-type utf8 GObject): the map; values may be %NULL
 *
 * Writes a map of strings to objects as MFC's `CMapStringToOb::Serialize` does: a count,
 * then each key (a CString) and its value as c_archive_write_object() writes it. Keys are
 * written in ascending byte order.
 */
void
c_archive_write_string_object_map (CArchive *self, GHashTable *map)
{
  g_return_if_fail (map != NULL);
  write_map (self, &string_to_object, map);
}

/**
 * c_archive_read_string_object_map:
 * @self: a loading archive
 * @expected_type: the type every value must be or derive from, or %G_TYPE_INVALID
 *
 * Reads what c_archive_write_string_object_map() wrote (MFC's `CMapStringToOb`). A key
 * that comes twice is #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Returns: (transfer full) (element-type utf8 GObject): the map; empty after an error
 */
GHashTable *
c_archive_read_string_object_map (CArchive *self, GType expected_type)
{
  return read_map (self, &string_to_object, expected_type);
}

/**
 * c_archive_write_word_object_map:
 * @self: a storing archive
 * @map: (element-type guint GObject): the map, keys as GUINT_TO_POINTER() of WORDs (0 to
 *   65535); values may be %NULL
 *
 * Writes a map of WORDs to objects as MFC's `CMapWordToOb::Serialize` does: a count, then
 * each key as a WORD and its value as c_archive_write_object() writes it. Keys are written
 * in ascending order; a key above 65535 is #C_ARCHIVE_ERROR_BAD_DATA.
 */
void
c_archive_write_word_object_map (CArchive *self, GHashTable *map)
{
  g_return_if_fail (map != NULL);
  write_map (self, &word_to_object, map);
}

/**
 * c_archive_read_word_object_map:
 * @self: a loading archive
 * @expected_type: the type every value must be or derive from, or %G_TYPE_INVALID
 *
 * Reads what c_archive_write_word_object_map() wrote (MFC's `CMapWordToOb`): keys are
 * GUINT_TO_POINTER() of the WORDs. A key that comes twice is #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Returns: (transfer full) (element-type guint GObject): the map; empty after an error
 */
GHashTable *
c_archive_read_word_object_map (CArchive *self, GType expected_type)
{
  return read_map (self, &word_to_object, expected_type);
}

/* ---- The default SerializeElements of CArray<T>, CList<T> and CMap<K,V> ---- */

/**
 * c_archive_write_elements:
 * @self: a storing archive
 * @elements: the elements (any element size)
 *
 * Writes elements as the default `SerializeElements` of MFC's `CArray<T>` and `CList<T>`
 * does for plain types: a count, then the elements' bytes as they are in memory. The
 * archive does not know the elements' structure, so it writes the same bytes in both
 * formats: for an MFC peer, elements must have the layout of the Windows type
 * (little-endian; `long` and `BOOL` are 4 bytes: use #gint32; mind struct padding).
 * For `CArray<CString>` use c_archive_write_strv().
 */
void
c_archive_write_elements (CArchive *self, GArray *elements)
{
  g_return_if_fail (elements != NULL);
  if (!c_archive_check_self (self, "c_archive_write_elements") || self->error != NULL)
    return;
  c_archive_write_count (self, elements->len);
  if (c_archive_begin_field (self, "elements", TRUE))
    c_archive_put (self, elements->data,
                   (gsize) elements->len * g_array_get_element_size (elements));
}

/* Appends n elements of size bytes each to dest, a chunk at a time. */
static gboolean
take_elements (CArchive *self, guint64 n, guint size, GArray *dest)
{
  g_autoptr (GByteArray) raw = g_byte_array_new ();
  guint per_chunk = MAX (1, ELEMENT_CHUNK_BYTES / size);

  for (guint64 done = 0; done < n;)
    {
      guint chunk = (guint) MIN (n - done, per_chunk);

      g_byte_array_set_size (raw, 0);
      if (!c_archive_take_into (self, (gsize) chunk * size, raw))
        return FALSE;
      g_array_append_vals (dest, raw->data, chunk);
      done += chunk;
    }
  return TRUE;
}

/**
 * c_archive_read_elements:
 * @self: a loading archive
 * @element_size: the size of one element in bytes, 1 to 65536
 *
 * Reads what c_archive_write_elements() wrote (MFC's `CArray<T>` or `CList<T>` of a plain
 * type of @element_size bytes). The array grows with the bytes that arrive, not with the
 * count.
 *
 * Returns: (transfer full): the elements; empty after an error
 */
GArray *
c_archive_read_elements (CArchive *self, guint element_size)
{
  GArray *elements;
  guint64 n;

  g_return_val_if_fail (element_size > 0 && element_size <= MAX_ELEMENT_SIZE, NULL);
  elements = g_array_new (FALSE, FALSE, element_size);
  if (!c_archive_check_self (self, "c_archive_read_elements"))
    return elements;
  n = c_archive_read_count (self);
  if (self->error == NULL && c_archive_begin_field (self, "elements", FALSE)
      && !take_elements (self, n, element_size, elements))
    g_array_set_size (elements, 0);
  return elements;
}

/**
 * c_archive_write_element_map:
 * @self: a storing archive
 * @keys: the keys (any element size)
 * @values: the values, as many as @keys
 *
 * Writes a map as the default `SerializeElements` of MFC's `CMap<K,V>` does for plain
 * types: a count, then each key's bytes and its value's bytes, in the order of the arrays
 * (see c_archive_write_elements() for what the bytes must be).
 */
void
c_archive_write_element_map (CArchive *self, GArray *keys, GArray *values)
{
  guint key_size, value_size;

  g_return_if_fail (keys != NULL && values != NULL && keys->len == values->len);
  if (!c_archive_check_self (self, "c_archive_write_element_map") || self->error != NULL)
    return;
  key_size = g_array_get_element_size (keys);
  value_size = g_array_get_element_size (values);
  c_archive_write_count (self, keys->len);
  if (!c_archive_begin_field (self, "map elements", TRUE))
    return;
  for (guint i = 0; i < keys->len; i++)
    {
      c_archive_put (self, keys->data + (gsize) i * key_size, key_size);
      c_archive_put (self, values->data + (gsize) i * value_size, value_size);
    }
}

/**
 * c_archive_read_element_map:
 * @self: a loading archive
 * @key_size: the size of a key in bytes, 1 to 65536
 * @value_size: the size of a value in bytes, 1 to 65536
 * @keys: (out) (transfer full): the keys
 * @values: (out) (transfer full): the values, @values[i] belonging to @keys[i]
 *
 * Reads what c_archive_write_element_map() wrote (MFC's `CMap<K,V>` of plain types).
 * Two equal keys (the same bytes) are #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Returns: %TRUE if the map was read; after an error both arrays are empty
 */
gboolean
c_archive_read_element_map (CArchive *self, guint key_size, guint value_size, GArray **keys,
                            GArray **values)
{
  g_autoptr (GHashTable) seen = NULL;
  guint64 n, i;

  g_return_val_if_fail (key_size > 0 && key_size <= MAX_ELEMENT_SIZE, FALSE);
  g_return_val_if_fail (value_size > 0 && value_size <= MAX_ELEMENT_SIZE, FALSE);
  g_return_val_if_fail (keys != NULL && values != NULL, FALSE);
  *keys = g_array_new (FALSE, FALSE, key_size);
  *values = g_array_new (FALSE, FALSE, value_size);
  if (!c_archive_check_self (self, "c_archive_read_element_map"))
    return FALSE;
  n = c_archive_read_count (self);
  if (self->error != NULL || !c_archive_begin_field (self, "map elements", FALSE))
    return FALSE;
  seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, NULL);
  for (i = 0; i < n; i++)
    {
      GBytes *key;

      if (!take_elements (self, 1, key_size, *keys)
          || !take_elements (self, 1, value_size, *values))
        break;
      key = g_bytes_new ((*keys)->data + (gsize) i * key_size, key_size);
      if (!g_hash_table_add (seen, key))
        {
          c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                          "duplicate key (the bytes of an earlier entry's key)");
          break;
        }
    }
  if (self->error == NULL)
    return TRUE;
  name_entry (self, "CMap", i, n);
  g_array_set_size (*keys, 0);
  g_array_set_size (*values, 0);
  return FALSE;
}

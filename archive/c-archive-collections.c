/* c-archive-collections.c: MFC's collections as their Serialize writes them, over GLib's
 * containers (CStringArray, CStringList, CWordArray, CDWordArray, CObArray, CObList, the
 * three serializable maps, and the default SerializeElements of CArray, CList and CMap)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every collection is a count (c_archive_write_count()) and then its elements. Readers never
 * allocate for the count: containers grow with the elements that arrive, so a count bomb
 * costs only the bytes behind it. A failed element keeps the archive's error, prefixed with
 * the collection and the element's index. docs/wire-format.md §12 gives the bytes.
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* Elements read from the wire in one c_archive_take_into(): bounded, so that a huge count
 * over a short stream fails after at most this much memory beyond what arrived. */
#define ELEMENT_CHUNK 4096

/* After an element failed: says which one, in front of the element's own message. */
static void
name_element (CArchive *self, const char *collection, guint64 index, guint64 count)
{
  if (self->error != NULL && !g_str_has_prefix (self->error->message, collection))
    g_prefix_error (&self->error, "%s element %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ": ",
                    collection, index, count);
}

static gboolean
storing_check (CArchive *self, const char *function)
{
  return c_archive_check_self (self, function) && self->error == NULL;
}

/* ---- Strings: CStringArray, CStringList, CArray<CString>, CList<CString> ---- */

/**
 * c_archive_write_strv:
 * @self: a storing archive
 * @strv: (array zero-terminated=1): the strings, UTF-8
 *
 * Writes a list of strings as MFC's `CStringArray::Serialize` and `CStringList::Serialize`
 * write them (the two are the same bytes; so are `CArray<CString>` and `CList<CString>`): a
 * count, then each string as c_archive_write_cstring() writes it.
 */
void
c_archive_write_strv (CArchive *self, const char *const *strv)
{
  guint n;

  g_return_if_fail (strv != NULL);
  if (!storing_check (self, "c_archive_write_strv"))
    return;
  n = g_strv_length ((char **) strv);
  c_archive_write_count (self, n);
  for (guint i = 0; i < n && self->error == NULL; i++)
    {
      c_archive_write_cstring (self, strv[i]);
      name_element (self, "string list", i, n);
    }
}

/**
 * c_archive_read_strv:
 * @self: a loading archive
 *
 * Reads what c_archive_write_strv() wrote (MFC's `CStringArray` or `CStringList`). The
 * count is limited by #CArchive:max-count, each string as c_archive_read_cstring() limits
 * it; an error names the element ("string list element 2 of 5: …").
 *
 * Returns: (transfer full) (array zero-terminated=1): the strings; empty after an error
 */
char **
c_archive_read_strv (CArchive *self)
{
  g_autoptr (GPtrArray) strings = NULL;
  guint64 n;

  if (!c_archive_check_self (self, "c_archive_read_strv"))
    return g_new0 (char *, 1);
  n = c_archive_read_count (self);
  strings = g_ptr_array_new_with_free_func (g_free);
  for (guint64 i = 0; i < n && self->error == NULL; i++)
    {
      char *text = c_archive_read_cstring (self);

      name_element (self, "string list", i, n);
      if (self->error != NULL)
        g_free (text);
      else
        g_ptr_array_add (strings, text);
    }
  if (self->error != NULL)
    return g_new0 (char *, 1);
  g_ptr_array_set_free_func (strings, NULL);
  g_ptr_array_add (strings, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&strings), FALSE);
}

/* ---- Fixed-size numbers: CWordArray, CDWordArray ---- */

static const char *
numbers_field (guint width)
{
  return width == 2 ? "WORD array" : "DWORD array";
}

static void
write_numbers (CArchive *self, const char *function, const void *values, gsize n, guint width)
{
  if (!storing_check (self, function))
    return;
  c_archive_write_count (self, n);
  if (self->error != NULL || !c_archive_begin_field (self, numbers_field (width), TRUE))
    return;
  for (gsize i = 0; i < n; i++)
    c_archive_put_uint (
        self, width == 2 ? ((const guint16 *) values)[i] : ((const guint32 *) values)[i], width);
}

/* Reads n numbers of width bytes into a new array of that element size, ELEMENT_CHUNK at a
 * time, converting from the archive's byte order. */
static GArray *
read_numbers (CArchive *self, const char *function, guint width)
{
  GArray *values = g_array_new (FALSE, FALSE, width);
  g_autoptr (GByteArray) raw = NULL;
  guint64 n, done = 0;
  gboolean big = FALSE;

  if (!c_archive_check_self (self, function))
    return values;
  n = c_archive_read_count (self);
  if (self->error != NULL || !c_archive_begin_field (self, numbers_field (width), FALSE))
    return values;
  big = self->format == C_ARCHIVE_FORMAT_NETWORK;
  raw = g_byte_array_new ();
  while (done < n)
    {
      gsize chunk = (gsize) MIN (n - done, ELEMENT_CHUNK);

      g_byte_array_set_size (raw, 0);
      if (!c_archive_take_into (self, chunk * width, raw))
        break;
      for (gsize i = 0; i < chunk; i++)
        {
          const guint8 *p = raw->data + i * width;

          if (width == 2)
            {
              guint16 v = big ? (guint16) (p[0] << 8 | p[1]) : (guint16) (p[1] << 8 | p[0]);
              g_array_append_val (values, v);
            }
          else
            {
              guint32 v
                  = big ? (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3]
                        : (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
              g_array_append_val (values, v);
            }
        }
      done += chunk;
    }
  if (self->error != NULL)
    g_array_set_size (values, 0);
  return values;
}

/**
 * c_archive_write_words:
 * @self: a storing archive
 * @values: (array length=n) (nullable): the values
 * @n: how many
 *
 * Writes WORDs as MFC's `CWordArray::Serialize` does: a count, then the values in the
 * archive's byte order.
 */
void
c_archive_write_words (CArchive *self, const guint16 *values, gsize n)
{
  g_return_if_fail (values != NULL || n == 0);
  write_numbers (self, "c_archive_write_words", values, n, 2);
}

/**
 * c_archive_read_words:
 * @self: a loading archive
 *
 * Reads what c_archive_write_words() wrote (MFC's `CWordArray`).
 *
 * Returns: (transfer full) (element-type guint16): the values; empty after an error
 */
GArray *
c_archive_read_words (CArchive *self)
{
  return read_numbers (self, "c_archive_read_words", 2);
}

/**
 * c_archive_write_dwords:
 * @self: a storing archive
 * @values: (array length=n) (nullable): the values
 * @n: how many
 *
 * Writes DWORDs as MFC's `CDWordArray::Serialize` does: a count, then the values in the
 * archive's byte order.
 */
void
c_archive_write_dwords (CArchive *self, const guint32 *values, gsize n)
{
  g_return_if_fail (values != NULL || n == 0);
  write_numbers (self, "c_archive_write_dwords", values, n, 4);
}

/**
 * c_archive_read_dwords:
 * @self: a loading archive
 *
 * Reads what c_archive_write_dwords() wrote (MFC's `CDWordArray`).
 *
 * Returns: (transfer full) (element-type guint32): the values; empty after an error
 */
GArray *
c_archive_read_dwords (CArchive *self)
{
  return read_numbers (self, "c_archive_read_dwords", 4);
}

/* ---- Objects: CObArray, CObList ---- */

static void
unref_nullable (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

/**
 * c_archive_write_objects:
 * @self: a storing archive
 * @objects: (element-type GObject): the objects; %NULL elements are allowed
 *
 * Writes objects as MFC's `CObArray::Serialize` and `CObList::Serialize` write them (the
 * same bytes): a count, then each element as c_archive_write_object() writes it, so an
 * object that appears twice, here or anywhere earlier in the archive, is a back-reference.
 */
void
c_archive_write_objects (CArchive *self, GPtrArray *objects)
{
  g_return_if_fail (objects != NULL);
  if (!storing_check (self, "c_archive_write_objects"))
    return;
  c_archive_write_count (self, objects->len);
  for (guint i = 0; i < objects->len && self->error == NULL; i++)
    {
      c_archive_write_object (self, g_ptr_array_index (objects, i));
      name_element (self, "object list", i, objects->len);
    }
}

/**
 * c_archive_read_objects:
 * @self: a loading archive
 * @expected_type: the type every element must be or derive from, or %G_TYPE_INVALID
 *
 * Reads what c_archive_write_objects() wrote (MFC's `CObArray` or `CObList`): elements
 * as c_archive_read_object() reads them, %NULL elements included, back-references as the
 * same instance.
 *
 * Returns: (transfer full) (element-type GObject): the objects (a #GPtrArray that unrefs
 *   them); empty after an error
 */
GPtrArray *
c_archive_read_objects (CArchive *self, GType expected_type)
{
  GPtrArray *objects = g_ptr_array_new_with_free_func (unref_nullable);
  guint64 n;

  if (!c_archive_check_self (self, "c_archive_read_objects"))
    return objects;
  n = c_archive_read_count (self);
  for (guint64 i = 0; i < n && self->error == NULL; i++)
    {
      GObject *object = c_archive_read_object (self, expected_type);

      name_element (self, "object list", i, n);
      g_ptr_array_add (objects, object);
    }
  if (self->error != NULL)
    g_ptr_array_set_size (objects, 0);
  return objects;
}

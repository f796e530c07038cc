/* c-archive-object.c: objects and classes with TN002 tags, back-references and cycles
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* TN002's 16-bit tags. 0 is NULL; 1 to 0x7FFE a back-reference to an object id;
 * 0x8000|id a class already seen, a new object of it follows; 0xFFFF a new class. 0x7FFF
 * announces a DWORD for ids too large for a WORD, with the high bit marking classes. */
#define NULL_TAG 0x0000u
#define BIG_OBJECT_TAG 0x7FFFu
#define CLASS_TAG 0x8000u
#define NEW_CLASS_TAG 0xFFFFu
#define BIG_CLASS_FLAG 0x80000000u

/* The object tables are made on first use: most archives carry no objects. */
static void
ensure_tables (CArchive *self)
{
  CArchiveLoadEntry none = { NULL, NULL, 0 };

  if (self->loaded != NULL)
    return;
  self->stored_objects = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->stored_classes = g_hash_table_new (NULL, NULL);
  self->loaded = g_array_new (FALSE, TRUE, sizeof (CArchiveLoadEntry));
  g_array_append_val (self->loaded, none);
}

void
c_archive_init_objects (CArchive *self)
{
  self->next_id = 1;
}

void
c_archive_clear_objects (CArchive *self)
{
  if (self->loaded != NULL)
    {
      for (guint i = 0; i < self->loaded->len; i++)
        g_clear_object (&g_array_index (self->loaded, CArchiveLoadEntry, i).object);
    }
  g_clear_pointer (&self->loaded, g_array_unref);
  g_clear_pointer (&self->stored_objects, g_hash_table_unref);
  g_clear_pointer (&self->stored_classes, g_hash_table_unref);
}

/* Forgets every class and object, as a new archive would not know them; the tables stay
 * allocated for the next record. */
void
c_archive_reset_objects (CArchive *self)
{
  self->next_id = 1;
  if (self->loaded == NULL)
    return;
  for (guint i = 1; i < self->loaded->len; i++)
    g_clear_object (&g_array_index (self->loaded, CArchiveLoadEntry, i).object);
  g_array_set_size (self->loaded, 1);
  g_hash_table_remove_all (self->stored_objects);
  g_hash_table_remove_all (self->stored_classes);
}

/* Hands out the next id of the counter shared by classes and objects. */
static guint32
next_store_id (CArchive *self)
{
  if (self->next_id > C_ARCHIVE_MAX_ID)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED, "more than %u classes and objects",
                      C_ARCHIVE_MAX_ID);
      return 0;
    }
  return self->next_id++;
}

static void
put_tag (CArchive *self, guint32 id, gboolean is_class)
{
  if (id < BIG_OBJECT_TAG)
    {
      c_archive_put_uint (self, is_class ? CLASS_TAG | id : id, 2);
      return;
    }
  c_archive_put_uint (self, BIG_OBJECT_TAG, 2);
  c_archive_put_uint (self, is_class ? BIG_CLASS_FLAG | id : id, 4);
}

static void
put_class (CArchive *self, const CArchiveClassInfo *info)
{
  guint32 id = GPOINTER_TO_UINT (
      g_hash_table_lookup (self->stored_classes, GSIZE_TO_POINTER (info->type)));
  gsize name_length;

  if (id != 0)
    {
      put_tag (self, id, TRUE);
      return;
    }
  name_length = strlen (info->name);
  c_archive_put_uint (self, NEW_CLASS_TAG, 2);
  c_archive_put_uint (self, info->schema, 2);
  c_archive_put_uint (self, name_length, 2);
  c_archive_put (self, info->name, name_length);
  id = next_store_id (self);
  if (id != 0)
    g_hash_table_insert (self->stored_classes, GSIZE_TO_POINTER (info->type),
                         GUINT_TO_POINTER (id));
}

static const CArchiveClassInfo *
registered_class (CArchive *self, GType type)
{
  const CArchiveClassInfo *info = c_archive_lookup_class_by_type (type);

  if (info == NULL)
    c_archive_fail (self, C_ARCHIVE_ERROR_BAD_CLASS, "class %s is not registered",
                    g_type_name (type));
  return info;
}

static gboolean
check_depth (CArchive *self)
{
  if (self->depth < self->limits[C_ARCHIVE_LIMIT_DEPTH])
    return TRUE;
  c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                  "objects nest deeper than the limit of %" G_GUINT64_FORMAT,
                  self->limits[C_ARCHIVE_LIMIT_DEPTH]);
  return FALSE;
}

/* Loading passes the stored schema for c_archive_get_object_schema(); storing passes the
 * current value, which MFC leaves alone while writing. */
static void
serialize_object (CArchive *self, GObject *object, gint schema)
{
  gint saved_schema = self->object_schema;

  self->object_schema = schema;
  self->depth++;
  if (C_IS_SERIALIZABLE (object))
    c_serializable_serialize (C_SERIALIZABLE (object), self);
  else
    c_archive_serialize_properties (self, object);
  self->depth--;
  self->object_schema = saved_schema;
}

/**
 * c_archive_write_class:
 * @self: a storing archive
 * @type: a registered type
 *
 * Writes a class reference with no object (MFC's `WriteClass`): the class's name and
 * schema the first time, a short tag afterwards. Unregistered types are
 * #C_ARCHIVE_ERROR_BAD_CLASS.
 */
void
c_archive_write_class (CArchive *self, GType type)
{
  const CArchiveClassInfo *info;

  g_return_if_fail (C_IS_ARCHIVE (self));

  if (!c_archive_begin_field (self, "class", TRUE))
    return;
  ensure_tables (self);
  info = registered_class (self, type);
  if (info != NULL)
    put_class (self, info);
}

/**
 * c_archive_write_object:
 * @self: a storing archive
 * @object: (nullable): the object, of a registered class
 *
 * Writes an object with its class (MFC's `WriteObject` or `ar << pObject`): %NULL as the
 * null tag; an object this archive already wrote (or mapped) as a back-reference to its
 * id; any other object as its class, then its fields. The object gets its id before its
 * fields are written, so objects it contains may point back at it. The archive keeps a
 * reference to every object it wrote until it is finalized, so that ids stay unique.
 */
void
c_archive_write_object (CArchive *self, GObject *object)
{
  const CArchiveClassInfo *info;
  guint32 id;

  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  if (!c_archive_begin_field (self, "object", TRUE))
    return;
  ensure_tables (self);
  if (object == NULL)
    {
      c_archive_put_uint (self, NULL_TAG, 2);
      return;
    }
  id = GPOINTER_TO_UINT (g_hash_table_lookup (self->stored_objects, object));
  if (id != 0)
    {
      put_tag (self, id, FALSE);
      return;
    }
  info = registered_class (self, G_OBJECT_TYPE (object));
  if (info == NULL || !check_depth (self))
    return;
  put_class (self, info);
  id = next_store_id (self);
  if (self->error != NULL)
    return;
  g_hash_table_insert (self->stored_objects, g_object_ref (object), GUINT_TO_POINTER (id));
  serialize_object (self, object, self->object_schema);
}

/* Appends a class or object to the load table under the next id. */
static gboolean
add_loaded (CArchive *self, const CArchiveLoadEntry *entry)
{
  guint64 count = self->loaded->len - 1;

  if (count >= self->limits[C_ARCHIVE_LIMIT_OBJECTS] || count >= C_ARCHIVE_MAX_ID)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                      "more than the limit of %" G_GUINT64_FORMAT " classes and objects",
                      MIN (self->limits[C_ARCHIVE_LIMIT_OBJECTS], (guint64) C_ARCHIVE_MAX_ID));
      return FALSE;
    }
  g_array_append_val (self->loaded, *entry);
  return TRUE;
}

/* Reads a tag into MFC's 32-bit form: the high bit marks classes. */
static guint32
take_tag (CArchive *self, gboolean *new_class)
{
  guint32 word = (guint32) c_archive_take_uint (self, 2);

  *new_class = word == NEW_CLASS_TAG;
  if (word == BIG_OBJECT_TAG)
    return (guint32) c_archive_take_uint (self, 4);
  return ((word & CLASS_TAG) << 16) | (word & ~CLASS_TAG);
}

static gboolean
take_class_name (CArchive *self, char name[C_ARCHIVE_MAX_CLASS_NAME + 1])
{
  guint length = (guint) c_archive_take_uint (self, 2);

  if (self->error != NULL)
    return FALSE;
  if (length == 0 || length > C_ARCHIVE_MAX_CLASS_NAME)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_CLASS, "class name length %u is out of range",
                      length);
      return FALSE;
    }
  if (!c_archive_take (self, name, length))
    return FALSE;
  name[length] = '\0';
  for (guint i = 0; i < length; i++)
    if (!g_ascii_isgraph (name[i]))
      {
        c_archive_fail (self, C_ARCHIVE_ERROR_BAD_CLASS, "class name is not printable ASCII");
        return FALSE;
      }
  return TRUE;
}

static const CArchiveClassInfo *
check_schema (CArchive *self, const CArchiveClassInfo *info, guint schema)
{
  if (info->schema == schema || info->versionable)
    return info;
  c_archive_fail (self, C_ARCHIVE_ERROR_BAD_SCHEMA,
                  "class '%s' has schema %u in the archive but %u is registered", info->name,
                  schema, info->schema);
  return NULL;
}

/* A new class: WORD schema, WORD name length, the name. */
static const CArchiveLoadEntry *
take_new_class (CArchive *self)
{
  char name[C_ARCHIVE_MAX_CLASS_NAME + 1];
  CArchiveLoadEntry entry = { NULL, NULL, 0 };
  guint schema = (guint) c_archive_take_uint (self, 2);

  if (!take_class_name (self, name))
    return NULL;
  entry.klass = c_archive_lookup_class_by_name (name);
  if (entry.klass == NULL)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_CLASS, "unknown class '%s'", name);
      return NULL;
    }
  if (check_schema (self, entry.klass, schema) == NULL)
    return NULL;
  entry.schema = (guint16) schema;
  if (!add_loaded (self, &entry))
    return NULL;
  return &g_array_index (self->loaded, CArchiveLoadEntry, self->loaded->len - 1);
}

static const CArchiveLoadEntry *
class_by_id (CArchive *self, guint32 id)
{
  const CArchiveLoadEntry *entry;

  if (id == 0 || id >= self->loaded->len)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_INDEX, "class id %u is not defined", id);
      return NULL;
    }
  entry = &g_array_index (self->loaded, CArchiveLoadEntry, id);
  if (entry->object != NULL)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_INDEX, "id %u is an object, not a class", id);
      return NULL;
    }
  return entry;
}

/* Resolves a class tag, new or known, and checks it against the expected type. The
 * entry is copied out: the load table may move when it grows. */
static gboolean
take_class (CArchive *self, guint32 tag, gboolean new_class, GType expected, CArchiveLoadEntry *out)
{
  const CArchiveLoadEntry *entry;

  if (new_class)
    entry = take_new_class (self);
  else
    entry = class_by_id (self, tag & ~BIG_CLASS_FLAG);
  if (entry == NULL)
    return FALSE;
  if (expected != G_TYPE_INVALID && !g_type_is_a (entry->klass->type, expected))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_CLASS, "class '%s' is not a %s", entry->klass->name,
                      g_type_name (expected));
      return FALSE;
    }
  *out = *entry;
  return TRUE;
}

/**
 * c_archive_read_class:
 * @self: a loading archive
 * @expected_type: the type the class must be or derive from, or %G_TYPE_INVALID for any
 * @schema: (out) (optional): where to store the class's schema in the archive
 *
 * Reads a class reference written by c_archive_write_class() (MFC's `ReadClass`). If
 * @schema is %NULL, the schema is kept for c_archive_get_object_schema(), as in MFC. An
 * object tag where a class tag belongs is #C_ARCHIVE_ERROR_BAD_INDEX.
 *
 * Returns: the class's type, %G_TYPE_INVALID after an error
 */
GType
c_archive_read_class (CArchive *self, GType expected_type, guint *schema)
{
  CArchiveLoadEntry entry;
  gboolean new_class;
  guint32 tag;

  g_return_val_if_fail (C_IS_ARCHIVE (self), G_TYPE_INVALID);

  if (!c_archive_begin_field (self, "class", FALSE))
    return G_TYPE_INVALID;
  ensure_tables (self);
  tag = take_tag (self, &new_class);
  if (self->error != NULL)
    return G_TYPE_INVALID;
  if (!new_class && (tag & BIG_CLASS_FLAG) == 0)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_INDEX, "found object tag %u, expected a class",
                      tag);
      return G_TYPE_INVALID;
    }
  if (!take_class (self, tag, new_class, expected_type, &entry))
    return G_TYPE_INVALID;
  if (schema != NULL)
    *schema = entry.schema;
  else
    self->object_schema = entry.schema;
  return entry.klass->type;
}

static GObject *
back_reference (CArchive *self, guint32 id, GType expected)
{
  GObject *object;

  if (id == NULL_TAG)
    return NULL;
  if (id >= self->loaded->len)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_INDEX, "object id %u is not defined", id);
      return NULL;
    }
  object = g_array_index (self->loaded, CArchiveLoadEntry, id).object;
  if (object == NULL)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_INDEX, "id %u is a class, not an object", id);
      return NULL;
    }
  if (expected != G_TYPE_INVALID && !g_type_is_a (G_OBJECT_TYPE (object), expected))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_CLASS, "object %u is a %s, not a %s", id,
                      G_OBJECT_TYPE_NAME (object), g_type_name (expected));
      return NULL;
    }
  return g_object_ref (object);
}

/**
 * c_archive_read_object:
 * @self: a loading archive
 * @expected_type: the type the object must be or derive from, or %G_TYPE_INVALID for any
 *
 * Reads an object written by c_archive_write_object() (MFC's `ReadObject`): %NULL, an
 * object read before (the same instance again), or a new object of a registered class,
 * created with g_object_new() and given its id before its fields are read, so that
 * cycles come back as cycles. The archive holds a reference to every object it loaded
 * until it is finalized.
 *
 * Errors: an unknown class (#C_ARCHIVE_ERROR_BAD_CLASS), an object of another type than
 * @expected_type (#C_ARCHIVE_ERROR_BAD_CLASS), a tag naming an id not defined yet
 * (#C_ARCHIVE_ERROR_BAD_INDEX), a schema mismatch (#C_ARCHIVE_ERROR_BAD_SCHEMA), nesting
 * deeper than #CArchive:max-depth or more objects than #CArchive:max-objects
 * (#C_ARCHIVE_ERROR_LIMIT_EXCEEDED).
 *
 * Returns: (transfer full) (nullable): the object; %NULL for a null tag or after an error
 */
GObject *
c_archive_read_object (CArchive *self, GType expected_type)
{
  CArchiveLoadEntry entry;
  gboolean new_class;
  guint32 tag;

  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);

  if (!c_archive_begin_field (self, "object", FALSE))
    return NULL;
  ensure_tables (self);
  tag = take_tag (self, &new_class);
  if (self->error != NULL)
    return NULL;
  if (!new_class && (tag & BIG_CLASS_FLAG) == 0)
    return back_reference (self, tag, expected_type);
  if (!take_class (self, tag, new_class, expected_type, &entry) || !check_depth (self))
    return NULL;
  entry.object = g_object_new (entry.klass->type, NULL);
  if (!add_loaded (self, &entry))
    {
      g_object_unref (entry.object);
      return NULL;
    }
  serialize_object (self, entry.object, entry.schema);
  if (self->error != NULL)
    return NULL;
  return g_object_ref (entry.object);
}

/**
 * c_archive_serialize_class:
 * @self: an archive
 * @type: a registered type
 *
 * Writes @type with c_archive_write_class() when storing; reads a class that must be
 * @type or derive from it when loading, keeping its schema for
 * c_archive_get_object_schema() (MFC's `SerializeClass`).
 *
 * Returns: the type written or read, %G_TYPE_INVALID after an error
 */
GType
c_archive_serialize_class (CArchive *self, GType type)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), G_TYPE_INVALID);

  if (!self->storing)
    return c_archive_read_class (self, type, NULL);
  c_archive_write_class (self, type);
  return self->error == NULL ? type : G_TYPE_INVALID;
}

/**
 * c_archive_map_object:
 * @self: an archive
 * @object: (nullable): an object both ends know without archiving it
 *
 * Gives @object the next id without writing or reading anything (MFC's `MapObject`):
 * objects archived later can then refer to it with a back-reference, for example a
 * document that every element points to. Both ends must map the same objects in the
 * same order. %NULL does nothing.
 */
void
c_archive_map_object (CArchive *self, GObject *object)
{
  CArchiveLoadEntry entry = { NULL, NULL, 0 };
  guint32 id;

  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  if (object == NULL || self->error != NULL)
    return;
  ensure_tables (self);
  self->field = "mapped object";
  self->field_writing = self->storing;
  self->field_offset = c_archive_position (self);
  if (!self->storing)
    {
      entry.object = g_object_ref (object);
      if (!add_loaded (self, &entry))
        g_object_unref (object);
      return;
    }
  if (g_hash_table_contains (self->stored_objects, object))
    return;
  id = next_store_id (self);
  if (id != 0)
    g_hash_table_insert (self->stored_objects, g_object_ref (object), GUINT_TO_POINTER (id));
}

/**
 * c_archive_get_object_schema:
 * @self: an archive
 *
 * Inside the serialize function of an object being loaded, the schema its class had when
 * it was stored, so that a versionable class can read older layouts (MFC's
 * `GetObjectSchema`). As in MFC, the value can be read once: the call resets it to -1.
 *
 * Returns: the stored schema, or -1 if unknown or already asked
 */
gint
c_archive_get_object_schema (CArchive *self)
{
  gint schema;

  g_return_val_if_fail (C_IS_ARCHIVE (self), -1);

  schema = self->object_schema;
  self->object_schema = -1;
  return schema;
}

/**
 * c_archive_set_object_schema:
 * @self: an archive
 * @schema: a schema number, or -1
 *
 * Sets the value the next c_archive_get_object_schema() returns (MFC's
 * `SetObjectSchema`).
 */
void
c_archive_set_object_schema (CArchive *self, gint schema)
{
  g_return_if_fail (C_IS_ARCHIVE (self));

  self->object_schema = schema;
}

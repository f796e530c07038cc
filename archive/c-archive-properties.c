/* c-archive-properties.c: archiving a GObject through its properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "c-archive-private.h"

/* Each property is written with its name and a kind letter, so that a reader can skip
 * properties its version of the class does not have, and notice a property whose type
 * changed instead of misreading everything after it. */
enum
{
  KIND_NONE = 0,
  KIND_BOOLEAN = 'b',
  KIND_CHAR = 'c',
  KIND_UCHAR = 'C',
  KIND_INT = 'i',
  KIND_UINT = 'u',
  KIND_INT64 = 'l',
  KIND_UINT64 = 'L',
  KIND_FLOAT = 'f',
  KIND_DOUBLE = 'd',
  KIND_ENUM = 'e',
  KIND_FLAGS = 'F',
  KIND_STRING = 's',
  KIND_OBJECT = 'o',
  KIND_STRV = 'v',
  KIND_BYTES = 'y'
};

static int
kind_of_type (GType type)
{
  if (type == G_TYPE_STRV)
    return KIND_STRV;
  if (type == G_TYPE_BYTES)
    return KIND_BYTES;
  switch (G_TYPE_FUNDAMENTAL (type))
    {
      case G_TYPE_BOOLEAN:
        return KIND_BOOLEAN;
      case G_TYPE_CHAR:
        return KIND_CHAR;
      case G_TYPE_UCHAR:
        return KIND_UCHAR;
      case G_TYPE_INT:
        return KIND_INT;
      case G_TYPE_UINT:
        return KIND_UINT;
      case G_TYPE_LONG:
      case G_TYPE_INT64:
        return KIND_INT64;
      case G_TYPE_ULONG:
      case G_TYPE_UINT64:
        return KIND_UINT64;
      case G_TYPE_FLOAT:
        return KIND_FLOAT;
      case G_TYPE_DOUBLE:
        return KIND_DOUBLE;
      case G_TYPE_ENUM:
        return KIND_ENUM;
      case G_TYPE_FLAGS:
        return KIND_FLAGS;
      case G_TYPE_STRING:
        return KIND_STRING;
      case G_TYPE_OBJECT:
        return KIND_OBJECT;
      default:
        return KIND_NONE;
    }
}

/* The type an unknown property's value is read into before it is dropped. */
static GType
type_of_kind (int kind)
{
  switch (kind)
    {
      case KIND_BOOLEAN:
        return G_TYPE_BOOLEAN;
      case KIND_CHAR:
        return G_TYPE_CHAR;
      case KIND_UCHAR:
        return G_TYPE_UCHAR;
      case KIND_INT:
      case KIND_ENUM:
        return G_TYPE_INT;
      case KIND_UINT:
      case KIND_FLAGS:
        return G_TYPE_UINT;
      case KIND_INT64:
        return G_TYPE_INT64;
      case KIND_UINT64:
        return G_TYPE_UINT64;
      case KIND_FLOAT:
        return G_TYPE_FLOAT;
      case KIND_DOUBLE:
        return G_TYPE_DOUBLE;
      case KIND_STRING:
        return G_TYPE_STRING;
      case KIND_OBJECT:
        return G_TYPE_OBJECT;
      case KIND_STRV:
        return G_TYPE_STRV;
      case KIND_BYTES:
        return G_TYPE_BYTES;
      default:
        return G_TYPE_INVALID;
    }
}

static gboolean
is_archived (GParamSpec *pspec)
{
  GParamFlags needed = G_PARAM_READABLE | G_PARAM_WRITABLE;

  return (pspec->flags & needed) == needed && (pspec->flags & G_PARAM_CONSTRUCT_ONLY) == 0
         && kind_of_type (pspec->value_type) != KIND_NONE;
}

static void
put_strv (CArchive *self, const char *const *strv)
{
  guint n = strv != NULL ? g_strv_length ((char **) strv) : 0;

  c_archive_write_bool (self, strv != NULL);
  if (strv == NULL)
    return;
  c_archive_write_count (self, n);
  for (guint i = 0; i < n; i++)
    c_archive_write_cstring (self, strv[i]);
}

static void
put_nullable (CArchive *self, int kind, const GValue *value)
{
  gconstpointer pointer = kind == KIND_STRING ? (gconstpointer) g_value_get_string (value)
                                              : g_value_get_boxed (value);

  if (kind == KIND_STRV)
    {
      put_strv (self, pointer);
      return;
    }
  c_archive_write_bool (self, pointer != NULL);
  if (pointer != NULL && kind == KIND_STRING)
    c_archive_write_cstring (self, pointer);
  else if (pointer != NULL)
    c_archive_write_bytes (self, (GBytes *) pointer);
}

static void
put_value (CArchive *self, int kind, const GValue *value)
{
  GType type = G_VALUE_TYPE (value);

  switch (kind)
    {
      case KIND_BOOLEAN:
        c_archive_write_bool (self, g_value_get_boolean (value));
        break;
      case KIND_CHAR:
        c_archive_write_char (self, g_value_get_schar (value));
        break;
      case KIND_UCHAR:
        c_archive_write_byte (self, g_value_get_uchar (value));
        break;
      case KIND_INT:
        c_archive_write_long (self, g_value_get_int (value));
        break;
      case KIND_UINT:
        c_archive_write_dword (self, g_value_get_uint (value));
        break;
      case KIND_INT64:
        c_archive_write_int64 (self, G_TYPE_FUNDAMENTAL (type) == G_TYPE_LONG
                                         ? g_value_get_long (value)
                                         : g_value_get_int64 (value));
        break;
      case KIND_UINT64:
        c_archive_write_uint64 (self, G_TYPE_FUNDAMENTAL (type) == G_TYPE_ULONG
                                          ? g_value_get_ulong (value)
                                          : g_value_get_uint64 (value));
        break;
      case KIND_FLOAT:
        c_archive_write_float (self, g_value_get_float (value));
        break;
      case KIND_DOUBLE:
        c_archive_write_double (self, g_value_get_double (value));
        break;
      case KIND_ENUM:
        c_archive_write_long (self, g_value_get_enum (value));
        break;
      case KIND_FLAGS:
        c_archive_write_dword (self, g_value_get_flags (value));
        break;
      case KIND_OBJECT:
        c_archive_write_object (self, g_value_get_object (value));
        break;
      default:
        put_nullable (self, kind, value);
    }
}

static void
c_archive_store_properties (CArchive *self, GObject *object)
{
  guint n_pspecs, n_archived = 0;
  GParamSpec **pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);

  for (guint i = 0; i < n_pspecs; i++)
    n_archived += is_archived (pspecs[i]);
  c_archive_write_count (self, n_archived);
  for (guint i = 0; i < n_pspecs && self->error == NULL; i++)
    {
      GValue value = G_VALUE_INIT;
      int kind = kind_of_type (pspecs[i]->value_type);

      if (!is_archived (pspecs[i]))
        continue;
      c_archive_write_cstring (self, pspecs[i]->name);
      c_archive_write_byte (self, (guint8) kind);
      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (object, pspecs[i]->name, &value);
      put_value (self, kind, &value);
      g_value_unset (&value);
    }
  g_free (pspecs);
}

static void
fail_value (CArchive *self, const char *problem, gint64 value)
{
  c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "%s %" G_GINT64_FORMAT, problem, value);
}

static void
take_enum (CArchive *self, GValue *value)
{
  gint number = c_archive_read_long (self);
  GEnumClass *klass;

  if (!G_VALUE_HOLDS_ENUM (value))
    {
      g_value_set_int (value, number);
      return;
    }
  klass = g_type_class_ref (G_VALUE_TYPE (value));
  if (g_enum_get_value (klass, number) != NULL)
    g_value_set_enum (value, number);
  else
    fail_value (self, "no such enumeration value:", number);
  g_type_class_unref (klass);
}

static void
take_flags (CArchive *self, GValue *value)
{
  guint bits = c_archive_read_dword (self);
  GFlagsClass *klass;

  if (!G_VALUE_HOLDS_FLAGS (value))
    {
      g_value_set_uint (value, bits);
      return;
    }
  klass = g_type_class_ref (G_VALUE_TYPE (value));
  if ((bits & ~klass->mask) == 0)
    g_value_set_flags (value, bits);
  else
    fail_value (self, "undefined flag bits in", bits);
  g_type_class_unref (klass);
}

/* Reads strings one by one: the count is a claim, so nothing is allocated for it. */
static void
take_strv (CArchive *self, GValue *value)
{
  GPtrArray *strings;
  guint64 count;

  if (!c_archive_read_bool (self))
    return;
  count = c_archive_read_count (self);
  strings = g_ptr_array_new_with_free_func (g_free);
  for (guint64 i = 0; i < count && self->error == NULL; i++)
    g_ptr_array_add (strings, c_archive_read_cstring (self));
  g_ptr_array_add (strings, NULL);
  g_value_take_boxed (value, g_ptr_array_free (strings, FALSE));
}

static void
take_int64 (CArchive *self, GValue *value)
{
  gint64 number = c_archive_read_int64 (self);

  if (!G_VALUE_HOLDS_LONG (value))
    g_value_set_int64 (value, number);
  else if ((gint64) (glong) number == number)
    g_value_set_long (value, (glong) number);
  else
    fail_value (self, "value out of range for long:", number);
}

static void
take_uint64 (CArchive *self, GValue *value)
{
  guint64 number = c_archive_read_uint64 (self);

  if (!G_VALUE_HOLDS_ULONG (value))
    g_value_set_uint64 (value, number);
  else if ((guint64) (gulong) number == number)
    g_value_set_ulong (value, (gulong) number);
  else
    fail_value (self, "value out of range for unsigned long:", (gint64) number);
}

static void
take_value (CArchive *self, int kind, GValue *value)
{
  switch (kind)
    {
      case KIND_BOOLEAN:
        g_value_set_boolean (value, c_archive_read_bool (self));
        break;
      case KIND_CHAR:
        g_value_set_schar (value, c_archive_read_char (self));
        break;
      case KIND_UCHAR:
        g_value_set_uchar (value, c_archive_read_byte (self));
        break;
      case KIND_INT:
        g_value_set_int (value, c_archive_read_long (self));
        break;
      case KIND_UINT:
        g_value_set_uint (value, c_archive_read_dword (self));
        break;
      case KIND_INT64:
        take_int64 (self, value);
        break;
      case KIND_UINT64:
        take_uint64 (self, value);
        break;
      case KIND_FLOAT:
        g_value_set_float (value, c_archive_read_float (self));
        break;
      case KIND_DOUBLE:
        g_value_set_double (value, c_archive_read_double (self));
        break;
      case KIND_ENUM:
        take_enum (self, value);
        break;
      case KIND_FLAGS:
        take_flags (self, value);
        break;
      case KIND_STRING:
        if (c_archive_read_bool (self))
          g_value_take_string (value, c_archive_read_cstring (self));
        break;
      case KIND_OBJECT:
        g_value_take_object (value, c_archive_read_object (self, G_VALUE_TYPE (value)));
        break;
      case KIND_STRV:
        take_strv (self, value);
        break;
      case KIND_BYTES:
        if (c_archive_read_bool (self))
          g_value_take_boxed (value, c_archive_read_bytes (self));
        break;
    }
}

/* Finds where a stored property goes: its pspec, or NULL to read and drop the value of a
 * property this version of the class does not archive. Returns FALSE on a type clash. */
static gboolean
find_target (CArchive *self, GObject *object, const char *name, int kind, GParamSpec **target)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (object), name);

  *target = NULL;
  if (type_of_kind (kind) == G_TYPE_INVALID)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "unknown kind 0x%02x of property '%s'",
                      (guint) kind, name);
      return FALSE;
    }
  if (pspec == NULL || !is_archived (pspec))
    return TRUE;
  if (kind_of_type (pspec->value_type) != kind)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "property '%s' of %s is a %s, the archive has kind '%c'", name,
                      G_OBJECT_TYPE_NAME (object), g_type_name (pspec->value_type), kind);
      return FALSE;
    }
  *target = pspec;
  return TRUE;
}

static void
load_property (CArchive *self, GObject *object)
{
  g_autofree char *name = c_archive_read_cstring (self);
  int kind = c_archive_read_byte (self);
  GValue value = G_VALUE_INIT;
  GParamSpec *pspec;

  if (self->error != NULL || !find_target (self, object, name, kind, &pspec))
    return;
  g_value_init (&value, pspec != NULL ? pspec->value_type : type_of_kind (kind));
  take_value (self, kind, &value);
  if (self->error == NULL && pspec != NULL)
    {
      /* Validation turns out-of-range values into an archive error rather than the
       * warning g_object_set_property() would print for hostile input. */
      if (g_param_value_validate (pspec, &value))
        c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "value of property '%s' is out of range",
                        name);
      else
        g_object_set_property (object, name, &value);
    }
  g_value_unset (&value);
}

/* Property values are checked after they are read, and such errors name the last field
 * read: every field goes through c_archive_begin_field() meanwhile, fast paths closed. */
static void
c_archive_load_properties (CArchive *self, GObject *object)
{
  guint64 count;

  self->slow_fields++;
  c_archive_update_fast (self);
  count = c_archive_read_count (self);
  for (guint64 i = 0; i < count && self->error == NULL; i++)
    load_property (self, object);
  self->slow_fields--;
  c_archive_update_fast (self);
}

/**
 * c_archive_serialize_properties:
 * @self: an archive
 * @object: an object
 *
 * Writes or reads @object's properties, with no class header: what the archive does for
 * objects of registered classes that do not implement #CSerializable.
 *
 * The archived properties are those both readable and writable and not construct-only,
 * of these types: gboolean, gchar, guchar, gint, guint, glong, gulong, gint64, guint64,
 * gfloat, gdouble, enumerations, flags, strings (%NULL included), #GObject types (through
 * c_archive_write_object(), so shared objects and cycles survive), string arrays
 * (#G_TYPE_STRV) and #GBytes. Properties of other types are not archived. Each property
 * is stored as its name, a kind letter and its value (see `docs/wire-format.md`), so a
 * reader skips properties it does not know; a known property whose kind differs, an
 * enumeration value that does not exist and a value its #GParamSpec rejects are
 * #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Object-valued properties hold references: a cycle of them leaks unless the application
 * breaks it, as with any GObject reference cycle.
 */
void
c_archive_serialize_properties (CArchive *self, GObject *object)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (G_IS_OBJECT (object));

  if (self->storing)
    c_archive_store_properties (self, object);
  else
    c_archive_load_properties (self, object);
}

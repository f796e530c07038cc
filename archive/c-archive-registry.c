/* c-archive-registry.c: the classes an archive may write and create (MFC's IMPLEMENT_SERIAL)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"
#include "c-collection-private.h"

/* Registrations live as long as the process, like the GTypes they describe. Loading
 * creates objects only of registered classes: a peer cannot make us instantiate an
 * arbitrary GType by naming it. */
static GMutex registry_lock;
static GHashTable *classes_by_name; /* char* -> CArchiveClassInfo* */
static GHashTable *classes_by_type; /* GType -> CArchiveClassInfo* */

static gboolean
is_valid_class_name (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > C_ARCHIVE_MAX_CLASS_NAME)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isgraph (name[i]))
      return FALSE;
  return TRUE;
}

static gboolean
same_registration (const CArchiveClassInfo *info, GType type, const char *name, guint schema,
                   CArchiveClassFlags flags)
{
  return info->type == type && strcmp (info->name, name) == 0 && info->schema == schema
         && info->versionable == ((flags & C_ARCHIVE_CLASS_VERSIONABLE) != 0);
}

/**
 * c_archive_register_class_with_name:
 * @type: a non-abstract #GObject type
 * @name: the class name on the wire (printable ASCII, at most 255 bytes; MFC peers read
 *   at most 63), for example the C++ class name of an MFC peer's `IMPLEMENT_SERIAL`
 * @schema: the schema number written with the class, 0 to 0xFFFE
 * @flags: %C_ARCHIVE_CLASS_VERSIONABLE to load objects stored with other schemas
 *
 * Like c_archive_register_class(), with a wire name other than the type's name.
 * Registering the same type again with the same arguments does nothing; registering a
 * type or name twice differently is a programmer error.
 */
void
c_archive_register_class_with_name (GType type, const char *name, guint schema,
                                    CArchiveClassFlags flags)
{
  CArchiveClassInfo *info;

  g_return_if_fail (g_type_is_a (type, G_TYPE_OBJECT) && !G_TYPE_IS_ABSTRACT (type));
  g_return_if_fail (name != NULL && is_valid_class_name (name));
  g_return_if_fail (schema < 0xFFFF);

  g_mutex_lock (&registry_lock);
  if (classes_by_name == NULL)
    {
      classes_by_name = g_hash_table_new (g_str_hash, g_str_equal);
      classes_by_type = g_hash_table_new (NULL, NULL);
    }
  info = g_hash_table_lookup (classes_by_type, GSIZE_TO_POINTER (type));
  if (info == NULL)
    info = g_hash_table_lookup (classes_by_name, name);
  if (info != NULL)
    {
      gboolean same = same_registration (info, type, name, schema, flags);

      g_mutex_unlock (&registry_lock);
      if (!same)
        g_critical ("%s: %s or class name '%s' is already registered differently", G_STRFUNC,
                    g_type_name (type), name);
      return;
    }
  info = g_new0 (CArchiveClassInfo, 1);
  info->type = type;
  info->name = g_strdup (name);
  info->schema = (guint16) schema;
  info->versionable = (flags & C_ARCHIVE_CLASS_VERSIONABLE) != 0;
  g_hash_table_insert (classes_by_name, info->name, info);
  g_hash_table_insert (classes_by_type, GSIZE_TO_POINTER (type), info);
  g_mutex_unlock (&registry_lock);
}

/**
 * c_archive_register_class:
 * @type: a non-abstract #GObject type
 * @schema: the schema number written with the class, 0 to 0xFFFE
 * @flags: %C_ARCHIVE_CLASS_VERSIONABLE to load objects stored with other schemas
 *
 * Makes objects of @type archivable under its type name (MFC's `IMPLEMENT_SERIAL`). If
 * @type implements #CSerializable, its serialize function writes and reads the object;
 * otherwise its properties are archived (see c_archive_serialize_properties()). Loading
 * an object stored with another schema fails with #C_ARCHIVE_ERROR_BAD_SCHEMA unless the
 * class is versionable.
 */
void
c_archive_register_class (GType type, guint schema, CArchiveClassFlags flags)
{
  g_return_if_fail (g_type_is_a (type, G_TYPE_OBJECT));

  c_archive_register_class_with_name (type, g_type_name (type), schema, flags);
}

const CArchiveClassInfo *
c_archive_lookup_class_by_type (GType type)
{
  const CArchiveClassInfo *info = NULL;

  c_collection_register_types ();

  g_mutex_lock (&registry_lock);
  if (classes_by_type != NULL)
    info = g_hash_table_lookup (classes_by_type, GSIZE_TO_POINTER (type));
  g_mutex_unlock (&registry_lock);
  return info;
}

const CArchiveClassInfo *
c_archive_lookup_class_by_name (const char *name)
{
  const CArchiveClassInfo *info = NULL;

  c_collection_register_types ();

  g_mutex_lock (&registry_lock);
  if (classes_by_name != NULL)
    info = g_hash_table_lookup (classes_by_name, name);
  g_mutex_unlock (&registry_lock);
  return info;
}

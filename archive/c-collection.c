/* c-collection.c: CCollection and MFC's ten serializable collections as objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each collection type is a thin final subclass that names its kind; the base owns the one
 * container and serializes it with the archive's collection functions, so `ar << &coll`
 * and `coll.Serialize (ar)` cannot drift apart.
 */
#include "config.h"

#include <afxsock/c-collection.h>

#include "c-archive-private.h"
#include "c-collection-private.h"

typedef enum
{
  KIND_STRING_ARRAY = 1,
  KIND_STRING_LIST,
  KIND_BYTE_ARRAY,
  KIND_WORD_ARRAY,
  KIND_DWORD_ARRAY,
  KIND_OB_ARRAY,
  KIND_OB_LIST,
  KIND_MAP_STRING_TO_STRING,
  KIND_MAP_STRING_TO_OB,
  KIND_MAP_WORD_TO_OB
} Kind;

typedef struct
{
  GPtrArray *items;
  GArray *values;
  GHashTable *map;
  /* While its elements are read: an element that is a collection still loading would
   * close a reference cycle. */
  gboolean loading;
} CCollectionPrivate;

static void c_collection_serializable_init (CSerializableInterface *iface);

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (CCollection, c_collection, G_TYPE_OBJECT,
                                  G_ADD_PRIVATE (CCollection)
                                      G_IMPLEMENT_INTERFACE (C_TYPE_SERIALIZABLE,
                                                             c_collection_serializable_init))

static Kind
kind_of (CCollection *self)
{
  return (Kind) C_COLLECTION_GET_CLASS (self)->kind;
}

static void
unref_nullable (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

static void
create_container (CCollection *self)
{
  CCollectionPrivate *priv = c_collection_get_instance_private (self);

  switch (kind_of (self))
    {
      case KIND_STRING_ARRAY:
      case KIND_STRING_LIST:
        priv->items = g_ptr_array_new_with_free_func (g_free);
        break;
      case KIND_OB_ARRAY:
      case KIND_OB_LIST:
        priv->items = g_ptr_array_new_with_free_func (unref_nullable);
        break;
      case KIND_BYTE_ARRAY:
        priv->values = g_array_new (FALSE, FALSE, 1);
        break;
      case KIND_WORD_ARRAY:
        priv->values = g_array_new (FALSE, FALSE, 2);
        break;
      case KIND_DWORD_ARRAY:
        priv->values = g_array_new (FALSE, FALSE, 4);
        break;
      case KIND_MAP_STRING_TO_STRING:
        priv->map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        break;
      case KIND_MAP_STRING_TO_OB:
        priv->map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unref_nullable);
        break;
      case KIND_MAP_WORD_TO_OB:
        priv->map = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, unref_nullable);
        break;
      default:
        g_assert_not_reached ();
    }
}

/* Replaces the items with what an archive read. */
static void
take_items (CCollectionPrivate *priv, GPtrArray *items)
{
  g_ptr_array_set_size (priv->items, 0);
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (priv->items, items->pdata[i]);
  g_ptr_array_set_free_func (items, NULL);
  g_ptr_array_unref (items);
}

static void
load_strings (CCollectionPrivate *priv, CArchive *archive)
{
  g_auto (GStrv) strings = c_archive_read_strv (archive);

  g_ptr_array_set_size (priv->items, 0);
  for (guint i = 0; strings[i] != NULL; i++)
    g_ptr_array_add (priv->items, g_steal_pointer (&strings[i]));
}

static void
store_strings (CCollectionPrivate *priv, CArchive *archive)
{
  g_ptr_array_add (priv->items, NULL);
  c_archive_write_strv (archive, (const char *const *) priv->items->pdata);
  g_ptr_array_remove_index (priv->items, priv->items->len - 1);
}

static void
serialize_values (CCollectionPrivate *priv, CArchive *archive, guint width)
{
  GArray *values;

  if (c_archive_is_storing (archive))
    {
      if (width == 1)
        c_archive_write_data (archive, priv->values->data, priv->values->len);
      else if (width == 2)
        c_archive_write_words (archive, (const guint16 *) priv->values->data, priv->values->len);
      else
        c_archive_write_dwords (archive, (const guint32 *) priv->values->data, priv->values->len);
      return;
    }
  if (width == 1)
    {
      g_autoptr (GBytes) bytes = c_archive_read_bytes (archive);
      gsize n;
      const guint8 *data = g_bytes_get_data (bytes, &n);

      g_array_set_size (priv->values, 0);
      g_array_append_vals (priv->values, data, (guint) n);
      return;
    }
  values = width == 2 ? c_archive_read_words (archive) : c_archive_read_dwords (archive);
  g_array_unref (priv->values);
  priv->values = values;
}

static void
serialize_map (CCollection *self, CCollectionPrivate *priv, CArchive *archive)
{
  GHashTable *map;

  if (c_archive_is_storing (archive))
    {
      switch (kind_of (self))
        {
          case KIND_MAP_STRING_TO_STRING:
            c_archive_write_string_map (archive, priv->map);
            break;
          case KIND_MAP_STRING_TO_OB:
            c_archive_write_string_object_map (archive, priv->map);
            break;
          default:
            c_archive_write_word_object_map (archive, priv->map);
        }
      return;
    }
  switch (kind_of (self))
    {
      case KIND_MAP_STRING_TO_STRING:
        map = c_archive_read_string_map (archive);
        break;
      case KIND_MAP_STRING_TO_OB:
        map = c_archive_read_string_object_map (archive, G_TYPE_INVALID);
        break;
      default:
        map = c_archive_read_word_object_map (archive, G_TYPE_INVALID);
    }
  g_hash_table_unref (priv->map);
  priv->map = map;
}

static gboolean
closes_cycle (gpointer element)
{
  return element != NULL && C_IS_COLLECTION (element)
         && ((CCollectionPrivate *) c_collection_get_instance_private (element))->loading;
}

/* A collection that holds itself, directly or through other collections, would never be
 * freed: a peer must not be able to make us leak, so such input is refused. */
static void
refuse_cycles (CCollection *self, CCollectionPrivate *priv, CArchive *archive)
{
  gboolean cycle = FALSE;

  if (priv->items != NULL && kind_of (self) >= KIND_OB_ARRAY)
    for (guint i = 0; i < priv->items->len && !cycle; i++)
      cycle = closes_cycle (priv->items->pdata[i]);
  if (priv->map != NULL && kind_of (self) != KIND_MAP_STRING_TO_STRING)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, priv->map);
      while (!cycle && g_hash_table_iter_next (&iter, NULL, &value))
        cycle = closes_cycle (value);
    }
  if (!cycle)
    return;
  c_archive_fail (archive, C_ARCHIVE_ERROR_BAD_DATA,
                  "a %s holds itself, directly or through other collections (a reference "
                  "cycle that could never be freed)",
                  G_OBJECT_TYPE_NAME (self));
  if (priv->items != NULL)
    g_ptr_array_set_size (priv->items, 0);
  if (priv->map != NULL)
    g_hash_table_remove_all (priv->map);
}

static void serialize_kind (CCollection *self, CCollectionPrivate *priv, CArchive *archive);

static void
c_collection_serialize (CSerializable *serializable, CArchive *archive)
{
  CCollection *self = C_COLLECTION (serializable);
  CCollectionPrivate *priv = c_collection_get_instance_private (self);

  if (c_archive_is_storing (archive))
    {
      serialize_kind (self, priv, archive);
      return;
    }
  priv->loading = TRUE;
  serialize_kind (self, priv, archive);
  refuse_cycles (self, priv, archive);
  priv->loading = FALSE;
}

static void
serialize_kind (CCollection *self, CCollectionPrivate *priv, CArchive *archive)
{
  switch (kind_of (self))
    {
      case KIND_STRING_ARRAY:
      case KIND_STRING_LIST:
        if (c_archive_is_storing (archive))
          store_strings (priv, archive);
        else
          load_strings (priv, archive);
        break;
      case KIND_OB_ARRAY:
      case KIND_OB_LIST:
        if (c_archive_is_storing (archive))
          c_archive_write_objects (archive, priv->items);
        else
          take_items (priv, c_archive_read_objects (archive, G_TYPE_INVALID));
        break;
      case KIND_BYTE_ARRAY:
        serialize_values (priv, archive, 1);
        break;
      case KIND_WORD_ARRAY:
        serialize_values (priv, archive, 2);
        break;
      case KIND_DWORD_ARRAY:
        serialize_values (priv, archive, 4);
        break;
      default:
        serialize_map (self, priv, archive);
    }
}

static void
c_collection_serializable_init (CSerializableInterface *iface)
{
  iface->serialize = c_collection_serialize;
}

static void
c_collection_constructed (GObject *object)
{
  create_container (C_COLLECTION (object));
  G_OBJECT_CLASS (c_collection_parent_class)->constructed (object);
}

static void
c_collection_dispose (GObject *object)
{
  CCollectionPrivate *priv = c_collection_get_instance_private (C_COLLECTION (object));

  /* Objects may hold collections that hold them: dropping the elements breaks cycles. */
  g_clear_pointer (&priv->items, g_ptr_array_unref);
  g_clear_pointer (&priv->values, g_array_unref);
  g_clear_pointer (&priv->map, g_hash_table_unref);
  G_OBJECT_CLASS (c_collection_parent_class)->dispose (object);
}

static void
c_collection_class_init (CCollectionClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = c_collection_constructed;
  G_OBJECT_CLASS (klass)->dispose = c_collection_dispose;
}

static void
c_collection_init (CCollection *self)
{
}

/* The ten final types: each names its kind; the archive registers them under MFC's names. */
#define DEFINE_COLLECTION(TypeName, type_name, KIND)                                               \
  struct _##TypeName                                                                               \
  {                                                                                                \
    CCollection parent_instance;                                                                   \
  };                                                                                               \
  G_DEFINE_FINAL_TYPE (TypeName, type_name, C_TYPE_COLLECTION)                                     \
  static void type_name##_class_init (TypeName##Class *klass)                                      \
  {                                                                                                \
    C_COLLECTION_CLASS (klass)->kind = KIND;                                                       \
  }                                                                                                \
  static void type_name##_init (TypeName *self)                                                    \
  {                                                                                                \
  }

DEFINE_COLLECTION (CStringArray, c_string_array, KIND_STRING_ARRAY)
DEFINE_COLLECTION (CStringList, c_string_list, KIND_STRING_LIST)
DEFINE_COLLECTION (CByteArray, c_byte_array, KIND_BYTE_ARRAY)
DEFINE_COLLECTION (CWordArray, c_word_array, KIND_WORD_ARRAY)
DEFINE_COLLECTION (CDWordArray, c_dword_array, KIND_DWORD_ARRAY)
DEFINE_COLLECTION (CObArray, c_ob_array, KIND_OB_ARRAY)
DEFINE_COLLECTION (CObList, c_ob_list, KIND_OB_LIST)
DEFINE_COLLECTION (CMapStringToString, c_map_string_to_string, KIND_MAP_STRING_TO_STRING)
DEFINE_COLLECTION (CMapStringToOb, c_map_string_to_ob, KIND_MAP_STRING_TO_OB)
DEFINE_COLLECTION (CMapWordToOb, c_map_word_to_ob, KIND_MAP_WORD_TO_OB)

void
c_collection_register_types (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  c_archive_register_class_with_name (C_TYPE_STRING_ARRAY, "CStringArray", 0, 0);
  c_archive_register_class_with_name (C_TYPE_STRING_LIST, "CStringList", 0, 0);
  c_archive_register_class_with_name (C_TYPE_BYTE_ARRAY, "CByteArray", 0, 0);
  c_archive_register_class_with_name (C_TYPE_WORD_ARRAY, "CWordArray", 0, 0);
  c_archive_register_class_with_name (C_TYPE_DWORD_ARRAY, "CDWordArray", 0, 0);
  c_archive_register_class_with_name (C_TYPE_OB_ARRAY, "CObArray", 0, 0);
  c_archive_register_class_with_name (C_TYPE_OB_LIST, "CObList", 0, 0);
  c_archive_register_class_with_name (C_TYPE_MAP_STRING_TO_STRING, "CMapStringToString", 0, 0);
  c_archive_register_class_with_name (C_TYPE_MAP_STRING_TO_OB, "CMapStringToOb", 0, 0);
  c_archive_register_class_with_name (C_TYPE_MAP_WORD_TO_OB, "CMapWordToOb", 0, 0);
  g_once_init_leave (&done, 1);
}

/**
 * c_collection_new:
 * @type: one of the ten collection types, such as %C_TYPE_STRING_LIST
 *
 * Creates an empty collection.
 *
 * Returns: (transfer full): the collection
 */
CCollection *
c_collection_new (GType type)
{
  g_return_val_if_fail (g_type_is_a (type, C_TYPE_COLLECTION) && !G_TYPE_IS_ABSTRACT (type), NULL);
  return g_object_new (type, NULL);
}

static CCollectionPrivate *
get_private (CCollection *self)
{
  return c_collection_get_instance_private (self);
}

/**
 * c_collection_get_items:
 * @self: a #CStringArray, #CStringList, #CObArray or #CObList
 *
 * The collection's elements, to read or change in place: UTF-8 strings (the array frees
 * them) for the string collections; objects or %NULL (the array unrefs them) for the
 * object collections.
 *
 * Returns: (transfer none) (element-type gpointer): the elements; %NULL for another
 *   collection type
 */
GPtrArray *
c_collection_get_items (CCollection *self)
{
  g_return_val_if_fail (C_IS_COLLECTION (self), NULL);
  g_return_val_if_fail (get_private (self)->items != NULL, NULL);
  return get_private (self)->items;
}

/**
 * c_collection_get_values:
 * @self: a #CByteArray (#guint8 elements), #CWordArray (#guint16) or #CDWordArray
 *   (#guint32)
 *
 * The collection's numbers, to read or change in place.
 *
 * Returns: (transfer none): the numbers; %NULL for another collection type
 */
GArray *
c_collection_get_values (CCollection *self)
{
  g_return_val_if_fail (C_IS_COLLECTION (self), NULL);
  g_return_val_if_fail (get_private (self)->values != NULL, NULL);
  return get_private (self)->values;
}

/**
 * c_collection_get_map:
 * @self: a #CMapStringToString (UTF-8 keys and values, freed by the table),
 *   #CMapStringToOb (UTF-8 keys, objects or %NULL) or #CMapWordToOb (GUINT_TO_POINTER() of
 *   WORD keys, objects or %NULL)
 *
 * The map, to read or change in place.
 *
 * Returns: (transfer none): the map; %NULL for another collection type
 */
GHashTable *
c_collection_get_map (CCollection *self)
{
  g_return_val_if_fail (C_IS_COLLECTION (self), NULL);
  g_return_val_if_fail (get_private (self)->map != NULL, NULL);
  return get_private (self)->map;
}

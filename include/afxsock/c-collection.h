/* c-collection.h: MFC's serializable collections as objects, for `ar << &coll`
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <glib-object.h>
#include <afxsock/c-version.h>

G_BEGIN_DECLS

/**
 * CCollection:
 *
 * The base of MFC's ten serializable collections as objects: #CStringArray, #CStringList,
 * #CByteArray, #CWordArray, #CDWordArray, #CObArray, #CObList, #CMapStringToString,
 * #CMapStringToOb and #CMapWordToOb. Each is registered with the archive under MFC's class
 * name and schema 0, so c_archive_write_object() writes it as MFC's `ar << &coll` does (a
 * class tag, then the collection's `Serialize`), back-references included, and
 * c_archive_read_object() reads what an MFC program wrote that way, also as an element of
 * a #CObArray.
 *
 * A collection holds one GLib container, created with it and owned by it: get it with
 * c_collection_get_items() (the string and object lists), c_collection_get_values() (the
 * number arrays) or c_collection_get_map() (the maps) and fill or read it in place. For a
 * collection that is a member of a class (MFC's `m_list.Serialize (ar)`), use the
 * archive's collection functions, such as c_archive_write_strv(), directly.
 *
 * ```c
 * // ar << &list, as an MFC program writes a CStringList it owns
 * static void
 * store_names (CArchive *ar)
 * {
 *   g_autoptr (CCollection) list = c_collection_new (C_TYPE_STRING_LIST);
 *
 *   g_ptr_array_add (c_collection_get_items (list), g_strdup ("Kim"));
 *   c_archive_write_object (ar, G_OBJECT (list));
 * }
 *
 * // ar >> pList, and the strings it held
 * static void
 * load_names (CArchive *ar)
 * {
 *   g_autoptr (GObject) list = c_archive_read_object (ar, C_TYPE_STRING_LIST);
 *
 *   if (list != NULL)
 *     {
 *       GPtrArray *names = c_collection_get_items (C_COLLECTION (list));
 *       for (guint i = 0; i < names->len; i++)
 *         g_print ("%s\n", (const char *) names->pdata[i]);
 *     }
 * }
 * ```
 */
#define C_TYPE_COLLECTION (c_collection_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (CCollection, c_collection, C, COLLECTION, GObject)

struct _CCollectionClass
{
  GObjectClass parent_class;
  /*< private >*/
  guint kind;
  gpointer padding[4];
};

/**
 * CStringArray:
 *
 * MFC's `CStringArray`: UTF-8 strings in c_collection_get_items().
 */
#define C_TYPE_STRING_ARRAY (c_string_array_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CStringArray, c_string_array, C, STRING_ARRAY, CCollection)
/**
 * CStringList:
 *
 * MFC's `CStringList`: UTF-8 strings in c_collection_get_items() (the same bytes as
 * #CStringArray, another class name).
 */
#define C_TYPE_STRING_LIST (c_string_list_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CStringList, c_string_list, C, STRING_LIST, CCollection)
/**
 * CByteArray:
 *
 * MFC's `CByteArray`: #guint8 values in c_collection_get_values().
 */
#define C_TYPE_BYTE_ARRAY (c_byte_array_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CByteArray, c_byte_array, C, BYTE_ARRAY, CCollection)
/**
 * CWordArray:
 *
 * MFC's `CWordArray`: #guint16 values in c_collection_get_values().
 */
#define C_TYPE_WORD_ARRAY (c_word_array_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CWordArray, c_word_array, C, WORD_ARRAY, CCollection)
/**
 * CDWordArray:
 *
 * MFC's `CDWordArray`: #guint32 values in c_collection_get_values().
 */
#define C_TYPE_DWORD_ARRAY (c_dword_array_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CDWordArray, c_dword_array, C, DWORD_ARRAY, CCollection)
/**
 * CObArray:
 *
 * MFC's `CObArray`: objects (or %NULL) in c_collection_get_items().
 */
#define C_TYPE_OB_ARRAY (c_ob_array_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CObArray, c_ob_array, C, OB_ARRAY, CCollection)
/**
 * CObList:
 *
 * MFC's `CObList`: objects (or %NULL) in c_collection_get_items().
 */
#define C_TYPE_OB_LIST (c_ob_list_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CObList, c_ob_list, C, OB_LIST, CCollection)
/**
 * CMapStringToString:
 *
 * MFC's `CMapStringToString`: UTF-8 keys and values in c_collection_get_map().
 */
#define C_TYPE_MAP_STRING_TO_STRING (c_map_string_to_string_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CMapStringToString, c_map_string_to_string, C, MAP_STRING_TO_STRING,
                      CCollection)
/**
 * CMapStringToOb:
 *
 * MFC's `CMapStringToOb`: UTF-8 keys, objects (or %NULL) in c_collection_get_map().
 */
#define C_TYPE_MAP_STRING_TO_OB (c_map_string_to_ob_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CMapStringToOb, c_map_string_to_ob, C, MAP_STRING_TO_OB, CCollection)
/**
 * CMapWordToOb:
 *
 * MFC's `CMapWordToOb`: GUINT_TO_POINTER() of WORD keys, objects (or %NULL) in
 * c_collection_get_map().
 */
#define C_TYPE_MAP_WORD_TO_OB (c_map_word_to_ob_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CMapWordToOb, c_map_word_to_ob, C, MAP_WORD_TO_OB, CCollection)

AFXSOCK_AVAILABLE_IN_ALL
CCollection *c_collection_new (GType type);
AFXSOCK_AVAILABLE_IN_ALL
GPtrArray *c_collection_get_items (CCollection *self);
AFXSOCK_AVAILABLE_IN_ALL
GArray *c_collection_get_values (CCollection *self);
AFXSOCK_AVAILABLE_IN_ALL
GHashTable *c_collection_get_map (CCollection *self);

G_END_DECLS

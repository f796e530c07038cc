/* fuzz-archive-mfc.c: MFC's collections and value types in the archive fuzz target
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-archive-common.h"

static const guint versions[]
    = { C_ARCHIVE_MFC_VERSION_6, C_ARCHIVE_MFC_VERSION_7_0, C_ARCHIVE_MFC_VERSION_7_1,
        C_ARCHIVE_MFC_VERSION_8_0, C_ARCHIVE_MFC_VERSION_LATEST };

/* Every object a read returned goes to keep: the caller drops them after the archive. */
static void
keep_all (GPtrArray *keep, GPtrArray *objects)
{
  for (guint i = 0; i < objects->len; i++)
    if (objects->pdata[i] != NULL)
      g_ptr_array_add (keep, g_object_ref (objects->pdata[i]));
}

static void
keep_values (GPtrArray *keep, GHashTable *map, gboolean objects)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, map);
  while (objects && g_hash_table_iter_next (&iter, NULL, &value))
    if (value != NULL)
      g_ptr_array_add (keep, g_object_ref (value));
  g_hash_table_unref (map);
}

static void
read_element_map (CArchive *ar)
{
  guint key_size = 1 + c_archive_read_byte (ar) % 16;
  guint value_size = 1 + c_archive_read_byte (ar) % 16;
  GArray *keys = NULL, *values = NULL;

  c_archive_read_element_map (ar, key_size, value_size, &keys, &values);
  g_array_unref (keys);
  g_array_unref (values);
}

static void
read_value_types (CArchive *ar, FuzzOp op)
{
  GTimeSpan span;
  gint64 amount;
  gint32 r[4];
  GDateTime *time = NULL;

  switch (op)
    {
      case FUZZ_OP_WIN_BOOL:
        c_archive_read_win_bool (ar);
        break;
      case FUZZ_OP_RECT:
        c_archive_read_rect (ar, &r[0], &r[1], &r[2], &r[3]);
        break;
      case FUZZ_OP_TIME:
        time = c_archive_read_time (ar);
        break;
      case FUZZ_OP_TIME64:
        time = c_archive_read_time64 (ar);
        break;
      case FUZZ_OP_TIME_SPAN:
        c_archive_read_time_span (ar);
        break;
      case FUZZ_OP_OLE_DATE:
        c_archive_read_ole_date_time (ar, &time);
        break;
      case FUZZ_OP_OLE_SPAN:
        c_archive_read_ole_date_time_span (ar, &span);
        break;
      default:
        c_archive_read_ole_currency (ar, &amount);
    }
  if (time != NULL)
    g_date_time_unref (time);
}

void
fuzz_read_mfc_op (CArchive *ar, FuzzOp op, GPtrArray *keep)
{
  switch (op)
    {
      case FUZZ_OP_MFC_VERSION:
        c_archive_set_mfc_version (ar,
                                   versions[c_archive_read_byte (ar) % G_N_ELEMENTS (versions)]);
        break;
      case FUZZ_OP_STRV:
        g_strfreev (c_archive_read_strv (ar));
        break;
      case FUZZ_OP_WORDS:
        g_array_unref (c_archive_read_words (ar));
        break;
      case FUZZ_OP_DWORDS:
        g_array_unref (c_archive_read_dwords (ar));
        break;
      case FUZZ_OP_OBJECT_LIST:
        {
          GPtrArray *objects = c_archive_read_objects (ar, G_TYPE_INVALID);

          keep_all (keep, objects);
          g_ptr_array_unref (objects);
          break;
        }
      case FUZZ_OP_STRING_MAP:
        keep_values (keep, c_archive_read_string_map (ar), FALSE);
        break;
      case FUZZ_OP_STRING_OBJECT_MAP:
        keep_values (keep, c_archive_read_string_object_map (ar, G_TYPE_INVALID), TRUE);
        break;
      case FUZZ_OP_WORD_OBJECT_MAP:
        keep_values (keep, c_archive_read_word_object_map (ar, G_TYPE_INVALID), TRUE);
        break;
      case FUZZ_OP_ELEMENTS:
        g_array_unref (c_archive_read_elements (ar, 1 + c_archive_read_byte (ar) % 16));
        break;
      case FUZZ_OP_ELEMENT_MAP:
        read_element_map (ar);
        break;
      default:
        read_value_types (ar, op);
    }
}

static void
op (CArchive *ar, FuzzOp which)
{
  c_archive_write_byte (ar, (guint8) which);
}

void
fuzz_write_mfc_seed (CArchive *ar)
{
  static const char *const strv[] = { "one", "tw\xc3\xb6", "", NULL };
  static const guint16 words[] = { 1, 0xFFFF };
  static const guint32 dwords[] = { 2, 0xDEADBEEF };
  g_autoptr (CCollection) list = c_collection_new (C_TYPE_STRING_LIST);
  g_autoptr (CCollection) outer = c_collection_new (C_TYPE_OB_ARRAY);
  g_autoptr (FuzzNode) node = fuzz_node_new (3, NULL);
  g_autoptr (GPtrArray) objects = g_ptr_array_new ();
  g_autoptr (GHashTable) strings = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) by_word = g_hash_table_new (NULL, NULL);
  g_autoptr (GArray) elements = g_array_new (FALSE, FALSE, 4);
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, 2);
  g_autoptr (GDateTime) time = g_date_time_new_utc (2001, 9, 9, 1, 46, 40);
  gint32 element = -7;
  guint16 key = 9;

  g_ptr_array_add (c_collection_get_items (list), g_strdup ("a"));
  g_ptr_array_add (c_collection_get_items (outer), g_object_ref (list));
  g_ptr_array_add (c_collection_get_items (outer), NULL);
  g_ptr_array_add (c_collection_get_items (outer), g_object_ref (list));
  g_ptr_array_add (objects, outer);
  g_ptr_array_add (objects, node);
  g_ptr_array_add (objects, NULL);
  g_hash_table_insert (strings, "k", "v");
  g_hash_table_insert (by_name, "n", node);
  g_hash_table_insert (by_word, GUINT_TO_POINTER (4), list);
  g_array_append_val (elements, element);
  g_array_append_val (keys, key);

  op (ar, FUZZ_OP_STRV), c_archive_write_strv (ar, strv);
  op (ar, FUZZ_OP_WORDS), c_archive_write_words (ar, words, 2);
  op (ar, FUZZ_OP_DWORDS), c_archive_write_dwords (ar, dwords, 2);
  op (ar, FUZZ_OP_OBJECT_LIST), c_archive_write_objects (ar, objects);
  op (ar, FUZZ_OP_STRING_MAP), c_archive_write_string_map (ar, strings);
  op (ar, FUZZ_OP_STRING_OBJECT_MAP), c_archive_write_string_object_map (ar, by_name);
  op (ar, FUZZ_OP_WORD_OBJECT_MAP), c_archive_write_word_object_map (ar, by_word);
  op (ar, FUZZ_OP_ELEMENTS), c_archive_write_byte (ar, 3), c_archive_write_elements (ar, elements);
  op (ar, FUZZ_OP_ELEMENT_MAP), c_archive_write_byte (ar, 1), c_archive_write_byte (ar, 3),
      c_archive_write_element_map (ar, keys, elements);
  op (ar, FUZZ_OP_WIN_BOOL), c_archive_write_win_bool (ar, TRUE);
  op (ar, FUZZ_OP_RECT), c_archive_write_rect (ar, 1, 2, 3, 4);
  op (ar, FUZZ_OP_TIME), c_archive_write_time (ar, time);
  op (ar, FUZZ_OP_TIME64), c_archive_write_time64 (ar, time);
  op (ar, FUZZ_OP_TIME_SPAN), c_archive_write_time_span (ar, -60 * G_TIME_SPAN_SECOND);
  op (ar, FUZZ_OP_OLE_DATE), c_archive_write_ole_date_time (ar, C_ARCHIVE_OLE_VALID, time);
  op (ar, FUZZ_OP_OLE_SPAN), c_archive_write_ole_date_time_span (ar, C_ARCHIVE_OLE_NULL, 0);
  op (ar, FUZZ_OP_OLE_CURRENCY), c_archive_write_ole_currency (ar, C_ARCHIVE_OLE_VALID, 15000);
  /* Then as an MFC 7.1 peer: a 32-bit CTime and, in the MFC format, nothing else changes. */
  op (ar, FUZZ_OP_MFC_VERSION), c_archive_write_byte (ar, 2);
  c_archive_set_mfc_version (ar, C_ARCHIVE_MFC_VERSION_7_1);
  op (ar, FUZZ_OP_TIME), c_archive_write_time (ar, time);
  op (ar, FUZZ_OP_MFC_VERSION), c_archive_write_byte (ar, 0);
  c_archive_set_mfc_version (ar, C_ARCHIVE_MFC_VERSION_6);
  op (ar, FUZZ_OP_BOOL), c_archive_write_bool (ar, TRUE);
}

/* test-archive-objects.c: objects, classes, schemas, back-references, cycles, properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

static void
setup (void)
{
  test_classes_register ();
}

TestSuite (archive_object, .init = setup);

static char *
stored_hex (CArchive *ar)
{
  g_autoptr (GBytes) bytes = c_archive_steal_bytes (ar);

  return test_hex (bytes);
}

Test (archive_object, null_object_is_the_null_tag, .timeout = 30)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (CArchive) store = c_archive_new_store_to_memory (format);
      g_autoptr (CArchive) load = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autofree char *hex = NULL;

      c_archive_write_object (store, NULL);
      bytes = c_archive_get_bytes (store);
      hex = stored_hex (store);
      cr_assert_str_eq (hex, "00 00");
      load = c_archive_new_load_from_bytes (bytes, format);
      cr_assert_null (c_archive_read_object (load, TEST_TYPE_NODE));
      test_assert_ok (load);
    }
}

static void
write_chain (CArchive *ar)
{
  g_autoptr (TestNode) third = test_node_new (3, NULL);
  g_autoptr (TestNode) second = test_node_new (2, G_OBJECT (third));
  g_autoptr (TestNode) first = test_node_new (1, G_OBJECT (second));

  c_archive_write_object (ar, G_OBJECT (first));
  c_archive_write_object (ar, G_OBJECT (third));
}

static void
read_chain (CArchive *ar)
{
  g_autoptr (GObject) first = c_archive_read_object (ar, TEST_TYPE_NODE);
  g_autoptr (GObject) third = c_archive_read_object (ar, TEST_TYPE_NODE);
  TestNode *node = TEST_NODE (first);

  cr_assert_eq (node->value, 1, "[%s]", test_context);
  node = TEST_NODE (node->next);
  cr_assert_eq (node->value, 2);
  node = TEST_NODE (node->next);
  cr_assert_eq (node->value, 3);
  cr_assert_null (node->next);
  cr_assert_eq (G_OBJECT (node), third, "[%s] a back-reference is the same instance", test_context);
}

Test (archive_object, chain_and_back_reference_roundtrip_everywhere, .timeout = 30)
{
  test_roundtrip_everywhere (write_chain, read_chain);
}

static void
write_cycle (CArchive *ar)
{
  g_autoptr (TestNode) a = test_node_new (1, NULL);
  g_autoptr (TestNode) b = test_node_new (2, G_OBJECT (a));

  a->next = g_object_ref (G_OBJECT (b));
  c_archive_write_object (ar, G_OBJECT (a));
  g_clear_object (&a->next); /* break the reference cycle */
}

static void
read_cycle (CArchive *ar)
{
  g_autoptr (GObject) a = c_archive_read_object (ar, TEST_TYPE_NODE);
  TestNode *b = TEST_NODE (TEST_NODE (a)->next);

  cr_assert_eq (TEST_NODE (a)->value, 1, "[%s]", test_context);
  cr_assert_eq (b->value, 2);
  cr_assert_eq (b->next, a, "[%s] the cycle closes on the same instance", test_context);
  g_clear_object (&b->next);
}

Test (archive_object, cycle_roundtrips_as_a_cycle, .timeout = 30)
{
  test_roundtrip_everywhere (write_cycle, read_cycle);
}

Test (archive_object, self_reference_roundtrips, .timeout = 30)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (TestNode) node = test_node_new (7, NULL);
  g_autoptr (CArchive) load = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GObject) back = NULL;

  node->next = G_OBJECT (node); /* weak on purpose: no cycle of references */
  c_archive_write_object (store, G_OBJECT (node));
  node->next = NULL;
  bytes = c_archive_steal_bytes (store);
  load = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_MFC);
  back = c_archive_read_object (load, TEST_TYPE_NODE);
  cr_assert_eq (TEST_NODE (back)->next, back);
  g_clear_object (&TEST_NODE (back)->next);
  test_assert_ok (load);
}

Test (archive_object, unregistered_class_cannot_be_written, .timeout = 30)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GObject) object = g_object_new (TEST_TYPE_UNREGISTERED, NULL);

  c_archive_write_object (ar, object);
  test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_CLASS,
                             "writing object at offset 0", "TestUnregistered is not registered",
                             NULL);
}

static GBytes *
store_nested (CArchiveFormat format, int n, guint64 depth_limit, gboolean expect_ok)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
  g_autoptr (TestNode) head = NULL;

  for (int i = 0; i < n; i++)
    {
      TestNode *node = test_node_new (i, G_OBJECT (head));

      g_clear_object (&head);
      head = node;
    }
  c_archive_set_limit (ar, C_ARCHIVE_LIMIT_DEPTH, depth_limit);
  c_archive_write_object (ar, G_OBJECT (head));
  if (expect_ok)
    test_assert_ok (ar);
  else
    test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                               "nest deeper than the limit", NULL);
  return c_archive_steal_bytes (ar);
}

Test (archive_object, depth_limit_applies_when_storing_and_loading, .timeout = 30)
{
  g_autoptr (GBytes) allowed = store_nested (C_ARCHIVE_FORMAT_NETWORK, 70, 100, TRUE);
  g_autoptr (CArchive) strict = c_archive_new_load_from_bytes (allowed, C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (CArchive) relaxed = c_archive_new_load_from_bytes (allowed, C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GObject) head = NULL;

  g_bytes_unref (store_nested (C_ARCHIVE_FORMAT_NETWORK, 70, 64, FALSE));
  cr_assert_null (c_archive_read_object (strict, TEST_TYPE_NODE));
  test_assert_archive_error (strict, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                             "reading object", "nest deeper than the limit of 64", NULL);
  c_archive_set_limit (relaxed, C_ARCHIVE_LIMIT_DEPTH, 70);
  head = c_archive_read_object (relaxed, TEST_TYPE_NODE);
  test_assert_ok (relaxed);
  cr_assert_eq (TEST_NODE (head)->value, 69);
}

Test (archive_object, map_object_lets_both_ends_share_known_objects, .timeout = 30)
{
  g_autoptr (GObject) document = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr (GObject) other_document = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr (TestNode) node = test_node_new (5, document);
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) load = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GObject) back = NULL;
  g_autofree char *hex = NULL;

  c_archive_map_object (store, document);
  c_archive_map_object (store, NULL);
  c_archive_write_object (store, G_OBJECT (node));
  test_assert_ok (store);
  bytes = c_archive_get_bytes (store);
  hex = stored_hex (store);
  /* The document took id 1, the class id 2, the node id 3; the document is a
   * back-reference. */
  cr_assert_str_eq (hex, "ff ff 01 00 05 00 43 4e 6f 64 65 05 00 00 00 01 00");
  load = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_MFC);
  c_archive_map_object (load, other_document);
  back = c_archive_read_object (load, TEST_TYPE_NODE);
  test_assert_ok (load);
  cr_assert_eq (TEST_NODE (back)->next, other_document);
}

Test (archive_object, classes_alone_and_schema_reported_once, .timeout = 30)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (CArchive) load = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *hex = NULL;
  guint schema = 0;

  c_archive_write_class (store, TEST_TYPE_NODE);
  cr_assert_eq (c_archive_serialize_class (store, TEST_TYPE_NODE), TEST_TYPE_NODE);
  c_archive_write_class (store, TEST_TYPE_VERSIONED);
  test_assert_ok (store);
  bytes = c_archive_get_bytes (store);
  hex = stored_hex (store);
  cr_assert_str_eq (hex, "ff ff 00 01 00 05 43 4e 6f 64 65 80 01 "
                         "ff ff 00 02 00 0a 43 56 65 72 73 69 6f 6e 65 64");
  load = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_NETWORK);
  cr_assert_eq (c_archive_read_class (load, G_TYPE_OBJECT, &schema), TEST_TYPE_NODE);
  cr_assert_eq (schema, 1);
  cr_assert_eq (c_archive_get_object_schema (load), -1);
  cr_assert_eq (c_archive_serialize_class (load, TEST_TYPE_NODE), TEST_TYPE_NODE);
  cr_assert_eq (c_archive_get_object_schema (load), 1);
  cr_assert_eq (c_archive_get_object_schema (load), -1, "reset after one call, as in MFC");
  cr_assert_eq (c_archive_read_class (load, G_TYPE_INVALID, NULL), TEST_TYPE_VERSIONED);
  cr_assert_eq (c_archive_get_object_schema (load), 2);
  c_archive_set_object_schema (load, 9);
  cr_assert_eq (c_archive_get_object_schema (load), 9);
  test_assert_ok (load);
}

static GObject *
load_one (const char *hex, CArchiveFormat format, GType expected, CArchive **out)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex (hex);
  CArchive *ar = c_archive_new_load_from_bytes (bytes, format);
  GObject *object = c_archive_read_object (ar, expected);

  *out = ar;
  return object;
}

Test (archive_object, versionable_class_loads_older_schema_and_reports_it, .timeout = 30)
{
  g_autoptr (CArchive) old = NULL;
  g_autoptr (CArchive) current = NULL;
  /* CVersioned stored with schema 1 (LONG a only), then with schema 2 (a and b). */
  g_autoptr (GObject) v1 = load_one ("ff ff 00 01 00 0a 43 56 65 72 73 69 6f 6e 65 64 00 00 00 05",
                                     C_ARCHIVE_FORMAT_NETWORK, TEST_TYPE_VERSIONED, &old);
  g_autoptr (GObject) v2 = load_one ("ff ff 00 02 00 0a 43 56 65 72 73 69 6f 6e 65 64 "
                                     "00 00 00 05 00 00 00 06",
                                     C_ARCHIVE_FORMAT_NETWORK, TEST_TYPE_VERSIONED, &current);

  test_assert_ok (old);
  test_assert_ok (current);
  cr_assert_eq (TEST_VERSIONED (v1)->loaded_schema, 1);
  cr_assert_eq (TEST_VERSIONED (v1)->a, 5);
  cr_assert_eq (TEST_VERSIONED (v1)->b, 0);
  cr_assert_eq (TEST_VERSIONED (v2)->loaded_schema, 2);
  cr_assert_eq (TEST_VERSIONED (v2)->b, 6);
  cr_assert_eq (c_archive_get_object_schema (old), -1, "restored after the object");
}

Test (archive_object, back_reference_of_the_wrong_type_is_bad_class, .timeout = 30)
{
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (TestNode) node = test_node_new (1, NULL);
  g_autoptr (CArchive) load = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GObject) first = NULL;

  c_archive_write_object (store, G_OBJECT (node));
  c_archive_write_object (store, G_OBJECT (node));
  bytes = c_archive_steal_bytes (store);
  load = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_NETWORK);
  first = c_archive_read_object (load, TEST_TYPE_NODE);
  cr_assert_null (c_archive_read_object (load, TEST_TYPE_VERSIONED));
  test_assert_archive_error (load, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_CLASS,
                             "reading object at offset 17",
                             "object 2 is a TestNode, not a TestVersioned", NULL);
}

static void
map_many (CArchive *ar, GPtrArray *keep, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      GObject *object = g_object_new (TEST_TYPE_UNREGISTERED, NULL);

      g_ptr_array_add (keep, object);
      c_archive_map_object (ar, object);
    }
}

Test (archive_object, big_tags_once_ids_pass_0x7ffe, .timeout = 30)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (CArchive) store = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (TestNode) first = test_node_new (1, NULL);
  g_autoptr (TestNode) second = test_node_new (2, NULL);
  g_autoptr (CArchive) load = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GObject) first_back = NULL;
  g_autoptr (GObject) second_back = NULL;
  g_autoptr (GObject) first_again = NULL;
  g_autofree char *hex = NULL;

  map_many (store, keep, 0x7FFE);
  c_archive_write_object (store, G_OBJECT (first));  /* class 0x7FFF, object 0x8000 */
  c_archive_write_object (store, G_OBJECT (second)); /* big class tag, object 0x8001 */
  c_archive_write_object (store, G_OBJECT (first));  /* big object tag */
  test_assert_ok (store);
  bytes = c_archive_get_bytes (store);
  hex = stored_hex (store);
  cr_assert_str_eq (hex, "ff ff 00 01 00 05 43 4e 6f 64 65 00 00 00 01 00 00 "
                         "7f ff 80 00 7f ff 00 00 00 02 00 00 "
                         "7f ff 00 00 80 00");
  load = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_NETWORK);
  map_many (load, keep, 0x7FFE);
  first_back = c_archive_read_object (load, TEST_TYPE_NODE);
  second_back = c_archive_read_object (load, TEST_TYPE_NODE);
  first_again = c_archive_read_object (load, TEST_TYPE_NODE);
  test_assert_ok (load);
  cr_assert_eq (TEST_NODE (second_back)->value, 2);
  cr_assert_eq (first_back, first_again);
}

static void
fill_bag (TestBag *bag, GObject *child)
{
  static const char *const strv[] = { "one", "", "thr\xc3\xa9\x65", NULL };
  g_autoptr (GBytes) bytes = g_bytes_new_static ("\x00\x01\xff", 3);

  g_object_set (bag, "flag", TRUE, "c", -5, "uc", 250, "i", G_MININT, "u", G_MAXUINT, "l",
                (glong) G_MINLONG, "ul", (gulong) G_MAXULONG, "i64", G_MININT64, "u64", G_MAXUINT64,
                "f", 1.5f, "d", -2.25, "format", C_ARCHIVE_FORMAT_MFC, "flags",
                C_ARCHIVE_CLASS_VERSIONABLE, "text", "h\xc3\xa9llo", "child", child, "strv", strv,
                "bytes", bytes, "percent", 100, NULL);
}

static void
assert_bag (TestBag *bag)
{
  cr_assert (bag->flag);
  cr_assert_eq (bag->c, -5);
  cr_assert_eq (bag->uc, 250);
  cr_assert_eq (bag->i, G_MININT);
  cr_assert_eq (bag->u, G_MAXUINT);
  cr_assert_eq (bag->l, G_MINLONG);
  cr_assert_eq (bag->ul, G_MAXULONG);
  cr_assert_eq (bag->i64, G_MININT64);
  cr_assert_eq (bag->u64, G_MAXUINT64);
  cr_assert_eq (bag->f, 1.5f);
  cr_assert_eq (bag->d, -2.25);
  cr_assert_eq (bag->format, C_ARCHIVE_FORMAT_MFC);
  cr_assert_eq (bag->flags, C_ARCHIVE_CLASS_VERSIONABLE);
  cr_assert_str_eq (bag->text, "h\xc3\xa9llo");
  cr_assert_eq (g_strv_length (bag->strv), 3);
  cr_assert_str_eq (bag->strv[2], "thr\xc3\xa9\x65");
  cr_assert_eq (g_bytes_get_size (bag->bytes), 3);
  cr_assert_eq (bag->percent, 100);
  cr_assert_eq (bag->construct_only, 0, "construct-only properties are not archived");
}

static void
write_bags (CArchive *ar)
{
  g_autoptr (TestNode) shared = test_node_new (42, NULL);
  g_autoptr (TestBag) full = g_object_new (TEST_TYPE_BAG, "construct-only", 7, NULL);
  g_autoptr (TestBag) empty = g_object_new (TEST_TYPE_BAG, NULL);

  fill_bag (full, G_OBJECT (shared));
  c_archive_write_object (ar, G_OBJECT (full));
  c_archive_write_object (ar, G_OBJECT (empty));
  c_archive_write_object (ar, G_OBJECT (shared));
}

static void
read_bags (CArchive *ar)
{
  g_autoptr (GObject) full = c_archive_read_object (ar, TEST_TYPE_BAG);
  g_autoptr (GObject) empty = c_archive_read_object (ar, TEST_TYPE_BAG);
  g_autoptr (GObject) shared = c_archive_read_object (ar, TEST_TYPE_NODE);
  TestBag *bag = TEST_BAG (empty);

  test_assert_ok (ar);
  assert_bag (TEST_BAG (full));
  cr_assert_eq (TEST_BAG (full)->child, shared, "[%s] the child is shared", test_context);
  cr_assert_eq (TEST_NODE (shared)->value, 42);
  cr_assert_null (bag->text, "NULL strings survive");
  cr_assert_null (bag->strv);
  cr_assert_null (bag->bytes);
  cr_assert_null (bag->child);
}

Test (archive_object, properties_of_every_supported_type_roundtrip, .timeout = 30)
{
  test_roundtrip_everywhere (write_bags, read_bags);
}

Test (archive_object, property_layout_is_name_kind_value, .timeout = 30)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (TestBag) bag = g_object_new (TEST_TYPE_BAG, NULL);
  g_autoptr (GBytes) bytes = NULL;
  gsize size;
  const char *data;

  c_archive_serialize_properties (ar, G_OBJECT (bag));
  bytes = c_archive_steal_bytes (ar);
  data = g_bytes_get_data (bytes, &size);
  /* 18 archived properties; the first is "flag", kind 'b', value 0. */
  cr_assert (memcmp (data,
                     "\x00\x00\x00\x12\x00\x00\x00\x04"
                     "flag"
                     "b\x00",
                     14)
             == 0);
  cr_assert_null (memmem (data, size, "construct-only", 14));
  cr_assert_null (memmem (data, size, "read-only", 9));
}

Test (archive_object, unknown_properties_are_skipped, .timeout = 30)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex (
      "00 00 00 03 "
      "00 00 00 03 7a 7a 7a 69 00 00 00 05 " /* zzz: int 5 */
      "00 00 00 04 6e 6f 64 65 6f ff ff 00 01 00 05 43 4e 6f 64 65 00 00 00 09 00 00 " /* node */
      "00 00 00 01 69 69 00 00 00 07"); /* i: int 7 */
  g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (TestBag) bag = g_object_new (TEST_TYPE_BAG, NULL);

  c_archive_serialize_properties (ar, G_OBJECT (bag));
  test_assert_ok (ar);
  cr_assert (c_archive_is_buffer_empty (ar));
  cr_assert_eq (bag->i, 7);
}

Test (archive_object, mfc_objects_use_little_endian_tags, .timeout = 30)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (TestNode) node = test_node_new (0x01020304, NULL);
  g_autofree char *hex = NULL;

  c_archive_write_object (ar, G_OBJECT (node));
  c_archive_write_object (ar, G_OBJECT (node));
  hex = stored_hex (ar);
  cr_assert_str_eq (hex, "ff ff 01 00 05 00 43 4e 6f 64 65 04 03 02 01 00 00 02 00");
}

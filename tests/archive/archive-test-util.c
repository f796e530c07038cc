/* archive-test-util.c: streams, hex helpers and serializable classes for the archive tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "archive-test-util.h"

#include <stdarg.h>
#include <string.h>

#include <criterion/criterion.h>

const char *const transport_names[N_TRANSPORTS]
    = { "memory", "stream", "one-byte stream", "seven-byte stream" };
const char *const format_names[2] = { "network", "mfc" };

/* Chunked input stream */

G_DEFINE_FINAL_TYPE (TestChunkedInput, test_chunked_input, G_TYPE_INPUT_STREAM)

static gssize
test_chunked_input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                         GError **error)
{
  TestChunkedInput *self = TEST_CHUNKED_INPUT (stream);
  gsize size;
  const guint8 *data = g_bytes_get_data (self->bytes, &size);
  gsize n = MIN (MIN (count, self->chunk), size - self->offset);

  self->reads++;
  self->largest_request = MAX (self->largest_request, count);
  if (self->fail_at >= 0 && self->offset + n > (gsize) self->fail_at)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "test failure");
      return -1;
    }
  if (n > 0)
    memcpy (buffer, data + self->offset, n);
  self->offset += n;
  return (gssize) n;
}

static void
test_chunked_input_finalize (GObject *object)
{
  g_bytes_unref (TEST_CHUNKED_INPUT (object)->bytes);
  G_OBJECT_CLASS (test_chunked_input_parent_class)->finalize (object);
}

static void
test_chunked_input_class_init (TestChunkedInputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_chunked_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = test_chunked_input_read;
}

static void
test_chunked_input_init (TestChunkedInput *self)
{
  self->fail_at = -1;
}

TestChunkedInput *
test_chunked_input_new (GBytes *bytes, gsize chunk)
{
  TestChunkedInput *self = g_object_new (TEST_TYPE_CHUNKED_INPUT, NULL);

  self->bytes = g_bytes_ref (bytes);
  self->chunk = chunk;
  return self;
}

/* Chunked output stream */

G_DEFINE_FINAL_TYPE (TestChunkedOutput, test_chunked_output, G_TYPE_OUTPUT_STREAM)

static gssize
test_chunked_output_write (GOutputStream *stream, const void *buffer, gsize count,
                           GCancellable *cancellable, GError **error)
{
  TestChunkedOutput *self = TEST_CHUNKED_OUTPUT (stream);
  gsize n = MIN (count, self->chunk);

  self->writes++;
  if (self->fail)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "test broken pipe");
      return -1;
    }
  g_byte_array_append (self->data, buffer, n);
  return (gssize) n;
}

static gboolean
test_chunked_output_flush (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  TEST_CHUNKED_OUTPUT (stream)->flushes++;
  return TRUE;
}

static void
test_chunked_output_finalize (GObject *object)
{
  g_byte_array_unref (TEST_CHUNKED_OUTPUT (object)->data);
  G_OBJECT_CLASS (test_chunked_output_parent_class)->finalize (object);
}

static void
test_chunked_output_class_init (TestChunkedOutputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_chunked_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = test_chunked_output_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = test_chunked_output_flush;
}

static void
test_chunked_output_init (TestChunkedOutput *self)
{
  self->data = g_byte_array_new ();
}

TestChunkedOutput *
test_chunked_output_new (gsize chunk)
{
  TestChunkedOutput *self = g_object_new (TEST_TYPE_CHUNKED_OUTPUT, NULL);

  self->chunk = chunk;
  return self;
}

/* Transports */

static gsize
chunk_of (Transport transport)
{
  return transport == TRANSPORT_ONE_BYTE_STREAM ? 1 : 7;
}

void
test_store_begin (TestStore *store, CArchiveFormat format, Transport transport)
{
  store->transport = transport;
  store->stream = NULL;
  if (transport == TRANSPORT_MEMORY)
    {
      store->archive = c_archive_new_store_to_memory (format);
      return;
    }
  if (transport == TRANSPORT_STREAM)
    store->stream = g_memory_output_stream_new_resizable ();
  else
    store->stream = G_OUTPUT_STREAM (test_chunked_output_new (chunk_of (transport)));
  /* A small buffer so that long fields cross many buffer boundaries. */
  store->archive = c_archive_new_store_to_stream (store->stream, format, 64);
}

GBytes *
test_store_end (TestStore *store)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes;

  cr_assert (c_archive_close (store->archive, &error), "close failed: %s",
             error ? error->message : "");
  if (store->stream == NULL)
    bytes = c_archive_steal_bytes (store->archive);
  else if (G_IS_MEMORY_OUTPUT_STREAM (store->stream))
    {
      cr_assert (g_output_stream_close (store->stream, NULL, NULL));
      bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (store->stream));
    }
  else
    {
      GByteArray *data = TEST_CHUNKED_OUTPUT (store->stream)->data;
      bytes = g_bytes_new (data->data, data->len);
    }
  g_clear_object (&store->archive);
  g_clear_object (&store->stream);
  return bytes;
}

CArchive *
test_load (GBytes *bytes, CArchiveFormat format, Transport transport)
{
  g_autoptr (GInputStream) stream = NULL;

  switch (transport)
    {
      case TRANSPORT_MEMORY:
        return c_archive_new_load_from_bytes (bytes, format);
      case TRANSPORT_STREAM:
        stream = g_memory_input_stream_new_from_bytes (bytes);
        break;
      default:
        stream = G_INPUT_STREAM (test_chunked_input_new (bytes, chunk_of (transport)));
    }
  return c_archive_new_load_from_stream (stream, format, 64);
}

/* Hex */

GBytes *
test_bytes_from_hex (const char *hex)
{
  GByteArray *array = g_byte_array_new ();

  for (const char *p = hex; *p != '\0';)
    {
      guint8 byte;

      if (g_ascii_isspace (*p))
        {
          p++;
          continue;
        }
      cr_assert (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]), "bad hex '%s'", hex);
      byte = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      g_byte_array_append (array, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (array);
}

char *
test_hex_prefix (GBytes *bytes, gsize n)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  GString *hex = g_string_new (NULL);

  for (gsize i = 0; i < MIN (n, size); i++)
    g_string_append_printf (hex, i == 0 ? "%02x" : " %02x", data[i]);
  return g_string_free (hex, FALSE);
}

char *
test_hex (GBytes *bytes)
{
  return test_hex_prefix (bytes, G_MAXSIZE);
}

void
test_assert_archive_error (CArchive *archive, GQuark domain, int code, ...)
{
  const GError *error = c_archive_get_error (archive);
  va_list args;

  cr_assert_not_null (error, "expected an error (code %d), got none", code);
  cr_assert (error->domain == domain && error->code == code,
             "expected %s code %d, got %s code %d: %s", g_quark_to_string (domain), code,
             g_quark_to_string (error->domain), error->code, error->message);
  va_start (args, code);
  for (const char *fragment = va_arg (args, const char *); fragment != NULL;
       fragment = va_arg (args, const char *))
    cr_assert (strstr (error->message, fragment) != NULL, "message '%s' lacks '%s'", error->message,
               fragment);
  va_end (args);
}

/* TestNode */

static void test_node_serializable_init (CSerializableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestNode, test_node, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (C_TYPE_SERIALIZABLE,
                                                      test_node_serializable_init))

static void
test_node_serialize (CSerializable *serializable, CArchive *ar)
{
  TestNode *self = TEST_NODE (serializable);

  if (c_archive_is_storing (ar))
    {
      c_archive_write_long (ar, self->value);
      c_archive_write_object (ar, self->next);
      return;
    }
  self->value = c_archive_read_long (ar);
  g_clear_object (&self->next);
  self->next = c_archive_read_object (ar, G_TYPE_OBJECT);
}

static void
test_node_serializable_init (CSerializableInterface *iface)
{
  iface->serialize = test_node_serialize;
}

static void
test_node_dispose (GObject *object)
{
  g_clear_object (&TEST_NODE (object)->next);
  G_OBJECT_CLASS (test_node_parent_class)->dispose (object);
}

static void
test_node_class_init (TestNodeClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = test_node_dispose;
}

static void
test_node_init (TestNode *self)
{
}

TestNode *
test_node_new (gint32 value, GObject *next)
{
  TestNode *self = g_object_new (TEST_TYPE_NODE, NULL);

  self->value = value;
  self->next = next != NULL ? g_object_ref (next) : NULL;
  return self;
}

/* TestVersioned */

static void test_versioned_serializable_init (CSerializableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestVersioned, test_versioned, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (C_TYPE_SERIALIZABLE,
                                                      test_versioned_serializable_init))

static void
test_versioned_serialize (CSerializable *serializable, CArchive *ar)
{
  TestVersioned *self = TEST_VERSIONED (serializable);

  if (c_archive_is_storing (ar))
    {
      c_archive_write_long (ar, self->a);
      c_archive_write_long (ar, self->b);
      return;
    }
  self->loaded_schema = c_archive_get_object_schema (ar);
  self->a = c_archive_read_long (ar);
  if (self->loaded_schema >= 2)
    self->b = c_archive_read_long (ar);
}

static void
test_versioned_serializable_init (CSerializableInterface *iface)
{
  iface->serialize = test_versioned_serialize;
}

static void
test_versioned_class_init (TestVersionedClass *klass)
{
}

static void
test_versioned_init (TestVersioned *self)
{
  self->loaded_schema = -2;
}

/* TestBag */

enum
{
  BAG_PROP_0,
  BAG_PROP_FLAG,
  BAG_PROP_C,
  BAG_PROP_UC,
  BAG_PROP_I,
  BAG_PROP_U,
  BAG_PROP_L,
  BAG_PROP_UL,
  BAG_PROP_I64,
  BAG_PROP_U64,
  BAG_PROP_F,
  BAG_PROP_D,
  BAG_PROP_FORMAT,
  BAG_PROP_FLAGS,
  BAG_PROP_TEXT,
  BAG_PROP_CHILD,
  BAG_PROP_STRV,
  BAG_PROP_BYTES,
  BAG_PROP_PERCENT,
  BAG_PROP_CONSTRUCT_ONLY,
  BAG_PROP_READ_ONLY,
  BAG_N_PROPS
};

G_DEFINE_FINAL_TYPE (TestBag, test_bag, G_TYPE_OBJECT)

static void
test_bag_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TestBag *self = TEST_BAG (object);

  switch (prop_id)
    {
      case BAG_PROP_FLAG:
        g_value_set_boolean (value, self->flag);
        break;
      case BAG_PROP_C:
        g_value_set_schar (value, self->c);
        break;
      case BAG_PROP_UC:
        g_value_set_uchar (value, self->uc);
        break;
      case BAG_PROP_I:
        g_value_set_int (value, self->i);
        break;
      case BAG_PROP_U:
        g_value_set_uint (value, self->u);
        break;
      case BAG_PROP_L:
        g_value_set_long (value, self->l);
        break;
      case BAG_PROP_UL:
        g_value_set_ulong (value, self->ul);
        break;
      case BAG_PROP_I64:
        g_value_set_int64 (value, self->i64);
        break;
      case BAG_PROP_U64:
        g_value_set_uint64 (value, self->u64);
        break;
      case BAG_PROP_F:
        g_value_set_float (value, self->f);
        break;
      case BAG_PROP_D:
        g_value_set_double (value, self->d);
        break;
      case BAG_PROP_FORMAT:
        g_value_set_enum (value, self->format);
        break;
      case BAG_PROP_FLAGS:
        g_value_set_flags (value, self->flags);
        break;
      case BAG_PROP_TEXT:
        g_value_set_string (value, self->text);
        break;
      case BAG_PROP_CHILD:
        g_value_set_object (value, self->child);
        break;
      case BAG_PROP_STRV:
        g_value_set_boxed (value, self->strv);
        break;
      case BAG_PROP_BYTES:
        g_value_set_boxed (value, self->bytes);
        break;
      case BAG_PROP_PERCENT:
        g_value_set_int (value, self->percent);
        break;
      case BAG_PROP_CONSTRUCT_ONLY:
        g_value_set_int (value, self->construct_only);
        break;
      case BAG_PROP_READ_ONLY:
        g_value_set_int (value, 42);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_bag_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TestBag *self = TEST_BAG (object);

  switch (prop_id)
    {
      case BAG_PROP_FLAG:
        self->flag = g_value_get_boolean (value);
        break;
      case BAG_PROP_C:
        self->c = g_value_get_schar (value);
        break;
      case BAG_PROP_UC:
        self->uc = g_value_get_uchar (value);
        break;
      case BAG_PROP_I:
        self->i = g_value_get_int (value);
        break;
      case BAG_PROP_U:
        self->u = g_value_get_uint (value);
        break;
      case BAG_PROP_L:
        self->l = g_value_get_long (value);
        break;
      case BAG_PROP_UL:
        self->ul = g_value_get_ulong (value);
        break;
      case BAG_PROP_I64:
        self->i64 = g_value_get_int64 (value);
        break;
      case BAG_PROP_U64:
        self->u64 = g_value_get_uint64 (value);
        break;
      case BAG_PROP_F:
        self->f = g_value_get_float (value);
        break;
      case BAG_PROP_D:
        self->d = g_value_get_double (value);
        break;
      case BAG_PROP_FORMAT:
        self->format = g_value_get_enum (value);
        break;
      case BAG_PROP_FLAGS:
        self->flags = g_value_get_flags (value);
        break;
      case BAG_PROP_TEXT:
        g_free (self->text);
        self->text = g_value_dup_string (value);
        break;
      case BAG_PROP_CHILD:
        g_set_object (&self->child, g_value_get_object (value));
        break;
      case BAG_PROP_STRV:
        g_strfreev (self->strv);
        self->strv = g_value_dup_boxed (value);
        break;
      case BAG_PROP_BYTES:
        g_clear_pointer (&self->bytes, g_bytes_unref);
        self->bytes = g_value_dup_boxed (value);
        break;
      case BAG_PROP_PERCENT:
        self->percent = g_value_get_int (value);
        break;
      case BAG_PROP_CONSTRUCT_ONLY:
        self->construct_only = g_value_get_int (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_bag_dispose (GObject *object)
{
  g_clear_object (&TEST_BAG (object)->child);
  G_OBJECT_CLASS (test_bag_parent_class)->dispose (object);
}

static void
test_bag_finalize (GObject *object)
{
  TestBag *self = TEST_BAG (object);

  g_free (self->text);
  g_strfreev (self->strv);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  G_OBJECT_CLASS (test_bag_parent_class)->finalize (object);
}

static void
test_bag_class_init (TestBagClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  GParamSpec *props[BAG_N_PROPS] = { NULL };

  object_class->get_property = test_bag_get_property;
  object_class->set_property = test_bag_set_property;
  object_class->dispose = test_bag_dispose;
  object_class->finalize = test_bag_finalize;

  props[BAG_PROP_FLAG] = g_param_spec_boolean ("flag", NULL, NULL, FALSE, rw);
  props[BAG_PROP_C] = g_param_spec_char ("c", NULL, NULL, G_MININT8, G_MAXINT8, 0, rw);
  props[BAG_PROP_UC] = g_param_spec_uchar ("uc", NULL, NULL, 0, G_MAXUINT8, 0, rw);
  props[BAG_PROP_I] = g_param_spec_int ("i", NULL, NULL, G_MININT, G_MAXINT, 0, rw);
  props[BAG_PROP_U] = g_param_spec_uint ("u", NULL, NULL, 0, G_MAXUINT, 0, rw);
  props[BAG_PROP_L] = g_param_spec_long ("l", NULL, NULL, G_MINLONG, G_MAXLONG, 0, rw);
  props[BAG_PROP_UL] = g_param_spec_ulong ("ul", NULL, NULL, 0, G_MAXULONG, 0, rw);
  props[BAG_PROP_I64] = g_param_spec_int64 ("i64", NULL, NULL, G_MININT64, G_MAXINT64, 0, rw);
  props[BAG_PROP_U64] = g_param_spec_uint64 ("u64", NULL, NULL, 0, G_MAXUINT64, 0, rw);
  props[BAG_PROP_F] = g_param_spec_float ("f", NULL, NULL, -G_MAXFLOAT, G_MAXFLOAT, 0, rw);
  props[BAG_PROP_D] = g_param_spec_double ("d", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, rw);
  props[BAG_PROP_FORMAT] = g_param_spec_enum ("format", NULL, NULL, C_TYPE_ARCHIVE_FORMAT,
                                              C_ARCHIVE_FORMAT_NETWORK, rw);
  props[BAG_PROP_FLAGS] = g_param_spec_flags ("flags", NULL, NULL, C_TYPE_ARCHIVE_CLASS_FLAGS,
                                              C_ARCHIVE_CLASS_NONE, rw);
  props[BAG_PROP_TEXT] = g_param_spec_string ("text", NULL, NULL, NULL, rw);
  props[BAG_PROP_CHILD] = g_param_spec_object ("child", NULL, NULL, G_TYPE_OBJECT, rw);
  props[BAG_PROP_STRV] = g_param_spec_boxed ("strv", NULL, NULL, G_TYPE_STRV, rw);
  props[BAG_PROP_BYTES] = g_param_spec_boxed ("bytes", NULL, NULL, G_TYPE_BYTES, rw);
  props[BAG_PROP_PERCENT] = g_param_spec_int ("percent", NULL, NULL, 0, 100, 0, rw);
  props[BAG_PROP_CONSTRUCT_ONLY]
      = g_param_spec_int ("construct-only", NULL, NULL, 0, 1000, 0, rw | G_PARAM_CONSTRUCT_ONLY);
  props[BAG_PROP_READ_ONLY]
      = g_param_spec_int ("read-only", NULL, NULL, 0, 1000, 42, G_PARAM_READABLE);
  g_object_class_install_properties (object_class, BAG_N_PROPS, props);
}

static void
test_bag_init (TestBag *self)
{
}

/* TestUnregistered */

struct _TestUnregistered
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (TestUnregistered, test_unregistered, G_TYPE_OBJECT)

static void
test_unregistered_class_init (TestUnregisteredClass *klass)
{
}

static void
test_unregistered_init (TestUnregistered *self)
{
}

void
test_classes_register (void)
{
  c_archive_register_class_with_name (TEST_TYPE_NODE, "CNode", 1, C_ARCHIVE_CLASS_NONE);
  c_archive_register_class_with_name (TEST_TYPE_VERSIONED, "CVersioned", 2,
                                      C_ARCHIVE_CLASS_VERSIONABLE);
  c_archive_register_class (TEST_TYPE_BAG, 1, C_ARCHIVE_CLASS_NONE);
}

/* Round trips */

char test_context[64];

void
test_assert_ok (CArchive *archive)
{
  const GError *error = c_archive_get_error (archive);

  cr_assert_null (error, "[%s] unexpected error: %s", test_context,
                  error != NULL ? error->message : "");
}

void
test_roundtrip_with (TestWriter writer, TestReader reader, CArchiveFormat format,
                     Transport transport)
{
  TestStore store;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (CArchive) loader = NULL;

  g_snprintf (test_context, sizeof test_context, "%s, %s", format_names[format],
              transport_names[transport]);
  test_store_begin (&store, format, transport);
  writer (store.archive);
  test_assert_ok (store.archive);
  bytes = test_store_end (&store);
  loader = test_load (bytes, format, transport);
  reader (loader);
  test_assert_ok (loader);
  cr_assert (c_archive_is_buffer_empty (loader), "[%s] bytes left over", test_context);
  cr_assert_eq (c_archive_get_position (loader), g_bytes_get_size (bytes), "[%s]", test_context);
}

void
test_roundtrip_everywhere (TestWriter writer, TestReader reader)
{
  for (int format = 0; format < 2; format++)
    {
      g_autoptr (GBytes) reference = NULL;

      for (int transport = 0; transport < N_TRANSPORTS; transport++)
        {
          TestStore store;
          g_autoptr (GBytes) bytes = NULL;

          test_roundtrip_with (writer, reader, format, transport);
          /* Every transport must produce the very same bytes. */
          test_store_begin (&store, format, transport);
          writer (store.archive);
          bytes = test_store_end (&store);
          if (reference == NULL)
            reference = g_bytes_ref (bytes);
          cr_assert (g_bytes_equal (bytes, reference), "[%s] bytes differ from memory's",
                     test_context);
        }
    }
}

char *
test_spec_cell (const char *raw)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (raw));
  gsize length = strlen (trimmed);

  if (length >= 2 && trimmed[0] == '`' && trimmed[length - 1] == '`')
    return g_strndup (trimmed + 1, length - 2);
  return g_strdup (trimmed);
}

GPtrArray *
test_spec_table (const char *spec_path, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *begin = g_strdup_printf ("<!-- %s:begin -->", name);
  g_autofree char *end = g_strdup_printf ("<!-- %s:end -->", name);
  g_auto (GStrv) lines = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  gboolean inside = FALSE, header = TRUE;

  cr_assert (g_file_get_contents (spec_path, &text, NULL, &error), "%s",
             error ? error->message : "");
  lines = g_strsplit (text, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) cells = NULL;
      GStrv row;
      guint n;

      if (g_str_has_prefix (*line, begin) || g_str_has_prefix (*line, end))
        {
          inside = g_str_has_prefix (*line, begin);
          continue;
        }
      if (!inside || !g_str_has_prefix (*line, "|"))
        continue;
      if (header || g_str_has_prefix (*line, "|---"))
        {
          header = FALSE;
          continue;
        }
      cells = g_strsplit (*line, "|", -1);
      n = g_strv_length (cells);
      cr_assert_geq (n, 3, "bad row in table %s: %s", name, *line);
      row = g_new0 (char *, n - 1);
      for (guint i = 1; i + 1 < n; i++)
        row[i - 1] = test_spec_cell (cells[i]);
      g_ptr_array_add (rows, row);
    }
  cr_assert_gt (rows->len, 0, "table %s not found in %s", name, spec_path);
  return rows;
}

void
test_assert_malformed (CArchive *archive, int code, const char *fragment, const char *what,
                       Transport transport)
{
  const GError *error = c_archive_get_error (archive);

  cr_assert_not_null (error, "%s (%s): no error", what, transport_names[transport]);
  cr_assert (error->domain == C_ARCHIVE_ERROR && error->code == code,
             "%s (%s): code %d, expected %d: %s", what, transport_names[transport], error->code,
             code, error->message);
  cr_assert (strstr (error->message, fragment) != NULL, "%s (%s): '%s' lacks '%s'", what,
             transport_names[transport], error->message, fragment);
}

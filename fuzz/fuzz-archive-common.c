/* fuzz-archive-common.c: the serializable classes the archive fuzz target loads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-archive-common.h"

/* FNode */

struct _FuzzNode
{
  GObject parent_instance;
  gint32 value;
  GObject *next; /* weak */
};

static void fuzz_node_serializable_init (CSerializableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FuzzNode, fuzz_node, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (C_TYPE_SERIALIZABLE,
                                                      fuzz_node_serializable_init))

static void
fuzz_node_serialize (CSerializable *serializable, CArchive *ar)
{
  FuzzNode *self = FUZZ_NODE (serializable);
  GObject *next;

  if (c_archive_is_storing (ar))
    {
      c_archive_write_long (ar, self->value);
      c_archive_write_object (ar, self->next);
      return;
    }
  self->value = c_archive_read_long (ar);
  next = c_archive_read_object (ar, G_TYPE_OBJECT);
  g_set_weak_pointer (&self->next, next);
  g_clear_object (&next);
}

static void
fuzz_node_serializable_init (CSerializableInterface *iface)
{
  iface->serialize = fuzz_node_serialize;
}

static void
fuzz_node_dispose (GObject *object)
{
  g_clear_weak_pointer (&FUZZ_NODE (object)->next);
  G_OBJECT_CLASS (fuzz_node_parent_class)->dispose (object);
}

static void
fuzz_node_class_init (FuzzNodeClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = fuzz_node_dispose;
}

static void
fuzz_node_init (FuzzNode *self)
{
}

FuzzNode *
fuzz_node_new (gint32 value, GObject *next)
{
  FuzzNode *self = g_object_new (FUZZ_TYPE_NODE, NULL);

  self->value = value;
  g_set_weak_pointer (&self->next, next);
  return self;
}

void
fuzz_node_set_next (FuzzNode *self, GObject *next)
{
  g_set_weak_pointer (&self->next, next);
}

/* FVersioned */

struct _FuzzVersioned
{
  GObject parent_instance;
  gint32 value;
  char *text;
  GArray *numbers;
};

static void fuzz_versioned_serializable_init (CSerializableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FuzzVersioned, fuzz_versioned, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (C_TYPE_SERIALIZABLE,
                                                      fuzz_versioned_serializable_init))

static void
fuzz_versioned_store (FuzzVersioned *self, CArchive *ar)
{
  c_archive_write_long (ar, self->value);
  c_archive_write_cstring (ar, self->text != NULL ? self->text : "");
  c_archive_write_count (ar, self->numbers->len);
  for (guint i = 0; i < self->numbers->len; i++)
    c_archive_write_long (ar, g_array_index (self->numbers, gint32, i));
}

static void
fuzz_versioned_serialize (CSerializable *serializable, CArchive *ar)
{
  FuzzVersioned *self = FUZZ_VERSIONED (serializable);
  gint schema;
  guint64 count;

  if (c_archive_is_storing (ar))
    {
      fuzz_versioned_store (self, ar);
      return;
    }
  schema = c_archive_get_object_schema (ar);
  self->value = c_archive_read_long (ar);
  if (schema >= 2)
    {
      g_free (self->text);
      self->text = c_archive_read_cstring (ar);
    }
  if (schema < 3)
    return;
  /* Element by element: the count is only a claim. */
  count = c_archive_read_count (ar);
  for (guint64 i = 0; i < count && c_archive_get_error (ar) == NULL; i++)
    {
      gint32 number = c_archive_read_long (ar);
      g_array_append_val (self->numbers, number);
    }
}

static void
fuzz_versioned_serializable_init (CSerializableInterface *iface)
{
  iface->serialize = fuzz_versioned_serialize;
}

static void
fuzz_versioned_finalize (GObject *object)
{
  FuzzVersioned *self = FUZZ_VERSIONED (object);

  g_free (self->text);
  g_array_unref (self->numbers);
  G_OBJECT_CLASS (fuzz_versioned_parent_class)->finalize (object);
}

static void
fuzz_versioned_class_init (FuzzVersionedClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fuzz_versioned_finalize;
}

static void
fuzz_versioned_init (FuzzVersioned *self)
{
  self->numbers = g_array_new (FALSE, FALSE, sizeof (gint32));
}

FuzzVersioned *
fuzz_versioned_new (gint32 value, const char *text)
{
  FuzzVersioned *self = g_object_new (FUZZ_TYPE_VERSIONED, NULL);

  self->value = value;
  self->text = g_strdup (text);
  for (gint32 i = 0; i < 3; i++)
    g_array_append_val (self->numbers, i);
  return self;
}

/* FBag */

struct _FuzzBag
{
  GObject parent_instance;
  gint number;
  gdouble real;
  char *text;
  CArchiveFormat format;
  char **strv;
  GBytes *bytes;
  GObject *other; /* weak */
};

enum
{
  BAG_PROP_0,
  BAG_PROP_NUMBER,
  BAG_PROP_REAL,
  BAG_PROP_TEXT,
  BAG_PROP_FORMAT,
  BAG_PROP_STRV,
  BAG_PROP_BYTES,
  BAG_PROP_OTHER,
  BAG_N_PROPS
};

G_DEFINE_FINAL_TYPE (FuzzBag, fuzz_bag, G_TYPE_OBJECT)

static void
fuzz_bag_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FuzzBag *self = FUZZ_BAG (object);

  switch (prop_id)
    {
      case BAG_PROP_NUMBER:
        g_value_set_int (value, self->number);
        break;
      case BAG_PROP_REAL:
        g_value_set_double (value, self->real);
        break;
      case BAG_PROP_TEXT:
        g_value_set_string (value, self->text);
        break;
      case BAG_PROP_FORMAT:
        g_value_set_enum (value, self->format);
        break;
      case BAG_PROP_STRV:
        g_value_set_boxed (value, self->strv);
        break;
      case BAG_PROP_BYTES:
        g_value_set_boxed (value, self->bytes);
        break;
      case BAG_PROP_OTHER:
        g_value_set_object (value, self->other);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fuzz_bag_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  FuzzBag *self = FUZZ_BAG (object);

  switch (prop_id)
    {
      case BAG_PROP_NUMBER:
        self->number = g_value_get_int (value);
        break;
      case BAG_PROP_REAL:
        self->real = g_value_get_double (value);
        break;
      case BAG_PROP_TEXT:
        g_free (self->text);
        self->text = g_value_dup_string (value);
        break;
      case BAG_PROP_FORMAT:
        self->format = g_value_get_enum (value);
        break;
      case BAG_PROP_STRV:
        g_strfreev (self->strv);
        self->strv = g_value_dup_boxed (value);
        break;
      case BAG_PROP_BYTES:
        g_clear_pointer (&self->bytes, g_bytes_unref);
        self->bytes = g_value_dup_boxed (value);
        break;
      case BAG_PROP_OTHER:
        g_set_weak_pointer (&self->other, g_value_get_object (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fuzz_bag_finalize (GObject *object)
{
  FuzzBag *self = FUZZ_BAG (object);

  g_free (self->text);
  g_strfreev (self->strv);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_weak_pointer (&self->other);
  G_OBJECT_CLASS (fuzz_bag_parent_class)->finalize (object);
}

static void
fuzz_bag_class_init (FuzzBagClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  GParamSpec *props[BAG_N_PROPS] = { NULL };

  object_class->get_property = fuzz_bag_get_property;
  object_class->set_property = fuzz_bag_set_property;
  object_class->finalize = fuzz_bag_finalize;
  props[BAG_PROP_NUMBER] = g_param_spec_int ("number", NULL, NULL, -1000, 1000, 0, rw);
  props[BAG_PROP_REAL] = g_param_spec_double ("real", NULL, NULL, -1e9, 1e9, 0, rw);
  props[BAG_PROP_TEXT] = g_param_spec_string ("text", NULL, NULL, NULL, rw);
  props[BAG_PROP_FORMAT] = g_param_spec_enum ("format", NULL, NULL, C_TYPE_ARCHIVE_FORMAT,
                                              C_ARCHIVE_FORMAT_NETWORK, rw);
  props[BAG_PROP_STRV] = g_param_spec_boxed ("strv", NULL, NULL, G_TYPE_STRV, rw);
  props[BAG_PROP_BYTES] = g_param_spec_boxed ("bytes", NULL, NULL, G_TYPE_BYTES, rw);
  props[BAG_PROP_OTHER] = g_param_spec_object ("other", NULL, NULL, G_TYPE_OBJECT, rw);
  g_object_class_install_properties (object_class, BAG_N_PROPS, props);
}

static void
fuzz_bag_init (FuzzBag *self)
{
}

void
fuzz_register_classes (void)
{
  c_archive_register_class_with_name (FUZZ_TYPE_NODE, "FNode", 1, C_ARCHIVE_CLASS_NONE);
  c_archive_register_class_with_name (FUZZ_TYPE_VERSIONED, "FVersioned", 3,
                                      C_ARCHIVE_CLASS_VERSIONABLE);
  c_archive_register_class_with_name (FUZZ_TYPE_BAG, "FBag", 1, C_ARCHIVE_CLASS_NONE);
}

/* The text options */

void
fuzz_set_text_options (CArchive *ar, gboolean wide_strings, guint code_page)
{
  static const char *const code_pages[] = { NULL, "CP949", "CP932", "CP1252" };
  g_autoptr (GError) error = NULL;

  c_archive_set_wide_strings (ar, wide_strings);
  if (!c_archive_set_code_page (ar, code_pages[code_page % G_N_ELEMENTS (code_pages)], &error))
    g_error ("fuzz: %s", error->message);
}

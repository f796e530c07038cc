/* c-archive.c: CArchive construction, state, limits and reloading (the sticky error and the
 * fast paths' switch: c-archive-errors.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <afxsock/c-enum-types.h>

#include "c-archive-private.h"

/**
 * CArchive:
 *
 * MFC's `CArchive`: a one-way serializer that stores values to, or loads them from,
 * memory or a GIO stream, in network byte order (the default) or in exactly the bytes
 * MFC writes (#C_ARCHIVE_FORMAT_MFC).
 *
 * ```c
 * static GBytes *
 * store_record (guint32 id, const char *name, GError **error)
 * {
 *   g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
 *
 *   c_archive_write_dword (ar, id);
 *   c_archive_write_cstring (ar, name);
 *   return c_archive_check (ar, error) ? c_archive_steal_bytes (ar) : NULL;
 * }
 *
 * static gboolean
 * load_record (GBytes *record, guint32 *id, char **name, GError **error)
 * {
 *   g_autoptr (CArchive) ar = c_archive_new_load_from_bytes (record, C_ARCHIVE_FORMAT_NETWORK);
 *
 *   *id = c_archive_read_dword (ar);
 *   *name = c_archive_read_cstring (ar);
 *   return c_archive_check (ar, error); // one check for the whole record
 * }
 * ```
 *
 * An archive is either loading or storing, never both; for a connection, use one of each.
 * Stream archives keep their own buffer (MFC's `nBufSize`): a storing archive writes the
 * buffer when it is full and on c_archive_flush(); a loading archive refills it with one
 * g_input_stream_read() at a time, asking for the free space and accepting short reads, and
 * reads again only while the field being decoded still lacks bytes. After a field, bytes
 * read ahead stay in the buffer: c_archive_is_buffer_empty() tells whether another record
 * is already there (MFC's `do { ar >> msg; } while (!ar.IsBufferEmpty ());`).
 *
 * Errors are sticky. The first failure (truncated data, a malformed value, a limit, an
 * I/O error) is kept; from then on every read returns a zero value (0, %FALSE, an empty
 * string, an empty #GBytes, %NULL for objects) and every write does nothing, so a caller
 * can read or write a whole record and check once with c_archive_check(). The error names
 * the field and the offset where it started, as in "reading DWORD at offset 12: end of
 * archive".
 *
 * A loading archive never allocates more than the bytes that actually arrived: a string
 * that claims 4 GiB with ten bytes behind it fails without allocating 4 GiB.
 */

enum
{
  PROP_0,
  PROP_FORMAT,
  PROP_LOADING,
  PROP_MAX_STRING_LENGTH,
  PROP_MAX_COUNT,
  PROP_MAX_DEPTH,
  PROP_MAX_OBJECTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const guint64 default_limits[C_ARCHIVE_N_LIMITS] = {
  [C_ARCHIVE_LIMIT_STRING_LENGTH] = 64 * 1024 * 1024,
  [C_ARCHIVE_LIMIT_COUNT] = 16 * 1024 * 1024,
  [C_ARCHIVE_LIMIT_DEPTH] = 64,
  [C_ARCHIVE_LIMIT_OBJECTS] = 1024 * 1024,
};

/**
 * c_archive_error_quark:
 *
 * The error domain of archive failures.
 *
 * Returns: the quark of #C_ARCHIVE_ERROR
 */
GQuark
c_archive_error_quark (void)
{
  return g_quark_from_static_string ("c-archive-error-quark");
}

G_DEFINE_FINAL_TYPE (CArchive, c_archive, G_TYPE_OBJECT)

gpointer c_archive_class_cache;

static void
c_archive_dispose (GObject *object)
{
  CArchive *self = C_ARCHIVE (object);

  /* Like MFC's destructor, dropping a storing stream archive that was not closed sends
   * what it holds; the error, if any, is lost, which is why c_archive_close() exists. */
  if (self->output != NULL && !self->closed)
    c_archive_close (self, NULL);
  c_archive_clear_objects (self);
  G_OBJECT_CLASS (c_archive_parent_class)->dispose (object);
}

static void
c_archive_finalize (GObject *object)
{
  CArchive *self = C_ARCHIVE (object);

  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);
  g_free (self->buffer);
  c_archive_clear_code_page (self);
  G_OBJECT_CLASS (c_archive_parent_class)->finalize (object);
}

static CArchiveLimit
limit_for_property (guint prop_id)
{
  return (CArchiveLimit) (prop_id - PROP_MAX_STRING_LENGTH);
}

static void
c_archive_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CArchive *self = C_ARCHIVE (object);

  switch (prop_id)
    {
      case PROP_FORMAT:
        g_value_set_enum (value, self->format);
        break;
      case PROP_LOADING:
        g_value_set_boolean (value, !self->storing);
        break;
      case PROP_MAX_STRING_LENGTH:
      case PROP_MAX_COUNT:
      case PROP_MAX_DEPTH:
      case PROP_MAX_OBJECTS:
        g_value_set_uint64 (value, self->limits[limit_for_property (prop_id)]);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
c_archive_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CArchive *self = C_ARCHIVE (object);

  switch (prop_id)
    {
      case PROP_MAX_STRING_LENGTH:
      case PROP_MAX_COUNT:
      case PROP_MAX_DEPTH:
      case PROP_MAX_OBJECTS:
        c_archive_set_limit (self, limit_for_property (prop_id), g_value_get_uint64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
limit_param (const char *name, const char *nick, CArchiveLimit limit)
{
  return g_param_spec_uint64 (name, nick, NULL, 0, G_MAXUINT64, default_limits[limit],
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
c_archive_class_init (CArchiveClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = c_archive_dispose;
  object_class->finalize = c_archive_finalize;
  object_class->get_property = c_archive_get_property;
  object_class->set_property = c_archive_set_property;
  c_archive_class_cache = klass;

  /**
   * CArchive:format:
   *
   * The byte layout, fixed at construction.
   */
  properties[PROP_FORMAT]
      = g_param_spec_enum ("format", "Format", NULL, C_TYPE_ARCHIVE_FORMAT,
                           C_ARCHIVE_FORMAT_NETWORK, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * CArchive:loading:
   *
   * %TRUE for a loading archive, %FALSE for a storing one.
   */
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", "Loading", NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * CArchive:max-string-length:
   *
   * #C_ARCHIVE_LIMIT_STRING_LENGTH: the longest string, line or byte block accepted.
   */
  properties[PROP_MAX_STRING_LENGTH]
      = limit_param ("max-string-length", "Max string length", C_ARCHIVE_LIMIT_STRING_LENGTH);
  /**
   * CArchive:max-count:
   *
   * #C_ARCHIVE_LIMIT_COUNT: the largest count c_archive_read_count() accepts.
   */
  properties[PROP_MAX_COUNT] = limit_param ("max-count", "Max count", C_ARCHIVE_LIMIT_COUNT);
  /**
   * CArchive:max-depth:
   *
   * #C_ARCHIVE_LIMIT_DEPTH: how deeply objects may nest.
   */
  properties[PROP_MAX_DEPTH] = limit_param ("max-depth", "Max depth", C_ARCHIVE_LIMIT_DEPTH);
  /**
   * CArchive:max-objects:
   *
   * #C_ARCHIVE_LIMIT_OBJECTS: how many classes and objects one archive may define.
   */
  properties[PROP_MAX_OBJECTS]
      = limit_param ("max-objects", "Max objects", C_ARCHIVE_LIMIT_OBJECTS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* CArchive:wide-strings and CArchive:code-page live with the text (c-archive-codepage.c). */
  c_archive_install_text_properties (object_class);
}

static void
c_archive_init (CArchive *self)
{
  memcpy (self->limits, default_limits, sizeof self->limits);
  self->mfc_version = C_ARCHIVE_MFC_VERSION_LATEST;
  self->object_schema = -1;
  c_archive_init_objects (self);
}

static CArchive *
archive_new (CArchiveFormat format, gboolean storing)
{
  CArchive *self = g_object_new (C_TYPE_ARCHIVE, NULL);

  self->format = format;
  self->storing = storing;
  c_archive_update_fast (self);
  return self;
}

static gsize
normalize_buffer_size (gsize buffer_size)
{
  if (buffer_size == 0)
    return C_ARCHIVE_DEFAULT_BUFFER_SIZE;
  return MAX (buffer_size, C_ARCHIVE_MIN_BUFFER_SIZE);
}

/**
 * c_archive_new_store_to_memory:
 * @format: the byte layout
 *
 * Creates an archive that stores into a growing memory buffer. Take the bytes with
 * c_archive_steal_bytes() (without copying) or c_archive_get_bytes().
 *
 * Returns: (transfer full): a new storing archive
 */
CArchive *
c_archive_new_store_to_memory (CArchiveFormat format)
{
  CArchive *self = archive_new (format, TRUE);

  /* The buffer comes with the first field. */
  self->memory = TRUE;
  return self;
}

/**
 * c_archive_new_load_from_bytes:
 * @bytes: the archive's contents, for example one whole record
 * @format: the byte layout
 *
 * Creates an archive that loads from @bytes, without copying them. To read many records,
 * create one archive and point it at each record in turn with c_archive_reload().
 *
 * Returns: (transfer full): a new loading archive
 */
CArchive *
c_archive_new_load_from_bytes (GBytes *bytes, CArchiveFormat format)
{
  CArchive *self;
  gsize length;

  g_return_val_if_fail (bytes != NULL, NULL);

  self = archive_new (format, FALSE);
  self->memory = TRUE;
  self->bytes = g_bytes_ref (bytes);
  self->data = g_bytes_get_data (bytes, &length);
  self->end = length;
  return self;
}

/**
 * c_archive_new_load_from_data:
 * @data: (array length=length) (element-type guint8) (nullable): the archive's contents
 * @length: the number of bytes at @data
 * @format: the byte layout
 *
 * Creates an archive that loads from a copy of @data.
 *
 * Returns: (transfer full): a new loading archive
 */
CArchive *
c_archive_new_load_from_data (const void *data, gsize length, CArchiveFormat format)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  bytes = g_bytes_new (data, length);
  return c_archive_new_load_from_bytes (bytes, format);
}

/**
 * c_archive_new_store_to_stream:
 * @stream: where the bytes go
 * @format: the byte layout
 * @buffer_size: the size of the archive's buffer, 0 for #C_ARCHIVE_DEFAULT_BUFFER_SIZE
 *
 * Creates an archive that stores to @stream through its own buffer. Nothing reaches the
 * stream before the buffer fills or c_archive_flush() or c_archive_close() is called.
 * Closing the archive does not close the stream.
 *
 * Returns: (transfer full): a new storing archive
 */
CArchive *
c_archive_new_store_to_stream (GOutputStream *stream, CArchiveFormat format, gsize buffer_size)
{
  CArchive *self;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), NULL);

  self = archive_new (format, TRUE);
  self->output = g_object_ref (stream);
  self->buffer_size = normalize_buffer_size (buffer_size);
  self->buffer = g_malloc (self->buffer_size);
  return self;
}

/**
 * c_archive_new_load_from_stream:
 * @stream: where the bytes come from
 * @format: the byte layout
 * @buffer_size: the size of the archive's buffer, 0 for #C_ARCHIVE_DEFAULT_BUFFER_SIZE
 *
 * Creates an archive that loads from @stream through its own buffer. Each refill is one
 * g_input_stream_read() asking for at most the free space of the buffer. Closing the
 * archive does not close the stream.
 *
 * Returns: (transfer full): a new loading archive
 */
CArchive *
c_archive_new_load_from_stream (GInputStream *stream, CArchiveFormat format, gsize buffer_size)
{
  CArchive *self;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);

  self = archive_new (format, FALSE);
  self->input = g_object_ref (stream);
  self->buffer_size = normalize_buffer_size (buffer_size);
  self->buffer = g_malloc (self->buffer_size);
  self->data = self->buffer;
  return self;
}

/**
 * c_archive_get_format:
 * @self: an archive
 *
 * Tells the byte layout the archive reads or writes.
 *
 * Returns: the archive's byte layout
 */
CArchiveFormat
c_archive_get_format (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), C_ARCHIVE_FORMAT_NETWORK);
  return self->format;
}

/**
 * c_archive_is_loading:
 * @self: an archive
 *
 * Tells whether the archive reads (MFC's `IsLoading`).
 *
 * Returns: %TRUE if the archive loads (MFC's `IsLoading`)
 */
gboolean
c_archive_is_loading (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);
  return !self->storing;
}

/**
 * c_archive_is_storing:
 * @self: an archive
 *
 * Tells whether the archive writes (MFC's `IsStoring`).
 *
 * Returns: %TRUE if the archive stores (MFC's `IsStoring`)
 */
gboolean
c_archive_is_storing (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);
  return self->storing;
}

/**
 * c_archive_is_buffer_empty:
 * @self: an archive
 *
 * For a loading archive, whether every byte the archive holds has been read: %FALSE
 * means a stream archive already read (part of) the next record ahead and the caller
 * should decode it before waiting for more input. For a storing archive, whether nothing
 * waits to be flushed (memory archives: nothing stored since the last
 * c_archive_steal_bytes()).
 *
 * Returns: %TRUE if no unread (or unflushed) bytes remain in the buffer
 */
gboolean
c_archive_is_buffer_empty (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), TRUE);

  if (self->storing)
    return self->end == 0;
  return self->cur == self->end;
}

guint64
c_archive_position (CArchive *self)
{
  return self->base + (self->storing ? self->end : self->cur);
}

/**
 * c_archive_get_position:
 * @self: an archive
 *
 * The number of bytes read or written so far: the offset the next field starts at.
 *
 * Returns: the archive's offset
 */
guint64
c_archive_get_position (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);
  return c_archive_position (self);
}

/**
 * c_archive_set_cancellable:
 * @self: a stream archive
 * @cancellable: (nullable): what cancels the archive's stream operations
 *
 * Sets the #GCancellable passed to every read, write and flush of the stream. A cancelled
 * operation becomes the archive's sticky error (`G_IO_ERROR_CANCELLED`).
 */
void
c_archive_set_cancellable (CArchive *self, GCancellable *cancellable)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  g_set_object (&self->cancellable, cancellable);
}

static guint
property_for_limit (CArchiveLimit limit)
{
  return PROP_MAX_STRING_LENGTH + limit;
}

/**
 * c_archive_set_limit:
 * @self: an archive
 * @limit: which limit
 * @value: its new value
 *
 * Changes one of the limits that protect a loading archive (see #CArchiveLimit for the
 * defaults). The matching property (#CArchive:max-string-length, ...) changes with it.
 */
void
c_archive_set_limit (CArchive *self, CArchiveLimit limit, guint64 value)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail ((guint) limit < C_ARCHIVE_N_LIMITS);

  if (self->limits[limit] == value)
    return;
  self->limits[limit] = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[property_for_limit (limit)]);
}

/**
 * c_archive_get_limit:
 * @self: an archive
 * @limit: which limit
 *
 * Reads one of the archive's loading limits.
 *
 * Returns: the limit's current value
 */
guint64
c_archive_get_limit (CArchive *self, CArchiveLimit limit)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);
  g_return_val_if_fail ((guint) limit < C_ARCHIVE_N_LIMITS, 0);
  return self->limits[limit];
}

/**
 * c_archive_set_mfc_version:
 * @self: an archive
 * @version: the peer's MFC version as its `_MFC_VER`: %C_ARCHIVE_MFC_VERSION_6 (0x0600),
 *   %C_ARCHIVE_MFC_VERSION_7_0 (0x0700), %C_ARCHIVE_MFC_VERSION_7_1 (0x0710),
 *   %C_ARCHIVE_MFC_VERSION_8_0 (0x0800), %C_ARCHIVE_MFC_VERSION_9_0 (0x0900) or later
 *
 * Names the MFC version of the peer, for the few fields whose bytes changed between MFC
 * versions (the MFC format only; the table is in `docs/wire-format.md` §13.3): MFC 6 writes
 * a C++ `bool` as an `int` (4 bytes) where later versions write 1 byte; before MFC 8.0 a
 * `CTime` is a 32-bit `time_t`, from 8.0 on a mark and 64 bits; `COleDateTime`'s `error`
 * status exists from MFC 7.0 on. The default is %C_ARCHIVE_MFC_VERSION_LATEST, which
 * reads and writes what every MFC since 8.0 does. Set it before the first field.
 */
void
c_archive_set_mfc_version (CArchive *self, guint version)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (version >= C_ARCHIVE_MFC_VERSION_6);

  self->mfc_version = version;
  c_archive_update_fast (self);
}

/**
 * c_archive_get_mfc_version:
 * @self: an archive
 *
 * The peer's MFC version that c_archive_set_mfc_version() set.
 *
 * Returns: an `_MFC_VER` value
 */
guint
c_archive_get_mfc_version (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);
  return self->mfc_version;
}

/* What c_archive_reload() and c_archive_reload_data() share: @bytes (may be NULL) holds
 * @data, which is what the archive reads from now on. */
static void
reload (CArchive *self, GBytes *bytes, const guint8 *data, gsize length)
{
  GBytes *old = self->bytes;

  self->bytes = bytes != NULL ? g_bytes_ref (bytes) : NULL;
  if (old != NULL)
    g_bytes_unref (old);
  self->data = data;
  self->cur = 0;
  self->end = length;
  self->base = 0;
  self->closed = FALSE;
  if (G_UNLIKELY (self->error != NULL))
    g_clear_error (&self->error);
  self->field = NULL;
  self->field_offset = 0;
  self->field_writing = FALSE;
  self->object_schema = -1;
  self->next_id = 1;
  if (G_UNLIKELY (self->loaded != NULL))
    c_archive_reset_objects (self);
  c_archive_update_fast (self);
}

/**
 * c_archive_reload:
 * @self: an archive made by c_archive_new_load_from_bytes() or
 *   c_archive_new_load_from_data()
 * @bytes: the next record
 *
 * Points a loading memory archive at new contents, as if it had just been created over
 * @bytes with the same format and limits: the previous bytes are released, the position
 * starts at 0, the sticky error is cleared, the archive is open again if it was closed, and
 * the table of classes and objects read so far is emptied, so that a back-reference in
 * @bytes can only name what @bytes itself defines. Nothing of the previous contents
 * survives but the format, the limits and the cancellable.
 *
 * This is the way to read many records: keep one loading archive (for example in the
 * handler that receives the records) and reload it with each record, rather than creating
 * an archive per record. @bytes is not copied.
 *
 * Do not call it from inside a serialize function of an object the archive is reading.
 */
void
c_archive_reload (CArchive *self, GBytes *bytes)
{
  gconstpointer data;
  gsize length;

  if (!c_archive_is_archive (self) || bytes == NULL || !self->memory || self->storing
      || self->depth > 0)
    {
      g_return_if_fail (C_IS_ARCHIVE (self));
      g_return_if_fail (bytes != NULL);
      g_return_if_fail (self->memory && !self->storing);
      g_return_if_fail (self->depth == 0);
    }
  data = g_bytes_get_data (bytes, &length);
  reload (self, bytes, data, length);
}

/**
 * c_archive_reload_data: (skip)
 * @self: an archive made by c_archive_new_load_from_bytes() or
 *   c_archive_new_load_from_data()
 * @data: (array length=length): the next record, borrowed
 * @length: the number of bytes at @data
 *
 * Like c_archive_reload(), but reads @data in place, without a #GBytes and without
 * copying: @data must stay valid and unchanged until the archive is reloaded again or
 * finalized (as with XDR's `xdrmem_create`). For records the application holds in its own
 * memory, a datagram received into a buffer on the stack, or what a storing archive holds
 * (c_archive_get_data()). Decoding is as careful as from any other archive: nothing is
 * read beyond @length.
 */
void
c_archive_reload_data (CArchive *self, const void *data, gsize length)
{
  if (!c_archive_is_archive (self) || (data == NULL && length > 0) || !self->memory || self->storing
      || self->depth > 0)
    {
      g_return_if_fail (C_IS_ARCHIVE (self));
      g_return_if_fail (data != NULL || length == 0);
      g_return_if_fail (self->memory && !self->storing);
      g_return_if_fail (self->depth == 0);
    }
  reload (self, NULL, data, length);
}

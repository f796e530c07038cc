/* c-archive-private.h: CArchive internals shared by the archive's source files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock/c-archive.h>
#include <afxsock/c-serializable.h>

G_BEGIN_DECLS

#define C_ARCHIVE_N_LIMITS (C_ARCHIVE_LIMIT_OBJECTS + 1)

/* The smallest buffer a stream archive uses: every fixed-size field (8 bytes at most)
 * must fit, and tiny buffers only multiply system calls. */
#define C_ARCHIVE_MIN_BUFFER_SIZE 64

/* The largest object or class id a tag can carry: the high bit of a big tag marks
 * classes (TN002). */
#define C_ARCHIVE_MAX_ID 0x7FFFFFFEu

/* The longest class name the archive reads or writes. MFC itself reads at most 63
 * characters; longer names are for afxsock peers only. */
#define C_ARCHIVE_MAX_CLASS_NAME 255

/* A registered class: what c_archive_register_class() recorded. Immutable once
 * registered, so archives may keep pointers to it without locking. */
typedef struct
{
  GType type;
  char *name;
  guint16 schema;
  gboolean versionable;
} CArchiveClassInfo;

/* One id of a loading archive: a class (object == NULL) or an object. */
typedef struct
{
  const CArchiveClassInfo *klass;
  GObject *object;
  guint16 schema;
} CArchiveLoadEntry;

struct _CArchive
{
  GObject parent_instance;

  CArchiveFormat format;
  gboolean storing;
  gboolean closed;

  /* Loading reads data[cur, end); a stream archive refills it from input. Storing to a
   * stream appends to buffer[0, end) and writes it out when full. base is the archive
   * offset of data[0], so that errors can name absolute offsets. */
  const guint8 *data;
  gsize cur;
  gsize end;
  guint64 base;

  GBytes *bytes;
  GInputStream *input;
  GOutputStream *output;
  guint8 *buffer;
  gsize buffer_size;
  GByteArray *array;
  GCancellable *cancellable;

  /* The sticky error and the field being decoded when it happened. */
  GError *error;
  const char *field;
  guint64 field_offset;
  gboolean field_writing;

  guint64 limits[C_ARCHIVE_N_LIMITS];

  /* Object graph state: ids are shared by classes and objects and start at 1. */
  GHashTable *stored_objects; /* GObject* (ref held) -> id */
  GHashTable *stored_classes; /* GType -> id */
  GArray *loaded;             /* CArchiveLoadEntry, index = id, [0] = NULL */
  guint32 next_id;
  guint depth;
  gint object_schema;
};

/* c-archive.c: fields and errors; c-archive-io.c: the buffer */
guint64 c_archive_position (CArchive *self);
gboolean c_archive_begin_field (CArchive *self, const char *field, gboolean writing);
void c_archive_set_error (CArchive *self, GError *error);
void c_archive_fail (CArchive *self, CArchiveError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
gboolean c_archive_take (CArchive *self, void *dest, gsize length);
gboolean c_archive_take_into (CArchive *self, gsize length, GByteArray *dest);
void c_archive_put (CArchive *self, const void *src, gsize length);
gboolean c_archive_refill (CArchive *self);

/* c-archive-types.c: fixed-width integers in the archive's byte order */
guint64 c_archive_take_uint (CArchive *self, guint width);
void c_archive_put_uint (CArchive *self, guint64 value, guint width);

/* c-archive-string.c: length prefixes */
gboolean c_archive_take_length (CArchive *self, guint64 *length, gboolean *wide);
void c_archive_put_length (CArchive *self, guint64 length, gboolean wide);
gboolean c_archive_check_length (CArchive *self, guint64 length, const char *what);

/* c-archive-registry.c */
const CArchiveClassInfo *c_archive_lookup_class_by_type (GType type);
const CArchiveClassInfo *c_archive_lookup_class_by_name (const char *name);

/* c-archive-object.c */
void c_archive_init_objects (CArchive *self);
void c_archive_clear_objects (CArchive *self);

/* c-archive-properties.c */
void c_archive_store_properties (CArchive *self, GObject *object);
void c_archive_load_properties (CArchive *self, GObject *object);

G_END_DECLS

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

/* The most a storing memory archive allocates ahead for the next record after
 * c_archive_steal_bytes(): records up to this size usually need no reallocation, and one
 * huge record does not stay allocated until the next. */
#define C_ARCHIVE_MAX_KEPT_BUFFER (64 * 1024)

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

/* What the public fixed-size reads and writes may do without c_archive_begin_field(): see
 * c_archive_update_fast(). */
typedef enum
{
  C_ARCHIVE_FAST_NONE = 0,
  C_ARCHIVE_FAST_LOAD = 1,
  C_ARCHIVE_FAST_STORE = 2,
  /* Added to either for the MFC format, so that one comparison tells direction and byte
   * order. */
  C_ARCHIVE_FAST_MFC = 4
} CArchiveFast;

struct _CArchive
{
  GObject parent_instance;

  /* C_ARCHIVE_FAST_LOAD: a loading archive with no error, not closed, may take the bytes
   * of a field straight from data[cur, end) when they are all there; C_ARCHIVE_FAST_STORE:
   * a storing archive may append to buffer[end, buffer_size); C_ARCHIVE_FAST_MFC is added
   * for the MFC format. Anything else, and a field that does not fit, takes the general
   * path, which names the field for errors. A field that succeeds leaves no trace but its
   * bytes: no error can follow it without a c_archive_begin_field() of its own (property
   * loading, whose errors come after the value, closes the fast paths: slow_fields). */
  guint8 fast;
  CArchiveFormat format;
  gboolean storing;
  gboolean closed;
  /* A memory archive: loading from bytes, or storing into buffer, which it owns. */
  gboolean memory;
  /* While non-zero, every field goes through c_archive_begin_field() (property loading,
   * whose errors name the last field read). */
  guint slow_fields;

  /* Loading reads data[cur, end); a stream archive refills it from input. Storing appends
   * to buffer[0, end): a stream archive writes it out when full, a memory archive grows
   * it (buffer_size is then its capacity). base is the archive offset of data[0] (of
   * buffer[0] when storing), so that errors can name absolute offsets. */
  const guint8 *data;
  gsize cur;
  gsize end;
  guint64 base;

  GBytes *bytes;
  GInputStream *input;
  GOutputStream *output;
  guint8 *buffer;
  gsize buffer_size;
  GCancellable *cancellable;

  /* The sticky error and the field being decoded when it happened. */
  GError *error;
  const char *field;
  guint64 field_offset;
  gboolean field_writing;

  guint64 limits[C_ARCHIVE_N_LIMITS];

  /* The peer's _MFC_VER, for the MFC format's fields whose bytes changed between
   * versions (c-archive-time.c, C++ bool): C_ARCHIVE_MFC_VERSION_LATEST unless set. */
  guint mfc_version;
  /* The MFC format's text (c-archive-codepage.c): every string and line wide, as a Unicode
   * build writes them; the code page of an ANSI peer (NULL: ASCII narrow, UTF-8 read). */
  gboolean wide_strings;
  struct _CArchiveCodePage *code_page;
  /* What the direct path of c_archive_write_cstring() writes as a one-byte narrow MFC
   * string: lengths below 0xFF, below 0 with wide_strings (one comparison for both). */
  gsize mfc_narrow_below;

  /* Object graph state: ids are shared by classes and objects and start at 1. */
  GHashTable *stored_objects; /* GObject* (ref held) -> id */
  GHashTable *stored_classes; /* GType -> id */
  GArray *loaded;             /* CArchiveLoadEntry, index = id, [0] = NULL */
  guint32 next_id;
  guint depth;
  gint object_schema;
};

/* The class of every archive (the type is final), for a type check without a call:
 * set by class_init, before any archive exists. */
G_GNUC_INTERNAL extern gpointer c_archive_class_cache;

/* What C_IS_ARCHIVE() says for archives, in two comparisons. Anything else (NULL, another
 * type) is FALSE here: the caller then goes to its g_return_if_fail (C_IS_ARCHIVE ()). */
static inline gboolean
c_archive_is_archive (CArchive *self)
{
  return G_LIKELY (self != NULL
                   && ((GTypeInstance *) self)->g_class == (GTypeClass *) c_archive_class_cache);
}

/* Whether length bytes of a field can be read straight from data[cur, end). */
static inline gboolean
c_archive_can_load (CArchive *self, gsize length)
{
  return G_LIKELY (c_archive_is_archive (self)
                   && (self->fast & ~C_ARCHIVE_FAST_MFC) == C_ARCHIVE_FAST_LOAD
                   && self->end - self->cur >= length);
}

/* Whether length bytes of a field can be appended straight to buffer[end, buffer_size). */
static inline gboolean
c_archive_can_store (CArchive *self, gsize length)
{
  return G_LIKELY (c_archive_is_archive (self)
                   && (self->fast & ~C_ARCHIVE_FAST_MFC) == C_ARCHIVE_FAST_STORE
                   && self->buffer_size - self->end >= length);
}

/* c-archive.c: fields and errors; c-archive-io.c: the buffer */
void c_archive_update_fast (CArchive *self);
gboolean c_archive_check_self (CArchive *self, const char *function);
guint64 c_archive_position (CArchive *self);
gboolean c_archive_begin_field (CArchive *self, const char *field, gboolean writing);
void c_archive_set_error (CArchive *self, GError *error);
void c_archive_fail (CArchive *self, CArchiveError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
/* Replaces the archive's error with a new one about the same field (a better explanation
 * found after the fact: c-archive-mixup.c). */
void c_archive_replace_error (CArchive *self, CArchiveError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
/* c-archive-mixup.c: after a failed c_archive_read_cstring() (the length field read, and
 * the part of the string read or NULL), and after a line that is not text: when the bytes
 * look like the other kind, say so in the error. */
void c_archive_explain_cstring_failure (CArchive *self, guint64 length, gboolean wide,
                                        const GByteArray *body);
void c_archive_explain_line_failure (CArchive *self, const guint8 *line, gsize n);
gboolean c_archive_take (CArchive *self, void *dest, gsize length);
gboolean c_archive_take_into (CArchive *self, gsize length, GByteArray *dest);
void c_archive_put (CArchive *self, const void *src, gsize length);
gboolean c_archive_refill (CArchive *self);

/* c-archive-types.c: fixed-width integers in the archive's byte order */
guint64 c_archive_take_uint (CArchive *self, guint width);
void c_archive_put_uint (CArchive *self, guint64 value, guint width);

/* c-archive-string.c: length prefixes */

/* Whether the MFC format writes C++ bool as MFC 6 does: an int (4 bytes), MFC 6 having no
 * bool operator. The fast paths are closed then (c_archive_update_fast()). */
static inline gboolean
c_archive_bool_is_int (CArchive *self)
{
  return self->format == C_ARCHIVE_FORMAT_MFC && self->mfc_version < C_ARCHIVE_MFC_VERSION_7_0;
}

/* c-archive-registry.c */
const CArchiveClassInfo *c_archive_lookup_class_by_type (GType type);
const CArchiveClassInfo *c_archive_lookup_class_by_name (const char *name);

/* c-archive-object.c */
void c_archive_init_objects (CArchive *self);
void c_archive_clear_objects (CArchive *self);
void c_archive_reset_objects (CArchive *self);

/* c-archive-properties.c */

/* c-archive-string.c and c-archive-codepage.c: the MFC format's text. */
typedef struct _CArchiveCodePage CArchiveCodePage;
/* MFC's escape from a one-byte string length (c-archive-string.c). */
#define C_ARCHIVE_MFC_LENGTH_WORD 0xFF
void c_archive_put_mfc_length (CArchive *self, guint64 length, gboolean wide);
void c_archive_write_cstring_general (CArchive *self, const char *text, gsize length,
                                      gboolean nul_allowed);
char *c_archive_read_cstring_general (CArchive *self, gboolean nul_allowed, gsize *length);
void c_archive_install_text_properties (GObjectClass *object_class);
void c_archive_clear_code_page (CArchive *self);
gboolean c_archive_utf8_valid (const char *text, gsize length, gboolean nul_allowed, gsize *bad);
void c_archive_put_mfc_text (CArchive *self, const char *text, gsize length);
gboolean c_archive_put_mfc_line (CArchive *self, const char *text, gsize length);
char *c_archive_decode_narrow (CArchive *self, const guint8 *raw, gsize n, gboolean nul_allowed,
                               const char *what, guint64 offset, gsize *length);
char *c_archive_decode_wide (CArchive *self, const guint8 *raw, gsize n_units, gboolean nul_allowed,
                             const char *what, guint64 offset, gsize *length);
char *c_archive_read_wide_line (CArchive *self);

G_END_DECLS

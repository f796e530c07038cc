/* c-archive.h: CArchive, the serializer (MFC's CArchive in network or MFC byte order)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <afxsock/c-version.h>
#include <afxsock/c-types.h>

G_BEGIN_DECLS

/**
 * CArchiveFormat:
 * @C_ARCHIVE_FORMAT_NETWORK: big-endian integers and floats, 32-bit length prefixes and
 *   UTF-8 strings: any peer can decode it with `ntohl` (the default)
 * @C_ARCHIVE_FORMAT_MFC: exactly the bytes MFC's `CArchive` writes: little-endian, MFC's
 *   string and count escapes, TN002 object tags
 *
 * The byte layout of an archive. `docs/wire-format.md` specifies both.
 */
typedef enum
{
  C_ARCHIVE_FORMAT_NETWORK = 0,
  C_ARCHIVE_FORMAT_MFC = 1
} CArchiveFormat;

/**
 * C_ARCHIVE_ERROR:
 *
 * The error domain of archive failures that are not I/O errors: truncated or malformed
 * data, objects of unknown classes, limits. Errors of the underlying stream keep GIO's
 * `G_IO_ERROR` domain, with the field and offset prefixed to their message.
 */
#define C_ARCHIVE_ERROR (c_archive_error_quark ())

/**
 * CArchiveError:
 * @C_ARCHIVE_ERROR_GENERIC: any other failure (for example, use of a closed archive)
 * @C_ARCHIVE_ERROR_READ_ONLY: a write on an archive opened for loading
 * @C_ARCHIVE_ERROR_END_OF_FILE: the archive ended inside a field
 * @C_ARCHIVE_ERROR_WRITE_ONLY: a read on an archive opened for storing
 * @C_ARCHIVE_ERROR_BAD_INDEX: an object or class tag names an id that is not defined (yet),
 *   or the wrong kind of id
 * @C_ARCHIVE_ERROR_BAD_CLASS: an unknown or unregistered class, or an object of the wrong
 *   type
 * @C_ARCHIVE_ERROR_BAD_SCHEMA: the stored schema differs from the registered one and the
 *   class is not versionable
 * @C_ARCHIVE_ERROR_LIMIT_EXCEEDED: a length, count, depth or object number above the
 *   archive's limit (see #CArchiveLimit)
 * @C_ARCHIVE_ERROR_BAD_DATA: a value that cannot be decoded: invalid UTF-8 or UTF-16, a
 *   NUL inside a string, a bool that is neither 0 nor 1 in network format, a property value
 *   out of range
 *
 * Error codes of #C_ARCHIVE_ERROR. The first seven have the values of MFC's
 * `CArchiveException::m_cause`.
 */
typedef enum
{
  C_ARCHIVE_ERROR_GENERIC = 1,
  C_ARCHIVE_ERROR_READ_ONLY = 2,
  C_ARCHIVE_ERROR_END_OF_FILE = 3,
  C_ARCHIVE_ERROR_WRITE_ONLY = 4,
  C_ARCHIVE_ERROR_BAD_INDEX = 5,
  C_ARCHIVE_ERROR_BAD_CLASS = 6,
  C_ARCHIVE_ERROR_BAD_SCHEMA = 7,
  C_ARCHIVE_ERROR_LIMIT_EXCEEDED = 10,
  C_ARCHIVE_ERROR_BAD_DATA = 11
} CArchiveError;

AFXSOCK_AVAILABLE_IN_ALL
GQuark c_archive_error_quark (void);

/**
 * CArchiveLimit:
 * @C_ARCHIVE_LIMIT_STRING_LENGTH: the longest string, line or byte block, in bytes on the
 *   wire (default 64 MiB)
 * @C_ARCHIVE_LIMIT_COUNT: the largest value c_archive_read_count() accepts (default 16 Mi)
 * @C_ARCHIVE_LIMIT_DEPTH: how deeply objects may nest inside objects (default 64)
 * @C_ARCHIVE_LIMIT_OBJECTS: how many classes and objects one archive may define (default
 *   1 Mi)
 *
 * The limits that protect a loading archive from hostile input. Each has a default that
 * c_archive_set_limit() changes. The depth limit also applies when storing, so that a
 * writer cannot produce what its own reader refuses or overflow the stack.
 */
typedef enum
{
  C_ARCHIVE_LIMIT_STRING_LENGTH,
  C_ARCHIVE_LIMIT_COUNT,
  C_ARCHIVE_LIMIT_DEPTH,
  C_ARCHIVE_LIMIT_OBJECTS
} CArchiveLimit;

/**
 * CArchiveClassFlags:
 * @C_ARCHIVE_CLASS_NONE: the stored schema must equal the registered one
 * @C_ARCHIVE_CLASS_VERSIONABLE: objects stored with another schema load too; their
 *   serialize function asks c_archive_get_object_schema() which one it is reading (MFC's
 *   `VERSIONABLE_SCHEMA`)
 *
 * Options of c_archive_register_class().
 */
typedef enum /*< flags >*/
{
  C_ARCHIVE_CLASS_NONE = 0,
  C_ARCHIVE_CLASS_VERSIONABLE = 1 << 0
} CArchiveClassFlags;

/**
 * C_ARCHIVE_DEFAULT_BUFFER_SIZE:
 *
 * The size of a stream archive's own buffer when the constructor is given 0 (MFC's
 * default, 4096 bytes).
 */
#define C_ARCHIVE_DEFAULT_BUFFER_SIZE 4096

/**
 * C_ARCHIVE_MFC_VERSION_6:
 *
 * MFC 4.2 to 6.0 (Visual C++ 4.2 to 6.0), `_MFC_VER` 0x0600.
 */
#define C_ARCHIVE_MFC_VERSION_6 0x0600
/**
 * C_ARCHIVE_MFC_VERSION_7_0:
 *
 * MFC 7.0 (Visual Studio .NET 2002), `_MFC_VER` 0x0700.
 */
#define C_ARCHIVE_MFC_VERSION_7_0 0x0700
/**
 * C_ARCHIVE_MFC_VERSION_7_1:
 *
 * MFC 7.1 (Visual Studio .NET 2003), `_MFC_VER` 0x0710.
 */
#define C_ARCHIVE_MFC_VERSION_7_1 0x0710
/**
 * C_ARCHIVE_MFC_VERSION_8_0:
 *
 * MFC 8.0 (Visual Studio 2005), `_MFC_VER` 0x0800.
 */
#define C_ARCHIVE_MFC_VERSION_8_0 0x0800
/**
 * C_ARCHIVE_MFC_VERSION_9_0:
 *
 * MFC 9.0 (Visual Studio 2008), `_MFC_VER` 0x0900.
 */
#define C_ARCHIVE_MFC_VERSION_9_0 0x0900
/**
 * C_ARCHIVE_MFC_VERSION_LATEST:
 *
 * MFC 14 (Visual Studio 2015 and later), `_MFC_VER` 0x0E00: the default.
 */
#define C_ARCHIVE_MFC_VERSION_LATEST 0x0E00

/**
 * CArchiveOleStatus:
 * @C_ARCHIVE_OLE_ERROR: `COleDateTime::error` (MFC 7.0 and later, dates only)
 * @C_ARCHIVE_OLE_VALID: a value
 * @C_ARCHIVE_OLE_INVALID: `invalid`: the value is meaningless
 * @C_ARCHIVE_OLE_NULL: `null`: no value
 *
 * The status that MFC's `COleDateTime`, `COleDateTimeSpan` and `COleCurrency` carry
 * with their value, with MFC's numbers.
 */
typedef enum
{
  C_ARCHIVE_OLE_ERROR = -1,
  C_ARCHIVE_OLE_VALID = 0,
  C_ARCHIVE_OLE_INVALID = 1,
  C_ARCHIVE_OLE_NULL = 2
} CArchiveOleStatus;

#define C_TYPE_ARCHIVE (c_archive_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CArchive, c_archive, C, ARCHIVE, GObject)

/* Construction */
AFXSOCK_AVAILABLE_IN_ALL
CArchive *c_archive_new_store_to_memory (CArchiveFormat format);
AFXSOCK_AVAILABLE_IN_ALL
CArchive *c_archive_new_load_from_bytes (GBytes *bytes, CArchiveFormat format);
AFXSOCK_AVAILABLE_IN_ALL
CArchive *c_archive_new_load_from_data (const void *data, gsize length, CArchiveFormat format);
AFXSOCK_AVAILABLE_IN_ALL
CArchive *c_archive_new_store_to_stream (GOutputStream *stream, CArchiveFormat format,
                                         gsize buffer_size);
AFXSOCK_AVAILABLE_IN_ALL
CArchive *c_archive_new_load_from_stream (GInputStream *stream, CArchiveFormat format,
                                          gsize buffer_size);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_reload (CArchive *self, GBytes *bytes);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_reload_data (CArchive *self, const void *data, gsize length);

/* State */
AFXSOCK_AVAILABLE_IN_ALL
CArchiveFormat c_archive_get_format (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_is_loading (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_is_storing (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_is_buffer_empty (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
guint64 c_archive_get_position (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_set_cancellable (CArchive *self, GCancellable *cancellable);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_set_limit (CArchive *self, CArchiveLimit limit, guint64 value);
AFXSOCK_AVAILABLE_IN_ALL
guint64 c_archive_get_limit (CArchive *self, CArchiveLimit limit);

AFXSOCK_AVAILABLE_IN_ALL
void c_archive_set_mfc_version (CArchive *self, guint version);
AFXSOCK_AVAILABLE_IN_ALL
guint c_archive_get_mfc_version (CArchive *self);

/* Errors */
AFXSOCK_AVAILABLE_IN_ALL
const GError *c_archive_get_error (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_check (CArchive *self, GError **error);

/* Ending */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_flush (CArchive *self, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_close (CArchive *self, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_abort (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_archive_steal_bytes (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_archive_get_bytes (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
const guint8 *c_archive_get_data (CArchive *self, gsize *length);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_clear_bytes (CArchive *self);

/* Raw bytes and lines */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write (CArchive *self, const void *data, gsize length);
AFXSOCK_AVAILABLE_IN_ALL
gsize c_archive_read (CArchive *self, void *buffer, gsize length);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_archive_read_raw (CArchive *self, gsize length);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_string (CArchive *self, const char *text);
AFXSOCK_AVAILABLE_IN_ALL
char *c_archive_read_string (CArchive *self);

/* Numbers */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_byte (CArchive *self, guint8 value);
AFXSOCK_AVAILABLE_IN_ALL
guint8 c_archive_read_byte (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_word (CArchive *self, guint16 value);
AFXSOCK_AVAILABLE_IN_ALL
guint16 c_archive_read_word (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_long (CArchive *self, gint32 value);
AFXSOCK_AVAILABLE_IN_ALL
gint32 c_archive_read_long (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_dword (CArchive *self, guint32 value);
AFXSOCK_AVAILABLE_IN_ALL
guint32 c_archive_read_dword (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_int (CArchive *self, gint value);
AFXSOCK_AVAILABLE_IN_ALL
gint c_archive_read_int (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_uint (CArchive *self, guint value);
AFXSOCK_AVAILABLE_IN_ALL
guint c_archive_read_uint (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_short (CArchive *self, gint16 value);
AFXSOCK_AVAILABLE_IN_ALL
gint16 c_archive_read_short (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_char (CArchive *self, gchar value);
AFXSOCK_AVAILABLE_IN_ALL
gchar c_archive_read_char (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_wchar (CArchive *self, gunichar2 value);
AFXSOCK_AVAILABLE_IN_ALL
gunichar2 c_archive_read_wchar (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_bool (CArchive *self, gboolean value);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_read_bool (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_float (CArchive *self, gfloat value);
AFXSOCK_AVAILABLE_IN_ALL
gfloat c_archive_read_float (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_double (CArchive *self, gdouble value);
AFXSOCK_AVAILABLE_IN_ALL
gdouble c_archive_read_double (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_int64 (CArchive *self, gint64 value);
AFXSOCK_AVAILABLE_IN_ALL
gint64 c_archive_read_int64 (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_uint64 (CArchive *self, guint64 value);
AFXSOCK_AVAILABLE_IN_ALL
guint64 c_archive_read_uint64 (CArchive *self);

/* Strings, byte blocks, counts */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_cstring (CArchive *self, const char *text);
AFXSOCK_AVAILABLE_IN_ALL
char *c_archive_read_cstring (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
gsize c_archive_read_cstring_into (CArchive *self, char *buffer, gsize size);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_bytes (CArchive *self, GBytes *bytes);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_data (CArchive *self, const void *data, gsize length);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_archive_read_bytes (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_count (CArchive *self, guint64 count);
AFXSOCK_AVAILABLE_IN_ALL
guint64 c_archive_read_count (CArchive *self);

/* MFC's collections (c-archive-collections.c, c-archive-maps.c; docs/wire-format.md §12) */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_strv (CArchive *self, const char *const *strv);
AFXSOCK_AVAILABLE_IN_ALL
char **c_archive_read_strv (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_words (CArchive *self, const guint16 *values, gsize n);
AFXSOCK_AVAILABLE_IN_ALL
GArray *c_archive_read_words (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_dwords (CArchive *self, const guint32 *values, gsize n);
AFXSOCK_AVAILABLE_IN_ALL
GArray *c_archive_read_dwords (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_objects (CArchive *self, GPtrArray *objects);
AFXSOCK_AVAILABLE_IN_ALL
GPtrArray *c_archive_read_objects (CArchive *self, GType expected_type);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_string_map (CArchive *self, GHashTable *map);
AFXSOCK_AVAILABLE_IN_ALL
GHashTable *c_archive_read_string_map (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_string_object_map (CArchive *self, GHashTable *map);
AFXSOCK_AVAILABLE_IN_ALL
GHashTable *c_archive_read_string_object_map (CArchive *self, GType expected_type);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_word_object_map (CArchive *self, GHashTable *map);
AFXSOCK_AVAILABLE_IN_ALL
GHashTable *c_archive_read_word_object_map (CArchive *self, GType expected_type);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_elements (CArchive *self, GArray *elements);
AFXSOCK_AVAILABLE_IN_ALL
GArray *c_archive_read_elements (CArchive *self, guint element_size);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_element_map (CArchive *self, GArray *keys, GArray *values);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_read_element_map (CArchive *self, guint key_size, guint value_size,
                                     GArray **keys, GArray **values);

/* Windows' BOOL, POINT, SIZE, RECT (c-archive-geometry.c; docs/wire-format.md §13) */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_win_bool (CArchive *self, gboolean value);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_read_win_bool (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_point (CArchive *self, gint32 x, gint32 y);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_read_point (CArchive *self, gint32 *x, gint32 *y);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_size (CArchive *self, gint32 cx, gint32 cy);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_read_size (CArchive *self, gint32 *cx, gint32 *cy);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_rect (CArchive *self, gint32 left, gint32 top, gint32 right, gint32 bottom);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_read_rect (CArchive *self, gint32 *left, gint32 *top, gint32 *right, gint32 *bottom);

/* MFC's time and money types (c-archive-time.c; docs/wire-format.md §13) */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_time (CArchive *self, GDateTime *time);
AFXSOCK_AVAILABLE_IN_ALL
GDateTime *c_archive_read_time (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_time64 (CArchive *self, GDateTime *time);
AFXSOCK_AVAILABLE_IN_ALL
GDateTime *c_archive_read_time64 (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_time_span (CArchive *self, GTimeSpan span);
AFXSOCK_AVAILABLE_IN_ALL
GTimeSpan c_archive_read_time_span (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_time_span64 (CArchive *self, GTimeSpan span);
AFXSOCK_AVAILABLE_IN_ALL
GTimeSpan c_archive_read_time_span64 (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_ole_date_time (CArchive *self, CArchiveOleStatus status, GDateTime *time);
AFXSOCK_AVAILABLE_IN_ALL
CArchiveOleStatus c_archive_read_ole_date_time (CArchive *self, GDateTime **time);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_ole_date_time_span (CArchive *self, CArchiveOleStatus status, GTimeSpan span);
AFXSOCK_AVAILABLE_IN_ALL
CArchiveOleStatus c_archive_read_ole_date_time_span (CArchive *self, GTimeSpan *span);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_ole_currency (CArchive *self, CArchiveOleStatus status, gint64 value);
AFXSOCK_AVAILABLE_IN_ALL
CArchiveOleStatus c_archive_read_ole_currency (CArchive *self, gint64 *value);

/* Objects and classes */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_register_class (GType type, guint schema, CArchiveClassFlags flags);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_register_class_with_name (GType type, const char *name, guint schema,
                                         CArchiveClassFlags flags);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_object (CArchive *self, GObject *object);
AFXSOCK_AVAILABLE_IN_ALL
GObject *c_archive_read_object (CArchive *self, GType expected_type);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_class (CArchive *self, GType type);
AFXSOCK_AVAILABLE_IN_ALL
GType c_archive_read_class (CArchive *self, GType expected_type, guint *schema);
AFXSOCK_AVAILABLE_IN_ALL
GType c_archive_serialize_class (CArchive *self, GType type);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_map_object (CArchive *self, GObject *object);
AFXSOCK_AVAILABLE_IN_ALL
gint c_archive_get_object_schema (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_set_object_schema (CArchive *self, gint schema);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_serialize_properties (CArchive *self, GObject *object);

/* The MFC format's text: Unicode builds, ANSI code pages; strings with NULs */
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_set_wide_strings (CArchive *self, gboolean wide_strings);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_get_wide_strings (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_archive_set_code_page (CArchive *self, const char *code_page, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
const char *c_archive_get_code_page (CArchive *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_archive_write_cstring_len (CArchive *self, const char *text, gsize length);
AFXSOCK_AVAILABLE_IN_ALL
char *c_archive_read_cstring_len (CArchive *self, gsize *length);

G_END_DECLS

/* The interface of self-serializing objects belongs with the archive. */
#include <afxsock/c-serializable.h>

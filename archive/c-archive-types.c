/* c-archive-types.c: fixed-size values (MFC's << and >> operators)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* The fast paths: when the field fits (c_archive_can_store(), c_archive_can_load()),
 * one swap to the archive's byte order (big-endian for the network format, little-endian
 * for MFC's, which fast names with the archive's direction) and one fixed-size copy. */
#define FAST_STORE_NETWORK C_ARCHIVE_FAST_STORE
#define FAST_STORE_MFC (C_ARCHIVE_FAST_STORE | C_ARCHIVE_FAST_MFC)
#define FAST_LOAD_NETWORK C_ARCHIVE_FAST_LOAD
#define FAST_LOAD_MFC (C_ARCHIVE_FAST_LOAD | C_ARCHIVE_FAST_MFC)

static inline gboolean
put8 (CArchive *self, guint8 value)
{
  if (!c_archive_can_store (self, 1))
    return FALSE;
  self->buffer[self->end++] = value;
  return TRUE;
}

#define DEFINE_PUT(bits)                                                                           \
  static inline gboolean put##bits (CArchive *self, guint##bits value)                             \
  {                                                                                                \
    if (!c_archive_is_archive (self) || self->buffer_size - self->end < sizeof value)              \
      return FALSE;                                                                                \
    if (self->fast == FAST_STORE_NETWORK)                                                          \
      value = GUINT##bits##_TO_BE (value);                                                         \
    else if (self->fast == FAST_STORE_MFC)                                                         \
      value = GUINT##bits##_TO_LE (value);                                                         \
    else                                                                                           \
      return FALSE;                                                                                \
    memcpy (self->buffer + self->end, &value, sizeof value);                                       \
    self->end += sizeof value;                                                                     \
    return TRUE;                                                                                   \
  }

DEFINE_PUT (16)
DEFINE_PUT (32)
DEFINE_PUT (64)

static inline gboolean
take8 (CArchive *self, guint8 *value)
{
  if (!c_archive_can_load (self, 1))
    return FALSE;
  *value = self->data[self->cur++];
  return TRUE;
}

/* data is only read once fast says the archive is loading: a storing archive's data is not
 * valid. */
#define DEFINE_TAKE(bits)                                                                          \
  static inline gboolean take##bits (CArchive *self, guint##bits *value)                           \
  {                                                                                                \
    guint##bits raw;                                                                               \
                                                                                                   \
    if (!c_archive_is_archive (self) || self->end - self->cur < sizeof raw)                        \
      return FALSE;                                                                                \
    if (self->fast == FAST_LOAD_NETWORK)                                                           \
      {                                                                                            \
        memcpy (&raw, self->data + self->cur, sizeof raw);                                         \
        *value = GUINT##bits##_FROM_BE (raw);                                                      \
      }                                                                                            \
    else if (self->fast == FAST_LOAD_MFC)                                                          \
      {                                                                                            \
        memcpy (&raw, self->data + self->cur, sizeof raw);                                         \
        *value = GUINT##bits##_FROM_LE (raw);                                                      \
      }                                                                                            \
    else                                                                                           \
      return FALSE;                                                                                \
    self->cur += sizeof raw;                                                                       \
    return TRUE;                                                                                   \
  }

DEFINE_TAKE (16)
DEFINE_TAKE (32)
DEFINE_TAKE (64)

/* Encodes an integer of width bytes (1 to 8) in the archive's byte order: the value,
 * shifted to the top of 64 bits for big-endian, is swapped and its first width bytes
 * copied. Independent of the host's own order. */
void
c_archive_put_uint (CArchive *self, guint64 value, guint width)
{
  guint64 bytes;

  if (self->format == C_ARCHIVE_FORMAT_MFC)
    bytes = GUINT64_TO_LE (value);
  else
    bytes = GUINT64_TO_BE (value << (8 * (8 - width)));
  c_archive_put (self, &bytes, width);
}

/* Decodes an integer of width bytes (1 to 8); 0 once the archive has failed. */
guint64
c_archive_take_uint (CArchive *self, guint width)
{
  guint64 bytes = 0;

  if (!c_archive_take (self, &bytes, width))
    return 0;
  if (self->format == C_ARCHIVE_FORMAT_MFC)
    return GUINT64_FROM_LE (bytes);
  return GUINT64_FROM_BE (bytes) >> (8 * (8 - width));
}

/* The general path of the public reads and writes below, out of line so that their fast
 * paths need no stack frame. */
static G_GNUC_NO_INLINE void
put_slow (CArchive *self, const char *function, const char *field, guint64 value, guint width)
{
  if (c_archive_check_self (self, function) && c_archive_begin_field (self, field, TRUE))
    c_archive_put_uint (self, value, width);
}

static G_GNUC_NO_INLINE guint64
take_slow (CArchive *self, const char *function, const char *field, guint width)
{
  if (!c_archive_check_self (self, function) || !c_archive_begin_field (self, field, FALSE))
    return 0;
  return c_archive_take_uint (self, width);
}

static gboolean take_bool_slow (CArchive *self, const char *function);

/**
 * c_archive_write_byte:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an unsigned 8-bit value (MFC's `BYTE`): 1 byte.
 */
void
c_archive_write_byte (CArchive *self, guint8 value)
{
  if (put8 (self, value))
    return;
  put_slow (self, G_STRFUNC, "BYTE", value, 1);
}

/**
 * c_archive_read_byte:
 * @self: a loading archive
 *
 * Reads an unsigned 8-bit value (MFC's `BYTE`).
 *
 * Returns: the value, 0 after an error
 */
guint8
c_archive_read_byte (CArchive *self)
{
  guint8 value;

  if (take8 (self, &value))
    return value;
  return (guint8) take_slow (self, G_STRFUNC, "BYTE", 1);
}

/**
 * c_archive_write_word:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an unsigned 16-bit value (MFC's `WORD`): 2 bytes.
 */
void
c_archive_write_word (CArchive *self, guint16 value)
{
  if (put16 (self, value))
    return;
  put_slow (self, G_STRFUNC, "WORD", value, 2);
}

/**
 * c_archive_read_word:
 * @self: a loading archive
 *
 * Reads an unsigned 16-bit value (MFC's `WORD`).
 *
 * Returns: the value, 0 after an error
 */
guint16
c_archive_read_word (CArchive *self)
{
  guint16 value;

  if (take16 (self, &value))
    return value;
  return (guint16) take_slow (self, G_STRFUNC, "WORD", 2);
}

/**
 * c_archive_write_long:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a signed 32-bit value (MFC's `LONG`): 4 bytes.
 */
void
c_archive_write_long (CArchive *self, gint32 value)
{
  if (put32 (self, (guint32) value))
    return;
  put_slow (self, G_STRFUNC, "LONG", (guint32) value, 4);
}

/**
 * c_archive_read_long:
 * @self: a loading archive
 *
 * Reads a signed 32-bit value (MFC's `LONG`).
 *
 * Returns: the value, 0 after an error
 */
gint32
c_archive_read_long (CArchive *self)
{
  guint32 value;

  if (take32 (self, &value))
    return (gint32) value;
  return (gint32) (guint32) take_slow (self, G_STRFUNC, "LONG", 4);
}

/**
 * c_archive_write_dword:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an unsigned 32-bit value (MFC's `DWORD`): 4 bytes.
 */
void
c_archive_write_dword (CArchive *self, guint32 value)
{
  if (put32 (self, value))
    return;
  put_slow (self, G_STRFUNC, "DWORD", value, 4);
}

/**
 * c_archive_read_dword:
 * @self: a loading archive
 *
 * Reads an unsigned 32-bit value (MFC's `DWORD`).
 *
 * Returns: the value, 0 after an error
 */
guint32
c_archive_read_dword (CArchive *self)
{
  guint32 value;

  if (take32 (self, &value))
    return value;
  return (guint32) take_slow (self, G_STRFUNC, "DWORD", 4);
}

/**
 * c_archive_write_int:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a signed 32-bit `int`: 4 bytes.
 */
void
c_archive_write_int (CArchive *self, gint value)
{
  if (put32 (self, (guint32) value))
    return;
  put_slow (self, G_STRFUNC, "int", (guint32) value, 4);
}

/**
 * c_archive_read_int:
 * @self: a loading archive
 *
 * Reads a signed 32-bit `int`.
 *
 * Returns: the value, 0 after an error
 */
gint
c_archive_read_int (CArchive *self)
{
  guint32 value;

  if (take32 (self, &value))
    return (gint) value;
  return (gint) (guint32) take_slow (self, G_STRFUNC, "int", 4);
}

/**
 * c_archive_write_uint:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an unsigned 32-bit `unsigned`: 4 bytes.
 */
void
c_archive_write_uint (CArchive *self, guint value)
{
  if (put32 (self, value))
    return;
  put_slow (self, G_STRFUNC, "unsigned", value, 4);
}

/**
 * c_archive_read_uint:
 * @self: a loading archive
 *
 * Reads an unsigned 32-bit `unsigned`.
 *
 * Returns: the value, 0 after an error
 */
guint
c_archive_read_uint (CArchive *self)
{
  guint32 value;

  if (take32 (self, &value))
    return value;
  return (guint) take_slow (self, G_STRFUNC, "unsigned", 4);
}

/**
 * c_archive_write_short:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a signed 16-bit `short`: 2 bytes.
 */
void
c_archive_write_short (CArchive *self, gint16 value)
{
  if (put16 (self, (guint16) value))
    return;
  put_slow (self, G_STRFUNC, "short", (guint16) value, 2);
}

/**
 * c_archive_read_short:
 * @self: a loading archive
 *
 * Reads a signed 16-bit `short`.
 *
 * Returns: the value, 0 after an error
 */
gint16
c_archive_read_short (CArchive *self)
{
  guint16 value;

  if (take16 (self, &value))
    return (gint16) value;
  return (gint16) (guint16) take_slow (self, G_STRFUNC, "short", 2);
}

/**
 * c_archive_write_char:
 * @self: a storing archive
 * @value: the value
 *
 * Writes one `char` (a byte): 1 byte.
 */
void
c_archive_write_char (CArchive *self, gchar value)
{
  if (put8 (self, (guint8) value))
    return;
  put_slow (self, G_STRFUNC, "char", (guint8) value, 1);
}

/**
 * c_archive_read_char:
 * @self: a loading archive
 *
 * Reads one `char` (a byte).
 *
 * Returns: the value, 0 after an error
 */
gchar
c_archive_read_char (CArchive *self)
{
  guint8 value;

  if (take8 (self, &value))
    return (gchar) value;
  return (gchar) (guint8) take_slow (self, G_STRFUNC, "char", 1);
}

/**
 * c_archive_write_wchar:
 * @self: a storing archive
 * @value: the value
 *
 * Writes one UTF-16 code unit (MFC's Windows `wchar_t`): 2 bytes.
 */
void
c_archive_write_wchar (CArchive *self, gunichar2 value)
{
  if (put16 (self, value))
    return;
  put_slow (self, G_STRFUNC, "wchar_t", value, 2);
}

/**
 * c_archive_read_wchar:
 * @self: a loading archive
 *
 * Reads one UTF-16 code unit (MFC's Windows `wchar_t`).
 *
 * Returns: the value, 0 after an error
 */
gunichar2
c_archive_read_wchar (CArchive *self)
{
  guint16 value;

  if (take16 (self, &value))
    return value;
  return (gunichar2) take_slow (self, G_STRFUNC, "wchar_t", 2);
}

/**
 * c_archive_write_int64:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a signed 64-bit value (MFC's `LONGLONG`): 8 bytes.
 */
void
c_archive_write_int64 (CArchive *self, gint64 value)
{
  if (put64 (self, (guint64) value))
    return;
  put_slow (self, G_STRFUNC, "LONGLONG", value, 8);
}

/**
 * c_archive_read_int64:
 * @self: a loading archive
 *
 * Reads a signed 64-bit value (MFC's `LONGLONG`).
 *
 * Returns: the value, 0 after an error
 */
gint64
c_archive_read_int64 (CArchive *self)
{
  guint64 value;

  if (take64 (self, &value))
    return (gint64) value;
  return (gint64) (guint64) take_slow (self, G_STRFUNC, "LONGLONG", 8);
}

/**
 * c_archive_write_uint64:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an unsigned 64-bit value (MFC's `ULONGLONG`): 8 bytes.
 */
void
c_archive_write_uint64 (CArchive *self, guint64 value)
{
  if (put64 (self, value))
    return;
  put_slow (self, G_STRFUNC, "ULONGLONG", value, 8);
}

/**
 * c_archive_read_uint64:
 * @self: a loading archive
 *
 * Reads an unsigned 64-bit value (MFC's `ULONGLONG`).
 *
 * Returns: the value, 0 after an error
 */
guint64
c_archive_read_uint64 (CArchive *self)
{
  guint64 value;

  if (take64 (self, &value))
    return value;
  return (guint64) take_slow (self, G_STRFUNC, "ULONGLONG", 8);
}

/**
 * c_archive_write_bool:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a C++ `bool`: one byte, 1 for %TRUE and 0 for %FALSE. (MFC's `BOOL` is an
 * `int`: write it with c_archive_write_win_bool().) For an MFC 6 peer
 * (c_archive_set_mfc_version()), which has no `bool` operator and writes `ar << b` as an
 * `int`, the MFC format writes 4 bytes.
 */
void
c_archive_write_bool (CArchive *self, gboolean value)
{
  if (put8 (self, value ? 1 : 0))
    return;
  put_slow (self, G_STRFUNC, "bool", value ? 1 : 0,
            c_archive_is_archive (self) && c_archive_bool_is_int (self) ? 4 : 1);
}

/**
 * c_archive_read_bool:
 * @self: a loading archive
 *
 * Reads a one-byte `bool` (4 bytes for an MFC 6 peer, as c_archive_write_bool() says). The
 * network format accepts only 0 and 1 (anything else is #C_ARCHIVE_ERROR_BAD_DATA); the
 * MFC format takes any non-zero value as %TRUE, as MFC does.
 *
 * Returns: the value, %FALSE after an error
 */
gboolean
c_archive_read_bool (CArchive *self)
{
  if (c_archive_can_load (self, 1)
      && (self->data[self->cur] <= 1 || self->format == C_ARCHIVE_FORMAT_MFC))
    return self->data[self->cur++] != 0;
  return take_bool_slow (self, G_STRFUNC);
}

/* c_archive_read_bool() for what its fast path does not take: a byte other than 0 or 1 in
 * the network format, and everything take_slow() handles. */
static G_GNUC_NO_INLINE gboolean
take_bool_slow (CArchive *self, const char *function)
{
  guint64 byte;

  if (!c_archive_check_self (self, function) || !c_archive_begin_field (self, "bool", FALSE))
    return FALSE;
  byte = c_archive_take_uint (self, c_archive_bool_is_int (self) ? 4 : 1);
  if (byte > 1 && self->format == C_ARCHIVE_FORMAT_NETWORK)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "bool byte 0x%02x is neither 0 nor 1",
                      (guint) byte);
      return FALSE;
    }
  return byte != 0;
}

/**
 * c_archive_write_float:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an IEEE-754 single: its 4 bytes as a 32-bit integer in the archive's byte
 * order. NaN payloads and infinities survive.
 */
void
c_archive_write_float (CArchive *self, gfloat value)
{
  guint32 bits;

  memcpy (&bits, &value, sizeof bits);
  if (put32 (self, bits))
    return;
  put_slow (self, G_STRFUNC, "float", bits, 4);
}

/**
 * c_archive_read_float:
 * @self: a loading archive
 *
 * Reads an IEEE-754 single.
 *
 * Returns: the value, 0 after an error
 */
gfloat
c_archive_read_float (CArchive *self)
{
  guint32 bits;
  gfloat value;

  if (!take32 (self, &bits))
    bits = (guint32) take_slow (self, G_STRFUNC, "float", 4);
  memcpy (&value, &bits, sizeof value);
  return value;
}

/**
 * c_archive_write_double:
 * @self: a storing archive
 * @value: the value
 *
 * Writes an IEEE-754 double: its 8 bytes as a 64-bit integer in the archive's byte
 * order.
 */
void
c_archive_write_double (CArchive *self, gdouble value)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  if (put64 (self, bits))
    return;
  put_slow (self, G_STRFUNC, "double", bits, 8);
}

/**
 * c_archive_read_double:
 * @self: a loading archive
 *
 * Reads an IEEE-754 double.
 *
 * Returns: the value, 0 after an error
 */
gdouble
c_archive_read_double (CArchive *self)
{
  guint64 bits;
  gdouble value;

  if (!take64 (self, &bits))
    bits = take_slow (self, G_STRFUNC, "double", 8);
  memcpy (&value, &bits, sizeof value);
  return value;
}

/* c-archive-types.c: fixed-size values (MFC's << and >> operators)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* Encodes an integer of width bytes in the archive's byte order: big-endian for the
 * network format, little-endian for MFC's. Shifts rather than casts keep it independent
 * of the host's own order. */
void
c_archive_put_uint (CArchive *self, guint64 value, guint width)
{
  guint8 bytes[8];

  for (guint i = 0; i < width; i++)
    {
      guint shift = 8 * (self->format == C_ARCHIVE_FORMAT_MFC ? i : width - 1 - i);
      bytes[i] = (guint8) (value >> shift);
    }
  c_archive_put (self, bytes, width);
}

/* Decodes an integer of width bytes; 0 once the archive has failed. */
guint64
c_archive_take_uint (CArchive *self, guint width)
{
  guint8 bytes[8];
  guint64 value = 0;

  if (!c_archive_take (self, bytes, width))
    return 0;
  for (guint i = 0; i < width; i++)
    {
      guint shift = 8 * (self->format == C_ARCHIVE_FORMAT_MFC ? i : width - 1 - i);
      value |= (guint64) bytes[i] << shift;
    }
  return value;
}

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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "BYTE", TRUE))
    c_archive_put_uint (self, value, 1);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "BYTE", FALSE))
    return 0;
  return (guint8) c_archive_take_uint (self, 1);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "WORD", TRUE))
    c_archive_put_uint (self, value, 2);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "WORD", FALSE))
    return 0;
  return (guint16) c_archive_take_uint (self, 2);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "LONG", TRUE))
    c_archive_put_uint (self, (guint32) value, 4);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "LONG", FALSE))
    return 0;
  return (gint32) (guint32) c_archive_take_uint (self, 4);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "DWORD", TRUE))
    c_archive_put_uint (self, value, 4);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "DWORD", FALSE))
    return 0;
  return (guint32) c_archive_take_uint (self, 4);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "int", TRUE))
    c_archive_put_uint (self, (guint32) value, 4);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "int", FALSE))
    return 0;
  return (gint) (guint32) c_archive_take_uint (self, 4);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "unsigned", TRUE))
    c_archive_put_uint (self, value, 4);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "unsigned", FALSE))
    return 0;
  return (guint) c_archive_take_uint (self, 4);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "short", TRUE))
    c_archive_put_uint (self, (guint16) value, 2);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "short", FALSE))
    return 0;
  return (gint16) (guint16) c_archive_take_uint (self, 2);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "char", TRUE))
    c_archive_put_uint (self, (guint8) value, 1);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "char", FALSE))
    return 0;
  return (gchar) (guint8) c_archive_take_uint (self, 1);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "wchar_t", TRUE))
    c_archive_put_uint (self, value, 2);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "wchar_t", FALSE))
    return 0;
  return (gunichar2) c_archive_take_uint (self, 2);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "LONGLONG", TRUE))
    c_archive_put_uint (self, value, 8);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "LONGLONG", FALSE))
    return 0;
  return (gint64) (guint64) c_archive_take_uint (self, 8);
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
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "ULONGLONG", TRUE))
    c_archive_put_uint (self, value, 8);
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
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "ULONGLONG", FALSE))
    return 0;
  return (guint64) c_archive_take_uint (self, 8);
}

/**
 * c_archive_write_bool:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a C++ `bool`: one byte, 1 for %TRUE and 0 for %FALSE. (MFC's `BOOL` is an
 * `int`: write it with c_archive_write_int().)
 */
void
c_archive_write_bool (CArchive *self, gboolean value)
{
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "bool", TRUE))
    c_archive_put_uint (self, value ? 1 : 0, 1);
}

/**
 * c_archive_read_bool:
 * @self: a loading archive
 *
 * Reads a one-byte `bool`. The network format accepts only 0 and 1 (anything else is
 * #C_ARCHIVE_ERROR_BAD_DATA); the MFC format takes any non-zero byte as %TRUE, as MFC
 * does.
 *
 * Returns: the value, %FALSE after an error
 */
gboolean
c_archive_read_bool (CArchive *self)
{
  guint64 byte;

  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);

  if (!c_archive_begin_field (self, "bool", FALSE))
    return FALSE;
  byte = c_archive_take_uint (self, 1);
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

  g_return_if_fail (C_IS_ARCHIVE (self));

  memcpy (&bits, &value, sizeof bits);
  if (c_archive_begin_field (self, "float", TRUE))
    c_archive_put_uint (self, bits, 4);
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

  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "float", FALSE))
    return 0;
  bits = (guint32) c_archive_take_uint (self, 4);
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

  g_return_if_fail (C_IS_ARCHIVE (self));

  memcpy (&bits, &value, sizeof bits);
  if (c_archive_begin_field (self, "double", TRUE))
    c_archive_put_uint (self, bits, 8);
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

  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "double", FALSE))
    return 0;
  bits = c_archive_take_uint (self, 8);
  memcpy (&value, &bits, sizeof value);
  return value;
}

/* c-archive-string.c: strings, byte blocks, counts and lines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* MFC's escapes: a byte below 0xFF is the length itself; 0xFF announces a WORD; the WORD
 * 0xFFFE announces a wide (UTF-16LE) string, after which the length starts over; 0xFFFF
 * announces a DWORD, and the DWORD 0xFFFFFFFF a QWORD. */
#define MFC_LENGTH_WORD 0xFF
#define MFC_WIDE_MARK 0xFFFE
#define MFC_LENGTH_DWORD 0xFFFF
#define LENGTH_QWORD 0xFFFFFFFFu

void
c_archive_put_mfc_length (CArchive *self, guint64 length, gboolean wide)
{
  if (wide)
    {
      c_archive_put_uint (self, MFC_LENGTH_WORD, 1);
      c_archive_put_uint (self, MFC_WIDE_MARK, 2);
    }
  if (length < MFC_LENGTH_WORD)
    {
      c_archive_put_uint (self, length, 1);
      return;
    }
  c_archive_put_uint (self, MFC_LENGTH_WORD, 1);
  if (length < MFC_WIDE_MARK)
    {
      c_archive_put_uint (self, length, 2);
      return;
    }
  c_archive_put_uint (self, MFC_LENGTH_DWORD, 2);
  if (length < LENGTH_QWORD)
    {
      c_archive_put_uint (self, length, 4);
      return;
    }
  c_archive_put_uint (self, LENGTH_QWORD, 4);
  c_archive_put_uint (self, length, 8);
}

/* The network format's lengths and counts: a DWORD, or 0xFFFFFFFF and a QWORD. */
static void
put_network_length (CArchive *self, guint64 length)
{
  if (length < LENGTH_QWORD)
    {
      c_archive_put_uint (self, length, 4);
      return;
    }
  c_archive_put_uint (self, LENGTH_QWORD, 4);
  c_archive_put_uint (self, length, 8);
}

static void
c_archive_put_length (CArchive *self, guint64 length, gboolean wide)
{
  if (self->format == C_ARCHIVE_FORMAT_MFC)
    c_archive_put_mfc_length (self, length, wide);
  else
    put_network_length (self, length);
}

static guint64
take_network_length (CArchive *self)
{
  guint64 length = c_archive_take_uint (self, 4);

  if (length == LENGTH_QWORD)
    length = c_archive_take_uint (self, 8);
  return length;
}

/* MFC's AfxReadStringLength, step for step, including its quirk that the WORD after a
 * wide mark is a length even when it is 0xFFFE. */
static guint64
take_mfc_length (CArchive *self, gboolean *wide)
{
  guint64 length = c_archive_take_uint (self, 1);

  *wide = FALSE;
  if (length < MFC_LENGTH_WORD)
    return length;
  length = c_archive_take_uint (self, 2);
  if (length == MFC_WIDE_MARK)
    {
      *wide = TRUE;
      length = c_archive_take_uint (self, 1);
      if (length < MFC_LENGTH_WORD)
        return length;
      length = c_archive_take_uint (self, 2);
    }
  if (length < MFC_LENGTH_DWORD)
    return length;
  length = c_archive_take_uint (self, 4);
  if (length < LENGTH_QWORD)
    return length;
  return c_archive_take_uint (self, 8);
}

static gboolean
c_archive_take_length (CArchive *self, guint64 *length, gboolean *wide)
{
  *wide = FALSE;
  if (self->format == C_ARCHIVE_FORMAT_MFC)
    *length = take_mfc_length (self, wide);
  else
    *length = take_network_length (self);
  return self->error == NULL;
}

static gboolean
c_archive_check_length (CArchive *self, guint64 length, const char *what)
{
  guint64 limit = self->limits[C_ARCHIVE_LIMIT_STRING_LENGTH];

  if (length <= limit && length <= G_MAXSIZE)
    return TRUE;
  c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                  "%s of %" G_GUINT64_FORMAT " bytes exceeds the limit of %" G_GUINT64_FORMAT
                  " bytes",
                  what, length, limit);
  return FALSE;
}

static gboolean
is_ascii (const char *text, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if ((guchar) text[i] >= 0x80)
      return FALSE;
  return TRUE;
}

/* Whether the bytes are ASCII without NUL: then they are valid UTF-8, MFC's narrow string,
 * and a string c_archive_read_cstring() accepts. Eight bytes at a time: a byte of 0x80 or
 * more sets its high bit in word; otherwise a zero byte is the one that sets its high bit
 * in (word - 0x0101...) & ~word. */
static inline gboolean
has_high_or_zero_byte (const guint8 *bytes)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  guint64 word;

  memcpy (&word, bytes, sizeof word);
  return ((word | ((word - ones) & ~word)) & highs) != 0;
}

static inline gboolean
is_plain_ascii (const guint8 *text, gsize length)
{
  gsize i;

  if (length < 8)
    {
      for (i = 0; i < length; i++)
        if ((guint8) (text[i] - 1) >= 0x7F)
          return FALSE;
      return TRUE;
    }
  /* Whole words, then the last eight bytes, which overlap the last word read when the
   * length is not a multiple of eight. */
  for (i = 0; i + 8 < length; i += 8)
    if (has_high_or_zero_byte (text + i))
      return FALSE;
  return !has_high_or_zero_byte (text + length - 8);
}

/* The common string, written in one go when it fits the buffer: ASCII in either format,
 * or any valid UTF-8 in the network format, with a one-byte MFC length or a DWORD one.
 * Returns FALSE, having written nothing, for everything else. */
static gboolean
put_cstring_fast (CArchive *self, const char *text, gsize length)
{
  guint8 *out;

  if (self->format == C_ARCHIVE_FORMAT_NETWORK)
    {
      guint32 prefix = GUINT32_TO_BE ((guint32) length);

      if (length >= LENGTH_QWORD || self->buffer_size - self->end < length + 4
          || (!is_plain_ascii ((const guint8 *) text, length)
              && !g_utf8_validate_len (text, length, NULL)))
        return FALSE;
      out = self->buffer + self->end;
      memcpy (out, &prefix, sizeof prefix);
      memcpy (out + 4, text, length);
      self->end += length + 4;
      return TRUE;
    }
  /* mfc_narrow_below is MFC_LENGTH_WORD, or 0 for a Unicode peer (every string wide). */
  if (length >= self->mfc_narrow_below || self->buffer_size - self->end < length + 1
      || !is_plain_ascii ((const guint8 *) text, length))
    return FALSE;
  out = self->buffer + self->end;
  out[0] = (guint8) length;
  memcpy (out + 1, text, length);
  self->end += length + 1;
  return TRUE;
}

static G_GNUC_NO_INLINE void write_cstring_slow (CArchive *self, const char *text);

/**
 * c_archive_write_cstring:
 * @self: a storing archive
 * @text: UTF-8 text
 *
 * Writes a length-prefixed string (MFC's `ar << CString`). The network format writes the
 * UTF-8 bytes after a DWORD length. The MFC format writes ASCII text as MFC's narrow
 * string and any other text as MFC's wide string (UTF-16LE), which both ANSI and Unicode
 * MFC programs read; c_archive_set_wide_strings() and c_archive_set_code_page() change
 * that for a Unicode or an ANSI peer. Text that is not valid UTF-8 is
 * #C_ARCHIVE_ERROR_BAD_DATA. For a string with NUL characters inside, use
 * c_archive_write_cstring_len().
 *
 * This is the string for records: any text, newlines included, read back whole by
 * c_archive_read_cstring(). c_archive_write_string() is another thing: a text line without
 * a length, for line-based peers; the two cannot be read with each other's function.
 */
void
c_archive_write_cstring (CArchive *self, const char *text)
{
  if (text != NULL && c_archive_can_store (self, 0) && put_cstring_fast (self, text, strlen (text)))
    return;
  write_cstring_slow (self, text);
}

/* Everything put_cstring_fast() leaves: stream archives when the buffer is full, a memory
 * buffer that must grow, wide MFC strings, errors. */
static void
write_cstring_slow (CArchive *self, const char *text)
{
  if (!c_archive_check_self (self, "c_archive_write_cstring"))
    return;
#ifndef G_DISABLE_CHECKS
  if (G_UNLIKELY (text == NULL))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, "c_archive_write_cstring", "text != NULL");
      return;
    }
#endif
  c_archive_write_cstring_general (self, text, strlen (text), FALSE);
}

/* Any string, NULs inside where nul_allowed (the text's length says where it ends). */
void
c_archive_write_cstring_general (CArchive *self, const char *text, gsize length,
                                 gboolean nul_allowed)
{
  gsize bad = 0;

  if (!c_archive_begin_field (self, "CString", TRUE))
    return;
  if (!c_archive_utf8_valid (text, length, nul_allowed, &bad))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "the text is not valid UTF-8 (byte 0x%02x at byte %" G_GSIZE_FORMAT ")",
                      (guint8) text[bad], bad);
      return;
    }
  if (self->format == C_ARCHIVE_FORMAT_MFC && (self->wide_strings || !is_ascii (text, length)))
    {
      c_archive_put_mfc_text (self, text, length);
      return;
    }
  c_archive_put_length (self, length, FALSE);
  c_archive_put (self, text, length);
}

/* The common string, when all of it is at hand: a narrow string with a DWORD (network) or
 * one-byte (MFC) length within the limit, ASCII or valid UTF-8 without NUL. Returns its
 * text in the archive's bytes and sets *length (the text's) and *end (the archive offset
 * after it), having read nothing; NULL for everything else, including every error: the
 * general path then reads it and reports the error. */
static const char *
find_cstring_fast (CArchive *self, gsize *length, gsize *end)
{
  const guint8 *in = self->data + self->cur;
  gsize available = self->end - self->cur;
  gsize head, n;

  if (self->format == C_ARCHIVE_FORMAT_NETWORK)
    {
      guint32 prefix;

      if (available < 4)
        return NULL;
      memcpy (&prefix, in, sizeof prefix);
      n = GUINT32_FROM_BE (prefix);
      head = 4;
      if (n == LENGTH_QWORD)
        return NULL;
    }
  else
    {
      if (available < 1 || in[0] == MFC_LENGTH_WORD)
        return NULL;
      n = in[0];
      head = 1;
    }
  if (n > available - head || n > self->limits[C_ARCHIVE_LIMIT_STRING_LENGTH])
    return NULL;
  in += head;
  /* Text that is not ASCII is UTF-8 here, but for a code page's (c-archive-codepage.c). */
  if (!is_plain_ascii (in, n)
      && ((self->code_page != NULL && self->format == C_ARCHIVE_FORMAT_MFC)
          || !g_utf8_validate_len ((const char *) in, n, NULL) || memchr (in, 0, n) != NULL))
    return NULL;
  *length = n;
  *end = self->cur + head + n;
  return (const char *) in;
}

static G_GNUC_NO_INLINE char *read_cstring_slow (CArchive *self);

/**
 * c_archive_read_cstring:
 * @self: a loading archive
 *
 * Reads a length-prefixed string (MFC's `ar >> CString`), narrow or wide in the MFC
 * format. Strings longer than #CArchive:max-string-length bytes on the wire are
 * #C_ARCHIVE_ERROR_LIMIT_EXCEEDED; invalid UTF-8, invalid UTF-16 (unpaired surrogates)
 * and NUL characters are #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * It reads what c_archive_write_cstring() wrote, not a line of c_archive_write_string():
 * when a failed read finds what looks like a text line, the error is
 * #C_ARCHIVE_ERROR_BAD_DATA and says so ("expected a length-prefixed CString, found what
 * looks like a text line").
 *
 * Returns: (transfer full) (not nullable): the text in UTF-8; an empty string after an
 *   error
 */
char *
c_archive_read_cstring (CArchive *self)
{
  const char *found;
  gsize length, end;
  char *text;

  if (c_archive_can_load (self, 1) && (found = find_cstring_fast (self, &length, &end)) != NULL)
    {
      /* Straight from the archive's bytes: no temporary copy. */
      text = g_malloc (length + 1);
      memcpy (text, found, length);
      text[length] = '\0';
      self->cur = end;
      return text;
    }
  return read_cstring_slow (self);
}

static char *
read_cstring_slow (CArchive *self)
{
  gsize length;

  if (!c_archive_check_self (self, "c_archive_read_cstring"))
    return NULL;
  return c_archive_read_cstring_general (self, FALSE, &length);
}

/* Everything find_cstring_fast() leaves: strings not all in the buffer yet, wide MFC
 * strings, code pages, NULs, 64-bit lengths, and every error. Sets *length (0 after an
 * error). */
char *
c_archive_read_cstring_general (CArchive *self, gboolean nul_allowed, gsize *length)
{
  g_autoptr (GByteArray) raw = NULL;
  guint64 n;
  gboolean wide;
  char *text = NULL;

  *length = 0;
  if (!c_archive_begin_field (self, "CString", FALSE) || !c_archive_take_length (self, &n, &wide))
    return g_strdup ("");
  raw = g_byte_array_new ();
  if (c_archive_check_length (self, wide && n > G_MAXUINT64 / 2 ? G_MAXUINT64 : (wide ? 2 : 1) * n,
                              "a string")
      && c_archive_take_into (self, (gsize) (wide ? 2 : 1) * n, raw))
    {
      guint64 offset = c_archive_position (self) - raw->len;

      text = wide ? c_archive_decode_wide (self, raw->data, raw->len / 2, nul_allowed, "string",
                                           offset, length)
                  : c_archive_decode_narrow (self, raw->data, raw->len, nul_allowed, "string",
                                             offset, length);
    }
  if (text != NULL)
    return text;
  *length = 0;
  c_archive_explain_cstring_failure (self, n, wide, raw);
  return g_strdup ("");
}

static G_GNUC_NO_INLINE gsize read_cstring_into_slow (CArchive *self, char *buffer, gsize size);

/**
 * c_archive_read_cstring_into: (skip)
 * @self: a loading archive
 * @buffer: (out caller-allocates) (array length=size) (element-type gchar): where the text
 *   goes, with a terminating NUL
 * @size: the size of @buffer in bytes, at least 1
 *
 * Reads a length-prefixed string as c_archive_read_cstring() does, into the caller's
 * memory rather than a new allocation: for a field of fixed size, such as a `char` array
 * in a structure, and for handlers that should not allocate per record. A string whose
 * UTF-8 text needs more than @size bytes with its NUL is #C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
 * never truncated. The other errors, and the limits, are those of
 * c_archive_read_cstring().
 *
 * Returns: the length of the text in bytes, without the NUL; 0, with @buffer set to the
 *   empty string, after an error
 */
gsize
c_archive_read_cstring_into (CArchive *self, char *buffer, gsize size)
{
  const char *found;
  gsize length, end;

  if (buffer != NULL && size > 0 && c_archive_can_load (self, 1)
      && (found = find_cstring_fast (self, &length, &end)) != NULL && length < size)
    {
      memcpy (buffer, found, length);
      buffer[length] = '\0';
      self->cur = end;
      return length;
    }
  return read_cstring_into_slow (self, buffer, size);
}

/* Everything else, including a string too long for the buffer, through
 * c_archive_read_cstring()'s general path. */
static gsize
read_cstring_into_slow (CArchive *self, char *buffer, gsize size)
{
  g_autofree char *text = NULL;
  gsize length;

  if (!c_archive_check_self (self, "c_archive_read_cstring_into"))
    return 0;
#ifndef G_DISABLE_CHECKS
  if (G_UNLIKELY (buffer == NULL || size == 0))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, "c_archive_read_cstring_into",
                                "buffer != NULL && size > 0");
      return 0;
    }
#endif
  text = c_archive_read_cstring_general (self, FALSE, &length);
  if (self->error == NULL && length >= size)
    c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                    "a string of %" G_GSIZE_FORMAT
                    " bytes does not fit a buffer of %" G_GSIZE_FORMAT " bytes",
                    length, size);
  if (self->error != NULL)
    {
      buffer[0] = '\0';
      return 0;
    }
  memcpy (buffer, text, length + 1);
  return length;
}

static void
put_count (CArchive *self, guint64 count)
{
  if (self->format == C_ARCHIVE_FORMAT_NETWORK)
    {
      put_network_length (self, count);
      return;
    }
  /* MFC's WriteCount: a WORD, or 0xFFFF and a DWORD, or both escapes and a QWORD. */
  if (count < MFC_LENGTH_DWORD)
    {
      c_archive_put_uint (self, count, 2);
      return;
    }
  c_archive_put_uint (self, MFC_LENGTH_DWORD, 2);
  if (count < LENGTH_QWORD)
    {
      c_archive_put_uint (self, count, 4);
      return;
    }
  c_archive_put_uint (self, LENGTH_QWORD, 4);
  c_archive_put_uint (self, count, 8);
}

static guint64
take_count (CArchive *self)
{
  guint64 count;

  if (self->format == C_ARCHIVE_FORMAT_NETWORK)
    return take_network_length (self);
  count = c_archive_take_uint (self, 2);
  if (count < MFC_LENGTH_DWORD)
    return count;
  count = c_archive_take_uint (self, 4);
  if (count < LENGTH_QWORD)
    return count;
  return c_archive_take_uint (self, 8);
}

/**
 * c_archive_write_count:
 * @self: a storing archive
 * @count: a number of elements
 *
 * Writes an element count before a sequence (MFC's `WriteCount`): in the MFC format a
 * WORD, or 0xFFFF and a DWORD; in the network format a DWORD. Larger values use a
 * further escape and a QWORD (see `docs/wire-format.md`).
 */
void
c_archive_write_count (CArchive *self, guint64 count)
{
  g_return_if_fail (C_IS_ARCHIVE (self));

  if (c_archive_begin_field (self, "count", TRUE))
    put_count (self, count);
}

/**
 * c_archive_read_count:
 * @self: a loading archive
 *
 * Reads an element count (MFC's `ReadCount`). A count above #CArchive:max-count is
 * #C_ARCHIVE_ERROR_LIMIT_EXCEEDED. The count is a claim, not a promise: read the elements
 * one by one and let the archive's sticky error stop the loop, rather than allocating
 * @count elements up front.
 *
 * Returns: the count, 0 after an error
 */
guint64
c_archive_read_count (CArchive *self)
{
  guint64 count;

  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);

  if (!c_archive_begin_field (self, "count", FALSE))
    return 0;
  count = take_count (self);
  if (count > self->limits[C_ARCHIVE_LIMIT_COUNT])
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                      "count %" G_GUINT64_FORMAT " exceeds the limit of %" G_GUINT64_FORMAT, count,
                      self->limits[C_ARCHIVE_LIMIT_COUNT]);
      return 0;
    }
  return count;
}

/**
 * c_archive_write_data:
 * @self: a storing archive
 * @data: (array length=length) (element-type guint8) (nullable): the bytes
 * @length: how many
 *
 * Writes a byte block: a count (as c_archive_write_count() writes it) and the bytes, the
 * layout of MFC's `CByteArray::Serialize`.
 */
void
c_archive_write_data (CArchive *self, const void *data, gsize length)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (data != NULL || length == 0);

  if (!c_archive_begin_field (self, "byte block", TRUE))
    return;
  put_count (self, length);
  c_archive_put (self, data, length);
}

/**
 * c_archive_write_bytes:
 * @self: a storing archive
 * @bytes: the bytes
 *
 * Writes a byte block, like c_archive_write_data().
 */
void
c_archive_write_bytes (CArchive *self, GBytes *bytes)
{
  gsize length;
  const void *data;

  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (bytes != NULL);

  data = g_bytes_get_data (bytes, &length);
  c_archive_write_data (self, data, length);
}

/**
 * c_archive_read_bytes:
 * @self: a loading archive
 *
 * Reads a byte block. Blocks longer than #CArchive:max-string-length are
 * #C_ARCHIVE_ERROR_LIMIT_EXCEEDED.
 *
 * Returns: (transfer full) (not nullable): the bytes; empty after an error
 */
GBytes *
c_archive_read_bytes (CArchive *self)
{
  GByteArray *raw;
  guint64 length;

  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);

  if (!c_archive_begin_field (self, "byte block", FALSE))
    return g_bytes_new (NULL, 0);
  length = take_count (self);
  raw = g_byte_array_new ();
  if (c_archive_check_length (self, length, "a byte block")
      && c_archive_take_into (self, (gsize) length, raw))
    return g_byte_array_free_to_bytes (raw);
  g_byte_array_unref (raw);
  return g_bytes_new (NULL, 0);
}

/**
 * c_archive_write_string:
 * @self: a storing archive
 * @text: UTF-8 text
 *
 * Writes text as it is, with neither length nor terminator (MFC's `WriteString`): add
 * "\n" to make it a line for c_archive_read_string(). The bytes are UTF-8 in both
 * formats, but in the MFC format with c_archive_set_wide_strings() (UTF-16LE, as a Unicode
 * MFC build writes them) or c_archive_set_code_page() (the code page, as an ANSI build
 * writes them); see `docs/wire-format.md`.
 *
 * Use it for line-based text: a log, a text protocol, a peer that reads lines. For a string
 * field of a record use c_archive_write_cstring(): its length lets any text through,
 * newlines included, and c_archive_read_cstring() reads it (not this).
 */
void
c_archive_write_string (CArchive *self, const char *text)
{
  gsize length;

  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (text != NULL);

  if (!c_archive_begin_field (self, "line", TRUE))
    return;
  length = strlen (text);
  if (!g_utf8_validate_len (text, length, NULL))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "the text is not valid UTF-8");
      return;
    }
  if (self->format == C_ARCHIVE_FORMAT_MFC && c_archive_put_mfc_line (self, text, length))
    return;
  c_archive_put (self, text, length);
}

/* Moves bytes up to and including the next newline into line. Scans each byte once,
 * however the line is split across refills. Returns TRUE once the newline was found. */
static gboolean
take_line_chunk (CArchive *self, GByteArray *line)
{
  const guint8 *start = self->data + self->cur;
  const guint8 *newline = memchr (start, '\n', self->end - self->cur);
  gsize chunk = newline != NULL ? (gsize) (newline - start) + 1 : self->end - self->cur;

  if (line->len + chunk > self->limits[C_ARCHIVE_LIMIT_STRING_LENGTH])
    {
      c_archive_check_length (self, (guint64) line->len + chunk, "a line");
      return TRUE;
    }
  g_byte_array_append (line, start, chunk);
  self->cur += chunk;
  return newline != NULL;
}

static void
strip_newline (GByteArray *line)
{
  if (line->len > 0 && line->data[line->len - 1] == '\n')
    g_byte_array_set_size (line, line->len - 1);
  if (line->len > 0 && line->data[line->len - 1] == '\r')
    g_byte_array_set_size (line, line->len - 1);
}

/**
 * c_archive_read_string:
 * @self: a loading archive
 *
 * Reads a line of text up to "\n" (MFC's `ReadString`). The newline, and a "\r" before
 * it, are dropped. A last line without newline is returned as it is. Reaching the end of
 * the archive with nothing read is not an error: the result is then %NULL, as MFC's
 * `ReadString` returns `FALSE`. A line that is not UTF-8 (or, in the MFC format, text of
 * the archive's code page, or UTF-16LE with c_archive_set_wide_strings()) or holds a NUL
 * character is #C_ARCHIVE_ERROR_BAD_DATA; when it looks like a string of
 * c_archive_write_cstring() (a length field, then text), the error says so.
 *
 * Returns: (transfer full) (nullable): the line in UTF-8, or %NULL at the end of the
 *   archive or after an error
 */
char *
c_archive_read_string (CArchive *self)
{
  g_autoptr (GByteArray) line = NULL;
  gboolean complete = FALSE;
  gsize length;
  char *text;

  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);

  if (!c_archive_begin_field (self, "line", FALSE))
    return NULL;
  if (self->format == C_ARCHIVE_FORMAT_MFC && self->wide_strings)
    return c_archive_read_wide_line (self);
  line = g_byte_array_new ();
  while (!complete && self->error == NULL)
    {
      if (self->cur == self->end && !c_archive_refill (self))
        break;
      complete = take_line_chunk (self, line);
    }
  if (self->error != NULL || (line->len == 0 && !complete))
    return NULL;
  strip_newline (line);
  text = c_archive_decode_narrow (self, line->data, line->len, FALSE, "line", self->field_offset,
                                  &length);
  if (text == NULL)
    c_archive_explain_line_failure (self, line->data, line->len);
  return text;
}

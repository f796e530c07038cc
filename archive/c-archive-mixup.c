/* c-archive-mixup.c: saying so when a CString was read as a line, or a line as a CString
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * c_archive_write_string() writes a text line as it is; c_archive_write_cstring() writes a
 * length, then the text (docs/wire-format.md §5.1 and §5.3). Read with the other function,
 * either fails with an error about a length or about the bytes, which does not say what
 * went wrong. Once such a read has failed, these look at the bytes it found and, when they
 * look like the other kind, replace the error with one that says so. They run only after a
 * failure: a read that succeeds pays nothing.
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* How much of the found bytes is looked at, and shown in the message. */
#define LOOK_AT 48
#define SHOW 32

static gboolean
is_text_byte (guint8 byte)
{
  return (byte >= 0x20 && byte != 0x7f) || byte == '\t' || byte == '\r';
}

/* The length of the text at the start of bytes: text bytes, valid UTF-8 but for a
 * character cut by the end, up to a newline (*newline: whether one ends it). */
static gsize
text_prefix (const guint8 *bytes, gsize n, gboolean *newline)
{
  const char *valid_end;
  gsize i = 0;

  while (i < n && bytes[i] != '\n' && is_text_byte (bytes[i]))
    i++;
  *newline = i < n && bytes[i] == '\n';
  if (!g_utf8_validate_len ((const char *) bytes, i, &valid_end))
    {
      gsize valid = (gsize) (valid_end - (const char *) bytes);

      /* A character cut off where the bytes end is fine; anything else is not text. */
      if (*newline || i < n || i - valid > 3)
        {
          *newline = FALSE;
          return valid;
        }
    }
  return i;
}

void
c_archive_explain_cstring_failure (CArchive *self, guint64 length, gboolean wide,
                                   const GByteArray *body)
{
  guint8 found[LOOK_AT];
  gsize n = 0, text;
  gboolean newline;
  g_autofree char *shown = NULL;

  if (self->error == NULL || wide)
    return;
  /* What is looked at must not depend on how the bytes arrived (the fuzzers read every
   * input from memory and through streams cut anywhere, and compare the errors).
   *
   * Network: only the length field, as it was on the wire. Four text bytes are a length over
   * half a gigabyte, so they decide alone; what follows them is not looked at, since after a
   * length over the limit a stream holds only what it happened to buffer. */
  if (self->format == C_ARCHIVE_FORMAT_NETWORK)
    {
      guint32 be = GUINT32_TO_BE ((guint32) length);

      if (length >= G_MAXUINT32)
        return;
      memcpy (found, &be, 4);
      if (text_prefix (found, 4, &newline) < 4)
        return;
      text = 4;
    }
  /* MFC: the one-byte length is text whenever it is 32 to 126, so a whole line is asked
   * for, found in the bytes after it: the string's bytes, or all that was left, after any
   * failure but a length over the limit (which a one-byte length is only under a limit below
   * 255 bytes, and there a stream would again hold only what it buffered). */
  else
    {
      const guint8 *rest = self->data + self->cur;
      gsize rest_length = self->end - self->cur;

      if (length >= 0xFF
          || g_error_matches (self->error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED))
        return;
      found[n++] = (guint8) length;
      if (body != NULL && body->len > 0)
        {
          rest = body->data;
          rest_length = body->len;
        }
      if (rest_length > 0)
        {
          gsize more = MIN (rest_length, sizeof found - n);

          memcpy (found + n, rest, more);
          n += more;
        }
      text = text_prefix (found, n, &newline);
      if (!newline || text == 0)
        return;
      if (found[text - 1] == '\r')
        text--; /* "\r\n": not shown */
    }
  shown = g_utf8_make_valid ((const char *) found, (gssize) MIN (text, SHOW));
  c_archive_replace_error (self, C_ARCHIVE_ERROR_BAD_DATA,
                           "expected a length-prefixed CString, found what looks like a "
                           "text line (starting \"%s\"): was it written with "
                           "c_archive_write_string()? Read lines with "
                           "c_archive_read_string()",
                           shown);
}

void
c_archive_explain_line_failure (CArchive *self, const guint8 *line, gsize n)
{
  guint64 length;

  if (self->error == NULL || n == 0)
    return;
  if (self->format == C_ARCHIVE_FORMAT_NETWORK)
    {
      guint32 be;

      /* A length below 16 MiB starts with a zero byte, which no text line has. */
      if (n < 4 || line[0] != 0)
        return;
      memcpy (&be, line, 4);
      length = GUINT32_FROM_BE (be);
      if (length > n - 4)
        return;
    }
  else if (line[0] == 0xFF && n >= 3)
    length = G_MAXUINT64; /* MFC's escape to a longer length or a wide string */
  else if (is_text_byte (line[0]) || (gsize) line[0] > n - 1)
    return;
  else
    length = line[0];
  if (length == G_MAXUINT64)
    c_archive_replace_error (self, C_ARCHIVE_ERROR_BAD_DATA,
                             "expected a text line, found what looks like a length-prefixed "
                             "CString (MFC's long or wide form): was it written with "
                             "c_archive_write_cstring()? Read those with "
                             "c_archive_read_cstring()");
  else
    c_archive_replace_error (self, C_ARCHIVE_ERROR_BAD_DATA,
                             "expected a text line, found what looks like a length-prefixed "
                             "CString of %" G_GUINT64_FORMAT " bytes: was it written with "
                             "c_archive_write_cstring()? Read those with "
                             "c_archive_read_cstring()",
                             length);
}

/* c-archive-codepage.c: the text of the MFC format: Unicode builds, ANSI code pages, NULs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An MFC program writes a CString in the characters of its build (afxstr.h, operator<< for
 * CStringT: AfxWriteStringLength (ar, length, sizeof (BaseType) == sizeof (wchar_t)), then
 * the characters): a _UNICODE build always wide, UTF-16LE after the wide mark; an ANSI build
 * narrow, in its Windows code page. Lines (CArchive::WriteString and ReadString) are TCHARs
 * too. Two options of the archive name the peer (docs/wire-format.md §5.5): wide-strings and
 * code-page. This file owns them and turns the MFC format's text into UTF-8 and back: narrow
 * text in the code page through GLib's iconv, wide text by hand (NULs and the offsets of
 * bad characters must survive, which g_utf16_to_utf8() does not give), wide lines.
 * c-archive-string.c keeps the lengths, the fast paths and the network format, which is
 * UTF-8 whatever the options say.
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

struct _CArchiveCodePage
{
  char *name;     /* as the caller gave it */
  GIConv decoder; /* the code page to UTF-8 */
  GIConv encoder; /* UTF-8 to the code page */
};

/* The properties of the options (c_archive_install_text_properties()). */
static GParamSpec *wide_strings_pspec;
static GParamSpec *code_page_pspec;

/* Wide text is written through a small buffer, so that a long string costs no second
 * copy of itself. */
#define WIDE_CHUNK 2048

/* ---- The options ---------------------------------------------------------------------- */

static void
code_page_free (CArchiveCodePage *code_page)
{
  if (code_page == NULL)
    return;
  g_iconv_close (code_page->decoder);
  g_iconv_close (code_page->encoder);
  g_free (code_page->name);
  g_free (code_page);
}

void
c_archive_clear_code_page (CArchive *self)
{
  g_clear_pointer (&self->code_page, code_page_free);
}

/* Converts all of in, from a fresh state: NULs included, unlike g_convert() with -1. */
static char *
convert_all (GIConv converter, const char *in, gsize length, gsize *bytes_read, gsize *out_length,
             GError **error)
{
  g_iconv (converter, NULL, NULL, NULL, NULL);
  return g_convert_with_iconv (in, (gssize) length, converter, bytes_read, out_length, error);
}

/* Whether every ASCII character is one byte of itself, both ways, as in every Windows code
 * page: the fast paths copy ASCII text without converting it. EBCDIC, UTF-16, ISO-2022's
 * escapes, HZ's and UTF-7's shifts, and Shift_JIS's yen sign (0x5C) fail; *bad is the
 * first byte that does. */
static gboolean
keeps_ascii (CArchiveCodePage *code_page, guint8 *bad)
{
  for (guint8 byte = 1; byte < 0x80; byte++)
    {
      g_autofree char *decoded = NULL;
      g_autofree char *encoded = NULL;
      gsize n_decoded = 0, n_encoded = 0;

      decoded = convert_all (code_page->decoder, (const char *) &byte, 1, NULL, &n_decoded, NULL);
      encoded = convert_all (code_page->encoder, (const char *) &byte, 1, NULL, &n_encoded, NULL);
      if (decoded == NULL || encoded == NULL || n_decoded != 1 || n_encoded != 1
          || (guint8) decoded[0] != byte || (guint8) encoded[0] != byte)
        {
          *bad = byte;
          return FALSE;
        }
    }
  return TRUE;
}

static CArchiveCodePage *
code_page_open (const char *name, GError **error)
{
  CArchiveCodePage *code_page = g_new0 (CArchiveCodePage, 1);
  /* Windows names its code pages by number (GetACP () says 949): "949" is "CP949". */
  g_autofree char *iconv_name = name[0] != '\0' && strspn (name, "0123456789") == strlen (name)
                                    ? g_strconcat ("CP", name, NULL)
                                    : g_strdup (name);
  guint8 bad;

  code_page->name = g_strdup (name);
  /* iconv takes "" for the locale's own encoding, which is no peer's code page. */
  code_page->decoder = name[0] != '\0' ? g_iconv_open ("UTF-8", iconv_name) : (GIConv) -1;
  code_page->encoder = name[0] != '\0' ? g_iconv_open (iconv_name, "UTF-8") : (GIConv) -1;
  if (code_page->decoder == (GIConv) -1 || code_page->encoder == (GIConv) -1)
    {
      g_set_error (error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION,
                   "code page '%s' is not known to the system's character conversion (iconv); "
                   "Windows code pages are named CP1252, CP949, CP932, CP936, ...",
                   name);
      if (code_page->decoder != (GIConv) -1)
        g_iconv_close (code_page->decoder);
      if (code_page->encoder != (GIConv) -1)
        g_iconv_close (code_page->encoder);
      g_free (code_page->name);
      g_free (code_page);
      return NULL;
    }
  if (!keeps_ascii (code_page, &bad))
    {
      g_set_error (error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION,
                   "code page '%s' does not keep ASCII as it is (byte 0x%02x), as every "
                   "Windows code page does; name the Windows code page (for Japanese CP932, "
                   "not SHIFT_JIS)",
                   name, bad);
      code_page_free (code_page);
      return NULL;
    }
  return code_page;
}

/**
 * c_archive_set_code_page:
 * @self: an archive
 * @code_page: (nullable): the peer's Windows code page, as iconv names it ("CP1252",
 *   "CP949", "CP932", "CP936", or the number alone, "949"); %NULL for none
 * @error: return location for an unknown code page
 *
 * Names the Windows code page of an ANSI (MBCS) MFC peer. In the MFC format, the strings and
 * lines that this archive writes narrow are then written in that code page, and the narrow
 * strings and lines it reads are converted from it to UTF-8; wide strings are unaffected,
 * and the network format stays UTF-8. Text that the code page cannot represent is
 * #C_ARCHIVE_ERROR_BAD_DATA when writing, naming the character and its offset (never a
 * silent '?'), as are bytes that are not text in the code page when reading. See
 * `docs/wire-format.md` §5.5 for how it combines with c_archive_set_wide_strings().
 *
 * Without a code page (the default), the MFC format writes ASCII text narrow and any other
 * text wide, which every MFC build reads, and reads narrow strings as UTF-8.
 *
 * The code page must be one that the system's iconv knows and that keeps ASCII as it is,
 * as Windows code pages do; otherwise this fails with %G_CONVERT_ERROR_NO_CONVERSION and
 * the archive keeps its previous code page. It may be set at any time, for the fields that
 * follow; c_archive_reload() keeps it. Also the #CArchive:code-page property.
 *
 * Returns: %TRUE if the code page was set
 */
gboolean
c_archive_set_code_page (CArchive *self, const char *code_page, GError **error)
{
  CArchiveCodePage *opened = NULL;

  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_strcmp0 (code_page, c_archive_get_code_page (self)) == 0)
    return TRUE;
  if (code_page != NULL && (opened = code_page_open (code_page, error)) == NULL)
    return FALSE;
  c_archive_clear_code_page (self);
  self->code_page = opened;
  g_object_notify_by_pspec (G_OBJECT (self), code_page_pspec);
  return TRUE;
}

/**
 * c_archive_get_code_page:
 * @self: an archive
 *
 * The code page set by c_archive_set_code_page().
 *
 * Returns: (nullable): the code page's name as it was given, or %NULL for none
 */
const char *
c_archive_get_code_page (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
  return self->code_page != NULL ? self->code_page->name : NULL;
}

/**
 * c_archive_set_wide_strings:
 * @self: an archive
 * @wide_strings: whether the peer is a Unicode MFC build
 *
 * Makes the MFC format write as a `_UNICODE` MFC build does: every string wide (the wide
 * mark, the length in UTF-16 code units, then UTF-16LE), ASCII and empty strings included,
 * and lines (c_archive_write_string(), c_archive_read_string()) in UTF-16LE both ways, as
 * the Unicode build's `WriteString` and `ReadString` have them. Strings are read narrow or
 * wide as before, whatever this says. The network format is unaffected. It may be changed at
 * any time, for the fields that follow; c_archive_reload() keeps it. Also the
 * #CArchive:wide-strings property.
 */
void
c_archive_set_wide_strings (CArchive *self, gboolean wide_strings)
{
  g_return_if_fail (C_IS_ARCHIVE (self));

  wide_strings = !!wide_strings;
  if (self->wide_strings == wide_strings)
    return;
  self->wide_strings = wide_strings;
  self->mfc_narrow_below = wide_strings ? 0 : C_ARCHIVE_MFC_LENGTH_WORD;
  g_object_notify_by_pspec (G_OBJECT (self), wide_strings_pspec);
}

/**
 * c_archive_get_wide_strings:
 * @self: an archive
 *
 * Tells whether c_archive_set_wide_strings() is on.
 *
 * Returns: %TRUE if the MFC format writes every string wide
 */
gboolean
c_archive_get_wide_strings (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);
  return self->wide_strings;
}

/* ---- Their properties -------------------------------------------------------------------
 *
 * c-archive.c's class_init calls c_archive_install_text_properties() last: it installs the
 * two properties and puts text_get_property() and text_set_property() in front of the
 * class's own, which get the other properties; text_constructed() gives each archive its
 * default for the direct path of c_archive_write_cstring(). */

enum
{
  PROP_WIDE_STRINGS = 0x100, /* after c-archive.c's own */
  PROP_CODE_PAGE
};

static void (*archive_get_property) (GObject *, guint, GValue *, GParamSpec *);
static void (*archive_set_property) (GObject *, guint, const GValue *, GParamSpec *);
static void (*archive_constructed) (GObject *);

static void
text_constructed (GObject *object)
{
  archive_constructed (object);
  C_ARCHIVE (object)->mfc_narrow_below = C_ARCHIVE_MFC_LENGTH_WORD;
}

static void
text_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  if (pspec == wide_strings_pspec)
    g_value_set_boolean (value, c_archive_get_wide_strings (C_ARCHIVE (object)));
  else if (pspec == code_page_pspec)
    g_value_set_string (value, c_archive_get_code_page (C_ARCHIVE (object)));
  else
    archive_get_property (object, prop_id, value, pspec);
}

static void
text_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  g_autoptr (GError) error = NULL;

  if (pspec == wide_strings_pspec)
    c_archive_set_wide_strings (C_ARCHIVE (object), g_value_get_boolean (value));
  else if (pspec == code_page_pspec)
    {
      /* A property cannot fail: say why, and keep the previous code page. */
      if (!c_archive_set_code_page (C_ARCHIVE (object), g_value_get_string (value), &error))
        g_warning ("CArchive:code-page: %s", error->message);
    }
  else
    archive_set_property (object, prop_id, value, pspec);
}

void
c_archive_install_text_properties (GObjectClass *object_class)
{
  archive_get_property = object_class->get_property;
  archive_set_property = object_class->set_property;
  object_class->get_property = text_get_property;
  object_class->set_property = text_set_property;
  archive_constructed = object_class->constructed;
  object_class->constructed = text_constructed;

  /**
   * CArchive:wide-strings:
   *
   * Whether the MFC format writes every string and line wide, as a `_UNICODE` MFC build
   * does: see c_archive_set_wide_strings().
   */
  wide_strings_pspec
      = g_param_spec_boolean ("wide-strings", "Wide strings", NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * CArchive:code-page:
   *
   * The Windows code page of an ANSI MFC peer, or %NULL: see c_archive_set_code_page().
   * Setting a code page that is not known logs a warning and keeps the previous one.
   */
  code_page_pspec
      = g_param_spec_string ("code-page", "Code page", NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (object_class, PROP_WIDE_STRINGS, wide_strings_pspec);
  g_object_class_install_property (object_class, PROP_CODE_PAGE, code_page_pspec);
}

/* ---- UTF-8 with NULs ------------------------------------------------------------------- */

/* Whether text is valid UTF-8, NUL characters allowed where nul_allowed; *bad: the offset
 * of the first byte that is not (g_utf8_validate_len() refuses every NUL). */
gboolean
c_archive_utf8_valid (const char *text, gsize length, gboolean nul_allowed, gsize *bad)
{
  const char *p = text;
  const char *end = text + length;
  const char *stop;

  while (!g_utf8_validate_len (p, (gsize) (end - p), &stop))
    {
      if (!nul_allowed || *stop != '\0')
        {
          *bad = (gsize) (stop - text);
          return FALSE;
        }
      p = stop + 1;
    }
  return TRUE;
}

/* The next character of valid UTF-8 (NUL included) and where the one after it starts. */
static inline gunichar
next_char (const char **p)
{
  gunichar c;

  if (**p == '\0')
    {
      (*p)++;
      return 0;
    }
  c = g_utf8_get_char (*p);
  *p = g_utf8_next_char (*p);
  return c;
}

static gboolean
all_ascii (const guint8 *bytes, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (bytes[i] >= 0x80)
      return FALSE;
  return TRUE;
}

/* ---- Writing -------------------------------------------------------------------------- */

/* UTF-16LE of valid UTF-8 text, NULs included; with length_prefix, MFC's wide mark and
 * length first (a string), else the units alone (a line). */
static void
put_wide (CArchive *self, const char *text, gsize length, gboolean length_prefix)
{
  const char *end = text + length;
  guint8 chunk[WIDE_CHUNK];
  gsize n = 0;

  if (length_prefix)
    {
      guint64 units = 0;

      for (const char *p = text; p < end;)
        units += next_char (&p) >= 0x10000 ? 2 : 1;
      c_archive_put_mfc_length (self, units, TRUE);
    }
  for (const char *p = text; p < end;)
    {
      gunichar c = next_char (&p);
      gunichar2 units[2];
      int n_units = 1;

      units[0] = (gunichar2) c;
      if (c >= 0x10000)
        {
          units[0] = (gunichar2) (0xD800 + ((c - 0x10000) >> 10));
          units[1] = (gunichar2) (0xDC00 + ((c - 0x10000) & 0x3FF));
          n_units = 2;
        }
      if (n + 4 > sizeof chunk)
        {
          c_archive_put (self, chunk, n);
          n = 0;
        }
      for (int i = 0; i < n_units; i++)
        {
          chunk[n++] = (guint8) (units[i] & 0xFF);
          chunk[n++] = (guint8) (units[i] >> 8);
        }
    }
  c_archive_put (self, chunk, n);
}

/* The text in the archive's code page, or NULL having failed: a character the code page
 * does not have is named with its offset in the caller's text. */
static char *
encode_code_page (CArchive *self, const char *text, gsize length, gsize *n)
{
  g_autoptr (GError) error = NULL;
  gsize done = 0;
  char *out = convert_all (self->code_page->encoder, text, length, &done, n, &error);
  char shown[8] = { 0 };
  gunichar c;

  if (out != NULL)
    return out;
  if (!g_error_matches (error, G_CONVERT_ERROR, G_CONVERT_ERROR_ILLEGAL_SEQUENCE) || done >= length)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "conversion to code page %s failed: %s",
                      self->code_page->name, error->message);
      return NULL;
    }
  c = g_utf8_get_char (text + done);
  if (g_unichar_isprint (c))
    g_unichar_to_utf8 (c, shown);
  c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                  "the character U+%04X%s%s%s at byte %" G_GSIZE_FORMAT
                  " of the text has no encoding in code page %s",
                  c, shown[0] ? " '" : "", shown, shown[0] ? "'" : "", done, self->code_page->name);
  return NULL;
}

/* The text of a CString in the MFC format, valid UTF-8 (NULs allowed) that the archive
 * does not write as plain narrow ASCII: wide for a Unicode peer or without a code page,
 * narrow in the code page otherwise. */
void
c_archive_put_mfc_text (CArchive *self, const char *text, gsize length)
{
  g_autofree char *narrow = NULL;
  gsize n = 0;

  if (self->wide_strings || self->code_page == NULL)
    {
      put_wide (self, text, length, TRUE);
      return;
    }
  if ((narrow = encode_code_page (self, text, length, &n)) == NULL)
    return;
  c_archive_put_mfc_length (self, n, FALSE);
  c_archive_put (self, narrow, n);
}

/* A line in the MFC format when the options change its bytes: UTF-16LE for a Unicode peer,
 * the code page for an ANSI one (non-ASCII text only: ASCII is the same bytes). Returns
 * FALSE, having written nothing, when the line is plain UTF-8. */
gboolean
c_archive_put_mfc_line (CArchive *self, const char *text, gsize length)
{
  g_autofree char *narrow = NULL;
  gsize n = 0;

  if (self->format != C_ARCHIVE_FORMAT_MFC)
    return FALSE;
  if (self->wide_strings)
    {
      put_wide (self, text, length, FALSE);
      return TRUE;
    }
  if (self->code_page == NULL || all_ascii ((const guint8 *) text, length))
    return FALSE;
  if ((narrow = encode_code_page (self, text, length, &n)) != NULL)
    c_archive_put (self, narrow, n);
  return TRUE;
}

/* ---- Reading -------------------------------------------------------------------------- */

static char *
copy_text (const guint8 *bytes, gsize n, gsize *length)
{
  char *text = g_malloc (n + 1);

  if (n > 0)
    memcpy (text, bytes, n);
  text[n] = '\0';
  *length = n;
  return text;
}

/* Bytes the code page does not read as text: named with their offset (in the string and
 * in the archive) and shown, two of them, enough for a double-byte character. */
static void
fail_code_page_bytes (CArchive *self, const char *what, const guint8 *raw, gsize n, gsize at,
                      guint64 offset, gboolean partial)
{
  if (partial)
    c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                    "the %s ends inside a character of code page %s (byte 0x%02x at byte "
                    "%" G_GSIZE_FORMAT ", offset %" G_GUINT64_FORMAT ")",
                    what, self->code_page->name, raw[at], at, offset + at);
  else if (at + 1 < n)
    c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                    "bytes 0x%02x 0x%02x at byte %" G_GSIZE_FORMAT " of the %s (offset "
                    "%" G_GUINT64_FORMAT ") are not text in code page %s",
                    raw[at], raw[at + 1], at, what, offset + at, self->code_page->name);
  else
    c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                    "byte 0x%02x at byte %" G_GSIZE_FORMAT " of the %s (offset "
                    "%" G_GUINT64_FORMAT ") is not text in code page %s",
                    raw[at], at, what, offset + at, self->code_page->name);
}

static char *
decode_code_page (CArchive *self, const guint8 *raw, gsize n, const char *what, guint64 offset,
                  gsize *length)
{
  g_autoptr (GError) error = NULL;
  gsize done = 0;
  char *text = convert_all (self->code_page->decoder, (const char *) raw, n, &done, length, &error);

  /* With bytes_read, g_convert_with_iconv() succeeds on a character cut by the end of the
   * input, having converted what came before it. */
  if (text != NULL && done == n)
    return text;
  g_free (text);
  if (done < n)
    fail_code_page_bytes (self, what, raw, n, done, offset, error == NULL);
  else
    c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "conversion from code page %s failed: %s",
                    self->code_page->name, error->message);
  return NULL;
}

/* A narrow string or line, what (its name in errors) starting at offset in the archive:
 * UTF-8, or the code page's text in the MFC format with a code page. Returns its UTF-8 text
 * and sets *length; NULL having failed. A NUL is an error unless nul_allowed. */
char *
c_archive_decode_narrow (CArchive *self, const guint8 *raw, gsize n, gboolean nul_allowed,
                         const char *what, guint64 offset, gsize *length)
{
  const guint8 *nul = nul_allowed || n == 0 ? NULL : memchr (raw, 0, n);
  gsize bad = 0;

  if (nul != NULL)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "the %s contains NUL (at byte %" G_GSIZE_FORMAT ", offset %" G_GUINT64_FORMAT
                      ")%s",
                      what, (gsize) (nul - raw), offset + (gsize) (nul - raw),
                      strcmp (what, "string") == 0
                          ? ": read strings with NULs with c_archive_read_cstring_len()"
                          : "");
      return NULL;
    }
  if (all_ascii (raw, n))
    return copy_text (raw, n, length);
  if (self->format == C_ARCHIVE_FORMAT_MFC && self->code_page != NULL)
    return decode_code_page (self, raw, n, what, offset, length);
  if (c_archive_utf8_valid ((const char *) raw, n, TRUE, &bad))
    return copy_text (raw, n, length);
  c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                  "the %s is not valid UTF-8 (byte 0x%02x at byte %" G_GSIZE_FORMAT
                  ", offset %" G_GUINT64_FORMAT ")%s",
                  what, raw[bad], bad, offset + bad,
                  self->format == C_ARCHIVE_FORMAT_MFC
                      ? "; if an ANSI MFC program wrote it, name its code page with "
                        "c_archive_set_code_page()"
                      : "");
  return NULL;
}

static void
fail_wide (CArchive *self, const char *what, const char *problem, gunichar2 unit, gsize at,
           guint64 offset)
{
  c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                  "the wide %s is not valid UTF-16: %s 0x%04x at unit %" G_GSIZE_FORMAT
                  " (offset %" G_GUINT64_FORMAT ")",
                  what, problem, unit, at, offset + 2 * at);
}

/* n_units UTF-16LE code units, what starting at offset in the archive, to UTF-8. Returns
 * the text and sets *length; NULL having failed (an unpaired surrogate; a NUL unless
 * nul_allowed). */
char *
c_archive_decode_wide (CArchive *self, const guint8 *raw, gsize n_units, gboolean nul_allowed,
                       const char *what, guint64 offset, gsize *length)
{
  /* A unit gives at most three bytes of UTF-8 (a pair, two units, gives four). */
  char *text = g_malloc (3 * n_units + 1);
  char *out = text;

  for (gsize i = 0; i < n_units; i++)
    {
      gunichar2 unit = (gunichar2) (raw[2 * i] | raw[2 * i + 1] << 8);
      gunichar2 next = i + 1 < n_units ? (gunichar2) (raw[2 * i + 2] | raw[2 * i + 3] << 8) : 0;
      gunichar c = unit;

      if (unit == 0 && !nul_allowed)
        {
          c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                          "the wide %s contains NUL (at unit %" G_GSIZE_FORMAT
                          ", offset %" G_GUINT64_FORMAT ")%s",
                          what, i, offset + 2 * i,
                          strcmp (what, "string") == 0
                              ? ": read strings with NULs with c_archive_read_cstring_len()"
                              : "");
          g_free (text);
          return NULL;
        }
      if (unit >= 0xD800 && unit < 0xDC00 && next >= 0xDC00 && next < 0xE000)
        {
          c = 0x10000 + ((gunichar) (unit - 0xD800) << 10) + (next - 0xDC00);
          i++;
        }
      else if (unit >= 0xD800 && unit < 0xE000)
        {
          fail_wide (self, what, unit < 0xDC00 ? "unpaired high surrogate" : "lone low surrogate",
                     unit, i, offset);
          g_free (text);
          return NULL;
        }
      out += g_unichar_to_utf8 (c, out);
    }
  *out = '\0';
  *length = (gsize) (out - text);
  /* ASCII, as wide strings of Unicode builds often are, takes a third of the allocation. */
  return *length < 2 * n_units ? g_realloc (text, *length + 1) : text;
}

/* Moves UTF-16LE units up to and including the unit '\n' into line; every byte once, an
 * odd byte left by a refill included (line->len is then odd). TRUE once the newline was
 * found. */
static gboolean
take_wide_line_chunk (CArchive *self, GByteArray *line)
{
  const guint8 *start = self->data + self->cur;
  gsize available = self->end - self->cur;
  gsize i = 0;
  gboolean newline = FALSE;

  if (line->len % 2 == 1)
    {
      newline = line->data[line->len - 1] == '\n' && start[0] == 0;
      i = 1;
    }
  for (; !newline && i + 2 <= available; i += 2)
    newline = start[i] == '\n' && start[i + 1] == 0;
  if (!newline)
    i = available;
  if (line->len + i > self->limits[C_ARCHIVE_LIMIT_STRING_LENGTH])
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_LIMIT_EXCEEDED,
                      "a line of %" G_GUINT64_FORMAT
                      " bytes exceeds the limit of %" G_GUINT64_FORMAT " bytes",
                      (guint64) line->len + i, self->limits[C_ARCHIVE_LIMIT_STRING_LENGTH]);
      return TRUE;
    }
  g_byte_array_append (line, start, (guint) i);
  self->cur += i;
  return newline;
}

static gboolean
ends_with_unit (const GByteArray *line, guint8 unit)
{
  return line->len >= 2 && line->data[line->len - 2] == unit && line->data[line->len - 1] == 0;
}

/* c_archive_read_string() for a Unicode peer: UTF-16LE units up to the unit '\n', without
 * it and a '\r' before it. NULL at the end of the archive or after an error. */
char *
c_archive_read_wide_line (CArchive *self)
{
  g_autoptr (GByteArray) line = g_byte_array_new ();
  gboolean complete = FALSE;
  gsize length;

  while (!complete && self->error == NULL)
    {
      if (self->cur == self->end && !c_archive_refill (self))
        break;
      complete = take_wide_line_chunk (self, line);
    }
  if (self->error != NULL || (line->len == 0 && !complete))
    return NULL;
  if (line->len % 2 != 0)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_END_OF_FILE,
                      "end of archive inside a UTF-16 code unit (the wide line has %u bytes)",
                      line->len);
      return NULL;
    }
  if (ends_with_unit (line, '\n'))
    g_byte_array_set_size (line, line->len - 2);
  if (ends_with_unit (line, '\r'))
    g_byte_array_set_size (line, line->len - 2);
  return c_archive_decode_wide (self, line->data, line->len / 2, FALSE, "line", self->field_offset,
                                &length);
}

/* ---- Strings with NULs ------------------------------------------------------------------ */

/**
 * c_archive_write_cstring_len:
 * @self: a storing archive
 * @text: (array length=length) (element-type guint8): UTF-8 text, NUL characters allowed
 * @length: the length of @text in bytes
 *
 * Writes a length-prefixed string as c_archive_write_cstring() does, but one that may hold
 * NUL characters: its length, not a terminator, says where it ends, as MFC's `CString`
 * keeps it (`ar << str` writes `GetLength ()` characters, NULs included). Every format and
 * option applies: the NULs travel as the byte 00 in narrow text (UTF-8 or the code page)
 * and as the unit 0000 in wide text. Read it back with c_archive_read_cstring_len().
 *
 * Note that an MFC program built with MFC 7 or later reads such a string only up to its
 * first NUL (`operator>>` assigns the characters as a C string); `docs/wire-format.md`
 * §11 has the details.
 */
void
c_archive_write_cstring_len (CArchive *self, const char *text, gsize length)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (text != NULL || length == 0);

  c_archive_write_cstring_general (self, text != NULL ? text : "", length, TRUE);
}

/**
 * c_archive_read_cstring_len:
 * @self: a loading archive
 * @length: (out): where the length of the text in bytes goes
 *
 * Reads a length-prefixed string as c_archive_read_cstring() does, but accepts NUL
 * characters inside it and returns its full length: what c_archive_write_cstring_len()
 * writes, or MFC's `ar << str` of a `CString` with NULs. The text is followed by a NUL that
 * @length does not count. Limits and other errors are those of c_archive_read_cstring().
 *
 * Returns: (transfer full) (array length=length) (element-type guint8): the text in UTF-8;
 *   empty, with @length 0, after an error
 */
char *
c_archive_read_cstring_len (CArchive *self, gsize *length)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
  g_return_val_if_fail (length != NULL, NULL);

  return c_archive_read_cstring_general (self, TRUE, length);
}

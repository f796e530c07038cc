/* test-archive-mfc-types.c: Windows' and MFC's value types (docs/wire-format.md §13):
 * BOOL, POINT, SIZE, RECT, CTime, CTimeSpan, COleDateTime, COleDateTimeSpan, COleCurrency
 *
 * The vectors of §13 are read from the document and checked byte for byte in both formats
 * and MFC versions, then read back through every transport.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <criterion/criterion.h>

#include "archive-test-util.h"

#ifndef WIRE_FORMAT_MD
#error "WIRE_FORMAT_MD must name docs/wire-format.md"
#endif

static void
init (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

TestSuite (archive_mfc_types, .init = init, .timeout = 60);

/* "1, -2" -> {1, -2}: the numbers of a value cell. */
static guint
parse_numbers (const char *text, gint64 *out, guint max)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint n = 0;

  for (char **p = parts; *p != NULL && n < max; p++)
    out[n++] = g_ascii_strtoll (g_strstrip (*p), NULL, 0);
  return n;
}

/* "valid 2000-01-01T12:00:00Z" -> C_ARCHIVE_OLE_VALID and the rest; "null" -> NULL rest. */
static CArchiveOleStatus
parse_status (const char *value, const char **rest)
{
  static const char *const names[] = { "error", "valid", "invalid", "null" };

  *rest = NULL;
  for (int i = 0; i < 4; i++)
    if (g_str_has_prefix (value, names[i]))
      {
        if (value[strlen (names[i])] == ' ')
          *rest = value + strlen (names[i]) + 1;
        return (CArchiveOleStatus) (i - 1);
      }
  cr_assert (FALSE, "bad status in %s", value);
  return C_ARCHIVE_OLE_INVALID;
}

static GDateTime *
parse_time (const char *text)
{
  GDateTime *time = g_date_time_new_from_iso8601 (text, NULL);

  cr_assert_not_null (time, "bad time %s", text);
  return time;
}

static gboolean
write_time_vector (CArchive *ar, const char *type, const char *value)
{
  const char *rest = NULL;
  CArchiveOleStatus status;
  g_autoptr (GDateTime) time = NULL;

  if (strcmp (type, "CTime") == 0 || strcmp (type, "CTime64") == 0)
    {
      time = parse_time (value);
      (type[5] == '6' ? c_archive_write_time64 : c_archive_write_time) (ar, time);
    }
  else if (strcmp (type, "CTimeSpan") == 0)
    c_archive_write_time_span (ar, g_ascii_strtoll (value, NULL, 10) * G_TIME_SPAN_SECOND);
  else if (strcmp (type, "CTimeSpan64") == 0)
    c_archive_write_time_span64 (ar, g_ascii_strtoll (value, NULL, 10) * G_TIME_SPAN_SECOND);
  else if (strcmp (type, "COleDateTime") == 0)
    {
      status = parse_status (value, &rest);
      time = rest != NULL ? parse_time (rest) : NULL;
      c_archive_write_ole_date_time (ar, status, time);
    }
  else if (strcmp (type, "COleDateTimeSpan") == 0)
    {
      status = parse_status (value, &rest);
      c_archive_write_ole_date_time_span (
          ar, status, rest != NULL ? g_ascii_strtoll (rest, NULL, 10) * G_TIME_SPAN_SECOND : 0);
    }
  else if (strcmp (type, "COleCurrency") == 0)
    {
      status = parse_status (value, &rest);
      c_archive_write_ole_currency (ar, status,
                                    rest != NULL ? g_ascii_strtoll (rest, NULL, 10) : 0);
    }
  else
    return FALSE;
  return TRUE;
}

static gboolean
same_time (GDateTime *a, GDateTime *b)
{
  return a != NULL && b != NULL && g_date_time_compare (a, b) == 0;
}

static gboolean
check_time_vector (CArchive *ar, const char *type, const char *value)
{
  const char *rest = NULL;
  g_autoptr (GDateTime) read = NULL;
  g_autoptr (GDateTime) expected = NULL;
  CArchiveOleStatus status;
  GTimeSpan span = -1;
  gint64 amount = -1;

  if (strcmp (type, "CTime") == 0 || strcmp (type, "CTime64") == 0)
    {
      read = type[5] == '6' ? c_archive_read_time64 (ar) : c_archive_read_time (ar);
      expected = parse_time (value);
      return same_time (read, expected);
    }
  if (strcmp (type, "CTimeSpan") == 0 || strcmp (type, "CTimeSpan64") == 0)
    {
      span = type[9] == '6' ? c_archive_read_time_span64 (ar) : c_archive_read_time_span (ar);
      return span == g_ascii_strtoll (value, NULL, 10) * G_TIME_SPAN_SECOND;
    }
  status = parse_status (value, &rest);
  if (strcmp (type, "COleDateTime") == 0)
    {
      if (c_archive_read_ole_date_time (ar, &read) != status)
        return FALSE;
      if (rest == NULL)
        return read == NULL;
      expected = parse_time (rest);
      return same_time (read, expected);
    }
  if (strcmp (type, "COleDateTimeSpan") == 0)
    return c_archive_read_ole_date_time_span (ar, &span) == status
           && span == (rest != NULL ? g_ascii_strtoll (rest, NULL, 10) * G_TIME_SPAN_SECOND : 0);
  if (strcmp (type, "COleCurrency") == 0)
    return c_archive_read_ole_currency (ar, &amount) == status
           && amount == (rest != NULL ? g_ascii_strtoll (rest, NULL, 10) : 0);
  return FALSE;
}

static void
write_vector (CArchive *ar, const char *type, const char *value)
{
  gint64 v[4] = { 0 };

  parse_numbers (value, v, 4);
  if (strcmp (type, "BOOL") == 0)
    c_archive_write_win_bool (ar, v[0] != 0);
  else if (strcmp (type, "bool") == 0)
    c_archive_write_bool (ar, v[0] != 0);
  else if (strcmp (type, "POINT") == 0)
    c_archive_write_point (ar, (gint32) v[0], (gint32) v[1]);
  else if (strcmp (type, "SIZE") == 0)
    c_archive_write_size (ar, (gint32) v[0], (gint32) v[1]);
  else if (strcmp (type, "RECT") == 0)
    c_archive_write_rect (ar, (gint32) v[0], (gint32) v[1], (gint32) v[2], (gint32) v[3]);
  else
    cr_assert (write_time_vector (ar, type, value), "unknown type %s", type);
}

static void
check_vector (CArchive *ar, const char *type, const char *value)
{
  gint64 v[4] = { 0 };
  gint32 r[4] = { 0 };

  parse_numbers (value, v, 4);
  if (strcmp (type, "BOOL") == 0)
    cr_assert_eq (c_archive_read_win_bool (ar), v[0] != 0, "[%s]", test_context);
  else if (strcmp (type, "bool") == 0)
    cr_assert_eq (c_archive_read_bool (ar), v[0] != 0, "[%s]", test_context);
  else if (strcmp (type, "POINT") == 0)
    c_archive_read_point (ar, &r[0], &r[1]);
  else if (strcmp (type, "SIZE") == 0)
    c_archive_read_size (ar, &r[0], &r[1]);
  else if (strcmp (type, "RECT") == 0)
    c_archive_read_rect (ar, &r[0], &r[1], &r[2], &r[3]);
  else
    {
      cr_assert (check_time_vector (ar, type, value), "[%s] %s %s", test_context, type, value);
      return;
    }
  if (g_ascii_strcasecmp (type, "bool") != 0)
    for (int i = 0; i < 4; i++)
      cr_assert_eq (r[i], v[i], "[%s] %s %s: field %d is %d", test_context, type, value, i, r[i]);
}

/* The MFC version column: "" for every version, or the versions a row is for. */
static void
check_rows (void)
{
  g_autoptr (GPtrArray) rows = test_spec_table (WIRE_FORMAT_MD, "mfc-types");

  for (guint r = 0; r < rows->len; r++)
    {
      char **row = rows->pdata[r]; /* type, value, MFC versions, network, MFC */

      for (int format = 0; format < 2; format++)
        {
          g_autoptr (CArchive) ar = c_archive_new_store_to_memory (format);
          g_autoptr (GBytes) expected = test_bytes_from_hex (row[3 + format]);
          g_autoptr (GBytes) bytes = NULL;
          g_autofree char *hex = NULL;
          guint version = (guint) g_ascii_strtoull (row[2], NULL, 0);

          if (version != 0)
            c_archive_set_mfc_version (ar, version);
          write_vector (ar, row[0], row[1]);
          test_assert_ok (ar);
          bytes = c_archive_steal_bytes (ar);
          hex = test_hex (bytes);
          cr_assert (g_bytes_equal (bytes, expected),
                     "%s %s (%s, MFC %s): wrote %s, the table says %s", row[0], row[1],
                     format_names[format], row[2], hex, row[3 + format]);
          for (int transport = 0; transport < N_TRANSPORTS; transport++)
            {
              g_autoptr (CArchive) loader = test_load (expected, format, transport);

              if (version != 0)
                c_archive_set_mfc_version (loader, version);
              g_snprintf (test_context, sizeof test_context, "%s %s, %s, %s", row[0], row[1],
                          format_names[format], transport_names[transport]);
              check_vector (loader, row[0], row[1]);
              test_assert_ok (loader);
              cr_assert (c_archive_is_buffer_empty (loader), "[%s] bytes left", test_context);
            }
        }
    }
}

Test (archive_mfc_types, vectors_from_the_specification)
{
  check_rows ();
}

Test (archive_mfc_types, bool_is_strict_in_the_network_format_only)
{
  g_autoptr (GBytes) two = test_bytes_from_hex ("00 00 00 02");
  g_autoptr (GBytes) two_le = test_bytes_from_hex ("02 00 00 00");
  g_autoptr (CArchive) net = c_archive_new_load_from_bytes (two, C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (CArchive) mfc = c_archive_new_load_from_bytes (two_le, C_ARCHIVE_FORMAT_MFC);

  cr_assert_not (c_archive_read_win_bool (net));
  test_assert_archive_error (net, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                             "a BOOL of 2 is neither 0 nor 1", NULL);
  cr_assert (c_archive_read_win_bool (mfc), "MFC's BOOL: any non-zero value is TRUE");
  test_assert_ok (mfc);
}

Test (archive_mfc_types, geometry_truncated)
{
  g_autoptr (GBytes) bytes = test_bytes_from_hex ("0a 00 00 00 14 00 00 00 1e 00");
  gint32 left = 99, top = 99, right = 99, bottom = 99;

  for (int transport = 0; transport < N_TRANSPORTS; transport++)
    {
      g_autoptr (CArchive) ar = test_load (bytes, C_ARCHIVE_FORMAT_MFC, transport);

      c_archive_read_rect (ar, &left, &top, &right, &bottom);
      test_assert_archive_error (ar, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE, "RECT", NULL);
      cr_assert (left == 0 && top == 0 && right == 0 && bottom == 0, "zeros after an error");
    }
}

/* ---- Edges of the conversions ---- */

/* DATEs around the epoch and before it: the fraction is always the time of the day the
 * integer part names, so -0.25 and 0.25 are the same moment and -1.75 is 18:00 the day
 * before the epoch. Every afxsock write of a time gives back that time. */
Test (archive_mfc_types, ole_dates_at_the_edges)
{
  static const struct
  {
    gdouble date;
    const char *time;
  } cases[] = {
    { 0.0, "1899-12-30T00:00:00Z" },
    { 0.25, "1899-12-30T06:00:00Z" },
    { -0.25, "1899-12-30T06:00:00Z" },
    { -1.0, "1899-12-29T00:00:00Z" },
    { -1.75, "1899-12-29T18:00:00Z" },
    { 1.5, "1899-12-31T12:00:00Z" },
    { 2958465.5, "9999-12-31T12:00:00Z" },
    { -657434.0, "0100-01-01T00:00:00Z" },
    { 36526.0 + 1.0 / 86400.0, "2000-01-01T00:00:01Z" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
      g_autoptr (CArchive) loader = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GDateTime) read = NULL;
      g_autoptr (GDateTime) expected = parse_time (cases[i].time);
      g_autofree char *shown = NULL;
      guint64 bits;

      c_archive_write_long (ar, 0);
      memcpy (&bits, &cases[i].date, sizeof bits);
      c_archive_write_uint64 (ar, bits);
      bytes = c_archive_steal_bytes (ar);
      loader = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_MFC);
      cr_assert_eq (c_archive_read_ole_date_time (loader, &read), C_ARCHIVE_OLE_VALID);
      test_assert_ok (loader);
      shown = g_date_time_format_iso8601 (read);
      cr_assert (same_time (read, expected), "DATE %.17g read as %s, not %s", cases[i].date, shown,
                 cases[i].time);

      /* Written back: the canonical DATE (never one of the duplicates in (-1, 0)). */
      {
        g_autoptr (CArchive) again = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
        g_autoptr (GBytes) written = NULL;
        const guint8 *data;
        gdouble date;

        c_archive_write_ole_date_time (again, C_ARCHIVE_OLE_VALID, read);
        written = c_archive_steal_bytes (again);
        data = g_bytes_get_data (written, NULL);
        memcpy (&date, data + 4, sizeof date);
        cr_assert (date == cases[i].date || (cases[i].date == -0.25 && date == 0.25),
                   "%s written as DATE %.17g", cases[i].time, date);
      }
    }
}

/* A DATE holds wall-clock time: a GDateTime in another zone is written as the time it
 * shows there. */
Test (archive_mfc_types, ole_date_is_wall_clock_time)
{
  g_autoptr (GTimeZone) zone = g_time_zone_new_offset (9 * 3600);
  g_autoptr (GDateTime) seoul = g_date_time_new (zone, 2024, 3, 1, 9, 30, 0);
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) loader = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GDateTime) read = NULL;

  c_archive_write_ole_date_time (ar, C_ARCHIVE_OLE_VALID, seoul);
  bytes = c_archive_steal_bytes (ar);
  loader = c_archive_new_load_from_bytes (bytes, C_ARCHIVE_FORMAT_MFC);
  c_archive_read_ole_date_time (loader, &read);
  cr_assert_eq (g_date_time_get_hour (read), 9);
  cr_assert_eq (g_date_time_get_minute (read), 30);
  cr_assert_eq (g_date_time_get_utc_offset (read), 0);
}

/* An MFC 6 peer writes C++ bool as an int; a record of bools and strings round-trips with
 * it through every transport (the fast paths are closed for such an archive). */
static void
write_mfc6_record (CArchive *ar)
{
  c_archive_set_mfc_version (ar, C_ARCHIVE_MFC_VERSION_6);
  c_archive_write_bool (ar, TRUE);
  c_archive_write_cstring (ar, "between");
  c_archive_write_bool (ar, FALSE);
  c_archive_write_long (ar, 7);
}

static void
read_mfc6_record (CArchive *ar)
{
  g_autofree char *text = NULL;

  c_archive_set_mfc_version (ar, C_ARCHIVE_MFC_VERSION_6);
  cr_assert (c_archive_read_bool (ar));
  text = c_archive_read_cstring (ar);
  cr_assert_str_eq (text, "between");
  cr_assert_not (c_archive_read_bool (ar));
  cr_assert_eq (c_archive_read_long (ar), 7);
}

Test (archive_mfc_types, mfc6_bool_round_trip)
{
  g_autoptr (CArchive) ar = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (GBytes) bytes = NULL;

  test_roundtrip_everywhere (write_mfc6_record, read_mfc6_record);
  write_mfc6_record (ar);
  bytes = c_archive_steal_bytes (ar);
  cr_assert_eq (g_bytes_get_size (bytes), 4 + 8 + 4 + 4, "MFC 6: two 4-byte bools");
}

typedef struct
{
  const char *what;
  guint version;
  const char *type;
  const char *hex;
  const char *fragment;
} BadTime;

static const BadTime bad_times[] = {
  { "status 3", 0, "COleDateTime", "03 00 00 00 00 00 00 00 00 00 00 00",
    "status 3 is not one of MFC's" },
  { "status -1 from MFC 6", C_ARCHIVE_MFC_VERSION_6, "COleDateTime",
    "ff ff ff ff 00 00 00 00 00 00 00 00", "status -1 is not one of MFC's" },
  { "status -1 is for dates only", 0, "COleCurrency", "ff ff ff ff 00 00 00 00 00 00 00 00",
    "status -1" },
  { "a NaN DATE", 0, "COleDateTime", "00 00 00 00 00 00 00 00 00 00 f8 7f", "outside" },
  { "a DATE before the year 100", 0, "COleDateTime", "00 00 00 00 00 00 00 00 c0 5c 25 c1",
    "outside COleDateTime's range" },
  { "a DATE of 10000-01-01", 0, "COleDateTime", "00 00 00 00 00 00 00 00 41 92 46 41",
    "outside COleDateTime's range" },
  { "an infinite span", 0, "COleDateTimeSpan", "00 00 00 00 00 00 00 00 00 00 f0 7f",
    "does not fit a GTimeSpan" },
  { "a CTime past 9999", 0, "CTime", "0a 00 00 80 00 00 00 00 00 00 00 7f",
    "outside the years 1 to 9999" },
  { "a CTime cut short", 0, "CTime", "0a 00 00 80 00 00 00", "CTime" },
  { "a currency cut short", 0, "COleCurrency", "00 00 00 00 01 00", "COleCurrency" },
};

Test (archive_mfc_types, malformed_input)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_times); i++)
    {
      const BadTime *b = &bad_times[i];
      g_autoptr (GBytes) bytes = test_bytes_from_hex (b->hex);

      for (int transport = 0; transport < N_TRANSPORTS; transport++)
        {
          g_autoptr (CArchive) ar = test_load (bytes, C_ARCHIVE_FORMAT_MFC, transport);
          g_autoptr (GDateTime) time = NULL;
          const GError *error;
          GTimeSpan span = 1;
          gint64 amount = 1;

          if (b->version != 0)
            c_archive_set_mfc_version (ar, b->version);
          if (strcmp (b->type, "COleDateTime") == 0)
            cr_assert_eq (c_archive_read_ole_date_time (ar, &time), C_ARCHIVE_OLE_INVALID);
          else if (strcmp (b->type, "COleDateTimeSpan") == 0)
            cr_assert_eq (c_archive_read_ole_date_time_span (ar, &span), C_ARCHIVE_OLE_INVALID);
          else if (strcmp (b->type, "COleCurrency") == 0)
            cr_assert_eq (c_archive_read_ole_currency (ar, &amount), C_ARCHIVE_OLE_INVALID);
          else
            time = c_archive_read_time (ar);
          error = c_archive_get_error (ar);
          cr_assert_not_null (error, "%s: no error", b->what);
          cr_assert (strstr (error->message, b->fragment) != NULL, "%s: \"%s\" lacks \"%s\"",
                     b->what, error->message, b->fragment);
          cr_assert_null (time);
          if (strcmp (b->type, "COleDateTimeSpan") == 0)
            cr_assert_eq (span, 0, "%s: 0 after an error", b->what);
          if (strcmp (b->type, "COleCurrency") == 0)
            cr_assert_eq (amount, 0, "%s: 0 after an error", b->what);
        }
    }
}

/* What an older MFC cannot read is refused when writing, never truncated. */
Test (archive_mfc_types, refused_writes)
{
  g_autoptr (GDateTime) far = g_date_time_new_utc (2100, 1, 1, 0, 0, 0);
  g_autoptr (GDateTime) early = g_date_time_new_utc (50, 1, 1, 0, 0, 0);
  g_autoptr (CArchive) mfc71 = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) span = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) date = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);
  g_autoptr (CArchive) mfc6 = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_MFC);

  c_archive_set_mfc_version (mfc71, C_ARCHIVE_MFC_VERSION_7_1);
  c_archive_write_time (mfc71, far);
  test_assert_archive_error (mfc71, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                             "does not fit the 32-bit CTime", NULL);
  c_archive_write_time_span (span, (G_GINT64_CONSTANT (1) << 31) * G_TIME_SPAN_SECOND);
  test_assert_archive_error (span, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                             "does not fit CTimeSpan's 32 bits", NULL);
  c_archive_write_ole_date_time (date, C_ARCHIVE_OLE_VALID, early);
  test_assert_archive_error (date, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA, "year 50 is before",
                             NULL);
  c_archive_set_mfc_version (mfc6, C_ARCHIVE_MFC_VERSION_6);
  c_archive_write_ole_date_time (mfc6, C_ARCHIVE_OLE_ERROR, NULL);
  test_assert_archive_error (mfc6, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_BAD_DATA,
                             "MFC before 7.0 has no COleDateTime error status", NULL);
}

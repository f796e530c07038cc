/* c-archive-time.c: MFC's CTime, CTimeSpan, COleDateTime, COleDateTimeSpan and COleCurrency
 * over GDateTime, GTimeSpan and gint64
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sources (MFC's timecore.cpp and olevar.cpp, per version) and the bytes are in
 * docs/wire-format.md §13. The MFC version matters for CTime only: before MFC 8.0 it is a
 * 32-bit time_t; from 8.0 on, the DWORD 0x8000000A (an invalid 32-bit time) and then the
 * 64-bit time.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "c-archive-private.h"

/* MFC's cTime64Mark: INT_MIN + 10, the DWORD that announces a 64-bit CTime. */
#define TIME64_MARK 0x8000000Au

/* COleDateTime's range, 100-01-01 to 9999-12-31 (MFC's MIN_DATE and MAX_DATE), in days
 * from its epoch 1899-12-30. */
#define MIN_DATE (-657434.0)
#define MAX_DATE 2958466.0

#define MS_PER_DAY G_GINT64_CONSTANT (86400000)

static gboolean
begin (CArchive *self, const char *function, const char *field, gboolean writing)
{
  return c_archive_check_self (self, function) && c_archive_begin_field (self, field, writing);
}

static gdouble
take_double (CArchive *self)
{
  guint64 bits = c_archive_take_uint (self, 8);
  gdouble value;

  memcpy (&value, &bits, sizeof value);
  return value;
}

static void
put_double (CArchive *self, gdouble value)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  c_archive_put_uint (self, bits, 8);
}

/* A time_t as a GDateTime in UTC, or an error when GDateTime cannot hold it. */
static GDateTime *
from_unix (CArchive *self, gint64 seconds)
{
  GDateTime *time = g_date_time_new_from_unix_utc (seconds);

  if (time == NULL)
    c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                    "time %" G_GINT64_FORMAT " is outside the years 1 to 9999", seconds);
  return time;
}

/**
 * c_archive_write_time:
 * @self: a storing archive
 * @time: the time
 *
 * Writes a point in time as MFC's `ar << CTime` does: seconds since 1970-01-01 UTC (the
 * fraction of a second is dropped; `CTime` has none). For a peer of MFC 8.0 or later (the
 * default), the DWORD 0x8000000A and then the seconds as a 64-bit value; for an older peer
 * (c_archive_set_mfc_version()), the seconds as a 32-bit value, and a time outside
 * 1901-12-13 to 2038-01-19 is #C_ARCHIVE_ERROR_BAD_DATA (MFC 7.x would truncate it). The
 * network format writes what MFC 8.0 and later write, big-endian.
 */
void
c_archive_write_time (CArchive *self, GDateTime *time)
{
  gint64 seconds;

  g_return_if_fail (time != NULL);
  if (!begin (self, G_STRFUNC, "CTime", TRUE))
    return;
  seconds = g_date_time_to_unix (time);
  if (self->format == C_ARCHIVE_FORMAT_NETWORK || self->mfc_version >= C_ARCHIVE_MFC_VERSION_8_0)
    {
      c_archive_put_uint (self, TIME64_MARK, 4);
      c_archive_put_uint (self, (guint64) seconds, 8);
      return;
    }
  if (seconds < G_MININT32 || seconds > G_MAXINT32)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "time %" G_GINT64_FORMAT " does not fit the 32-bit CTime of MFC before 8.0",
                      seconds);
      return;
    }
  c_archive_put_uint (self, (guint32) (gint32) seconds, 4);
}

/**
 * c_archive_read_time:
 * @self: a loading archive
 *
 * Reads what c_archive_write_time() wrote (MFC's `ar >> CTime`). From MFC 8.0 on (the
 * default) both forms are read, as MFC reads them: the mark and 64 bits, or a 32-bit
 * time from an older writer; for an older peer only the 32-bit form.
 *
 * Returns: (transfer full) (nullable): the time in UTC; %NULL after an error (a time
 *   outside the years 1 to 9999 is #C_ARCHIVE_ERROR_BAD_DATA)
 */
GDateTime *
c_archive_read_time (CArchive *self)
{
  guint32 first;
  gint64 seconds;

  if (!begin (self, G_STRFUNC, "CTime", FALSE))
    return NULL;
  first = (guint32) c_archive_take_uint (self, 4);
  if (first == TIME64_MARK
      && (self->format == C_ARCHIVE_FORMAT_NETWORK
          || self->mfc_version >= C_ARCHIVE_MFC_VERSION_8_0))
    seconds = (gint64) c_archive_take_uint (self, 8);
  else
    seconds = (gint32) first;
  if (self->error != NULL)
    return NULL;
  return from_unix (self, seconds);
}

/**
 * c_archive_write_time64:
 * @self: a storing archive
 * @time: the time
 *
 * Writes a time as MFC's `CTime::Serialize64` does (MFC 7.0 and later): seconds since
 * 1970-01-01 UTC as a 64-bit value, without the mark of c_archive_write_time().
 */
void
c_archive_write_time64 (CArchive *self, GDateTime *time)
{
  g_return_if_fail (time != NULL);
  if (begin (self, G_STRFUNC, "CTime", TRUE))
    c_archive_put_uint (self, (guint64) g_date_time_to_unix (time), 8);
}

/**
 * c_archive_read_time64:
 * @self: a loading archive
 *
 * Reads what c_archive_write_time64() wrote (`CTime::Serialize64`).
 *
 * Returns: (transfer full) (nullable): the time in UTC; %NULL after an error
 */
GDateTime *
c_archive_read_time64 (CArchive *self)
{
  gint64 seconds;

  if (!begin (self, G_STRFUNC, "CTime", FALSE))
    return NULL;
  seconds = (gint64) c_archive_take_uint (self, 8);
  return self->error == NULL ? from_unix (self, seconds) : NULL;
}

/**
 * c_archive_write_time_span:
 * @self: a storing archive
 * @span: the span (whole seconds are written; the fraction is dropped)
 *
 * Writes a span as MFC's `ar << CTimeSpan` does, in every version: the seconds as a
 * 32-bit value. A span of more than 2^31-1 seconds either way (about 68 years) is
 * #C_ARCHIVE_ERROR_BAD_DATA: MFC reads the 32 bits back signed, so it could not read it.
 */
void
c_archive_write_time_span (CArchive *self, GTimeSpan span)
{
  gint64 seconds = span / G_TIME_SPAN_SECOND;

  if (!begin (self, G_STRFUNC, "CTimeSpan", TRUE))
    return;
  if (seconds < G_MININT32 || seconds > G_MAXINT32)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "a span of %" G_GINT64_FORMAT " s does not fit CTimeSpan's 32 bits", seconds);
      return;
    }
  c_archive_put_uint (self, (guint32) (gint32) seconds, 4);
}

/**
 * c_archive_read_time_span:
 * @self: a loading archive
 *
 * Reads what c_archive_write_time_span() wrote (MFC's `ar >> CTimeSpan`: a signed 32-bit
 * number of seconds).
 *
 * Returns: the span, 0 after an error
 */
GTimeSpan
c_archive_read_time_span (CArchive *self)
{
  gint32 seconds;

  if (!begin (self, G_STRFUNC, "CTimeSpan", FALSE))
    return 0;
  seconds = (gint32) (guint32) c_archive_take_uint (self, 4);
  return self->error == NULL ? seconds * G_TIME_SPAN_SECOND : 0;
}

/**
 * c_archive_write_time_span64:
 * @self: a storing archive
 * @span: the span (whole seconds are written)
 *
 * Writes a span as MFC's `CTimeSpan::Serialize64` does (MFC 7.0 and later): the seconds
 * as a 64-bit value.
 */
void
c_archive_write_time_span64 (CArchive *self, GTimeSpan span)
{
  if (begin (self, G_STRFUNC, "CTimeSpan", TRUE))
    c_archive_put_uint (self, (guint64) (span / G_TIME_SPAN_SECOND), 8);
}

/**
 * c_archive_read_time_span64:
 * @self: a loading archive
 *
 * Reads what c_archive_write_time_span64() wrote. A span that #GTimeSpan cannot hold
 * (more than about 292,000 years) is #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Returns: the span, 0 after an error
 */
GTimeSpan
c_archive_read_time_span64 (CArchive *self)
{
  gint64 seconds;

  if (!begin (self, G_STRFUNC, "CTimeSpan", FALSE))
    return 0;
  seconds = (gint64) c_archive_take_uint (self, 8);
  if (self->error != NULL)
    return 0;
  if (seconds > G_MAXINT64 / G_TIME_SPAN_SECOND || seconds < G_MININT64 / G_TIME_SPAN_SECOND)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "a span of %" G_GINT64_FORMAT " s is too long for a GTimeSpan", seconds);
      return 0;
    }
  return seconds * G_TIME_SPAN_SECOND;
}

/* The status LONG of the OLE types: MFC's values, with `error` (-1) for dates of MFC
 * 7.0 and later only. */
static gboolean
take_status (CArchive *self, gboolean date, CArchiveOleStatus *status)
{
  gint32 value = (gint32) (guint32) c_archive_take_uint (self, 4);

  if (self->error != NULL)
    return FALSE;
  if ((value >= C_ARCHIVE_OLE_VALID && value <= C_ARCHIVE_OLE_NULL)
      || (value == C_ARCHIVE_OLE_ERROR && date
          && (self->format == C_ARCHIVE_FORMAT_NETWORK
              || self->mfc_version >= C_ARCHIVE_MFC_VERSION_7_0)))
    {
      *status = (CArchiveOleStatus) value;
      return TRUE;
    }
  c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                  "status %d is not one of MFC's (0 valid, 1 invalid, 2 null%s)", value,
                  date && self->mfc_version >= C_ARCHIVE_MFC_VERSION_7_0 ? ", -1 error" : "");
  return FALSE;
}

static gboolean
put_status (CArchive *self, CArchiveOleStatus status, gboolean date)
{
  if (status < C_ARCHIVE_OLE_ERROR || status > C_ARCHIVE_OLE_NULL
      || (status == C_ARCHIVE_OLE_ERROR && !date))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "status %d is not one this type has",
                      (int) status);
      return FALSE;
    }
  if (status == C_ARCHIVE_OLE_ERROR && self->format == C_ARCHIVE_FORMAT_MFC
      && self->mfc_version < C_ARCHIVE_MFC_VERSION_7_0)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "MFC before 7.0 has no COleDateTime error status");
      return FALSE;
    }
  c_archive_put_uint (self, (guint32) (gint32) status, 4);
  return TRUE;
}

/* Days since 1899-12-30 as OLE counts them: the integer part is the day, negative before
 * the epoch, and the fraction is the time of that day, always forward: -1.25 is
 * 1899-12-29 06:00. */
static gdouble
date_from_time (GDateTime *time)
{
  g_autoptr (GDateTime) epoch = g_date_time_new_utc (1899, 12, 30, 0, 0, 0);
  g_autoptr (GDateTime) wall
      = g_date_time_new_utc (g_date_time_get_year (time), g_date_time_get_month (time),
                             g_date_time_get_day_of_month (time), g_date_time_get_hour (time),
                             g_date_time_get_minute (time), g_date_time_get_seconds (time));
  gint64 ms = g_date_time_difference (wall, epoch) / 1000;
  gint64 day = ms >= 0 ? ms / MS_PER_DAY : -((-ms + MS_PER_DAY - 1) / MS_PER_DAY);
  gdouble fraction = (gdouble) (ms - day * MS_PER_DAY) / (gdouble) MS_PER_DAY;

  return day >= 0 ? (gdouble) day + fraction : (gdouble) day - fraction;
}

static GDateTime *
time_from_date (gdouble date)
{
  g_autoptr (GDateTime) epoch = g_date_time_new_utc (1899, 12, 30, 0, 0, 0);
  gdouble day = date >= 0 ? floor (date) : ceil (date);
  gint64 ms = (gint64) llround (fabs (date - day) * (gdouble) MS_PER_DAY);
  g_autoptr (GDateTime) midnight = g_date_time_add_days (epoch, (gint) day);

  return g_date_time_add (midnight, ms * 1000);
}

/**
 * c_archive_write_ole_date_time:
 * @self: a storing archive
 * @status: the status
 * @time: (nullable): the date and time, for %C_ARCHIVE_OLE_VALID; ignored otherwise
 *
 * Writes a date as MFC's `ar << COleDateTime` does (all versions): the status as a LONG,
 * then the OLE `DATE`, a double counting days since 1899-12-30 with the time of day as
 * fraction (0.0 when the status is not valid). A `DATE` has no time zone: the date and
 * time @time shows in its own zone are written, to the millisecond. A date before
 * 100-01-01 is #C_ARCHIVE_ERROR_BAD_DATA (COleDateTime's range).
 */
void
c_archive_write_ole_date_time (CArchive *self, CArchiveOleStatus status, GDateTime *time)
{
  g_return_if_fail (status != C_ARCHIVE_OLE_VALID || time != NULL);
  if (!begin (self, G_STRFUNC, "COleDateTime", TRUE))
    return;
  if (status == C_ARCHIVE_OLE_VALID && g_date_time_get_year (time) < 100)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "year %d is before COleDateTime's 100",
                      g_date_time_get_year (time));
      return;
    }
  if (put_status (self, status, TRUE))
    put_double (self, status == C_ARCHIVE_OLE_VALID ? date_from_time (time) : 0.0);
}

/**
 * c_archive_read_ole_date_time:
 * @self: a loading archive
 * @time: (out) (transfer full) (optional) (nullable): the date and time when the status
 *   is valid, as a UTC #GDateTime showing the `DATE`'s wall-clock time; %NULL otherwise
 *
 * Reads what c_archive_write_ole_date_time() wrote (MFC's `ar >> COleDateTime`). A status
 * that is not MFC's, and a valid `DATE` that is not finite or outside 100-01-01 to
 * 9999-12-31, are #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Returns: the status; %C_ARCHIVE_OLE_INVALID after an error
 */
CArchiveOleStatus
c_archive_read_ole_date_time (CArchive *self, GDateTime **time)
{
  CArchiveOleStatus status;
  gdouble date;

  if (time != NULL)
    *time = NULL;
  if (!begin (self, G_STRFUNC, "COleDateTime", FALSE) || !take_status (self, TRUE, &status))
    return C_ARCHIVE_OLE_INVALID;
  date = take_double (self);
  if (self->error != NULL)
    return C_ARCHIVE_OLE_INVALID;
  if (status != C_ARCHIVE_OLE_VALID)
    return status;
  if (!(date >= MIN_DATE && date < MAX_DATE))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA,
                      "DATE %g is outside COleDateTime's range (100-01-01 to 9999-12-31)", date);
      return C_ARCHIVE_OLE_INVALID;
    }
  if (time != NULL && (*time = time_from_date (date)) == NULL)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "DATE %.17g rounds past 9999-12-31", date);
      return C_ARCHIVE_OLE_INVALID;
    }
  return status;
}

/**
 * c_archive_write_ole_date_time_span:
 * @self: a storing archive
 * @status: the status (%C_ARCHIVE_OLE_VALID, _INVALID or _NULL)
 * @span: the span, for %C_ARCHIVE_OLE_VALID
 *
 * Writes a span as MFC's `ar << COleDateTimeSpan` does: the status as a LONG, then the
 * span in days as a double.
 */
void
c_archive_write_ole_date_time_span (CArchive *self, CArchiveOleStatus status, GTimeSpan span)
{
  if (begin (self, G_STRFUNC, "COleDateTimeSpan", TRUE) && put_status (self, status, FALSE))
    put_double (self,
                status == C_ARCHIVE_OLE_VALID ? (gdouble) span / (gdouble) G_TIME_SPAN_DAY : 0.0);
}

/**
 * c_archive_read_ole_date_time_span:
 * @self: a loading archive
 * @span: (out) (optional): the span when the status is valid (to the microsecond), 0
 *   otherwise
 *
 * Reads what c_archive_write_ole_date_time_span() wrote. A valid span that is not finite
 * or does not fit a #GTimeSpan is #C_ARCHIVE_ERROR_BAD_DATA.
 *
 * Returns: the status; %C_ARCHIVE_OLE_INVALID after an error
 */
CArchiveOleStatus
c_archive_read_ole_date_time_span (CArchive *self, GTimeSpan *span)
{
  CArchiveOleStatus status;
  gdouble days, us;

  if (span != NULL)
    *span = 0;
  if (!begin (self, G_STRFUNC, "COleDateTimeSpan", FALSE) || !take_status (self, FALSE, &status))
    return C_ARCHIVE_OLE_INVALID;
  days = take_double (self);
  if (self->error != NULL)
    return C_ARCHIVE_OLE_INVALID;
  if (status != C_ARCHIVE_OLE_VALID)
    return status;
  us = days * (gdouble) G_TIME_SPAN_DAY;
  if (!(fabs (us) < 9.2e18))
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "a span of %g days does not fit a GTimeSpan",
                      days);
      return C_ARCHIVE_OLE_INVALID;
    }
  if (span != NULL)
    *span = (GTimeSpan) llround (us);
  return status;
}

/**
 * c_archive_write_ole_currency:
 * @self: a storing archive
 * @status: the status (%C_ARCHIVE_OLE_VALID, _INVALID or _NULL)
 * @value: the amount in ten-thousandths (the `CY`'s 64-bit integer: 1.5 is 15000)
 *
 * Writes an amount as MFC's `ar << COleCurrency` does (all versions): the status as a
 * LONG, then the `CY`'s high LONG, then its low DWORD (high before low: not the 64-bit
 * integer's memory order).
 */
void
c_archive_write_ole_currency (CArchive *self, CArchiveOleStatus status, gint64 value)
{
  if (!begin (self, G_STRFUNC, "COleCurrency", TRUE) || !put_status (self, status, FALSE))
    return;
  c_archive_put_uint (self, (guint32) ((guint64) value >> 32), 4);
  c_archive_put_uint (self, (guint32) value, 4);
}

/**
 * c_archive_read_ole_currency:
 * @self: a loading archive
 * @value: (out) (optional): the amount in ten-thousandths (whatever the status)
 *
 * Reads what c_archive_write_ole_currency() wrote.
 *
 * Returns: the status; %C_ARCHIVE_OLE_INVALID after an error
 */
CArchiveOleStatus
c_archive_read_ole_currency (CArchive *self, gint64 *value)
{
  CArchiveOleStatus status;
  guint64 high, low;

  if (value != NULL)
    *value = 0;
  if (!begin (self, G_STRFUNC, "COleCurrency", FALSE) || !take_status (self, FALSE, &status))
    return C_ARCHIVE_OLE_INVALID;
  high = c_archive_take_uint (self, 4);
  low = c_archive_take_uint (self, 4);
  if (self->error != NULL)
    return C_ARCHIVE_OLE_INVALID;
  if (value != NULL)
    *value = (gint64) (high << 32 | low);
  return status;
}

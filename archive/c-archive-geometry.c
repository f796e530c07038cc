/* c-archive-geometry.c: Windows' BOOL, POINT, SIZE and RECT (MFC's CPoint, CSize, CRect)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * MFC writes POINT, SIZE and RECT with one Write of the structure (operator<< in
 * afxwin1.inl): LONGs in memory order, which on Windows is little-endian. In our formats
 * they are that many LONGs in the archive's byte order, so the MFC format is byte-exact
 * and the network format stays big-endian. docs/wire-format.md §13 gives the bytes.
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

static void
put_longs (CArchive *self, const char *function, const char *field, const gint32 *values, guint n)
{
  if (!c_archive_check_self (self, function) || !c_archive_begin_field (self, field, TRUE))
    return;
  for (guint i = 0; i < n; i++)
    c_archive_put_uint (self, (guint32) values[i], 4);
}

static gboolean
take_longs (CArchive *self, const char *function, const char *field, gint32 *values, guint n)
{
  memset (values, 0, n * sizeof *values);
  if (!c_archive_check_self (self, function) || !c_archive_begin_field (self, field, FALSE))
    return FALSE;
  for (guint i = 0; i < n; i++)
    values[i] = (gint32) (guint32) c_archive_take_uint (self, 4);
  if (self->error == NULL)
    return TRUE;
  memset (values, 0, n * sizeof *values);
  return FALSE;
}

/**
 * c_archive_write_point:
 * @self: a storing archive
 * @x: the x coordinate
 * @y: the y coordinate
 *
 * Writes a point as MFC's `ar << CPoint` (or `POINT`) does: the LONGs x and y.
 */
void
c_archive_write_point (CArchive *self, gint32 x, gint32 y)
{
  gint32 values[2] = { x, y };

  put_longs (self, G_STRFUNC, "POINT", values, 2);
}

/**
 * c_archive_read_point:
 * @self: a loading archive
 * @x: (out) (optional): the x coordinate, 0 after an error
 * @y: (out) (optional): the y coordinate, 0 after an error
 *
 * Reads what c_archive_write_point() wrote (MFC's `ar >> CPoint`).
 */
void
c_archive_read_point (CArchive *self, gint32 *x, gint32 *y)
{
  gint32 values[2];

  take_longs (self, G_STRFUNC, "POINT", values, 2);
  if (x != NULL)
    *x = values[0];
  if (y != NULL)
    *y = values[1];
}

/**
 * c_archive_write_size:
 * @self: a storing archive
 * @cx: the width
 * @cy: the height
 *
 * Writes a size as MFC's `ar << CSize` (or `SIZE`) does: the LONGs cx and cy.
 */
void
c_archive_write_size (CArchive *self, gint32 cx, gint32 cy)
{
  gint32 values[2] = { cx, cy };

  put_longs (self, G_STRFUNC, "SIZE", values, 2);
}

/**
 * c_archive_read_size:
 * @self: a loading archive
 * @cx: (out) (optional): the width, 0 after an error
 * @cy: (out) (optional): the height, 0 after an error
 *
 * Reads what c_archive_write_size() wrote (MFC's `ar >> CSize`).
 */
void
c_archive_read_size (CArchive *self, gint32 *cx, gint32 *cy)
{
  gint32 values[2];

  take_longs (self, G_STRFUNC, "SIZE", values, 2);
  if (cx != NULL)
    *cx = values[0];
  if (cy != NULL)
    *cy = values[1];
}

/**
 * c_archive_write_rect:
 * @self: a storing archive
 * @left: the left edge
 * @top: the top edge
 * @right: the right edge
 * @bottom: the bottom edge
 *
 * Writes a rectangle as MFC's `ar << CRect` (or `RECT`) does: the LONGs left, top, right,
 * bottom, in that order (not normalized: what is given is written).
 */
void
c_archive_write_rect (CArchive *self, gint32 left, gint32 top, gint32 right, gint32 bottom)
{
  gint32 values[4] = { left, top, right, bottom };

  put_longs (self, G_STRFUNC, "RECT", values, 4);
}

/**
 * c_archive_read_rect:
 * @self: a loading archive
 * @left: (out) (optional): the left edge, 0 after an error
 * @top: (out) (optional): the top edge, 0 after an error
 * @right: (out) (optional): the right edge, 0 after an error
 * @bottom: (out) (optional): the bottom edge, 0 after an error
 *
 * Reads what c_archive_write_rect() wrote (MFC's `ar >> CRect`).
 */
void
c_archive_read_rect (CArchive *self, gint32 *left, gint32 *top, gint32 *right, gint32 *bottom)
{
  gint32 values[4];

  take_longs (self, G_STRFUNC, "RECT", values, 4);
  if (left != NULL)
    *left = values[0];
  if (top != NULL)
    *top = values[1];
  if (right != NULL)
    *right = values[2];
  if (bottom != NULL)
    *bottom = values[3];
}

/**
 * c_archive_write_win_bool:
 * @self: a storing archive
 * @value: the value
 *
 * Writes a Windows `BOOL` as MFC does (`ar << BOOL` is `ar << int`): 4 bytes, 1 for
 * %TRUE and 0 for %FALSE. C++ `bool` is another type, one byte (c_archive_write_bool()).
 */
void
c_archive_write_win_bool (CArchive *self, gboolean value)
{
  gint32 one = value ? 1 : 0;

  put_longs (self, G_STRFUNC, "BOOL", &one, 1);
}

/**
 * c_archive_read_win_bool:
 * @self: a loading archive
 *
 * Reads a Windows `BOOL` (4 bytes). As in MFC, the MFC format takes any non-zero value as
 * %TRUE; the network format accepts only 0 and 1 (anything else is
 * #C_ARCHIVE_ERROR_BAD_DATA, as for c_archive_read_bool()).
 *
 * Returns: the value, %FALSE after an error
 */
gboolean
c_archive_read_win_bool (CArchive *self)
{
  gint32 value;

  if (!take_longs (self, G_STRFUNC, "BOOL", &value, 1))
    return FALSE;
  if (self->format == C_ARCHIVE_FORMAT_NETWORK && (guint32) value > 1)
    {
      c_archive_fail (self, C_ARCHIVE_ERROR_BAD_DATA, "a BOOL of %d is neither 0 nor 1", value);
      return FALSE;
    }
  return value != 0;
}

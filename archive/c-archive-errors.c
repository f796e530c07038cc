/* c-archive-errors.c: the archive's sticky error, the field it names, and the fast paths'
 * switch
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every public read and write begins with c_archive_begin_field(), which names the field for
 * error messages and makes the call a no-op once the archive has failed. The first failure
 * is kept (c_archive_set_error, _fail, _replace_error) and closes the fast paths
 * (c_archive_update_fast); c_archive_check() reports it once a whole record is done.
 */
#include "config.h"

#include <stdarg.h>

#include "c-archive-private.h"

/**
 * c_archive_get_error:
 * @self: an archive
 *
 * The archive's sticky error: the first failure since it was created.
 *
 * Returns: (transfer none) (nullable): the error, %NULL if every operation succeeded
 */
const GError *
c_archive_get_error (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
  return self->error;
}

static G_GNUC_NO_INLINE gboolean check_slow (CArchive *self, GError **error);

/**
 * c_archive_check:
 * @self: an archive
 * @error: return location for a copy of the sticky error
 *
 * Checks, once after a whole record, that every field was read or written. The archive
 * keeps its error; later calls report it again.
 *
 * Returns: %TRUE if no operation failed so far
 */
gboolean
c_archive_check (CArchive *self, GError **error)
{
  if (c_archive_is_archive (self) && self->error == NULL && (error == NULL || *error == NULL))
    return TRUE;
  return check_slow (self, error);
}

/* What g_return_val_if_fail (C_IS_ARCHIVE (self), ...) does in function, for the general
 * paths that public functions with a fast path call out of line: the critical names the
 * public function. */
gboolean
c_archive_check_self (CArchive *self, const char *function)
{
#ifndef G_DISABLE_CHECKS
  if (G_UNLIKELY (!C_IS_ARCHIVE (self)))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, function, "C_IS_ARCHIVE (self)");
      return FALSE;
    }
#endif
  return TRUE;
}

/* c_archive_check() with an error, or misused: out of line, so that the common case needs
 * no stack frame. The criticals name c_archive_check(), as its own g_return_if_fail() would. */
static gboolean
check_slow (CArchive *self, GError **error)
{
  if (!c_archive_check_self (self, "c_archive_check"))
    return FALSE;
#ifndef G_DISABLE_CHECKS
  if (G_UNLIKELY (error != NULL && *error != NULL))
    {
      g_return_if_fail_warning (G_LOG_DOMAIN, "c_archive_check", "error == NULL || *error == NULL");
      return FALSE;
    }
#endif
  if (self->error == NULL)
    return TRUE;
  if (error != NULL)
    *error = g_error_copy (self->error);
  return FALSE;
}

/* Records the first failure, prefixed with the field and offset the caller was at. */
void
c_archive_set_error (CArchive *self, GError *error)
{
  if (self->error != NULL)
    {
      g_error_free (error);
      return;
    }
  g_prefix_error (&error, "%s %s at offset %" G_GUINT64_FORMAT ": ",
                  self->field_writing ? "writing" : "reading", self->field, self->field_offset);
  self->error = error;
  self->fast = C_ARCHIVE_FAST_NONE;
}

static void
fail_valist (CArchive *self, CArchiveError code, const char *format, va_list args)
{
  char *message = g_strdup_vprintf (format, args);

  c_archive_set_error (self, g_error_new_literal (C_ARCHIVE_ERROR, code, message));
  g_free (message);
}

/* Records a failure, unless the archive failed before (the first failure is kept). */
void
c_archive_fail (CArchive *self, CArchiveError code, const char *format, ...)
{
  va_list args;

  if (self->error != NULL)
    return;
  va_start (args, format);
  fail_valist (self, code, format, args);
  va_end (args);
}

/* Replaces the archive's error with a clearer one (c-archive-mixup.c). */
void
c_archive_replace_error (CArchive *self, CArchiveError code, const char *format, ...)
{
  va_list args;

  g_clear_error (&self->error);
  va_start (args, format);
  fail_valist (self, code, format, args);
  va_end (args);
}

/* Every public read and write starts here: it names the field for error messages and
 * turns the call into a no-op once the archive has failed or is used the wrong way. */
gboolean
c_archive_begin_field (CArchive *self, const char *field, gboolean writing)
{
  if (self->error != NULL)
    return FALSE;
  self->field = field;
  self->field_writing = writing;
  self->field_offset = c_archive_position (self);
  if (self->closed)
    c_archive_fail (self, C_ARCHIVE_ERROR_GENERIC, "the archive is closed");
  else if (writing && !self->storing)
    c_archive_fail (self, C_ARCHIVE_ERROR_READ_ONLY, "the archive is open for loading");
  else if (!writing && self->storing)
    c_archive_fail (self, C_ARCHIVE_ERROR_WRITE_ONLY, "the archive is open for storing");
  return self->error == NULL;
}

/* The fast paths are open while the archive has no error, is not closed and is not
 * inside property loading; call after changing any of these. */
void
c_archive_update_fast (CArchive *self)
{
  if (self->error != NULL || self->closed || self->slow_fields > 0 || c_archive_bool_is_int (self))
    self->fast = C_ARCHIVE_FAST_NONE;
  else
    self->fast = (self->storing ? C_ARCHIVE_FAST_STORE : C_ARCHIVE_FAST_LOAD)
                 | (self->format == C_ARCHIVE_FORMAT_MFC ? C_ARCHIVE_FAST_MFC : 0);
}

/* c-error.c: error domains, GError helpers and MFC's thread-wide last error
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>

#include "c-error-private.h"

/**
 * c_socket_error_quark:
 *
 * The error domain of socket states that are not operating-system failures.
 *
 * Returns: the quark of #C_SOCKET_ERROR
 */
/* Written out: clang-format would put spaces into G_DEFINE_QUARK's dashed name. */
GQuark
c_socket_error_quark (void)
{
  return g_quark_from_static_string ("c-socket-error-quark");
}

/* MFC's GetLastError() is the calling thread's last Winsock error, not the object's. */
static __thread int last_error;

/**
 * c_async_socket_get_last_error:
 *
 * The calling thread's last error, as an errno value: MFC's `GetLastError()`. Every failing
 * call sets it, as does a connect that is still in progress (`EWOULDBLOCK`); successful
 * calls leave it alone, as Winsock does.
 *
 * Returns: the errno value of the thread's last failure, 0 if none yet
 */
int
c_async_socket_get_last_error (void)
{
  return last_error;
}

void
c_set_last_error (int error_code)
{
  last_error = error_code;
}

/* Reports an operating-system failure in G_IO_ERROR with the strerror text after the
 * description of what was attempted: "connect to [::1]:4242: Connection refused". */
void
c_set_io_error (GError **error, int error_code, const char *format, ...)
{
  va_list args;
  char *what;

  c_set_last_error (error_code);
  if (error == NULL)
    return;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (error_code), "%s: %s", what,
               g_strerror (error_code));
  g_free (what);
}

static int
errno_for_socket_error (CSocketError code)
{
  switch (code)
    {
      case C_SOCKET_ERROR_NOT_CREATED:
        return ENOTSOCK;
      case C_SOCKET_ERROR_ALREADY_CREATED:
        return EISCONN;
      case C_SOCKET_ERROR_IN_PROGRESS:
        return EINPROGRESS;
      case C_SOCKET_ERROR_LIMIT:
        return ENOBUFS;
      case C_SOCKET_ERROR_WRONG_STATE:
      case C_SOCKET_ERROR_INVALID_ADDRESS:
      case C_SOCKET_ERROR_INVALID_PORT:
      case C_SOCKET_ERROR_WRONG_CONTEXT:
      default:
        return EINVAL;
    }
}

void
c_set_socket_error (GError **error, CSocketError code, const char *format, ...)
{
  va_list args;

  c_set_last_error (errno_for_socket_error (code));
  if (error == NULL)
    return;
  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (C_SOCKET_ERROR, code, format, args));
  va_end (args);
}

gboolean
c_check_port (guint port, gboolean allow_zero, const char *operation, GError **error)
{
  if (port > 65535 || (port == 0 && !allow_zero))
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_PORT,
                          "%s: port %u is out of range (%s–65535)", operation, port,
                          allow_zero ? "0" : "1");
      return FALSE;
    }
  return TRUE;
}

/**
 * c_socket_stats_copy:
 * @stats: accounting to copy
 *
 * Copies a socket's accounting.
 *
 * Returns: (transfer full): a copy of @stats
 */
CSocketStats *
c_socket_stats_copy (const CSocketStats *stats)
{
  return g_memdup2 (stats, sizeof *stats);
}

/**
 * c_socket_stats_free:
 * @stats: (transfer full): accounting from c_socket_stats_copy()
 *
 * Frees accounting made by c_socket_stats_copy().
 */
void
c_socket_stats_free (CSocketStats *stats)
{
  g_free (stats);
}

G_DEFINE_BOXED_TYPE (CSocketStats, c_socket_stats, c_socket_stats_copy, c_socket_stats_free)

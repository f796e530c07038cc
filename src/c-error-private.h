/* c-error-private.h: how afxsock reports failures (GError and MFC's last error)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock/c-async-socket.h>

G_BEGIN_DECLS

/* Sets the calling thread's c_async_socket_get_last_error(). */
void c_set_last_error (int error_code);
/* A G_IO_ERROR from an errno: "@format: strerror (@error_code)"; sets the last error too. */
void c_set_io_error (GError **error, int error_code, const char *format, ...) G_GNUC_PRINTF (3, 4);
/* A C_SOCKET_ERROR (a misuse or a limit rather than a system call's failure). */
void c_set_socket_error (GError **error, CSocketError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
gboolean c_check_port (guint port, gboolean allow_zero, const char *operation, GError **error);

G_END_DECLS

/* c-socket.h: CSocket, blocking calls that keep the main loop running
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <afxsock/c-async-socket.h>
#include <afxsock/c-tls.h>

G_BEGIN_DECLS

#define C_TYPE_SOCKET (c_socket_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (CSocket, c_socket, C, SOCKET, CAsyncSocket)

/**
 * CSocketClass:
 * @parent_class: the parent class
 * @on_message_pending: called on every turn of the wait inside a blocking call, before the
 *   socket's main context runs (MFC's `OnMessagePending`, a hook for work of the
 *   application's own). Return %TRUE if it handled something: the context then runs once
 *   without sleeping before the wait looks again. The default does nothing and returns
 *   %FALSE. Either way the context's other sources (timers, idles, other I/O) keep running
 *   during the call, as MFC's message pump keeps the window alive.
 *
 * The class of #CSocket; subclasses may override `on_message_pending` and, as with
 * #CAsyncSocket, any notification.
 */
struct _CSocketClass
{
  CAsyncSocketClass parent_class;

  gboolean (*on_message_pending) (CSocket *self);

  /*< private >*/
  gpointer padding[8];
};

AFXSOCK_AVAILABLE_IN_ALL
CSocket *c_socket_new (void);

AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_connect (CSocket *self, const char *host, guint port, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_accept (CSocket *self, CAsyncSocket *connected, GSocketAddress **address,
                          GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_socket_send (CSocket *self, const void *buffer, gsize size, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_socket_receive (CSocket *self, void *buffer, gsize size, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_socket_send_to (CSocket *self, const void *buffer, gsize size, guint port,
                         const char *host, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_socket_receive_from (CSocket *self, void *buffer, gsize size, char **host, guint *port,
                              int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_socket_receive_bytes (CSocket *self, gsize max_size, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_socket_receive_from_bytes (CSocket *self, gsize max_size, char **host, guint *port,
                                     int flags, GError **error);

AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_start_tls (CSocket *self, CTlsSettings *settings, const char *peer_name,
                             GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_is_blocking (CSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_cancel_blocking_call (CSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_set_timeout (CSocket *self, guint timeout_ms);
AFXSOCK_AVAILABLE_IN_ALL
guint c_socket_get_timeout (CSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_set_cancellable (CSocket *self, GCancellable *cancellable);
AFXSOCK_AVAILABLE_IN_ALL
GCancellable *c_socket_get_cancellable (CSocket *self);

#define C_TYPE_SOCKET_FILE (c_socket_file_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CSocketFile, c_socket_file, C, SOCKET_FILE, GIOStream)

AFXSOCK_AVAILABLE_IN_ALL
CSocketFile *c_socket_file_new (CSocket *socket);
AFXSOCK_AVAILABLE_IN_ALL
CSocket *c_socket_file_get_socket (CSocketFile *self);

G_END_DECLS

/* c-socket-service.h: CSocketService, a server that accepts and owns its connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <afxsock/c-version.h>
#include <afxsock/c-async-socket.h>

G_BEGIN_DECLS

/**
 * CServiceLimit:
 * @C_SERVICE_LIMIT_PAUSE: stop accepting at the limit (connections wait in the kernel's
 *   backlog) and accept again once below it
 * @C_SERVICE_LIMIT_REFUSE: accept and close at once what comes beyond the limit
 *
 * What a #CSocketService does with connections beyond its maximum.
 */
typedef enum
{
  C_SERVICE_LIMIT_PAUSE,
  C_SERVICE_LIMIT_REFUSE
} CServiceLimit;

/**
 * CSocketServiceStats:
 * @connections_now: connections held now
 * @connections_total: connections accepted and kept since the start
 * @refused: connections refused (by the limit or by #CSocketService::incoming)
 * @bytes_sent: bytes sent by all its connections, closed or open
 * @bytes_received: bytes received by all its connections
 * @records_sent: records sent (record mode)
 * @records_received: records received (record mode)
 *
 * A #CSocketService's accounting, summed over its threads.
 */
typedef struct
{
  guint connections_now;
  guint64 connections_total;
  guint64 refused;
  guint64 bytes_sent;
  guint64 bytes_received;
  guint64 records_sent;
  guint64 records_received;
} CSocketServiceStats;

#define C_TYPE_SOCKET_SERVICE_STATS (c_socket_service_stats_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
GType c_socket_service_stats_get_type (void);

#define C_TYPE_SOCKET_SERVICE (c_socket_service_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (CSocketService, c_socket_service, C, SOCKET_SERVICE, GObject)

/**
 * CSocketServiceClass:
 * @parent_class: the parent class
 * @incoming: a connection was accepted, in its own thread, before its first notification;
 *   configure it, or return %FALSE to refuse it (it is closed)
 * @configure_listener: a listener was made and bound, not yet listening: what is set on
 *   it (record mode, TLS, water marks, timeouts) its connections inherit
 *
 * The class of #CSocketService.
 */
struct _CSocketServiceClass
{
  GObjectClass parent_class;

  gboolean (*incoming) (CSocketService *self, CAsyncSocket *connection);
  void (*configure_listener) (CSocketService *self, CAsyncSocket *listener);

  /*< private >*/
  gpointer padding[7];
};

/**
 * CSocketServiceFactory:
 * @service: the service
 * @user_data: the data given to c_socket_service_set_connection_factory()
 *
 * Makes the object for a new connection, in the thread that will own it.
 *
 * Returns: (transfer full): a new socket object without a descriptor
 */
typedef CAsyncSocket *(*CSocketServiceFactory) (CSocketService *service, gpointer user_data);

AFXSOCK_AVAILABLE_IN_ALL
CSocketService *c_socket_service_new (GType connection_type);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_set_connection_factory (CSocketService *self, CSocketServiceFactory factory,
                                              gpointer user_data, GDestroyNotify notify);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_set_threads (CSocketService *self, guint threads);
AFXSOCK_AVAILABLE_IN_ALL
guint c_socket_service_get_threads (CSocketService *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_set_hand_over (CSocketService *self, gboolean hand_over);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_set_max_connections (CSocketService *self, guint max, CServiceLimit limit);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_add_inet_port (CSocketService *self, const char *address, guint port);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_add_unix_path (CSocketService *self, const char *path);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_service_start (CSocketService *self, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
guint c_socket_service_get_port (CSocketService *self, guint index);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_service_is_active (CSocketService *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_stop (CSocketService *self, guint deadline_ms, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_socket_service_stop_finish (CSocketService *self, GAsyncResult *result,
                                       guint *closed_at_deadline, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_service_get_stats (CSocketService *self, CSocketServiceStats *stats);
AFXSOCK_AVAILABLE_IN_ALL
guint64 c_socket_service_get_thread_accepted (CSocketService *self, guint thread);

G_END_DECLS

/* c-async-socket.h: CAsyncSocket, the non-blocking socket with main-loop notifications
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <afxsock/c-version.h>
#include <afxsock/c-types.h>

G_BEGIN_DECLS

#define C_TYPE_ASYNC_SOCKET (c_async_socket_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (CAsyncSocket, c_async_socket, C, ASYNC_SOCKET, GObject)

/**
 * CAsyncSocketClass:
 * @parent_class: the parent class
 * @on_accept: a connection is pending on a listening socket; call c_async_socket_accept()
 * @on_receive: data can be received; call c_async_socket_receive() once
 * @on_send: the socket can send (after connect or accept, then after a send would-blocked)
 * @on_connect: a connect attempt finished; @error_code is 0 or the failure's errno
 * @on_close: the peer closed (0, after all data was read) or reset the connection (errno)
 * @on_out_of_band_data: urgent data arrived; receive it with `MSG_OOB`
 * @on_record: in record mode, a whole record arrived (see c_async_socket_set_record_mode())
 * @on_drain: in record mode, the write queue fell below its low-water mark after having
 *   reached the high-water mark: produce more
 * @on_handshake: a TLS handshake started by c_async_socket_start_tls() ended; @error_code
 *   is 0 or the failure's errno (the #GError: c_async_socket_get_close_error())
 * @on_record_data: in record mode, a whole record arrived, lent: its bytes are valid until
 *   the handler returns. The default copies them into a #GBytes and delivers `on_record`
 *   and the #CAsyncSocket::record signal; a class that overrides it takes each record where
 *   it was read, with no copy and no allocation, and gets neither (unless it chains up).
 *   Parse it in place (c_archive_reload_data()), send it on (c_async_socket_send_record_data()
 *   copies only what has to wait), or copy what must outlive the call.
 *
 * The notifications, MFC's `OnAccept` … `OnOutOfBandData`. Each has a do-nothing default;
 * subclasses override the ones they need. Each is also the class handler of the signal of
 * the same meaning (#CAsyncSocket::accept, ::receive, ::send, ::connect, ::close,
 * ::out-of-band-data, ::handshake). @error_code is an errno value, 0 for success.
 */
/**
 * CAsyncSocketClass::on_record_data:
 * @self: the socket
 * @data: (array length=size) (element-type guint8): the record's bytes, lent until the
 *   handler returns
 * @size: their number
 *
 * In record mode, a whole record arrived (see #CAsyncSocketClass).
 */
struct _CAsyncSocketClass
{
  GObjectClass parent_class;

  void (*on_accept) (CAsyncSocket *self, int error_code);
  void (*on_receive) (CAsyncSocket *self, int error_code);
  void (*on_send) (CAsyncSocket *self, int error_code);
  void (*on_connect) (CAsyncSocket *self, int error_code);
  void (*on_close) (CAsyncSocket *self, int error_code);
  void (*on_out_of_band_data) (CAsyncSocket *self, int error_code);
  void (*on_record) (CAsyncSocket *self, GBytes *record);
  void (*on_drain) (CAsyncSocket *self);
  void (*on_handshake) (CAsyncSocket *self, int error_code);
  void (*on_record_data) (CAsyncSocket *self, const guint8 *data, gsize size);

  /*< private >*/
  gpointer padding[12];
};

AFXSOCK_AVAILABLE_IN_ALL
CAsyncSocket *c_async_socket_new (void);

/* Creation and descriptors */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_create (CAsyncSocket *self, guint port, CSocketType type,
                                CSocketEvents events, const char *address, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_create_ex (CAsyncSocket *self, GSocketFamily family, CSocketType type,
                                   int protocol, CSocketEvents events, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_socket (CAsyncSocket *self, CSocketType type, CSocketEvents events,
                                int protocol, GSocketFamily family, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_attach (CAsyncSocket *self, int handle, CSocketEvents events,
                                GError **error);
AFXSOCK_AVAILABLE_IN_ALL
int c_async_socket_detach (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
CAsyncSocket *c_async_socket_from_handle (int handle);
AFXSOCK_AVAILABLE_IN_ALL
int c_async_socket_get_handle (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_close (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_async_select (CAsyncSocket *self, CSocketEvents events, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
CSocketEvents c_async_socket_get_events (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_invoke (CAsyncSocket *self, GSourceFunc function, gpointer data,
                            GDestroyNotify notify);

/* Addresses and connections */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_bind (CAsyncSocket *self, guint port, const char *address, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_bind_address (CAsyncSocket *self, GSocketAddress *address, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_listen (CAsyncSocket *self, int backlog, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_accept (CAsyncSocket *self, CAsyncSocket *connected,
                                GSocketAddress **address, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_connect (CAsyncSocket *self, const char *host, guint port, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_connect_address (CAsyncSocket *self, GSocketAddress *address,
                                         GError **error);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_connect_timeout (CAsyncSocket *self, guint timeout_ms);
AFXSOCK_AVAILABLE_IN_ALL
guint c_async_socket_get_connect_timeout (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_connect_attempt_delay (CAsyncSocket *self, guint delay_ms);
AFXSOCK_AVAILABLE_IN_ALL
guint c_async_socket_get_connect_attempt_delay (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
guint c_async_socket_get_connect_attempts (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_shut_down (CAsyncSocket *self, CShutdownHow how, GError **error);

/* Data */
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_send (CAsyncSocket *self, const void *buffer, gsize size, int flags,
                            GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_receive (CAsyncSocket *self, void *buffer, gsize size, int flags,
                               GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_send_bytes (CAsyncSocket *self, GBytes *bytes, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_async_socket_receive_bytes (CAsyncSocket *self, gsize max_size, int flags,
                                      GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_send_to (CAsyncSocket *self, const void *buffer, gsize size, guint port,
                               const char *host, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_send_to_address (CAsyncSocket *self, const void *buffer, gsize size,
                                       GSocketAddress *address, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_receive_from (CAsyncSocket *self, void *buffer, gsize size, char **host,
                                    guint *port, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gssize c_async_socket_receive_from_address (CAsyncSocket *self, void *buffer, gsize size,
                                            GSocketAddress **address, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_async_socket_receive_from_bytes (CAsyncSocket *self, gsize max_size, char **host,
                                           guint *port, int flags, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GBytes *c_async_socket_receive_from_address_bytes (CAsyncSocket *self, gsize max_size,
                                                   GSocketAddress **address, int flags,
                                                   GError **error);

/* Names, options, control */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_peer_name (CAsyncSocket *self, char **address, guint *port,
                                       GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_sock_name (CAsyncSocket *self, char **address, guint *port,
                                       GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GSocketAddress *c_async_socket_get_peer_address (CAsyncSocket *self, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
GSocketAddress *c_async_socket_get_sock_address (CAsyncSocket *self, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_sock_opt (CAsyncSocket *self, int option, void *value, guint *size,
                                      int level, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_sock_opt (CAsyncSocket *self, int option, const void *value, guint size,
                                      int level, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_sock_opt_int (CAsyncSocket *self, int level, int option, int *value,
                                          GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_sock_opt_int (CAsyncSocket *self, int level, int option, int value,
                                          GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_ioctl (CAsyncSocket *self, gulong command, guint32 *argument,
                               GError **error);

/* Multicast (datagram sockets; beyond MFC) */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_join_multicast_group (CAsyncSocket *self, const char *group,
                                              const char *source, const char *interface,
                                              GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_leave_multicast_group (CAsyncSocket *self, const char *group,
                                               const char *source, const char *interface,
                                               GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_multicast_interface (CAsyncSocket *self, const char *interface,
                                                 GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_multicast_ttl (CAsyncSocket *self, guint ttl, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_multicast_ttl (CAsyncSocket *self, guint *ttl, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_multicast_loopback (CAsyncSocket *self, gboolean loopback,
                                                GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_multicast_loopback (CAsyncSocket *self, gboolean *loopback,
                                                GError **error);

/* State and accounting */
AFXSOCK_AVAILABLE_IN_ALL
int c_async_socket_get_last_error (void);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_get_stats (CAsyncSocket *self, CSocketStats *stats);
AFXSOCK_AVAILABLE_IN_ALL
GSocketFamily c_async_socket_get_family (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
CSocketType c_async_socket_get_socket_type (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
GMainContext *c_async_socket_get_context (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_is_listening (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_is_connected (CAsyncSocket *self);

/* Records and the write queue (beyond MFC) */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_record_mode (CAsyncSocket *self, gboolean enabled, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_record_mode (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_send_record (CAsyncSocket *self, GBytes *record, GError **error);
typedef struct _CArchive CArchive;
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_send_archive (CAsyncSocket *self, CArchive *archive, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_send_record_data (CAsyncSocket *self, const void *data, gsize size,
                                          GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gsize c_async_socket_get_queued_bytes (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
GSocketAddress *c_async_socket_get_record_sender (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
const GError *c_async_socket_get_close_error (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_max_record_size (CAsyncSocket *self, gsize max_record_size);
AFXSOCK_AVAILABLE_IN_ALL
gsize c_async_socket_get_max_record_size (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_water_marks (CAsyncSocket *self, gsize low, gsize high);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_get_water_marks (CAsyncSocket *self, gsize *low, gsize *high);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_overflow_closes (CAsyncSocket *self, gboolean closes);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_idle_timeout (CAsyncSocket *self, guint timeout_ms);
AFXSOCK_AVAILABLE_IN_ALL
void c_async_socket_set_record_timeout (CAsyncSocket *self, guint timeout_ms);

G_END_DECLS

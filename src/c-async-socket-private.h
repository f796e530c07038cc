/* c-async-socket-private.h: CAsyncSocket's internals, shared by its source files and CSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sys/socket.h>

#include <afxsock/c-async-socket.h>
#include <afxsock/c-enum-types.h>

#include "c-address-private.h"
#include "c-error-private.h"
#include "c-reactor-private.h"

G_BEGIN_DECLS

/* TCP_INQ (Linux 4.18): each read also says how many bytes remain queued, so that a
 * reader that filled its buffer knows without a poll() whether to be notified again. */
enum
{
  C_TCP_INQ_UNTRIED = 0,
  C_TCP_INQ_ON,
  C_TCP_INQ_UNAVAILABLE,
};

typedef enum
{
  C_NOTIFY_ACCEPT,
  C_NOTIFY_RECEIVE,
  C_NOTIFY_SEND,
  C_NOTIFY_CONNECT,
  C_NOTIFY_CLOSE,
  C_NOTIFY_OUT_OF_BAND,
  C_NOTIFY_HANDSHAKE, /* a STARTTLS handshake ended (c-tls-transport.c) */
  C_N_NOTIFY
} CNotify;

/* Deferred work, done from the reactor's dispatch and never inside the API call that asked
 * for it (README.md, the contract under "The rules notifications follow"). */
typedef enum
{
  C_DEFER_PROBE = 1 << 0,        /* poll the descriptor and act on what holds */
  C_DEFER_CONNECT = 1 << 1,      /* deliver on_connect (connect_error) */
  C_DEFER_ACCEPT_ERROR = 1 << 2, /* deliver on_accept (accept_error) */
  C_DEFER_DRAIN = 1 << 3,        /* deliver on_drain */
} CDeferred;

typedef struct _CRecordState CRecordState;
typedef struct _CTransport CTransport; /* c-transport.h */
typedef struct _CEyeballs CEyeballs;   /* c-async-socket-eyeballs.c */

typedef struct
{
  int fd;
  CTransport *transport; /* NULL: the plain socket transport (c-transport.h) */
  GSocketFamily family;
  CSocketType type;
  int protocol;
  CSocketEvents events;

  GMainContext *context;
  CReactor *reactor;
  /* Told once when the descriptor goes (close, detach): a CSocketService's hold on its
   * connection (c-socket-service.c); cleared before it is called. */
  void (*released) (CAsyncSocket *self, gpointer data);
  gpointer released_data;
  /* Set by a CSocketService while it holds the socket: after an on_close for an error, the
   * socket is closed if the handler did not close it (deliver_close, events.c). */
  gboolean close_after_failure;
  CReactorWatch watch;
  guint incarnation;   /* bumped by close/detach, so handlers can tell the socket went away */
  guint dispatch_refs; /* references held by deliveries under way (see dispatch_enter) */

  /* Connection state */
  guint listening : 1;
  guint connecting : 1; /* the kernel's connect is in progress on the socket's descriptor */
  guint connected : 1;
  guint peer_closed : 1; /* end of stream (or hang-up) seen */
  guint close_delivered : 1;
  guint receives_shut : 1;    /* shut_down (receives): no more read or close notifications */
  guint urgent_seen : 1;      /* urgent data arrived once: a short read may stop at its mark */
  guint eof_read : 1;         /* record mode: the reader met the end of the stream */
  guint shutdown_pending : 1; /* shut_down (sends) waits for the write queue to empty */

  /* Re-arm state of the notifications (MFC's WSAAsyncSelect rules, README.md's table); only
   * c-async-socket-events.c writes it (docs/internals.md, "Who owns which state") */
  guint read_armed : 1;   /* on_receive / on_accept may be delivered */
  guint oob_armed : 1;    /* on_out_of_band_data may be delivered */
  guint write_wanted : 1; /* deliver on_send at the next writability */
  guint accept_backoff : 1;
  guint delivering_receive : 1; /* inside an on_receive, before its first receive returned */
  guint receive_filled : 1;     /* that receive filled the buffer: look again once it returns */
  guint data_remains : 1;       /* ... and the kernel said that more bytes are queued */
  guint tcp_inq : 2;            /* C_TCP_INQ_*: whether reads report the bytes left queued */

  /* CSocket's blocking calls: while 'waiting', readiness is collected in wait_events for
   * the caller instead of being notified; a probe afterwards notifies what still holds. */
  guint waiting : 1;
  guint32 wait_events;

  CDeferred deferred;
  int connect_error;
  int accept_error;
  int close_error; /* a reset seen by a send or receive call, reported by on_close */

  /* Connects (c-async-socket-connect.c): the deadline and its setting; a connect by host
   * name is a race of attempts while 'eyeballs' is set (c-async-socket-eyeballs.c). */
  CEyeballs *eyeballs;
  char *connect_target; /* "host:port" for messages */
  guint connect_timeout_ms;
  guint attempt_delay_ms; /* Happy Eyeballs' connection attempt delay */
  guint connect_attempts; /* addresses the last connect tried */
  GSource *connect_deadline;
  guint connect_expired : 1;  /* the last connect ended at its deadline */
  guint bound_port_fixed : 1; /* bound to a port the application chose (not 0) */

  GSource *backoff_source;
  guint backoff_ms;

  CSocketStats stats;

  /* Records (c-async-socket-records.c, c-async-socket-queue.c): settings here, running
   * state allocated while in record mode so that plain sockets carry none of it. */
  guint record_mode : 1;
  guint overflow_closes : 1;
  gsize max_record_size;
  gsize low_water_mark;
  gsize high_water_mark;
  guint idle_timeout_ms;
  guint record_timeout_ms;
  CRecordState *records;
  GError *close_reason; /* why the library closed the connection */
} CAsyncSocketPrivate;

/* Where CAsyncSocketPrivate lies from the instance (set when the class is initialized, before
 * any instance exists): the accessor is inline, for the calls made once per message. */
extern gint c_async_socket_private_offset;

static inline CAsyncSocketPrivate *
c_async_socket_get_private (CAsyncSocket *self)
{
  return (CAsyncSocketPrivate *) G_STRUCT_MEMBER_P (self, c_async_socket_private_offset);
}

/* c-async-socket.c */
gboolean c_async_socket_take_fd (CAsyncSocket *self, int fd, GSocketFamily family, CSocketType type,
                                 int protocol, GError **error);
gboolean c_async_socket_replace_fd (CAsyncSocket *self, int fd, GError **error);
void c_async_socket_defer (CAsyncSocket *self, CDeferred what);
gboolean c_async_socket_check_created (CAsyncSocket *self, const char *operation, GError **error);
void c_async_socket_fail (CAsyncSocket *self, int error_code, GError *reason);

/* c-async-socket-properties.c */
void c_async_socket_install_properties (GObjectClass *object_class);

/* c-async-socket-events.c */
void c_async_socket_notify (CAsyncSocket *self, CNotify which, int error_code);
/* A handshake under way is given up (a blocking call's timeout or cancel, the connect's
 * deadline): it fails with @error, announced as a failed handshake is (nothing but the
 * call's return while a CSocket call waits; on_connect or on_handshake otherwise). */
void c_async_socket_abandon_handshake (CAsyncSocket *self, int error_code, const GError *error);
void c_async_socket_dispatch_enter (CAsyncSocket *self);
void c_async_socket_dispatch_leave (CAsyncSocket *self);
void c_async_socket_connection_lost (CAsyncSocket *self, int error_code);
/* The notification state's writers: the rest of the code changes it only through these. */
void c_async_socket_events_reset (CAsyncSocketPrivate *priv);
void c_async_socket_mark_connected (CAsyncSocket *self);
void c_async_socket_mark_listening (CAsyncSocketPrivate *priv);
void c_async_socket_rearm_accept (CAsyncSocketPrivate *priv);
void c_async_socket_want_write (CAsyncSocketPrivate *priv);
void c_async_socket_send_failed (CAsyncSocket *self, int error_code);
void c_async_socket_received (CAsyncSocket *self, int flags, gssize n, gsize size, int error_code,
                              int remaining);
void c_async_socket_receives_ended (CAsyncSocketPrivate *priv);
void c_async_socket_end_of_stream_read (CAsyncSocketPrivate *priv);
extern const CReactorHandlers c_async_socket_reactor_handlers;
void c_async_socket_install_signals (CAsyncSocketClass *klass);
void c_async_socket_notify_record (CAsyncSocket *self, GBytes *record);
void c_async_socket_notify_record_data (CAsyncSocket *self, const guint8 *data, gsize size);
void c_async_socket_default_record_data (CAsyncSocket *self, const guint8 *data, gsize size);

/* Whether the socket's class takes its records lent (overrides on_record_data). */
static inline gboolean
c_async_socket_lends_records (CAsyncSocket *self)
{
  return C_ASYNC_SOCKET_GET_CLASS (self)->on_record_data != c_async_socket_default_record_data;
}
void c_async_socket_notify_drain (CAsyncSocket *self);

/* Counts one send call that sent @n bytes: the plain sends, and the record path's writes. */
static inline void
c_async_socket_note_sent (CAsyncSocketPrivate *priv, gsize n)
{
  priv->stats.bytes_sent += n;
  priv->stats.send_calls++;
}

/* C_IS_ASYNC_SOCKET for the calls made once per message (send, receive, send_record): an
 * application's subclass fails G_TYPE_CHECK_INSTANCE_TYPE's exact-type shortcut and pays for
 * a type walk each time, so the last type that passed is remembered (c-async-socket-io.c). */
G_GNUC_INTERNAL extern gpointer c_async_socket_known_type;

static inline gboolean
c_async_socket_is_instance (gconstpointer instance)
{
  const GTypeInstance *object = instance;
  GType type;

  if (object == NULL || object->g_class == NULL)
    return FALSE;
  type = object->g_class->g_type;
  if ((gpointer) type == g_atomic_pointer_get (&c_async_socket_known_type))
    return TRUE;
  if (!g_type_is_a (type, C_TYPE_ASYNC_SOCKET))
    return FALSE;
  g_atomic_pointer_set (&c_async_socket_known_type, (gpointer) type);
  return TRUE;
}

/* c-async-socket-records.c */
void c_async_socket_records_init (CAsyncSocketPrivate *priv);
void c_async_socket_records_reset (CAsyncSocket *self);
void c_async_socket_records_readable (CAsyncSocket *self);
gsize c_async_socket_records_buffered (CAsyncSocket *self);

/* c-async-socket-queue.c */
gboolean c_async_socket_records_writable (CAsyncSocket *self);
gboolean c_async_socket_records_shut_down_after_queue (CAsyncSocket *self);
void c_async_socket_records_flush_now (CAsyncSocket *self);
void c_async_socket_records_discard_queue (CAsyncSocket *self);
gboolean c_async_socket_records_pending (CAsyncSocket *self);

/* c-async-socket-options.c */
void c_async_socket_copy_options (int from, int to);

/* c-async-socket-connect.c */
gboolean c_async_socket_bind_address_native (CAsyncSocket *self, const struct sockaddr *address,
                                             socklen_t length, GError **error);
/* The socket's own descriptor finished its connect attempt (events.c). */
void c_async_socket_connect_finished (CAsyncSocket *self, int error_code);
/* The connect is over: on_connect with @error_code, or, for TLS from the start, the
 * handshake begins. */
void c_async_socket_connect_settle (CAsyncSocket *self, int error_code);
/* The TLS handshake of a connect ended (events.c): the deadline has nothing left to cover. */
void c_async_socket_connect_done (CAsyncSocket *self);
/* Makes the socket's descriptor reusable after a connect attempt on it. */
void c_async_socket_dissolve_attempt (CAsyncSocketPrivate *priv);
gboolean c_async_socket_is_connect_outcome (int error_code);
void c_async_socket_cancel_connect (CAsyncSocket *self);
void c_async_socket_abandon_connect (CAsyncSocket *self, int error_code);
/* Why a blocking connect failed, for CSocket: a GError that says where. */
GError *c_async_socket_connect_failure (CAsyncSocket *self, const char *host);
void c_async_socket_cancel_backoff (CAsyncSocket *self);

/* c-async-socket-eyeballs.c: connect by host name, Happy Eyeballs v2 (RFC 8305) */
#define C_ATTEMPT_DELAY_DEFAULT_MS 250
#define C_ATTEMPT_DELAY_MIN_MS 10
#define C_ATTEMPT_DELAY_MAX_MS 60000
void c_eyeballs_start (CAsyncSocket *self, const char *host, guint port);
void c_eyeballs_own_finished (CAsyncSocket *self, int error_code);
void c_eyeballs_abandon (CAsyncSocket *self);

G_END_DECLS

/* c-async-socket-notify.c: the notifications themselves: signals, vfuncs, and the release rule
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each notification is a vfunc and a signal whose class handler is that vfunc; this file
 * registers the signals and delivers them (c_async_socket_notify and its record and drain
 * kin). Every delivery holds a counted reference of its own, and after each handler the
 * socket is closed if only those references remain: the application released it inside the
 * handler (README.md: a socket may be unreffed inside any of its own notifications). When
 * a notification is due is decided in c-async-socket-events.c.
 */
#include "config.h"

#include "c-async-socket-private.h"
#include "c-record-blocks.h"

static guint notify_signals[C_N_NOTIFY];

static const gsize notify_offsets[C_N_NOTIFY] = {
  [C_NOTIFY_ACCEPT] = G_STRUCT_OFFSET (CAsyncSocketClass, on_accept),
  [C_NOTIFY_RECEIVE] = G_STRUCT_OFFSET (CAsyncSocketClass, on_receive),
  [C_NOTIFY_SEND] = G_STRUCT_OFFSET (CAsyncSocketClass, on_send),
  [C_NOTIFY_CONNECT] = G_STRUCT_OFFSET (CAsyncSocketClass, on_connect),
  [C_NOTIFY_CLOSE] = G_STRUCT_OFFSET (CAsyncSocketClass, on_close),
  [C_NOTIFY_OUT_OF_BAND] = G_STRUCT_OFFSET (CAsyncSocketClass, on_out_of_band_data),
  [C_NOTIFY_HANDSHAKE] = G_STRUCT_OFFSET (CAsyncSocketClass, on_handshake),
};

typedef void (*CNotifyFunc) (CAsyncSocket *self, int error_code);

static guint record_signal;
static guint drain_signal;

/* ---- The signals ---------------------------------------------------------------------------
 *
 * Each notification is a vfunc and a signal whose class handler is that vfunc. */

static void
default_notification (CAsyncSocket *self, int error_code)
{
}

static void
default_record (CAsyncSocket *self, GBytes *record)
{
}

static void
default_drain (CAsyncSocket *self)
{
}

static void emit_record (CAsyncSocket *self, GBytes *record);

/* on_record_data's default: the record as a GBytes for on_record and the signal. The
 * record reader does not call it: for a class that keeps it, records go to
 * c_async_socket_notify_record() as GBytes made without this copy where they can be. */
void
c_async_socket_default_record_data (CAsyncSocket *self, const guint8 *data, gsize size)
{
  GBytes *record = c_record_copy (data, size);

  emit_record (self, record);
  g_bytes_unref (record);
}

static guint
add_notification_signal (GObjectClass *object_class, const char *name, gsize class_offset)
{
  return g_signal_new (name, G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST, class_offset,
                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

void
c_async_socket_install_signals (CAsyncSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  klass->on_accept = default_notification;
  klass->on_receive = default_notification;
  klass->on_send = default_notification;
  klass->on_connect = default_notification;
  klass->on_close = default_notification;
  klass->on_out_of_band_data = default_notification;
  klass->on_record = default_record;
  klass->on_drain = default_drain;
  klass->on_handshake = default_notification;
  klass->on_record_data = c_async_socket_default_record_data;

  /**
   * CAsyncSocket::accept:
   * @self: the listening socket
   * @error_code: 0, or the errno of an accept failure such as `EMFILE`
   *
   * A connection is waiting; call c_async_socket_accept(). Class handler: `on_accept`.
   */
  notify_signals[C_NOTIFY_ACCEPT] = add_notification_signal (
      object_class, "accept", G_STRUCT_OFFSET (CAsyncSocketClass, on_accept));
  /**
   * CAsyncSocket::receive:
   * @self: the socket
   * @error_code: 0
   *
   * Data can be received; call c_async_socket_receive() once. Class handler: `on_receive`.
   */
  notify_signals[C_NOTIFY_RECEIVE] = add_notification_signal (
      object_class, "receive", G_STRUCT_OFFSET (CAsyncSocketClass, on_receive));
  /**
   * CAsyncSocket::send:
   * @self: the socket
   * @error_code: 0
   *
   * The socket can send: after connect or accept, then after a send would-blocked and space
   * freed. Class handler: `on_send`.
   */
  notify_signals[C_NOTIFY_SEND] = add_notification_signal (
      object_class, "send", G_STRUCT_OFFSET (CAsyncSocketClass, on_send));
  /**
   * CAsyncSocket::connect:
   * @self: the socket
   * @error_code: 0 on success, else the errno of the failure (`ECONNREFUSED`, …)
   *
   * A connect attempt finished. Class handler: `on_connect`.
   */
  notify_signals[C_NOTIFY_CONNECT] = add_notification_signal (
      object_class, "connect", G_STRUCT_OFFSET (CAsyncSocketClass, on_connect));
  /**
   * CAsyncSocket::close:
   * @self: the socket
   * @error_code: 0 for a graceful close (after all data was read), else the errno (`ECONNRESET`)
   *
   * The peer closed the connection. Delivered once; never after a local close. Class
   * handler: `on_close`.
   */
  notify_signals[C_NOTIFY_CLOSE] = add_notification_signal (
      object_class, "close", G_STRUCT_OFFSET (CAsyncSocketClass, on_close));
  /**
   * CAsyncSocket::out-of-band-data:
   * @self: the socket
   * @error_code: 0
   *
   * Urgent data arrived; receive it with `MSG_OOB`. Class handler: `on_out_of_band_data`.
   */
  notify_signals[C_NOTIFY_OUT_OF_BAND] = add_notification_signal (
      object_class, "out-of-band-data", G_STRUCT_OFFSET (CAsyncSocketClass, on_out_of_band_data));
  /**
   * CAsyncSocket::handshake:
   * @self: the socket
   * @error_code: 0 when the handshake succeeded, else the errno of its failure (`EPROTO`,
   *   `ECONNABORTED`, …; the #GError from c_async_socket_get_close_error())
   *
   * A TLS handshake started by c_async_socket_start_tls() ended. Class handler:
   * `on_handshake`.
   */
  notify_signals[C_NOTIFY_HANDSHAKE] = add_notification_signal (
      object_class, "handshake", G_STRUCT_OFFSET (CAsyncSocketClass, on_handshake));
  /**
   * CAsyncSocket::record:
   * @self: the socket
   * @record: the record's bytes
   *
   * In record mode, a whole record arrived. Class handler: `on_record`.
   */
  record_signal = g_signal_new ("record", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                                G_STRUCT_OFFSET (CAsyncSocketClass, on_record), NULL, NULL, NULL,
                                G_TYPE_NONE, 1, G_TYPE_BYTES);
  /**
   * CAsyncSocket::drain:
   * @self: the socket
   *
   * In record mode, the write queue fell to its low-water mark after reaching the high one.
   * Class handler: `on_drain`.
   */
  drain_signal = g_signal_new ("drain", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                               G_STRUCT_OFFSET (CAsyncSocketClass, on_drain), NULL, NULL, NULL,
                               G_TYPE_NONE, 0);
}

/* Every notification is delivered between dispatch_enter and dispatch_leave: the delivery
 * holds a reference of its own, so that a handler may drop the application's last one and
 * the code after the handler still finds the object. dispatch_refs counts these references
 * (deliveries nest: a CSocket blocking inside a handler dispatches again), which tells a
 * release apart from a reference kept elsewhere. */
void
c_async_socket_dispatch_enter (CAsyncSocket *self)
{
  g_object_ref (self);
  c_async_socket_get_private (self)->dispatch_refs++;
}

void
c_async_socket_dispatch_leave (CAsyncSocket *self)
{
  c_async_socket_get_private (self)->dispatch_refs--;
  g_object_unref (self);
}

/* After each handler: when only the deliveries' own references are left, the application
 * released the socket inside it (MFC's `delete this`). The socket is closed as close()
 * would: that bumps the incarnation, so nothing more is delivered to it, and the
 * delivery's unref then finalizes it. */
static inline void
close_if_released (CAsyncSocket *self)
{
  guint refs = (guint) g_atomic_int_get ((gint *) &G_OBJECT (self)->ref_count);

  if (G_UNLIKELY (refs <= c_async_socket_get_private (self)->dispatch_refs))
    c_async_socket_close (self);
}

static void
emit_record (CAsyncSocket *self, GBytes *record)
{
  if (G_UNLIKELY (g_signal_has_handler_pending (self, record_signal, 0, TRUE)))
    g_signal_emit (self, record_signal, 0, record);
  else
    C_ASYNC_SOCKET_GET_CLASS (self)->on_record (self, record);
}

void
c_async_socket_notify_record (CAsyncSocket *self, GBytes *record)
{
  emit_record (self, record);
  close_if_released (self);
}

/* A record lent to a class that overrides on_record_data. */
void
c_async_socket_notify_record_data (CAsyncSocket *self, const guint8 *data, gsize size)
{
  C_ASYNC_SOCKET_GET_CLASS (self)->on_record_data (self, data, size);
  close_if_released (self);
}

void
c_async_socket_notify_drain (CAsyncSocket *self)
{
  if (g_signal_has_handler_pending (self, drain_signal, 0, TRUE))
    g_signal_emit (self, drain_signal, 0);
  else
    C_ASYNC_SOCKET_GET_CLASS (self)->on_drain (self);
  close_if_released (self);
}

/* Delivers one notification. The signal's class handler is the vfunc, so when nobody is
 * connected to the signal, calling the vfunc directly is the same and skips the signal
 * machinery on the hot path. */
void
c_async_socket_notify (CAsyncSocket *self, CNotify which, int error_code)
{
  guint signal_id = notify_signals[which];

  if (G_UNLIKELY (g_signal_has_handler_pending (self, signal_id, 0, TRUE)))
    g_signal_emit (self, signal_id, 0, error_code);
  else
    {
      CNotifyFunc func
          = G_STRUCT_MEMBER (CNotifyFunc, G_OBJECT_GET_CLASS (self), notify_offsets[which]);
      func (self, error_code);
    }
  close_if_released (self);
}

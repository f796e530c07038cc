/* c-socket.c: CSocket, blocking calls that keep the main loop running
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A blocking call tries the operation; when it would block, it runs the socket's main
 * context until the reactor reports the readiness it needs, then tries again. While it
 * waits:
 *
 * - the socket is in "waiting" mode: its own readiness goes to the call, not to its
 *   notifications; when the call ends, a probe notifies whatever still holds (data left,
 *   the peer's close), so an on_close that arrives during the call is never lost;
 * - the reactor holds every other socket's notifications on this context and delivers them
 *   after the call, so no notification runs inside another one (MFC's rule), and none is
 *   lost or repeated;
 * - timers, idles and every other source of the context keep running.
 *
 * MFC's traps are avoided on purpose: a second blocking call on the same socket fails with
 * C_SOCKET_ERROR_IN_PROGRESS instead of returning 0 as if the peer had closed; every call
 * has a timeout (property, MFC has none) and can be cancelled.
 */
#include "config.h"

#include <errno.h>

#include "c-socket-private.h"
#include "c-transport.h"

enum
{
  PROP_0,
  PROP_TIMEOUT,
  PROP_CANCELLABLE,
  PROP_BLOCKING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * CSocket:
 *
 * A socket whose connect, accept, send and receive block the caller until done, while the
 * thread's main context keeps running, like MFC's `CSocket`.
 *
 * ```c
 * static gboolean
 * read_greeting (const char *host, guint port, char *line, gsize size, GError **error)
 * {
 *   g_autoptr (CSocket) socket = c_socket_new ();
 *   gssize n;
 *
 *   c_socket_set_timeout (socket, 5000); // each blocking call: 5 s at most
 *   if (!c_async_socket_create (C_ASYNC_SOCKET (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, error)
 *       || !c_socket_connect (socket, host, port, error)
 *       || (n = c_socket_receive (socket, line, size - 1, 0, error)) < 0)
 *     return FALSE;
 *   line[n] = '\0';
 *   return TRUE;
 * }
 * ```
 *
 * During a blocking call the context's timers, idles and other sources run as usual; other
 * sockets' notifications on the same context wait until the call returns and are then
 * delivered, each once. A call fails with %G_IO_ERROR_TIMED_OUT after #CSocket:timeout
 * milliseconds (0 = no limit) and with %G_IO_ERROR_CANCELLED after
 * c_socket_cancel_blocking_call() or when #CSocket:cancellable is cancelled; a second
 * blocking call on a socket that is already blocking fails with
 * %C_SOCKET_ERROR_IN_PROGRESS.
 *
 * After a timed-out or cancelled call the socket stays open: a receive, receive_from or
 * accept consumed nothing and can be tried again; a connect was abandoned and can be
 * started again; a send may have sent part of the data (the error message says how much),
 * so the stream's position is unknown and the connection should be closed.
 *
 * The socket's own notifications still arrive outside blocking calls, so the CHATTER
 * pattern works: in `on_receive`, read records through a #CArchive over a #CSocketFile.
 * A blocking connect reports its outcome by its return value and does not deliver
 * `on_connect`.
 *
 * The calls work from inside a notification and on a thread whose context has no main
 * loop running; they fail with %C_SOCKET_ERROR_WRONG_CONTEXT when another thread is running
 * the socket's context.
 */

G_DEFINE_TYPE_WITH_PRIVATE (CSocket, c_socket, C_TYPE_ASYNC_SOCKET)

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_wake_up (GCancellable *cancellable, gpointer data)
{
  return G_SOURCE_REMOVE;
}

static GSource *
attach_waker (GSource *source, GMainContext *context)
{
  g_source_attach (source, context);
  return source;
}

static gboolean
begin_call (CSocket *self, BlockingCall *call, const char *operation, GError **error)
{
  CSocketPrivate *priv = c_socket_get_instance_private (self);
  CAsyncSocketPrivate *async = c_async_socket_get_private (C_ASYNC_SOCKET (self));

  if (!c_async_socket_check_created (C_ASYNC_SOCKET (self), operation, error))
    return FALSE;
  if (priv->blocking)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_IN_PROGRESS,
                          "%s: a blocking call is already in progress on this socket", operation);
      return FALSE;
    }
  if (!g_main_context_acquire (async->context))
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_CONTEXT,
                          "%s: the socket's main context is running in another thread", operation);
      return FALSE;
    }

  *call = (BlockingCall){ self, async, priv, operation, c_reactor_ref (async->reactor), NULL, 0 };
  priv->blocking = TRUE;
  priv->cancel_requested = FALSE;
  async->waiting = TRUE;
  call->previous_except = c_reactor_hold (call->reactor, self);
  if (priv->timeout_ms > 0)
    {
      call->deadline = g_get_monotonic_time () + (gint64) priv->timeout_ms * 1000;
      call->deadline_source = g_timeout_source_new (priv->timeout_ms);
      g_source_set_callback (call->deadline_source, wake_up, NULL, NULL);
      attach_waker (call->deadline_source, async->context);
    }
  if (priv->cancellable != NULL)
    {
      call->cancel_source = g_cancellable_source_new (priv->cancellable);
      g_source_set_callback (call->cancel_source, G_SOURCE_FUNC (cancelled_wake_up), NULL, NULL);
      attach_waker (call->cancel_source, async->context);
    }
  return TRUE;
}

static void
drop_waker (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
end_call (BlockingCall *call)
{
  drop_waker (&call->deadline_source);
  drop_waker (&call->cancel_source);
  call->async->waiting = FALSE;
  call->async->wait_events = 0;
  call->priv->blocking = FALSE;
  c_reactor_release (call->reactor, call->previous_except);
  c_reactor_unref (call->reactor);
  g_main_context_release (call->async->context);
  /* What the call did not consume (data left, the peer's close) is notified from the main
   * loop, as for any socket. */
  if (call->async->fd >= 0)
    c_async_socket_defer (C_ASYNC_SOCKET (call->self), C_DEFER_PROBE);
}

typedef gboolean (*WaitDone) (BlockingCall *call, gpointer data);

/* Runs the context until done() holds; FALSE with an error on timeout, cancellation, or
 * when the socket was closed meanwhile (by a timer, say). */
static gboolean
wait_until (BlockingCall *call, WaitDone done, gpointer data, GError **error)
{
  CSocketClass *klass = C_SOCKET_GET_CLASS (call->self);

  while (!done (call, data))
    {
      gboolean handled;

      if (call->async->fd < 0)
        {
          c_set_socket_error (error, C_SOCKET_ERROR_NOT_CREATED,
                              "%s: the socket was closed during the call", call->operation);
          return FALSE;
        }
      if (call->priv->cancel_requested
          || (call->priv->cancellable && g_cancellable_is_cancelled (call->priv->cancellable)))
        {
          c_set_last_error (EINTR);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "%s: the blocking call was cancelled", call->operation);
          return FALSE;
        }
      if (call->deadline != 0 && g_get_monotonic_time () >= call->deadline)
        {
          c_set_last_error (ETIMEDOUT);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s: timed out after %u ms",
                       call->operation, call->priv->timeout_ms);
          return FALSE;
        }
      handled = klass->on_message_pending (call->self);
      g_main_context_iteration (call->async->context, !handled);
    }
  return TRUE;
}

static gboolean
ready_for (BlockingCall *call, gpointer data)
{
  guint32 wanted = GPOINTER_TO_UINT (data);
  return (call->async->wait_events & (wanted | C_REACTOR_ERROR | C_REACTOR_HANGUP)) != 0;
}

static gboolean
is_would_block (GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

gssize
c_socket_run_blocking (CSocket *self, const char *operation, CSocketAttempt attempt, guint32 wanted,
                       gpointer data, GError **error)
{
  BlockingCall call;
  GError *local = NULL;
  gssize result;

  if (!begin_call (self, &call, operation, error))
    return -1;
  for (;;)
    {
      /* Cleared before the attempt: readiness reported after it is what we wait for. */
      call.async->wait_events = 0;
      result = attempt (&call, data, &local);
      if (result >= 0 || !is_would_block (local))
        break;
      g_clear_error (&local);
      if (!wait_until (&call, ready_for, GUINT_TO_POINTER (wanted), &local))
        {
          result = -1;
          break;
        }
    }
  end_call (&call);
  if (local != NULL)
    g_propagate_error (error, local);
  return result;
}

static void
c_socket_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CSocketPrivate *priv = c_socket_get_instance_private (C_SOCKET (object));

  switch (prop_id)
    {
      case PROP_TIMEOUT:
        g_value_set_uint (value, priv->timeout_ms);
        break;
      case PROP_CANCELLABLE:
        g_value_set_object (value, priv->cancellable);
        break;
      case PROP_BLOCKING:
        g_value_set_boolean (value, priv->blocking);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
c_socket_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CSocket *self = C_SOCKET (object);

  switch (prop_id)
    {
      case PROP_TIMEOUT:
        c_socket_set_timeout (self, g_value_get_uint (value));
        break;
      case PROP_CANCELLABLE:
        c_socket_set_cancellable (self, g_value_get_object (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
c_socket_dispose (GObject *object)
{
  CSocketPrivate *priv = c_socket_get_instance_private (C_SOCKET (object));

  g_clear_object (&priv->cancellable);
  G_OBJECT_CLASS (c_socket_parent_class)->dispose (object);
}

static gboolean
default_message_pending (CSocket *self)
{
  return FALSE;
}

static void
c_socket_class_init (CSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = c_socket_get_property;
  object_class->set_property = c_socket_set_property;
  object_class->dispose = c_socket_dispose;
  klass->on_message_pending = default_message_pending;

  /**
   * CSocket:timeout:
   *
   * Milliseconds a blocking call may wait before it fails with %G_IO_ERROR_TIMED_OUT;
   * 0, the default, waits without limit.
   */
  properties[PROP_TIMEOUT]
      = g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * CSocket:cancellable:
   *
   * A #GCancellable consulted by every blocking call; cancelling it makes the call under
   * way fail with %G_IO_ERROR_CANCELLED.
   */
  properties[PROP_CANCELLABLE]
      = g_param_spec_object ("cancellable", NULL, NULL, G_TYPE_CANCELLABLE,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * CSocket:blocking:
   *
   * Whether a blocking call is under way (MFC's `IsBlocking`).
   */
  properties[PROP_BLOCKING] = g_param_spec_boolean ("blocking", NULL, NULL, FALSE,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
c_socket_init (CSocket *self)
{
}

/**
 * c_socket_new:
 *
 * Makes a blocking socket object without a descriptor.
 *
 * Returns: (transfer full): a new #CSocket without a descriptor
 */
CSocket *
c_socket_new (void)
{
  return g_object_new (C_TYPE_SOCKET, NULL);
}

static gboolean
connect_settled (BlockingCall *call, gpointer data)
{
  return call->async->eyeballs == NULL && !call->async->connecting
         && !(call->async->connected && c_transport_in_handshake (call->async));
}

/**
 * c_socket_connect:
 * @self: a created socket
 * @host: a numeric IPv4 or IPv6 address, a host name, or a Unix socket path
 * @port: the port
 * @error: return location for a #GError
 *
 * Connects, blocking until the connection is established or has failed (MFC's
 * `CSocket::Connect`). Host names are resolved without freezing the main loop, and their
 * addresses race as c_async_socket_connect() describes (Happy Eyeballs). The call gives up
 * at #CSocket:timeout or #CAsyncSocket:connect-timeout, whichever comes first.
 *
 * Returns: %TRUE when connected
 */
gboolean
c_socket_connect (CSocket *self, const char *host, guint port, GError **error)
{
  BlockingCall call;
  GError *local = NULL;
  gboolean connected;

  g_return_val_if_fail (C_IS_SOCKET (self), FALSE);
  if (!begin_call (self, &call, "connect", error))
    return FALSE;
  if (!c_async_socket_connect (C_ASYNC_SOCKET (self), host, port, &local))
    {
      end_call (&call);
      g_propagate_error (error, local);
      return FALSE;
    }
  if (!wait_until (&call, connect_settled, NULL, &local))
    {
      int code = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ? ETIMEDOUT : EINTR;
      /* Given up during the TLS handshake: it fails, and no on_connect comes later. */
      if (call.async->connected)
        c_async_socket_abandon_handshake (C_ASYNC_SOCKET (self), code, local);
      c_async_socket_abandon_connect (C_ASYNC_SOCKET (self), code);
    }
  call.async->deferred &= ~C_DEFER_CONNECT; /* the return value is the outcome */
  connected = call.async->connected;
  if (local == NULL && !connected)
    local = c_async_socket_connect_failure (C_ASYNC_SOCKET (self), host);
  end_call (&call);
  if (local != NULL)
    g_propagate_error (error, local);
  return connected && local == NULL;
}

static gboolean
handshake_settled (BlockingCall *call, gpointer data)
{
  return !c_transport_in_handshake (call->async);
}

/**
 * c_socket_start_tls:
 * @self: a connected stream socket
 * @settings: client or server settings: which side of the handshake this socket takes
 * @peer_name: (nullable): for a client, the server's name (see c_async_socket_set_tls())
 * @error: return location for a #GError
 *
 * STARTTLS, blocking: c_async_socket_start_tls(), returning when the handshake has ended
 * (no `on_handshake` follows). A failed handshake, a timeout (#CSocket:timeout) or a cancel
 * leaves the connection shut down, with the error here; close the socket then.
 *
 * Returns: %TRUE when the connection speaks TLS
 */
gboolean
c_socket_start_tls (CSocket *self, CTlsSettings *settings, const char *peer_name, GError **error)
{
  BlockingCall call;
  GError *local = NULL;

  g_return_val_if_fail (C_IS_SOCKET (self), FALSE);
  if (!begin_call (self, &call, "start_tls", error))
    return FALSE;
  if (c_async_socket_start_tls (C_ASYNC_SOCKET (self), settings, peer_name, &local))
    {
      if (!wait_until (&call, handshake_settled, NULL, &local))
        c_async_socket_abandon_handshake (
            C_ASYNC_SOCKET (self),
            g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ? ETIMEDOUT : EINTR, local);
      else if (!c_async_socket_is_tls_established (C_ASYNC_SOCKET (self)))
        {
          const GError *reason = call.async->close_reason;
          if (reason != NULL)
            g_set_error (&local, reason->domain, reason->code, "start_tls: %s", reason->message);
          else
            g_set_error (&local, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
                         "start_tls: the handshake failed");
        }
    }
  end_call (&call);
  if (local != NULL)
    g_propagate_error (error, local);
  return local == NULL;
}

static gssize
attempt_accept (BlockingCall *call, gpointer data, GError **error)
{
  gpointer *args = data;
  return c_async_socket_accept (C_ASYNC_SOCKET (call->self), args[0], args[1], error) ? 0 : -1;
}

/**
 * c_socket_accept:
 * @self: a listening socket
 * @connected: a socket object without a descriptor, of the application's own subclass
 * @address: (out) (optional) (transfer full) (nullable): the peer's address
 * @error: return location for a #GError
 *
 * Waits for a connection and accepts it into @connected (MFC's `CSocket::Accept`).
 *
 * Returns: %TRUE on success
 */
gboolean
c_socket_accept (CSocket *self, CAsyncSocket *connected, GSocketAddress **address, GError **error)
{
  gpointer args[2] = { connected, address };

  g_return_val_if_fail (C_IS_SOCKET (self), FALSE);
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (connected), FALSE);
  return c_socket_run_blocking (self, "accept", attempt_accept, C_REACTOR_READABLE, args, error)
         == 0;
}

typedef struct
{
  const guint8 *buffer;
  gsize size;
  gsize sent;
  int flags;
} SendJob;

static gssize
attempt_send_all (BlockingCall *call, gpointer data, GError **error)
{
  SendJob *job = data;

  while (job->sent < job->size)
    {
      gssize n = c_async_socket_send (C_ASYNC_SOCKET (call->self), job->buffer + job->sent,
                                      job->size - job->sent, job->flags, error);
      if (n < 0)
        {
          if (job->sent > 0 && !is_would_block (*error))
            g_prefix_error (error, "after %zu of %zu bytes: ", job->sent, job->size);
          return -1;
        }
      job->sent += (gsize) n;
    }
  return (gssize) job->sent;
}

/**
 * c_socket_send:
 * @self: a connected socket
 * @buffer: (array length=size) (element-type guint8): the bytes to send
 * @size: how many
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Sends every byte, blocking while the peer is not taking them (MFC's `CSocket::Send`).
 *
 * Returns: @size, or -1 on error
 */
gssize
c_socket_send (CSocket *self, const void *buffer, gsize size, int flags, GError **error)
{
  SendJob job = { buffer, size, 0, flags };

  g_return_val_if_fail (C_IS_SOCKET (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  return c_socket_run_blocking (self, "send", attempt_send_all, C_REACTOR_WRITABLE, &job, error);
}

typedef struct
{
  void *buffer;
  gsize size;
  int flags;
} ReceiveJob;

static gssize
attempt_receive (BlockingCall *call, gpointer data, GError **error)
{
  ReceiveJob *job = data;
  return c_async_socket_receive (C_ASYNC_SOCKET (call->self), job->buffer, job->size, job->flags,
                                 error);
}

/**
 * c_socket_receive: (skip)
 * @self: a socket
 * @buffer: (out caller-allocates) (array length=size) (element-type guint8): where to put
 *   the bytes
 * @size: room in @buffer
 * @flags: `MSG_*` flags
 * @error: return location for a #GError
 *
 * Waits until data arrives and receives what is there, up to @size bytes (MFC's
 * `CSocket::Receive`). Bindings: c_socket_receive_bytes().
 *
 * Returns: the number of bytes received, 0 when the peer closed, -1 on error
 */
gssize
c_socket_receive (CSocket *self, void *buffer, gsize size, int flags, GError **error)
{
  ReceiveJob job = { buffer, size, flags };

  g_return_val_if_fail (C_IS_SOCKET (self), -1);
  g_return_val_if_fail (buffer != NULL || size == 0, -1);
  return c_socket_run_blocking (self, "receive", attempt_receive,
                                C_REACTOR_READABLE | C_REACTOR_READ_HANGUP | C_REACTOR_PRIORITY,
                                &job, error);
}

/**
 * c_socket_is_blocking:
 * @self: a socket
 *
 * Tells whether a blocking call is under way.
 *
 * Returns: whether a blocking call is under way (MFC's `IsBlocking`)
 */
gboolean
c_socket_is_blocking (CSocket *self)
{
  g_return_val_if_fail (C_IS_SOCKET (self), FALSE);
  return ((CSocketPrivate *) c_socket_get_instance_private (self))->blocking;
}

/**
 * c_socket_cancel_blocking_call:
 * @self: a socket
 *
 * Makes the blocking call under way fail with %G_IO_ERROR_CANCELLED (MFC's
 * `CancelBlockingCall`, whose call fails with `WSAEINTR`; c_async_socket_get_last_error()
 * is `EINTR`). Call it from a timer or another source dispatched during the call. Does
 * nothing when no call is blocking.
 */
void
c_socket_cancel_blocking_call (CSocket *self)
{
  CSocketPrivate *priv;

  g_return_if_fail (C_IS_SOCKET (self));
  priv = c_socket_get_instance_private (self);
  if (!priv->blocking)
    return;
  priv->cancel_requested = TRUE;
  g_main_context_wakeup (c_async_socket_get_context (C_ASYNC_SOCKET (self)));
}

/**
 * c_socket_set_timeout:
 * @self: a socket
 * @timeout_ms: milliseconds, 0 for no limit
 *
 * Sets #CSocket:timeout.
 */
void
c_socket_set_timeout (CSocket *self, guint timeout_ms)
{
  CSocketPrivate *priv;

  g_return_if_fail (C_IS_SOCKET (self));
  priv = c_socket_get_instance_private (self);
  if (priv->timeout_ms == timeout_ms)
    return;
  priv->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * c_socket_get_timeout:
 * @self: a socket
 *
 * The time a blocking call may wait.
 *
 * Returns: #CSocket:timeout, in milliseconds
 */
guint
c_socket_get_timeout (CSocket *self)
{
  g_return_val_if_fail (C_IS_SOCKET (self), 0);
  return ((CSocketPrivate *) c_socket_get_instance_private (self))->timeout_ms;
}

/**
 * c_socket_set_cancellable:
 * @self: a socket
 * @cancellable: (nullable): a cancellable for every blocking call, or %NULL
 *
 * Sets #CSocket:cancellable.
 */
void
c_socket_set_cancellable (CSocket *self, GCancellable *cancellable)
{
  CSocketPrivate *priv;

  g_return_if_fail (C_IS_SOCKET (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  priv = c_socket_get_instance_private (self);
  if (g_set_object (&priv->cancellable, cancellable))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CANCELLABLE]);
}

/**
 * c_socket_get_cancellable:
 * @self: a socket
 *
 * The cancellable consulted by every blocking call.
 *
 * Returns: (transfer none) (nullable): #CSocket:cancellable
 */
GCancellable *
c_socket_get_cancellable (CSocket *self)
{
  g_return_val_if_fail (C_IS_SOCKET (self), NULL);
  return ((CSocketPrivate *) c_socket_get_instance_private (self))->cancellable;
}

/* c-async-socket-record-mode.c: record mode as a whole: its state's life, timeouts, settings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The running state (CRecordState) is made on first use, by the reader or the write queue,
 * and freed with the descriptor; the idle and record timeouts are one timer source per socket,
 * made only when a timeout is set (reads only update the times); the mode and its settings
 * are the API below. Reading and cutting records is in c-async-socket-records.c, sending in
 * c-async-socket-queue.c.
 */
#include "config.h"

#include <errno.h>

#include "c-async-socket-records-private.h"
#include "c-record-blocks.h"

#define DEFAULT_MAX_RECORD_SIZE (64u * 1024 * 1024)
#define DEFAULT_LOW_WATER_MARK (256u * 1024)
#define DEFAULT_HIGH_WATER_MARK (4u * 1024 * 1024)

void
c_async_socket_records_init (CAsyncSocketPrivate *priv)
{
  priv->max_record_size = DEFAULT_MAX_RECORD_SIZE;
  priv->low_water_mark = DEFAULT_LOW_WATER_MARK;
  priv->high_water_mark = DEFAULT_HIGH_WATER_MARK;
}

/* Frees the running state (buffers, queue, timers) when the descriptor goes away. */
void
c_async_socket_records_reset (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state == NULL)
    return;
  c_record_block_give_back (state->partial, state->partial_block);
  c_async_socket_records_free_queue (state);
  if (state->timer != NULL)
    {
      g_source_destroy (state->timer);
      g_source_unref (state->timer);
    }
  g_clear_object (&state->sender);
  g_free (state);
  priv->records = NULL;
}

/* Timers: one source per socket, only when a timeout is set; reads only update times. */

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

static gint64
next_deadline (CAsyncSocketPrivate *priv)
{
  CRecordState *state = priv->records;
  gint64 next = -1;

  if (priv->idle_timeout_ms > 0)
    next = state->last_receive + (gint64) priv->idle_timeout_ms * 1000;
  if (priv->record_timeout_ms > 0 && state->record_started > 0)
    {
      gint64 record_deadline = state->record_started + (gint64) priv->record_timeout_ms * 1000;
      if (next < 0 || record_deadline < next)
        next = record_deadline;
    }
  return next;
}

static gboolean
timer_fired (gpointer data)
{
  CAsyncSocket *self = data;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;
  gint64 now = g_get_monotonic_time ();

  if (c_async_socket_has_failed (priv))
    {
      g_source_set_ready_time (state->timer, -1);
      return G_SOURCE_CONTINUE;
    }
  if (priv->record_timeout_ms > 0 && state->record_started > 0
      && now - state->record_started >= (gint64) priv->record_timeout_ms * 1000)
    c_async_socket_fail (self, ETIMEDOUT,
                         g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "record not complete after %u ms (%zu bytes so far)",
                                      priv->record_timeout_ms, state->partial_length));
  else if (priv->idle_timeout_ms > 0
           && now - state->last_receive >= (gint64) priv->idle_timeout_ms * 1000)
    c_async_socket_fail (self, ETIMEDOUT,
                         g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "no data received for %u ms", priv->idle_timeout_ms));
  g_source_set_ready_time (state->timer,
                           c_async_socket_has_failed (priv) ? -1 : next_deadline (priv));
  return G_SOURCE_CONTINUE;
}

void
c_async_socket_records_arm_timer (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;
  gint64 deadline;

  if (state == NULL || (priv->idle_timeout_ms == 0 && priv->record_timeout_ms == 0))
    return;
  if (state->timer == NULL)
    {
      state->timer = g_source_new (&timer_funcs, sizeof (GSource));
      g_source_set_static_name (state->timer, "afxsock record timeouts");
      g_source_set_callback (state->timer, timer_fired, self, NULL);
      g_source_attach (state->timer, priv->context);
    }
  deadline = next_deadline (priv);
  if (g_source_get_ready_time (state->timer) < 0
      || deadline < g_source_get_ready_time (state->timer))
    g_source_set_ready_time (state->timer, deadline);
}

/* The slow path of c_async_socket_records_state(): the socket has no running state yet. */
CRecordState *
c_async_socket_records_create_state (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->records = g_new0 (CRecordState, 1);
  priv->records->last_receive = g_get_monotonic_time ();
  c_async_socket_records_arm_timer (self);
  return priv->records;
}

/* The running state is made on first use, so that idle connections carry none; only a
 * timeout needs it (and its timer) from the start: on a connection in record mode that a
 * timeout was set on, whether before or after it was accepted or switched to records, and
 * whether or not anything has arrived yet. */
static void
start_timeouts (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->idle_timeout_ms == 0 && priv->record_timeout_ms == 0)
    return;
  if (priv->record_mode && priv->fd >= 0 && !priv->listening)
    c_async_socket_records_state (self);
  c_async_socket_records_arm_timer (self);
}

/**
 * c_async_socket_set_record_mode:
 * @self: a socket
 * @enabled: whether records replace `on_receive`
 * @error: return location for a #GError
 *
 * Switches the socket to whole records (beyond MFC, which leaves framing to the
 * application). In record mode the socket reads by itself and delivers each whole record
 * through `on_record` (and the #CAsyncSocket::record signal), never a partial one;
 * `on_receive` is not delivered and c_async_socket_receive() fails. A class that overrides
 * `on_record_data` gets each record lent instead, where it was read (no copy, no #GBytes:
 * see #CAsyncSocketClass). Records are sent with c_async_socket_send_record(). The frame
 * format is in docs/wire-format.md. Accepted sockets inherit the listener's mode.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_record_mode (CAsyncSocket *self, gboolean enabled, GError **error)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (priv->type == C_SOCK_RAW && priv->fd >= 0)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "set_record_mode: raw sockets carry no records");
      return FALSE;
    }
  priv->record_mode = enabled != FALSE;
  /* A listener only passes the mode and its settings on to the sockets it accepts. */
  if (priv->record_mode && priv->fd >= 0 && !priv->listening)
    {
      start_timeouts (self);
      c_async_socket_defer (self, C_DEFER_PROBE); /* records may already be waiting */
    }
  return TRUE;
}

/**
 * c_async_socket_get_record_mode:
 * @self: a socket
 *
 * Tells whether the socket is in record mode.
 *
 * Returns: whether the socket is in record mode
 */
gboolean
c_async_socket_get_record_mode (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return c_async_socket_get_private (self)->record_mode;
}

/**
 * c_async_socket_get_record_sender:
 * @self: a datagram socket in record mode
 *
 * The sender of a datagram record.
 *
 * Returns: (transfer none) (nullable): the sender of the record being delivered (valid
 *   during `on_record`)
 */
GSocketAddress *
c_async_socket_get_record_sender (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  priv = c_async_socket_get_private (self);
  return priv->records != NULL ? priv->records->sender : NULL;
}

/**
 * c_async_socket_get_close_error:
 * @self: a socket
 *
 * Why afxsock closed the connection itself: a record over the maximum size, a peer that
 * closed in the middle of a record, an idle or record timeout, a write queue over its
 * limit, a failed TLS handshake; or why a connect failed before any attempt: a host name
 * that did not resolve (the resolver's #GResolverError, "cannot resolve HOST: …"). The
 * same reason is logged at debug level.
 *
 * Returns: (transfer none) (nullable): the reason, or %NULL
 */
const GError *
c_async_socket_get_close_error (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  return c_async_socket_get_private (self)->close_reason;
}

/**
 * c_async_socket_set_max_record_size:
 * @self: a socket
 * @max_record_size: the largest record accepted, in bytes (default 64 MiB)
 *
 * A peer announcing a larger record is disconnected before anything that large is
 * allocated (`on_close` reports `EMSGSIZE`); larger records are refused by
 * c_async_socket_send_record().
 */
void
c_async_socket_set_max_record_size (CAsyncSocket *self, gsize max_record_size)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  c_async_socket_get_private (self)->max_record_size = MIN (max_record_size, G_MAXUINT32);
}

/**
 * c_async_socket_get_max_record_size:
 * @self: a socket
 *
 * The largest record the socket accepts or sends.
 *
 * Returns: the largest record accepted
 */
gsize
c_async_socket_get_max_record_size (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), 0);
  return c_async_socket_get_private (self)->max_record_size;
}

/**
 * c_async_socket_set_idle_timeout:
 * @self: a socket in record mode
 * @timeout_ms: milliseconds without any byte received before the connection is closed
 *   (`on_close` reports `ETIMEDOUT`); 0, the default, for none
 *
 * Closes a connection on which nothing arrives for a while. The clock starts when the
 * timeout is set (or, if set before, when the connection is switched to records): a peer
 * that never sends a byte is dropped too. A listener passes it on to the connections it
 * accepts.
 */
void
c_async_socket_set_idle_timeout (CAsyncSocket *self, guint timeout_ms)
{
  CAsyncSocketPrivate *priv;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  priv = c_async_socket_get_private (self);
  priv->idle_timeout_ms = timeout_ms;
  if (priv->records != NULL)
    priv->records->last_receive = g_get_monotonic_time ();
  start_timeouts (self);
}

/**
 * c_async_socket_set_record_timeout:
 * @self: a socket in record mode
 * @timeout_ms: milliseconds a record may take from its first byte to its last before the
 *   connection is closed (`on_close` reports `ETIMEDOUT`); 0, the default, for none. A
 *   peer dribbling a byte a minute is dropped.
 *
 * Closes a connection whose record takes too long to arrive.
 */
void
c_async_socket_set_record_timeout (CAsyncSocket *self, guint timeout_ms)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  c_async_socket_get_private (self)->record_timeout_ms = timeout_ms;
  start_timeouts (self);
}

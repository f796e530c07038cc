/* c-async-socket-events.c: from kernel readiness to MFC's notifications
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reactor registers every descriptor edge-triggered, so the kernel reports each change
 * of readiness once. This file turns those reports into the WSAAsyncSelect rules of README.md
 * ("The rules notifications follow"; docs/internals.md, "The path of an event")
 * with a little state per socket:
 *
 * - read_armed: on_receive (or on_accept) may be delivered. Cleared when it is, set again by
 *   the next receive (accept) call. While cleared, new data is not notified, so an
 *   application that does not read is not woken again and again.
 * - write_wanted: on_send is due at the next report of room to send. Set when a connection
 *   is established and when a send would-blocks; cleared when on_send is delivered.
 * - peer_closed: the peer's end of stream was seen. on_close (0) waits until no unread data
 *   remains, which the kernel tells us (FIONREAD) only at that point.
 *
 * A call that leaves something to notify (data left after a receive, a connection still
 * queued after an accept) does not notify from inside the call: it asks the reactor for a
 * "probe", which polls the descriptor from the next dispatch and feeds the answer through
 * the same code as an epoll report. One exception, for bulk transfers: when the first
 * receive of an on_receive fills the buffer, the descriptor is polled right after that
 * on_receive returns (still from the dispatch, never from inside the call).
 */
#include "config.h"

#include <errno.h>

#include "c-transport.h"

/* How many times in a row one readiness report may deliver on_receive to a socket whose
 * handler keeps filling its buffer (see process_and_redeliver). */
#define C_RECEIVE_ROUNDS 16

/* The connection is known dead: a reset or a timeout, seen by epoll, a send or a receive,
 * or afxsock closing it itself. on_close reports the first such error; the write queue,
 * whose records can no longer leave, is freed, and every later send fails. */
void
c_async_socket_connection_lost (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->close_error == 0)
    priv->close_error = error_code;
  c_async_socket_records_discard_queue (self);
}

/* ---- The notification state's writers ---------------------------------------------------
 *
 * The rest of the code changes the re-arm and close state only through these. */

/* A new descriptor: nothing delivered yet, every notification armed. */
void
c_async_socket_events_reset (CAsyncSocketPrivate *priv)
{
  priv->peer_closed = priv->close_delivered = priv->receives_shut = FALSE;
  priv->urgent_seen = priv->eof_read = FALSE;
  priv->read_armed = priv->oob_armed = TRUE;
  priv->write_wanted = FALSE;
  priv->receive_filled = priv->data_remains = FALSE;
}

/* A connection is established (connect, accept, attach): on_send is due. */
void
c_async_socket_mark_connected (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->connecting = FALSE;
  priv->connected = TRUE;
  priv->write_wanted = TRUE;
  priv->stats.connected_time = g_get_real_time ();
  priv->stats.connected_monotonic = g_get_monotonic_time ();
}

void
c_async_socket_mark_listening (CAsyncSocketPrivate *priv)
{
  priv->listening = TRUE;
  priv->read_armed = TRUE;
  priv->write_wanted = FALSE;
}

/* An accept call (or the end of a back-off): on_accept may come again. */
void
c_async_socket_rearm_accept (CAsyncSocketPrivate *priv)
{
  priv->read_armed = TRUE;
}

/* on_send is due at the next report of room to send. */
void
c_async_socket_want_write (CAsyncSocketPrivate *priv)
{
  priv->write_wanted = TRUE;
}

/* A send failed with @error_code: a full buffer makes on_send due, a reset ends the
 * connection. */
void
c_async_socket_send_failed (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (error_code == EAGAIN || error_code == EWOULDBLOCK || error_code == ENOBUFS)
    priv->write_wanted = TRUE;
  else if (error_code == ECONNRESET)
    c_async_socket_connection_lost (self, error_code);
}

/* shut_down (receives): no more read or close notifications. */
void
c_async_socket_receives_ended (CAsyncSocketPrivate *priv)
{
  priv->receives_shut = TRUE;
}

/* The record reader met the end of the stream (between records or inside one). */
void
c_async_socket_end_of_stream_read (CAsyncSocketPrivate *priv)
{
  priv->peer_closed = TRUE;
  priv->eof_read = TRUE;
}

/* After a receive call: rearm, and have the reactor look again if data may remain (the
 * buffer was filled, a datagram was read, or the peer's end of stream is near). @remaining
 * is what the transport said is still readable, -1 when unknown. */
void
c_async_socket_received (CAsyncSocket *self, int flags, gssize n, gsize size, int error_code,
                         int remaining)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gboolean stream = priv->type == C_SOCK_STREAM;

  if (flags & MSG_OOB)
    {
      priv->oob_armed = TRUE;
      return;
    }
  priv->read_armed = TRUE;
  if (priv->delivering_receive)
    {
      /* The first receive of an on_receive filled the buffer: instead of a probe from the
       * next main-loop iteration, the delivery looks again as soon as the handler returns
       * (process_and_redeliver). Any further receive in the same handler follows the usual
       * rules below. */
      priv->delivering_receive = FALSE;
      if (n > 0 && stream && (gsize) n == size && !(flags & MSG_PEEK)
          && (remaining != 0 || priv->peer_closed || priv->urgent_seen))
        {
          priv->receive_filled = TRUE;
          /* With the transport's count, on_receive comes again without even a poll(). */
          priv->data_remains = remaining > 0 && !priv->urgent_seen;
          if (remaining < 0)
            c_transport_count_remaining (priv);
          return;
        }
    }
  else
    priv->receive_filled = FALSE;
  /* A short TCP read means the queue was drained, and the next arrival is reported by the
   * reactor; except that Linux also stops a read at the urgent mark with data still queued.
   * A Unix stream stops at every message that carries descriptors or credentials, so there
   * a short read proves nothing. A transport's own count (@remaining) says it outright. */
  if (n > 0 && stream && !priv->peer_closed && !(flags & MSG_PEEK) && !priv->urgent_seen
      && (((gsize) n < size && priv->family != G_SOCKET_FAMILY_UNIX && remaining <= 0)
          || remaining == 0))
    return;
  if (n == 0 && stream)
    priv->peer_closed = TRUE;
  if (n < 0 && (error_code == EAGAIN || error_code == EWOULDBLOCK))
    return;
  if (n < 0 && (error_code == ECONNRESET || error_code == ETIMEDOUT))
    c_async_socket_connection_lost (self, error_code);
  c_async_socket_defer (self, C_DEFER_PROBE);
}

static int
pending_socket_error (int fd)
{
  int value = 0;
  socklen_t length = sizeof value;

  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &value, &length) < 0)
    return errno;
  return value;
}

static gboolean
is_connection_oriented (CAsyncSocketPrivate *priv)
{
  return priv->type == C_SOCK_STREAM || priv->type == C_SOCK_SEQPACKET;
}

static void
deliver_receive (CAsyncSocket *self, CAsyncSocketPrivate *priv)
{
  if (priv->record_mode)
    {
      /* In record mode the socket reads for the application and delivers on_record. */
      if (priv->events & C_FD_READ)
        c_async_socket_records_readable (self);
      return;
    }
  if (priv->read_armed && (priv->events & C_FD_READ))
    {
      priv->read_armed = FALSE;
      priv->receive_filled = FALSE;
      priv->delivering_receive = TRUE;
      c_async_socket_notify (self, C_NOTIFY_RECEIVE, 0);
      priv->delivering_receive = FALSE;
    }
}

static void
deliver_send (CAsyncSocket *self, CAsyncSocketPrivate *priv)
{
  if (!priv->write_wanted)
    return;
  /* Records waiting in the write queue take the turn; on_send is for the application
   * only once the queue is empty. */
  if (priv->records != NULL && c_async_socket_records_pending (self))
    {
      priv->write_wanted = FALSE; /* the queue's turn; a full buffer makes it due again */
      if (c_async_socket_records_writable (self))
        return;
    }
  if (priv->events & C_FD_WRITE)
    {
      priv->write_wanted = FALSE;
      c_async_socket_notify (self, C_NOTIFY_SEND, 0);
    }
}

static void
deliver_close (CAsyncSocket *self, CAsyncSocketPrivate *priv, int error_code)
{
  if (!priv->close_delivered && (priv->events & C_FD_CLOSE))
    {
      g_debug ("peer closed descriptor %d: %s", priv->fd,
               error_code == 0 ? "gracefully" : g_strerror (error_code));
      priv->close_delivered = TRUE;
      c_async_socket_notify (self, C_NOTIFY_CLOSE, error_code);
      /* The connection is dead; a graceful close leaves it to the application. */
      if (error_code != 0 && priv->close_after_failure)
        c_async_socket_close (self);
    }
}

static void
handle_listener (CAsyncSocket *self, CAsyncSocketPrivate *priv, guint32 events)
{
  if ((events & (C_REACTOR_READABLE | C_REACTOR_ERROR)) && priv->read_armed && !priv->accept_backoff
      && (priv->events & C_FD_ACCEPT))
    {
      priv->read_armed = FALSE;
      c_async_socket_notify (self, C_NOTIFY_ACCEPT, 0);
    }
}

static void
handle_datagrams (CAsyncSocket *self, CAsyncSocketPrivate *priv, guint32 events, guint incarnation)
{
  /* A queued error (an ICMP "port unreachable" on a connected datagram socket) is read by
   * the next receive, so it is notified as readability. */
  if (events & (C_REACTOR_READABLE | C_REACTOR_ERROR))
    deliver_receive (self, priv);
  if (priv->incarnation != incarnation)
    return;
  if (events & C_REACTOR_WRITABLE)
    deliver_send (self, priv);
}

/* Finishes a non-blocking connect. Returns TRUE when the socket is now connected. */
static gboolean
handle_connecting (CAsyncSocket *self, CAsyncSocketPrivate *priv, guint32 events)
{
  int error_code;

  if (!(events & (C_REACTOR_WRITABLE | C_REACTOR_ERROR | C_REACTOR_HANGUP)))
    return FALSE;
  error_code = pending_socket_error (priv->fd);
  if (error_code == 0 && (events & C_REACTOR_HANGUP) && !(events & C_REACTOR_WRITABLE))
    error_code = ECONNREFUSED;
  c_async_socket_connect_finished (self, error_code);
  return priv->connected;
}

static void
handle_stream_data (CAsyncSocket *self, CAsyncSocketPrivate *priv, guint32 events,
                    guint incarnation)
{
  if (events & C_REACTOR_PRIORITY)
    priv->urgent_seen = TRUE;
  if (events & C_REACTOR_PRIORITY && priv->oob_armed && (priv->events & C_FD_OOB))
    {
      priv->oob_armed = FALSE;
      c_async_socket_notify (self, C_NOTIFY_OUT_OF_BAND, 0);
      if (priv->incarnation != incarnation)
        return;
    }

  if (events & (C_REACTOR_READ_HANGUP | C_REACTOR_HANGUP))
    priv->peer_closed = TRUE;

  if ((events & C_REACTOR_READABLE) && !priv->receives_shut && priv->record_mode)
    {
      /* The record reader reads to the end of the stream itself, and knows whether it ended
       * inside a record (EPROTO, through c_async_socket_fail) or between two. The peer may
       * only have half-closed: writability is still handled below. */
      if (!priv->eof_read)
        deliver_receive (self, priv);
      if (priv->incarnation != incarnation)
        return;
      if (priv->eof_read && priv->close_error == 0)
        deliver_close (self, priv, 0);
      if (priv->incarnation != incarnation)
        return;
    }
  else if ((events & C_REACTOR_READABLE) && !priv->receives_shut)
    {
      int unread = 1;
      /* With the peer gone, C_REACTOR_READABLE also means "end of stream": only unread bytes make it
       * an on_receive; without any, it is the graceful on_close. */
      if (priv->peer_closed && !c_transport_has_unread (priv))
        unread = 0;
      if (unread > 0)
        deliver_receive (self, priv);
      else if (!priv->close_delivered)
        deliver_close (self, priv, 0);
      if (priv->incarnation != incarnation)
        return;
    }

  /* A peer that only half-closed (C_REACTOR_READ_HANGUP) still takes data; a hang-up does not. */
  if (events & C_REACTOR_WRITABLE && !(events & C_REACTOR_HANGUP))
    deliver_send (self, priv);
}

/* The end of a transport's handshake (TLS), announced as its kind says: a connect's
 * on_connect, a STARTTLS's on_handshake; an accepted connection's is silent, and its failure
 * is an on_close. On success on_send is due, and a probe reports what already holds. */
static void
handshake_finished (CAsyncSocket *self, CAsyncSocketPrivate *priv, CTransportHandshake handshake,
                    int error_code, GError *error)
{
  if (handshake == C_HANDSHAKE_CONNECT)
    c_async_socket_connect_done (self); /* the connect's deadline covered the handshake */
  if (error_code == 0)
    {
      priv->write_wanted = TRUE;
      /* A CSocket call waiting on the socket tries again. */
      priv->wait_events |= C_REACTOR_READABLE | C_REACTOR_WRITABLE;
      c_async_socket_defer (self, C_DEFER_PROBE);
      if (priv->waiting)
        return;
      if (handshake == C_HANDSHAKE_CONNECT && (priv->events & C_FD_CONNECT))
        c_async_socket_notify (self, C_NOTIFY_CONNECT, 0);
      else if (handshake == C_HANDSHAKE_STARTTLS)
        c_async_socket_notify (self, C_NOTIFY_HANDSHAKE, 0);
      return;
    }
  g_debug ("handshake on descriptor %d failed: %s", priv->fd, error->message);
  if (priv->close_reason != NULL && priv->close_error != 0)
    {
      /* afxsock had already closed the connection (an idle timeout during the handshake):
       * that is the reason, not the end of stream the handshake then saw of it. */
      g_error_free (error);
      error = g_error_copy (priv->close_reason);
      error_code = priv->close_error;
    }
  if (handshake == C_HANDSHAKE_ACCEPT)
    {
      c_async_socket_fail (self, error_code, error);
      return;
    }
  /* A failed connect or STARTTLS is reported by its own notification; no on_close follows,
   * and the connection is shut down. */
  g_clear_error (&priv->close_reason);
  priv->close_reason = error;
  c_async_socket_connection_lost (self, error_code);
  priv->close_delivered = TRUE;
  priv->wait_events |= C_REACTOR_ERROR;
  c_transport_shutdown (priv, SHUT_RDWR);
  if (handshake == C_HANDSHAKE_CONNECT)
    {
      /* The connect failed: the socket is not connected (connect.c's state, set here as
       * handle_connecting's outcome would). */
      priv->connected = FALSE;
      priv->connect_error = error_code;
      if ((priv->events & C_FD_CONNECT) && !priv->waiting)
        c_async_socket_notify (self, C_NOTIFY_CONNECT, error_code);
    }
  else if (!priv->waiting)
    c_async_socket_notify (self, C_NOTIFY_HANDSHAKE, error_code);
}

void
c_async_socket_abandon_handshake (CAsyncSocket *self, int error_code, const GError *error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CTransportHandshake handshake;

  if (!c_transport_in_handshake (priv))
    return;
  handshake = priv->transport->handshake;
  priv->transport->handshake = C_HANDSHAKE_NONE;
  handshake_finished (self, priv, handshake, error_code, g_error_copy (error));
}

/* A transport with a protocol of its own (TLS) sees each report first: it drives its
 * handshake and says what the report means for the application's bytes (docs/internals.md,
 * "The transport seam"). Returns the events left to act on. */
static guint32
transport_ready (CAsyncSocket *self, CAsyncSocketPrivate *priv, guint32 events)
{
  CTransport *transport = priv->transport;
  CTransportHandshake handshake = transport->handshake;
  GError *error = NULL;
  int error_code = 0;

  events = transport->klass->ready (transport, events, &error_code, &error);
  if (handshake != C_HANDSHAKE_NONE
      && (error_code != 0 || !transport->klass->handshaking (transport)))
    {
      transport->handshake = C_HANDSHAKE_NONE;
      handshake_finished (self, priv, handshake, error_code, error);
      return 0;
    }
  if (error_code != 0)
    {
      /* The transport's own protocol failed (a truncation, a bad record): on_close with
       * its error, now. */
      c_async_socket_fail (self, error_code, error);
      events |= C_REACTOR_READABLE;
    }
  return events;
}

static void
process_events (CAsyncSocket *self, guint32 events)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  guint incarnation = priv->incarnation;

  if (priv->fd < 0)
    return;
  if (G_UNLIKELY (priv->waiting))
    {
      priv->wait_events |= events;
      if (priv->connecting && is_connection_oriented (priv))
        handle_connecting (self, priv, events);
      if (priv->connected && c_transport_in_handshake (priv))
        transport_ready (self, priv, events);
      return;
    }
  if (priv->listening)
    {
      handle_listener (self, priv, events);
      return;
    }
  if (!is_connection_oriented (priv))
    {
      handle_datagrams (self, priv, events, incarnation);
      return;
    }
  if (priv->connecting && !handle_connecting (self, priv, events))
    return;
  /* A stream socket that is neither connected nor listening reports "hang-up" and "room
   * to send" from the kernel; there is nothing to notify about it. */
  if (priv->incarnation != incarnation || !priv->connected)
    return;
  if (priv->transport != NULL && priv->transport->klass->ready != NULL)
    {
      events = transport_ready (self, priv, events);
      if (events == 0 || priv->incarnation != incarnation || !priv->connected)
        return;
    }

  if (events & C_REACTOR_ERROR)
    {
      int error_code = pending_socket_error (priv->fd);
      if (error_code != 0)
        c_async_socket_connection_lost (self, error_code);
    }
  if (priv->close_error != 0
      && (events
          & (C_REACTOR_ERROR | C_REACTOR_HANGUP | C_REACTOR_READ_HANGUP | C_REACTOR_READABLE)))
    {
      /* A reset is reported at once, whatever data was still unread. If on_close came
       * already (the peer's graceful close, then the reset), a writer waiting for on_send
       * gets it, and learns of the reset from its next send. */
      gboolean closed_before = priv->close_delivered;

      priv->peer_closed = TRUE;
      deliver_close (self, priv, priv->close_error);
      if (closed_before && priv->incarnation == incarnation)
        deliver_send (self, priv);
      return;
    }
  handle_stream_data (self, priv, events, incarnation);
}

/* The socket's readiness now: the kernel's, plus readable when the transport holds bytes
 * above it (for which the kernel will report nothing). */
static guint32
poll_socket (CAsyncSocketPrivate *priv)
{
  guint32 events = c_reactor_poll_now (priv->fd);

  if (c_transport_pending (priv) > 0)
    events |= C_REACTOR_READABLE;
  return events;
}

/* Acts on a readiness report. When the on_receive it delivered read a full buffer, data may
 * remain: the descriptor is polled as soon as the handler has returned and what holds is
 * delivered at once (MFC's "on_receive comes again while data remains"), rather than from
 * a probe in the next main-loop iteration, which would cost that iteration per buffer on a
 * bulk transfer. A few rounds per report, so one busy socket cannot starve the others; the
 * rest goes to the deferred probe, after them. */
static void
process_and_redeliver (CAsyncSocket *self, CAsyncSocketPrivate *priv, guint32 events)
{
  guint incarnation = priv->incarnation;

  process_events (self, events);
  for (int round = 0; priv->receive_filled; round++)
    {
      priv->receive_filled = FALSE;
      if (priv->incarnation != incarnation || priv->fd < 0)
        return;
      if (round == C_RECEIVE_ROUNDS)
        {
          priv->data_remains = FALSE;
          c_async_socket_defer (self, C_DEFER_PROBE);
          return;
        }
      /* TCP_INQ already said that bytes are queued: no need to ask the kernel again. */
      events = priv->data_remains ? C_REACTOR_READABLE : poll_socket (priv);
      priv->data_remains = FALSE;
      if (events != 0)
        process_events (self, events);
    }
}

static void
handle_ready (gpointer owner, guint32 events)
{
  CAsyncSocket *self = owner;

  c_async_socket_dispatch_enter (self);
  process_and_redeliver (self, c_async_socket_get_private (self), events);
  c_async_socket_dispatch_leave (self);
}

static void
run_deferred (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  guint incarnation = priv->incarnation;
  CDeferred what = priv->deferred;

  priv->deferred = 0;
  if (what & C_DEFER_CONNECT)
    {
      if (priv->events & C_FD_CONNECT)
        c_async_socket_notify (self, C_NOTIFY_CONNECT, priv->connect_error);
      if (priv->incarnation != incarnation)
        return;
    }
  if (what & C_DEFER_ACCEPT_ERROR)
    {
      if (priv->events & C_FD_ACCEPT)
        c_async_socket_notify (self, C_NOTIFY_ACCEPT, priv->accept_error);
      if (priv->incarnation != incarnation)
        return;
    }
  if (what & C_DEFER_DRAIN)
    {
      c_async_socket_notify_drain (self);
      if (priv->incarnation != incarnation)
        return;
    }
  if (what & C_DEFER_PROBE && priv->fd >= 0)
    {
      guint32 events = poll_socket (priv);
      if (events != 0)
        process_and_redeliver (self, priv, events);
    }
}

static void
handle_deferred (gpointer owner)
{
  CAsyncSocket *self = owner;

  c_async_socket_dispatch_enter (self);
  run_deferred (self);
  c_async_socket_dispatch_leave (self);
}

const CReactorHandlers c_async_socket_reactor_handlers = {
  handle_ready,
  handle_deferred,
};

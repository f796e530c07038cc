/* c-transport-uring.c: a connected TCP socket's bytes through the reactor's io_uring ring
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With the io_uring back end (c-reactor-uring.h) a connected TCP socket without TLS gets this
 * transport. It keeps recv()'s and sendmsg()'s contracts (c-transport.h), so the
 * notification rules and everything above them stay as they are; only where the bytes wait
 * changes:
 *
 * - Receiving: one multishot receive stays armed in the ring; the kernel puts arriving bytes
 *   into the ring's buffers and the transport holds them (`held`) until the application
 *   reads, which copies from them, as a recv() would copy from the kernel. At the end of the
 *   dispatch, bytes still unread move to the transport's own buffer (`spill`) and the ring's
 *   buffers go back. Above C_URING_SPILL_HIGH unread bytes the receive is cancelled, so the
 *   kernel's window closes on the peer as it would for a socket nobody reads; it is armed
 *   again once the application has read down to C_URING_SPILL_LOW.
 * - Sending: a write is copied into `out` and sent when the dispatch ends, with every other
 *   socket's, in one submission (outside a dispatch, at once). Only one send is in flight
 *   per socket (two could be reordered). A send that did not complete inside its submission
 *   found the kernel's buffer full: until it completes, writes fail with EAGAIN, as send()
 *   would, and its completion makes on_send due.
 * - Urgent data: a read that passes TCP's urgent mark makes the kernel drop the urgent byte,
 *   so a receive that reads ahead would lose every byte sent with MSG_OOB before
 *   on_out_of_band_data could read it. A socket that selects C_FD_OOB therefore reads from
 *   the kernel as with epoll alone (RECV_DIRECT); its sends still go through the ring.
 * - Closing with bytes not yet taken by the kernel: they are sent first, on a duplicate of
 *   the descriptor that the ring closes after the last byte (the kernel does the same with
 *   its own send buffer after close()).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c-reactor-uring.h"

#include "c-transport-uring-private.h"

static const CTransportClass uring_class;
static void stop_receive (UringTransport *t);

gboolean
c_transport_is_uring (CTransport *transport)
{
  return transport != NULL && transport->klass == &uring_class;
}

void
c_uring_post (UringTransport *t, guint32 events)
{
  c_reactor_post (c_ring_get_reactor (t->ring), &t->priv->watch, events);
}

void
c_uring_want_submit (UringTransport *t)
{
  c_ring_want_submit (t->ring, &t->submit_link);
}

/* ---- Receiving ---------------------------------------------------------------------------- */

static gsize
spill_length (UringTransport *t)
{
  return t->spill == NULL ? 0 : t->spill->len - t->spill_offset;
}

/* Moves the held buffers' bytes to the transport's own buffer and gives the buffers back;
 * past the high mark, stops the receive. */
void
c_transport_uring_spill (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;

  if (t->spill == NULL)
    t->spill = g_byte_array_new ();
  else if (t->spill_offset > 0)
    {
      g_byte_array_remove_range (t->spill, 0, (guint) t->spill_offset);
      t->spill_offset = 0;
    }
  for (; t->n_held > 0; t->n_held--)
    {
      Held *h = &t->held[t->held_first];

      g_byte_array_append (t->spill, c_ring_buffer (t->ring, h->bid) + h->offset,
                           h->length - h->offset);
      c_ring_recycle (t->ring, h->bid);
      t->held_first = (t->held_first + 1) % C_URING_HELD_MAX;
    }
  c_ring_release_buffers (t->ring, &t->hold_link);
  if (t->spill->len > C_URING_SPILL_HIGH && t->recv == RECV_ARMED)
    {
      struct io_uring_sqe *sqe = c_ring_get_sqe (t->ring);

      io_uring_prep_cancel64 (sqe, t->recv_tag, 0);
      io_uring_sqe_set_data64 (sqe, C_RING_OP_NONE);
      t->recv = RECV_CANCELLING;
    }
}

void
c_transport_uring_received (CTransport *transport, int result, guint32 flags)
{
  UringTransport *t = (UringTransport *) transport;

  if (result > 0 && (flags & IORING_CQE_F_BUFFER))
    {
      Held *h;

      if (t->n_held == C_URING_HELD_MAX)
        c_transport_uring_spill (transport);
      h = &t->held[(t->held_first + t->n_held++) % C_URING_HELD_MAX];
      h->bid = (guint16) (flags >> IORING_CQE_BUFFER_SHIFT);
      h->offset = 0;
      h->length = (guint32) result;
      t->pending += (gsize) result;
      c_ring_hold_buffers (t->ring, &t->hold_link);
      c_uring_post (t, C_REACTOR_READABLE);
    }
  else if (result == 0)
    {
      t->eof = TRUE;
      t->recv = RECV_ENDED;
      c_uring_post (t, C_REACTOR_READABLE | C_REACTOR_READ_HANGUP);
      return;
    }
  else if (result == -ECANCELED)
    {
      t->recv = RECV_STOPPED;
      return;
    }
  else if (result == -ENOBUFS)
    {
      /* Every buffer was lent for the moment: armed again when the dispatch ends and the
       * buffers are back. */
      t->recv = RECV_WANTED;
      c_uring_want_submit (t);
      return;
    }
  else if (result < 0)
    {
      t->read_error = -result;
      t->socket_error = -result;
      t->recv = RECV_ENDED;
      c_uring_post (t, C_REACTOR_READABLE | C_REACTOR_ERROR);
      return;
    }
  if (!(flags & IORING_CQE_F_MORE) && t->recv == RECV_ARMED)
    {
      /* The kernel ended the multishot (an overflowing completion queue): arm it again. */
      t->recv = RECV_WANTED;
      c_uring_want_submit (t);
    }
}

/* Copies up to @size unread bytes to @buffer, consuming them unless @peek. */
static gsize
copy_unread (UringTransport *t, guint8 *buffer, gsize size, gboolean peek)
{
  gsize copied = 0;
  guint first = t->held_first, n_held = t->n_held;
  gsize spilled = spill_length (t);

  if (spilled > 0)
    {
      gsize n = MIN (size, spilled);

      memcpy (buffer, t->spill->data + t->spill_offset, n);
      copied = n;
      if (!peek)
        t->spill_offset += n;
    }
  while (copied < size && n_held > 0)
    {
      Held *h = &t->held[first];
      gsize n = MIN (size - copied, (gsize) (h->length - h->offset));

      memcpy (buffer + copied, c_ring_buffer (t->ring, h->bid) + h->offset, n);
      copied += n;
      if (peek)
        {
          first = (first + 1) % C_URING_HELD_MAX;
          n_held--;
          continue;
        }
      h->offset += (guint32) n;
      if (h->offset < h->length)
        break;
      c_ring_recycle (t->ring, h->bid);
      first = (first + 1) % C_URING_HELD_MAX;
      n_held--;
    }
  if (!peek)
    {
      t->held_first = first;
      t->n_held = n_held;
      t->pending -= copied;
      if (n_held == 0)
        c_ring_release_buffers (t->ring, &t->hold_link);
      if (t->spill != NULL && t->spill_offset == t->spill->len)
        {
          g_byte_array_set_size (t->spill, 0);
          t->spill_offset = 0;
        }
      if (t->recv == RECV_STOPPED && spill_length (t) < C_URING_SPILL_LOW)
        {
          t->recv = RECV_WANTED;
          c_uring_want_submit (t);
        }
    }
  return copied;
}

static gssize
uring_read (CTransport *transport, void *buffer, gsize size, int flags, int *remaining)
{
  UringTransport *t = (UringTransport *) transport;
  gsize n;

  *remaining = -1;
  if ((flags & MSG_OOB) || (t->pending == 0 && (t->recv == RECV_WANTED || t->recv == RECV_DIRECT)))
    {
      /* Urgent data never goes through the receive; and until it is armed the bytes are
       * still the kernel's. */
      return c_transport_plain_read (t->priv, buffer, size, flags, remaining);
    }
  if (t->pending == 0)
    {
      if (t->read_error != 0)
        {
          /* Reported once, as the kernel does; then the end of the stream. */
          errno = t->read_error;
          t->read_error = 0;
          t->eof = TRUE;
          return -1;
        }
      if (t->eof)
        return 0;
      *remaining = 0;
      errno = EAGAIN;
      return -1;
    }
  /* Each of the kernel's reads stops at the urgent mark: once urgent data was seen, a read
   * gives what one of them read, no more, so that it stops at the mark too. */
  if (t->priv->urgent_seen && spill_length (t) == 0 && t->n_held > 0)
    size = MIN (size, (gsize) (t->held[t->held_first].length - t->held[t->held_first].offset));
  n = copy_unread (t, buffer, size, (flags & MSG_PEEK) != 0);
  /* What is still held is known; once nothing is, the next arrival is a completion. */
  *remaining = t->pending > 0 ? (int) MIN (t->pending, (gsize) G_MAXINT)
               : (t->eof || t->read_error != 0 || t->recv == RECV_WANTED || t->recv == RECV_DIRECT)
                   ? -1
                   : 0;
  return (gssize) n;
}

static gsize
uring_pending (CTransport *transport)
{
  return ((UringTransport *) transport)->pending;
}

/* Called by the ring's submission: arms the receive, sends what waits. */
void
c_transport_uring_submit (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;

  if (t->recv == RECV_WANTED && (t->priv->events & C_FD_OOB))
    t->recv = RECV_DIRECT;
  if (t->recv == RECV_WANTED)
    {
      struct io_uring_sqe *sqe;

      if (!t->input_moved)
        {
          /* From now on the ring reports input: epoll stops asking for it. */
          c_reactor_watch_input (c_ring_get_reactor (t->ring), &t->priv->watch, t->fd, FALSE);
          t->input_moved = TRUE;
        }
      sqe = c_ring_get_sqe (t->ring);
      io_uring_prep_recv_multishot (sqe, t->fd, NULL, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = 0;
      io_uring_sqe_set_data64 (sqe, t->recv_tag);
      t->recv = RECV_ARMED;
    }
  if (t->flight != NULL && !t->flight->stuck)
    c_ring_submit_send (t->ring, t->flight, t->fd); /* the rest of a short send */
  else if (t->flight == NULL && c_uring_out_pending (t) > 0)
    {
      t->flight = t->out;
      t->out = NULL;
      c_ring_submit_send (t->ring, t->flight, t->fd);
    }
}

/* ---- The rest of the contract ------------------------------------------------------------- */

static void
uring_free (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;
  CRing *ring = t->ring;
  CReactor *reactor = c_ring_get_reactor (ring);

  c_reactor_set_tag_user (reactor, &t->priv->watch, NULL);
  c_ring_cancel_submit (t->ring, &t->submit_link);
  c_ring_release_buffers (t->ring, &t->hold_link);
  for (; t->n_held > 0; t->n_held--)
    {
      c_ring_recycle (t->ring, t->held[t->held_first].bid);
      t->held_first = (t->held_first + 1) % C_URING_HELD_MAX;
    }
  if (t->recv == RECV_ARMED)
    {
      struct io_uring_sqe *sqe = c_ring_get_sqe (t->ring);

      io_uring_prep_cancel64 (sqe, t->recv_tag, 0);
      io_uring_sqe_set_data64 (sqe, C_RING_OP_NONE);
    }
  c_uring_orphan_output (t);
  if (t->spill != NULL)
    g_byte_array_unref (t->spill);
  g_free (t);
  /* Outside a dispatch nothing else would submit the cancellation soon: the receive holds
   * the socket open (no end of stream reaches the peer) until it is submitted. */
  if (!c_ring_in_dispatch (ring))
    c_ring_submit (ring);
}

/* Ends the receive and returns the bytes read and not yet taken (NULL when none), for a
 * transport that replaces this one (STARTTLS): the receive is cancelled and its last
 * completions are waited for, so that no byte arrives after the hand-over. */
GBytes *
c_transport_uring_take_unread (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;
  GByteArray *bytes;

  stop_receive (t);
  t->recv = RECV_ENDED;
  if (t->pending == 0)
    return NULL;
  bytes = g_byte_array_sized_new ((guint) t->pending);
  g_byte_array_set_size (bytes, (guint) t->pending);
  copy_unread (t, bytes->data, bytes->len, FALSE);
  return g_byte_array_free_to_bytes (bytes);
}

/* Whether the ring receives for the socket (the kernel's readiness to read is then the
 * ring's business). */
static gboolean
ring_receives (UringTransport *t)
{
  return t->recv == RECV_ARMED || t->recv == RECV_CANCELLING || t->recv == RECV_STOPPED;
}

static guint32
uring_poll (CTransport *transport, guint32 events)
{
  UringTransport *t = (UringTransport *) transport;

  if (ring_receives (t))
    events &= ~(guint32) C_REACTOR_READABLE;
  if (t->pending > 0 || t->eof || t->read_error != 0)
    events |= C_REACTOR_READABLE;
  if (c_uring_send_stuck (t))
    events &= ~(guint32) C_REACTOR_WRITABLE;
  return events;
}

/* Every report, epoll's and the ring's: while a send is in flight the kernel's room to send
 * is not the application's (its writes fail with EAGAIN until the send completes, whose
 * completion reports it). */
static guint32
uring_ready (CTransport *transport, guint32 events, int *error_code, GError **error)
{
  UringTransport *t = (UringTransport *) transport;

  /* A reset or hang-up: the send or receive that met it may have completed meanwhile,
   * taking the kernel's error with it (take_error gives it). */
  if (events & (C_REACTOR_ERROR | C_REACTOR_HANGUP | C_REACTOR_READ_HANGUP))
    c_ring_reap (t->ring);
  if ((events & C_REACTOR_WRITABLE) && c_uring_send_stuck (t))
    {
      events &= ~(guint32) C_REACTOR_WRITABLE;
      t->want_writable = TRUE;
    }
  return events;
}

static int
uring_take_error (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;
  int error_code = t->socket_error;

  t->socket_error = 0;
  return error_code;
}

static gboolean
uring_reads_kernel (CTransport *transport)
{
  RecvState recv = ((UringTransport *) transport)->recv;

  return recv == RECV_WANTED || recv == RECV_DIRECT;
}

/* Ends the armed receive and waits for its last completions (what they bring is kept). */
static void
stop_receive (UringTransport *t)
{
  if (t->recv == RECV_ARMED || t->recv == RECV_CANCELLING)
    {
      struct io_uring_sqe *sqe = c_ring_get_sqe (t->ring);

      io_uring_prep_cancel64 (sqe, t->recv_tag, 0);
      io_uring_sqe_set_data64 (sqe, C_RING_OP_NONE);
      t->recv = RECV_CANCELLING;
      c_ring_submit (t->ring);
      while (t->recv == RECV_CANCELLING)
        c_ring_wait (t->ring);
    }
}

/* C_FD_OOB selected: the kernel's reads again (see the top); deselected: the ring's. */
static void
uring_events_selected (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;
  gboolean urgent = (t->priv->events & C_FD_OOB) != 0;

  if (urgent && t->recv != RECV_DIRECT && t->recv != RECV_ENDED)
    {
      stop_receive (t);
      if (t->recv != RECV_ENDED)
        t->recv = RECV_DIRECT;
      if (t->input_moved)
        {
          c_reactor_watch_input (c_ring_get_reactor (t->ring), &t->priv->watch, t->fd, TRUE);
          t->input_moved = FALSE;
        }
    }
  else if (!urgent && t->recv == RECV_DIRECT)
    {
      t->recv = RECV_WANTED;
      c_uring_want_submit (t);
    }
}

static const CTransportClass uring_class = {
  .name = "io_uring",
  .read = uring_read,
  .write = c_uring_write,
  .pending = uring_pending,
  .shutdown = c_uring_shutdown,
  .free = uring_free,
  .poll = uring_poll,
  .ready = uring_ready,
  .reads_kernel = uring_reads_kernel,
  .events_selected = uring_events_selected,
  .take_error = uring_take_error,
};

CTransport *
c_transport_uring_new (CRing *ring, CAsyncSocketPrivate *priv)
{
  UringTransport *t = g_new0 (UringTransport, 1);
  CReactor *reactor = c_ring_get_reactor (ring);

  t->parent.klass = &uring_class;
  t->ring = ring;
  t->priv = priv;
  t->fd = priv->fd;
  t->recv = RECV_WANTED;
  t->recv_tag = c_reactor_set_tag_user (reactor, &priv->watch, t) | C_RING_OP_RECV;
  t->submit_link.data = t;
  t->hold_link.data = t;
  c_uring_want_submit (t);
  /* Once the ring has the input, epoll reports no room to send either (see
   * c_reactor_watch_input): on_send after the connection is this transport's to make due. */
  c_uring_post (t, C_REACTOR_WRITABLE);
  return &t->parent;
}

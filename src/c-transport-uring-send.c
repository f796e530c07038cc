/* c-transport-uring-send.c: the io_uring transport's sends, and the bytes a close leaves
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writes are copied into `out` (at most C_URING_OUT_LIMIT waiting) and submitted by the ring
 * when the dispatch ends (c_transport_uring_submit), or sent with one send() when the
 * dispatch wrote to this socket alone (c_transport_uring_send_now); outside a dispatch they
 * are submitted at once. One send is in flight at a time (`flight`); one still in flight
 * after its submission found the kernel's buffer full (`stuck`), and writes fail with EAGAIN
 * until it completes. The design of the whole transport is at the top of c-transport-uring.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c-transport-uring-private.h"

/* Bytes accepted and not yet submitted. */
gsize
c_uring_out_pending (UringTransport *t)
{
  return t->out == NULL ? 0 : t->out->length - t->out->offset;
}

static CRingSend *
send_block_new (UringTransport *t, gsize needed)
{
  gsize capacity = C_URING_OUT_MIN;
  CRingSend *send;

  while (capacity < needed)
    capacity *= 2;
  send = g_malloc (sizeof (CRingSend) + capacity);
  *send = (CRingSend){ &t->parent, NULL, -1, FALSE, FALSE, 0, 0, capacity };
  return send;
}

/* The last send found the kernel's buffer full: EAGAIN, and on_send when it has left; or
 * the connection is gone (a reset the send's completion has not told yet), its error. */
static gssize
refuse_write (UringTransport *t)
{
  struct pollfd pfd = { t->fd, POLLOUT, 0 };

  if (poll (&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
    {
      int error_code = 0;
      socklen_t length = sizeof error_code;

      if (getsockopt (t->fd, SOL_SOCKET, SO_ERROR, &error_code, &length) < 0 || error_code == 0)
        error_code = EPIPE;
      errno = error_code;
      return -1;
    }
  t->want_writable = TRUE;
  errno = EAGAIN;
  return -1;
}

gboolean
c_uring_send_stuck (UringTransport *t)
{
  return t->flight != NULL && t->flight->stuck;
}

gssize
c_uring_write (CTransport *transport, const struct iovec *iov, int count, int flags)
{
  UringTransport *t = (UringTransport *) transport;
  gsize total = 0, room, taken = 0;

  if (t->write_error != 0)
    {
      errno = t->write_error;
      return -1;
    }
  if (t->sends_shut)
    {
      errno = EPIPE;
      return -1;
    }
  if (c_uring_send_stuck (t))
    return refuse_write (t);
  if (flags != 0)
    {
      /* Urgent data goes straight to the kernel, and only when nothing is queued before it. */
      struct msghdr message = { .msg_iov = (struct iovec *) iov, .msg_iovlen = (size_t) count };
      gssize n;

      if (t->flight != NULL || c_uring_out_pending (t) > 0)
        return refuse_write (t);
      do
        n = sendmsg (t->fd, &message, flags | MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      return n;
    }
  for (int i = 0; i < count; i++)
    total += iov[i].iov_len;
  room = C_URING_OUT_LIMIT - c_uring_out_pending (t);
  if (total > room)
    total = room;
  if (total == 0)
    return refuse_write (t);
  if (t->out != NULL && c_uring_out_pending (t) == 0)
    t->out->offset = t->out->length = 0;
  if (t->out == NULL)
    t->out = send_block_new (t, total);
  else if (t->out->length + total > t->out->capacity)
    {
      gsize capacity = t->out->capacity;

      while (capacity < t->out->length + total)
        capacity *= 2;
      t->out = g_realloc (t->out, sizeof (CRingSend) + capacity);
      t->out->capacity = capacity;
    }
  for (int i = 0; i < count && taken < total; i++)
    {
      gsize n = MIN (iov[i].iov_len, total - taken);

      memcpy (t->out->data + t->out->length, iov[i].iov_base, n);
      t->out->length += n;
      taken += n;
    }
  c_uring_want_submit (t);
  if (!c_ring_in_dispatch (t->ring))
    {
      /* Outside a dispatch the write leaves now, and a failure is this call's, as with
       * send(). */
      c_ring_submit (t->ring);
      if (t->write_error != 0)
        {
          errno = t->write_error;
          return -1;
        }
    }
  return (gssize) total;
}

void
c_transport_uring_sent (CRingSend *send, int result)
{
  UringTransport *t = (UringTransport *) send->transport;

  send->stuck = FALSE;
  if (result < 0)
    {
      t->write_error = -result;
      t->socket_error = -result;
      g_clear_pointer (&t->flight, g_free);
      g_clear_pointer (&t->out, g_free);
      c_uring_post (t, C_REACTOR_READABLE | C_REACTOR_WRITABLE | C_REACTOR_ERROR);
      return;
    }
  send->offset += (gsize) result;
  if (send->offset < send->length)
    {
      c_uring_want_submit (t);
      return;
    }
  /* Done: the block is kept for the next writes if none has started meanwhile. */
  t->flight = NULL;
  if (t->out == NULL && send->capacity == C_URING_OUT_MIN)
    {
      send->offset = send->length = 0;
      t->out = send;
    }
  else
    g_free (send);
  if (c_uring_out_pending (t) > 0)
    c_uring_want_submit (t);
  else if (t->shutdown_wanted)
    shutdown (t->fd, SHUT_WR);
  if (t->want_writable)
    {
      t->want_writable = FALSE;
      c_uring_post (t, C_REACTOR_WRITABLE);
    }
}

/* At the end of a dispatch that wrote to this socket alone: one send() costs less than a
 * submission plus its completion, and leaves nothing in flight. Returns whether the
 * transport still wants the ring's submission (a receive to arm, bytes the kernel left). */
gboolean
c_transport_uring_send_now (CTransport *transport)
{
  UringTransport *t = (UringTransport *) transport;
  gssize n;

  if (t->flight != NULL || c_uring_out_pending (t) == 0)
    return TRUE;
  do
    n = send (t->fd, t->out->data + t->out->offset, t->out->length - t->out->offset,
              MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return TRUE; /* EAGAIN, or an error the ring's send will meet and report */
  t->out->offset += (gsize) n;
  if (t->out->offset < t->out->length)
    return TRUE;
  t->out->offset = t->out->length = 0;
  if (t->shutdown_wanted)
    shutdown (t->fd, SHUT_WR);
  if (t->want_writable)
    {
      /* A write refused for want of room (the queue at its limit) may go on. */
      t->want_writable = FALSE;
      c_uring_post (t, C_REACTOR_WRITABLE);
    }
  return t->recv == RECV_WANTED;
}

int
c_uring_shutdown (CTransport *transport, int how)
{
  UringTransport *t = (UringTransport *) transport;

  if (how != SHUT_RD)
    t->sends_shut = TRUE;
  if (how != SHUT_RD && (t->flight != NULL || c_uring_out_pending (t) > 0))
    {
      /* The queued bytes go first; the end of stream follows them (c_transport_uring_sent). */
      t->shutdown_wanted = TRUE;
      return how == SHUT_RDWR ? shutdown (t->fd, SHUT_RD) : 0;
    }
  return shutdown (t->fd, how);
}

/* Leaves what is still to be sent to the ring, on a duplicate of the descriptor. */
void
c_uring_orphan_output (UringTransport *t)
{
  CRingSend *first = t->flight != NULL ? t->flight : t->out;
  int fd;

  if (t->out != NULL && c_uring_out_pending (t) == 0)
    g_clear_pointer (&t->out, g_free);
  if (t->flight == NULL && t->out != NULL)
    {
      /* Nothing in flight: what the kernel takes now needs no duplicate. */
      gssize n;

      do
        n = send (t->fd, t->out->data + t->out->offset, c_uring_out_pending (t),
                  MSG_NOSIGNAL | MSG_DONTWAIT);
      while (n < 0 && errno == EINTR);
      if (n == (gssize) c_uring_out_pending (t) || (n < 0 && errno != EAGAIN))
        {
          g_clear_pointer (&t->out, g_free);
          if (n > 0 && t->shutdown_wanted)
            shutdown (t->fd, SHUT_WR);
          return;
        }
      if (n > 0)
        t->out->offset += (gsize) n;
    }
  first = t->flight != NULL ? t->flight : t->out;
  if (first == NULL)
    return;
  fd = fcntl (t->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    {
      g_warning ("descriptor %d: %" G_GSIZE_FORMAT " bytes not sent at close: %s", t->fd,
                 first->length - first->offset, g_strerror (errno));
      g_clear_pointer (&t->flight, g_free);
      g_clear_pointer (&t->out, g_free);
      return;
    }
  first->transport = NULL;
  first->fd = fd;
  first->shutdown = t->shutdown_wanted;
  if (t->flight != NULL && t->out != NULL)
    {
      t->out->transport = NULL;
      first->next = t->out;
    }
  c_ring_adopt_orphan (t->ring, first);
  if (!first->stuck)
    c_ring_submit_send (t->ring, first, fd);
  t->flight = t->out = NULL;
}

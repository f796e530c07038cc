/* c-reactor-uring.c: the io_uring back end's ring: buffers, submissions, completions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One ring per reactor (so per GMainContext), made with the reactor when the io_uring back
 * end is chosen (c_event_backend_set_default, AFXSOCK_BACKEND=io_uring) and available. Its
 * descriptor is in the reactor's epoll instance, level-triggered, so a completion wakes the
 * context like any socket. The ring provides a group of receive buffers that the kernel
 * fills for the multishot receives; a transport holds the buffers it was given only until
 * the dispatch ends (c_transport_uring_spill), so one socket whose application does not
 * read cannot starve the others of buffers.
 *
 * Submissions are collected: a transport with a request to make (arm its receive, send what
 * its notifications wrote) joins `want_submit`, and the requests are made and submitted
 * together when the dispatch ends, or before the context sleeps, or at once for a write
 * made outside any dispatch. Completions never call the application: they update their
 * transport and post readiness to the socket through c_reactor_post, which the dispatch
 * delivers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c-reactor-uring.h"

#define RING_ENTRIES 256
#define CQ_ENTRIES 4096
#define BUFFER_GROUP 0
#define BUFFER_COUNT 256 /* a power of two */
#define BUFFER_SIZE 16384

struct _CRing
{
  struct io_uring uring;
  CReactor *reactor;
  struct io_uring_buf_ring *buffer_ring;
  guint8 *buffers;
  guint buffers_out; /* lent to transports */
  GQueue want_submit;
  GQueue holders;
  GList *orphans; /* CRingSend chains whose transport is gone */
  int epoll_fd;
  gboolean epoll_ready; /* the epoll instance has events to collect */
  gboolean epoll_watch; /* the multishot poll of the epoll instance is to be armed again */
  guint dispatch_depth;
  gboolean submitting;
  gboolean reaping;
};

G_STATIC_ASSERT ((BUFFER_COUNT & (BUFFER_COUNT - 1)) == 0);

static int
setup_buffers (CRing *ring)
{
  size_t ring_size = BUFFER_COUNT * sizeof (struct io_uring_buf);
  struct io_uring_buf_reg reg = { 0 };
  void *memory;
  int error;

  memory = mmap (NULL, ring_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (memory == MAP_FAILED)
    return errno;
  ring->buffer_ring = memory;
  reg.ring_addr = (unsigned long) (uintptr_t) memory;
  reg.ring_entries = BUFFER_COUNT;
  reg.bgid = BUFFER_GROUP;
  /* liburing 2.4's io_uring_setup_buf_ring does this; written out for liburing 2.3. */
  error = io_uring_register_buf_ring (&ring->uring, &reg, 0);
  if (error < 0)
    return -error;
  io_uring_buf_ring_init (ring->buffer_ring);
  memory = mmap (NULL, (size_t) BUFFER_COUNT * BUFFER_SIZE, PROT_READ | PROT_WRITE,
                 MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (memory == MAP_FAILED)
    return errno;
  ring->buffers = memory;
  for (guint i = 0; i < BUFFER_COUNT; i++)
    io_uring_buf_ring_add (ring->buffer_ring, ring->buffers + (gsize) i * BUFFER_SIZE, BUFFER_SIZE,
                           (unsigned short) i, io_uring_buf_ring_mask (BUFFER_COUNT), (int) i);
  io_uring_buf_ring_advance (ring->buffer_ring, BUFFER_COUNT);
  return 0;
}

/* A ring for @reactor; NULL with *error_code when io_uring is not available (an old kernel,
 * seccomp, the io_uring_disabled sysctl, no provided-buffer rings). */
static void
watch_epoll (CRing *ring)
{
  struct io_uring_sqe *sqe = c_ring_get_sqe (ring);

  io_uring_prep_poll_multishot (sqe, ring->epoll_fd, POLLIN);
  io_uring_sqe_set_data64 (sqe, C_RING_OP_EPOLL);
  ring->epoll_watch = FALSE;
}

CRing *
c_ring_new (CReactor *reactor, int epoll_fd, int *error_code)
{
  CRing *ring = g_new0 (CRing, 1);
  struct io_uring_params params = { 0 };
  int error;

  /* COOP_TASKRUN (Linux 5.19): completions arriving while the thread runs wait for its next
   * system call instead of interrupting it. */
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
  params.cq_entries = CQ_ENTRIES;
  error = io_uring_queue_init_params (RING_ENTRIES, &ring->uring, &params);
  if (error == -EINVAL)
    {
      params = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES };
      error = io_uring_queue_init_params (RING_ENTRIES, &ring->uring, &params);
    }
  if (error < 0)
    {
      *error_code = -error;
      g_free (ring);
      return NULL;
    }
  error = setup_buffers (ring);
  if (error != 0)
    {
      *error_code = error;
      c_ring_free (ring);
      return NULL;
    }
  ring->reactor = reactor;
  ring->epoll_fd = epoll_fd;
  g_queue_init (&ring->want_submit);
  g_queue_init (&ring->holders);
  watch_epoll (ring);
  error = io_uring_submit (&ring->uring);
  if (error < 0)
    {
      *error_code = -error;
      c_ring_free (ring);
      return NULL;
    }
  return ring;
}

static void
free_orphan (CRingSend *send)
{
  int fd = send != NULL ? send->fd : -1;

  while (send != NULL)
    {
      CRingSend *next = send->next;

      g_free (send);
      send = next;
    }
  if (fd >= 0)
    close (fd);
}

void
c_ring_free (CRing *ring)
{
  /* Exiting the ring cancels what is still in flight; an orphan's bytes that the kernel
   * has not taken by now are lost with the context, as a process's would be. */
  if (ring->uring.ring_fd >= 0)
    io_uring_queue_exit (&ring->uring);
  g_list_free_full (ring->orphans, (GDestroyNotify) free_orphan);
  if (ring->buffers != NULL)
    munmap (ring->buffers, (size_t) BUFFER_COUNT * BUFFER_SIZE);
  if (ring->buffer_ring != NULL)
    munmap (ring->buffer_ring, BUFFER_COUNT * sizeof (struct io_uring_buf));
  g_free (ring);
}

int
c_ring_get_fd (CRing *ring)
{
  return ring->uring.ring_fd;
}

CReactor *
c_ring_get_reactor (CRing *ring)
{
  return ring->reactor;
}

guint8 *
c_ring_buffer (CRing *ring, guint bid)
{
  return ring->buffers + (gsize) bid * BUFFER_SIZE;
}

void
c_ring_recycle (CRing *ring, guint bid)
{
  io_uring_buf_ring_add (ring->buffer_ring, c_ring_buffer (ring, bid), BUFFER_SIZE,
                         (unsigned short) bid, io_uring_buf_ring_mask (BUFFER_COUNT), 0);
  io_uring_buf_ring_advance (ring->buffer_ring, 1);
  ring->buffers_out--;
}

guint
c_ring_free_buffers (CRing *ring)
{
  return BUFFER_COUNT - ring->buffers_out;
}

struct io_uring_sqe *
c_ring_get_sqe (CRing *ring)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe (&ring->uring);

  if (sqe == NULL)
    {
      /* The submission queue is full: make room by submitting what is in it. */
      io_uring_submit (&ring->uring);
      sqe = io_uring_get_sqe (&ring->uring);
    }
  return sqe;
}

void
c_ring_want_submit (CRing *ring, GList *link)
{
  if (link->prev == NULL && ring->want_submit.head != link)
    g_queue_push_tail_link (&ring->want_submit, link);
}

void
c_ring_cancel_submit (CRing *ring, GList *link)
{
  if (link->prev != NULL || ring->want_submit.head == link)
    g_queue_unlink (&ring->want_submit, link);
}

void
c_ring_hold_buffers (CRing *ring, GList *link)
{
  if (link->prev == NULL && ring->holders.head != link)
    g_queue_push_tail_link (&ring->holders, link);
}

void
c_ring_release_buffers (CRing *ring, GList *link)
{
  if (link->prev != NULL || ring->holders.head == link)
    g_queue_unlink (&ring->holders, link);
}

void
c_ring_submit_send (CRing *ring, CRingSend *send, int fd)
{
  struct io_uring_sqe *sqe = c_ring_get_sqe (ring);

  io_uring_prep_send (sqe, fd, send->data + send->offset, send->length - send->offset,
                      MSG_NOSIGNAL);
  io_uring_sqe_set_data64 (sqe, (guint64) (uintptr_t) send | C_RING_OP_SEND);
  send->stuck = TRUE;
}

void
c_ring_adopt_orphan (CRing *ring, CRingSend *send)
{
  ring->orphans = g_list_prepend (ring->orphans, send);
}

/* An orphan's send completed: go on with the rest, or close its descriptor. */
static void
orphan_sent (CRing *ring, CRingSend *send, int result)
{
  CRingSend *next = send->next;

  send->stuck = FALSE;
  if (result > 0 && send->offset + (gsize) result < send->length)
    {
      send->offset += (gsize) result;
      c_ring_submit_send (ring, send, send->fd);
      return;
    }
  ring->orphans = g_list_remove (ring->orphans, send);
  if (result >= 0 && next != NULL)
    {
      next->fd = send->fd;
      next->shutdown = send->shutdown;
      g_free (send);
      ring->orphans = g_list_prepend (ring->orphans, next);
      c_ring_submit_send (ring, next, next->fd);
      return;
    }
  if (result >= 0 && send->shutdown)
    shutdown (send->fd, SHUT_WR);
  send->next = NULL;
  free_orphan (send);
  free_orphan (next);
}

static void
complete (CRing *ring, struct io_uring_cqe *cqe)
{
  guint64 data = io_uring_cqe_get_data64 (cqe);

  switch (data & 3)
    {
      case C_RING_OP_SEND:
        {
          CRingSend *send = (CRingSend *) (uintptr_t) (data & ~(guint64) 3);
          if (send->transport != NULL)
            c_transport_uring_sent (send, cqe->res);
          else
            orphan_sent (ring, send, cqe->res);
          break;
        }
      case C_RING_OP_RECV:
        {
          CTransport *transport = c_reactor_tag_user (ring->reactor, data);

          if (cqe->flags & IORING_CQE_F_BUFFER)
            ring->buffers_out++;
          if (transport != NULL)
            c_transport_uring_received (transport, cqe->res, cqe->flags);
          else if (cqe->flags & IORING_CQE_F_BUFFER)
            c_ring_recycle (ring, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
          break;
        }
      case C_RING_OP_EPOLL:
        ring->epoll_ready = TRUE;
        if (!(cqe->flags & IORING_CQE_F_MORE))
          ring->epoll_watch = TRUE;
        break;
      default:
        break;
    }
}

void
c_ring_reap (CRing *ring)
{
  struct io_uring_cqe *cqe;
  unsigned head, n;

  if (ring->reaping)
    return;
  ring->reaping = TRUE;
  do
    {
      n = 0;
      /* Completions the kernel could not post for want of room wait in its overflow list
       * until a system call asks for them. */
      if (IO_URING_READ_ONCE (*ring->uring.sq.kflags) & IORING_SQ_CQ_OVERFLOW)
        io_uring_get_events (&ring->uring);
      io_uring_for_each_cqe (&ring->uring, head, cqe)
      {
        complete (ring, cqe);
        n++;
      }
      io_uring_cq_advance (&ring->uring, n);
    }
  while (n > 0);
  ring->reaping = FALSE;
}

gboolean
c_ring_has_work (CRing *ring)
{
  return ring->want_submit.length > 0 || ring->epoll_watch || io_uring_sq_ready (&ring->uring) > 0;
}

gboolean
c_ring_take_epoll_ready (CRing *ring)
{
  gboolean ready = ring->epoll_ready;

  ring->epoll_ready = FALSE;
  return ready;
}

gboolean
c_ring_epoll_ready (CRing *ring)
{
  return ring->epoll_ready;
}

void
c_ring_set_epoll_ready (CRing *ring)
{
  ring->epoll_ready = TRUE;
}

gboolean
c_ring_in_dispatch (CRing *ring)
{
  return ring->dispatch_depth > 0;
}

/* The requests the transports asked for, into the submission queue. */
static void
prepare_requests (CRing *ring)
{
  GList *link;

  if (ring->epoll_watch)
    watch_epoll (ring);
  while ((link = g_queue_pop_head_link (&ring->want_submit)) != NULL)
    c_transport_uring_submit (link->data);
}

gboolean
c_ring_wait_timeout (CRing *ring, int timeout)
{
  struct __kernel_timespec ts = { timeout / 1000, (long long) (timeout % 1000) * 1000000 };
  struct io_uring_cqe *cqe;
  int n;

  if (ring->submitting)
    return TRUE;
  ring->submitting = TRUE;
  prepare_requests (ring);
  /* One system call submits what waits and sleeps until a completion. */
  if (timeout == 0)
    n = io_uring_sq_ready (&ring->uring) > 0 ? io_uring_submit (&ring->uring) : 0;
  else
    n = io_uring_submit_and_wait_timeout (&ring->uring, &cqe, 1, timeout < 0 ? NULL : &ts, NULL);
  c_ring_reap (ring);
  ring->submitting = FALSE;
  if (n < 0 && n != -ETIME && n != -EINTR && n != -EBUSY)
    {
      errno = -n;
      return FALSE;
    }
  return TRUE;
}

void
c_ring_submit (CRing *ring)
{
  int n;

  if (ring->submitting)
    return;
  ring->submitting = TRUE;
  /* Sends that found room complete inside the submission: their completions are there when
   * it returns. A send still in flight after this found its socket's buffer full; a short
   * one goes again at once (a few rounds), as a writer calling send() again would. */
  for (int round = 0; round < 4; round++)
    {
      prepare_requests (ring);
      if (io_uring_sq_ready (&ring->uring) > 0)
        {
          do
            n = io_uring_submit (&ring->uring);
          while (n == -EINTR);
          if (n < 0)
            g_warning ("io_uring_submit: %s", g_strerror (-n));
        }
      c_ring_reap (ring);
      if (ring->want_submit.length == 0)
        break;
    }
  ring->submitting = FALSE;
}

void
c_ring_wait (CRing *ring)
{
  struct io_uring_cqe *cqe;
  int error;

  do
    error = io_uring_wait_cqe (&ring->uring, &cqe);
  while (error == -EINTR);
  c_ring_reap (ring);
}

void
c_ring_dispatch_begin (CRing *ring)
{
  ring->dispatch_depth++;
  c_ring_reap (ring);
}

void
c_ring_dispatch_end (CRing *ring)
{
  GList *link;

  /* Buffers still held go back to the ring, their bytes copied to their transports. */
  while ((link = g_queue_pop_head_link (&ring->holders)) != NULL)
    c_transport_uring_spill (link->data);
  /* One socket wrote (a request-response exchange): send() it; the batch is for many. */
  if (ring->want_submit.length == 1 && !ring->epoll_watch
      && !c_transport_uring_send_now (ring->want_submit.head->data))
    g_queue_pop_head_link (&ring->want_submit);
  if (c_ring_has_work (ring))
    c_ring_submit (ring);
  ring->dispatch_depth--;
}

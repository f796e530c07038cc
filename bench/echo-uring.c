/* echo-uring.c: the io_uring limit, an echo server written straight on liburing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-uring [--port N]
 *
 * What a careful programmer writes by hand with io_uring, beside echo-epoll.c's readiness
 * loop: one ring (single issuer, task work deferred to the wait when the kernel has it), one
 * multishot accept, and per connection one multishot receive into a ring of provided buffers,
 * so that no request is submitted per arrival. A received buffer is echoed by a send straight
 * from it and goes back to the buffer ring when the send completes. One send is in flight per
 * connection, which keeps the echoes in order: what arrives meanwhile is copied into a
 * per-connection pending buffer (and its provided buffer returned at once), sent as one when
 * the send in flight completes; the rest of a short send is sent again. Past PENDING_LIMIT
 * pending bytes the receive is cancelled until the echoes are out. A receive the kernel ends
 * (no IORING_CQE_F_MORE, e.g. ENOBUFS when every buffer is lent to a send) is armed again.
 * All submissions of one loop iteration go in one io_uring_submit_and_wait. Connection state
 * lives in an array indexed by descriptor; a connection is closed once its requests are
 * cancelled and completed, so a descriptor is never reused under a request in flight. Exits
 * with status 77 when io_uring is not available (seccomp, kernel.io_uring_disabled).
 */
#include "bench-util.h"

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define RING_ENTRIES 1024
#define CQ_ENTRIES 8192
#define BUFFER_GROUP 0
/* 4 MiB of provided buffers: the ring hands them out in turn, so the fewer there are the more
 * of them stay in the cache (256 halved the bulk figure); a connection that finds none waits
 * for the next to come back. */
#define BUFFER_COUNT 64 /* a power of two */
#define BUFFER_SIZE (64 * 1024)
#define PENDING_LIMIT (4 * 1024 * 1024)

enum
{
  OP_ACCEPT = 1,
  OP_RECV,
  OP_SEND,
  OP_CANCEL,
};

typedef struct
{
  uint8_t *out;     /* what the send in flight reads when it is not a provided buffer */
  uint8_t *pending; /* what arrived while a send was in flight */
  uint32_t out_capacity;
  uint32_t pending_length;
  uint32_t pending_capacity;
  uint32_t send_offset; /* of the send in flight, in its source */
  uint32_t send_length;
  int32_t send_buffer; /* the provided buffer the send in flight reads, or -1 */
  uint8_t receiving;   /* a multishot receive is armed */
  uint8_t sending;     /* a send is in flight */
  uint8_t cancelling;  /* the receive is being cancelled (too much pending) */
  uint8_t closing;     /* closed once the requests in flight are done */
  uint8_t starved;     /* waits for a provided buffer to arm its receive again */
} Connection;

static struct io_uring ring;
static struct io_uring_buf_ring *buffer_ring;
static uint8_t *buffers;
static int buffers_returned; /* added to the buffer ring since its tail last moved */
static int buffers_out;      /* received into and not given back yet */
static int listen_fd;
static Connection *connections;
static size_t n_connections;
static int *starved; /* connections whose receive ended with ENOBUFS */
static size_t n_starved;
static size_t starved_capacity;

static Connection *
connection_for (int fd)
{
  return bench_fd_slot ((void **) &connections, &n_connections, sizeof *connections, fd);
}

static uint64_t
tag (int op, int fd)
{
  return (uint64_t) op << 32 | (uint32_t) fd;
}

/* A submission queue entry; when the queue is full, what it holds is submitted first. */
static struct io_uring_sqe *
get_sqe (void)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe (&ring);

  while (sqe == NULL)
    {
      io_uring_submit (&ring);
      sqe = io_uring_get_sqe (&ring);
    }
  return sqe;
}

/* The buffer ring, registered as BUFFER_GROUP, with every buffer in it. liburing 2.4's
 * io_uring_setup_buf_ring does the same; written out so that liburing 2.3 builds it. */
static int
setup_buffers (void)
{
  size_t ring_size = BUFFER_COUNT * sizeof (struct io_uring_buf);
  struct io_uring_buf_reg reg = { 0 };
  void *memory = mmap (NULL, ring_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);

  if (memory == MAP_FAILED)
    return -errno;
  buffer_ring = memory;
  reg.ring_addr = (unsigned long) (uintptr_t) buffer_ring;
  reg.ring_entries = BUFFER_COUNT;
  reg.bgid = BUFFER_GROUP;
  int error = io_uring_register_buf_ring (&ring, &reg, 0);
  if (error < 0)
    return error;
  io_uring_buf_ring_init (buffer_ring);

  /* Populated now: the first pass through the buffers should not fault page by page. */
  buffers = mmap (NULL, (size_t) BUFFER_COUNT * BUFFER_SIZE, PROT_READ | PROT_WRITE,
                  MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (buffers == MAP_FAILED)
    return -errno;
  for (int i = 0; i < BUFFER_COUNT; i++)
    io_uring_buf_ring_add (buffer_ring, buffers + (size_t) i * BUFFER_SIZE, BUFFER_SIZE,
                           (unsigned short) i, io_uring_buf_ring_mask (BUFFER_COUNT), i);
  io_uring_buf_ring_advance (buffer_ring, BUFFER_COUNT);
  return 0;
}

/* Gives a provided buffer back; the kernel sees it when the loop advances the ring's tail. */
static void
return_buffer (int bid)
{
  io_uring_buf_ring_add (buffer_ring, buffers + (size_t) bid * BUFFER_SIZE, BUFFER_SIZE,
                         (unsigned short) bid, io_uring_buf_ring_mask (BUFFER_COUNT),
                         buffers_returned++);
  buffers_out--;
}

static void
arm_accept (void)
{
  struct io_uring_sqe *sqe = get_sqe ();

  io_uring_prep_multishot_accept (sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64 (sqe, tag (OP_ACCEPT, listen_fd));
}

static void
arm_receive (int fd, Connection *connection)
{
  struct io_uring_sqe *sqe = get_sqe ();

  io_uring_prep_recv_multishot (sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUFFER_GROUP;
  io_uring_sqe_set_data64 (sqe, tag (OP_RECV, fd));
  connection->receiving = 1;
}

static void
submit_send (int fd, Connection *connection)
{
  struct io_uring_sqe *sqe = get_sqe ();
  const uint8_t *source = connection->send_buffer >= 0
                              ? buffers + (size_t) connection->send_buffer * BUFFER_SIZE
                              : connection->out;

  io_uring_prep_send (sqe, fd, source + connection->send_offset,
                      connection->send_length - connection->send_offset, MSG_NOSIGNAL);
  io_uring_sqe_set_data64 (sqe, tag (OP_SEND, fd));
  connection->sending = 1;
}

/* Closes the descriptor once nothing in flight refers to it any more. */
static void
finish_if_closing (int fd, Connection *connection)
{
  if (!connection->closing || connection->receiving || connection->sending)
    return;
  free (connection->out);
  free (connection->pending);
  *connection = (Connection){ 0 };
  close (fd);
}

static void
close_connection (int fd, Connection *connection)
{
  if (connection->closing)
    return;
  connection->closing = 1;
  if (connection->receiving || connection->sending)
    {
      struct io_uring_sqe *sqe = get_sqe ();

      io_uring_prep_cancel_fd (sqe, fd, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64 (sqe, tag (OP_CANCEL, fd));
    }
  finish_if_closing (fd, connection);
}

/* Appends what arrived while a send is in flight. */
static void
keep_pending (Connection *connection, const uint8_t *data, uint32_t length)
{
  if (connection->pending_length + length > connection->pending_capacity)
    {
      uint32_t capacity
          = connection->pending_capacity == 0 ? BUFFER_SIZE : connection->pending_capacity;
      while (capacity < connection->pending_length + length)
        capacity *= 2;
      connection->pending = realloc (connection->pending, capacity);
      if (connection->pending == NULL)
        abort ();
      connection->pending_capacity = capacity;
    }
  memcpy (connection->pending + connection->pending_length, data, length);
  connection->pending_length += length;
}

static void
on_accept (struct io_uring_cqe *cqe)
{
  if (!(cqe->flags & IORING_CQE_F_MORE))
    arm_accept ();
  if (cqe->res < 0)
    return; /* ECONNABORTED, or out of descriptors: the backlog waits */
  int fd = cqe->res;
  Connection *connection = connection_for (fd);
  *connection = (Connection){ .send_buffer = -1 };
  bench_set_nodelay (fd);
  arm_receive (fd, connection);
}

static void
on_receive (int fd, struct io_uring_cqe *cqe)
{
  Connection *connection = connection_for (fd);
  int bid = (cqe->flags & IORING_CQE_F_BUFFER) ? (int) (cqe->flags >> IORING_CQE_BUFFER_SHIFT) : -1;

  if (bid >= 0)
    buffers_out++;
  if (!(cqe->flags & IORING_CQE_F_MORE))
    connection->receiving = 0;
  if (cqe->res > 0 && bid >= 0 && !connection->closing)
    {
      if (!connection->sending)
        {
          /* Echoed straight from the provided buffer, which the send completion returns. */
          connection->send_buffer = bid;
          connection->send_offset = 0;
          connection->send_length = (uint32_t) cqe->res;
          submit_send (fd, connection);
        }
      else
        {
          keep_pending (connection, buffers + (size_t) bid * BUFFER_SIZE, (uint32_t) cqe->res);
          return_buffer (bid);
          if (connection->pending_length > PENDING_LIMIT && connection->receiving
              && !connection->cancelling)
            {
              /* The peer does not read its echoes: stop reading until they are out. */
              struct io_uring_sqe *sqe = get_sqe ();

              io_uring_prep_cancel64 (sqe, tag (OP_RECV, fd), 0);
              io_uring_sqe_set_data64 (sqe, tag (OP_CANCEL, fd));
              connection->cancelling = 1;
            }
        }
    }
  else if (bid >= 0)
    return_buffer (bid);

  if (connection->closing)
    finish_if_closing (fd, connection);
  else if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED))
    close_connection (fd, connection); /* end of stream, or an error */
  else if (!connection->receiving)
    {
      if (cqe->res == -ECANCELED || connection->cancelling)
        {
          /* Armed again once the pending echoes are out: at once if they are. */
          connection->cancelling = 0;
          if (!connection->sending)
            arm_receive (fd, connection);
        }
      else if (cqe->res == -ENOBUFS)
        {
          /* Every buffer is lent to a send: armed again once one comes back. */
          if (n_starved == starved_capacity)
            {
              starved_capacity = starved_capacity == 0 ? 64 : starved_capacity * 2;
              starved = realloc (starved, starved_capacity * sizeof *starved);
              if (starved == NULL)
                abort ();
            }
          starved[n_starved++] = fd;
          connection->starved = 1;
        }
      else
        arm_receive (fd, connection);
    }
}

static void
on_send (int fd, struct io_uring_cqe *cqe)
{
  Connection *connection = connection_for (fd);

  connection->sending = 0;
  if (cqe->res < 0 || connection->closing)
    {
      if (connection->send_buffer >= 0)
        return_buffer (connection->send_buffer);
      connection->send_buffer = -1;
      close_connection (fd, connection);
      finish_if_closing (fd, connection);
      return;
    }
  connection->send_offset += (uint32_t) cqe->res;
  if (connection->send_offset < connection->send_length)
    {
      submit_send (fd, connection); /* a short send: the rest */
      return;
    }
  if (connection->send_buffer >= 0)
    return_buffer (connection->send_buffer);
  connection->send_buffer = -1;
  if (connection->pending_length > 0)
    {
      /* What arrived meanwhile goes out as one send; the buffers swap roles. */
      uint8_t *data = connection->pending;
      uint32_t capacity = connection->pending_capacity;

      connection->pending = connection->out;
      connection->pending_capacity = connection->out_capacity;
      connection->out = data;
      connection->out_capacity = capacity;
      connection->send_offset = 0;
      connection->send_length = connection->pending_length;
      connection->pending_length = 0;
      submit_send (fd, connection);
    }
  else if (!connection->receiving && !connection->cancelling && !connection->starved)
    arm_receive (fd, connection); /* reading stopped at PENDING_LIMIT resumes */
}

/* Arms the receives that found no buffer again, now that some are in the ring. */
static void
rearm_starved (void)
{
  size_t n = n_starved;

  n_starved = 0;
  for (size_t i = 0; i < n; i++)
    {
      Connection *connection = connection_for (starved[i]);

      if (!connection->starved)
        continue; /* closed meanwhile, its descriptor perhaps reused */
      connection->starved = 0;
      if (!connection->closing && !connection->receiving && !connection->cancelling)
        arm_receive (starved[i], connection);
      else
        finish_if_closing (starved[i], connection);
    }
}

int
main (int argc, char **argv)
{
  int port = bench_parse_port (argc, argv);
  struct io_uring_params params = { 0 };
  int error;

  bench_setup_process ();
  listen_fd = bench_listen (port);

  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN
                 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  params.cq_entries = CQ_ENTRIES;
  error = io_uring_queue_init_params (RING_ENTRIES, &ring, &params);
  if (error == -EINVAL)
    {
      /* A kernel older than 6.1: without the task-work flags. */
      params = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES };
      error = io_uring_queue_init_params (RING_ENTRIES, &ring, &params);
    }
  if (error < 0)
    {
      fprintf (stderr, "echo-uring: io_uring is not available here (io_uring_queue_init: %s)\n",
               strerror (-error));
      return 77;
    }
  error = setup_buffers ();
  if (error < 0)
    {
      fprintf (stderr, "echo-uring: no provided-buffer ring (kernel 5.19 or later needed): %s\n",
               strerror (-error));
      return 77;
    }
  arm_accept ();
  bench_announce_port (bench_local_port (listen_fd));

  for (;;)
    {
      struct io_uring_cqe *cqe;
      unsigned head;
      unsigned seen = 0;

      error = io_uring_submit_and_wait (&ring, 1);
      if (error < 0 && error != -EINTR && error != -EBUSY)
        {
          fprintf (stderr, "echo-uring: io_uring_submit_and_wait: %s\n", strerror (-error));
          return 1;
        }
      io_uring_for_each_cqe (&ring, head, cqe)
      {
        uint64_t data = io_uring_cqe_get_data64 (cqe);
        int fd = (int) (uint32_t) data;

        switch ((int) (data >> 32))
          {
            case OP_ACCEPT:
              on_accept (cqe);
              break;
            case OP_RECV:
              on_receive (fd, cqe);
              break;
            case OP_SEND:
              on_send (fd, cqe);
              break;
            default:
              break; /* a cancellation's own completion */
          }
        seen++;
      }
      io_uring_cq_advance (&ring, seen);
      if (buffers_returned > 0)
        {
          io_uring_buf_ring_advance (buffer_ring, buffers_returned);
          buffers_returned = 0;
        }
      if (n_starved > 0 && buffers_out < BUFFER_COUNT)
        rearm_starved (); /* some buffer is in the ring again */
    }
}

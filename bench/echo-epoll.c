/* echo-epoll.c: the limit, an echo server written straight on epoll
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-epoll [--port N]
 *
 * What a careful programmer writes by hand, and what afxsock is measured against: one
 * epoll instance, every socket registered once, edge-triggered, for input and output, so
 * no epoll_ctl is made per event (afxsock's reactor does the same). A read that does not
 * fill the buffer has drained the socket: the next arrival raises a new edge. Echoes the
 * kernel does not take wait in a per-connection buffer, and reading stops until they are
 * out. Connection state lives in an array indexed by descriptor: 16 bytes per connection.
 */
#include "bench-util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER_SIZE (64 * 1024)
#define MAX_EVENTS 256

typedef struct
{
  uint8_t *pending; /* echoes the kernel did not take yet; NULL when none */
  uint32_t pending_start;
  uint32_t pending_end;
} Connection;

static int epoll_fd;
static int listen_fd;
static Connection *connections;
static size_t n_connections;
static uint8_t buffer[BUFFER_SIZE];

static Connection *
connection_for (int fd)
{
  return bench_fd_slot ((void **) &connections, &n_connections, sizeof *connections, fd);
}

static void
close_connection (int fd)
{
  Connection *connection = connection_for (fd);

  free (connection->pending);
  *connection = (Connection){ 0 };
  close (fd); /* closing also removes it from the epoll set */
}

static void
accept_all (void)
{
  for (;;)
    {
      struct epoll_event event = { 0 };
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return; /* EAGAIN, or out of descriptors: the backlog waits */
        }
      bench_set_nodelay (fd);
      connection_for (fd);
      event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      event.data.fd = fd;
      if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
        close (fd);
    }
}

/* Keeps what the kernel did not take. */
static void
keep_pending (Connection *connection, const uint8_t *data, size_t length)
{
  connection->pending = malloc (length);
  if (connection->pending == NULL)
    abort ();
  memcpy (connection->pending, data, length);
  connection->pending_start = 0;
  connection->pending_end = (uint32_t) length;
}

/* Sends the pending echoes; returns -1 on failure, 0 if some remain, 1 when all went. */
static int
flush_pending (int fd, Connection *connection)
{
  while (connection->pending_start < connection->pending_end)
    {
      ssize_t n = send (fd, connection->pending + connection->pending_start,
                        connection->pending_end - connection->pending_start, MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
      connection->pending_start += (uint32_t) n;
    }
  free (connection->pending);
  connection->pending = NULL;
  return 1;
}

/* Reads and echoes until the socket is drained or the peer stops taking echoes. Returns
 * FALSE when the connection is finished. */
static int
echo (int fd, Connection *connection)
{
  for (;;)
    {
      ssize_t n = recv (fd, buffer, sizeof buffer, 0);
      ssize_t sent;

      if (n == 0)
        return 0;
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      sent = send (fd, buffer, (size_t) n, MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN)
        return 0;
      if (sent < n)
        {
          keep_pending (connection, buffer + (sent < 0 ? 0 : sent),
                        (size_t) (n - (sent < 0 ? 0 : sent)));
          return 1; /* reading resumes when EPOLLOUT says the echoes left */
        }
      if ((size_t) n < sizeof buffer)
        return 1;
    }
}

static void
handle (int fd, uint32_t events)
{
  Connection *connection = connection_for (fd);

  if (events & EPOLLERR)
    {
      close_connection (fd);
      return;
    }
  if (connection->pending != NULL)
    {
      int flushed = (events & EPOLLOUT) ? flush_pending (fd, connection) : 0;
      if (flushed < 0)
        {
          close_connection (fd);
          return;
        }
      if (flushed == 0)
        return;
      /* The backlog went out: whatever arrived meanwhile is read now, since its edge
       * was already reported while reading was stopped. */
      events |= EPOLLIN;
    }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && !echo (fd, connection))
    close_connection (fd);
}

int
main (int argc, char **argv)
{
  int port = bench_parse_port (argc, argv);
  struct epoll_event event = { 0 };
  struct epoll_event events[MAX_EVENTS];

  bench_setup_process ();
  listen_fd = bench_listen (port);
  epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  event.events = EPOLLIN;
  event.data.fd = listen_fd;
  if (epoll_fd < 0 || epoll_ctl (epoll_fd, EPOLL_CTL_ADD, listen_fd, &event) < 0)
    {
      perror ("epoll");
      return 1;
    }
  bench_announce_port (bench_local_port (listen_fd));

  for (;;)
    {
      int n = epoll_wait (epoll_fd, events, MAX_EVENTS, -1);

      for (int i = 0; i < n; i++)
        {
          if (events[i].data.fd == listen_fd)
            accept_all ();
          else
            handle (events[i].data.fd, events[i].events);
        }
    }
}

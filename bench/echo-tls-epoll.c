/* echo-tls-epoll.c: the TLS limit, an echo server on OpenSSL and epoll by hand
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-tls-epoll [--port N] --cert FILE --key FILE
 *
 * The plaintext loop of echo-epoll.c with OpenSSL in it, as a careful programmer writes it:
 * one epoll instance, every socket registered once, edge-triggered, for input and output;
 * a non-blocking SSL object on the descriptor (SSL_set_fd). SSL_read is called until it
 * says WANT_READ, which it says only after the kernel said EAGAIN, so the next arrival
 * raises a new edge. Echoes that SSL_write could not send wait in a per-connection copy
 * (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: the retry comes from the copy), and reading stops
 * until they are out. SSL_MODE_RELEASE_BUFFERS gives OpenSSL's record buffers back while a
 * connection is idle, which is what a server with many idle connections sets.
 */
#include "bench-tls.h"
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
  SSL *ssl;
  uint8_t *pending; /* echoes SSL_write did not take yet; NULL when none */
  uint32_t pending_start;
  uint32_t pending_end;
} Connection;

static int epoll_fd;
static int listen_fd;
static SSL_CTX *context;
static Connection *connections;
static size_t n_connections;
static uint8_t buffer[BUFFER_SIZE];

static Connection *
connection_for (int fd)
{
  return bench_fd_slot ((void **) &connections, &n_connections, sizeof *connections, fd);
}

/* Sends close_notify if it can (without waiting) and frees everything. */
static void
close_connection (int fd, int graceful)
{
  Connection *connection = connection_for (fd);

  if (graceful)
    SSL_shutdown (connection->ssl);
  SSL_free (connection->ssl);
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
      Connection *connection;

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return; /* EAGAIN, or out of descriptors: the backlog waits */
        }
      bench_set_nodelay (fd);
      connection = connection_for (fd);
      connection->ssl = SSL_new (context);
      if (connection->ssl == NULL || SSL_set_fd (connection->ssl, fd) != 1)
        {
          close_connection (fd, 0);
          continue;
        }
      SSL_set_accept_state (connection->ssl);
      event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      event.data.fd = fd;
      if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
        close_connection (fd, 0);
    }
}

/* Whether an SSL call that returned @result only has to wait for the socket. */
static int
would_block (SSL *ssl, int result)
{
  int error = SSL_get_error (ssl, result);

  return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

/* Writes @length bytes of @data, keeping what SSL_write did not take. Returns -1 on
 * failure, 0 if some remain, 1 when all went. */
static int
write_all (Connection *connection, const uint8_t *data, size_t length)
{
  size_t done = 0;

  while (done < length)
    {
      int n = SSL_write (connection->ssl, data + done, (int) (length - done));
      if (n <= 0)
        {
          if (!would_block (connection->ssl, n))
            return -1;
          if (connection->pending == NULL)
            {
              connection->pending = malloc (length - done);
              if (connection->pending == NULL)
                abort ();
              memcpy (connection->pending, data + done, length - done);
              connection->pending_start = 0;
              connection->pending_end = (uint32_t) (length - done);
            }
          else
            connection->pending_start = (uint32_t) (data + done - connection->pending);
          return 0;
        }
      done += (size_t) n;
    }
  return 1;
}

/* Sends the pending echoes: -1 on failure, 0 if some remain, 1 when all went. */
static int
flush_pending (Connection *connection)
{
  int result = write_all (connection, connection->pending + connection->pending_start,
                          connection->pending_end - connection->pending_start);

  if (result == 1)
    {
      free (connection->pending);
      connection->pending = NULL;
    }
  return result;
}

/* Reads and echoes until OpenSSL wants the socket or the peer stops taking echoes.
 * Returns 0 when the connection is finished (-1: not gracefully). */
static int
echo (Connection *connection)
{
  for (;;)
    {
      int n = SSL_read (connection->ssl, buffer, sizeof buffer);
      int written;

      if (n <= 0)
        {
          int error = SSL_get_error (connection->ssl, n);
          if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
            return 1;
          return error == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        }
      written = write_all (connection, buffer, (size_t) n);
      if (written <= 0)
        return written; /* 0: reading resumes once the echoes left */
    }
}

static void
handle (int fd, uint32_t events)
{
  Connection *connection = connection_for (fd);
  int result;

  if (events & EPOLLERR)
    {
      close_connection (fd, 0);
      return;
    }
  if (!SSL_is_init_finished (connection->ssl))
    {
      result = SSL_do_handshake (connection->ssl);
      if (result != 1)
        {
          if (!would_block (connection->ssl, result))
            close_connection (fd, 0);
          return;
        }
    }
  if (connection->pending != NULL)
    {
      result = flush_pending (connection);
      if (result <= 0)
        {
          if (result < 0)
            close_connection (fd, 0);
          return;
        }
      /* The backlog went out: whatever arrived meanwhile is read now, since its edge was
       * already reported while reading was stopped. */
    }
  result = echo (connection);
  if (result <= 0)
    close_connection (fd, result == 0);
}

int
main (int argc, char **argv)
{
  const char *cert, *key;
  int port = bench_parse_tls_arguments (argc, argv, &cert, &key);
  struct epoll_event event = { 0 };
  struct epoll_event events[MAX_EVENTS];

  bench_setup_process ();
  context = bench_tls_server_context (cert, key, true);
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

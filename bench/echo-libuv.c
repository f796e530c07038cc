/* echo-libuv.c: the echo server on libuv, written the way libuv's documentation suggests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-libuv [--port N]
 *
 * uv_read_start with one shared read buffer; each read is echoed with uv_try_write (no
 * copy, no request) and only what the kernel did not take is copied into a uv_write
 * request, with reading stopped until that write completes.
 */
#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUFFER_SIZE (64 * 1024)

typedef struct
{
  uv_tcp_t handle;
  uv_write_t write;
  char *pending;
} Connection;

static uv_loop_t *loop;
static char read_buffer[BUFFER_SIZE];

static void
on_closed (uv_handle_t *handle)
{
  Connection *connection = handle->data;

  free (connection->pending);
  free (connection);
}

static void
connection_finish (Connection *connection)
{
  if (!uv_is_closing ((uv_handle_t *) &connection->handle))
    uv_close ((uv_handle_t *) &connection->handle, on_closed);
}

static void
on_alloc (uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  /* The loop is single-threaded and every read is echoed (or copied) before the next
   * allocation, so one buffer serves all connections. */
  (void) suggested;
  *buf = uv_buf_init (read_buffer, sizeof read_buffer);
}

static void on_read (uv_stream_t *stream, ssize_t n, const uv_buf_t *buf);

static void
on_written (uv_write_t *request, int status)
{
  Connection *connection = request->data;

  free (connection->pending);
  connection->pending = NULL;
  if (status < 0)
    {
      connection_finish (connection);
      return;
    }
  uv_read_start ((uv_stream_t *) &connection->handle, on_alloc, on_read);
}

static void
on_read (uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
  Connection *connection = stream->data;
  uv_buf_t out;
  int sent;

  if (n == 0)
    return;
  if (n < 0)
    {
      connection_finish (connection);
      return;
    }
  out = uv_buf_init (buf->base, (unsigned int) n);
  sent = uv_try_write (stream, &out, 1);
  if (sent == n)
    return;
  if (sent < 0 && sent != UV_EAGAIN)
    {
      connection_finish (connection);
      return;
    }
  if (sent < 0)
    sent = 0;
  connection->pending = malloc ((size_t) (n - sent));
  memcpy (connection->pending, buf->base + sent, (size_t) (n - sent));
  out = uv_buf_init (connection->pending, (unsigned int) (n - sent));
  connection->write.data = connection;
  uv_read_stop (stream);
  if (uv_write (&connection->write, stream, &out, 1, on_written) < 0)
    connection_finish (connection);
}

static void
on_connection (uv_stream_t *server, int status)
{
  Connection *connection;

  if (status < 0)
    return;
  connection = calloc (1, sizeof *connection);
  uv_tcp_init (loop, &connection->handle);
  connection->handle.data = connection;
  if (uv_accept (server, (uv_stream_t *) &connection->handle) < 0)
    {
      uv_close ((uv_handle_t *) &connection->handle, on_closed);
      return;
    }
  uv_tcp_nodelay (&connection->handle, 1);
  uv_read_start ((uv_stream_t *) &connection->handle, on_alloc, on_read);
}

int
main (int argc, char **argv)
{
  int port = bench_parse_port (argc, argv);
  uv_tcp_t server;
  struct sockaddr_in address;
  struct sockaddr_storage bound;
  int length = sizeof bound;
  int error;

  bench_setup_process ();
  loop = uv_default_loop ();
  uv_tcp_init (loop, &server);
  uv_ip4_addr ("127.0.0.1", port, &address);
  if ((error = uv_tcp_bind (&server, (struct sockaddr *) &address, 0)) < 0
      || (error = uv_listen ((uv_stream_t *) &server, SOMAXCONN, on_connection)) < 0
      || (error = uv_tcp_getsockname (&server, (struct sockaddr *) &bound, &length)) < 0)
    {
      fprintf (stderr, "echo-libuv: %s\n", uv_strerror (error));
      return 1;
    }
  bench_announce_port (ntohs (((struct sockaddr_in *) &bound)->sin_port));
  return uv_run (loop, UV_RUN_DEFAULT);
}

/* echo-tls-afxsock.c: the TLS echo server on CAsyncSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-tls-afxsock [--port N] --cert FILE --key FILE
 *
 * echo-afxsock.c with TLS: the same connection subclass, served by a CSocketService
 * (bench-service.h) whose listener has a server CTlsSettings (c_async_socket_set_tls), which
 * every accepted connection inherits (docs/tls.md). on_receive receives plaintext once and sends it back; echoes the
 * transport does not take wait in the connection until on_send.
 */
#include "bench-service.h"
#include "bench-util.h"

#include <afxsock.h>
#include <string.h>

#define BUFFER_SIZE (64 * 1024)

/* One receive buffer for every connection: the server is single-threaded and echoes
 * before it returns, so idle connections hold no buffer. */
static guint8 receive_buffer[BUFFER_SIZE];

#define BENCH_TYPE_CONNECTION (bench_connection_get_type ())
G_DECLARE_FINAL_TYPE (BenchConnection, bench_connection, BENCH, CONNECTION, CAsyncSocket)

struct _BenchConnection
{
  CAsyncSocket parent_instance;
  guint8 *pending; /* echoes the kernel did not take yet; NULL when none */
  gsize pending_start;
  gsize pending_end;
};

G_DEFINE_FINAL_TYPE (BenchConnection, bench_connection, C_TYPE_ASYNC_SOCKET)

/* Closing is all: the service lets the connection go. */
static void
connection_finish (BenchConnection *self)
{
  c_async_socket_close (C_ASYNC_SOCKET (self));
}

/* Sends the pending echoes; returns FALSE if the connection failed. */
static gboolean
flush_pending (BenchConnection *self)
{
  while (self->pending_start < self->pending_end)
    {
      g_autoptr (GError) error = NULL;
      gssize n = c_async_socket_send (C_ASYNC_SOCKET (self), self->pending + self->pending_start,
                                      self->pending_end - self->pending_start, 0, &error);
      if (n < 0)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      self->pending_start += (gsize) n;
    }
  g_clear_pointer (&self->pending, g_free);
  return TRUE;
}

static void
bench_connection_on_receive (CAsyncSocket *socket, int error_code)
{
  BenchConnection *self = BENCH_CONNECTION (socket);
  GError *error = NULL;
  gssize n, sent;

  if (self->pending != NULL)
    return; /* backpressure: receive again once the echoes went out (on_send) */
  n = c_async_socket_receive (socket, receive_buffer, sizeof receive_buffer, 0, &error);
  if (n <= 0)
    {
      /* Would-block, or end of stream: on_close follows. */
      g_clear_error (&error);
      return;
    }
  sent = c_async_socket_send (socket, receive_buffer, (gsize) n, 0, &error);
  if (sent == n)
    return;
  if (sent < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_clear_error (&error);
      connection_finish (self);
      return;
    }
  g_clear_error (&error);
  sent = MAX (sent, 0);
  self->pending = g_memdup2 (receive_buffer + sent, (gsize) (n - sent));
  self->pending_start = 0;
  self->pending_end = (gsize) (n - sent);
  if (sent > 0 && !flush_pending (self))
    connection_finish (self);
}

static void
bench_connection_on_send (CAsyncSocket *socket, int error_code)
{
  BenchConnection *self = BENCH_CONNECTION (socket);

  if (self->pending == NULL)
    return;
  if (!flush_pending (self))
    connection_finish (self);
  else if (self->pending == NULL)
    bench_connection_on_receive (socket, 0); /* resume reading */
}

static void
bench_connection_on_close (CAsyncSocket *socket, int error_code)
{
  connection_finish (BENCH_CONNECTION (socket));
}

static void
bench_connection_finalize (GObject *object)
{
  g_free (BENCH_CONNECTION (object)->pending);
  G_OBJECT_CLASS (bench_connection_parent_class)->finalize (object);
}

static void
bench_connection_class_init (BenchConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = bench_connection_finalize;
  socket_class->on_receive = bench_connection_on_receive;
  socket_class->on_send = bench_connection_on_send;
  socket_class->on_close = bench_connection_on_close;
}

static void
bench_connection_init (BenchConnection *self)
{
}

int
main (int argc, char **argv)
{
  const char *cert, *key;
  int port = bench_parse_tls_arguments (argc, argv, &cert, &key);
  g_autoptr (CTlsSettings) tls = c_tls_settings_new (C_TLS_ROLE_SERVER);
  g_autoptr (GError) error = NULL;

  bench_setup_process ();
  if (!c_tls_settings_set_certificate_files (tls, cert, key, &error))
    {
      g_printerr ("echo-tls-afxsock: %s\n", error->message);
      return 1;
    }
  return bench_serve (BENCH_TYPE_CONNECTION, "echo-tls-afxsock", port, 1, FALSE, tls);
}

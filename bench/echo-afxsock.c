/* echo-afxsock.c: the echo server on CAsyncSocket, raw receive and send
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-afxsock [--port N] [--service THREADS]
 *   echo-tls-afxsock [--port N] --cert FILE --key FILE
 *
 * MFC's pattern, as an application writes it: a listener subclass whose on_accept accepts
 * into a connection subclass, whose on_receive receives once and sends what came. With
 * --service the same connection class is served by a CSocketService on THREADS threads
 * (docs/service.md), which accepts and holds the connections instead of the listener. Echoes
 * the kernel does not take wait in the connection until on_send, and the connection does
 * not receive meanwhile, which (by the WSAAsyncSelect rules) also stops on_receive.
 *
 * With --cert and --key (the program is built a second time as echo-tls-afxsock, the name
 * bench/run.py's TLS scenarios use) the service's listener gets a server CTlsSettings
 * (c_async_socket_set_tls), which every accepted connection inherits: the same connection
 * class, receiving and sending plaintext (docs/tls.md).
 */
#include "bench-service.h"
#include "bench-util.h"

#include <afxsock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_SIZE (64 * 1024)
#define ACCEPTS_PER_NOTIFICATION 64

/* One receive buffer for every connection of a thread: a connection echoes before its
 * notification returns, so idle connections hold no buffer. */
static _Thread_local guint8 receive_buffer[BUFFER_SIZE];
static gboolean held_by_service; /* --service: the service holds the connections */

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

static void
connection_finish (BenchConnection *self)
{
  c_async_socket_close (C_ASYNC_SOCKET (self));
  if (!held_by_service)
    g_object_unref (self); /* the listener's path: the connection held itself */
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

#define BENCH_TYPE_LISTENER (bench_listener_get_type ())
G_DECLARE_FINAL_TYPE (BenchListener, bench_listener, BENCH, LISTENER, CAsyncSocket)

struct _BenchListener
{
  CAsyncSocket parent_instance;
};

G_DEFINE_FINAL_TYPE (BenchListener, bench_listener, C_TYPE_ASYNC_SOCKET)

/* Accepts what is queued (up to a bound, so one burst cannot starve the connections); the
 * connection keeps its own reference until on_close. */
static void
bench_listener_on_accept (CAsyncSocket *socket, int error_code)
{
  for (int i = 0; i < ACCEPTS_PER_NOTIFICATION; i++)
    {
      CAsyncSocket *connection = g_object_new (BENCH_TYPE_CONNECTION, NULL);
      if (!c_async_socket_accept (socket, connection, NULL, NULL))
        {
          g_object_unref (connection);
          return;
        }
      c_async_socket_set_sock_opt_int (connection, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    }
}

static void
bench_listener_class_init (BenchListenerClass *klass)
{
  C_ASYNC_SOCKET_CLASS (klass)->on_accept = bench_listener_on_accept;
}

static void
bench_listener_init (BenchListener *self)
{
}

int
main (int argc, char **argv)
{
  int port = 0, threads = 0;
  const char *cert = NULL, *key = NULL;
  g_autoptr (CTlsSettings) tls = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (BenchListener) listener = NULL;
  g_autoptr (GError) error = NULL;
  guint bound_port = 0;

  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp (argv[i], "--port") == 0)
      port = bench_parse_port (3, (char *[]){ argv[0], argv[i], argv[i + 1], NULL });
    else if (strcmp (argv[i], "--service") == 0 && atoi (argv[i + 1]) > 0)
      threads = atoi (argv[i + 1]);
    else if (strcmp (argv[i], "--cert") == 0)
      cert = argv[i + 1];
    else if (strcmp (argv[i], "--key") == 0)
      key = argv[i + 1];
    else
      {
        g_printerr ("usage: %s [--port N] [--service THREADS] [--cert FILE --key FILE]\n", argv[0]);
        return 2;
      }
  bench_setup_process ();
  if (cert != NULL || key != NULL)
    {
      tls = c_tls_settings_new (C_TLS_ROLE_SERVER);
      if (cert == NULL || key == NULL
          || !c_tls_settings_set_certificate_files (tls, cert, key, &error))
        {
          g_printerr ("%s: %s\n", argv[0], error ? error->message : "--cert needs --key");
          return 2;
        }
      threads = MAX (threads, 1);
    }
  if (threads > 0)
    {
      held_by_service = TRUE;
      return bench_serve (BENCH_TYPE_CONNECTION, argv[0], port, (guint) threads, FALSE, tls);
    }
  loop = g_main_loop_new (NULL, FALSE);
  listener = g_object_new (BENCH_TYPE_LISTENER, NULL);
  if (!c_async_socket_create (C_ASYNC_SOCKET (listener), (guint) port, C_SOCK_STREAM,
                              C_FD_ACCEPT | C_FD_READ | C_FD_WRITE | C_FD_CLOSE, "127.0.0.1",
                              &error)
      || !c_async_socket_listen (C_ASYNC_SOCKET (listener), SOMAXCONN, &error)
      || !c_async_socket_get_sock_name (C_ASYNC_SOCKET (listener), NULL, &bound_port, &error))
    {
      g_printerr ("echo-afxsock: %s\n", error->message);
      return 1;
    }
  bench_announce_port ((int) bound_port);
  g_main_loop_run (loop);
  return 0;
}

/* echo-afxsock-records.c: the echo server on afxsock's record path
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-afxsock-records [--port N]
 *
 * The listener is in record mode, so every accepted connection is too: the socket reads by
 * itself and on_record gets each whole record (4-byte big-endian length + payload, the
 * load generator's --framed traffic), which goes straight back with send_record (the same
 * GBytes, no copy). When the write queue is at its high-water mark, records wait here and
 * reading stops (async_select without C_FD_READ) until on_drain.
 */
#include "bench-util.h"

#include <afxsock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define ACCEPTS_PER_NOTIFICATION 64
#define CONNECTION_EVENTS (C_FD_READ | C_FD_WRITE | C_FD_CLOSE)

#define BENCH_TYPE_CONNECTION (bench_connection_get_type ())
G_DECLARE_FINAL_TYPE (BenchConnection, bench_connection, BENCH, CONNECTION, CAsyncSocket)

struct _BenchConnection
{
  CAsyncSocket parent_instance;
  GQueue *held; /* records refused by a full write queue; NULL when none */
};

G_DEFINE_FINAL_TYPE (BenchConnection, bench_connection, C_TYPE_ASYNC_SOCKET)

static void
connection_finish (BenchConnection *self)
{
  c_async_socket_close (C_ASYNC_SOCKET (self));
  g_object_unref (self);
}

/* Sends a record, or holds it (and stops reading) while the write queue is full. Returns
 * FALSE if the connection failed. */
static gboolean
echo_record (BenchConnection *self, GBytes *record)
{
  g_autoptr (GError) error = NULL;

  if (self->held == NULL && c_async_socket_send_record (C_ASYNC_SOCKET (self), record, &error))
    return TRUE;
  if (error != NULL && !g_error_matches (error, C_SOCKET_ERROR, C_SOCKET_ERROR_LIMIT))
    return FALSE;
  if (self->held == NULL)
    {
      self->held = g_queue_new ();
      c_async_socket_async_select (C_ASYNC_SOCKET (self), C_FD_WRITE | C_FD_CLOSE, NULL);
    }
  g_queue_push_tail (self->held, g_bytes_ref (record));
  return TRUE;
}

static void
bench_connection_on_record (CAsyncSocket *socket, GBytes *record)
{
  BenchConnection *self = BENCH_CONNECTION (socket);

  if (!echo_record (self, record))
    connection_finish (self);
}

static void
bench_connection_on_drain (CAsyncSocket *socket)
{
  BenchConnection *self = BENCH_CONNECTION (socket);
  GQueue *held = self->held;
  GBytes *record;

  if (held == NULL)
    return;
  self->held = NULL;
  while ((record = g_queue_pop_head (held)) != NULL)
    {
      gboolean ok = echo_record (self, record);
      g_bytes_unref (record);
      if (!ok)
        {
          g_queue_free_full (held, (GDestroyNotify) g_bytes_unref);
          connection_finish (self);
          return;
        }
    }
  g_queue_free (held);
  if (self->held == NULL)
    c_async_socket_async_select (socket, CONNECTION_EVENTS, NULL);
}

static void
bench_connection_on_close (CAsyncSocket *socket, int error_code)
{
  connection_finish (BENCH_CONNECTION (socket));
}

static void
bench_connection_finalize (GObject *object)
{
  BenchConnection *self = BENCH_CONNECTION (object);

  if (self->held != NULL)
    g_queue_free_full (self->held, (GDestroyNotify) g_bytes_unref);
  G_OBJECT_CLASS (bench_connection_parent_class)->finalize (object);
}

static void
bench_connection_class_init (BenchConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = bench_connection_finalize;
  socket_class->on_record = bench_connection_on_record;
  socket_class->on_drain = bench_connection_on_drain;
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
  int port = bench_parse_port (argc, argv);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (BenchListener) listener = g_object_new (BENCH_TYPE_LISTENER, NULL);
  g_autoptr (GError) error = NULL;
  guint bound_port = 0;

  bench_setup_process ();
  if (!c_async_socket_set_record_mode (C_ASYNC_SOCKET (listener), TRUE, &error)
      || !c_async_socket_create (C_ASYNC_SOCKET (listener), (guint) port, C_SOCK_STREAM,
                                 C_FD_ACCEPT | CONNECTION_EVENTS, "127.0.0.1", &error)
      || !c_async_socket_listen (C_ASYNC_SOCKET (listener), SOMAXCONN, &error)
      || !c_async_socket_get_sock_name (C_ASYNC_SOCKET (listener), NULL, &bound_port, &error))
    {
      g_printerr ("echo-afxsock-records: %s\n", error->message);
      return 1;
    }
  bench_announce_port ((int) bound_port);
  g_main_loop_run (loop);
  return 0;
}

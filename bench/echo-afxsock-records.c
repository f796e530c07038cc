/* echo-afxsock-records.c: the echo server on afxsock's record path
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-afxsock-records [--port N] [--threads N] [--lent]
 *
 * A CSocketService (bench-service.h) accepts and holds the connections, on one thread or
 * --threads N. Its listeners are in record mode, so every accepted connection is too: the
 * socket reads by itself and on_record gets each whole record (4-byte big-endian length + payload, the
 * load generator's --framed traffic), which goes straight back with send_record (the same
 * GBytes, no copy). When the write queue is at its high-water mark, records wait here and
 * reading stops (async_select without C_FD_READ) until on_drain.
 *
 * With --lent the connection overrides on_record_data instead: each record comes lent where
 * it was read (no GBytes, no copy) and goes back with send_record_data, which copies only
 * what has to wait (a record refused by a full queue is kept as a GBytes here).
 */
#include "bench-service.h"
#include "bench-util.h"

#include <afxsock.h>
#include <stdlib.h>
#include <string.h>

#define CONNECTION_EVENTS (C_FD_READ | C_FD_WRITE | C_FD_CLOSE)

#define BENCH_TYPE_CONNECTION (bench_connection_get_type ())
G_DECLARE_FINAL_TYPE (BenchConnection, bench_connection, BENCH, CONNECTION, CAsyncSocket)

struct _BenchConnection
{
  CAsyncSocket parent_instance;
  GQueue *held; /* records refused by a full write queue; NULL when none */
};

G_DEFINE_FINAL_TYPE (BenchConnection, bench_connection, C_TYPE_ASYNC_SOCKET)

static gboolean lent; /* --lent: records through on_record_data (set before the class is made) */

/* Closing is all: the service lets the connection go. */
static void
connection_finish (BenchConnection *self)
{
  c_async_socket_close (C_ASYNC_SOCKET (self));
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
bench_connection_on_record_data (CAsyncSocket *socket, const guint8 *data, gsize size)
{
  BenchConnection *self = BENCH_CONNECTION (socket);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) record = NULL;

  if (self->held == NULL && c_async_socket_send_record_data (socket, data, size, &error))
    return;
  if (error != NULL && !g_error_matches (error, C_SOCKET_ERROR, C_SOCKET_ERROR_LIMIT))
    {
      connection_finish (self);
      return;
    }
  record = g_bytes_new (data, size); /* it has to wait: now it needs bytes of its own */
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
  if (lent)
    socket_class->on_record_data = bench_connection_on_record_data;
  socket_class->on_drain = bench_connection_on_drain;
  socket_class->on_close = bench_connection_on_close;
}

static void
bench_connection_init (BenchConnection *self)
{
}

int
main (int argc, char **argv)
{
  int port = 0, threads = 1;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--lent") == 0)
      lent = TRUE;
    else if (strcmp (argv[i], "--port") == 0 && i + 1 < argc)
      {
        port = bench_parse_port (3, (char *[]){ argv[0], argv[i], argv[i + 1], NULL });
        i++;
      }
    else if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc && atoi (argv[i + 1]) > 0)
      threads = atoi (argv[++i]);
    else
      {
        g_printerr ("usage: %s [--port N] [--threads N] [--lent]\n", argv[0]);
        return 2;
      }
  bench_setup_process ();
  return bench_serve (BENCH_TYPE_CONNECTION, "echo-afxsock-records", port, (guint) threads, TRUE,
                      NULL);
}

/* echo-gio.c: the echo server on GIO's GSocketService
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-gio [--port N]
 *
 * What a GLib programmer writes without afxsock: a GSocketService for the accepts, and per
 * connection the connection's non-blocking GSocket with one GSocket source, watching for
 * input, or for output while echoes wait. This is the "one GSource per socket" pattern that
 * afxsock's reactor replaces.
 */
#include "bench-util.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define BUFFER_SIZE (64 * 1024)

typedef struct
{
  GSocketConnection *connection;
  GSocket *socket;
  GSource *source;
  guint8 *pending; /* echoes the kernel did not take yet; NULL when none */
  gsize pending_start;
  gsize pending_end;
} Connection;

static guint8 buffer[BUFFER_SIZE];

static gboolean on_ready (GSocket *socket, GIOCondition condition, gpointer data);

static void
watch_for (Connection *connection, GIOCondition condition)
{
  if (connection->source != NULL)
    {
      g_source_destroy (connection->source);
      g_source_unref (connection->source);
    }
  connection->source = g_socket_create_source (connection->socket, condition, NULL);
  g_source_set_callback (connection->source, (GSourceFunc) (void (*) (void)) on_ready, connection,
                         NULL);
  g_source_attach (connection->source, NULL);
}

static void
connection_free (Connection *connection)
{
  g_source_destroy (connection->source);
  g_source_unref (connection->source);
  g_io_stream_close (G_IO_STREAM (connection->connection), NULL, NULL);
  g_object_unref (connection->connection);
  g_free (connection->pending);
  g_free (connection);
}

/* Sends the pending echoes: -1 on failure, 0 if some remain, 1 when all went. */
static int
flush_pending (Connection *connection)
{
  while (connection->pending_start < connection->pending_end)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_send (connection->socket,
                                (const char *) connection->pending + connection->pending_start,
                                connection->pending_end - connection->pending_start, NULL, &error);
      if (n < 0)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? 0 : -1;
      connection->pending_start += (gsize) n;
    }
  g_clear_pointer (&connection->pending, g_free);
  return 1;
}

/* Receives once and echoes; FALSE when the connection is finished. */
static gboolean
echo (Connection *connection)
{
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive (connection->socket, (char *) buffer, sizeof buffer, NULL, &error);
  gssize sent;

  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  if (n == 0)
    return FALSE;
  sent = g_socket_send (connection->socket, (const char *) buffer, (gsize) n, NULL, &error);
  if (sent == n)
    return TRUE;
  if (sent < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return FALSE;
  sent = MAX (sent, 0);
  connection->pending = g_memdup2 (buffer + sent, (gsize) (n - sent));
  connection->pending_start = 0;
  connection->pending_end = (gsize) (n - sent);
  watch_for (connection, G_IO_OUT);
  return TRUE;
}

static gboolean
on_ready (GSocket *socket, GIOCondition condition, gpointer data)
{
  Connection *connection = data;

  if (connection->pending != NULL)
    {
      int flushed = flush_pending (connection);
      if (flushed < 0)
        {
          connection_free (connection);
          return G_SOURCE_REMOVE;
        }
      if (flushed > 0)
        watch_for (connection, G_IO_IN); /* replaces this source */
      return G_SOURCE_CONTINUE;
    }
  if (!echo (connection))
    {
      connection_free (connection);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *socket_connection, GObject *source,
             gpointer data)
{
  Connection *connection = g_new0 (Connection, 1);

  connection->connection = g_object_ref (socket_connection);
  connection->socket = g_socket_connection_get_socket (socket_connection);
  g_socket_set_blocking (connection->socket, FALSE);
  g_socket_set_option (connection->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  watch_for (connection, G_IO_IN);
  return TRUE;
}

int
main (int argc, char **argv)
{
  int port = bench_parse_port (argc, argv);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GSocketService) service = g_socket_service_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, (guint16) port);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  bench_setup_process ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), SOMAXCONN);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    {
      g_printerr ("echo-gio: %s\n", error->message);
      return 1;
    }
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (service);
  bench_announce_port (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  g_main_loop_run (loop);
  return 0;
}

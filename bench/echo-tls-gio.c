/* echo-tls-gio.c: the TLS echo server on GIO's GTlsConnection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-tls-gio [--port N] --cert FILE --key FILE
 *
 * What a GLib programmer writes for TLS without afxsock: a GSocketService for the accepts,
 * each connection wrapped in g_tls_server_connection_new (GIO's TLS back end,
 * glib-networking), and an asynchronous read into the connection's buffer whose callback
 * writes what came with g_output_stream_write_all_async and reads again once it is written.
 * The handshake is the first read's.
 */
#include "bench-util.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define BUFFER_SIZE (16 * 1024) /* one TLS record of plaintext */

typedef struct
{
  GIOStream *tls;
  guint8 buffer[BUFFER_SIZE];
} Connection;

static GTlsCertificate *certificate;

static void read_next (Connection *connection);

static void
on_closed (GObject *stream, GAsyncResult *result, gpointer data)
{
  Connection *connection = data;

  g_io_stream_close_finish (G_IO_STREAM (stream), result, NULL);
  g_object_unref (connection->tls);
  g_free (connection);
}

static void
connection_finish (Connection *connection)
{
  g_io_stream_close_async (connection->tls, G_PRIORITY_DEFAULT, NULL, on_closed, connection);
}

static void
on_written (GObject *stream, GAsyncResult *result, gpointer data)
{
  Connection *connection = data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (stream), result, NULL, NULL))
    connection_finish (connection);
  else
    read_next (connection);
}

static void
on_read (GObject *stream, GAsyncResult *result, gpointer data)
{
  Connection *connection = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (stream), result, NULL);

  if (n <= 0)
    {
      connection_finish (connection);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (connection->tls),
                                   connection->buffer, (gsize) n, G_PRIORITY_DEFAULT, NULL,
                                   on_written, connection);
}

static void
read_next (Connection *connection)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (connection->tls), connection->buffer,
                             sizeof connection->buffer, G_PRIORITY_DEFAULT, NULL, on_read,
                             connection);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *socket_connection, GObject *source,
             gpointer data)
{
  g_autoptr (GError) error = NULL;
  GIOStream *tls;
  Connection *connection;

  g_socket_set_option (g_socket_connection_get_socket (socket_connection), IPPROTO_TCP, TCP_NODELAY,
                       1, NULL);
  tls = g_tls_server_connection_new (G_IO_STREAM (socket_connection), certificate, &error);
  if (tls == NULL)
    {
      g_printerr ("echo-tls-gio: %s\n", error->message);
      return TRUE;
    }
  /* No client certificates are asked for, so no CA database is needed: without this line
   * glib-networking loads the system's trust store again for every connection. */
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), NULL);
  connection = g_new (Connection, 1);
  connection->tls = tls;
  read_next (connection);
  return TRUE;
}

int
main (int argc, char **argv)
{
  const char *cert, *key;
  int port = bench_parse_tls_arguments (argc, argv, &cert, &key);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GSocketService) service = g_socket_service_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, (guint16) port);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  bench_setup_process ();
  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  if (certificate == NULL)
    {
      g_printerr ("echo-tls-gio: %s\n", error->message);
      return 1;
    }
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), SOMAXCONN);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    {
      g_printerr ("echo-tls-gio: %s\n", error->message);
      return 1;
    }
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (service);
  bench_announce_port (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  g_main_loop_run (loop);
  return 0;
}

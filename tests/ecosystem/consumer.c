/* consumer.c: a program outside the tree that uses the installed afxsock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built by the install and subproject tests: a listener and a client on loopback exchange
 * one record, with nothing but <afxsock.h> and pkg-config (or the subproject).
 */
#include <afxsock.h>

static GBytes *received;

static void
on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  received = g_bytes_ref (record);
}

static void
on_accept (CAsyncSocket *listener, int error_code, gpointer data)
{
  CAsyncSocket **server = data;

  *server = c_async_socket_new ();
  g_signal_connect (*server, "record", G_CALLBACK (on_record), NULL);
  c_async_socket_accept (listener, *server, NULL, NULL);
}

static void
on_connect (CAsyncSocket *client, int error_code, gpointer data)
{
  if (error_code == 0)
    c_async_socket_send_record_data (client, "echo", 4, NULL);
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE; /* wakes the loop so the deadline is checked */
}

int
main (void)
{
  CAsyncSocket *listener = c_async_socket_new ();
  CAsyncSocket *client = c_async_socket_new ();
  CAsyncSocket *server = NULL;
  guint port = 0;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int status;

  g_signal_connect (listener, "accept", G_CALLBACK (on_accept), &server);
  g_signal_connect (client, "connect", G_CALLBACK (on_connect), NULL);
  if (!c_async_socket_create (listener, 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", NULL)
      || !c_async_socket_set_record_mode (listener, TRUE, NULL)
      || !c_async_socket_listen (listener, 5, NULL)
      || !c_async_socket_get_sock_name (listener, NULL, &port, NULL)
      || !c_async_socket_create (client, 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL)
      || !c_async_socket_set_record_mode (client, TRUE, NULL)
      || !c_async_socket_connect (client, "127.0.0.1", port, NULL))
    return 1;
  g_timeout_add (100, tick, NULL);
  while (received == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  status = received != NULL && g_bytes_get_size (received) == 4 ? 0 : 1;
  if (status == 0)
    g_print ("consumer: connected and echoed\n");
  g_clear_pointer (&received, g_bytes_unref);
  g_clear_object (&server);
  g_object_unref (client);
  g_object_unref (listener);
  return status;
}

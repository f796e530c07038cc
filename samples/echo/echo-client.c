/* echo-client.c: sends lines to an echo server and prints what comes back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-client [--host H] [--port N] [MESSAGE...]
 *
 * Connects (the host may be a name, resolved without blocking the main loop), sends each
 * MESSAGE as a line, or the lines of standard input when none are given, prints each echo
 * as it arrives, then half-closes and exits once the server has closed too.
 */
#include <afxsock.h>
#include <stdio.h>
#include <string.h>

#define ECHO_TYPE_CLIENT (echo_client_get_type ())
G_DECLARE_FINAL_TYPE (EchoClient, echo_client, ECHO, CLIENT, CAsyncSocket)

struct _EchoClient
{
  CAsyncSocket parent_instance;
  GByteArray *outgoing; /* bytes not yet taken by the kernel */
  GString *incoming;    /* bytes of an unfinished echoed line */
  gboolean input_done;  /* everything to send has been queued */
  gboolean shut;
  int status;
  GMainLoop *loop;
};

G_DEFINE_FINAL_TYPE (EchoClient, echo_client, C_TYPE_ASYNC_SOCKET)

static void
finish (EchoClient *self, int status)
{
  self->status = status;
  g_main_loop_quit (self->loop);
}

static void
pump (EchoClient *self)
{
  g_autoptr (GError) error = NULL;

  while (self->outgoing->len > 0)
    {
      gssize n = c_async_socket_send (C_ASYNC_SOCKET (self), self->outgoing->data,
                                      self->outgoing->len, 0, &error);
      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              g_printerr ("echo-client: %s\n", error->message);
              finish (self, 1);
            }
          return; /* on_send resumes */
        }
      g_byte_array_remove_range (self->outgoing, 0, (guint) n);
    }
  if (self->input_done && !self->shut)
    {
      /* Everything went out: half-close, so the server sees the end and closes too. */
      self->shut = TRUE;
      c_async_socket_shut_down (C_ASYNC_SOCKET (self), C_SHUTDOWN_SENDS, NULL);
    }
}

static void
queue_line (EchoClient *self, const char *line)
{
  g_byte_array_append (self->outgoing, (const guint8 *) line, (guint) strlen (line));
  g_byte_array_append (self->outgoing, (const guint8 *) "\n", 1);
}

static void
echo_client_on_connect (CAsyncSocket *socket, int error_code)
{
  EchoClient *self = ECHO_CLIENT (socket);
  g_autofree char *peer = NULL;
  guint port = 0;

  if (error_code != 0)
    {
      g_printerr ("echo-client: connect: %s\n", g_strerror (error_code));
      finish (self, 1);
      return;
    }
  c_async_socket_get_peer_name (socket, &peer, &port, NULL);
  g_print ("connected to %s port %u\n", peer, port);
}

static void
echo_client_on_send (CAsyncSocket *socket, int error_code)
{
  pump (ECHO_CLIENT (socket));
}

static void
echo_client_on_receive (CAsyncSocket *socket, int error_code)
{
  EchoClient *self = ECHO_CLIENT (socket);
  char buffer[4096];
  gssize n = c_async_socket_receive (socket, buffer, sizeof buffer, 0, NULL);
  char *newline;

  if (n <= 0)
    return;
  g_string_append_len (self->incoming, buffer, n);
  while ((newline = memchr (self->incoming->str, '\n', self->incoming->len)) != NULL)
    {
      gsize length = (gsize) (newline - self->incoming->str);
      g_print ("echo: %.*s\n", (int) length, self->incoming->str);
      g_string_erase (self->incoming, 0, (gssize) length + 1);
    }
}

static void
echo_client_on_close (CAsyncSocket *socket, int error_code)
{
  EchoClient *self = ECHO_CLIENT (socket);

  if (self->incoming->len > 0)
    g_print ("echo: %s\n", self->incoming->str);
  g_print ("server closed the connection%s%s\n", error_code ? ": " : "",
           error_code ? g_strerror (error_code) : "");
  finish (self, error_code == 0 && self->shut ? 0 : 1);
}

static void
echo_client_finalize (GObject *object)
{
  EchoClient *self = ECHO_CLIENT (object);

  g_byte_array_unref (self->outgoing);
  g_string_free (self->incoming, TRUE);
  G_OBJECT_CLASS (echo_client_parent_class)->finalize (object);
}

static void
echo_client_class_init (EchoClientClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = echo_client_finalize;
  socket_class->on_connect = echo_client_on_connect;
  socket_class->on_send = echo_client_on_send;
  socket_class->on_receive = echo_client_on_receive;
  socket_class->on_close = echo_client_on_close;
}

static void
echo_client_init (EchoClient *self)
{
  self->outgoing = g_byte_array_new ();
  self->incoming = g_string_new (NULL);
}

/* Standard input is read from the main loop too, so the client never freezes. */
static gboolean
on_stdin (GIOChannel *channel, GIOCondition condition, gpointer data)
{
  EchoClient *self = data;
  g_autofree char *line = NULL;
  gsize terminator = 0;
  GIOStatus status = g_io_channel_read_line (channel, &line, NULL, &terminator, NULL);

  if (status == G_IO_STATUS_NORMAL)
    {
      line[terminator] = '\0';
      queue_line (self, line);
    }
  else if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  else
    self->input_done = TRUE;
  if (c_async_socket_is_connected (C_ASYNC_SOCKET (self)))
    pump (self);
  return self->input_done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  int port = 7777;
  g_autofree char *host = NULL; /* GOption replaces, without freeing, what is here */
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Server address or name", "H" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Server port", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("[MESSAGE…] - talk to an echo server");
  g_autoptr (GError) error = NULL;
  g_autoptr (EchoClient) client = NULL;
  g_autoptr (GIOChannel) input = NULL;
  int status;

  g_option_context_add_main_entries (options, entries, NULL);
  g_option_context_set_help_enabled (options, TRUE);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  client = g_object_new (ECHO_TYPE_CLIENT, NULL);
  client->loop = g_main_loop_new (NULL, FALSE);
  if (argc > 1)
    {
      for (int i = 1; i < argc; i++)
        queue_line (client, argv[i]);
      client->input_done = TRUE;
    }
  else
    {
      input = g_io_channel_unix_new (0);
      g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, client);
    }

  if (!c_async_socket_create (C_ASYNC_SOCKET (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || port <= 0 || port > 65535
      || !c_async_socket_connect (C_ASYNC_SOCKET (client), host ? host : "127.0.0.1", (guint) port,
                                  &error))
    {
      g_printerr ("echo-client: %s\n", error ? error->message : "port out of range");
      return 1;
    }
  g_main_loop_run (client->loop);
  status = client->status;
  g_main_loop_unref (client->loop);
  return status;
}

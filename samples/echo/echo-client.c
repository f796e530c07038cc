/* echo-client.c: sends lines to an echo server and prints what comes back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-client [--host H] [--port N] [--records] [MESSAGE...]
 *               [--tls [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE]]
 *
 * Connects (the host may be a name, resolved without blocking the main loop), sends each
 * MESSAGE as a line, or the lines of standard input when none are given, prints each echo
 * as it arrives, then half-closes and exits once the server has closed too.
 *
 * With --records each message is one record (afxsock's record path, for `echo-server
 * --records`): the socket frames, queues and reassembles them, so the client only says
 * what to send and hears about whole echoes. Standard input is read only while the
 * socket's write queue has room, so a slow server slows the reading down instead of
 * growing memory; the client exits once every record has come back.
 *
 * With --tls the connection is TLS (sample-tls.h): the server's certificate is verified
 * against the system's CAs and --tls-ca's, and must be for the host given with --host.
 * "connected" is printed once the handshake is over; a failed one exits with its reason
 * ("certificate for 'localhost' is signed by an unknown CA").
 */
#include <afxsock.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "sample-options.h"
#include "sample-tls.h"

#define ECHO_TYPE_CLIENT (echo_client_get_type ())
G_DECLARE_FINAL_TYPE (EchoClient, echo_client, ECHO, CLIENT, CAsyncSocket)

struct _EchoClient
{
  CAsyncSocket parent_instance;
  GByteArray *outgoing; /* byte mode: bytes not yet taken by the kernel */
  GString *incoming;    /* byte mode: bytes of an unfinished echoed line */
  GQueue lines;         /* record mode: messages not yet taken by the write queue (GBytes) */
  guint sent, echoed;   /* record mode: records sent and come back */
  guint queue_full;     /* record mode: times the write queue was at its high-water mark */
  gboolean input_done;  /* everything to send has been queued */
  gboolean shut;
  GIOChannel *input;
  guint input_watch;
  int status;
  GMainLoop *loop;
};

G_DEFINE_FINAL_TYPE (EchoClient, echo_client, C_TYPE_ASYNC_SOCKET)

static gboolean use_records;

static gboolean on_stdin (GIOChannel *channel, GIOCondition condition, gpointer data);

static void
finish (EchoClient *self, int status)
{
  self->status = status;
  g_main_loop_quit (self->loop);
}

/* Standard input is read from the main loop too, so the client never freezes. */
static void
watch_input (EchoClient *self, gboolean watch)
{
  if (watch && self->input_watch == 0 && self->input != NULL && !self->input_done)
    self->input_watch = g_io_add_watch (self->input, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, self);
  else if (!watch && self->input_watch != 0)
    {
      g_source_remove (self->input_watch);
      self->input_watch = 0;
    }
}

/* Byte mode: send what the kernel takes; on_send resumes after a would-block. */
static void
send_bytes (EchoClient *self)
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

/* Record mode: done when every record sent has come back. */
static void
check_all_echoed (EchoClient *self)
{
  if (!self->input_done || !g_queue_is_empty (&self->lines) || self->echoed < self->sent)
    return;
  g_print ("%u records echoed\n", self->echoed);
  if (self->queue_full > 0)
    g_print ("waited %u times for the write queue to drain\n", self->queue_full);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  finish (self, 0);
}

/* A full write queue refuses a record like a send that would block: wait for on_drain. */
static gboolean
is_queue_full (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* Record mode: hand the messages to the socket's write queue until it is full. */
static void
send_records (EchoClient *self)
{
  while (!g_queue_is_empty (&self->lines))
    {
      g_autoptr (GError) error = NULL;

      if (!c_async_socket_send_record (C_ASYNC_SOCKET (self), g_queue_peek_head (&self->lines),
                                       &error))
        {
          if (!is_queue_full (error))
            {
              g_printerr ("echo-client: %s\n", error->message);
              finish (self, 1);
              return;
            }
          /* At the high-water mark: stop reading input until on_drain says the queue is
           * back under the low-water mark. */
          self->queue_full++;
          watch_input (self, FALSE);
          return;
        }
      g_bytes_unref (g_queue_pop_head (&self->lines));
      self->sent++;
    }
  watch_input (self, TRUE);
  check_all_echoed (self);
}

static void
pump (EchoClient *self)
{
  if (use_records)
    send_records (self);
  else
    send_bytes (self);
}

static void
queue_line (EchoClient *self, const char *line)
{
  if (use_records)
    {
      g_queue_push_tail (&self->lines, g_bytes_new (line, strlen (line)));
      return;
    }
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
      g_printerr ("echo-client: connect: %s\n", sample_failure_message (socket, error_code));
      finish (self, 1);
      return;
    }
  /* A TLS server that refuses the client's certificate may already have hung up. */
  if (c_async_socket_get_peer_name (socket, &peer, &port, NULL))
    g_print ("connected to %s port %u\n", peer, port);
  else
    g_print ("connected\n");
}

static void
echo_client_on_send (CAsyncSocket *socket, int error_code)
{
  pump (ECHO_CLIENT (socket));
}

static void
echo_client_on_drain (CAsyncSocket *socket)
{
  pump (ECHO_CLIENT (socket));
}

/* The echo is printed as it came, whatever its bytes: g_print would convert it to the
 * locale's character set. */
static void
print_echo (const char *data, gsize length)
{
  fputs ("echo: ", stdout);
  if (length > 0) /* an empty record's GBytes has no data pointer */
    fwrite (data, 1, length, stdout);
  fputc ('\n', stdout);
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
      print_echo (self->incoming->str, length);
      g_string_erase (self->incoming, 0, (gssize) length + 1);
    }
}

static void
echo_client_on_record (CAsyncSocket *socket, GBytes *record)
{
  EchoClient *self = ECHO_CLIENT (socket);
  gsize size;
  const char *text = g_bytes_get_data (record, &size);

  print_echo (text, size);
  self->echoed++;
  check_all_echoed (self);
}

static void
echo_client_on_close (CAsyncSocket *socket, int error_code)
{
  EchoClient *self = ECHO_CLIENT (socket);

  if (self->incoming->len > 0)
    print_echo (self->incoming->str, self->incoming->len);
  g_print ("server closed the connection%s%s\n", error_code ? ": " : "",
           error_code ? sample_failure_message (socket, error_code) : "");
  /* In record mode the client closes first, once every echo is back. */
  finish (self, error_code == 0 && self->shut && !use_records ? 0 : 1);
}

static void
echo_client_finalize (GObject *object)
{
  EchoClient *self = ECHO_CLIENT (object);

  watch_input (self, FALSE);
  g_clear_pointer (&self->input, g_io_channel_unref);
  g_byte_array_unref (self->outgoing);
  g_string_free (self->incoming, TRUE);
  g_queue_clear_full (&self->lines, (GDestroyNotify) g_bytes_unref);
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
  socket_class->on_record = echo_client_on_record;
  socket_class->on_drain = echo_client_on_drain;
}

static void
echo_client_init (EchoClient *self)
{
  self->outgoing = g_byte_array_new ();
  self->incoming = g_string_new (NULL);
  g_queue_init (&self->lines);
}

static gboolean
on_stdin (GIOChannel *channel, GIOCondition condition, gpointer data)
{
  EchoClient *self = data;
  GIOStatus status = G_IO_STATUS_NORMAL;

  /* Take the whole lines that are there; in record mode, only while the write queue takes
   * them (send_records stops watching the input when it is full). */
  while (status == G_IO_STATUS_NORMAL && self->input_watch != 0)
    {
      g_autofree char *line = NULL;
      gsize terminator = 0;

      status = g_io_channel_read_line (channel, &line, NULL, &terminator, NULL);
      if (status == G_IO_STATUS_NORMAL)
        {
          line[terminator] = '\0';
          queue_line (self, line);
        }
      else if (status != G_IO_STATUS_AGAIN)
        {
          self->input_done = TRUE;
          watch_input (self, FALSE);
        }
      if (c_async_socket_is_connected (C_ASYNC_SOCKET (self)))
        pump (self);
      else if (use_records)
        watch_input (self, FALSE); /* the first on_send sends this line and reads on */
    }
  return self->input_watch != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  int port = 7777;
  g_autofree char *host = NULL; /* GOption replaces, without freeing, what is here */
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Server address or name", "H" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Server port", "N" },
    { "records", 'r', 0, G_OPTION_ARG_NONE, &use_records,
      "Send each message as a length-prefixed record", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("[MESSAGE…] - talk to an echo server");
  g_autoptr (GError) error = NULL;
  g_autoptr (EchoClient) client = NULL;
  g_auto (SampleTls) tls = { 0 };
  int status;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  sample_tls_add_client_options (options, &tls);
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
      client->input = g_io_channel_unix_new (0);
      g_io_channel_set_encoding (client->input, NULL, NULL); /* any bytes, not just UTF-8 */
      g_io_channel_set_flags (client->input, G_IO_FLAG_NONBLOCK, NULL);
      watch_input (client, TRUE);
    }

  if (!c_async_socket_create (C_ASYNC_SOCKET (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || !c_async_socket_set_record_mode (C_ASYNC_SOCKET (client), use_records, &error) || port <= 0
      || port > 65535
      || !sample_tls_set_up_client (&tls, C_ASYNC_SOCKET (client), host ? host : "127.0.0.1",
                                    &error)
      || !c_async_socket_connect (C_ASYNC_SOCKET (client), host ? host : "127.0.0.1", (guint) port,
                                  &error))
    {
      g_printerr ("echo-client: %s\n", error ? error->message : "port out of range");
      status = 1;
    }
  else
    {
      g_main_loop_run (client->loop);
      status = client->status;
    }
  g_main_loop_unref (client->loop);
  return status;
}

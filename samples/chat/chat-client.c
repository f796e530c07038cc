/* chat-client.c: a terminal chat client, in the tradition of MFC's CHATTER
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   chat-client [--host H] [--port N] [--name NAME] [--mfc [--codepage CP]]
 *               [--say TEXT] [--after N] [--say TEXT]... [--wait-for N]
 *               [--tls [--tls-ca FILE] [--tls-certificate FILE --tls-key FILE]]
 *
 * Connects to chat-server (the host may be a name, resolved without freezing the loop),
 * sends each line typed on standard input as a message "NAME: line", and prints the
 * conversation as the server relays it, one "name: text" per line; notes of its own start
 * with "***". End of input leaves the conversation; the client exits when the server
 * closes it too.
 *
 * Scripted mode, for demos and tests: --say sends a line instead of reading standard input;
 * each --say waits until the client has seen as many messages as the last --after before
 * it (0 at first), so that several clients can take turns. --wait-for N leaves once N
 * messages have been seen and every line said; without it the client stays until the
 * server closes.
 *
 * As in CHATTER, the socket is a CSocket with a CSocketFile and a loading and a storing
 * CArchive; on_receive reads messages while the archive's buffer holds more. Standard
 * input is read asynchronously from the main loop, so the client never freezes waiting on
 * either side.
 *
 * With --mfc --codepage=CP949 (or another Windows code page) the strings travel as an ANSI
 * MFC CHATTER built for that code page writes and reads them (c_archive_set_code_page()); a
 * line with a character the code page lacks is not sent, and the client says why.
 *
 * With --tls the conversation is encrypted (sample-tls.h): the server's certificate is
 * verified against the system's CAs and --tls-ca's, and must be for the host of --host. The
 * CSocket's blocking connect returns once the handshake is over, or fails with its reason.
 */
#include "chat-message.h"
#include "sample-options.h"
#include "sample-tls.h"

#include <gio/gunixinputstream.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

/* How long the client waits, after saying goodbye, for the server to hang up. */
#define GOODBYE_GRACE_MS 2000

typedef struct
{
  guint after;
  char *text;
} ScriptLine;

static struct
{
  char *host;
  int port;
  char *name;
  gboolean mfc;
  char *codepage;
  int wait_for;
  int timeout_ms;
  guint after;
  GArray *script; /* ScriptLine */
  SampleTls tls;
} options = { NULL, 7778, NULL, FALSE, NULL, 0, 10000, 0, NULL, { 0 } };

#define CHAT_TYPE_CLIENT (chat_client_get_type ())
G_DECLARE_FINAL_TYPE (ChatClient, chat_client, CHAT, CLIENT, CSocket)

struct _ChatClient
{
  CSocket parent_instance;
  CSocketFile *file;
  CArchive *in;
  CArchive *out;
  guint seen;      /* conversation lines received */
  guint next_line; /* of the script */
  GQueue pending;  /* lines typed while the socket was busy in a blocking call */
  GDataInputStream *input;
  GCancellable *input_cancel;
  gboolean reading; /* a read of standard input is under way */
  gboolean leaving; /* goodbye said, waiting for the server to hang up */
  guint goodbye_timer;
  gboolean done;
  int status;
  GMainLoop *loop;
};

G_DEFINE_FINAL_TYPE (ChatClient, chat_client, C_TYPE_SOCKET)

static void read_next_line (ChatClient *self);

static void
finish (ChatClient *self, int status)
{
  if (self->done)
    return;
  self->done = TRUE;
  self->status = status;
  g_clear_handle_id (&self->goodbye_timer, g_source_remove);
  g_cancellable_cancel (self->input_cancel);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  g_main_loop_quit (self->loop);
}

static void
fail (ChatClient *self, const char *doing, const GError *error)
{
  g_print ("*** %s: %s\n", doing, error->message);
  finish (self, 1);
}

/* Sends one message now (CHATTER's SendMsg); FALSE if the connection failed. */
static gboolean
send_message (ChatClient *self, ChatMessage *message)
{
  g_autoptr (GError) error = NULL;

  chat_message_serialize (message, self->out);
  if (c_archive_flush (self->out, &error))
    return TRUE;
  fail (self, "sending", error);
  return FALSE;
}

static void
say_now (ChatClient *self, const char *line)
{
  g_autofree char *text = g_strdup_printf ("%s: %s", options.name, line);
  g_autoptr (ChatMessage) message = chat_message_new (FALSE, text);
  g_autoptr (GError) error = NULL;

  /* Half the limit, since MFC's format may need two bytes per character. */
  if (strlen (text) > CHAT_MAX_TEXT_BYTES / 2)
    {
      g_print ("*** line too long, not sent\n");
      return;
    }
  if (!chat_text_fits (text, options.codepage, &error))
    {
      g_print ("*** not sent: %s\n", error->message);
      return;
    }
  send_message (self, message);
}

/* A line typed while the socket is inside a blocking call (the main loop runs meanwhile)
 * waits: a second blocking call on the same socket would fail. */
static void
say (ChatClient *self, const char *line)
{
  if (self->done || self->leaving)
    return;
  if (c_socket_is_blocking (C_SOCKET (self)) || !g_queue_is_empty (&self->pending))
    g_queue_push_tail (&self->pending, g_strdup (line));
  else
    say_now (self, line);
}

static void
say_pending (ChatClient *self)
{
  char *line;

  while (!self->done && !self->leaving && (line = g_queue_pop_head (&self->pending)) != NULL)
    {
      say_now (self, line);
      g_free (line);
    }
}

static gboolean
goodbye_over (gpointer data)
{
  ChatClient *self = data;

  self->goodbye_timer = 0;
  finish (self, 0);
  return G_SOURCE_REMOVE;
}

/* Half-closes and waits for the server to hang up (or for GOODBYE_GRACE_MS): closing while
 * bytes from the server are still unread, or on their way (over TLS, the close_notify that
 * follows the server's goodbye), would reset the connection, and the goodbye could be lost. */
static void
wait_for_hang_up (ChatClient *self)
{
  self->leaving = TRUE;
  c_async_socket_shut_down (C_ASYNC_SOCKET (self), C_SHUTDOWN_SENDS, NULL);
  self->goodbye_timer = g_timeout_add (GOODBYE_GRACE_MS, goodbye_over, self);
}

/* CHATTER's disconnect: a message with the close flag, then wait_for_hang_up. */
static void
leave (ChatClient *self)
{
  g_autofree char *text = g_strdup_printf ("%s has left", options.name);
  g_autoptr (ChatMessage) message = chat_message_new (TRUE, text);

  if (self->done || self->leaving)
    return;
  say_pending (self);
  if (self->done || !send_message (self, message))
    return;
  g_print ("*** left the conversation\n");
  wait_for_hang_up (self);
}

static void
follow_script (ChatClient *self)
{
  while (!self->done && !self->leaving && self->next_line < options.script->len)
    {
      ScriptLine *line = &g_array_index (options.script, ScriptLine, self->next_line);
      if (line->after > self->seen)
        return;
      self->next_line++;
      say (self, line->text);
    }
  if (!self->done && !self->leaving && options.wait_for > 0
      && self->seen >= (guint) options.wait_for && self->next_line == options.script->len)
    leave (self);
}

/* One message from the server: its lines are the conversation we had not seen yet. */
static void
show_message (ChatClient *self, ChatMessage *message)
{
  for (guint i = 0; i < message->lines->len; i++)
    g_print ("%s\n", (char *) g_ptr_array_index (message->lines, i));
  self->seen += message->lines->len;
  if (message->close)
    {
      g_print ("*** the server closed the conversation: %s\n", message->text);
      wait_for_hang_up (self);
    }
}

/* CHATTER's ProcessPendingRead: read messages while the archive holds more. */
static void
chat_client_on_receive (CAsyncSocket *socket, int error_code)
{
  ChatClient *self = CHAT_CLIENT (socket);

  if (self->leaving)
    {
      /* What the server still sends is no longer ours to show. */
      char buffer[4096];
      c_async_socket_receive (socket, buffer, sizeof buffer, 0, NULL);
      return;
    }
  do
    {
      g_autoptr (ChatMessage) message = chat_message_new (FALSE, NULL);
      g_autoptr (GError) error = NULL;

      chat_message_serialize (message, self->in);
      if (!c_archive_check (self->in, &error))
        {
          fail (self, "receiving", error);
          return;
        }
      show_message (self, message);
    }
  while (!self->done && !self->leaving && !c_archive_is_buffer_empty (self->in));
  say_pending (self);
  follow_script (self);
}

static void
chat_client_on_close (CAsyncSocket *socket, int error_code)
{
  ChatClient *self = CHAT_CLIENT (socket);

  if (self->leaving)
    {
      finish (self, 0);
      return;
    }
  g_print ("*** the server hung up without closing the conversation%s%s\n", error_code ? ": " : "",
           error_code ? sample_failure_message (socket, error_code) : "");
  finish (self, 1);
}

static void
on_line (GObject *source, GAsyncResult *result, gpointer data)
{
  ChatClient *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line
      = g_data_input_stream_read_line_finish_utf8 (self->input, result, NULL, &error);

  self->reading = FALSE;
  if (self->done)
    return;
  if (error != NULL)
    fail (self, "reading standard input", error);
  else if (line == NULL)
    leave (self); /* end of input */
  else
    {
      if (line[0] != '\0')
        say (self, line);
      read_next_line (self);
    }
}

static void
read_next_line (ChatClient *self)
{
  if (self->done)
    return;
  self->reading = TRUE;
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->input_cancel, on_line,
                                       self);
}

static void
chat_client_dispose (GObject *object)
{
  ChatClient *self = CHAT_CLIENT (object);

  g_clear_object (&self->in);
  g_clear_object (&self->out);
  g_clear_object (&self->file);
  g_clear_object (&self->input);
  g_clear_object (&self->input_cancel);
  g_queue_clear_full (&self->pending, g_free);
  G_OBJECT_CLASS (chat_client_parent_class)->dispose (object);
}

static void
chat_client_class_init (ChatClientClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = chat_client_dispose;
  C_ASYNC_SOCKET_CLASS (klass)->on_receive = chat_client_on_receive;
  C_ASYNC_SOCKET_CLASS (klass)->on_close = chat_client_on_close;
}

static void
chat_client_init (ChatClient *self)
{
  self->input_cancel = g_cancellable_new ();
}

/* After connecting, as CHATTER's ConnectSocket: the file and its two archives. */
static void
chat_client_open (ChatClient *self)
{
  CArchiveFormat format = chat_format (options.mfc);

  self->file = c_socket_file_new (C_SOCKET (self));
  self->in = c_archive_new_load_from_stream (
      g_io_stream_get_input_stream (G_IO_STREAM (self->file)), format, 0);
  self->out = c_archive_new_store_to_stream (
      g_io_stream_get_output_stream (G_IO_STREAM (self->file)), format, 0);
  chat_message_set_limits (self->in);
  /* Checked by parse_options: these cannot fail. */
  c_archive_set_code_page (self->in, options.codepage, NULL);
  c_archive_set_code_page (self->out, options.codepage, NULL);
}

static void
start_reading_input (ChatClient *self)
{
  GInputStream *stdin_stream = g_unix_input_stream_new (0, FALSE);

  self->input = g_data_input_stream_new (stdin_stream);
  g_object_unref (stdin_stream);
  read_next_line (self);
}

/* --after and --say are handled in command-line order, so each --say takes the --after
 * before it. */
static gboolean
on_after (const char *option, const char *value, gpointer data, GError **error)
{
  guint64 after;

  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT, &after, error))
    return FALSE;
  options.after = (guint) after;
  return TRUE;
}

static gboolean
on_say (const char *option, const char *value, gpointer data, GError **error)
{
  ScriptLine line = { options.after, g_strdup (value) };

  g_array_append_val (options.script, line);
  return TRUE;
}

static void
clear_script_line (gpointer data)
{
  g_free (((ScriptLine *) data)->text);
}

static gboolean
parse_options (int *argc, char ***argv)
{
  GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &options.host, "Server (default: localhost)", "H" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &options.port, "Server port (default: 7778)", "N" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &options.name, "Your name (default: your login)",
      "NAME" },
    { "mfc", 0, 0, G_OPTION_ARG_NONE, &options.mfc,
      "Use MFC's archive format (default: network order)", NULL },
    { "codepage", 0, 0, G_OPTION_ARG_STRING, &options.codepage,
      "With --mfc: strings in the Windows code page CP of an ANSI MFC peer (CP1252, CP949, "
      "CP932, CP936, ...; default: ASCII, other text as UTF-16)",
      "CP" },
    { "say", 's', 0, G_OPTION_ARG_CALLBACK, on_say, "Say TEXT instead of reading input", "TEXT" },
    { "after", 'a', 0, G_OPTION_ARG_CALLBACK, on_after,
      "The following --say lines wait until N messages were seen", "N" },
    { "wait-for", 'w', 0, G_OPTION_ARG_INT, &options.wait_for,
      "Leave after seeing N messages and saying every line", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &options.timeout_ms,
      "Milliseconds a blocking call may take (default 10000)", "MS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- chat with a chat-server");
  g_autoptr (GError) error = NULL;

  options.script = g_array_new (FALSE, FALSE, sizeof (ScriptLine));
  g_array_set_clear_func (options.script, clear_script_line);
  g_option_context_add_main_entries (context, entries, NULL);
  sample_add_version_option (context);
  sample_tls_add_client_options (context, &options.tls);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("chat-client: %s\n", error->message);
      return FALSE;
    }
  if (options.port <= 0 || options.port > 65535 || options.wait_for < 0 || options.timeout_ms < 0)
    {
      g_printerr ("chat-client: a port, count or timeout is out of range\n");
      return FALSE;
    }
  if (!chat_check_code_page (options.codepage, options.mfc, &error))
    {
      g_printerr ("chat-client: %s\n", error->message);
      return FALSE;
    }
  if (options.host == NULL)
    options.host = g_strdup ("localhost");
  if (options.name == NULL)
    options.name = g_strdup (g_get_user_name ());
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (ChatClient) client = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (!parse_options (&argc, &argv))
    return 2;

  client = g_object_new (CHAT_TYPE_CLIENT, NULL);
  client->loop = g_main_loop_new (NULL, FALSE);
  c_socket_set_timeout (C_SOCKET (client), (guint) options.timeout_ms);
  if (!c_async_socket_create (C_ASYNC_SOCKET (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error)
      || !sample_tls_set_up_client (&options.tls, C_ASYNC_SOCKET (client), options.host, &error)
      || !c_socket_connect (C_SOCKET (client), options.host, (guint) options.port, &error))
    {
      g_printerr ("chat-client: %s\n", error->message);
      return 1;
    }
  g_print ("*** connected to %s port %d as %s%s%s%s\n", options.host, options.port, options.name,
           options.codepage ? ", code page " : "", options.codepage ? options.codepage : "",
           options.tls.enabled ? ", over TLS" : "");
  chat_client_open (client);
  if (options.script->len == 0 && options.wait_for == 0)
    start_reading_input (client);
  follow_script (client);
  if (!client->done)
    g_main_loop_run (client->loop);
  /* A cancelled read of standard input still reports back; let it, before the client goes. */
  while (client->reading)
    g_main_context_iteration (NULL, TRUE);

  status = client->status;
  g_clear_pointer (&client->loop, g_main_loop_unref);
  g_array_unref (options.script);
  g_free (options.host);
  g_free (options.name);
  g_free (options.codepage);
  sample_tls_clear (&options.tls);
  return status;
}

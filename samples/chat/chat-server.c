/* chat-server.c: the chat server, in the tradition of MFC's CHATSRVR
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   chat-server [--port N] [--address A] [--mfc] [--exit-after N] [--timeout MS]
 *
 * Keeps the conversation and relays to every client what it has not seen yet; a client that
 * joins late gets the whole history first. Each client is a CSocket with a CSocketFile and
 * two CArchives over it, one loading and one storing, exactly as in CHATSRVR; messages are
 * chat-message.h's records, in network byte order or, with --mfc, in MFC's own format.
 *
 * On SIGINT or SIGTERM, or after --exit-after messages, the server tells every client
 * with a message whose close flag is set, waits briefly for them to hang up, and exits.
 *
 * A client that sends something that is not a message (garbage, a record cut short, a
 * string claiming gigabytes) is disconnected with the archive's error as the reason, and
 * the others go on chatting. Because a CSocket blocks while a record is incomplete, each
 * message must arrive (and each relay go out) within --timeout milliseconds, so that a
 * client that stops in the middle of a record cannot stall the others for longer.
 *
 * It prints "listening on PORT" once ready, so scripts can start it with --port 0.
 */
#include "chat-message.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

/* How long the server waits, after telling the clients it is closing, for them to hang up. */
#define GOODBYE_GRACE_MS 2000

static struct
{
  CArchiveFormat format;
  guint timeout_ms;
  guint exit_after; /* 0: serve until a signal */
  GPtrArray *history;
  GPtrArray *connections; /* ChatConnection, owned */
  gboolean stopping;      /* no more relaying: the loop is ending or has ended */
  GMainLoop *loop;
} server;

static void stop_serving (const char *why);

/* One client: MFC's CClientSocket. */

#define CHAT_TYPE_CONNECTION (chat_connection_get_type ())
G_DECLARE_FINAL_TYPE (ChatConnection, chat_connection, CHAT, CONNECTION, CSocket)

struct _ChatConnection
{
  CSocket parent_instance;
  guint id;
  CSocketFile *file;
  CArchive *in;
  CArchive *out;
  guint seen; /* history lines this client has been sent */
  GCancellable *deadline;
  guint deadline_source;
  gboolean deadline_passed;
  gboolean gone;
};

G_DEFINE_FINAL_TYPE (ChatConnection, chat_connection, C_TYPE_SOCKET)

static gboolean
deadline_passed (gpointer data)
{
  ChatConnection *self = data;

  self->deadline_source = 0;
  self->deadline_passed = TRUE;
  g_cancellable_cancel (self->deadline);
  return G_SOURCE_REMOVE;
}

/* Timers keep running while a CSocket blocks, so a timer can cancel a blocking call that
 * takes too long: here, all the receives of one message or all the sends of one relay. */
static void
arm_deadline (ChatConnection *self)
{
  g_cancellable_reset (self->deadline);
  self->deadline_passed = FALSE;
  self->deadline_source = g_timeout_add (server.timeout_ms, deadline_passed, self);
}

static void
disarm_deadline (ChatConnection *self)
{
  g_clear_handle_id (&self->deadline_source, g_source_remove);
}

/* Ends the connection: logged, closed, and forgotten by the server. */
static void
drop (ChatConnection *self, const char *why)
{
  if (self->gone)
    return;
  self->gone = TRUE;
  disarm_deadline (self);
  g_print ("client %u %s\n", self->id, why);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  g_ptr_array_remove (server.connections, self);
  if (server.stopping && server.connections->len == 0)
    g_main_loop_quit (server.loop);
}

/* A client that broke the protocol: the reason goes to the log as a warning. */
static void
reject (ChatConnection *self, const char *doing, const GError *error)
{
  g_autofree char *why = NULL;

  if (self->deadline_passed)
    why = g_strdup_printf ("%s: nothing complete within %u ms (%s)", doing, server.timeout_ms,
                           error->message);
  else
    why = g_strdup_printf ("%s: %s", doing, error->message);
  g_warning ("client %u disconnected: %s", self->id, why);
  drop (self, "disconnected");
}

/* Sends one message; FALSE (and the client is dropped) if it could not go out in time. */
static gboolean
send_message (ChatConnection *self, ChatMessage *message)
{
  g_autoptr (GError) error = NULL;

  arm_deadline (self);
  chat_message_serialize (message, self->out);
  c_archive_flush (self->out, &error);
  disarm_deadline (self);
  if (error != NULL)
    reject (self, "sending", error);
  return error == NULL;
}

/* MFC's AssembleMsg + SendMsg: the lines this client has not seen, in messages of at most
 * CHAT_MAX_LINES lines. */
static gboolean
catch_up (ChatConnection *self, gboolean close, const char *text)
{
  do
    {
      guint end = MIN (server.history->len, self->seen + CHAT_MAX_LINES);
      gboolean last = end == server.history->len;
      g_autoptr (ChatMessage) message = chat_message_new (close && last, last ? text : NULL);

      for (; self->seen < end; self->seen++)
        chat_message_add_line (message, g_ptr_array_index (server.history, self->seen));
      if ((message->lines->len > 0 || message->close) && !send_message (self, message))
        return FALSE;
    }
  while (self->seen < server.history->len);
  return TRUE;
}

/* MFC's UpdateClients. A relay may drop a client, so it walks a copy of the list. */
static void
update_clients (void)
{
  g_autoptr (GPtrArray) clients
      = g_ptr_array_copy (server.connections, (GCopyFunc) g_object_ref, NULL);

  g_ptr_array_set_free_func (clients, g_object_unref);
  for (guint i = 0; i < clients->len; i++)
    {
      ChatConnection *client = g_ptr_array_index (clients, i);
      if (!client->gone)
        catch_up (client, FALSE, NULL);
    }
}

/* One message from a client: what it says joins the history and goes to everyone. */
static void
handle_message (ChatConnection *self, ChatMessage *message)
{
  if (message->close)
    {
      drop (self, "left");
      return;
    }
  g_ptr_array_add (server.history, g_strdup (message->text));
  g_print ("message %u from client %u: %s\n", server.history->len, self->id, message->text);
  update_clients ();
  if (server.exit_after > 0 && server.history->len >= server.exit_after)
    stop_serving ("the conversation is over");
}

/* MFC's ProcessPendingRead: read messages while the archive holds more. */
static void
chat_connection_on_receive (CAsyncSocket *socket, int error_code)
{
  ChatConnection *self = CHAT_CONNECTION (socket);

  do
    {
      g_autoptr (ChatMessage) message = chat_message_new (FALSE, NULL);
      g_autoptr (GError) error = NULL;

      arm_deadline (self);
      chat_message_serialize (message, self->in);
      disarm_deadline (self);
      if (!c_archive_check (self->in, &error))
        {
          reject (self, "receiving", error);
          return;
        }
      /* While stopping, what clients still say is read and dropped. */
      if (!server.stopping || message->close)
        handle_message (self, message);
    }
  while (!self->gone && !c_archive_is_buffer_empty (self->in));
}

static void
chat_connection_on_close (CAsyncSocket *socket, int error_code)
{
  ChatConnection *self = CHAT_CONNECTION (socket);
  g_autofree char *why = NULL;

  if (error_code != 0)
    why = g_strdup_printf ("lost (%s)", g_strerror (error_code));
  drop (self, why ? why : server.stopping ? "hung up" : "hung up without saying goodbye");
}

static void
chat_connection_dispose (GObject *object)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  disarm_deadline (self);
  g_clear_object (&self->in);
  g_clear_object (&self->out);
  g_clear_object (&self->file);
  g_clear_object (&self->deadline);
  G_OBJECT_CLASS (chat_connection_parent_class)->dispose (object);
}

static void
chat_connection_class_init (ChatConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = chat_connection_dispose;
  socket_class->on_receive = chat_connection_on_receive;
  socket_class->on_close = chat_connection_on_close;
}

static void
chat_connection_init (ChatConnection *self)
{
  self->deadline = g_cancellable_new ();
}

/* After the accept, as CHATSRVR's CClientSocket::Init: the file and its two archives. */
static void
chat_connection_open (ChatConnection *self)
{
  self->file = c_socket_file_new (C_SOCKET (self));
  self->in = c_archive_new_load_from_stream (
      g_io_stream_get_input_stream (G_IO_STREAM (self->file)), server.format, 0);
  self->out = c_archive_new_store_to_stream (
      g_io_stream_get_output_stream (G_IO_STREAM (self->file)), server.format, 0);
  chat_message_set_limits (self->in);
  c_socket_set_cancellable (C_SOCKET (self), self->deadline);
}

/* The listener: MFC's CListeningSocket. */

#define CHAT_TYPE_LISTENER (chat_listener_get_type ())
G_DECLARE_FINAL_TYPE (ChatListener, chat_listener, CHAT, LISTENER, CAsyncSocket)

struct _ChatListener
{
  CAsyncSocket parent_instance;
  guint next_id;
};

G_DEFINE_FINAL_TYPE (ChatListener, chat_listener, C_TYPE_ASYNC_SOCKET)

static void
chat_listener_on_accept (CAsyncSocket *socket, int error_code)
{
  ChatListener *self = CHAT_LISTENER (socket);
  ChatConnection *client = g_object_new (CHAT_TYPE_CONNECTION, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *peer = NULL;
  guint port = 0;

  if (!c_async_socket_accept (socket, C_ASYNC_SOCKET (client), NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_warning ("accept: %s", error->message);
      g_object_unref (client);
      return;
    }
  client->id = ++self->next_id;
  chat_connection_open (client);
  g_ptr_array_add (server.connections, client);
  c_async_socket_get_peer_name (C_ASYNC_SOCKET (client), &peer, &port, NULL);
  g_print ("client %u joined from %s port %u\n", client->id, peer, port);
  /* The late joiner's history; sending may fail and drop the client, so keep it alive. */
  g_object_ref (client);
  catch_up (client, FALSE, NULL);
  g_object_unref (client);
}

static void
chat_listener_class_init (ChatListenerClass *klass)
{
  C_ASYNC_SOCKET_CLASS (klass)->on_accept = chat_listener_on_accept;
}

static void
chat_listener_init (ChatListener *self)
{
}

/* Shutting down. The loop only stops here; the goodbyes are sent once it has returned, so
 * that they never run inside another socket's blocking call. */

static void
stop_serving (const char *why)
{
  if (server.stopping)
    return;
  server.stopping = TRUE;
  g_print ("shutting down: %s\n", why);
  g_main_loop_quit (server.loop);
}

static gboolean
on_signal (gpointer data)
{
  stop_serving (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
grace_over (gpointer data)
{
  *(guint *) data = 0;
  g_main_loop_quit (server.loop);
  return G_SOURCE_REMOVE;
}

/* Tells every client, with the close flag, and half-closes; then lets the loop run until
 * they have hung up (or the grace period is over), so that no client's last words are
 * still unread when the sockets close (which would reset the connection). */
static void
say_goodbye (void)
{
  g_autoptr (GPtrArray) clients
      = g_ptr_array_copy (server.connections, (GCopyFunc) g_object_ref, NULL);
  guint told = 0;

  g_ptr_array_set_free_func (clients, g_object_unref);
  for (guint i = 0; i < clients->len; i++)
    {
      ChatConnection *client = g_ptr_array_index (clients, i);

      if (!client->gone && catch_up (client, TRUE, "the server is shutting down"))
        {
          c_async_socket_shut_down (C_ASYNC_SOCKET (client), C_SHUTDOWN_SENDS, NULL);
          told++;
        }
    }
  g_print ("told %u client%s\n", told, told == 1 ? "" : "s");
  if (server.connections->len > 0)
    {
      guint grace = 0;

      grace = g_timeout_add (GOODBYE_GRACE_MS, grace_over, &grace);
      g_main_loop_run (server.loop);
      g_clear_handle_id (&grace, g_source_remove);
    }
  while (server.connections->len > 0)
    drop (g_ptr_array_index (server.connections, 0), "did not hang up in time");
}

static gboolean
parse_options (int *argc, char ***argv, int *port, char **address, gboolean *mfc, int *exit_after,
               int *timeout_ms)
{
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, port, "Port to listen on (0: any)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, address, "Address to listen on (default: all)", "A" },
    { "mfc", 0, 0, G_OPTION_ARG_NONE, mfc, "Use MFC's archive format (default: network order)",
      NULL },
    { "exit-after", 'n', 0, G_OPTION_ARG_INT, exit_after, "Shut down after N messages", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, timeout_ms,
      "Milliseconds a message may take to arrive or go out (default 5000)", "MS" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- relay a conversation");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, argc, argv, &error))
    {
      g_printerr ("chat-server: %s\n", error->message);
      return FALSE;
    }
  if (*port < 0 || *port > 65535 || *exit_after < 0 || *timeout_ms <= 0)
    {
      g_printerr ("chat-server: a port, count or timeout is out of range\n");
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  int port = 7778, exit_after = 0, timeout_ms = 5000;
  g_autofree char *address = NULL;
  gboolean mfc = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (ChatListener) listener = NULL;
  guint bound_port = 0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (!parse_options (&argc, &argv, &port, &address, &mfc, &exit_after, &timeout_ms))
    return 2;
  server.format = chat_format (mfc);
  server.exit_after = (guint) exit_after;
  server.timeout_ms = (guint) timeout_ms;
  server.history = g_ptr_array_new_with_free_func (g_free);
  server.connections = g_ptr_array_new_with_free_func (g_object_unref);
  server.loop = g_main_loop_new (NULL, FALSE);

  listener = g_object_new (CHAT_TYPE_LISTENER, NULL);
  if (!c_async_socket_create (C_ASYNC_SOCKET (listener), (guint) port, C_SOCK_STREAM, C_FD_ALL,
                              address, &error)
      || !c_async_socket_listen (C_ASYNC_SOCKET (listener), 0, &error)
      || !c_async_socket_get_sock_name (C_ASYNC_SOCKET (listener), NULL, &bound_port, &error))
    {
      g_printerr ("chat-server: %s\n", error->message);
      return 1;
    }
  g_print ("listening on %u\n", bound_port);
  g_print ("messages in %s\n", mfc ? "MFC's archive format" : "network byte order");

  g_unix_signal_add (SIGINT, on_signal, "interrupted");
  g_unix_signal_add (SIGTERM, on_signal, "terminated");
  g_main_loop_run (server.loop);

  c_async_socket_close (C_ASYNC_SOCKET (listener));
  say_goodbye ();
  g_print ("server stopped after %u message%s\n", server.history->len,
           server.history->len == 1 ? "" : "s");

  g_ptr_array_unref (server.connections);
  g_ptr_array_unref (server.history);
  g_main_loop_unref (server.loop);
  return 0;
}

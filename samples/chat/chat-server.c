/* chat-server.c: the chat server, in the tradition of MFC's CHATSRVR
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   chat-server [--port N] [--address A] [--mfc [--codepage CP]] [--exit-after N] [--timeout MS]
 *               [--history N]
 *               [--tls-certificate FILE --tls-key FILE [--tls-client-ca FILE]]
 *
 * Keeps the conversation and relays to every client what it has not seen yet; a client that
 * joins late gets the last --history lines first (default 1000): the history is bounded, so
 * a client that talks without end costs the server no more than that. Messages are chat-message.h's records, in network
 * byte order or, with --mfc, in MFC's own format: byte for byte what CHATSRVR sends. With
 * --codepage=CP949 (or another Windows code page) too, the strings are those of an ANSI
 * CHATSRVR built for that code page (c_archive_set_code_page()).
 *
 * Each client's messages are read CHATTER's way, with a loading CArchive in on_receive
 * (MFC's ProcessPendingRead), but without CHATSRVR's trap: there, a blocking CSocket reads
 * each message, so a client that has sent half of one holds the whole server until the
 * rest comes (or a deadline passes), and a few slow clients stall everyone in turn. Here
 * each client is a CAsyncSocket: on_receive adds what arrived to that client's buffer, and
 * the archive reads messages from the buffer only. A message that has not fully arrived
 * stops the archive at "end of archive"; it is read again, whole, once more bytes have come,
 * and meanwhile the server serves everyone else. What the server sends waits in a queue per
 * client in the same way, so a client that does not read delays nobody either.
 *
 * Each message must arrive, and each message sent to a client be taken by it, within
 * --timeout milliseconds (default 5000): a client that stops in the middle of a message, or
 * stops reading, is disconnected when its own deadline passes, and nobody else waits for
 * it. A client that sends something that is not a message (garbage, a record cut short, a
 * string claiming gigabytes) is disconnected with the archive's error as the reason, and
 * the others go on chatting.
 *
 * On SIGINT or SIGTERM, or after --exit-after messages, the server tells every client
 * with a message whose close flag is set, waits briefly for them to hang up, and exits.
 *
 * With --tls-certificate and --tls-key the conversation is encrypted (sample-tls.h; clients
 * join with `chat-client --tls`); with --tls-client-ca too, only clients with a certificate
 * from that CA may join. A client whose handshake fails is dropped with the reason in the log.
 *
 * It prints "listening on PORT" once ready, so scripts can start it with --port 0.
 *
 * A CSocketService (docs/service.md) accepts the clients and holds each until it is closed;
 * the server keeps a list of them only to relay to. It runs on one thread, and has no
 * --threads: every message goes into one history and out to every client, so on N threads
 * each relay would be a call into every other thread (c_async_socket_invoke) and the history
 * a structure under a lock, for work that is a few microseconds per message. A chat that
 * outgrew one core would shard its rooms over threads, each room's clients and history on
 * the thread that holds them.
 */
#include "chat-message.h"
#include "sample-options.h"
#include "sample-service.h"
#include "sample-tls.h"

#include <glib-unix.h>
#include <signal.h>
#include <locale.h>
#include <stdio.h>

/* How long the server waits, after telling the clients it is closing, for them to hang up. */
#define GOODBYE_GRACE_MS 2000

/* A client whose queue holds more than this is not read from (it is not taking what it is
 * sent, so it may not add more for everyone) until the queue is down to the low mark. */
#define OUTPUT_HIGH_WATER (1024 * 1024)
#define OUTPUT_LOW_WATER (256 * 1024)

static struct
{
  CArchiveFormat format;
  char *code_page; /* --codepage, NULL for none */
  guint timeout_ms;
  guint exit_after;       /* 0: serve until a signal */
  GPtrArray *history;     /* the latest lines: from 'first' on, at most twice history_limit */
  guint first;            /* the number of the oldest line in 'history' (lines dropped) */
  guint history_limit;    /* how many of the latest lines a client that joins gets */
  GPtrArray *connections; /* ChatConnection: the clients to relay to (the service holds them) */
  gboolean stopping;      /* no more relaying: the loop is ending or has ended */
  GMainLoop *loop;
} server;

static void stop_serving (const char *why);

/* One client: MFC's CClientSocket. */

#define CHAT_TYPE_CONNECTION (chat_connection_get_type ())
G_DECLARE_FINAL_TYPE (ChatConnection, chat_connection, CHAT, CONNECTION, CAsyncSocket)

struct _ChatConnection
{
  CAsyncSocket parent_instance;
  guint id;
  GByteArray *input;          /* received and not read yet: the start of a message at most */
  CArchive *in;               /* reads each message from 'input' */
  CArchive *out;              /* stores each message sent; its bytes then wait in 'output' */
  GQueue output;              /* the messages (GBytes) the client has not taken yet */
  gsize output_sent;          /* bytes of the first one already sent */
  gsize output_size;          /* bytes in 'output' not sent yet */
  guint seen;                 /* lines of the conversation this client has been sent */
  GError *incomplete;         /* why the message in 'input' cannot be read yet */
  guint receive_deadline;     /* timer: the message in 'input' must be whole by then */
  guint send_deadline;        /* timer: the first message in 'output' must be taken by then */
  gboolean hang_up_when_sent; /* shutting down: half-close once 'output' is empty */
  gboolean gone;
};

G_DEFINE_FINAL_TYPE (ChatConnection, chat_connection, C_TYPE_ASYNC_SOCKET)

/* Ends the connection: logged, closed, and forgotten by the server. */
static void
drop (ChatConnection *self, const char *why)
{
  if (self->gone)
    return;
  self->gone = TRUE;
  g_clear_handle_id (&self->receive_deadline, g_source_remove);
  g_clear_handle_id (&self->send_deadline, g_source_remove);
  g_print ("client %u %s\n", self->id, why);
  c_async_socket_close (C_ASYNC_SOCKET (self)); /* the service lets it go */
  g_ptr_array_remove (server.connections, self);
}

/* A client that broke the protocol or missed a deadline: the reason goes to the log as a
 * warning. */
static void
reject (ChatConnection *self, const char *doing, const char *why)
{
  g_warning ("client %u disconnected: %s: %s", self->id, doing, why);
  drop (self, "disconnected");
}

/* The deadlines. Each is a timer of its own, armed when the client starts to owe something
 * (the rest of a message; taking a message) and disarmed when it has paid; only a client
 * that stalls ever sees one fire, and it costs the others nothing. */

static gboolean
receive_deadline_passed (gpointer data)
{
  ChatConnection *self = data;
  g_autofree char *why
      = g_strdup_printf ("nothing complete within %u ms (%s)", server.timeout_ms,
                         self->incomplete ? self->incomplete->message : "no message");

  self->receive_deadline = 0; /* this source ends here */
  reject (self, "receiving", why);
  return G_SOURCE_REMOVE;
}

static gboolean
send_deadline_passed (gpointer data)
{
  ChatConnection *self = data;
  g_autofree char *why = g_strdup_printf ("a message not taken within %u ms (%zu bytes waiting)",
                                          server.timeout_ms, self->output_size);

  self->send_deadline = 0;
  reject (self, "sending", why);
  return G_SOURCE_REMOVE;
}

static void
arm (guint *deadline, GSourceFunc passed, ChatConnection *self)
{
  if (*deadline == 0)
    *deadline = g_timeout_add (server.timeout_ms, passed, self);
}

/* Sending. */

/* Reading from a client stops while its queue is over the high-water mark. afxsock then
 * delivers no on_receive, and gives the one owed once reading is selected again. */
static void
set_reading (ChatConnection *self, gboolean reading)
{
  CSocketEvents events = c_async_socket_get_events (C_ASYNC_SOCKET (self));

  if (reading != ((events & C_FD_READ) != 0))
    c_async_socket_async_select (C_ASYNC_SOCKET (self),
                                 reading ? events | C_FD_READ : events & ~C_FD_READ, NULL);
}

/* Sends from the queue until it is empty or the kernel takes no more (on_send continues).
 * FALSE if the connection failed: the client was dropped. */
static gboolean
flush_output (ChatConnection *self)
{
  while (!g_queue_is_empty (&self->output))
    {
      g_autoptr (GError) error = NULL;
      gsize size;
      const guint8 *data = g_bytes_get_data (g_queue_peek_head (&self->output), &size);
      gssize n = c_async_socket_send (C_ASYNC_SOCKET (self), data + self->output_sent,
                                      size - self->output_sent, 0, &error);

      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          reject (self, "sending", error->message);
          return FALSE;
        }
      self->output_sent += (gsize) n;
      self->output_size -= (gsize) n;
      if (self->output_sent == size)
        {
          /* Taken whole: the next message has a deadline of its own. */
          g_bytes_unref (g_queue_pop_head (&self->output));
          self->output_sent = 0;
          g_clear_handle_id (&self->send_deadline, g_source_remove);
        }
    }
  if (!g_queue_is_empty (&self->output))
    arm (&self->send_deadline, send_deadline_passed, self);
  if (self->output_size > OUTPUT_HIGH_WATER)
    set_reading (self, FALSE);
  else if (self->output_size <= OUTPUT_LOW_WATER)
    set_reading (self, TRUE);
  if (g_queue_is_empty (&self->output) && self->hang_up_when_sent)
    {
      self->hang_up_when_sent = FALSE;
      c_async_socket_shut_down (C_ASYNC_SOCKET (self), C_SHUTDOWN_SENDS, NULL);
    }
  return TRUE;
}

/* Queues one message and sends what the kernel takes at once; FALSE if the client was
 * dropped. The storing archive writes into memory: the bytes are exactly those CHATSRVR's
 * archive over its CSocketFile would send. */
static gboolean
send_message (ChatConnection *self, ChatMessage *message)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes;

  chat_message_serialize (message, self->out);
  if (!c_archive_check (self->out, &error))
    {
      reject (self, "sending", error->message);
      return FALSE;
    }
  bytes = c_archive_steal_bytes (self->out);
  self->output_size += g_bytes_get_size (bytes);
  g_queue_push_tail (&self->output, bytes);
  return flush_output (self);
}

static guint
lines_so_far (void)
{
  return server.first + server.history->len;
}

/* A new line. Once the history holds twice the limit, the older half goes: every client has
 * been sent every line by then (update_clients), and a client that joins gets the latest
 * history_limit only. */
static void
add_line (const char *text)
{
  g_ptr_array_add (server.history, g_strdup (text));
  if (server.history->len >= 2 * server.history_limit)
    {
      guint drop = server.history->len - server.history_limit;

      g_ptr_array_remove_range (server.history, 0, drop);
      server.first += drop;
    }
}

/* MFC's AssembleMsg + SendMsg: the lines this client has not seen, in messages of at most
 * CHAT_MAX_LINES lines; a client that joins starts at the latest history_limit. */
static gboolean
catch_up (ChatConnection *self, gboolean close, const char *text)
{
  guint total = lines_so_far ();

  self->seen = MAX (self->seen, total - MIN (total, server.history_limit));
  do
    {
      guint end = MIN (total, self->seen + CHAT_MAX_LINES);
      gboolean last = end == total;
      g_autoptr (ChatMessage) message = chat_message_new (close && last, last ? text : NULL);

      for (; self->seen < end; self->seen++)
        chat_message_add_line (message,
                               g_ptr_array_index (server.history, self->seen - server.first));
      if ((message->lines->len > 0 || message->close) && !send_message (self, message))
        return FALSE;
    }
  while (self->seen < total);
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
  add_line (message->text);
  g_print ("message %u from client %u: %s\n", lines_so_far (), self->id, message->text);
  update_clients ();
  if (server.exit_after > 0 && lines_so_far () >= server.exit_after)
    stop_serving ("the conversation is over");
}

/* Receiving. */

/* Whether an archive error only means that the message has not fully arrived. */
static gboolean
is_incomplete (const GError *error)
{
  return g_error_matches (error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE);
}

/* MFC's ProcessPendingRead: read every whole message the buffer holds. The loading archive
 * is pointed at what is left of the buffer for each message; reading one that is cut short
 * fails at "end of archive" without having copied anything large (a memory archive refuses
 * a length it does not hold before reading it), and the message waits for more bytes. */
static void
read_messages (ChatConnection *self)
{
  gsize used = 0;

  g_object_ref (self); /* a message may drop its sender */
  while (!self->gone && used < self->input->len)
    {
      g_autoptr (ChatMessage) message = chat_message_new (FALSE, NULL);
      g_autoptr (GError) error = NULL;

      c_archive_reload_data (self->in, self->input->data + used, self->input->len - used);
      chat_message_serialize (message, self->in);
      if (!c_archive_check (self->in, &error))
        {
          if (!is_incomplete (error))
            reject (self, "receiving", error->message);
          else
            {
              /* The rest is still to come: the deadline starts with the first byte. */
              g_clear_error (&self->incomplete);
              self->incomplete = g_steal_pointer (&error);
              arm (&self->receive_deadline, receive_deadline_passed, self);
            }
          break;
        }
      used += c_archive_get_position (self->in);
      g_clear_handle_id (&self->receive_deadline, g_source_remove);
      g_clear_error (&self->incomplete);
      /* While stopping, what clients still say is read and dropped. */
      if (!server.stopping || message->close)
        handle_message (self, message);
    }
  if (!self->gone)
    {
      /* The archive borrows the buffer: let go of it before the buffer changes. */
      c_archive_reload_data (self->in, NULL, 0);
      g_byte_array_remove_range (self->input, 0, (guint) used);
    }
  g_object_unref (self);
}

/* What arrived goes to the buffer; one receive per on_receive, as MFC's rules ask (afxsock
 * notifies again while data remains). */
static void
chat_connection_on_receive (CAsyncSocket *socket, int error_code)
{
  ChatConnection *self = CHAT_CONNECTION (socket);
  g_autoptr (GError) error = NULL;
  guint8 buffer[16384];
  gssize n = c_async_socket_receive (socket, buffer, sizeof buffer, 0, &error);

  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        reject (self, "receiving", error->message);
      return;
    }
  g_byte_array_append (self->input, buffer, (guint) n);
  read_messages (self);
}

static void
chat_connection_on_send (CAsyncSocket *socket, int error_code)
{
  flush_output (CHAT_CONNECTION (socket));
}

static void
chat_connection_on_close (CAsyncSocket *socket, int error_code)
{
  ChatConnection *self = CHAT_CONNECTION (socket);
  g_autofree char *why = NULL;

  if (error_code != 0)
    why = g_strdup_printf ("lost (%s)", sample_failure_message (socket, error_code));
  else if (self->incomplete != NULL)
    {
      /* The end of the stream came in the middle of a message. */
      reject (self, "receiving", self->incomplete->message);
      return;
    }
  drop (self, why ? why : server.stopping ? "hung up" : "hung up without saying goodbye");
}

static void
chat_connection_dispose (GObject *object)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  g_clear_handle_id (&self->receive_deadline, g_source_remove);
  g_clear_handle_id (&self->send_deadline, g_source_remove);
  g_clear_object (&self->in);
  g_clear_object (&self->out);
  g_queue_clear_full (&self->output, (GDestroyNotify) g_bytes_unref);
  G_OBJECT_CLASS (chat_connection_parent_class)->dispose (object);
}

static void
chat_connection_finalize (GObject *object)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  g_byte_array_unref (self->input);
  g_clear_error (&self->incomplete);
  G_OBJECT_CLASS (chat_connection_parent_class)->finalize (object);
}

static void
chat_connection_class_init (ChatConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = chat_connection_dispose;
  G_OBJECT_CLASS (klass)->finalize = chat_connection_finalize;
  socket_class->on_receive = chat_connection_on_receive;
  socket_class->on_send = chat_connection_on_send;
  socket_class->on_close = chat_connection_on_close;
}

static void
chat_connection_init (ChatConnection *self)
{
  self->input = g_byte_array_new ();
  g_queue_init (&self->output);
}

/* After the accept, as CHATSRVR's CClientSocket::Init: the two archives, here over memory. */
static void
chat_connection_open (ChatConnection *self)
{
  self->in = c_archive_new_load_from_data (NULL, 0, server.format);
  self->out = c_archive_new_store_to_memory (server.format);
  /* The limits stay across reloads. A client's message carries no lines (only the server
   * sends them): refusing any keeps a message that has not fully arrived cheap to try. */
  chat_message_set_limits (self->in);
  c_archive_set_limit (self->in, C_ARCHIVE_LIMIT_COUNT, 0);
  /* Checked by parse_options: these cannot fail. */
  c_archive_set_code_page (self->in, server.code_page, NULL);
  c_archive_set_code_page (self->out, server.code_page, NULL);
}

/* The service (sample-service.h) does what MFC's CListeningSocket did: accepts each client
 * as a ChatConnection and holds it until it is closed. The server keeps its own list of the
 * clients, to relay to. */

static SampleTls tls;

static gboolean
set_up_listener (CAsyncSocket *listener, gpointer data, GError **error)
{
  return sample_tls_set_up_server (&tls, listener, error);
}

static void
join (CAsyncSocket *socket, guint number)
{
  ChatConnection *client = CHAT_CONNECTION (socket);
  g_autofree char *peer = NULL;
  guint port = 0;

  client->id = number;
  chat_connection_open (client);
  g_ptr_array_add (server.connections, g_object_ref (client));
  c_async_socket_get_peer_name (socket, &peer, &port, NULL);
  g_print ("client %u joined from %s port %u\n", client->id, peer, port);
  /* The late joiner's history; sending may fail and drop the client, so keep it alive. */
  g_object_ref (client);
  catch_up (client, FALSE, NULL);
  g_object_unref (client);
}

/* Shutting down. The loop only stops here; the goodbyes are queued once it has returned,
 * outside any notification. */

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

static void
service_stopped (GObject *source, GAsyncResult *result, gpointer data)
{
  c_socket_service_stop_finish (C_SOCKET_SERVICE (source), result, NULL, NULL);
  g_main_loop_quit (server.loop);
}

/* Stops the service, which closes the listener at once; tells every client, with the close
 * flag, and half-closes once that has gone out; then lets the loop run until they have hung
 * up (the service's stop ends when the last has gone) or the grace period is over (then the
 * service closes the rest), so that no client's last words are still unread when the sockets
 * close (which would reset the connection). */
static void
say_goodbye (CSocketService *service)
{
  g_autoptr (GPtrArray) clients
      = g_ptr_array_copy (server.connections, (GCopyFunc) g_object_ref, NULL);
  guint told = 0;

  c_socket_service_stop (service, GOODBYE_GRACE_MS, NULL, service_stopped, NULL);
  g_ptr_array_set_free_func (clients, g_object_unref);
  for (guint i = 0; i < clients->len; i++)
    {
      ChatConnection *client = g_ptr_array_index (clients, i);

      if (client->gone)
        continue;
      client->hang_up_when_sent = TRUE;
      if (catch_up (client, TRUE, "the server is shutting down"))
        told++;
    }
  g_print ("told %u client%s\n", told, told == 1 ? "" : "s");
  g_main_loop_run (server.loop);
  while (server.connections->len > 0)
    drop (g_ptr_array_index (server.connections, 0), "did not hang up in time");
}

static gboolean
parse_options (int *argc, char ***argv, int *port, char **address, gboolean *mfc, char **code_page,
               int *exit_after, int *timeout_ms, int *history, SampleTls *tls)
{
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, port, "Port to listen on (0: any)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, address, "Address to listen on (default: all)", "A" },
    { "mfc", 0, 0, G_OPTION_ARG_NONE, mfc, "Use MFC's archive format (default: network order)",
      NULL },
    { "codepage", 0, 0, G_OPTION_ARG_STRING, code_page,
      "With --mfc: strings in the Windows code page CP of ANSI MFC peers (CP1252, CP949, CP932, "
      "CP936, ...; default: ASCII, other text as UTF-16)",
      "CP" },
    { "exit-after", 'n', 0, G_OPTION_ARG_INT, exit_after, "Shut down after N messages", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, timeout_ms,
      "Milliseconds a message may take to arrive or go out (default 5000)", "MS" },
    { "history", 0, 0, G_OPTION_ARG_INT, history,
      "Lines a client that joins is sent first, the latest (default 1000)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- relay a conversation");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  sample_tls_add_server_options (options, tls);
  if (!g_option_context_parse (options, argc, argv, &error))
    {
      g_printerr ("chat-server: %s\n", error->message);
      return FALSE;
    }
  if (*port < 0 || *port > 65535 || *exit_after < 0 || *timeout_ms <= 0 || *history < 1
      || *history > 1000000)
    {
      g_printerr ("chat-server: a port, count, timeout or --history is out of range\n");
      return FALSE;
    }
  if (!chat_check_code_page (*code_page, *mfc, &error))
    {
      g_printerr ("chat-server: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  SampleServer service_options = { .connection_type = CHAT_TYPE_CONNECTION,
                                   .port = 7778,
                                   .threads = 1,
                                   .set_up = set_up_listener,
                                   .accepted = join,
                                   .own_log = TRUE };
  int exit_after = 0, timeout_ms = 5000, history = 1000;
  g_autofree char *address = NULL;
  gboolean mfc = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (CSocketService) service = NULL;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (!parse_options (&argc, &argv, &service_options.port, &address, &mfc, &server.code_page,
                      &exit_after, &timeout_ms, &history, &tls))
    return 2;
  server.format = chat_format (mfc);
  server.exit_after = (guint) exit_after;
  server.history_limit = (guint) history;
  server.timeout_ms = (guint) timeout_ms;
  server.history = g_ptr_array_new_with_free_func (g_free);
  server.connections = g_ptr_array_new_with_free_func (g_object_unref);
  server.loop = g_main_loop_new (NULL, FALSE);

  service_options.address = address;
  service = sample_server_start (&service_options, &error);
  if (service == NULL)
    {
      g_printerr ("chat-server: %s\n", error->message);
      return 1;
    }
  g_print ("messages in %s%s%s%s\n", mfc ? "MFC's archive format" : "network byte order",
           server.code_page ? ", code page " : "", server.code_page ? server.code_page : "",
           tls.enabled ? ", over TLS" : "");

  g_unix_signal_add (SIGINT, on_signal, "interrupted");
  g_unix_signal_add (SIGTERM, on_signal, "terminated");
  g_main_loop_run (server.loop);

  say_goodbye (service);
  g_print ("server stopped after %u message%s\n", lines_so_far (), lines_so_far () == 1 ? "" : "s");

  g_clear_object (&service);
  g_ptr_array_unref (server.connections);
  g_ptr_array_unref (server.history);
  g_main_loop_unref (server.loop);
  g_free (server.code_page);
  sample_tls_clear (&tls);
  return 0;
}

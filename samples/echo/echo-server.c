/* echo-server.c: an echo server: a CAsyncSocket subclass served by a CSocketService
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   echo-server [--port N] [--address A] [--clients N] [--records] [--threads N]
 *               [--tls-certificate FILE --tls-key FILE [--tls-client-ca FILE]]
 *
 * Listens (by default on every address, IPv4 and IPv6, port 7777) and sends back whatever
 * each client sends, until the client closes. Try it with `nc 127.0.0.1 7777`. It prints
 * "listening on PORT" once ready, so scripts can start it with --port 0.
 *
 * With --records the connections use afxsock's record path instead of bytes: each record
 * (a 4-byte big-endian length and that many bytes, docs/wire-format.md) goes back as one
 * record, and the socket's bounded write queue, not the application, holds what the client
 * has not taken yet. Talk to it with `echo-client --records`.
 *
 * With --tls-certificate and --tls-key every connection is TLS (sample-tls.h); with
 * --tls-client-ca too, only clients with a certificate from that CA get through. A failed
 * handshake ends its connection with the reason in the log ("connection 2: peer did not
 * send a certificate"); the server goes on. Talk to it with `echo-client --tls --tls-ca
 * CA.pem` or `openssl s_client -connect 127.0.0.1:7777`.
 *
 * The service (docs/service.md) listens, accepts each connection as an EchoConnection and
 * holds it until it closes; with --threads N it runs N threads, each accepting on its own
 * SO_REUSEPORT listener, and a connection's notifications and timers stay on its thread.
 *
 * Every connection ends, whatever the client does: a client that takes none of its echo for
 * 30 s is dropped (see watch_echo), and one that half-closes and then resets the connection
 * while its echo is still pending is noticed by the on_send that follows the reset.
 */
#include <afxsock.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample-options.h"
#include "sample-service.h"
#include "sample-tls.h"

/* One connection. In byte mode: echo what arrives, and stop reading while the peer is not
 * taking our echoes (the bytes wait in 'pending' until on_send says there is room again).
 * In record mode: echo each record; when the write queue is at its high-water mark, the
 * records that keep arriving wait in 'held' and reading stops until on_drain. While an echo
 * waits for the client, a timer watches the connection (watch_echo). */

/* How often a waiting echo is looked at, and how long a client may take none of it. */
#define WATCH_INTERVAL_S 1
#define STALL_TIMEOUT_S 30

#define ECHO_TYPE_CONNECTION (echo_connection_get_type ())
G_DECLARE_FINAL_TYPE (EchoConnection, echo_connection, ECHO, CONNECTION, CAsyncSocket)

struct _EchoConnection
{
  CAsyncSocket parent_instance;
  GByteArray *pending; /* byte mode: echoes the kernel has not taken */
  GQueue held;         /* record mode: echoes the write queue has not taken (GBytes) */
  gboolean closing;    /* the client closed; finish once the echoes are out */
  guint pauses;        /* record mode: times reading stopped for a full write queue */
  GSource *watch;      /* the timer of watch_echo, while an echo waits (on its thread) */
  guint idle_checks;   /* its ticks in a row with nothing sent */
  guint64 sent_before; /* bytes sent at its previous tick */
  guint id;
};

G_DEFINE_FINAL_TYPE (EchoConnection, echo_connection, C_TYPE_ASYNC_SOCKET)

static gboolean use_records;

static void
stop_watching (EchoConnection *self)
{
  if (self->watch != NULL)
    {
      g_source_destroy (self->watch);
      g_clear_pointer (&self->watch, g_source_unref);
    }
}

/* Closing is all: the service holds the connection and lets it go once closed. */
static void
connection_finished (EchoConnection *self, const char *why)
{
  stop_watching (self);
  if (self->pauses > 0)
    g_print ("connection %u: %s (reading paused %u times for a full write queue)\n", self->id, why,
             self->pauses);
  else
    g_print ("connection %u: %s\n", self->id, why);
  c_async_socket_close (C_ASYNC_SOCKET (self));
  sample_server_connection_finished ();
}

/* Waiting for the client. An echo waits while the client does not read; on_send (byte
 * mode) or on_drain and on_send (record mode) say when it moves on, and a client that
 * half-closed (on_close (0): it still reads, so its echoes are still sent) and then reset
 * the connection brings that on_send too, whose send then fails. One thing no notification
 * says: that the client takes nothing at all for a long time. So while an echo waits, a
 * timer looks at the connection once a second, and ends it when nothing was sent for
 * STALL_TIMEOUT_S. */

static guint64
bytes_sent (EchoConnection *self)
{
  CSocketStats stats;

  c_async_socket_get_stats (C_ASYNC_SOCKET (self), &stats);
  return stats.bytes_sent;
}

static gboolean
watch_echo (gpointer data)
{
  EchoConnection *self = data;
  guint64 sent = bytes_sent (self);
  const char *why = NULL;

  if (sent > self->sent_before)
    self->idle_checks = 0;
  else
    self->idle_checks++;
  self->sent_before = sent;
  if (self->idle_checks * WATCH_INTERVAL_S >= STALL_TIMEOUT_S)
    why = "took none of its echo for " G_STRINGIFY (STALL_TIMEOUT_S) " s";
  if (why == NULL)
    return G_SOURCE_CONTINUE;
  connection_finished (self, why); /* destroys this source */
  return G_SOURCE_REMOVE;
}

/* An echo is waiting for the client: watch the connection (if not already). */
static void
start_watching (EchoConnection *self)
{
  if (self->watch != NULL)
    return;
  self->idle_checks = 0;
  self->sent_before = bytes_sent (self);
  /* On the connection's own context: with --threads that is its thread's, not the default. */
  self->watch = g_timeout_source_new_seconds (WATCH_INTERVAL_S);
  g_source_set_callback (self->watch, watch_echo, self, NULL);
  g_source_attach (self->watch, c_async_socket_get_context (C_ASYNC_SOCKET (self)));
}

static gboolean send_held_records (EchoConnection *self);

/* Byte mode. */

/* Sends what is pending; returns FALSE if the connection failed. */
static gboolean
flush_pending (EchoConnection *self)
{
  while (self->pending->len > 0)
    {
      g_autoptr (GError) error = NULL;
      gssize n = c_async_socket_send (C_ASYNC_SOCKET (self), self->pending->data,
                                      self->pending->len, 0, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return TRUE; /* on_send will come */
          g_printerr ("connection %u: %s\n", self->id, error->message);
          return FALSE;
        }
      g_byte_array_remove_range (self->pending, 0, (guint) n);
    }
  return TRUE;
}

static void
echo_connection_on_receive (CAsyncSocket *socket, int error_code)
{
  EchoConnection *self = ECHO_CONNECTION (socket);
  g_autoptr (GError) error = NULL;
  guint8 buffer[16384];
  gssize n;

  if (self->pending->len > 0)
    return; /* backpressure: read again after the echo went out (see on_send) */
  n = c_async_socket_receive (socket, buffer, sizeof buffer, 0, &error);
  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_printerr ("connection %u: %s\n", self->id, error->message);
      return;
    }
  g_byte_array_append (self->pending, buffer, (guint) n);
  if (!flush_pending (self))
    connection_finished (self, "failed");
  else if (self->pending->len > 0)
    start_watching (self);
}

static void
echo_connection_on_send (CAsyncSocket *socket, int error_code)
{
  EchoConnection *self = ECHO_CONNECTION (socket);
  gboolean was_blocked = self->pending->len > 0;

  /* Record mode: on_send says the write queue has emptied (or, after a reset, that the
   * next send will tell what happened). */
  if (use_records ? !send_held_records (self) : !flush_pending (self))
    connection_finished (self, "failed");
  else if (self->pending->len > 0 || !g_queue_is_empty (&self->held))
    return; /* still blocked: the next on_send or on_drain continues */
  else if (self->closing && c_async_socket_get_queued_bytes (socket) == 0)
    connection_finished (self, "closed by the client");
  else if (was_blocked)
    {
      stop_watching (self);
      echo_connection_on_receive (socket, 0); /* resume reading */
    }
}

/* Record mode. */

static void
set_reading (EchoConnection *self, gboolean reading)
{
  /* In record mode the socket reads by itself; leaving C_FD_READ out of the selected
   * events is how an application tells it to stop for a while. */
  c_async_socket_async_select (C_ASYNC_SOCKET (self), reading ? C_FD_ALL : C_FD_ALL & ~C_FD_READ,
                               NULL);
}

/* A full write queue refuses a record like a send that would block: wait for on_drain. */
static gboolean
is_queue_full (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* Hands the held echoes to the write queue until it refuses one; returns FALSE if the
 * connection failed. */
static gboolean
send_held_records (EchoConnection *self)
{
  while (!g_queue_is_empty (&self->held))
    {
      g_autoptr (GError) error = NULL;

      if (!c_async_socket_send_record (C_ASYNC_SOCKET (self), g_queue_peek_head (&self->held),
                                       &error))
        {
          if (!is_queue_full (error))
            {
              g_printerr ("connection %u: %s\n", self->id, error->message);
              return FALSE;
            }
          /* The queue is at its high-water mark: the client is slower than its own
           * sending. Stop reading its records until on_drain. */
          if (c_async_socket_get_events (C_ASYNC_SOCKET (self)) & C_FD_READ)
            self->pauses++;
          set_reading (self, FALSE);
          start_watching (self);
          return TRUE;
        }
      g_bytes_unref (g_queue_pop_head (&self->held));
    }
  return TRUE;
}

static void
echo_connection_on_record (CAsyncSocket *socket, GBytes *record)
{
  EchoConnection *self = ECHO_CONNECTION (socket);

  /* The record is only lent to us: keep a reference to send it. */
  g_queue_push_tail (&self->held, g_bytes_ref (record));
  if (!send_held_records (self))
    connection_finished (self, "failed");
}

static void
echo_connection_on_drain (CAsyncSocket *socket)
{
  EchoConnection *self = ECHO_CONNECTION (socket);

  if (!send_held_records (self))
    connection_finished (self, "failed");
  else if (g_queue_is_empty (&self->held))
    {
      if (!self->closing)
        stop_watching (self); /* the echoes flow again */
      set_reading (self, TRUE);
    }
}

static void
echo_connection_on_close (CAsyncSocket *socket, int error_code)
{
  EchoConnection *self = ECHO_CONNECTION (socket);

  if (error_code != 0)
    connection_finished (self, sample_failure_message (socket, error_code));
  else if ((!use_records && self->pending->len > 0)
           || (use_records
               && (!g_queue_is_empty (&self->held)
                   || c_async_socket_get_queued_bytes (socket) > 0)))
    {
      /* A half-closed client still reads: on_send says when the last echoes have left (or
       * that the client reset the connection), and the watch ends the connection if the
       * client never takes them. */
      self->closing = TRUE;
      start_watching (self);
    }
  else
    connection_finished (self, "closed by the client");
}

static void
echo_connection_finalize (GObject *object)
{
  EchoConnection *self = ECHO_CONNECTION (object);

  stop_watching (self);
  g_byte_array_unref (self->pending);
  g_queue_clear_full (&self->held, (GDestroyNotify) g_bytes_unref);
  G_OBJECT_CLASS (echo_connection_parent_class)->finalize (object);
}

static void
echo_connection_class_init (EchoConnectionClass *klass)
{
  CAsyncSocketClass *socket_class = C_ASYNC_SOCKET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = echo_connection_finalize;
  socket_class->on_receive = echo_connection_on_receive;
  socket_class->on_send = echo_connection_on_send;
  socket_class->on_close = echo_connection_on_close;
  socket_class->on_record = echo_connection_on_record;
  socket_class->on_drain = echo_connection_on_drain;
}

static void
echo_connection_init (EchoConnection *self)
{
  self->pending = g_byte_array_new ();
  g_queue_init (&self->held);
}

/* The service (sample-service.h): every listener it makes gets the record mode and TLS
 * settings, which its connections inherit, as in MFC; each new connection gets a number. */

static SampleTls tls;

static gboolean
set_up_listener (CAsyncSocket *listener, gpointer data, GError **error)
{
  return c_async_socket_set_record_mode (listener, use_records, error)
         && sample_tls_set_up_server (&tls, listener, error);
}

static void
accepted (CAsyncSocket *socket, guint number)
{
  ECHO_CONNECTION (socket)->id = number;
}

int
main (int argc, char **argv)
{
  SampleServer server = { .connection_type = ECHO_TYPE_CONNECTION,
                          .port = 7777,
                          .threads = 1,
                          .set_up = set_up_listener,
                          .accepted = accepted };
  g_autofree char *address = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &server.port, "Port to listen on (0: any)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address, "Address to listen on (default: all)",
      "A" },
    { "clients", 'n', 0, G_OPTION_ARG_INT, &server.clients, "Exit after serving N clients", "N" },
    { "records", 'r', 0, G_OPTION_ARG_NONE, &use_records,
      "Echo length-prefixed records instead of bytes", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &server.threads,
      "Serve on N threads, each with its own listener (default 1: this one)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- echo what clients send");
  g_autoptr (GError) error = NULL;
  int status;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  sample_tls_add_server_options (options, &tls);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  server.address = address;
  status = sample_server_serve (&server);
  sample_tls_clear (&tls);
  return status;
}

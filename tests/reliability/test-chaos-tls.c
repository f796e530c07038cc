/* test-chaos-tls.c: 10,000 records over TLS through the chaos proxy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * test-chaos.c's run with TLS on both ends (the same protocol: HELLO, RESUME from the id the
 * server expects once every older connection has ended, an acknowledgement per record; see
 * there). What changes with TLS:
 * - the proxy's "middle of a record" follows afxsock's record framing, which TLS hides: it
 *   reads ciphertext as lengths, so its faults land anywhere in the TLS stream, the
 *   handshake included;
 * - a reset is an error on both ends, as in plaintext; a half-close toward the server is a
 *   truncation there (no close_notify): ECONNABORTED with G_TLS_ERROR_EOF, never a graceful
 *   close;
 * - a client handshake the proxy broke fails its on_connect (no on_close follows): the
 *   client reconnects from there as from on_close.
 * Records are a quarter of test-chaos.c's sizes (0 B to 54 KiB, some across several TLS
 * records), so that the run takes seconds; fewer records under Valgrind.
 * (test-chaos-tls-relay.c, in the same program: full-size TLS records one byte at a time.)
 *
 * The seed is fixed and printed; AFXSOCK_CHAOS_SEED=N runs another.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "../tls-util.h"
#include "chaos-proxy.h"
#include "reliability-util.h"

/* Under Valgrind every TLS byte costs some fifty times more: fewer records there. */
#define N_RECORDS (RUNNING_ON_VALGRIND ? 600u : 10000u)
#define WINDOW_RECORDS 256
#define RUN_DEADLINE_MS (RUNNING_ON_VALGRIND ? 240000 : 60000)
#define MAX_FAILURES 8

typedef struct _Chaos Chaos;

typedef struct
{
  guint number;
  guint port;
  gboolean closed;
  int close_error;
  gboolean handshake_failed;
  gboolean reset_expected;
  gboolean faulted;
} ClientConnection;

typedef struct
{
  Chaos *chaos;
  CAsyncSocket *socket;
  guint peer_port;
  gboolean closed;
  int close_error;
  gboolean truncated; /* the GError was G_TLS_ERROR_EOF */
  gboolean hello_seen;
  gboolean resumed;
  gboolean reset_expected;
  gboolean half_close_expected;
} ServerConnection;

struct _Chaos
{
  guint32 seed;
  ChaosProxy *proxy;
  guint proxy_port;
  CTlsSettings *client_tls;

  /* The client */
  CAsyncSocket *client;
  ClientConnection *current;
  GPtrArray *client_connections;
  guint32 next_send;
  guint32 acknowledged;
  gboolean resumed;
  gboolean finishing;
  gboolean finished;
  guint reconnect_source;
  guint handshakes_failed;

  /* The server */
  CAsyncSocket *listener;
  guint server_port;
  GPtrArray *server_connections;
  guint32 next_expected;
  GHashTable *pending_faults; /* upstream port → ChaosEvent + 1, for connections not accepted */

  GPtrArray *failures;
  guint resumes;
};

static void chaos_client_connect (Chaos *chaos);

static void failure (Chaos *chaos, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
failure (Chaos *chaos, const char *format, ...)
{
  va_list args;

  if (chaos->failures->len >= MAX_FAILURES)
    return;
  va_start (args, format);
  g_ptr_array_add (chaos->failures, g_strdup_vprintf (format, args));
  va_end (args);
}

/* A quarter of test-chaos.c's sizes: mostly under 128 B, some KiB, a few 4 to 54 KiB. */
static gsize
tls_payload_size (guint32 id, guint32 seed)
{
  return payload_size_for (id, seed) / 4;
}

static GBytes *
message (char type, guint32 value)
{
  guint8 data[5] = { (guint8) type, (guint8) (value >> 24), (guint8) (value >> 16),
                     (guint8) (value >> 8), (guint8) value };
  return g_bytes_new (data, sizeof data);
}

static gboolean
parse_message (GBytes *record, char *type, guint32 *value)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (record, &size);

  if (size != 5)
    return FALSE;
  *type = (char) data[0];
  *value
      = ((guint32) data[1] << 24) | ((guint32) data[2] << 16) | ((guint32) data[3] << 8) | data[4];
  return TRUE;
}

/* ---- The client ----------------------------------------------------------------------- */

static void
fill_window (Chaos *chaos)
{
  while (chaos->resumed && !chaos->finishing && chaos->next_send < N_RECORDS
         && chaos->next_send - chaos->acknowledged < WINDOW_RECORDS)
    {
      g_autoptr (GBytes) record
          = make_checked_record_sized (chaos->next_send, chaos->seed, tls_payload_size);

      if (!c_async_socket_send_record (chaos->client, record, NULL))
        return; /* on_drain, or on_close, brings us back */
      chaos->next_send++;
    }
}

static void
finish_sending (Chaos *chaos)
{
  g_autoptr (GError) error = NULL;

  chaos->finishing = TRUE;
  if (c_async_socket_get_queued_bytes (chaos->client) != 0)
    failure (chaos, "all records acknowledged, yet %zu bytes still queued",
             c_async_socket_get_queued_bytes (chaos->client));
  /* close_notify, then the end of stream. */
  if (!c_async_socket_shut_down (chaos->client, C_SHUTDOWN_SENDS, &error))
    failure (chaos, "shut_down: %s", error->message);
}

static void
client_on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  Chaos *chaos = data;
  char type;
  guint32 value;

  if (!parse_message (record, &type, &value))
    {
      failure (chaos, "the client got a malformed record of %zu bytes", g_bytes_get_size (record));
      return;
    }
  if (type == 'R')
    {
      if (value < chaos->acknowledged)
        failure (chaos, "RESUME %u after %u records were acknowledged: acknowledged records lost",
                 value, chaos->acknowledged);
      if (value > chaos->next_send)
        failure (chaos, "RESUME %u, but only %u records were sent", value, chaos->next_send);
      chaos->acknowledged = MAX (chaos->acknowledged, value);
      chaos->next_send = value;
      chaos->resumed = TRUE;
    }
  else if (type == 'A')
    {
      if (!chaos->resumed || value != chaos->acknowledged)
        failure (chaos, "acknowledgement of record %u, expected %u", value, chaos->acknowledged);
      chaos->acknowledged = value + 1;
    }
  else
    {
      failure (chaos, "the client got a record of type %c", type);
      return;
    }
  if (chaos->acknowledged == N_RECORDS)
    {
      if (!chaos->finishing)
        finish_sending (chaos);
    }
  else
    fill_window (chaos);
}

static void
client_on_drain (CAsyncSocket *socket, gpointer data)
{
  fill_window (data);
}

static gboolean
reconnect (gpointer data)
{
  Chaos *chaos = data;

  chaos->reconnect_source = 0;
  chaos_client_connect (chaos);
  return G_SOURCE_REMOVE;
}

/* The connection's end: its on_close, or its on_connect with an error (a handshake the
 * proxy broke, after which no on_close comes). */
static void
client_ended (Chaos *chaos, int error_code)
{
  chaos->current->closed = TRUE;
  chaos->current->close_error = error_code;
  chaos->current = NULL;
  chaos->resumed = FALSE;
  g_clear_object (&chaos->client);
  if (chaos->finishing)
    chaos->finished = TRUE;
  else
    chaos->reconnect_source = g_idle_add (reconnect, chaos);
}

static void
client_on_connect (CAsyncSocket *socket, int error_code, gpointer data)
{
  Chaos *chaos = data;
  g_autoptr (GBytes) hello = NULL;

  if (error_code != 0)
    {
      const GError *reason = c_async_socket_get_close_error (socket);

      if (reason == NULL)
        failure (chaos, "on_connect (%s) without a GError", g_strerror (error_code));
      chaos->current->handshake_failed = TRUE;
      chaos->handshakes_failed++;
      client_ended (chaos, error_code);
      return;
    }
  if (!c_async_socket_is_tls_established (socket))
    failure (chaos, "on_connect (0) before the TLS handshake ended");
  hello = message ('H', chaos->current->number);
  if (!c_async_socket_send_record (socket, hello, NULL))
    failure (chaos, "cannot send HELLO");
}

static void
client_on_close (CAsyncSocket *socket, int error_code, gpointer data)
{
  client_ended (data, error_code);
}

static void
chaos_client_connect (Chaos *chaos)
{
  ClientConnection *connection = g_new0 (ClientConnection, 1);
  g_autoptr (GError) error = NULL;

  connection->number = chaos->client_connections->len;
  g_ptr_array_add (chaos->client_connections, connection);
  chaos->current = connection;
  chaos->client = c_async_socket_new ();
  c_async_socket_set_water_marks (chaos->client, 128 * 1024, 1024 * 1024);
  g_signal_connect (chaos->client, "connect", G_CALLBACK (client_on_connect), chaos);
  g_signal_connect (chaos->client, "record", G_CALLBACK (client_on_record), chaos);
  g_signal_connect (chaos->client, "drain", G_CALLBACK (client_on_drain), chaos);
  g_signal_connect (chaos->client, "close", G_CALLBACK (client_on_close), chaos);
  if (!c_async_socket_create (chaos->client, 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error)
      || !c_async_socket_set_record_mode (chaos->client, TRUE, &error)
      || !c_async_socket_set_tls (chaos->client, chaos->client_tls, "localhost", &error)
      || !c_async_socket_get_sock_name (chaos->client, NULL, &connection->port, &error)
      || !c_async_socket_connect (chaos->client, "127.0.0.1", chaos->proxy_port, &error))
    failure (chaos, "client connection %u: %s", connection->number, error->message);
}

/* ---- The server ----------------------------------------------------------------------- */

static gboolean
older_connection_open (Chaos *chaos, ServerConnection *connection)
{
  for (guint i = 0; i < chaos->server_connections->len; i++)
    {
      ServerConnection *other = g_ptr_array_index (chaos->server_connections, i);
      if (other != connection && !other->closed)
        return TRUE;
    }
  return FALSE;
}

static void
answer_waiting_hellos (Chaos *chaos)
{
  for (guint i = 0; i < chaos->server_connections->len; i++)
    {
      ServerConnection *connection = g_ptr_array_index (chaos->server_connections, i);
      if (!connection->closed && connection->hello_seen && !connection->resumed
          && !older_connection_open (chaos, connection))
        {
          g_autoptr (GBytes) resume = message ('R', chaos->next_expected);

          connection->resumed = TRUE;
          chaos->resumes++;
          c_async_socket_send_record (connection->socket, resume, NULL);
        }
    }
}

static void
server_on_data (ServerConnection *connection, GBytes *record)
{
  Chaos *chaos = connection->chaos;
  g_autofree char *why = NULL;
  g_autoptr (GBytes) ack = NULL;
  gint64 id;

  if (!connection->resumed)
    {
      failure (chaos, "a data record before RESUME");
      return;
    }
  id = verify_checked_record_sized (record, chaos->seed, tls_payload_size, &why);
  if (id < 0)
    {
      failure (chaos, "server: %s", why);
      return;
    }
  if (id != chaos->next_expected)
    {
      failure (chaos, "server: record %" G_GINT64_FORMAT " arrived, %u expected (%s)", id,
               chaos->next_expected, id < chaos->next_expected ? "a duplicate" : "a gap");
      return;
    }
  chaos->next_expected++;
  ack = message ('A', (guint32) id);
  c_async_socket_send_record (connection->socket, ack, NULL);
}

static void
server_on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  ServerConnection *connection = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (record, &size);

  if (size > 0 && bytes[0] == 'D')
    server_on_data (connection, record);
  else if (size == 5 && bytes[0] == 'H' && !connection->hello_seen)
    {
      connection->hello_seen = TRUE;
      answer_waiting_hellos (connection->chaos);
    }
  else
    failure (connection->chaos, "the server got an unexpected record of %zu bytes", size);
}

static void
server_on_close (CAsyncSocket *socket, int error_code, gpointer data)
{
  ServerConnection *connection = data;

  connection->closed = TRUE;
  connection->close_error = error_code;
  /* A reset is the kernel's errno alone; what TLS itself found has a GError. */
  connection->truncated
      = g_error_matches (c_async_socket_get_close_error (socket), G_TLS_ERROR, G_TLS_ERROR_EOF);
  g_clear_object (&connection->socket);
  answer_waiting_hellos (connection->chaos);
}

static void
mark_server_fault (ServerConnection *connection, ChaosEvent event)
{
  if (event == CHAOS_EVENT_RESET)
    connection->reset_expected = TRUE;
  else
    connection->half_close_expected = TRUE;
}

static void
server_on_accept (CAsyncSocket *listener, int error_code, gpointer data)
{
  Chaos *chaos = data;
  ServerConnection *connection = g_new0 (ServerConnection, 1);
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GError) error = NULL;
  gpointer fault;

  connection->chaos = chaos;
  connection->socket = c_async_socket_new ();
  g_signal_connect (connection->socket, "record", G_CALLBACK (server_on_record), connection);
  g_signal_connect (connection->socket, "close", G_CALLBACK (server_on_close), connection);
  if (!c_async_socket_accept (listener, connection->socket, &address, &error))
    {
      g_object_unref (connection->socket);
      g_free (connection);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        failure (chaos, "accept: %s", error->message);
      return;
    }
  connection->peer_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  g_ptr_array_add (chaos->server_connections, connection);
  fault = g_hash_table_lookup (chaos->pending_faults, GUINT_TO_POINTER (connection->peer_port));
  if (fault != NULL)
    {
      mark_server_fault (connection, (ChaosEvent) (GPOINTER_TO_UINT (fault) - 1));
      g_hash_table_remove (chaos->pending_faults, GUINT_TO_POINTER (connection->peer_port));
    }
}

/* ---- The proxy's faults --------------------------------------------------------------- */

static void
on_fault (ChaosEvent event, guint client_port, guint upstream_port, gpointer data)
{
  Chaos *chaos = data;
  ServerConnection *server = NULL;

  if (chaos->current == NULL || chaos->current->port != client_port)
    failure (chaos, "the proxy faulted client port %u, which is not the open connection",
             client_port);
  else
    {
      chaos->current->faulted = TRUE;
      chaos->current->reset_expected |= event == CHAOS_EVENT_RESET;
    }
  for (guint i = 0; i < chaos->server_connections->len; i++)
    {
      ServerConnection *connection = g_ptr_array_index (chaos->server_connections, i);
      if (connection->peer_port == upstream_port && !connection->closed)
        server = connection;
    }
  if (server != NULL)
    mark_server_fault (server, event);
  else
    g_hash_table_insert (chaos->pending_faults, GUINT_TO_POINTER (upstream_port),
                         GUINT_TO_POINTER ((guint) event + 1));
}

/* ---- The test -------------------------------------------------------------------------- */

static gboolean
run_over (gpointer data)
{
  Chaos *chaos = data;

  if (chaos->failures->len > 0)
    return TRUE;
  if (!chaos->finished || chaos_proxy_get_open_pairs (chaos->proxy) > 0)
    return FALSE;
  for (guint i = 0; i < chaos->server_connections->len; i++)
    if (!((ServerConnection *) g_ptr_array_index (chaos->server_connections, i))->closed)
      return FALSE;
  return TRUE;
}

/* A fixed seed, so that every run makes the same decisions (the kernel's timing still
 * varies); AFXSOCK_CHAOS_SEED=N tries another. */
#define DEFAULT_SEED 1587780455u

static guint32
choose_seed (void)
{
  const char *text = g_getenv ("AFXSOCK_CHAOS_SEED");

  if (text != NULL && *text != '\0')
    return (guint32) strtoul (text, NULL, 10);
  return DEFAULT_SEED;
}

/* How the connections ended, by what the proxy did to them: @wrong counts those that
 * ended otherwise than @right says, with the first as an example. */
typedef struct
{
  guint connections;
  guint wrong;
  guint example_port;
  int example_error;
} Endings;

static void
tally (Endings *endings, gboolean right, guint port, int error_code)
{
  endings->connections++;
  if (right || endings->wrong++ > 0)
    return;
  endings->example_port = port;
  endings->example_error = error_code;
}

static void
check_endings (Chaos *chaos)
{
  Endings client_reset = { 0 }, client_alone = { 0 };
  Endings server_reset = { 0 }, server_half_closed = { 0 }, server_alone = { 0 };
  guint seed = chaos->seed;

  for (guint i = 0; i < chaos->client_connections->len; i++)
    {
      ClientConnection *c = g_ptr_array_index (chaos->client_connections, i);

      cr_assert (c->closed, "seed %u: client connection %u never closed", seed, i);
      if (c->reset_expected)
        tally (&client_reset, c->close_error != 0, c->port, c->close_error);
      else if (!c->faulted)
        tally (&client_alone, c->close_error == 0, c->port, c->close_error);
    }
  for (guint i = 0; i < chaos->server_connections->len; i++)
    {
      ServerConnection *s = g_ptr_array_index (chaos->server_connections, i);

      if (s->reset_expected)
        tally (&server_reset, s->close_error != 0, s->peer_port, s->close_error);
      else if (s->half_close_expected)
        tally (&server_half_closed, s->close_error == ECONNABORTED && s->truncated, s->peer_port,
               s->close_error);
      else
        tally (&server_alone, s->close_error == 0, s->peer_port, s->close_error);
    }
  cr_log_info ("seed %u: resets seen by %u client and %u server connections; %u server "
               "connections half-closed (truncated); %u client handshakes broken; %u client and "
               "%u server connections left alone",
               seed, client_reset.connections, server_reset.connections,
               server_half_closed.connections, chaos->handshakes_failed, client_alone.connections,
               server_alone.connections);
  cr_expect_eq (client_reset.wrong, 0,
                "seed %u: %u of %u reset client connections saw on_close (0) (port %u)", seed,
                client_reset.wrong, client_reset.connections, client_reset.example_port);
  cr_expect_eq (server_reset.wrong, 0,
                "seed %u: %u of %u reset server connections saw on_close (0) (port %u)", seed,
                server_reset.wrong, server_reset.connections, server_reset.example_port);
  cr_expect_eq (server_half_closed.wrong, 0,
                "seed %u: %u of %u server connections half-closed without close_notify did not "
                "report ECONNABORTED, G_TLS_ERROR_EOF (port %u: %d, %s)",
                seed, server_half_closed.wrong, server_half_closed.connections,
                server_half_closed.example_port, server_half_closed.example_error,
                g_strerror (server_half_closed.example_error));
  cr_expect_eq (client_alone.wrong + server_alone.wrong, 0,
                "seed %u: connections the proxy left alone ended with an error (client port "
                "%u: %s; server peer port %u: %s)",
                seed, client_alone.example_port, g_strerror (client_alone.example_error),
                server_alone.example_port, g_strerror (server_alone.example_error));
  cr_assert_eq (g_hash_table_size (chaos->pending_faults), 0,
                "seed %u: %u faulted connections never reached the server", seed,
                g_hash_table_size (chaos->pending_faults));
}

Test (chaos_tls, ten_thousand_records_over_tls_through_the_chaos_proxy, .timeout = 300)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Chaos chaos = { 0 };
  ChaosConfig config;
  ChaosStats stats;
  g_autoptr (GError) error = NULL;
  gint64 started = g_get_monotonic_time ();
  gboolean over;

  chaos.seed = choose_seed ();
  cr_log_info ("chaos seed %u (AFXSOCK_CHAOS_SEED=N runs another)", chaos.seed);
  chaos.client_tls = client_tls;
  chaos.client_connections = g_ptr_array_new_with_free_func (g_free);
  chaos.server_connections = g_ptr_array_new_with_free_func (g_free);
  chaos.pending_faults = g_hash_table_new (NULL, NULL);
  chaos.failures = g_ptr_array_new_with_free_func (g_free);

  chaos.listener = c_async_socket_new ();
  g_signal_connect (chaos.listener, "accept", G_CALLBACK (server_on_accept), &chaos);
  cr_assert (
      c_async_socket_create (chaos.listener, 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_set_record_mode (chaos.listener, TRUE, NULL));
  cr_assert (c_async_socket_set_tls (chaos.listener, server_tls, NULL, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_listen (chaos.listener, 128, &error));
  cr_assert (c_async_socket_get_sock_name (chaos.listener, NULL, &chaos.server_port, &error));

  chaos_config_init (&config, chaos.seed);
  /* Every connection ends badly within its first 256 KiB (the handshake included), until
   * what is left to send is shorter than that: a hundred faults or so a run (a dozen or so
   * under Valgrind). */
  config.reset_probability = 2.0 / 3.0;
  config.half_close_probability = 1.0 / 3.0;
  config.fault_within = 256 * 1024;
  chaos.proxy = chaos_proxy_new (&config, 0, "127.0.0.1", chaos.server_port, &error);
  cr_assert_not_null (chaos.proxy, "%s", error ? error->message : "");
  chaos_proxy_set_event_func (chaos.proxy, on_fault, &chaos);
  chaos.proxy_port = chaos_proxy_get_port (chaos.proxy);

  chaos_client_connect (&chaos);
  over = run_until_within (run_over, &chaos, RUN_DEADLINE_MS);
  chaos_proxy_get_stats (chaos.proxy, &stats);
  cr_log_info ("seed %u: %u records acknowledged in %.1f s over %u connections (%u resumes, %u "
               "handshakes broken); proxy: %" G_GUINT64_FORMAT
               " pieces (%zu B to %zu B), %u delays, %u stalls, %u resets, %u half-closes, %.1f MB "
               "to the server, %.1f MB back",
               chaos.seed, chaos.acknowledged, (g_get_monotonic_time () - started) / 1e6,
               chaos.client_connections->len, chaos.resumes, chaos.handshakes_failed, stats.pieces,
               stats.smallest_piece, stats.largest_piece, stats.delays, stats.stalls, stats.resets,
               stats.half_closes, stats.bytes_to_server / 1e6, stats.bytes_to_client / 1e6);

  cr_assert_eq (chaos.failures->len, 0, "seed %u: %s", chaos.seed,
                chaos.failures->len ? (char *) g_ptr_array_index (chaos.failures, 0) : "");
  cr_assert (over,
             "seed %u: not over after %d s: %u of %u records acknowledged, %u received, %u "
             "connections, %u proxy pairs open",
             chaos.seed, RUN_DEADLINE_MS / 1000, chaos.acknowledged, N_RECORDS, chaos.next_expected,
             chaos.client_connections->len, chaos_proxy_get_open_pairs (chaos.proxy));
  cr_assert_eq (chaos.acknowledged, N_RECORDS, "seed %u", chaos.seed);
  cr_assert_eq (chaos.next_expected, N_RECORDS, "seed %u: the server got %u records", chaos.seed,
                chaos.next_expected);
  check_endings (&chaos);

  /* The chaos happened. */
  cr_assert_eq (stats.smallest_piece, 1, "seed %u: no 1-byte piece", chaos.seed);
  cr_assert_gt (stats.largest_piece, 16 * 1024, "seed %u: no large piece", chaos.seed);
  cr_assert_gt (stats.delays, 0, "seed %u: no delay", chaos.seed);
  cr_assert_gt (stats.resets, 0, "seed %u: no reset", chaos.seed);
  cr_assert_gt (stats.half_closes, 0, "seed %u: no half-close", chaos.seed);

  chaos_proxy_free (chaos.proxy);
  if (chaos.reconnect_source != 0)
    g_source_remove (chaos.reconnect_source);
  g_clear_object (&chaos.client);
  g_clear_object (&chaos.listener);
  for (guint i = 0; i < chaos.server_connections->len; i++)
    g_clear_object (
        &((ServerConnection *) g_ptr_array_index (chaos.server_connections, i))->socket);
  g_ptr_array_unref (chaos.client_connections);
  g_ptr_array_unref (chaos.server_connections);
  g_hash_table_unref (chaos.pending_faults);
  g_ptr_array_unref (chaos.failures);
  drain_context ();
}

/* test-chaos-tls-relay.c: full-size TLS records relayed one byte per write
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The chaos proxy with 1-byte pieces and no faults, delays or stalls, between an afxsock
 * TLS client and an afxsock TLS server. Each side writes 256 KiB in large writes (so 16
 * TLS records of 16 KiB at least, counted in the relayed stream) while the other reads 1000
 * bytes per on_receive: each record reaches the reader's kernel one byte per segment, and
 * once decrypted most of it waits inside OpenSSL, where no readiness report will come; only
 * the library's own bookkeeping brings the next on_receive. Checked: both directions arrive
 * byte-exact, each reader was notified for all of it, and the connection then ends
 * gracefully (close_notify) through the relay.
 */
#include <criterion/criterion.h>
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

#define TLS_HEADER_SIZE 5
#define TLS_MAX_PLAINTEXT 16384
#define READ_SIZE 1000

/* One direction of the relayed stream, cut into TLS records by their 5-byte headers. */
typedef struct
{
  guint8 header[TLS_HEADER_SIZE];
  guint header_have;
  gsize body_left;
  guint records;
  guint full_records; /* a ciphertext longer than 16 KiB: a record of 16 KiB of plaintext */
  guint64 bytes;
} RecordCounter;

typedef struct
{
  RecordCounter to_server;
  RecordCounter to_client;
} Tap;

static void
count_records (RecordCounter *counter, const guint8 *data, gsize size)
{
  counter->bytes += size;
  while (size > 0)
    {
      if (counter->body_left > 0)
        {
          gsize step = MIN (size, counter->body_left);
          counter->body_left -= step;
          data += step;
          size -= step;
          continue;
        }
      counter->header[counter->header_have++] = *data++;
      size--;
      if (counter->header_have == TLS_HEADER_SIZE)
        {
          counter->body_left = ((gsize) counter->header[3] << 8) | counter->header[4];
          counter->header_have = 0;
          counter->records++;
          counter->full_records += counter->body_left > TLS_MAX_PLAINTEXT;
        }
    }
}

static void
on_piece (gboolean to_server, const guint8 *data, gsize size, gpointer user_data)
{
  Tap *tap = user_data;

  count_records (to_server ? &tap->to_server : &tap->to_client, data, size);
}

/* What one end writes (all of it, in writes as large as the library takes) and reads (1000
 * bytes per on_receive, into the TestSocket's 'received'). */
typedef struct
{
  const guint8 *out;
  gsize out_size;
  gsize sent;
  gboolean writing;
} End;

static void
write_some (TestSocket *socket, End *end)
{
  while (end->writing && end->sent < end->out_size)
    {
      gssize n = c_async_socket_send (S (socket), end->out + end->sent, end->out_size - end->sent,
                                      0, NULL);
      if (n <= 0)
        return; /* would block: on_send comes back */
      end->sent += (gsize) n;
    }
}

static void
small_reader_writer (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  End *end = data;

  if (which == C_NOTIFY_RECEIVE)
    {
      guint8 buffer[READ_SIZE];
      gssize n = c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);

      if (n > 0)
        g_byte_array_append (socket->received, buffer, (guint) n);
    }
  else if (which == C_NOTIFY_SEND && end != NULL)
    write_some (socket, end);
}

typedef struct
{
  TestSocket *client;
  TestSocket *server;
  gsize size;
} Both;

static gboolean
both_received (gpointer data)
{
  Both *both = data;

  return (both->client->received->len >= both->size && both->server->received->len >= both->size)
         || both->client->counts[C_NOTIFY_CLOSE] > 0 || both->server->counts[C_NOTIFY_CLOSE] > 0;
}

Test (chaos_tls, full_size_tls_records_relayed_one_byte_per_write, .timeout = 300)
{
  /* Under Valgrind each relayed byte costs a hundred times more: 64 KiB there (4 records). */
  const gsize size = RUNNING_ON_VALGRIND ? 64 * 1024 : 256 * 1024;
  const guint full_records = (guint) (size / TLS_MAX_PLAINTEXT);
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autofree guint8 *upload = g_malloc (size);
  g_autofree guint8 *download = g_malloc (size);
  g_autoptr (GError) error = NULL;
  g_autoptr (TestSocket) client = NULL;
  Server server = { .server_hook = small_reader_writer };
  End client_end = { 0 }, server_end = { 0 };
  Tap tap = { 0 };
  ChaosConfig config;
  ChaosStats stats;
  ChaosProxy *proxy;
  TestSocket *connection;
  Both both;

  fill_payload (upload, size, 1, 0x5eed);
  fill_payload (download, size, 2, 0x5eed);
  server_open (&server, server_tls);

  /* Only 1-byte pieces: no faults, delays or stalls (the seed then only decides when the
   * proxy lets the loop turn between two bytes). */
  chaos_config_init (&config, 1);
  config.max_piece = 1;
  config.reset_probability = 0;
  config.half_close_probability = 0;
  config.delay_probability = 0;
  config.stall_probability = 0;
  proxy = chaos_proxy_new (&config, 0, "127.0.0.1", server.port, &error);
  cr_assert_not_null (proxy, "%s", error ? error->message : "");
  chaos_proxy_set_tap (proxy, on_piece, &tap);

  client = client_connect (client_tls, "localhost", chaos_proxy_get_port (proxy));
  assert_connected (client);
  connection = server_connection (&server, 0);
  connection->hook_data = &server_end;
  client->hook = small_reader_writer;
  client->hook_data = &client_end;

  /* Both directions at once. */
  client_end = (End){ .out = upload, .out_size = size, .writing = TRUE };
  server_end = (End){ .out = download, .out_size = size, .writing = TRUE };
  write_some (client, &client_end);
  write_some (connection, &server_end);
  both = (Both){ .client = client, .server = connection, .size = size };
  cr_assert (run_until_within (both_received, &both, RUNNING_ON_VALGRIND ? 240000 : 60000),
             "the server read %u of %zu bytes (%d on_receive), the client %u (%d on_receive)",
             connection->received->len, size, connection->counts[C_NOTIFY_RECEIVE],
             client->received->len, client->counts[C_NOTIFY_RECEIVE]);
  cr_assert_eq (connection->counts[C_NOTIFY_CLOSE], 0, "the server's connection closed (%s)",
                g_strerror (connection->errors[C_NOTIFY_CLOSE]));
  cr_assert_eq (client->counts[C_NOTIFY_CLOSE], 0, "the client's connection closed (%s)",
                g_strerror (client->errors[C_NOTIFY_CLOSE]));
  cr_assert_eq (connection->received->len, size);
  cr_assert_eq (client->received->len, size);
  cr_assert (memcmp (connection->received->data, upload, size) == 0, "the upload differs");
  cr_assert (memcmp (client->received->data, download, size) == 0, "the download differs");

  /* What went through the relay: one byte per write, full-size TLS records both ways. */
  chaos_proxy_get_stats (proxy, &stats);
  cr_log_info ("%zu bytes each way in 1-byte writes: %u TLS records (%u full-size) to the server, "
               "%u (%u full-size) back; %d and %d on_receive",
               size, tap.to_server.records, tap.to_server.full_records, tap.to_client.records,
               tap.to_client.full_records, connection->counts[C_NOTIFY_RECEIVE],
               client->counts[C_NOTIFY_RECEIVE]);
  cr_assert_eq (stats.largest_piece, 1, "a piece of %zu bytes", stats.largest_piece);
  cr_assert_eq (stats.pieces, stats.bytes_to_server + stats.bytes_to_client);
  cr_assert_geq (tap.to_server.full_records, full_records, "%u full-size records to the server",
                 tap.to_server.full_records);
  cr_assert_geq (tap.to_client.full_records, full_records, "%u full-size records to the client",
                 tap.to_client.full_records);
  cr_assert_eq (tap.to_server.header_have + tap.to_server.body_left, 0, "a partial record");
  cr_assert_eq (tap.to_client.header_have + tap.to_client.body_left, 0, "a partial record");

  /* The end, through the relay too: close_notify, then a graceful close. */
  cr_assert (c_async_socket_shut_down (S (client), C_SHUTDOWN_SENDS, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1), "no on_close on the server");
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], 0, "on_close (%s)",
                g_strerror (connection->errors[C_NOTIFY_CLOSE]));

  g_clear_object (&client);
  server_close (&server);
  chaos_proxy_free (proxy);
  drain_context ();
}

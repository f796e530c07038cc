/* test-tls.c: TLS under the notifications: handshakes, errors, the rules over plaintext
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Certificates are made at test time by tools/make-test-certs.sh, once per build directory
 * (AFXSOCK_TLS_CERTS, set by tests/meson.build); the fixtures are in tls-util.c. Loopback,
 * port 0, no sleeping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls-util.h"

static void
tls_echo (CTlsVersion version, const char *expected)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;

  c_tls_settings_set_versions (client_tls, version, version);
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  cr_assert_str_eq (c_async_socket_get_tls_version (S (client)), expected);
  cr_assert_not_null (c_async_socket_get_peer_certificate (S (client)));
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (client)), 0);
  echo_round_trip (client);
  connection = server_connection (&server, 0);
  cr_assert_eq (connection->counts[C_NOTIFY_SEND], 1, "the server's on_send");
  {
    /* Accounting: the plaintext in the stats, the TLS around it on the wire. */
    CSocketStats stats;
    guint64 wire_sent = 0, wire_received = 0, peer_sent = 0;
    c_async_socket_get_stats (S (client), &stats);
    cr_assert_eq (stats.bytes_sent, 14);
    cr_assert_eq (stats.bytes_received, 14);
    cr_assert (c_async_socket_get_tls_wire_bytes (S (client), &wire_sent, &wire_received));
    cr_assert_gt (wire_sent, 14 + 100, "the ClientHello and a record");
    cr_assert_gt (wire_received, 14 + 300, "the server's flight and a record");
    cr_assert (c_async_socket_get_tls_wire_bytes (S (connection), &peer_sent, NULL));
    cr_assert_eq (peer_sent, wire_received, "what one sent is what the other read");
  }
  cr_assert_null (c_async_socket_get_peer_certificate (S (connection)));
  {
    /* What the certificate says, and its fingerprint: the SHA-256 of its DER form. */
    g_autofree char *subject = NULL, *issuer = NULL, *sha256 = NULL, *expected = NULL;
    g_autofree char *none = NULL, *path = cert_path ("server.pem");
    g_autoptr (GTlsCertificate) certificate = g_tls_certificate_new_from_file (path, NULL);
    g_autoptr (GByteArray) der = NULL;
    GString *hex = g_string_new (NULL);

    cr_assert (c_async_socket_get_peer_certificate_info (S (client), &subject, &issuer, &sha256));
    cr_assert_str_eq (subject, "CN=localhost");
    cr_assert_str_eq (issuer, "CN=afxsock test CA");
    cr_assert_not_null (certificate);
    g_object_get (certificate, "certificate", &der, NULL);
    expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
    for (const char *c = expected; *c != '\0'; c += 2)
      g_string_append_printf (hex, "%s%c%c", c == expected ? "" : ":", g_ascii_toupper (c[0]),
                              g_ascii_toupper (c[1]));
    cr_assert_str_eq (sha256, hex->str);
    g_string_free (hex, TRUE);
    /* The server asked for no client certificate. */
    cr_assert (!c_async_socket_get_peer_certificate_info (S (connection), &none, NULL, NULL));
    cr_assert_null (none);
  }

  /* A close sends close_notify: the server's on_close is the graceful one. */
  g_clear_object (&client);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (connection->counts[C_NOTIFY_CLOSE], 1);
  server_close (&server);
}

Test (tls, echo_tls13, .timeout = 20)
{
  tls_echo (C_TLS_VERSION_1_3, "TLSv1.3");
}

Test (tls, echo_tls12, .timeout = 20)
{
  tls_echo (C_TLS_VERSION_1_2, "TLSv1.2");
}

Test (tls, echo_by_ip_address, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) client = NULL;

  server_open (&server, server_tls);
  client = client_connect (client_tls, "127.0.0.1", server.port);
  assert_connected (client);
  echo_round_trip (client);
  g_clear_object (&client);
  server_close (&server);
}

Test (tls, wrong_host_name, .timeout = 20)
{
  verification_fails ("other-host", G_TLS_CERTIFICATE_BAD_IDENTITY,
                      "certificate for 'example.org' does not match host 'localhost'");
}

Test (tls, unknown_ca, .timeout = 20)
{
  verification_fails ("self-signed", G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown CA");
}

Test (tls, expired, .timeout = 20)
{
  verification_fails ("expired", G_TLS_CERTIFICATE_EXPIRED, "certificate has expired");
}

static gboolean
accept_unknown_ca (CTlsSettings *settings, CAsyncSocket *socket, GTlsCertificate *certificate,
                   GTlsCertificateFlags errors, gpointer data)
{
  int *calls = data;

  (*calls)++;
  cr_assert (G_IS_TLS_CERTIFICATE (certificate));
  return errors == G_TLS_CERTIFICATE_UNKNOWN_CA; /* pinning would compare the certificate */
}

Test (tls, accept_certificate_overrides, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("self-signed");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) client = NULL;
  int calls = 0;

  g_signal_connect (client_tls, "accept-certificate", G_CALLBACK (accept_unknown_ca), &calls);
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  cr_assert_eq (calls, 1);
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (client)),
                G_TLS_CERTIFICATE_UNKNOWN_CA);
  echo_round_trip (client);
  g_clear_object (&client);
  server_close (&server);
}

Test (tls, client_certificate_required_and_missing, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autofree char *ca = cert_path ("ca.pem");
  Server server = { 0 };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;
  const GError *reason;

  cr_assert (c_tls_settings_set_ca_file (server_tls, ca, NULL));
  c_tls_settings_set_client_auth (server_tls, C_TLS_CLIENT_AUTH_REQUIRE);
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  reason = c_async_socket_get_close_error (S (connection));
  cr_assert_not_null (reason);
  cr_assert (g_error_matches (reason, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED), "%s",
             reason->message);
  cr_assert_not_null (strstr (reason->message, "peer did not send a certificate"));
  /* In TLS 1.3 the client's handshake ends before the server checks: it learns from the
   * alert, as an on_close with the error. */
  if (client->errors[C_NOTIFY_CONNECT] == 0)
    {
      cr_assert (run_until_count (client, C_NOTIFY_CLOSE, 1));
      cr_assert_neq (client->errors[C_NOTIFY_CLOSE], 0);
      reason = c_async_socket_get_close_error (S (client));
      cr_assert (reason && g_error_matches (reason, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED),
                 "%s", reason ? reason->message : "no GError");
    }
  server_close (&server);
}

Test (tls, client_certificate_accepted, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autofree char *ca = cert_path ("ca.pem");
  g_autofree char *pem = cert_path ("client.pem");
  g_autofree char *key = cert_path ("client.key");
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;

  c_tls_settings_set_system_trust (server_tls, FALSE);
  cr_assert (c_tls_settings_set_ca_file (server_tls, ca, NULL));
  c_tls_settings_set_client_auth (server_tls, C_TLS_CLIENT_AUTH_REQUIRE);
  cr_assert (c_tls_settings_set_certificate_files (client_tls, pem, key, NULL));
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  echo_round_trip (client);
  connection = server_connection (&server, 0);
  cr_assert_not_null (c_async_socket_get_peer_certificate (S (connection)));
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (connection)), 0);
  g_clear_object (&client);
  server_close (&server);
}

static void
alpn_case (const char *const *client_protocols, const char *const *server_protocols,
           const char *expected)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { 0 };
  g_autoptr (TestSocket) client = NULL;

  cr_assert (c_tls_settings_set_alpn_protocols (client_tls, client_protocols, NULL));
  cr_assert (c_tls_settings_set_alpn_protocols (server_tls, server_protocols, NULL));
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  if (expected != NULL)
    {
      assert_connected (client);
      cr_assert_str_eq (c_async_socket_get_negotiated_protocol (S (client)), expected);
      cr_assert (run_until_count (server_connection (&server, 0), C_NOTIFY_SEND, 1));
      cr_assert_str_eq (c_async_socket_get_negotiated_protocol (S (server_connection (&server, 0))),
                        expected);
    }
  else
    {
      TestSocket *connection;
      assert_connect_failed (client, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE, "no common protocol");
      connection = server_connection (&server, 0);
      cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
      cr_assert_not_null (
          strstr (c_async_socket_get_close_error (S (connection))->message, "no common protocol"));
    }
  server_close (&server);
}

Test (tls, alpn_agreed, .timeout = 20)
{
  const char *client_protocols[] = { "http/1.1", "h2", NULL };
  const char *server_protocols[] = { "h2", "http/1.1", NULL };
  alpn_case (client_protocols, server_protocols, "h2");
}

Test (tls, alpn_not_agreed, .timeout = 20)
{
  const char *client_protocols[] = { "imap", NULL };
  const char *server_protocols[] = { "h2", NULL };
  alpn_case (client_protocols, server_protocols, NULL);
}

/* ---- The notification rules over plaintext ---------------------------------------------- */

typedef struct
{
  gsize total;
  gsize sent;
  guint8 *data;
} Bulk;

/* Sends a whole buffer from on_send, as the kernel takes it. */
static void
bulk_send_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Bulk *bulk = data;

  if (which != C_NOTIFY_SEND)
    return;
  while (bulk->sent < bulk->total)
    {
      gssize n = c_async_socket_send (S (socket), bulk->data + bulk->sent, bulk->total - bulk->sent,
                                      0, NULL);
      if (n <= 0)
        return;
      bulk->sent += (gsize) n;
    }
}

static void
one_byte_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  guint8 byte;

  if (which == C_NOTIFY_RECEIVE && c_async_socket_receive (S (socket), &byte, 1, 0, NULL) == 1)
    g_byte_array_append (socket->received, &byte, 1);
}

Test (tls, one_byte_reader_gets_everything, .timeout = 30)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Bulk bulk = { 65536, 0, g_malloc (65536) };
  Server server = { .server_hook = bulk_send_hook };
  g_autoptr (TestSocket) client = NULL;

  for (gsize i = 0; i < bulk.total; i++)
    bulk.data[i] = (guint8) (i * 7 + i / 251);
  server_open (&server, server_tls);
  client = test_socket_new ();
  client->hook = one_byte_hook;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", server.port, NULL));
  server_connection (&server, 0)->hook_data = &bulk;
  wait_received (client, (guint) bulk.total);
  cr_assert_eq (client->received->len, bulk.total);
  cr_assert_eq (memcmp (client->received->data, bulk.data, bulk.total), 0);
  /* Every on_receive had its byte: none was spurious. */
  cr_assert_eq ((gsize) client->counts[C_NOTIFY_RECEIVE], bulk.total);
  g_free (bulk.data);
  g_clear_object (&client);
  server_close (&server);
}

Test (tls, close_without_close_notify_is_truncation, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { 0 };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;
  const GError *reason;

  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  client->read_on_receive = TRUE;
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_SEND, 1));
  send_text (connection, "last words");
  wait_received (client, 10);
  /* The kernel's end of stream without TLS's: what an attacker cutting the stream does. */
  shutdown (c_async_socket_get_handle (S (connection)), SHUT_RDWR);
  cr_assert (run_until_count (client, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CLOSE], ECONNABORTED);
  reason = c_async_socket_get_close_error (S (client));
  cr_assert (reason && g_error_matches (reason, G_TLS_ERROR, G_TLS_ERROR_EOF));
  cr_assert_not_null (strstr (reason->message, "truncated: the peer closed without close_notify"));
  g_clear_object (&client);
  server_close (&server);
}

Test (tls, shut_down_is_graceful, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_reads = TRUE };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;

  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  send_text (client, "bye");
  cr_assert (c_async_socket_shut_down (S (client), C_SHUTDOWN_SENDS, NULL));
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (connection->received->len, 3);
  cr_assert_eq (memcmp (connection->received->data, "bye", 3), 0);
  g_clear_object (&client);
  server_close (&server);
}

/* ---- STARTTLS --------------------------------------------------------------------------- */

static void
count_handshake (CAsyncSocket *socket, int error_code, gpointer data)
{
  int *results = data;
  results[0]++;
  results[1] = error_code;
}

static gboolean
both_handshakes (gpointer data)
{
  int *results = data;
  return results[0] >= 1 && results[2] >= 1;
}

/* results[0, 1]: the client's on_handshake count and error; [2, 3]: the server's. */
static void
count_handshakes (Pair *p, int *results)
{
  g_signal_connect (p->client, "handshake", G_CALLBACK (count_handshake), &results[0]);
  g_signal_connect (p->server, "handshake", G_CALLBACK (count_handshake), &results[2]);
}

/* Both handshakes end without error, and an echo goes through the encrypted connection. */
static void
finish_starttls (Pair *p, int *results)
{
  cr_assert (run_until (both_handshakes, results));
  cr_assert_eq (results[1], 0, "client handshake: %s", g_strerror (results[1]));
  cr_assert_eq (results[3], 0, "server handshake: %s", g_strerror (results[3]));
  cr_assert (c_async_socket_is_tls_established (S (p->client)));

  p->server->hook = echo_hook;
  echo_round_trip (p->client);
  pair_close (p);
}

Test (tls, starttls_after_plaintext, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (GError) error = NULL;
  Pair p;
  int results[4] = { 0 };

  pair_open (&p);
  p.server->read_on_receive = TRUE;
  send_text (p.client, "STARTTLS\r\n");
  wait_received (p.server, 10);
  cr_assert_eq (memcmp (p.server->received->data, "STARTTLS\r\n", 10), 0);
  g_byte_array_set_size (p.server->received, 0);
  p.server->read_on_receive = FALSE;

  count_handshakes (&p, results);
  cr_assert (c_async_socket_start_tls (S (p.server), server_tls, NULL, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_start_tls (S (p.client), client_tls, "localhost", &error), "%s",
             error ? error->message : "");
  cr_assert_eq (results[0] + results[2], 0, "on_handshake inside the call");
  finish_starttls (&p, results);
}

typedef struct
{
  TestSocket *socket;
  guint32 at_least;
} Unread;

static gboolean
unread_reached (gpointer data)
{
  Unread *u = data;
  guint32 unread = 0;

  cr_assert (c_async_socket_ioctl (S (u->socket), FIONREAD, &unread, NULL));
  return unread >= u->at_least;
}

/* A client that does not wait for the server's answer: its ClientHello follows the command
 * at once and has arrived when the server reads the command and starts TLS. The server must
 * read no further than it asked, and those bytes are the handshake's, not lost (a transport
 * that read ahead would have to hand them over: docs/performance.md, "The io_uring back end:
 * built, measured, removed"). */
Test (tls, starttls_with_the_handshake_right_behind_the_command, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (GError) error = NULL;
  Pair p;
  int results[4] = { 0 };
  char command[10];
  Unread unread;

  pair_open (&p);
  count_handshakes (&p, results);
  send_text (p.client, "STARTTLS\r\n");
  cr_assert (c_async_socket_start_tls (S (p.client), client_tls, "localhost", &error), "%s",
             error ? error->message : "");
  /* The command and a ClientHello (more than 100 bytes) have arrived. */
  unread = (Unread){ p.server, 10 + 100 };
  cr_assert (run_until (unread_reached, &unread));
  cr_assert_eq (c_async_socket_receive (S (p.server), command, sizeof command, 0, &error), 10);
  cr_assert_eq (memcmp (command, "STARTTLS\r\n", 10), 0);
  cr_assert (c_async_socket_start_tls (S (p.server), server_tls, NULL, &error), "%s",
             error ? error->message : "");
  finish_starttls (&p, results);
}

/* ---- What is built on the transport ----------------------------------------------------- */

Test (tls, records_arrive_whole, .timeout = 30)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_records = TRUE };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;
  gsize sizes[] = { 1, 100, 16384, 16385, 200000 };

  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree guint8 *data = g_malloc (sizes[i]);
      g_autoptr (GBytes) record = NULL;
      memset (data, (int) ('a' + i), sizes[i]);
      record = g_bytes_new (data, sizes[i]);
      cr_assert (c_async_socket_send_record (S (client), record, NULL));
    }
  connection = server_connection (&server, 0);
  cr_assert (run_until_records (connection, G_N_ELEMENTS (sizes)), "%u records",
             connection->records->len);
  cr_assert_eq (connection->records->len, G_N_ELEMENTS (sizes));
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      GBytes *record = g_ptr_array_index (connection->records, i);
      const guint8 *data = g_bytes_get_data (record, NULL);
      cr_assert_eq (g_bytes_get_size (record), sizes[i]);
      cr_assert_eq (data[0], 'a' + i);
      cr_assert_eq (data[sizes[i] - 1], 'a' + i);
    }
  g_clear_object (&client);
  server_close (&server);
}

/* CSocket's blocking calls hold the other sockets of their context, so the server of these
 * tests runs on a thread and context of its own. */
typedef struct
{
  const char *certificate;
  GMutex lock;
  GCond cond;
  guint port;
  gboolean stop;
  GMainContext *context;
} ServerThread;

static gboolean
stop_server (gpointer data)
{
  ((ServerThread *) data)->stop = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
server_thread (gpointer data)
{
  ServerThread *thread = data;
  g_autoptr (CTlsSettings) settings = server_settings (thread->certificate);
  Server server = { .server_hook = echo_hook };

  g_main_context_push_thread_default (thread->context);
  server_open (&server, settings);
  g_mutex_lock (&thread->lock);
  thread->port = server.port;
  g_cond_signal (&thread->cond);
  g_mutex_unlock (&thread->lock);
  while (!thread->stop)
    g_main_context_iteration (thread->context, TRUE);
  server_close (&server);
  g_main_context_pop_thread_default (thread->context);
  return NULL;
}

static GThread *
server_thread_start (ServerThread *thread, const char *certificate)
{
  GThread *handle;

  thread->certificate = certificate;
  thread->context = g_main_context_new ();
  g_mutex_init (&thread->lock);
  g_cond_init (&thread->cond);
  handle = g_thread_new ("tls-server", server_thread, thread);
  g_mutex_lock (&thread->lock);
  while (thread->port == 0)
    g_cond_wait (&thread->cond, &thread->lock);
  g_mutex_unlock (&thread->lock);
  return handle;
}

static void
server_thread_stop (ServerThread *thread, GThread *handle)
{
  g_main_context_invoke (thread->context, stop_server, thread);
  g_thread_join (handle);
  g_main_context_unref (thread->context);
  g_mutex_clear (&thread->lock);
  g_cond_clear (&thread->cond);
}

Test (tls, csocket_file_and_archive, .timeout = 30)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  ServerThread server = { 0 };
  GThread *thread = server_thread_start (&server, "server");
  g_autoptr (CSocket) client = c_socket_new ();
  g_autoptr (CSocketFile) file = NULL;
  g_autoptr (CArchive) out = NULL;
  g_autoptr (GError) error = NULL;
  char buffer[64];
  gssize n;

  c_socket_set_timeout (client, 10000);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error));
  cr_assert (c_socket_connect (client, "127.0.0.1", server.port, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_is_tls_established (S (client)));

  cr_assert_eq (c_socket_send (client, "ping", 4, 0, &error), 4);
  n = c_socket_receive (client, buffer, sizeof buffer, 0, &error);
  cr_assert_eq (n, 4, "%s", error ? error->message : "");
  cr_assert_eq (memcmp (buffer, "ping", 4), 0);

  /* An archive through a CSocketFile: the echo sends it back, read through the file. */
  file = c_socket_file_new (client);
  out = c_archive_new_store_to_stream (g_io_stream_get_output_stream (G_IO_STREAM (file)),
                                       C_ARCHIVE_FORMAT_NETWORK, 0);
  c_archive_write_uint (out, 42);
  c_archive_write_string (out, "over TLS\n");
  cr_assert (c_archive_flush (out, &error), "%s", error ? error->message : "");
  {
    g_autoptr (CArchive) in = c_archive_new_load_from_stream (
        g_io_stream_get_input_stream (G_IO_STREAM (file)), C_ARCHIVE_FORMAT_NETWORK, 0);
    g_autofree char *text = NULL;
    cr_assert_eq (c_archive_read_uint (in), 42);
    text = c_archive_read_string (in);
    cr_assert_str_eq (text, "over TLS");
  }
  g_clear_object (&out);
  g_clear_object (&file);
  g_clear_object (&client);
  server_thread_stop (&server, thread);
}

Test (tls, csocket_connect_reports_the_handshake_error, .timeout = 20)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  ServerThread server = { 0 };
  GThread *thread = server_thread_start (&server, "other-host");
  g_autoptr (CSocket) client = c_socket_new ();
  g_autoptr (GError) error = NULL;

  c_socket_set_timeout (client, 10000);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error));
  cr_assert (!c_socket_connect (client, "127.0.0.1", server.port, &error));
  assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "does not match host 'localhost'");
  g_clear_object (&client);
  server_thread_stop (&server, thread);
}

Test (tls, garbage_instead_of_client_hello, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) hostile = test_socket_new ();
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;
  const GError *reason;

  server_open (&server, server_tls);
  cr_assert (c_async_socket_create (S (hostile), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (hostile), "127.0.0.1", server.port, NULL));
  cr_assert (run_until_count (hostile, C_NOTIFY_SEND, 1));
  send_text (hostile, "GET / HTTP/1.0\r\n\r\n");
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], EPROTO);
  reason = c_async_socket_get_close_error (S (connection));
  cr_assert (reason && g_error_matches (reason, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS), "%s",
             reason ? reason->message : "no GError");
  cr_assert_not_null (strstr (reason->message, "does not speak TLS"));

  /* The listener goes on serving. */
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  echo_round_trip (client);
  g_clear_object (&client);
  server_close (&server);
}

/* ---- Other implementations as peers ----------------------------------------------------- */

Test (tls, interop_openssl_s_server, .timeout = 20)
{
  g_autofree char *cert = cert_path ("server.pem");
  g_autofree char *key = cert_path ("server.key");
  const char *argv[] = { "openssl", "s_server", "-accept",  "127.0.0.1:0", "-cert", cert,
                         "-key",    key,        "-naccept", "1",           "-rev",  NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (TestSocket) client = NULL;
  guint port = 0;

  cr_assert_not_null (process, "%s", error ? error->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  /* s_server takes port 0 and says which port it got: "ACCEPT 127.0.0.1:PORT". */
  while (port == 0)
    {
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);
      cr_assert_not_null (line, "s_server ended before ACCEPT");
      if (g_str_has_prefix (line, "ACCEPT "))
        port = (guint) atoi (strrchr (line, ':') + 1);
    }
  client = client_connect (client_tls, "localhost", port);
  assert_connected (client);
  client->read_on_receive = TRUE;
  send_text (client, "hello\n");
  wait_received (client, 5);
  cr_assert_not_null (
      g_strstr_len ((char *) client->received->data, client->received->len, "olleh"));
  g_clear_object (&client);
  g_subprocess_force_exit (process);
}

Test (tls, interop_openssl_s_client, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autofree char *ca = cert_path ("ca.pem");
  Server server = { .server_reads = TRUE };
  g_autofree char *address = NULL;
  g_autofree char *output = NULL;
  TestSocket *connection;

  server_open (&server, server_tls);
  address = g_strdup_printf ("127.0.0.1:%u", server.port);
  {
    const char *argv[] = { "openssl",     "s_client",  "-connect",
                           address,       "-CAfile",   ca,
                           "-servername", "localhost", "-verify_return_error",
                           NULL };
    output = run_peer (argv, "ping from s_client\n");
  }
  cr_assert_not_null (strstr (output, "Verify return code: 0 (ok)"), "%s", output);
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], 0, "s_client's close: %s",
                g_strerror (connection->errors[C_NOTIFY_CLOSE]));
  cr_assert_eq (connection->received->len, 19);
  cr_assert_eq (memcmp (connection->received->data, "ping from s_client\n", 19), 0);
  server_close (&server);
}

static const char python_client[]
    = "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as raw:\n"
      "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n"
      "        s.sendall(b'python says hi')\n"
      "        data = b''\n"
      "        while len(data) < 14:\n"
      "            data += s.recv(100)\n"
      "        print(data.decode(), s.version())\n"
      "        s.unwrap()\n";

/* Echoes, and answers the peer's close_notify with its own by closing (Python's unwrap
 * waits for it). */
static void
echo_then_close_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  echo_hook (socket, which, error_code, data);
  if (which == C_NOTIFY_CLOSE)
    c_async_socket_close (S (socket));
}

Test (tls, interop_python_ssl, .timeout = 20)
{
#ifdef __SANITIZE_ADDRESS__
  if (g_getenv ("AFXSOCK_TRY_PYTHON_UNDER_ASAN") == NULL)
    {
      /* Open issue: under AddressSanitizer the Python client hangs in unwrap() (not
       * understood yet; the plain build passes). */
      cr_skip_test ("the Python peer hangs under AddressSanitizer (open issue)");
    }
#endif
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autofree char *ca = cert_path ("ca.pem");
  Server server = { .server_hook = echo_then_close_hook };
  g_autofree char *port = NULL;
  g_autofree char *output = NULL;
  TestSocket *connection;

  server_open (&server, server_tls);
  port = g_strdup_printf ("%u", server.port);
  {
    const char *argv[] = { "/usr/bin/python3", "-c", python_client, ca, port, NULL };
    output = run_peer (argv, NULL);
  }
  cr_assert_str_eq (output, "python says hi TLSv1.3\n");
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], 0);
  server_close (&server);
}

/* ---- Server names (SNI) ----------------------------------------------------------------- */

/* A client that asks for @name (verified against it) is served: the certificate held the
 * name, and the server read which one was asked for. */
static void
assert_served_as (CTlsSettings *server_tls, const char *name)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) client = NULL;

  server_open (&server, server_tls);
  client = client_connect (client_tls, name, server.port);
  assert_connected (client);
  echo_round_trip (client);
  cr_assert_str_eq (c_async_socket_get_tls_server_name (S (client)), name);
  cr_assert_str_eq (c_async_socket_get_tls_server_name (S (server_connection (&server, 0))), name);
  g_clear_object (&client);
  server_close (&server);
}

Test (tls, sni_chooses_the_certificate, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autofree char *pem = cert_path ("other-host.pem");
  g_autofree char *key = cert_path ("other-host.key");
  g_autoptr (GError) error = NULL;

  /* The default certificate is for localhost, the added one for example.org; a wildcard
   * that also matches example.org loses to the exact name. */
  cr_assert (c_tls_settings_add_server_name_files (server_tls, "example.org", pem, key, &error),
             "%s", error ? error->message : "");
  {
    g_autofree char *localhost_pem = cert_path ("server.pem");
    g_autofree char *localhost_key = cert_path ("server.key");
    cr_assert (c_tls_settings_add_server_name_files (server_tls, "*.org", localhost_pem,
                                                     localhost_key, &error),
               "%s", error ? error->message : "");
  }
  assert_served_as (server_tls, "example.org");
  assert_served_as (server_tls, "localhost"); /* not listed: the default */
}

Test (tls, sni_wildcard_and_bad_names, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autofree char *pem = cert_path ("other-host.pem");
  g_autofree char *key = cert_path ("other-host.key");
  /* not cert_path: that remakes the whole set for a missing file, under the other TLS tests */
  g_autofree char *missing = g_build_filename (certs_dir (), "no-such.pem", NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (c_tls_settings_add_server_name_files (server_tls, "*.ORG", pem, key, &error), "%s",
             error ? error->message : "");
  assert_served_as (server_tls, "example.org");

  cr_assert (!c_tls_settings_add_server_name_files (server_tls, "*", pem, key, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'*' is not a host name");
  cr_assert (!c_tls_settings_add_server_name_files (server_tls, "a.*.org", pem, key, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'a.*.org'");
  cr_assert (!c_tls_settings_add_server_name_files (server_tls, "", pem, key, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "is not a host name");
  cr_assert (!c_tls_settings_add_server_name_files (client_tls, "example.org", pem, key, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "for server settings");
  cr_assert (!c_tls_settings_add_server_name_files (server_tls, "x.org", missing, key, &error));
  assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "no-such.pem");
  /* A certificate with another's key. */
  {
    g_autofree char *other_key = cert_path ("server.key");
    cr_assert (!c_tls_settings_add_server_name_files (server_tls, "x.org", pem, other_key, &error));
    assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "server.key");
  }
}

/* ---- Session resumption ----------------------------------------------------------------- */

/* Connects, echoes (which also reads the session tickets a TLS 1.3 server sends after its
 * handshake) and closes; says whether the handshake was resumed, on both ends. */
static gboolean
connect_and_echo (CTlsSettings *client_tls, const char *name, Server *server)
{
  g_autoptr (TestSocket) client = client_connect (client_tls, name, server->port);
  TestSocket *connection;
  gboolean resumed;

  assert_connected (client);
  echo_round_trip (client);
  resumed = c_async_socket_is_tls_session_resumed (S (client));
  connection = server_connection (server, server->servers->len - 1);
  cr_assert (run_until_received (client, 14));
  cr_assert_eq (c_async_socket_is_tls_session_resumed (S (connection)), resumed,
                "the two ends disagree on resumption");
  /* A resumed session still tells whom it is talking to. */
  cr_assert_not_null (c_async_socket_get_peer_certificate (S (client)));
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (client)), 0);
  return resumed;
}

static void
resumption (CTlsVersion version)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };

  c_tls_settings_set_versions (client_tls, version, version);
  server_open (&server, server_tls);
  cr_assert (!connect_and_echo (client_tls, "localhost", &server), "the first was resumed");
  cr_assert (connect_and_echo (client_tls, "localhost", &server), "the second was not resumed");
  cr_assert (connect_and_echo (client_tls, "localhost", &server), "the third was not resumed");
  /* A session is offered only to the name it was verified for. */
  cr_assert (!connect_and_echo (client_tls, "127.0.0.1", &server), "resumed for another name");
  server_close (&server);
}

Test (tls, session_resumed_tls13, .timeout = 20)
{
  resumption (C_TLS_VERSION_1_3);
}

Test (tls, session_resumed_tls12, .timeout = 20)
{
  resumption (C_TLS_VERSION_1_2);
}

Test (tls, session_resumption_turned_off, .timeout = 20)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };

  server_open (&server, server_tls);
  c_tls_settings_set_session_resumption (client_tls, FALSE);
  cr_assert (!connect_and_echo (client_tls, "localhost", &server));
  cr_assert (!connect_and_echo (client_tls, "localhost", &server), "resumed though turned off");
  /* Back on at the client, off at the server: still full handshakes. */
  c_tls_settings_set_session_resumption (client_tls, TRUE);
  c_tls_settings_set_session_resumption (server_tls, FALSE);
  cr_assert (!connect_and_echo (client_tls, "localhost", &server));
  cr_assert (!connect_and_echo (client_tls, "localhost", &server), "the server resumed");
  server_close (&server);
}

/* ---- CSocket: STARTTLS, and giving up on a handshake ------------------------------------ */

/* A plaintext server on a thread of its own: each connection reads "STARTTLS\r\n", then
 * (if @answer) starts its TLS handshake, and echoes what comes after. */
typedef struct
{
  CTlsSettings *settings;
  gboolean answer;
  ServerThread thread;
} StartTlsServer;

static void
starttls_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  StartTlsServer *server = data;
  char line[10];

  if (which != C_NOTIFY_RECEIVE)
    return;
  if (c_async_socket_is_tls_established (S (socket)))
    {
      echo_hook (socket, which, error_code, NULL);
      return;
    }
  if (c_async_socket_receive (S (socket), line, sizeof line, 0, NULL) == sizeof line
      && server->answer)
    cr_assert (c_async_socket_start_tls (S (socket), server->settings, NULL, NULL));
}

static void
starttls_accept (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  GPtrArray *connections = g_object_get_data (G_OBJECT (listener), "connections");
  TestSocket *connection = test_socket_new ();

  if (which != C_NOTIFY_ACCEPT)
    {
      g_object_unref (connection);
      return;
    }
  connection->hook = starttls_hook;
  connection->hook_data = data;
  if (c_async_socket_accept (S (listener), S (connection), NULL, NULL))
    g_ptr_array_add (connections, connection);
  else
    g_object_unref (connection);
}

static gpointer
starttls_server_thread (gpointer data)
{
  StartTlsServer *server = data;
  ServerThread *thread = &server->thread;
  g_autoptr (TestSocket) listener = NULL;
  guint port = 0;

  g_main_context_push_thread_default (thread->context);
  listener = make_listener (NULL, &port);
  g_object_set_data_full (G_OBJECT (listener), "connections",
                          g_ptr_array_new_with_free_func (g_object_unref),
                          (GDestroyNotify) g_ptr_array_unref);
  listener->hook = starttls_accept;
  listener->hook_data = server;
  g_mutex_lock (&thread->lock);
  thread->port = port;
  g_cond_signal (&thread->cond);
  g_mutex_unlock (&thread->lock);
  while (!thread->stop)
    g_main_context_iteration (thread->context, TRUE);
  g_clear_object (&listener);
  g_main_context_pop_thread_default (thread->context);
  return NULL;
}

static GThread *
starttls_server_start (StartTlsServer *server, const char *certificate, gboolean answer)
{
  GThread *handle;

  server->settings = server_settings (certificate);
  server->answer = answer;
  server->thread.context = g_main_context_new ();
  g_mutex_init (&server->thread.lock);
  g_cond_init (&server->thread.cond);
  handle = g_thread_new ("starttls-server", starttls_server_thread, server);
  g_mutex_lock (&server->thread.lock);
  while (server->thread.port == 0)
    g_cond_wait (&server->thread.cond, &server->thread.lock);
  g_mutex_unlock (&server->thread.lock);
  return handle;
}

static void
starttls_server_stop (StartTlsServer *server, GThread *handle)
{
  server_thread_stop (&server->thread, handle);
  g_object_unref (server->settings);
}

static void
count_signal (CAsyncSocket *socket, int error_code, gpointer data)
{
  (*(int *) data)++;
}

/* A CSocket connected in plaintext that asked for STARTTLS. */
static CSocket *
starttls_client (guint port, int *late_notifications)
{
  CSocket *client = c_socket_new ();
  g_autoptr (GError) error = NULL;

  c_socket_set_timeout (client, 10000);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_socket_connect (client, "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_socket_send (client, "STARTTLS\r\n", 10, 0, &error), 10);
  g_signal_connect (client, "handshake", G_CALLBACK (count_signal), late_notifications);
  g_signal_connect (client, "connect", G_CALLBACK (count_signal), late_notifications);
  return client;
}

Test (tls, csocket_start_tls, .timeout = 20)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  StartTlsServer server = { 0 };
  GThread *thread = starttls_server_start (&server, "server", TRUE);
  int late = 0;
  g_autoptr (CSocket) client = starttls_client (server.thread.port, &late);
  g_autoptr (GError) error = NULL;
  char buffer[16];

  cr_assert (c_socket_start_tls (client, client_tls, "localhost", &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_is_tls_established (S (client)));
  cr_assert_eq (c_socket_send (client, "secret", 6, 0, &error), 6);
  cr_assert_eq (c_socket_receive (client, buffer, sizeof buffer, 0, &error), 6, "%s",
                error ? error->message : "");
  cr_assert_eq (memcmp (buffer, "secret", 6), 0);
  drain_context ();
  cr_assert_eq (late, 0, "on_handshake after the blocking call");
  /* A second one is refused: the socket has TLS. */
  cr_assert (!c_socket_start_tls (client, client_tls, "localhost", &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE, "already has TLS");
  g_clear_object (&client);
  starttls_server_stop (&server, thread);
}

Test (tls, csocket_start_tls_reports_the_handshake_error, .timeout = 20)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  StartTlsServer server = { 0 };
  GThread *thread = starttls_server_start (&server, "other-host", TRUE);
  int late = 0;
  g_autoptr (CSocket) client = starttls_client (server.thread.port, &late);
  g_autoptr (GError) error = NULL;
  char buffer[4];

  cr_assert (!c_socket_start_tls (client, client_tls, "localhost", &error));
  assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                "start_tls: certificate for 'example.org' does not match host 'localhost'");
  cr_assert (!c_async_socket_is_tls_established (S (client)));
  cr_assert (c_socket_receive (client, buffer, sizeof buffer, 0, &error) <= 0);
  g_clear_error (&error);
  drain_context ();
  cr_assert_eq (late, 0, "a notification after the blocking call");
  g_clear_object (&client);
  starttls_server_stop (&server, thread);
}

/* The server reads the request and never answers: the handshake stalls; the call gives up
 * after CSocket:timeout (or a cancel), and no on_handshake comes later. */
static void
stalled_start_tls (gboolean cancel)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  StartTlsServer server = { 0 };
  GThread *thread = starttls_server_start (&server, "server", FALSE);
  int late = 0;
  g_autoptr (CSocket) client = starttls_client (server.thread.port, &late);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;

  if (cancel)
    {
      c_socket_set_cancellable (client, cancellable);
      g_timeout_add_once (100, (GSourceOnceFunc) g_cancellable_cancel, cancellable);
    }
  else
    c_socket_set_timeout (client, 200);
  cr_assert (!c_socket_start_tls (client, client_tls, "localhost", &error));
  if (cancel)
    assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "start_tls");
  else
    assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "start_tls: timed out");
  cr_assert (!c_async_socket_is_tls_established (S (client)));
  drain_context ();
  cr_assert_eq (late, 0, "a notification after the blocking call");
  g_clear_object (&client);
  starttls_server_stop (&server, thread);
}

Test (tls, csocket_start_tls_times_out, .timeout = 20)
{
  stalled_start_tls (FALSE);
}

Test (tls, csocket_start_tls_cancelled, .timeout = 20)
{
  stalled_start_tls (TRUE);
}

/* TLS from the start against a server that accepts TCP and never speaks TLS. */
Test (tls, csocket_connect_gives_up_on_a_stalled_handshake, .timeout = 20)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  StartTlsServer server = { 0 };
  GThread *thread = starttls_server_start (&server, "server", FALSE);
  g_autoptr (CSocket) client = c_socket_new ();
  g_autoptr (GError) error = NULL;
  int late = 0;

  c_socket_set_timeout (client, 200);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error));
  g_signal_connect (client, "connect", G_CALLBACK (count_signal), &late);
  cr_assert (!c_socket_connect (client, "127.0.0.1", server.thread.port, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "connect: timed out");
  cr_assert (!c_async_socket_is_tls_established (S (client)));
  cr_assert (!c_async_socket_is_connected (S (client)));
  drain_context ();
  cr_assert_eq (late, 0, "on_connect after the blocking connect gave up");
  g_clear_object (&client);
  starttls_server_stop (&server, thread);
}

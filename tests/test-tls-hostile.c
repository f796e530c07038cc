/* test-tls-hostile.c: TLS against hostile peers: stalled handshakes, renegotiation, a
 * server cut off without close_notify, and 1,000 abandoned half-handshakes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loopback, port 0, no sleeping: every wait runs the main loop until a condition holds. The
 * idle timeout (c_async_socket_set_idle_timeout, record mode) is what closes a handshake
 * that stalls: its clock runs from the accept (or the connect) and only received records
 * reset it, so a handshake that stops half-way ends with ETIMEDOUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "reliability/reliability-util.h"
#include "tls-util.h"

/* The first bytes of a TLS 1.2 ClientHello record: a handshake record of 512 bytes that
 * never comes whole. */
static const guint8 half_client_hello[]
    = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x5a, 0x5a };

#define STALL_TIMEOUT_MS 300

/* A TCP connection to 127.0.0.1:@port with a plain blocking socket (no TLS, no afxsock). */
static int
raw_connect (guint port)
{
  struct sockaddr_in address = { .sin_family = AF_INET,
                                 .sin_port = htons ((guint16) port),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  cr_assert (fd >= 0, "socket: %s", g_strerror (errno));
  cr_assert (connect (fd, (struct sockaddr *) &address, sizeof address) == 0, "connect: %s",
             g_strerror (errno));
  return fd;
}

static void
assert_timed_out (TestSocket *socket, CNotify which)
{
  const GError *reason = c_async_socket_get_close_error (S (socket));

  cr_assert_eq (socket->errors[which], ETIMEDOUT, "%s (%s)", g_strerror (socket->errors[which]),
                reason ? reason->message : "no GError");
  cr_assert (reason && g_error_matches (reason, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s",
             reason ? reason->message : "no GError");
  cr_assert_not_null (strstr (reason->message, "no data received for"), "%s", reason->message);
}

/* ---- Stalled handshakes ----------------------------------------------------------------- */

Test (tls_hostile, server_drops_a_stalled_client_hello, .timeout = 60)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook, .server_records = TRUE };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *stalled;
  int fd;

  server_open (&server, server_tls);
  fd = raw_connect (server.port);
  cr_assert_eq (write (fd, half_client_hello, sizeof half_client_hello),
                (ssize_t) sizeof half_client_hello);
  stalled = server_connection (&server, 0);
  /* The timeout on that connection only: the others are served at their own pace. */
  c_async_socket_set_idle_timeout (S (stalled), STALL_TIMEOUT_MS);

  /* Meanwhile a real client is served (record mode on the server: it echoes a record). */
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  {
    g_autoptr (GBytes) record = g_bytes_new_static ("served", 6);
    TestSocket *connection = server_connection (&server, 1);
    cr_assert (c_async_socket_send_record (S (client), record, NULL));
    cr_assert (run_until_records (connection, 1), "the real client's record did not arrive");
    cr_assert (g_bytes_equal (g_ptr_array_index (connection->records, 0), record));
    cr_assert_eq (connection->counts[C_NOTIFY_CLOSE], 0);
  }

  cr_assert (run_until_count (stalled, C_NOTIFY_CLOSE, 1), "the stalled handshake stayed open");
  assert_timed_out (stalled, C_NOTIFY_CLOSE);
  cr_assert_eq (stalled->counts[C_NOTIFY_SEND], 0, "on_send without a handshake");
  close (fd);
  g_clear_object (&client);
  server_close (&server);
}

static void
count_accepts (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  if (which == C_NOTIFY_ACCEPT)
    {
      TestSocket **accepted = data;
      *accepted = test_socket_new ();
      cr_assert (c_async_socket_accept (S (socket), S (*accepted), NULL, NULL));
    }
}

Test (tls_hostile, client_drops_a_silent_server, .timeout = 60)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) accepted = NULL;
  g_autoptr (GError) error = NULL;
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);

  /* A plaintext server that accepts and says nothing: the ClientHello is never answered. */
  listener->hook = count_accepts;
  listener->hook_data = &accepted;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, &error));
  c_async_socket_set_idle_timeout (S (client), STALL_TIMEOUT_MS);
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error), "%s",
             error->message);
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error), "%s", error->message);
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "the stalled handshake never ended");
  assert_timed_out (client, C_NOTIFY_CONNECT);
  cr_assert_eq (client->counts[C_NOTIFY_SEND], 0);
  cr_assert_not_null (accepted);
}

/* ---- Renegotiation ---------------------------------------------------------------------- */

Test (tls_hostile, renegotiation_is_refused, .timeout = 60)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autofree char *ca = cert_path ("ca.pem");
  Server server = { .server_reads = TRUE };
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *address = NULL;
  g_autofree char *output = NULL;
  TestSocket *bystander, *renegotiator;
  const GError *reason;

  server_open (&server, server_tls);
  /* A connection that stays up meanwhile. */
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  bystander = server_connection (&server, 0);
  address = g_strdup_printf ("127.0.0.1:%u", server.port);
  {
    /* 'R' at the start of what it reads: s_client renegotiates (TLS 1.2 only). */
    const char *argv[] = { "openssl", "s_client", "-connect",    address,     "-CAfile",
                           ca,        "-tls1_2",  "-servername", "localhost", NULL };
    g_autofree char *path = g_find_program_in_path ("openssl");
    if (path == NULL)
      cr_skip_test ("openssl is not installed (tools/setup-deps.sh installs it)");
    output = run_peer (argv, "R\n");
  }
  cr_assert_eq (server.servers->len, 2);
  renegotiator = g_ptr_array_index (server.servers, 1);
  cr_assert (run_until_count (renegotiator, C_NOTIFY_CLOSE, 1));
  reason = c_async_socket_get_close_error (S (renegotiator));
  /* We refuse with a no_renegotiation alert; s_client gives up with a handshake_failure
   * alert, which ends the connection as a protocol error. */
  cr_assert_eq (renegotiator->errors[C_NOTIFY_CLOSE], EPROTO, "%s",
                g_strerror (renegotiator->errors[C_NOTIFY_CLOSE]));
  cr_assert (reason && g_error_matches (reason, G_TLS_ERROR, G_TLS_ERROR_MISC), "%s",
             reason ? reason->message : "no GError");
  cr_assert_not_null (strstr (reason->message, "alert handshake failure"), "%s", reason->message);
  cr_assert_eq (renegotiator->received->len, 0, "%u bytes", renegotiator->received->len);

  /* Only that connection: the other one still works. */
  cr_assert_eq (bystander->counts[C_NOTIFY_CLOSE], 0);
  send_text (client, "still here");
  wait_received (bystander, 10);
  cr_assert_eq (memcmp (bystander->received->data, "still here", 10), 0);
  g_clear_object (&client);
  server_close (&server);
}

/* ---- A server cut off without close_notify ---------------------------------------------- */

/* test-tls.c's close_without_close_notify_is_truncation cuts the server's stream under our
 * client; here a client's stream is cut under our server. */
Test (tls_hostile, server_sees_truncation_without_close_notify, .timeout = 60)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_reads = TRUE };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;
  const GError *reason;

  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  send_text (client, "last words");
  connection = server_connection (&server, 0);
  wait_received (connection, 10);
  shutdown (c_async_socket_get_handle (S (client)), SHUT_RDWR);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], ECONNABORTED);
  reason = c_async_socket_get_close_error (S (connection));
  cr_assert (reason && g_error_matches (reason, G_TLS_ERROR, G_TLS_ERROR_EOF), "%s",
             reason ? reason->message : "no GError");
  cr_assert_not_null (strstr (reason->message, "truncated: the peer closed without close_notify"));
  cr_assert_eq (memcmp (connection->received->data, "last words", 10), 0);
  g_clear_object (&client);
  server_close (&server);
}

/* ---- 1,000 abandoned half-handshakes ---------------------------------------------------- */

/* A listener whose connections drop themselves at their on_close: what stays alive is what
 * the library still holds. */
typedef struct
{
  TestSocket *listener;
  guint port;
  GHashTable *live; /* TestSocket → itself */
  guint accepted;
  guint closed;
  guint finalized; /* connection objects gone (weak references) */
} Abandoned;

static void
finalized (gpointer data, GObject *gone)
{
  ((Abandoned *) data)->finalized++;
}

static void
drop_on_close (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Abandoned *a = data;

  if (which == C_NOTIFY_CLOSE && g_hash_table_remove (a->live, socket))
    a->closed++;
}

static void
accept_and_track (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Abandoned *a = data;
  TestSocket *connection;

  if (which != C_NOTIFY_ACCEPT)
    return;
  connection = test_socket_new ();
  connection->hook = drop_on_close;
  connection->hook_data = a;
  if (c_async_socket_accept (S (socket), S (connection), NULL, NULL))
    {
      g_object_weak_ref (G_OBJECT (connection), finalized, a);
      g_hash_table_add (a->live, connection);
      a->accepted++;
    }
  else
    g_object_unref (connection);
}

static gboolean
all_closed (gpointer data)
{
  Abandoned *a = data;
  return a->closed == a->accepted && g_hash_table_size (a->live) == 0;
}

static gboolean
accepted_at_least (gpointer data)
{
  Abandoned *a = data;
  return a->accepted >= GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (a->listener), "want"));
}

Test (tls_hostile, thousand_abandoned_half_handshakes, .timeout = 60)
{
  /* Under Valgrind each connection costs far more: 200 there (the same paths). */
  const guint total = RUNNING_ON_VALGRIND ? 200 : 1000;
  const guint batch = 50;
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (GError) error = NULL;
  g_autoptr (TestSocket) client = NULL;
  Abandoned a = { 0 };
  int before, after;

  a.live = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  a.listener = make_listener (NULL, &a.port);
  a.listener->hook = accept_and_track;
  a.listener->hook_data = &a;
  cr_assert (c_async_socket_set_tls (S (a.listener), server_tls, NULL, &error), "%s",
             error ? error->message : "");
  drain_context ();
  before = count_open_descriptors ();

  for (guint done = 0; done < total; done += batch)
    {
      int fds[64];

      for (guint i = 0; i < batch; i++)
        {
          guint n = done + i;
          fds[i] = raw_connect (a.port);
          /* A third send nothing, a third half a ClientHello, a third a few bytes of it. */
          if (n % 3 == 1)
            cr_assert_eq (write (fds[i], half_client_hello, sizeof half_client_hello),
                          (ssize_t) sizeof half_client_hello);
          else if (n % 3 == 2)
            cr_assert_eq (write (fds[i], half_client_hello, 3), 3);
        }
      g_object_set_data (G_OBJECT (a.listener), "want", GUINT_TO_POINTER (done + batch));
      cr_assert (run_until (accepted_at_least, &a), "%u of %u accepted", a.accepted, done + batch);
      for (guint i = 0; i < batch; i++)
        {
          /* Every other one resets (SO_LINGER 0), the rest close. */
          if ((done + i) % 2 == 0)
            {
              struct linger linger = { 1, 0 };
              setsockopt (fds[i], SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
            }
          close (fds[i]);
        }
    }
  cr_assert (run_until (all_closed, &a), "%u accepted, %u closed, %u still alive", a.accepted,
             a.closed, g_hash_table_size (a.live));
  cr_assert_eq (a.accepted, total);
  drain_context ();
  after = count_open_descriptors ();
  cr_assert_eq (after, before, "%d descriptors before, %d after:\n%s", before, after,
                describe_open_descriptors ());
  cr_assert_eq (a.finalized, total, "%u of %u connection objects still alive", total - a.finalized,
                total);

  /* The listener still serves a real client. */
  client = client_connect (client_tls, "localhost", a.port);
  assert_connected (client);
  cr_assert_eq (g_hash_table_size (a.live), 1);
  g_clear_object (&client);
  cr_assert (run_until (all_closed, &a), "the real client's connection did not close");
  cr_assert_eq (a.finalized, total + 1);
  g_hash_table_unref (a.live);
  g_clear_object (&a.listener);
}

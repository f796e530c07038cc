/* tls-util.c: fixtures shared by the TLS tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tls-util.h"

/* ---- Certificates and settings ---------------------------------------------------------- */

/* Makes the certificates into @dir with tools/make-test-certs.sh: in a temporary directory,
 * then renamed, so that they are never half there; a set made by an older script (one that
 * lacks a file a test asks for) is moved aside first. */
static void
make_certs (const char *dir)
{
  const char *script = g_getenv ("AFXSOCK_MAKE_CERTS");
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", dir, (int) getpid ());
  g_autofree char *old = g_strdup_printf ("%s.old-%d", dir, (int) getpid ());
  g_autofree char *ca = g_build_filename (dir, "ca.pem", NULL);
  const char *argv[] = { script, tmp, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;

  cr_assert_not_null (script, "AFXSOCK_MAKE_CERTS is not set");
  cr_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                           &status, &error),
             "%s: %s", script, error ? error->message : "");
  cr_assert (g_spawn_check_wait_status (status, &error), "%s: %s", script, error->message);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    rename (dir, old); /* another process may have done it: then this fails, harmlessly */
  if (rename (tmp, dir) != 0)
    cr_assert (g_file_test (ca, G_FILE_TEST_EXISTS), "no certificates in %s", dir);
}

const char *
certs_dir (void)
{
  static char *dir;

  if (dir == NULL)
    {
      const char *env = g_getenv ("AFXSOCK_TLS_CERTS");
      g_autofree char *ca = NULL;

      cr_assert_not_null (env, "AFXSOCK_TLS_CERTS is not set");
      dir = g_strdup (env);
      ca = g_build_filename (dir, "ca.pem", NULL);
      if (!g_file_test (ca, G_FILE_TEST_EXISTS))
        make_certs (dir);
    }
  return dir;
}

char *
cert_path (const char *name)
{
  char *path = g_build_filename (certs_dir (), name, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    make_certs (certs_dir ());
  return path;
}

CTlsSettings *
server_settings (const char *name)
{
  CTlsSettings *settings = c_tls_settings_new (C_TLS_ROLE_SERVER);
  g_autofree char *pem = g_strdup_printf ("%s.pem", name);
  g_autofree char *key = g_strdup_printf ("%s.key", name);
  g_autofree char *pem_path = cert_path (pem);
  g_autofree char *key_path = cert_path (key);
  g_autoptr (GError) error = NULL;

  cr_assert (c_tls_settings_set_certificate_files (settings, pem_path, key_path, &error), "%s",
             error ? error->message : "");
  return settings;
}

CTlsSettings *
client_settings (void)
{
  CTlsSettings *settings = c_tls_settings_new (C_TLS_ROLE_CLIENT);
  g_autofree char *ca = cert_path ("ca.pem");
  g_autoptr (GError) error = NULL;

  c_tls_settings_set_system_trust (settings, FALSE);
  cr_assert (c_tls_settings_set_ca_file (settings, ca, &error), "%s", error ? error->message : "");
  return settings;
}

/* ---- Connections ------------------------------------------------------------------------ */

static void
accept_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Server *server = data;
  TestSocket *connection;

  if (which != C_NOTIFY_ACCEPT)
    return;
  connection = test_socket_new ();
  connection->hook = server->server_hook;
  connection->read_on_receive = server->server_reads;
  if (c_async_socket_accept (S (socket), S (connection), NULL, NULL))
    g_ptr_array_add (server->servers, connection);
  else
    g_object_unref (connection);
}

void
server_open (Server *server, CTlsSettings *settings)
{
  g_autoptr (GError) error = NULL;

  server->servers = g_ptr_array_new_with_free_func (g_object_unref);
  server->listener = make_listener (NULL, &server->port);
  server->listener->hook = accept_hook;
  server->listener->hook_data = server;
  if (server->server_records)
    cr_assert (c_async_socket_set_record_mode (S (server->listener), TRUE, &error));
  cr_assert (c_async_socket_set_tls (S (server->listener), settings, NULL, &error), "%s",
             error ? error->message : "");
}

void
server_close (Server *server)
{
  g_clear_pointer (&server->servers, g_ptr_array_unref);
  g_clear_object (&server->listener);
}

static gboolean
has_servers (gpointer data)
{
  Server *server = data;
  return server->servers->len > 0;
}

TestSocket *
server_connection (Server *server, guint index)
{
  cr_assert (run_until (has_servers, server), "nothing accepted");
  cr_assert (index < server->servers->len);
  return g_ptr_array_index (server->servers, index);
}

TestSocket *
client_connect (CTlsSettings *settings, const char *peer_name, guint port)
{
  TestSocket *client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_tls (S (client), settings, peer_name, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "no on_connect");
  return client;
}

void
assert_connected (TestSocket *client)
{
  const GError *reason = c_async_socket_get_close_error (S (client));

  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0, "on_connect (%s): %s",
                g_strerror (client->errors[C_NOTIFY_CONNECT]),
                reason ? reason->message : "no GError");
  cr_assert (c_async_socket_is_tls_established (S (client)));
  cr_assert (run_until_count (client, C_NOTIFY_SEND, 1), "no on_send after the handshake");
}

void
assert_connect_failed (TestSocket *client, GQuark domain, int code, const char *fragment)
{
  const GError *reason = c_async_socket_get_close_error (S (client));

  cr_assert_neq (client->errors[C_NOTIFY_CONNECT], 0, "the handshake succeeded");
  cr_assert_not_null (reason, "no GError for the failed handshake");
  cr_assert (reason->domain == domain && reason->code == code, "wrong error: %s (%s %d)",
             reason->message, g_quark_to_string (reason->domain), reason->code);
  cr_assert_not_null (strstr (reason->message, fragment), "'%s' lacks '%s'", reason->message,
                      fragment);
  cr_assert_eq (client->counts[C_NOTIFY_SEND], 0, "on_send after a failed handshake");
}

void
wait_received (TestSocket *socket, guint length)
{
  cr_assert (run_until_received (socket, length), "received %u of %u bytes", socket->received->len,
             length);
}

void
echo_round_trip (TestSocket *client)
{
  client->read_on_receive = TRUE;
  send_text (client, "hello over TLS");
  wait_received (client, 14);
  cr_assert_eq (memcmp (client->received->data, "hello over TLS", 14), 0);
}

void
verification_fails (const char *certificate, GTlsCertificateFlags flag, const char *fragment)
{
  g_autoptr (CTlsSettings) server_tls = server_settings (certificate);
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { 0 };
  g_autoptr (TestSocket) client = NULL;
  TestSocket *connection;

  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connect_failed (client, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, fragment);
  cr_assert (c_async_socket_get_peer_certificate_errors (S (client)) & flag, "flags %#x",
             c_async_socket_get_peer_certificate_errors (S (client)));
  cr_assert (!c_async_socket_is_connected (S (client)));
  connection = server_connection (&server, 0);
  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1), "the server saw no failure");
  cr_assert_neq (connection->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_not_null (c_async_socket_get_close_error (S (connection)));
  cr_assert_eq (connection->counts[C_NOTIFY_SEND], 0);
  server_close (&server);
}

/* ---- Other implementations as peers ----------------------------------------------------- */

typedef struct
{
  gboolean done;
  char *output;
  GError *error;
} Communication;

static void
communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Communication *c = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->output, NULL, &c->error);
  c->done = TRUE;
}

char *
run_peer (const char *const *argv, const char *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  Communication c = { 0 };

  cr_assert_not_null (process, "%s: %s", argv[0], error ? error->message : "");
  g_subprocess_communicate_utf8_async (process, input, NULL, communicated, &c);
  cr_assert (run_until_flag (&c.done), "%s did not finish", argv[0]);
  cr_assert_null (c.error, "%s: %s", argv[0], c.error ? c.error->message : "");
  return c.output;
}

/* test-tls-peers.c: afxsock against other TLS implementations, both directions, TLS 1.2
 * and 1.3
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test echoes 100 KiB (many TLS records) byte-exact through a peer and ends with a
 * graceful close: GnuTLS (gnutls-serv --echo, gnutls-cli), OpenSSL (s_server -rev, s_client),
 * Python's ssl module, and GIO's GTlsConnection (glib-networking) on a thread of its own.
 * The version is pinned on our side (c_tls_settings_set_versions) and checked after the
 * handshake. Loopback only; every peer listens on or connects to a port 0 listener. A peer
 * program that is not installed skips its test with the reason (tools/setup-deps.sh installs
 * them all, so CI runs every test).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tls-util.h"

#define PAYLOAD_SIZE (100 * 1024)
#define LINE_SIZE 64

/* 100 KiB of 64-byte lines, none starting with a letter s_client takes as a command. */
static GBytes *
make_payload (void)
{
  GString *text = g_string_sized_new (PAYLOAD_SIZE);

  for (guint i = 0; text->len < PAYLOAD_SIZE; i++)
    {
      gsize start = text->len;
      g_string_append_printf (text, "line %06u ", i);
      while (text->len - start < LINE_SIZE - 1)
        g_string_append_c (text, (char) ('a' + (text->len * 7 + i) % 26));
      g_string_append_c (text, '\n');
    }
  g_assert (text->len == PAYLOAD_SIZE);
  return g_string_free_to_bytes (text);
}

/* What s_server -rev sends back: each line reversed. */
static GBytes *
reversed_lines (GBytes *payload)
{
  gsize size;
  const char *data = g_bytes_get_data (payload, &size);
  char *out = g_malloc (size);

  for (gsize start = 0; start < size; start += LINE_SIZE)
    {
      for (gsize i = 0; i < LINE_SIZE - 1; i++)
        out[start + i] = data[start + LINE_SIZE - 2 - i];
      out[start + LINE_SIZE - 1] = '\n';
    }
  return g_bytes_new_take (out, size);
}

static void
require_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  if (path == NULL)
    cr_skip_test ("%s is not installed (tools/setup-deps.sh installs it)", name);
}

static CTlsVersion
version_of (const char *name)
{
  return g_str_equal (name, "TLSv1.2") ? C_TLS_VERSION_1_2 : C_TLS_VERSION_1_3;
}

static void
assert_same (GBytes *got, GBytes *expected, const char *what)
{
  gsize got_size, expected_size;
  const guint8 *a = g_bytes_get_data (got, &got_size);
  const guint8 *b = g_bytes_get_data (expected, &expected_size);
  gsize first = 0;

  while (first < got_size && first < expected_size && a[first] == b[first])
    first++;
  cr_assert (got_size == expected_size && first == got_size,
             "%s: %zu bytes, %zu expected, first difference at %zu", what, got_size, expected_size,
             first);
}

/* ---- Sending from on_send, echoing ------------------------------------------------------ */

/* One connection's outgoing bytes: sent from on_send (and on_receive, for an echo) as the
 * transport takes them; once all is sent, shut_down (sends) when asked. */
typedef struct
{
  GByteArray *out; /* an echo appends what arrives */
  gsize sent;
  gsize shut_after; /* shut_down (sends) after this many bytes; 0 for never */
  gsize window;     /* if not 0: at most this many bytes sent and not yet echoed back */
  gboolean echo;
  gboolean answer_close; /* after the peer's close_notify: send the rest, then ours */
  gboolean shut;
} Outgoing;

static void
outgoing_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Outgoing *o = data;

  if (o == NULL)
    return;
  if (which == C_NOTIFY_CLOSE)
    {
      if (!o->answer_close || error_code != 0 || o->out == NULL)
        return;
      o->shut_after = o->out->len; /* shut once the echo is all out */
    }
  else if (which != C_NOTIFY_SEND && which != C_NOTIFY_RECEIVE)
    return;
  if (o->echo && which == C_NOTIFY_RECEIVE)
    o->out = socket->received; /* read_on_receive appended it there */
  while (o->out != NULL && o->sent < o->out->len)
    {
      gsize end
          = o->window > 0 ? MIN (o->out->len, socket->received->len + o->window) : o->out->len;
      gssize n;

      if (o->sent >= end)
        return; /* on_receive brings us back */
      n = c_async_socket_send (S (socket), o->out->data + o->sent, end - o->sent, 0, NULL);
      if (n <= 0)
        return; /* on_send brings us back */
      o->sent += (gsize) n;
    }
  if (o->shut_after > 0 && o->sent == o->shut_after && !o->shut)
    {
      g_autoptr (GError) error = NULL;
      o->shut = TRUE;
      cr_assert (c_async_socket_shut_down (S (socket), C_SHUTDOWN_SENDS, &error), "%s",
                 error->message);
    }
}

/* Our TLS client sends @payload to a peer server at @port and expects @expected back, then
 * closes gracefully: shut_down (sends), and the peer's close_notify is on_close (0). */
static void
client_exchange (guint port, const char *version, GBytes *payload, GBytes *expected, gsize window)
{
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (GBytes) got = NULL;
  g_autoptr (GError) error = NULL;
  Outgoing o = { .out = g_byte_array_new (), .window = window };
  const GError *reason;

  g_byte_array_append (o.out, g_bytes_get_data (payload, NULL), (guint) g_bytes_get_size (payload));
  c_tls_settings_set_versions (client_tls, version_of (version), version_of (version));
  client->read_on_receive = TRUE;
  client->hook = outgoing_hook;
  client->hook_data = &o;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error), "%s",
             error->message);
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error), "%s", error->message);
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "no on_connect");
  assert_connected (client);
  cr_assert_str_eq (c_async_socket_get_tls_version (S (client)), version);
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (client)), 0);
  cr_assert (run_until_received (client, g_bytes_get_size (expected)),
             "received %u of %zu bytes (sent %zu; on_receive %d, on_send %d, on_close %d)",
             client->received->len, g_bytes_get_size (expected), o.sent,
             client->counts[C_NOTIFY_RECEIVE], client->counts[C_NOTIFY_SEND],
             client->counts[C_NOTIFY_CLOSE]);
  got = g_bytes_new (client->received->data, client->received->len);
  assert_same (got, expected, "the echo");

  cr_assert (c_async_socket_shut_down (S (client), C_SHUTDOWN_SENDS, &error), "%s", error->message);
  cr_assert (run_until_count (client, C_NOTIFY_CLOSE, 1), "the peer did not close");
  reason = c_async_socket_get_close_error (S (client));
  cr_assert_eq (client->errors[C_NOTIFY_CLOSE], 0, "the peer's close: %s",
                reason ? reason->message : g_strerror (client->errors[C_NOTIFY_CLOSE]));
  cr_assert_eq (client->received->len, g_bytes_get_size (expected), "bytes after the echo");
  g_byte_array_unref (o.out);
}

/* Our TLS server echoes for a peer client: once all @size bytes are back it sends
 * close_notify (shut_down), and the peer's own close_notify ends it as on_close (0). With
 * @peer_closes_first the order is the other way: the peer's close_notify (on_close (0)),
 * then the rest of the echo and ours. */
typedef struct
{
  Server server;
  Outgoing echo;
  CTlsSettings *settings;
} EchoServer;

static void
echo_server_open (EchoServer *e, const char *version, gsize size, gboolean peer_closes_first)
{
  e->settings = server_settings ("server");
  c_tls_settings_set_versions (e->settings, version_of (version), version_of (version));
  e->echo = peer_closes_first ? (Outgoing){ .echo = TRUE, .answer_close = TRUE }
                              : (Outgoing){ .echo = TRUE, .shut_after = size };
  e->server = (Server){ .server_hook = outgoing_hook, .server_reads = TRUE };
  server_open (&e->server, e->settings);
}

static void
echo_server_check_and_close (EchoServer *e, const char *version, GBytes *payload)
{
  TestSocket *connection = server_connection (&e->server, 0);
  g_autoptr (GBytes) got = NULL;
  const GError *reason;

  cr_assert (run_until_count (connection, C_NOTIFY_CLOSE, 1), "the peer did not close");
  reason = c_async_socket_get_close_error (S (connection));
  cr_assert_eq (connection->errors[C_NOTIFY_CLOSE], 0, "the peer's close: %s",
                reason ? reason->message : g_strerror (connection->errors[C_NOTIFY_CLOSE]));
  cr_assert_str_eq (c_async_socket_get_tls_version (S (connection)), version);
  got = g_bytes_new (connection->received->data, connection->received->len);
  assert_same (got, payload, "what the server received");
  cr_assert_eq (e->echo.sent, g_bytes_get_size (payload));
  cr_assert (e->server.servers->len == 1, "%u connections", e->server.servers->len);
  server_close (&e->server);
  g_clear_object (&e->settings);
}

/* The accepted connection gets the echo state as its hook data. */
static gboolean
hand_echo_state (gpointer data)
{
  EchoServer *e = data;

  if (e->server.servers->len == 0)
    return FALSE;
  ((TestSocket *) g_ptr_array_index (e->server.servers, 0))->hook_data = &e->echo;
  return TRUE;
}

/* ---- Peer programs ---------------------------------------------------------------------- */

typedef struct
{
  gboolean done;
  GBytes *out;
  GBytes *err;
  GError *error;
} Finished;

static void
communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Finished *f = data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &f->out, &f->err, &f->error);
  f->done = TRUE;
}

/* A peer client: started with @input on its standard input while an echo server of ours
 * serves it on the main loop; returns its standard output once it has exited with 0. */
static GBytes *
run_client_peer (const char *const *argv, GBytes *input, EchoServer *e)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process
      = g_subprocess_newv (argv,
                           G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                               | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           &error);
  Finished f = { 0 };
  g_autofree char *err = NULL;

  cr_assert_not_null (process, "%s: %s", argv[0], error ? error->message : "");
  g_subprocess_communicate_async (process, input, NULL, communicated, &f);
  cr_assert (run_until (hand_echo_state, e), "%s never connected", argv[0]);
  cr_assert (run_until_flag (&f.done), "%s did not finish", argv[0]);
  cr_assert_null (f.error, "%s: %s", argv[0], f.error ? f.error->message : "");
  err = g_strndup (g_bytes_get_data (f.err, NULL), g_bytes_get_size (f.err));
  g_bytes_unref (f.err);
  cr_assert (g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0,
             "%s failed: %s", argv[0], err);
  return f.out;
}

static void
peer_client_echo (const char *const *argv_template, const char *version, gboolean peer_closes_first)
{
  g_autoptr (GBytes) payload = make_payload ();
  g_autoptr (GBytes) out = NULL;
  g_autofree char *port = NULL;
  g_autofree char *address = NULL;
  g_autofree char *ca = cert_path ("ca.pem");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  EchoServer e = { 0 };

  require_program (argv_template[0]);
  echo_server_open (&e, version, g_bytes_get_size (payload), peer_closes_first);
  port = g_strdup_printf ("%u", e.server.port);
  address = g_strdup_printf ("127.0.0.1:%u", e.server.port);
  for (guint i = 0; argv_template[i] != NULL; i++)
    {
      const char *arg = argv_template[i];
      g_ptr_array_add (argv, g_strdup (g_str_equal (arg, "@CA")        ? ca
                                       : g_str_equal (arg, "@PORT")    ? port
                                       : g_str_equal (arg, "@ADDRESS") ? address
                                                                       : arg));
    }
  g_ptr_array_add (argv, NULL);
  out = run_client_peer ((const char *const *) argv->pdata, payload, &e);
  assert_same (out, payload, "what the peer got back");
  echo_server_check_and_close (&e, version, payload);
}

/* ---- GnuTLS ----------------------------------------------------------------------------- */

/* The port a process listens on over IPv4, from /proc: gnutls-serv takes port 0 but says
 * "port 0", and it listens on every interface (it has no option to bind one; we connect
 * over loopback). */
static guint
listening_port (const char *pid)
{
  g_autofree char *fd_dir = g_build_filename ("/proc", pid, "fd", NULL);
  g_autoptr (GDir) dir = g_dir_open (fd_dir, 0, NULL);
  g_autoptr (GHashTable) inodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *tcp = NULL;
  g_auto (GStrv) lines = NULL;
  const char *name;

  cr_assert_not_null (dir, "cannot read %s", fd_dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fd_dir, name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);
      if (target != NULL && g_str_has_prefix (target, "socket:["))
        g_hash_table_add (inodes, g_strndup (target + 8, strlen (target) - 9));
    }
  cr_assert (g_file_get_contents ("/proc/net/tcp", &tcp, NULL, NULL));
  lines = g_strsplit (tcp, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      g_autoptr (GPtrArray) f = g_ptr_array_new ();
      for (guint j = 0; fields[j] != NULL; j++)
        if (*fields[j] != '\0')
          g_ptr_array_add (f, fields[j]);
      /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
      if (f->len > 9 && g_str_equal (g_ptr_array_index (f, 3), "0A")
          && g_hash_table_contains (inodes, g_ptr_array_index (f, 9)))
        return (guint) strtoul (strchr (g_ptr_array_index (f, 1), ':') + 1, NULL, 16);
    }
  cr_assert_fail ("process %s listens on no IPv4 port", pid);
  return 0;
}

/* gnutls-serv --echo is a request/response loop, not a byte echo: it reads one record per
 * select() wake-up, answers once what it has gathered holds a newline, and reads nothing
 * while it answers. Records that arrive together can sit in GnuTLS's buffer with no wake-up
 * to come, so it is driven in lock-step: one line, then its echo, then the next. It listens
 * on every interface (it has no option for an address); only loopback is used. */
#define GNUTLS_SERV_WINDOW LINE_SIZE

static void
gnutls_serv_echo (const char *version)
{
  g_autofree char *cert = cert_path ("server.pem");
  g_autofree char *key = cert_path ("server.key");
  const char *argv[]
      = { "gnutls-serv", "--echo", "-p", "0", "--x509certfile", cert, "--x509keyfile", key, NULL };
  g_autoptr (GBytes) payload = make_payload ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GDataInputStream) err = NULL;
  g_autoptr (GOutputStream) sink = NULL;
  gboolean listening = FALSE;

  require_program ("gnutls-serv");
  process = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  cr_assert_not_null (process, "%s", error ? error->message : "");
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));
  /* "Echo Server listening on IPv4 0.0.0.0 port 0...done": listening from then on. */
  while (!listening)
    {
      g_autofree char *line = g_data_input_stream_read_line (err, NULL, NULL, &error);
      cr_assert_not_null (line, "gnutls-serv ended before listening");
      listening = strstr (line, "IPv4") != NULL && g_str_has_suffix (line, "done");
    }
  /* It reports every request on stderr: drained meanwhile, or it blocks once the pipe is
   * full (64 KiB, some 370 lines in). */
  sink = g_memory_output_stream_new_resizable ();
  g_output_stream_splice_async (sink, G_INPUT_STREAM (err), G_OUTPUT_STREAM_SPLICE_NONE,
                                G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  client_exchange (listening_port (g_subprocess_get_identifier (process)), version, payload,
                   payload, GNUTLS_SERV_WINDOW);
  g_subprocess_force_exit (process);
}

Test (tls_peers, gnutls_serv_tls12, .timeout = 60)
{
  gnutls_serv_echo ("TLSv1.2");
}

Test (tls_peers, gnutls_serv_tls13, .timeout = 60)
{
  gnutls_serv_echo ("TLSv1.3");
}

/* gnutls-cli sends its standard input and at its end sends close_notify (gnutls_bye
 * SHUT_WR), then reads until the server's close_notify. A close_notify that comes before it
 * has read the end of its input makes it leave without one of its own (a truncation, which
 * we report as one): so the server waits for the client's close_notify here, then sends its
 * own. --logfile keeps its reports out of the data. */
static const char *const gnutls_cli[]
    = { "gnutls-cli", "--x509cafile", "@CA",   "--verify-hostname", "localhost", "--logfile",
        "/dev/null",  "-p",           "@PORT", "127.0.0.1",         NULL };

Test (tls_peers, gnutls_cli_tls12, .timeout = 60)
{
  peer_client_echo (gnutls_cli, "TLSv1.2", TRUE);
}

Test (tls_peers, gnutls_cli_tls13, .timeout = 60)
{
  peer_client_echo (gnutls_cli, "TLSv1.3", TRUE);
}

/* ---- OpenSSL's programs ----------------------------------------------------------------- */

static void
openssl_s_server_echo (const char *version)
{
  g_autofree char *cert = cert_path ("server.pem");
  g_autofree char *key = cert_path ("server.key");
  const char *argv[] = { "openssl", "s_server", "-accept",  "127.0.0.1:0", "-cert", cert,
                         "-key",    key,        "-naccept", "1",           "-rev",  NULL };
  g_autoptr (GBytes) payload = make_payload ();
  g_autoptr (GBytes) expected = reversed_lines (payload);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  guint port = 0;

  require_program ("openssl");
  process = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
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
  /* -rev sends each line back reversed: the echo checked byte for byte is that. */
  client_exchange (port, version, payload, expected, 0);
  g_subprocess_force_exit (process);
}

Test (tls_peers, openssl_s_server_tls12, .timeout = 60)
{
  openssl_s_server_echo ("TLSv1.2");
}

Test (tls_peers, openssl_s_server_tls13, .timeout = 60)
{
  openssl_s_server_echo ("TLSv1.3");
}

/* -quiet: nothing but the data on standard output, and the end of standard input does not
 * end the connection (the server's close_notify does). */
static const char *const openssl_s_client[] = { "openssl",
                                                "s_client",
                                                "-connect",
                                                "@ADDRESS",
                                                "-CAfile",
                                                "@CA",
                                                "-servername",
                                                "localhost",
                                                "-verify_hostname",
                                                "localhost",
                                                "-verify_return_error",
                                                "-quiet",
                                                NULL };

Test (tls_peers, openssl_s_client_tls12, .timeout = 60)
{
  peer_client_echo (openssl_s_client, "TLSv1.2", FALSE);
}

Test (tls_peers, openssl_s_client_tls13, .timeout = 60)
{
  peer_client_echo (openssl_s_client, "TLSv1.3", FALSE);
}

/* ---- Python's ssl ----------------------------------------------------------------------- */

/* Reads standard input, sends it, reads as much back, writes it to standard output, then
 * unwrap (), which sends close_notify and waits for the server's. */
static const char python_client[]
    = "import socket, ssl, sys\n"
      "data = sys.stdin.buffer.read()\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as raw:\n"
      "    s = ctx.wrap_socket(raw, server_hostname='localhost', suppress_ragged_eofs=False)\n"
      "    s.sendall(data)\n"
      "    back = b''\n"
      "    while len(back) < len(data):\n"
      "        chunk = s.recv(65536)\n"
      "        if not chunk:\n"
      "            sys.exit('the server closed after %d bytes' % len(back))\n"
      "        back += chunk\n"
      "    sys.stdout.buffer.write(back)\n"
      "    s.unwrap()\n";

/* Accepts one connection on 127.0.0.1 port 0 (printed), echoes until close_notify, then
 * answers with its own. A truncation (no close_notify) raises. */
static const char python_server[]
    = "import socket, ssl, sys\n"
      "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
      "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
      "with socket.create_server(('127.0.0.1', 0)) as listener:\n"
      "    print(listener.getsockname()[1], flush=True)\n"
      "    raw, _ = listener.accept()\n"
      "    s = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)\n"
      "    while True:\n"
      "        data = s.recv(65536)\n"
      "        if not data:\n"
      "            break\n"
      "        s.sendall(data)\n"
      "    print(s.version(), flush=True)\n"
      "    s.unwrap().close()\n";

static void
python_client_echo (const char *version)
{
  const char *argv[] = { "/usr/bin/python3", "-c", python_client, "@CA", "@PORT", NULL };

  peer_client_echo (argv, version, FALSE);
}

static void
python_server_echo (const char *version)
{
  g_autofree char *cert = cert_path ("server.pem");
  g_autofree char *key = cert_path ("server.key");
  const char *argv[] = { "/usr/bin/python3", "-c", python_server, cert, key, NULL };
  g_autoptr (GBytes) payload = make_payload ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *said = NULL;

  require_program ("/usr/bin/python3");
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  cr_assert_not_null (process, "%s", error ? error->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  cr_assert_not_null (line, "the Python server ended before listening");
  client_exchange ((guint) atoi (line), version, payload, payload, 0);
  said = g_data_input_stream_read_line (out, NULL, NULL, &error);
  cr_assert_str_eq (said ? said : "(nothing)", version);
  cr_assert (g_subprocess_wait_check (process, NULL, &error), "the Python server: %s",
             error->message);
}

Test (tls_peers, python_client_tls12, .timeout = 60)
{
  python_client_echo ("TLSv1.2");
}

Test (tls_peers, python_client_tls13, .timeout = 60)
{
  python_client_echo ("TLSv1.3");
}

Test (tls_peers, python_server_tls12, .timeout = 60)
{
  python_server_echo ("TLSv1.2");
}

Test (tls_peers, python_server_tls13, .timeout = 60)
{
  python_server_echo ("TLSv1.3");
}

/* ---- GIO's GTlsConnection (glib-networking), on a thread with blocking calls ------------- */

typedef struct
{
  GSocketListener *listener; /* the server's */
  guint port;                /* the client's target */
  GBytes *payload;           /* the client's */
  GByteArray *got;           /* what the client got back */
  char *error;               /* what failed, if anything */
  char *version;             /* the version GIO negotiated */
  gint done;
} GioPeer;

static gboolean
gio_done (gpointer data)
{
  return g_atomic_int_get (&((GioPeer *) data)->done);
}

static const char *
gio_version (GTlsConnection *tls)
{
  switch (g_tls_connection_get_protocol_version (tls))
    {
      case G_TLS_PROTOCOL_VERSION_TLS_1_2:
        return "TLSv1.2";
      case G_TLS_PROTOCOL_VERSION_TLS_1_3:
        return "TLSv1.3";
      default:
        return "other";
    }
}

/* Accepts one connection, echoes until close_notify, then closes (its close_notify). */
static gpointer
gio_server_thread (gpointer data)
{
  GioPeer *peer = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *pem = cert_path ("server.pem");
  g_autofree char *key = cert_path ("server.key");
  g_autoptr (GTlsCertificate) certificate = g_tls_certificate_new_from_files (pem, key, &error);
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GIOStream) tls = NULL;
  char buffer[16384];
  gssize n;

  if (certificate != NULL)
    connection = g_socket_listener_accept (peer->listener, NULL, NULL, &error);
  if (connection != NULL)
    tls = g_tls_server_connection_new (G_IO_STREAM (connection), certificate, &error);
  if (tls != NULL && g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error))
    {
      peer->version = g_strdup (gio_version (G_TLS_CONNECTION (tls)));
      while ((n = g_input_stream_read (g_io_stream_get_input_stream (tls), buffer, sizeof buffer,
                                       NULL, &error))
             > 0)
        if (!g_output_stream_write_all (g_io_stream_get_output_stream (tls), buffer, (gsize) n,
                                        NULL, NULL, &error))
          break;
      if (error == NULL)
        g_io_stream_close (tls, NULL, &error);
    }
  if (error != NULL)
    peer->error = g_strdup (error->message);
  g_atomic_int_set (&peer->done, 1);
  return NULL;
}

/* Sends the payload, reads as much back, then reads the server's close_notify (a read of
 * 0: GIO reports a truncation as an error) and closes. */
static gpointer
gio_client_thread (gpointer data)
{
  GioPeer *peer = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *ca = cert_path ("ca.pem");
  g_autoptr (GTlsDatabase) database = g_tls_file_database_new (ca, &error);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address
      = g_inet_socket_address_new_from_string ("127.0.0.1", peer->port);
  g_autoptr (GSocketConnectable) identity = g_network_address_new ("localhost", peer->port);
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GIOStream) tls = NULL;
  char buffer[16384];
  gssize n = 0;

  if (database != NULL)
    connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  if (connection != NULL)
    tls = g_tls_client_connection_new (G_IO_STREAM (connection), identity, &error);
  if (tls != NULL)
    {
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
      if (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error)
          && g_output_stream_write_all (g_io_stream_get_output_stream (tls),
                                        g_bytes_get_data (peer->payload, NULL),
                                        g_bytes_get_size (peer->payload), NULL, NULL, &error))
        {
          peer->version = g_strdup (gio_version (G_TLS_CONNECTION (tls)));
          while ((n = g_input_stream_read (g_io_stream_get_input_stream (tls), buffer,
                                           sizeof buffer, NULL, &error))
                 > 0)
            g_byte_array_append (peer->got, (guint8 *) buffer, (guint) n);
          if (n == 0)
            g_io_stream_close (tls, NULL, &error);
        }
    }
  if (error != NULL)
    peer->error = g_strdup (error->message);
  g_atomic_int_set (&peer->done, 1);
  return NULL;
}

static void
gio_server_echo (const char *version)
{
#ifdef __SANITIZE_ADDRESS__
  /* Open issue: in the sanitizer build LeakSanitizer's own tracer crashes (signal 11) at
   * the exit of the worker that ran a GIO server thread; the test itself passes there. */
  if (g_getenv ("AFXSOCK_TRY_GIO_SERVER_UNDER_ASAN") == NULL)
    cr_skip_test ("LeakSanitizer crashes after a GIO server thread (open issue)");
#endif
  g_autoptr (GBytes) payload = make_payload ();
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  GioPeer peer = { .listener = g_socket_listener_new () };
  GThread *thread;

  cr_assert (g_socket_listener_add_address (peer.listener, any, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error),
             "%s", error ? error->message : "");
  thread = g_thread_new ("gio-server", gio_server_thread, &peer);
  client_exchange (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)), version, payload,
                   payload, 0);
  cr_assert (run_until (gio_done, &peer), "the GIO server did not finish");
  g_thread_join (thread);
  cr_assert_null (peer.error, "the GIO server: %s", peer.error);
  cr_assert_str_eq (peer.version, version);
  g_free (peer.version);
  g_object_unref (peer.listener);
}

static void
gio_client_echo (const char *version)
{
  g_autoptr (GBytes) payload = make_payload ();
  g_autoptr (GBytes) got = NULL;
  GioPeer peer = { .payload = payload, .got = g_byte_array_new () };
  EchoServer e = { 0 };
  GThread *thread;

  echo_server_open (&e, version, g_bytes_get_size (payload), FALSE);
  peer.port = e.server.port;
  thread = g_thread_new ("gio-client", gio_client_thread, &peer);
  cr_assert (run_until (hand_echo_state, &e), "the GIO client never connected");
  cr_assert (run_until (gio_done, &peer), "the GIO client did not finish");
  g_thread_join (thread);
  cr_assert_null (peer.error, "the GIO client: %s", peer.error);
  cr_assert_str_eq (peer.version, version);
  got = g_byte_array_free_to_bytes (peer.got);
  assert_same (got, payload, "what the GIO client got back");
  echo_server_check_and_close (&e, version, payload);
  g_free (peer.version);
}

Test (tls_peers, gio_server_tls12, .timeout = 60)
{
  gio_server_echo ("TLSv1.2");
}

Test (tls_peers, gio_server_tls13, .timeout = 60)
{
  gio_server_echo ("TLSv1.3");
}

Test (tls_peers, gio_client_tls12, .timeout = 60)
{
  gio_client_echo ("TLSv1.2");
}

Test (tls_peers, gio_client_tls13, .timeout = 60)
{
  gio_client_echo ("TLSv1.3");
}

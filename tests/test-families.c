/* test-families.c: IPv6, dual stack, host names, Unix-domain, datagrams, broadcast, raw ICMP
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only loopback destinations are used: 127.0.0.1, ::1, "localhost", the loopback broadcast
 * (255.255.255.255 sent from 127.0.0.1 is routed over lo) and 127.255.255.255.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-util.h"

static void
receive_text (TestSocket *socket, const char *text)
{
  g_autoptr (GError) error = NULL;
  char buffer[256] = { 0 };
  gsize length = strlen (text);
  guint32 queued = 0;

  if (!c_async_socket_ioctl (S (socket), FIONREAD, &queued, NULL) || queued < length)
    cr_assert (run_until_count (socket, C_NOTIFY_RECEIVE, socket->counts[C_NOTIFY_RECEIVE] + 1),
               "'%s' never arrived", text);
  cr_assert_eq (c_async_socket_receive (S (socket), buffer, length, 0, &error), (gssize) length,
                "receive: %s", error ? error->message : "short");
  cr_assert_str_eq (buffer, text);
}

static void
assert_pair_works (TestSocket *a, TestSocket *b)
{
  send_text (a, "ping");
  receive_text (b, "ping");
  send_text (b, "pong");
  receive_text (a, "pong");
}

/* Accepts one pending connection (waiting for on_accept) into a new TestSocket. */
static TestSocket *
accept_one (TestSocket *listener, GSocketAddress **address)
{
  g_autoptr (GError) error = NULL;
  TestSocket *server = test_socket_new ();
  int accepts = listener->counts[C_NOTIFY_ACCEPT];

  if (!c_async_socket_accept (S (listener), S (server), address, &error))
    {
      cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK), "accept: %s",
                 error->message);
      g_clear_error (&error);
      cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, accepts + 1), "no on_accept");
      cr_assert (c_async_socket_accept (S (listener), S (server), address, &error), "accept: %s",
                 error ? error->message : "");
    }
  return server;
}

static TestSocket *
connect_client (const char *bind_address, const char *host, guint port)
{
  g_autoptr (GError) error = NULL;
  TestSocket *client = test_socket_new ();

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, bind_address, &error),
             "create on %s: %s", bind_address ? bind_address : "(any)",
             error ? error->message : "");
  cr_assert (c_async_socket_connect (S (client), host, port, &error), "connect to %s: %s", host,
             error ? error->message : "");
  return client;
}

static void
wait_connected (TestSocket *client)
{
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "no on_connect");
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0, "connect failed: %s",
                g_strerror (client->errors[C_NOTIFY_CONNECT]));
}

static char *
peer_name (TestSocket *socket, guint *port)
{
  g_autoptr (GError) error = NULL;
  char *host = NULL;
  cr_assert (c_async_socket_get_peer_name (S (socket), &host, port, &error), "get_peer_name: %s",
             error ? error->message : "");
  return host;
}

static guint
sock_port (TestSocket *socket)
{
  guint port = 0;
  cr_assert (c_async_socket_get_sock_name (S (socket), NULL, &port, NULL));
  return port;
}

/* A listener on ::1, or a skipped test when this machine has no IPv6 loopback. */
static TestSocket *
ipv6_listener (guint *port)
{
  g_autoptr (GError) error = NULL;
  TestSocket *listener = test_socket_new ();

  if (!c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_ALL, "::1", &error))
    {
      g_object_unref (listener);
      cr_skip_test ("IPv6 loopback (::1) is not available here: %s", error->message);
    }
  cr_assert (c_async_socket_listen (S (listener), 0, &error), "%s", error ? error->message : "");
  *port = sock_port (listener);
  return listener;
}

/* ---- IPv6 and dual stack ----------------------------------------------------------------- */

Test (families, ipv6_connect_to_the_ipv6_loopback, .timeout = 30)
{
  guint port, peer_port = 0;
  g_autoptr (TestSocket) listener = ipv6_listener (&port);
  g_autoptr (TestSocket) client = connect_client ("::1", "::1", port);
  g_autoptr (TestSocket) bracketed = connect_client ("::1", "[::1]", port);
  g_autoptr (TestSocket) server = NULL;
  g_autoptr (TestSocket) server2 = NULL;
  g_autoptr (TestSocket) busy = test_socket_new ();
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *client_peer = NULL;
  g_autofree char *server_peer = NULL;
  g_autofree char *address_text = NULL;
  g_autofree char *expected = NULL;

  cr_assert_eq (c_async_socket_get_family (S (listener)), G_SOCKET_FAMILY_IPV6);
  server = accept_one (listener, &address);
  server2 = accept_one (listener, NULL);
  wait_connected (client);
  wait_connected (bracketed);
  cr_assert_eq (g_socket_address_get_family (address), G_SOCKET_FAMILY_IPV6);
  address_text = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  cr_assert_str_eq (address_text, "::1");

  client_peer = peer_name (client, &peer_port);
  cr_assert_str_eq (client_peer, "::1");
  cr_assert_eq (peer_port, port);
  server_peer = peer_name (server, NULL);
  cr_assert_str_eq (server_peer, "::1");
  assert_pair_works (client, server);
  assert_pair_works (bracketed, server2);

  /* Messages write IPv6 addresses in brackets. */
  expected = g_strdup_printf ("bind to [::1]:%u", port);
  cr_assert_not (c_async_socket_create (S (busy), port, C_SOCK_STREAM, C_FD_ALL, "::1", &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, expected);
}

Test (families, ipv6_connect_refused_comes_through_on_connect, .timeout = 30)
{
  guint port;
  TestSocket *probe = ipv6_listener (&port);
  g_autoptr (TestSocket) client = NULL;

  g_object_unref (probe);
  client = connect_client ("::1", "::1", port);
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ECONNREFUSED);
}

Test (families, dual_stack_listener_accepts_ipv4_and_ipv6_and_prints_ipv4_plainly, .timeout = 30)
{
  g_autoptr (TestSocket) listener = test_socket_new ();
  g_autoptr (TestSocket) v4 = NULL;
  g_autoptr (TestSocket) v6 = NULL;
  g_autoptr (TestSocket) mapped = NULL;
  g_autoptr (TestSocket) s1 = NULL;
  g_autoptr (TestSocket) s2 = NULL;
  g_autoptr (TestSocket) s3 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *v4_peer = NULL;
  g_autofree char *mapped_peer = NULL;
  g_autofree char *mapped_local = NULL;
  TestSocket *by_port[3] = { NULL };
  guint port;

  cr_assert (c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error), "%s",
             error ? error->message : "");
  if (c_async_socket_get_family (S (listener)) != G_SOCKET_FAMILY_IPV6)
    cr_skip_test ("no IPv6 here: the wildcard socket is IPv4 only");
  cr_assert (c_async_socket_listen (S (listener), 0, &error));
  port = sock_port (listener);

  v4 = connect_client ("127.0.0.1", "127.0.0.1", port);
  v6 = connect_client ("::1", "::1", port);
  mapped = connect_client (NULL, "127.0.0.1", port); /* a dual-stack client too */
  s1 = accept_one (listener, NULL);
  s2 = accept_one (listener, NULL);
  s3 = accept_one (listener, NULL);
  wait_connected (v4);
  wait_connected (v6);
  wait_connected (mapped);

  /* Match each accepted socket with its client by the client's port. */
  TestSocket *servers[] = { s1, s2, s3 };
  TestSocket *clients[] = { v4, v6, mapped };
  for (int i = 0; i < 3; i++)
    {
      guint peer_port = 0;
      g_autofree char *host = peer_name (servers[i], &peer_port);
      for (int j = 0; j < 3; j++)
        if (sock_port (clients[j]) == peer_port)
          by_port[j] = servers[i];
      cr_assert (strcmp (host, "127.0.0.1") == 0 || strcmp (host, "::1") == 0,
                 "peer printed as '%s'", host);
    }
  cr_assert (by_port[0] && by_port[1] && by_port[2], "an accepted socket matches no client");
  v4_peer = peer_name (by_port[0], NULL);
  cr_assert_str_eq (v4_peer, "127.0.0.1", "IPv4-mapped peer must print as IPv4");
  g_free (v4_peer);
  v4_peer = peer_name (by_port[1], NULL);
  cr_assert_str_eq (v4_peer, "::1");
  mapped_peer = peer_name (by_port[2], NULL);
  cr_assert_str_eq (mapped_peer, "127.0.0.1");
  /* The dual-stack client's own names print as IPv4 as well. */
  cr_assert (c_async_socket_get_sock_name (S (mapped), &mapped_local, NULL, &error));
  cr_assert_str_eq (mapped_local, "127.0.0.1");

  for (int j = 0; j < 3; j++)
    assert_pair_works (clients[j], by_port[j]);
}

/* ---- Host names -------------------------------------------------------------------------- */

static void
expect_connect_not_inside (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  gboolean *inside = data;
  if (which == C_NOTIFY_CONNECT)
    cr_assert_not (*inside, "on_connect delivered inside connect (the name was resolved "
                            "synchronously and notified from the call)");
}

Test (families, connect_by_host_name_resolves_without_blocking, .timeout = 30)
{
  g_autoptr (TestSocket) listener = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) client4 = test_socket_new ();
  g_autoptr (TestSocket) server = NULL;
  g_autoptr (TestSocket) server4 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *peer4 = NULL;
  gboolean inside = FALSE;
  guint port;

  /* A dual-stack listener, so whichever loopback "localhost" names first is served. */
  cr_assert (c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_listen (S (listener), 0, &error));
  port = sock_port (listener);

  client->hook = expect_connect_not_inside;
  client->hook_data = &inside;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  inside = TRUE;
  cr_assert (c_async_socket_connect (S (client), "localhost", port, &error), "%s",
             error ? error->message : "");
  inside = FALSE;
  /* The call returned before the outcome: on_connect comes later, from the loop. */
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 0);
  cr_assert_eq (c_async_socket_get_last_error (), EWOULDBLOCK);
  cr_assert_not (c_async_socket_is_connected (S (client)));
  /* A second connect while the name is being resolved is refused. */
  cr_assert_not (c_async_socket_connect (S (client), "localhost", port, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_IN_PROGRESS, "connect");
  wait_connected (client);
  server = accept_one (listener, NULL);
  peer = peer_name (client, NULL);
  cr_assert (strcmp (peer, "127.0.0.1") == 0 || strcmp (peer, "::1") == 0,
             "localhost resolved to '%s', not a loopback address", peer);
  assert_pair_works (client, server);
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1);

  /* An IPv4 socket skips the IPv6 answers and reaches 127.0.0.1. */
  cr_assert (c_async_socket_create (S (client4), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (client4), "localhost", port, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (client4->counts[C_NOTIFY_CONNECT], 0);
  wait_connected (client4);
  server4 = accept_one (listener, NULL);
  peer4 = peer_name (client4, NULL);
  cr_assert_str_eq (peer4, "127.0.0.1");
  assert_pair_works (client4, server4);
}

/* A resolver that knows no names, so that a name that does not resolve is tested without
 * asking any DNS server. */
typedef GResolver NoNamesResolver;
typedef GResolverClass NoNamesResolverClass;
static GType no_names_resolver_get_type (void);
G_DEFINE_TYPE (NoNamesResolver, no_names_resolver, G_TYPE_RESOLVER)

static GList *
no_names_lookup (GResolver *resolver, const char *name, GCancellable *cancellable, GError **error)
{
  g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no such name: %s", name);
  return NULL;
}

static void
no_names_lookup_async (GResolver *resolver, const char *name, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no such name: %s",
                           name);
}

static GList *
no_names_lookup_finish (GResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
no_names_resolver_class_init (NoNamesResolverClass *klass)
{
  klass->lookup_by_name = no_names_lookup;
  klass->lookup_by_name_async = no_names_lookup_async;
  klass->lookup_by_name_finish = no_names_lookup_finish;
}

static void
no_names_resolver_init (NoNamesResolver *self)
{
}

Test (families, invalid_host_names_are_errors_and_the_socket_stays_usable, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = NULL;
  g_autoptr (GResolver) no_names = g_object_new (no_names_resolver_get_type (), NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  /* Not a name at all: refused by the call, before any lookup. */
  cr_assert_not (c_async_socket_connect (S (client), "no such host!", port, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS, "'no such host!'");
  cr_assert_not (c_async_socket_connect (S (client), "-leading-dash", port, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS, "-leading-dash");

  /* A well-formed name that does not resolve: on_connect (EHOSTUNREACH), later. */
  g_resolver_set_default (no_names);
  cr_assert (c_async_socket_connect (S (client), "nowhere.invalid", port, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 0);
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], EHOSTUNREACH);
  /* ... and the resolver's own error says why. */
  const GError *why = c_async_socket_get_close_error (S (client));
  cr_assert_not_null (why, "no reason for the failed resolution");
  cr_assert (g_error_matches (why, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND), "%s",
             why->message);
  cr_assert_str_eq (why->message, "cannot resolve nowhere.invalid: no such name: nowhere.invalid");
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_SEND], 0);
  cr_assert_not (c_async_socket_is_connected (S (client)));

  /* A blocking connect returns that error itself. */
  {
    g_autoptr (CSocket) blocking = c_socket_new ();
    c_socket_set_timeout (blocking, 10000);
    cr_assert (
        c_async_socket_create (S (blocking), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
    cr_assert_not (c_socket_connect (blocking, "nowhere.invalid", port, &error));
    cr_assert (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND), "%s",
               error->message);
    cr_assert (strstr (error->message, "connect to nowhere.invalid:") == error->message
                   && strstr (error->message, ": cannot resolve nowhere.invalid: no such name"),
               "%s", error->message);
    g_clear_error (&error);
  }

  /* The socket is still good for a connect that works. */
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 2));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0);
  cr_assert_null (c_async_socket_get_close_error (S (client)), "the old reason stayed");
  server = accept_one (listener, NULL);
  assert_pair_works (client, server);
}

/* ---- Unix-domain ------------------------------------------------------------------------- */

Test (families, unix_stream_socket_on_a_path, .timeout = 30)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("afxsock-test-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *local = NULL;
  g_autofree char *client_peer = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (TestSocket) listener = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) lost = test_socket_new ();
  g_autoptr (TestSocket) server = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  guint port = 99;

  cr_assert_not_null (dir, "g_dir_make_tmp: %s", error ? error->message : "");
  path = g_build_filename (dir, "listener.sock", NULL);
  missing = g_build_filename (dir, "missing.sock", NULL);

  cr_assert (c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_ALL, path, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_async_socket_get_family (S (listener)), G_SOCKET_FAMILY_UNIX);
  cr_assert (g_file_test (path, G_FILE_TEST_EXISTS));
  cr_assert (c_async_socket_listen (S (listener), 0, &error));
  cr_assert (c_async_socket_get_sock_name (S (listener), &local, &port, &error));
  cr_assert_str_eq (local, path);
  cr_assert_eq (port, 0);

  cr_assert (c_async_socket_create_ex (S (client), G_SOCKET_FAMILY_UNIX, C_SOCK_STREAM, 0, C_FD_ALL,
                                       &error));
  cr_assert (c_async_socket_connect (S (client), path, 0, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 0, "on_connect inside connect");
  server = accept_one (listener, &address);
  wait_connected (client);
  cr_assert (run_until_count (client, C_NOTIFY_SEND, 1));
  cr_assert_not_null (address);
  cr_assert_eq (g_socket_address_get_family (address), G_SOCKET_FAMILY_UNIX);
  client_peer = peer_name (client, NULL);
  cr_assert_str_eq (client_peer, path);
  assert_pair_works (client, server);
  c_async_socket_close (S (client));
  cr_assert (run_until_count (server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (server->errors[C_NOTIFY_CLOSE], 0);

  /* A path nobody bound: the call fails, naming the path. */
  cr_assert (c_async_socket_create_ex (S (lost), G_SOCKET_FAMILY_UNIX, C_SOCK_STREAM, 0, C_FD_ALL,
                                       &error));
  expected = g_strdup_printf ("connect to %s", missing);
  cr_assert_not (c_async_socket_connect (S (lost), missing, 0, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, expected);
  cr_assert_eq (c_async_socket_get_last_error (), ENOENT);
  drain_context ();
  cr_assert_eq (lost->counts[C_NOTIFY_CONNECT], 0, "a failed call was followed by on_connect");
  /* A host name on a Unix socket is an address error, not a lookup. */
  cr_assert_not (c_async_socket_connect (S (lost), "localhost", 80, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS, "connect");
  cr_assert (c_async_socket_connect (S (lost), path, 0, &error), "%s", error ? error->message : "");
  wait_connected (lost);

  g_clear_object (&listener);
  g_unlink (path);
  g_rmdir (dir);
}

Test (families, unix_stream_socket_on_an_abstract_address, .timeout = 30)
{
  g_autofree char *name = g_strdup_printf ("@afxsock-test-%d", (int) getpid ());
  g_autoptr (TestSocket) listener = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *local = NULL;
  g_autofree char *peer = NULL;

  cr_assert (c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_ALL, name, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_listen (S (listener), 0, &error));
  cr_assert (c_async_socket_get_sock_name (S (listener), &local, NULL, &error));
  cr_assert_str_eq (local, name);

  cr_assert (
      c_async_socket_socket (S (client), C_SOCK_STREAM, C_FD_ALL, 0, G_SOCKET_FAMILY_UNIX, &error));
  cr_assert (c_async_socket_connect (S (client), name, 0, &error), "%s",
             error ? error->message : "");
  server = accept_one (listener, NULL);
  wait_connected (client);
  peer = peer_name (client, NULL);
  cr_assert_str_eq (peer, name);
  assert_pair_works (client, server);
}

/* A Unix listener's queue holds backlog + 1 connections; beyond that the kernel refuses the
 * connect with EAGAIN, and nothing is in progress. */
Test (families, unix_connect_to_a_full_backlog_is_never_reported_as_a_success, .timeout = 30)
{
  g_autofree char *name = g_strdup_printf ("@afxsock-test-backlog-%d", (int) getpid ());
  g_autoptr (TestSocket) listener = test_socket_new ();
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  int refused = 0;

  cr_assert (c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_NONE, name, &error));
  cr_assert (c_async_socket_listen (S (listener), 1, &error));
  for (int i = 0; i < 5; i++)
    {
      TestSocket *client = test_socket_new ();
      g_ptr_array_add (clients, client);
      cr_assert (c_async_socket_create_ex (S (client), G_SOCKET_FAMILY_UNIX, C_SOCK_STREAM, 0,
                                           C_FD_ALL, &error));
      if (!c_async_socket_connect (S (client), name, 0, &error))
        {
          /* Refused by the call: fine, if it says so. */
          cr_assert_not_null (strstr (error->message, "connect"), "%s", error->message);
          g_clear_error (&error);
          refused++;
          continue;
        }
      cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "client %d: no on_connect", i);
      if (client->errors[C_NOTIFY_CONNECT] != 0)
        {
          refused++;
          continue;
        }
      /* on_connect (0) must mean connected. */
      g_autofree char *peer = NULL;
      cr_assert (c_async_socket_get_peer_name (S (client), &peer, NULL, &error),
                 "client %d got on_connect (0) but is not connected: %s", i,
                 error ? error->message : "");
      cr_assert_str_eq (peer, name);
    }
  cr_assert_geq (refused, 1, "the backlog never filled (test precondition)");
}

Test (families, unix_datagrams_carry_the_sender_path, .timeout = 30)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("afxsock-test-XXXXXX", &error);
  g_autofree char *receiver_path = NULL;
  g_autofree char *sender_path = NULL;
  g_autofree char *from = NULL;
  g_autoptr (TestSocket) receiver = test_socket_new ();
  g_autoptr (TestSocket) sender = test_socket_new ();
  char buffer[64] = { 0 };
  guint port = 99;

  cr_assert_not_null (dir);
  receiver_path = g_build_filename (dir, "receiver.sock", NULL);
  sender_path = g_build_filename (dir, "sender.sock", NULL);
  cr_assert (
      c_async_socket_create (S (receiver), 0, C_SOCK_DGRAM, C_FD_READ, receiver_path, &error), "%s",
      error ? error->message : "");
  cr_assert (c_async_socket_create (S (sender), 0, C_SOCK_DGRAM, C_FD_READ, sender_path, &error),
             "%s", error ? error->message : "");
  cr_assert_eq (c_async_socket_get_socket_type (S (receiver)), C_SOCK_DGRAM);

  cr_assert_eq (
      c_async_socket_send_to (S (sender), "unix datagram", 13, 0, receiver_path, 0, &error), 13,
      "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (
      c_async_socket_receive_from (S (receiver), buffer, sizeof buffer, &from, &port, 0, &error),
      13, "%s", error ? error->message : "");
  cr_assert_str_eq (buffer, "unix datagram");
  cr_assert_str_eq (from, sender_path);
  cr_assert_eq (port, 0);

  /* Unix sockets have no broadcast address. */
  cr_assert_eq (c_async_socket_send_to (S (sender), "x", 1, 0, NULL, 0, &error), -1);
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE, "no broadcast address");

  /* A default peer: plain send reaches it. */
  cr_assert (c_async_socket_connect (S (sender), receiver_path, 0, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_async_socket_send (S (sender), "again", 5, 0, &error), 5, "%s",
                error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 2));
  memset (buffer, 0, sizeof buffer);
  cr_assert_eq (c_async_socket_receive (S (receiver), buffer, sizeof buffer, 0, &error), 5);
  cr_assert_str_eq (buffer, "again");

  g_clear_object (&receiver);
  g_clear_object (&sender);
  g_unlink (receiver_path);
  g_unlink (sender_path);
  g_rmdir (dir);
}

/* ---- UDP --------------------------------------------------------------------------------- */

static TestSocket *
udp_socket (const char *address, guint *port)
{
  g_autoptr (GError) error = NULL;
  TestSocket *socket = test_socket_new ();

  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_DGRAM, C_FD_ALL, address, &error),
             "create datagram socket on %s: %s", address ? address : "(any)",
             error ? error->message : "");
  if (port != NULL)
    *port = sock_port (socket);
  return socket;
}

Test (families, udp_receive_from_reports_the_senders_address_and_port, .timeout = 30)
{
  guint receiver_port, sender_port, dual_port, v6_port = 0, from_port = 0;
  g_autoptr (TestSocket) receiver = udp_socket ("127.0.0.1", &receiver_port);
  g_autoptr (TestSocket) sender = udp_socket ("127.0.0.1", &sender_port);
  g_autoptr (TestSocket) dual = udp_socket (NULL, &dual_port);
  g_autoptr (TestSocket) v6 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *from_dual = NULL;
  g_autofree char *from_v6 = NULL;
  char buffer[64] = { 0 };

  cr_assert_eq (
      c_async_socket_send_to (S (sender), "to v4", 5, receiver_port, "127.0.0.1", 0, &error), 5,
      "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive_from (S (receiver), buffer, sizeof buffer, &from, &from_port,
                                             0, &error),
                5);
  cr_assert_str_eq (from, "127.0.0.1");
  cr_assert_eq (from_port, sender_port);

  /* A dual-stack receiver reports an IPv4 sender in IPv4 form. */
  cr_assert_eq (
      c_async_socket_send_to (S (sender), "to dual", 7, dual_port, "127.0.0.1", 0, &error), 7, "%s",
      error ? error->message : "");
  cr_assert (run_until_count (dual, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive_from (S (dual), buffer, sizeof buffer, &from_dual,
                                             &from_port, 0, &error),
                7);
  cr_assert_str_eq (from_dual, "127.0.0.1");
  cr_assert_eq (from_port, sender_port);

  if (c_async_socket_get_family (S (dual)) != G_SOCKET_FAMILY_IPV6)
    return; /* no IPv6 here */
  v6 = udp_socket ("::1", &v6_port);
  cr_assert_eq (c_async_socket_send_to (S (v6), "from v6", 7, dual_port, "::1", 0, &error), 7, "%s",
                error ? error->message : "");
  cr_assert (run_until_count (dual, C_NOTIFY_RECEIVE, 2));
  cr_assert_eq (c_async_socket_receive_from (S (dual), buffer, sizeof buffer, &from_v6, &from_port,
                                             0, &error),
                7);
  cr_assert_str_eq (from_v6, "::1");
  cr_assert_eq (from_port, v6_port);
}

Test (families, datagram_larger_than_the_buffer_is_truncated_with_emsgsize, .timeout = 30)
{
  guint receiver_port, sender_port;
  g_autoptr (TestSocket) receiver = udp_socket ("127.0.0.1", &receiver_port);
  g_autoptr (TestSocket) sender = udp_socket ("127.0.0.1", &sender_port);
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  guint8 big[100], buffer[10] = { 0 };
  char small[16] = { 0 };
  CSocketStats stats;

  for (guint i = 0; i < sizeof big; i++)
    big[i] = (guint8) i;
  cr_assert_eq (
      c_async_socket_send_to (S (sender), big, sizeof big, receiver_port, "127.0.0.1", 0, &error),
      100);
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive (S (receiver), buffer, sizeof buffer, 0, &error), -1);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "100-byte datagram into 10 bytes");
  cr_assert_eq (c_async_socket_get_last_error (), EMSGSIZE);
  cr_assert_eq (memcmp (buffer, big, sizeof buffer), 0, "the truncated part is delivered");
  c_async_socket_get_stats (S (receiver), &stats);
  cr_assert_eq (stats.bytes_received, 10);

  /* The rest of that datagram is gone; the next one arrives whole. */
  cr_assert_eq (
      c_async_socket_send_to (S (sender), "next", 4, receiver_port, "127.0.0.1", 0, &error), 4);
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 2), "on_receive not re-armed");
  cr_assert_eq (c_async_socket_receive (S (receiver), small, sizeof small, 0, &error), 4, "%s",
                error ? error->message : "");
  cr_assert_str_eq (small, "next");

  /* receive_from truncates the same way. */
  cr_assert_eq (c_async_socket_send_to (S (sender), big, 50, receiver_port, "127.0.0.1", 0, &error),
                50);
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 3));
  cr_assert_eq (
      c_async_socket_receive_from (S (receiver), buffer, sizeof buffer, &from, NULL, 0, &error),
      -1);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "50-byte datagram into 10 bytes");
}

Test (families, datagram_connect_sets_the_default_peer, .timeout = 30)
{
  guint a_port, b_port, sender_port, from_port = 0, peer_port = 0;
  g_autoptr (TestSocket) a = udp_socket ("127.0.0.1", &a_port);
  g_autoptr (TestSocket) b = udp_socket ("127.0.0.1", &b_port);
  g_autoptr (TestSocket) sender = udp_socket ("127.0.0.1", &sender_port);
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *peer = NULL;
  char buffer[16] = { 0 };

  /* Without a default peer, send has nowhere to go. */
  cr_assert_eq (c_async_socket_send (S (sender), "lost", 4, 0, &error), -1);
  cr_assert_not_null (error);
  cr_assert_not_null (strstr (error->message, "send"), "%s", error->message);
  cr_assert_eq (c_async_socket_get_last_error (), EDESTADDRREQ);
  g_clear_error (&error);

  cr_assert (c_async_socket_connect (S (sender), "127.0.0.1", a_port, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (sender, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (sender->errors[C_NOTIFY_CONNECT], 0);
  cr_assert (c_async_socket_is_connected (S (sender)));
  peer = peer_name (sender, &peer_port);
  cr_assert_str_eq (peer, "127.0.0.1");
  cr_assert_eq (peer_port, a_port);

  cr_assert_eq (c_async_socket_send (S (sender), "hello", 5, 0, &error), 5, "%s",
                error ? error->message : "");
  cr_assert (run_until_count (a, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (
      c_async_socket_receive_from (S (a), buffer, sizeof buffer, &from, &from_port, 0, &error), 5);
  cr_assert_str_eq (buffer, "hello");
  cr_assert_str_eq (from, "127.0.0.1");
  cr_assert_eq (from_port, sender_port);

  /* A datagram socket may change its default peer. */
  cr_assert (c_async_socket_connect (S (sender), "127.0.0.1", b_port, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_async_socket_send (S (sender), "world", 5, 0, &error), 5);
  cr_assert (run_until_count (b, C_NOTIFY_RECEIVE, 1));
  drain_context ();
  cr_assert_eq (a->counts[C_NOTIFY_RECEIVE], 1, "the old peer still got data");
  cr_assert (run_until_count (sender, C_NOTIFY_CONNECT, 2));
  cr_assert_eq (sender->counts[C_NOTIFY_CONNECT], 2);
}

/* ---- Broadcast --------------------------------------------------------------------------- */

Test (families, broadcast_reaches_a_receiver_on_the_wildcard_address, .timeout = 30)
{
  guint receiver_port, sender_port, from_port = 0;
  g_autoptr (TestSocket) receiver = test_socket_new ();
  g_autoptr (TestSocket) sender = udp_socket ("127.0.0.1", &sender_port);
  g_autoptr (TestSocket) plain = udp_socket ("127.0.0.1", NULL);
  g_autoptr (TestSocket) dual = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *from_subnet = NULL;
  g_autofree char *expected = NULL;
  char buffer[32] = { 0 };
  int broadcast = 0;

  cr_assert (c_async_socket_create (S (receiver), 0, C_SOCK_DGRAM, C_FD_READ, "0.0.0.0", &error),
             "%s", error ? error->message : "");
  receiver_port = sock_port (receiver);
  cr_assert_eq (c_async_socket_get_family (S (receiver)), G_SOCKET_FAMILY_IPV4);

  /* A NULL host broadcasts to 255.255.255.255, turning SO_BROADCAST on by itself. A sender
   * bound to 127.0.0.1 routes that over lo only. */
  cr_assert_eq (
      c_async_socket_send_to (S (sender), "to everyone", 11, receiver_port, NULL, 0, &error), 11,
      "%s", error ? error->message : "");
  cr_assert (
      c_async_socket_get_sock_opt_int (S (sender), SOL_SOCKET, SO_BROADCAST, &broadcast, &error));
  cr_assert_neq (broadcast, 0, "send_to (NULL) must set SO_BROADCAST");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive_from (S (receiver), buffer, sizeof buffer, &from, &from_port,
                                             0, &error),
                11, "%s", error ? error->message : "");
  cr_assert_str_eq (buffer, "to everyone");
  cr_assert_str_eq (from, "127.0.0.1");
  cr_assert_eq (from_port, sender_port);

  /* The loopback network's own broadcast address. */
  memset (buffer, 0, sizeof buffer);
  cr_assert_eq (c_async_socket_send_to (S (sender), "to 127/8", 8, receiver_port, "127.255.255.255",
                                        0, &error),
                8, "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 2));
  cr_assert_eq (c_async_socket_receive_from (S (receiver), buffer, sizeof buffer, &from_subnet,
                                             NULL, 0, &error),
                8);
  cr_assert_str_eq (buffer, "to 127/8");
  cr_assert_str_eq (from_subnet, "127.0.0.1");

  /* An explicit broadcast address without SO_BROADCAST is the system's refusal; the socket
   * goes on once the option is set. */
  expected = g_strdup_printf ("send_to 127.255.255.255:%u", receiver_port);
  cr_assert_eq (
      c_async_socket_send_to (S (plain), "x", 1, receiver_port, "127.255.255.255", 0, &error), -1);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, expected);
  cr_assert (c_async_socket_set_sock_opt_int (S (plain), SOL_SOCKET, SO_BROADCAST, 1, &error));
  cr_assert_eq (
      c_async_socket_send_to (S (plain), "y", 1, receiver_port, "127.255.255.255", 0, &error), 1,
      "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 3));
  memset (buffer, 0, sizeof buffer);
  cr_assert_eq (c_async_socket_receive (S (receiver), buffer, sizeof buffer, 0, &error), 1);
  cr_assert_str_eq (buffer, "y");

  /* An IPv6 socket broadcasts too (to ::ffff:255.255.255.255); bound to 127.0.0.1 (mapped),
   * it stays on lo. */
  if (!c_async_socket_socket (S (dual), C_SOCK_DGRAM, C_FD_NONE, 0, G_SOCKET_FAMILY_IPV6, &error))
    return; /* no IPv6 here */
  cr_assert (c_async_socket_set_sock_opt_int (S (dual), IPPROTO_IPV6, IPV6_V6ONLY, 0, &error));
  cr_assert (c_async_socket_bind (S (dual), 0, "127.0.0.1", &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_async_socket_send_to (S (dual), "from v6", 7, receiver_port, NULL, 0, &error), 7,
                "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 4));
  memset (buffer, 0, sizeof buffer);
  cr_assert_eq (c_async_socket_receive (S (receiver), buffer, sizeof buffer, 0, &error), 7);
  cr_assert_str_eq (buffer, "from v6");
}

/* ---- Raw ICMP ---------------------------------------------------------------------------- */

static guint16
internet_checksum (const guint8 *data, gsize length)
{
  guint32 sum = 0;

  for (gsize i = 0; i + 1 < length; i += 2)
    sum += (guint32) (data[i] << 8 | data[i + 1]);
  if (length % 2)
    sum += (guint32) data[length - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

typedef struct
{
  guint16 id, sequence;
  int requests_seen; /* our own request, looped back to the raw socket */
  gboolean reply_seen;
  char payload[32];
} Ping;

/* Builds an ICMP echo request (type 8) in network byte order. */
static gsize
build_echo_request (Ping *ping, guint8 *packet)
{
  gsize length = 8 + strlen (ping->payload);
  guint16 checksum;

  memset (packet, 0, length);
  packet[0] = ICMP_ECHO;
  packet[1] = 0;
  packet[4] = (guint8) (ping->id >> 8);
  packet[5] = (guint8) ping->id;
  packet[6] = (guint8) (ping->sequence >> 8);
  packet[7] = (guint8) ping->sequence;
  memcpy (packet + 8, ping->payload, strlen (ping->payload));
  checksum = internet_checksum (packet, length);
  packet[2] = (guint8) (checksum >> 8);
  packet[3] = (guint8) checksum;
  return length;
}

/* on_receive of the raw socket: one receive per notification; the packet starts with the
 * IPv4 header. */
static void
read_icmp (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Ping *ping = data;
  guint8 packet[1500];
  gssize n;
  gsize header;
  const guint8 *icmp;

  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), packet, sizeof packet, 0, NULL);
  if (n < 20 || (packet[0] >> 4) != 4)
    return;
  header = (gsize) (packet[0] & 0x0f) * 4;
  if ((gsize) n < header + 8 || packet[9] != IPPROTO_ICMP)
    return;
  icmp = packet + header;
  if ((icmp[4] << 8 | icmp[5]) != ping->id || (icmp[6] << 8 | icmp[7]) != ping->sequence)
    return;
  if (icmp[0] == ICMP_ECHO)
    ping->requests_seen++;
  else if (icmp[0] == ICMP_ECHOREPLY && (gsize) n >= header + 8 + strlen (ping->payload)
           && memcmp (icmp + 8, ping->payload, strlen (ping->payload)) == 0
           && internet_checksum (icmp, (gsize) n - header) == 0)
    ping->reply_seen = TRUE;
}

static TestSocket *
raw_icmp_socket (Ping *ping)
{
  g_autoptr (GError) error = NULL;
  TestSocket *raw = test_socket_new ();

  if (!c_async_socket_socket (S (raw), C_SOCK_RAW, C_FD_READ, IPPROTO_ICMP, G_SOCKET_FAMILY_IPV4,
                              &error))
    {
      int code = c_async_socket_get_last_error ();
      g_object_unref (raw);
      if (code == EPERM || code == EACCES)
        cr_skip_test ("raw ICMP sockets are not permitted here (needs CAP_NET_RAW): %s",
                      error->message);
      cr_assert_fail ("creating a raw ICMP socket: %s", error->message);
    }
  cr_assert_eq (c_async_socket_get_socket_type (S (raw)), C_SOCK_RAW);
  raw->hook = read_icmp;
  raw->hook_data = ping;
  ping->id = (guint16) (getpid () & 0xffff);
  ping->sequence = (guint16) g_random_int_range (1, 65535);
  g_snprintf (ping->payload, sizeof ping->payload, "afxsock ping %u", ping->sequence);
  return raw;
}

Test (families, raw_icmp_echo_to_loopback_with_send_to, .timeout = 30)
{
  Ping ping = { 0 };
  g_autoptr (TestSocket) raw = raw_icmp_socket (&ping);
  g_autoptr (GError) error = NULL;
  guint8 packet[64];
  gsize length = build_echo_request (&ping, packet);

  /* Raw IP has no ports: the port argument is meaningless and 0 is the natural value. */
  cr_assert_eq (c_async_socket_send_to (S (raw), packet, length, 0, "127.0.0.1", 0, &error),
                (gssize) length, "send_to: %s", error ? error->message : "short");
  cr_assert (run_until_flag (&ping.reply_seen), "no echo reply with id %u sequence %u", ping.id,
             ping.sequence);
}

Test (families, raw_icmp_echo_to_loopback_with_send_to_address, .timeout = 30)
{
  Ping ping = { 0 };
  g_autoptr (TestSocket) raw = raw_icmp_socket (&ping);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) target = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GError) error = NULL;
  guint8 packet[64];
  gsize length = build_echo_request (&ping, packet);
  CSocketStats stats;

  cr_assert_eq (c_async_socket_send_to_address (S (raw), packet, length, target, 0, &error),
                (gssize) length, "send_to_address: %s", error ? error->message : "short");
  cr_assert (run_until_flag (&ping.reply_seen), "no echo reply with id %u sequence %u", ping.id,
             ping.sequence);
  c_async_socket_get_stats (S (raw), &stats);
  cr_assert_eq (stats.bytes_sent, length);
  cr_assert_geq (stats.receive_calls, 1);
}

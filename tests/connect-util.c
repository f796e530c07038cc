/* connect-util.c: a connect test's fixture, listeners on both loopbacks, and the checks
 * of a connect's outcome
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "connect-util.h"

void
fixture_open (Fixture *f, gboolean plain)
{
  /* GTask's first use opens a descriptor for good (its worker context): before any count. */
  g_type_ensure (G_TYPE_TASK);
  f->resolver = test_resolver_install (plain);
  f->sockets = g_ptr_array_new_with_free_func (g_object_unref);
}

void
fixture_close (Fixture *f)
{
  g_clear_pointer (&f->sockets, g_ptr_array_unref);
  test_resolver_uninstall (f->resolver);
  drain_context ();
}

/* Listeners on [::1]:P and 127.0.0.1:P, each alive or dead (full accept queue); returns P. */
guint
listen_both (Fixture *f, gboolean ipv6_alive, gboolean ipv4_alive)
{
  guint port = 0;

  if (ipv6_alive)
    g_ptr_array_add (f->sockets, make_listener_on ("::1", &port));
  else
    g_ptr_array_add (f->sockets, make_full_listener ("::1", &port, f->sockets));
  if (ipv4_alive)
    g_ptr_array_add (f->sockets, make_listener_on ("127.0.0.1", &port));
  else
    g_ptr_array_add (f->sockets, make_full_listener ("127.0.0.1", &port, f->sockets));
  return port;
}

TestSocket *
new_client (const char *address)
{
  TestSocket *client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, address, &error), "%s",
             error ? error->message : "");
  return client;
}

void
start_connect (TestSocket *client, const char *name, guint port)
{
  g_autoptr (GError) error = NULL;
  int before = client->counts[C_NOTIFY_CONNECT];

  cr_assert (c_async_socket_connect (S (client), name, port, &error), "connect: %s",
             error ? error->message : "");
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], before, "on_connect inside connect");
}

/* Runs until on_connect; returns the milliseconds it took from @start. */
double
wait_connect (TestSocket *client, gint64 start)
{
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "no on_connect");
  return (double) (g_get_monotonic_time () - start) / 1000.0;
}

char *
peer_of (TestSocket *client)
{
  g_autoptr (GError) error = NULL;
  char *peer = NULL;

  cr_assert (c_async_socket_get_peer_name (S (client), &peer, NULL, &error), "%s",
             error ? error->message : "");
  return peer;
}

void
assert_connected_to (TestSocket *client, const char *address)
{
  g_autofree char *peer = NULL;
  const GError *why = c_async_socket_get_close_error (S (client));

  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0, "on_connect (%s): %s",
                g_strerror (client->errors[C_NOTIFY_CONNECT]), why ? why->message : "no GError");
  peer = peer_of (client);
  cr_assert_str_eq (peer, address, "connected to %s, not %s", peer, address);
}

/* on_connect came once, and on_send after it on success. */
void
assert_one_on_connect (TestSocket *client)
{
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1, "%d on_connect notifications",
                client->counts[C_NOTIFY_CONNECT]);
  if (client->errors[C_NOTIFY_CONNECT] == 0)
    cr_assert (run_until_count (client, C_NOTIFY_SEND, 1), "no on_send after on_connect");
  else
    cr_assert_eq (client->counts[C_NOTIFY_SEND], 0, "on_send after a failed connect");
}

/* Bytes go both ways over the connection the race left: the listener accepts it, and the
 * socket's notifications work on the descriptor that won. */
void
assert_round_trip (TestSocket *client, TestSocket *listener)
{
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1), "no on_accept");
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error), "%s",
             error ? error->message : "");
  server->read_on_receive = TRUE;
  client->read_on_receive = TRUE;
  send_text (client, "ping");
  cr_assert (run_until_received (server, 4), "the server got nothing");
  send_text (server, "pong");
  cr_assert (run_until_received (client, 4), "the client got nothing");
  cr_assert (memcmp (client->received->data, "pong", 4) == 0);
}

static gboolean
time_passed (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
run_for (guint ms)
{
  gboolean passed = FALSE;

  g_timeout_add (ms, time_passed, &passed);
  cr_assert (run_until_flag (&passed));
}

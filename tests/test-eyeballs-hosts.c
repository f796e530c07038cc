/* test-eyeballs-hosts.c: Happy Eyeballs and the connect deadline between two hosts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two network namespaces joined by a veth pair (netns-util.c): the server host has IPv4 and
 * IPv6 addresses with listeners on one port; on the client host, the route to some of them
 * drops every packet (a neighbour entry with a link-layer address nobody has), so attempts
 * to them hang as towards a broken IPv6 path, and others are refused or unreachable. Names
 * come from a TestResolver. Skipped, with the reason, where namespaces cannot be made.
 */
#include <errno.h>

#include "netns-util.h"
#include "resolver-util.h"

#define NAME "server.test"

static TwoHosts hosts;
static TestResolver *resolver;
static GPtrArray *sockets; /* the server's listeners */

static void
teardown (void)
{
  g_clear_pointer (&sockets, g_ptr_array_unref);
  if (resolver != NULL)
    test_resolver_uninstall (g_steal_pointer (&resolver));
  two_hosts_destroy (&hosts);
}

/* The hosts, with the server listening on one port on each of its addresses (10.N.0.H and
 * fd00:N::H for each H in @server_hosts, 0-terminated); the thread is left in the client. */
static guint
make_hosts (const char *tag, const guint *server_hosts)
{
  guint port = 0;

  g_type_ensure (G_TYPE_TASK); /* before any count of descriptors */
  two_hosts_make (&hosts, tag);
  for (const guint *h = server_hosts; *h != 0; h++)
    if (*h != 2)
      two_hosts_add_server_address (&hosts, *h);
  resolver = test_resolver_install (FALSE);
  sockets = g_ptr_array_new_with_free_func (g_object_unref);
  two_hosts_enter (&hosts, hosts.server);
  for (const guint *h = server_hosts; *h != 0; h++)
    {
      g_autofree char *v6 = two_hosts_ipv6 (&hosts, *h);
      g_autofree char *v4 = two_hosts_ipv4 (&hosts, *h);

      g_ptr_array_add (sockets, make_listener_on (v6, &port));
      g_ptr_array_add (sockets, make_listener_on (v4, &port));
    }
  two_hosts_enter (&hosts, hosts.client);
  return port;
}

static TestSocket *
connect_by_name (guint port, guint delay_ms, guint timeout_ms)
{
  TestSocket *client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error), "%s",
             error ? error->message : "");
  if (delay_ms != 0)
    c_async_socket_set_connect_attempt_delay (S (client), delay_ms);
  c_async_socket_set_connect_timeout (S (client), timeout_ms);
  cr_assert (c_async_socket_connect (S (client), NAME, port, &error), "%s",
             error ? error->message : "");
  return client;
}

static double
wait_connect (TestSocket *client, gint64 start)
{
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1), "no on_connect");
  return (double) (g_get_monotonic_time () - start) / 1000.0;
}

static void
assert_winner (TestSocket *client, const char *address, guint attempts)
{
  g_autofree char *peer = NULL;
  g_autoptr (GError) error = NULL;
  const GError *why = c_async_socket_get_close_error (S (client));

  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0, "on_connect (%s): %s",
                g_strerror (client->errors[C_NOTIFY_CONNECT]), why ? why->message : "no GError");
  cr_assert (c_async_socket_get_peer_name (S (client), &peer, NULL, &error));
  cr_assert_str_eq (peer, address);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), attempts, "%u attempts",
                c_async_socket_get_connect_attempts (S (client)));
}

static void
assert_one_on_connect (TestSocket *client)
{
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1, "%d on_connect notifications",
                client->counts[C_NOTIFY_CONNECT]);
}

Test (eyeballs_hosts, ipv4_wins_over_a_dropped_ipv6_route, .timeout = 60, .fini = teardown)
{
  static const guint server[] = { 2, 0 };
  g_autoptr (TestSocket) client = NULL;
  g_autoptr (CSocket) blocking = c_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *v6 = NULL, *v4 = NULL, *peer = NULL;
  guint port, descriptors;
  gint64 start;

  port = make_hosts ("eyeballs", server);
  v6 = two_hosts_ipv6 (&hosts, 2);
  v4 = two_hosts_ipv4 (&hosts, 2);
  two_hosts_drop (&hosts, v6);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV6, v6, 0);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV4, v4, 0);
  descriptors = open_descriptors ();
  start = g_get_monotonic_time ();
  client = connect_by_name (port, 0, 0);
  cr_log_info ("IPv6 route dropped: connected to %s in %.1f ms (attempt delay 250 ms)", v4,
               wait_connect (client, start));
  assert_winner (client, v4, 2);
  /* The IPv6 attempt was abandoned: nothing of it is left in the client's kernel. */
  cr_assert_eq (syn_sent_towards (port), 0, "the IPv6 attempt still hangs");
  cr_assert_eq (open_descriptors (), descriptors + 1);
  assert_one_on_connect (client);

  /* CSocket's blocking connect takes the same path. */
  c_socket_set_timeout (blocking, 10000);
  cr_assert (c_async_socket_create (S (blocking), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  start = g_get_monotonic_time ();
  cr_assert (c_socket_connect (blocking, NAME, port, &error), "%s", error ? error->message : "");
  cr_log_info ("CSocket, IPv6 route dropped: connected in %.1f ms",
               (double) (g_get_monotonic_time () - start) / 1000.0);
  cr_assert (c_async_socket_get_peer_name (S (blocking), &peer, NULL, &error));
  cr_assert_str_eq (peer, v4);
  cr_assert_eq (syn_sent_towards (port), 0);
}

Test (eyeballs_hosts, ipv6_wins_when_it_answers, .timeout = 60, .fini = teardown)
{
  static const guint server[] = { 2, 0 };
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *v6 = NULL, *v4 = NULL;
  guint port;

  port = make_hosts ("eyeballs", server);
  v6 = two_hosts_ipv6 (&hosts, 2);
  v4 = two_hosts_ipv4 (&hosts, 2);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV6, v6, 0);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV4, v4, 0);
  client = connect_by_name (port, 0, 0);
  cr_log_info ("both answer: connected to %s in %.1f ms", v6,
               wait_connect (client, g_get_monotonic_time ()));
  assert_winner (client, v6, 1);
  assert_one_on_connect (client);
}

Test (eyeballs_hosts, the_families_take_turns, .timeout = 60, .fini = teardown)
{
  static const guint server[] = { 2, 3, 0 };
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *a1 = NULL, *a2 = NULL, *b1 = NULL, *b2 = NULL;
  g_autofree char *v6 = NULL, *v4 = NULL;
  guint port;
  gint64 start;

  port = make_hosts ("eyeballs", server);
  a1 = two_hosts_ipv6 (&hosts, 2);
  a2 = two_hosts_ipv6 (&hosts, 3);
  b1 = two_hosts_ipv4 (&hosts, 2);
  b2 = two_hosts_ipv4 (&hosts, 3);
  two_hosts_drop (&hosts, a1);
  two_hosts_drop (&hosts, b1);
  v6 = g_strjoin (",", a1, a2, NULL);
  v4 = g_strjoin (",", b1, b2, NULL);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV6, v6, 0);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV4, v4, 0);
  /* Interleaved, the order is a1, b1, a2 (which answers): three attempts. IPv6's addresses
   * first would win with a2 in two; IPv4's first, with b2 in two. */
  start = g_get_monotonic_time ();
  client = connect_by_name (port, 100, 0);
  cr_log_info ("a1 and b1 dropped, attempt delay 100 ms: connected to %s in %.1f ms", a2,
               wait_connect (client, start));
  assert_winner (client, a2, 3);
  cr_assert_eq (syn_sent_towards (port), 0, "the abandoned attempts still hang");
  assert_one_on_connect (client);
}

/* Every attempt fails: on_connect once, with the error of the last attempt that ended. */
static void
all_fail (gboolean ipv6_first_refused)
{
  static const guint server[] = { 2, 0 };
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *v6 = NULL, *v4 = NULL;
  guint port, closed_port;
  int expected = ipv6_first_refused ? EHOSTUNREACH : ECONNREFUSED;

  port = make_hosts ("eyeballs", server);
  closed_port = port == 65535 ? port - 1 : port + 1; /* nobody listens there */
  two_hosts_ip (&hosts, hosts.client, "route", "add", "unreachable", "10.99.0.0/24", NULL);
  two_hosts_ip (&hosts, hosts.client, "-6", "route", "add", "unreachable", "fd00:99::/64", NULL);
  /* The reachable family is refused (a port on the server nobody listens on); the other one
   * is unreachable at once. */
  v6 = ipv6_first_refused ? two_hosts_ipv6 (&hosts, 2) : g_strdup ("fd00:99::1");
  v4 = ipv6_first_refused ? g_strdup ("10.99.0.1") : two_hosts_ipv4 (&hosts, 2);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV6, v6, 0);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV4, v4, 0);
  client = connect_by_name (closed_port, 0, 0);
  wait_connect (client, g_get_monotonic_time ());
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], expected, "on_connect (%s), not (%s)",
                g_strerror (client->errors[C_NOTIFY_CONNECT]), g_strerror (expected));
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  assert_one_on_connect (client);
  cr_assert_eq (client->counts[C_NOTIFY_SEND], 0);
}

Test (eyeballs_hosts, ipv6_refused_then_ipv4_unreachable_is_unreachable, .timeout = 60,
      .fini = teardown)
{
  all_fail (TRUE);
}

Test (eyeballs_hosts, ipv6_unreachable_then_ipv4_refused_is_refused, .timeout = 60,
      .fini = teardown)
{
  all_fail (FALSE);
}

Test (eyeballs_hosts, the_deadline_ends_a_race_over_dropped_routes, .timeout = 60, .fini = teardown)
{
  static const guint server[] = { 2, 0 };
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *v6 = NULL, *v4 = NULL, *expected = NULL;
  const GError *why;
  guint port, descriptors;
  gint64 start;

  port = make_hosts ("eyeballs", server);
  v6 = two_hosts_ipv6 (&hosts, 2);
  v4 = two_hosts_ipv4 (&hosts, 2);
  two_hosts_drop (&hosts, v6);
  two_hosts_drop (&hosts, v4);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV6, v6, 0);
  test_resolver_set (resolver, NAME, G_SOCKET_FAMILY_IPV4, v4, 0);
  descriptors = open_descriptors ();
  start = g_get_monotonic_time ();
  client = connect_by_name (port, 0, 500);
  cr_log_info ("both routes dropped, connect-timeout 500 ms: on_connect (ETIMEDOUT) after %.1f ms",
               wait_connect (client, start));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ETIMEDOUT, "on_connect (%s)",
                g_strerror (client->errors[C_NOTIFY_CONNECT]));
  why = c_async_socket_get_close_error (S (client));
  expected = g_strdup_printf ("connect to %s:%u: timed out after 500 ms", NAME, port);
  cr_assert_not_null (why);
  cr_assert (g_error_matches (why, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s", why->message);
  cr_assert_str_eq (why->message, expected);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  cr_assert_eq (syn_sent_towards (port), 0, "an attempt still hangs after the deadline");
  cr_assert_eq (open_descriptors (), descriptors + 1);
  assert_one_on_connect (client);

  /* A connect to the address itself ends the same way. */
  g_clear_object (&client);
  client = test_socket_new ();
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  c_async_socket_set_connect_timeout (S (client), 300);
  cr_assert (c_async_socket_connect (S (client), v6, port, NULL));
  wait_connect (client, g_get_monotonic_time ());
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ETIMEDOUT);
  g_free (expected);
  expected = g_strdup_printf ("connect to [%s]:%u: timed out after 300 ms", v6, port);
  cr_assert_str_eq (c_async_socket_get_close_error (S (client))->message, expected);
  cr_assert_eq (syn_sent_towards (port), 0);
}

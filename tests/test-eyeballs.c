/* test-eyeballs.c: connect by host name (Happy Eyeballs v2, RFC 8305) on loopback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Names come from a TestResolver (resolver-util.c), never DNS or /etc/hosts. A "dead"
 * address is a listener on loopback whose accept queue is full: the kernel drops the SYNs
 * of further connections, which hang in SYN_SENT as towards a host whose packets are lost.
 * A refused one is a port bound without a listener. Both families share a port number: a
 * listener on [::1]:P and one on 127.0.0.1:P. tests/test-eyeballs-hosts.c runs the same
 * races between two network namespaces over a link that drops packets.
 *
 * Times are printed, never asserted: what is asserted is which address won, how many
 * attempts were made, that the others are gone (no SYN_SENT left, no descriptor left), and
 * that on_connect came once.
 *
 * Loopback loses packets too: when tests beside this one flood it, the kernel's input queue
 * (net.core.netdev_max_backlog) overflows and a lost SYN costs 1 s, a second one 3 s more.
 * Every wait has its own deadline (TEST_DEADLINE_MS, 10 s) and each test's timeout (60 s)
 * leaves room for several such losses, so that a slow run passes and a failing one names the
 * wait that failed. test-connect-deadline.c does the same.
 */
#include <errno.h>

#include "connect-util.h"
#include "tls-util.h"

/* ---- Which address wins ------------------------------------------------------------------ */

Test (eyeballs, ipv6_wins_when_both_families_answer, .timeout = 60)
{
  Fixture f;
  guint port;
  g_autoptr (TestSocket) client = NULL;

  fixture_open (&f, FALSE);
  port = listen_both (&f, TRUE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  start_connect (client, NAME, port);
  cr_log_info ("IPv6 and IPv4 answer: connected in %.1f ms",
               wait_connect (client, g_get_monotonic_time ()));
  assert_connected_to (client, "::1");
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 1);
  assert_one_on_connect (client);
  assert_round_trip (client, g_ptr_array_index (f.sockets, 0));
  g_clear_object (&client);
  fixture_close (&f);
}

Test (eyeballs, ipv4_wins_when_ipv6_packets_are_dropped, .timeout = 60)
{
  Fixture f;
  guint port;
  g_autoptr (TestSocket) client = NULL;
  TestSocket *listener4;
  guint descriptors;
  int handle;
  gint64 start;
  double ms;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, TRUE);
  listener4 = g_ptr_array_index (f.sockets, f.sockets->len - 1);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  handle = c_async_socket_get_handle (S (client));
  descriptors = open_descriptors ();
  start = g_get_monotonic_time ();
  start_connect (client, NAME, port);
  ms = wait_connect (client, start);
  cr_log_info ("IPv6 dropped: connected over IPv4 in %.1f ms (connection attempt delay 250 ms)",
               ms);
  assert_connected_to (client, "127.0.0.1");
  /* Two attempts: IPv6 first, then IPv4 beside it; the IPv6 one was closed when IPv4 won. */
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  cr_assert_eq (syn_sent_towards (port), 0, "an attempt still hangs in SYN_SENT");
  cr_assert_eq (open_descriptors (), descriptors, "the race left a descriptor open");
  /* The second attempt's descriptor took the socket's place under the same number. */
  cr_assert_eq (c_async_socket_get_handle (S (client)), handle);
  cr_assert_eq (c_async_socket_from_handle (handle), S (client));
  assert_one_on_connect (client);
  assert_round_trip (client, listener4);
  g_clear_object (&client);
  fixture_close (&f);
}

Test (eyeballs, the_attempt_delay_is_a_property, .timeout = 60)
{
  Fixture f;
  guint port, delay = 0;
  g_autoptr (TestSocket) client = NULL;
  gint64 start;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  cr_assert_eq (c_async_socket_get_connect_attempt_delay (S (client)), 250);
  g_object_set (client, "connect-attempt-delay", 20, NULL);
  g_object_get (client, "connect-attempt-delay", &delay, NULL);
  cr_assert_eq (delay, 20);
  start = g_get_monotonic_time ();
  start_connect (client, NAME, port);
  cr_log_info ("IPv6 dropped, attempt delay 20 ms: connected over IPv4 in %.1f ms",
               wait_connect (client, start));
  assert_connected_to (client, "127.0.0.1");
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

/* The IPv4 answer comes first: IPv6 gets 50 ms (the resolution delay) to answer. */
static void
resolution_race (int ipv6_delay_ms, int ipv4_delay_ms, const char *winner, guint lookups_cancelled)
{
  Fixture f;
  guint port;
  g_autoptr (TestSocket) client = NULL;
  gint64 start;

  fixture_open (&f, FALSE);
  port = listen_both (&f, TRUE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", ipv6_delay_ms);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", ipv4_delay_ms);
  client = new_client (NULL);
  start = g_get_monotonic_time ();
  start_connect (client, NAME, port);
  g_autofree char *v6
      = ipv6_delay_ms < 0 ? g_strdup ("never") : g_strdup_printf ("after %d ms", ipv6_delay_ms);
  g_autofree char *v4
      = ipv4_delay_ms < 0 ? g_strdup ("never") : g_strdup_printf ("after %d ms", ipv4_delay_ms);

  cr_log_info ("AAAA %s, A %s: connected to %s in %.1f ms", v6, v4, winner,
               wait_connect (client, start));
  assert_connected_to (client, winner);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 1);
  assert_one_on_connect (client);
  /* A lookup still under way when the race was won is cancelled. */
  cr_assert_eq (test_resolver_lookups (f.resolver), 2);
  cr_assert_eq (test_resolver_cancelled (f.resolver), lookups_cancelled);
  g_clear_object (&client);
  fixture_close (&f);
}

Test (eyeballs, ipv6_answering_within_the_resolution_delay_goes_first, .timeout = 60)
{
  resolution_race (20, 0, "::1", 0);
}

Test (eyeballs, ipv6_answering_after_the_resolution_delay_is_too_late, .timeout = 60)
{
  resolution_race (1000, 0, "127.0.0.1", 1);
}

Test (eyeballs, ipv6_that_never_answers_does_not_hold_ipv4_up, .timeout = 60)
{
  resolution_race (TEST_RESOLVER_NEVER, 0, "127.0.0.1", 1);
}

Test (eyeballs, ipv6_answering_first_starts_at_once, .timeout = 60)
{
  resolution_race (0, TEST_RESOLVER_NEVER, "::1", 1);
}

Test (eyeballs, one_family_without_addresses, .timeout = 60)
{
  Fixture f;
  guint port;
  g_autoptr (TestSocket) client = NULL;
  g_autoptr (TestSocket) client4 = NULL;

  fixture_open (&f, FALSE);
  port = listen_both (&f, TRUE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, NULL, 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  start_connect (client, NAME, port);
  wait_connect (client, g_get_monotonic_time ());
  assert_connected_to (client, "127.0.0.1");
  assert_one_on_connect (client);

  /* An IPv4 socket asks for IPv4 addresses only. */
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  client4 = new_client ("127.0.0.1");
  start_connect (client4, NAME, port);
  wait_connect (client4, g_get_monotonic_time ());
  assert_connected_to (client4, "127.0.0.1");
  cr_assert_eq (test_resolver_lookups (f.resolver), 3, "%u lookups",
                test_resolver_lookups (f.resolver));
  assert_one_on_connect (client4);
  g_clear_object (&client);
  g_clear_object (&client4);
  fixture_close (&f);
}

Test (eyeballs, a_resolver_without_per_family_lookups_still_races, .timeout = 60)
{
  Fixture f;
  guint port;
  g_autoptr (TestSocket) client = NULL;

  fixture_open (&f, TRUE);
  port = listen_both (&f, FALSE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  start_connect (client, NAME, port);
  wait_connect (client, g_get_monotonic_time ());
  assert_connected_to (client, "127.0.0.1");
  cr_assert_eq (test_resolver_lookups (f.resolver), 1);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

Test (eyeballs, a_datagram_socket_takes_the_first_address_as_its_peer, .timeout = 60)
{
  Fixture f;
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) receiver = test_socket_new ();
  g_autoptr (GError) error = NULL;
  guint port = 0;

  fixture_open (&f, FALSE);
  cr_assert (c_async_socket_create (S (receiver), 0, C_SOCK_DGRAM, C_FD_ALL, "::1", &error));
  cr_assert (c_async_socket_get_sock_name (S (receiver), NULL, &port, &error));
  receiver->read_on_receive = TRUE;
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_DGRAM, C_FD_ALL, NULL, &error));
  start_connect (client, NAME, port);
  wait_connect (client, g_get_monotonic_time ());
  assert_connected_to (client, "::1");
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 1);
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1);
  /* A send without an address goes to the peer. */
  send_text (client, "datagram");
  cr_assert (run_until_received (receiver, 8), "the peer got nothing");
  g_clear_object (&client);
  fixture_close (&f);
}

/* The application chose the local port: every attempt binds it (the socket has
 * SO_REUSEADDR from create), and the winner connects from it. */
Test (eyeballs, a_client_bound_to_its_own_port_races_from_it, .timeout = 60)
{
  Fixture f;
  guint port, local_port = 0, bound = 0;
  g_autoptr (TestSocket) probe = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  /* A free port, found by binding and closing. */
  cr_assert (c_async_socket_create (S (probe), 0, C_SOCK_STREAM, C_FD_NONE, NULL, &error));
  cr_assert (c_async_socket_get_sock_name (S (probe), NULL, &local_port, &error));
  c_async_socket_close (S (probe));
  cr_assert (c_async_socket_create (S (client), local_port, C_SOCK_STREAM, C_FD_ALL, NULL, &error),
             "%s", error ? error->message : "");
  g_object_set (client, "connect-attempt-delay", 20, NULL);
  start_connect (client, NAME, port);
  wait_connect (client, g_get_monotonic_time ());
  assert_connected_to (client, "127.0.0.1");
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  cr_assert (c_async_socket_get_sock_name (S (client), NULL, &bound, &error));
  cr_assert_eq (bound, local_port, "connected from port %u, not %u", bound, local_port);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

/* A port that a second descriptor cannot share (no SO_REUSEADDR): the addresses are tried
 * one at a time on the socket's own descriptor, and only the deadline ends a dropped one. */
Test (eyeballs, an_unshareable_port_tries_one_address_at_a_time, .timeout = 60)
{
  Fixture f;
  guint port, local_port = 0;
  g_autoptr (TestSocket) probe = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  cr_assert (c_async_socket_create (S (probe), 0, C_SOCK_STREAM, C_FD_NONE, NULL, &error));
  cr_assert (c_async_socket_get_sock_name (S (probe), NULL, &local_port, &error));
  c_async_socket_close (S (probe));
  cr_assert (
      c_async_socket_socket (S (client), C_SOCK_STREAM, C_FD_ALL, 0, G_SOCKET_FAMILY_IPV6, &error));
  cr_assert (c_async_socket_bind (S (client), local_port, "::", &error), "%s",
             error ? error->message : "");
  g_object_set (client, "connect-attempt-delay", 20, "connect-timeout", 300, NULL);
  start_connect (client, NAME, port);
  wait_connect (client, g_get_monotonic_time ());
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ETIMEDOUT, "on_connect (%s)",
                g_strerror (client->errors[C_NOTIFY_CONNECT]));
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 1);
  cr_assert_eq (syn_sent_towards (port), 0);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

/* ---- When every attempt fails ------------------------------------------------------------ */

Test (eyeballs, all_refused_is_one_on_connect_with_the_last_error, .timeout = 60)
{
  Fixture f;
  g_autoptr (TestSocket) closed = test_socket_new ();
  g_autoptr (TestSocket) client = NULL;
  g_autoptr (GError) error = NULL;
  guint port = 0, good_port = 0;
  TestSocket *good;

  fixture_open (&f, FALSE);
  /* Bound, not listening: both families are refused at once. */
  cr_assert (c_async_socket_create (S (closed), 0, C_SOCK_STREAM, C_FD_NONE, NULL, &error));
  cr_assert (c_async_socket_get_sock_name (S (closed), NULL, &port, &error));
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  start_connect (client, NAME, port);
  wait_connect (client, g_get_monotonic_time ());
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ECONNREFUSED, "%s",
                g_strerror (client->errors[C_NOTIFY_CONNECT]));
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  assert_one_on_connect (client);
  cr_assert_not (c_async_socket_is_connected (S (client)));

  /* The socket connects again, by address, and by name to a listener that answers. */
  good = make_listener_on ("127.0.0.1", &good_port);
  g_ptr_array_add (f.sockets, good);
  test_resolver_set (f.resolver, "good.test", G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  start_connect (client, "good.test", good_port);
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 2));
  assert_connected_to (client, "127.0.0.1");
  g_clear_object (&client);
  fixture_close (&f);
}

Test (eyeballs, a_name_without_addresses_is_ehostunreach_with_the_reason, .timeout = 60)
{
  Fixture f;
  g_autoptr (TestSocket) client = NULL;
  const GError *why;

  fixture_open (&f, FALSE);
  client = new_client (NULL);
  start_connect (client, "nowhere.test", 4242);
  wait_connect (client, g_get_monotonic_time ());
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], EHOSTUNREACH);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 0);
  why = c_async_socket_get_close_error (S (client));
  cr_assert_not_null (why);
  cr_assert (g_error_matches (why, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND), "%s",
             why->message);
  cr_assert (g_str_has_prefix (why->message, "cannot resolve nowhere.test: no "), "%s",
             why->message);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

/* ---- Strange programs --------------------------------------------------------------------- */

Test (eyeballs, close_during_the_race_leaves_nothing_behind, .timeout = 60)
{
  Fixture f;
  guint port, descriptors;
  g_autoptr (TestSocket) client = NULL;
  g_autoptr (GError) error = NULL;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, FALSE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  g_object_set (client, "connect-attempt-delay", 30, NULL);
  descriptors = open_descriptors ();
  start_connect (client, NAME, port);
  /* A second connect while the race runs is refused. */
  cr_assert_not (c_async_socket_connect (S (client), NAME, port, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_IN_PROGRESS, "connect");
  cr_assert (run_until_syn_sent (port, 2), "%u attempts in SYN_SENT, not 2",
             syn_sent_towards (port));
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  cr_assert_eq (open_descriptors (), descriptors + 1, "%u descriptors, %u before",
                open_descriptors (), descriptors);
  c_async_socket_close (S (client));
  cr_assert_eq (syn_sent_towards (port), 0);
  cr_assert_eq (open_descriptors (), descriptors - 1);
  run_for (100);
  cr_assert_eq (test_socket_total (client), 0, "a notification after close");
  g_clear_object (&client);
  fixture_close (&f);
}

static gboolean
lookup_cancelled (gpointer data)
{
  return test_resolver_cancelled (data) == 1;
}

Test (eyeballs, unref_while_resolving_and_racing, .timeout = 60)
{
  Fixture f;
  guint port;
  TestSocket *client;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, FALSE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", TEST_RESOLVER_NEVER);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  /* Dropped while the IPv6 lookup is under way and the IPv4 attempt hangs. */
  client = new_client (NULL);
  start_connect (client, NAME, port);
  cr_assert (run_until_syn_sent (port, 1));
  g_object_unref (client);
  cr_assert_eq (syn_sent_towards (port), 0);
  cr_assert (run_until (lookup_cancelled, f.resolver), "the IPv6 lookup was not cancelled");
  /* Dropped while two attempts hang. */
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  client = new_client (NULL);
  g_object_set (client, "connect-attempt-delay", 10, NULL);
  start_connect (client, NAME, port);
  cr_assert (run_until_syn_sent (port, 2));
  g_object_unref (client);
  cr_assert_eq (syn_sent_towards (port), 0);
  fixture_close (&f);
}

static void
unref_on_connect (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  if (which == C_NOTIFY_CONNECT)
    g_object_unref (socket); /* MFC's delete this */
}

static gboolean
finalized (gpointer data)
{
  GObject *object = g_weak_ref_get (data);
  gboolean gone = object == NULL;

  g_clear_object (&object);
  return gone;
}

Test (eyeballs, unref_inside_on_connect_after_a_second_descriptor_won, .timeout = 60)
{
  Fixture f;
  guint port, descriptors;
  TestSocket *client;
  GWeakRef weak;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  descriptors = open_descriptors ();
  client = new_client (NULL);
  g_weak_ref_init (&weak, client);
  client->hook = unref_on_connect;
  g_object_set (client, "connect-attempt-delay", 20, NULL);
  start_connect (client, NAME, port);
  cr_assert (run_until (finalized, &weak), "the socket outlived its last reference");
  g_weak_ref_clear (&weak);
  cr_assert_eq (open_descriptors (), descriptors);
  fixture_close (&f);
}

/* ---- CSocket and TLS take the same path -------------------------------------------------- */

Test (eyeballs, csocket_blocking_connect_races_too, .timeout = 60)
{
  Fixture f;
  guint port;
  g_autoptr (CSocket) client = c_socket_new ();
  g_autoptr (CSocket) dead = c_socket_new ();
  g_autoptr (CSocket) impatient = c_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *expected = NULL;
  gint64 start;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, TRUE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  c_socket_set_timeout (client, 5000);
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  start = g_get_monotonic_time ();
  cr_assert (c_socket_connect (client, NAME, port, &error), "%s", error ? error->message : "");
  cr_log_info ("CSocket, IPv6 dropped: connected over IPv4 in %.1f ms",
               (double) (g_get_monotonic_time () - start) / 1000.0);
  cr_assert (c_async_socket_get_peer_name (S (client), &peer, NULL, &error));
  cr_assert_str_eq (peer, "127.0.0.1");
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  cr_assert_eq (syn_sent_towards (port), 0);

  /* The socket's connect-timeout ends a blocking connect too, with its own message. */
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "", 0);
  c_socket_set_timeout (dead, 5000);
  c_async_socket_set_connect_timeout (S (dead), 300);
  cr_assert (c_async_socket_create (S (dead), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert_not (c_socket_connect (dead, NAME, port, &error));
  expected = g_strdup_printf ("connect to %s:%u: timed out after 300 ms", NAME, port);
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s", error->message);
  cr_assert_str_eq (error->message, expected);
  g_clear_error (&error);
  cr_assert_eq (syn_sent_towards (port), 0);

  /* ... and CSocket's own timeout, when it comes first, says so. */
  c_socket_set_timeout (impatient, 200);
  c_async_socket_set_connect_timeout (S (impatient), 5000);
  cr_assert (c_async_socket_create (S (impatient), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert_not (c_socket_connect (impatient, NAME, port, &error));
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s", error->message);
  cr_assert_str_eq (error->message, "connect: timed out after 200 ms");
  cr_assert_eq (syn_sent_towards (port), 0);
  fixture_close (&f);
}

Test (eyeballs, tls_connects_over_the_address_that_won, .timeout = 60)
{
  Fixture f;
  Server server = { 0 };
  g_autoptr (CTlsSettings) server_tls = server_settings ("server");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (TestSocket) client = NULL;
  g_autoptr (GError) error = NULL;
  guint port;

  fixture_open (&f, FALSE);
  server.server_hook = echo_hook;
  server_open (&server, server_tls);
  port = server.port;
  g_ptr_array_add (f.sockets, make_full_listener ("::1", &port, f.sockets));
  test_resolver_set (f.resolver, "localhost.test", G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, "localhost.test", G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  g_object_set (client, "connect-attempt-delay", 50, NULL);
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error), "%s",
             error ? error->message : "");
  start_connect (client, "localhost.test", port);
  wait_connect (client, g_get_monotonic_time ());
  assert_connected (client);
  assert_connected_to (client, "127.0.0.1");
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  echo_round_trip (client);
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1);
  g_clear_object (&client);
  server_close (&server);
  fixture_close (&f);
}

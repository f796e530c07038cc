/* test-connect-deadline.c: CAsyncSocket:connect-timeout on loopback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A connect that has not ended by its deadline ends with on_connect (ETIMEDOUT) and a GError
 * that says after how long: against a listener whose accept queue is full (connect-util.h),
 * a race of such addresses, a lookup that never answers, and a TLS handshake that never
 * starts. tests/test-eyeballs-hosts.c ends a race over dropped routes between two network
 * namespaces the same way. Times are printed, never asserted.
 */
#include <errno.h>

#include "connect-util.h"
#include "tls-util.h"

static void
assert_timed_out (TestSocket *client, const char *target, guint ms)
{
  const GError *why = c_async_socket_get_close_error (S (client));
  g_autofree char *expected = g_strdup_printf ("connect to %s: timed out after %u ms", target, ms);

  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ETIMEDOUT, "on_connect (%s)",
                g_strerror (client->errors[C_NOTIFY_CONNECT]));
  cr_assert_not_null (why, "no GError for the deadline");
  cr_assert (g_error_matches (why, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s", why->message);
  cr_assert_str_eq (why->message, expected);
}

Test (deadline, a_full_accept_queue_times_out_and_the_socket_connects_again, .timeout = 60)
{
  Fixture f;
  guint port = 0, good_port = 0;
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *target = NULL;
  TestSocket *good;
  gint64 start;

  fixture_open (&f, FALSE);
  g_ptr_array_add (f.sockets, make_full_listener ("127.0.0.1", &port, f.sockets));
  client = new_client (NULL);
  cr_assert_eq (c_async_socket_get_connect_timeout (S (client)), 0);
  c_async_socket_set_connect_timeout (S (client), 200);
  start = g_get_monotonic_time ();
  start_connect (client, "127.0.0.1", port);
  cr_log_info ("full accept queue, connect-timeout 200 ms: on_connect (ETIMEDOUT) after %.1f ms",
               wait_connect (client, start));
  target = g_strdup_printf ("127.0.0.1:%u", port);
  assert_timed_out (client, target, 200);
  cr_assert_eq (syn_sent_towards (port), 0, "the timed-out attempt still hangs");
  assert_one_on_connect (client);

  good = make_listener_on ("127.0.0.1", &good_port);
  g_ptr_array_add (f.sockets, good);
  start_connect (client, "127.0.0.1", good_port);
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 2));
  assert_connected_to (client, "127.0.0.1");
  cr_assert_null (c_async_socket_get_close_error (S (client)), "the deadline's reason stayed");
  /* The deadline of a connect that succeeded never fires. */
  run_for (300);
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 2);
  g_clear_object (&client);
  fixture_close (&f);
}

Test (deadline, a_race_of_dead_addresses_times_out, .timeout = 60)
{
  Fixture f;
  guint port, descriptors;
  g_autoptr (TestSocket) client = NULL;
  g_autofree char *target = NULL;
  gint64 start;

  fixture_open (&f, FALSE);
  port = listen_both (&f, FALSE, FALSE);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV6, "::1", 0);
  test_resolver_set (f.resolver, NAME, G_SOCKET_FAMILY_IPV4, "127.0.0.1", 0);
  client = new_client (NULL);
  g_object_set (client, "connect-timeout", 600, NULL);
  descriptors = open_descriptors ();
  start = g_get_monotonic_time ();
  start_connect (client, NAME, port);
  cr_log_info ("both families dropped, connect-timeout 600 ms: ETIMEDOUT after %.1f ms",
               wait_connect (client, start));
  target = g_strdup_printf ("%s:%u", NAME, port);
  assert_timed_out (client, target, 600);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 2);
  cr_assert_eq (syn_sent_towards (port), 0);
  cr_assert_eq (open_descriptors (), descriptors);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

Test (deadline, a_name_that_never_resolves_times_out, .timeout = 60)
{
  Fixture f;
  g_autoptr (TestSocket) client = NULL;

  fixture_open (&f, FALSE);
  test_resolver_set (f.resolver, "slow.test", G_SOCKET_FAMILY_IPV6, "::1", TEST_RESOLVER_NEVER);
  test_resolver_set (f.resolver, "slow.test", G_SOCKET_FAMILY_IPV4, "127.0.0.1",
                     TEST_RESOLVER_NEVER);
  client = new_client (NULL);
  c_async_socket_set_connect_timeout (S (client), 100);
  start_connect (client, "slow.test", 4242);
  wait_connect (client, g_get_monotonic_time ());
  assert_timed_out (client, "slow.test:4242", 100);
  cr_assert_eq (c_async_socket_get_connect_attempts (S (client)), 0);
  drain_context ();
  cr_assert_eq (test_resolver_cancelled (f.resolver), 2);
  assert_one_on_connect (client);
  g_clear_object (&client);
  fixture_close (&f);
}

Test (deadline, covers_the_tls_handshake, .timeout = 60)
{
  Fixture f;
  guint port = 0;
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  g_autoptr (TestSocket) client = NULL;
  g_autoptr (GError) error = NULL;
  const GError *why;

  fixture_open (&f, FALSE);
  /* A listener that takes the connection (in its queue) and never says a word. */
  g_ptr_array_add (f.sockets, make_listener_on ("127.0.0.1", &port));
  client = new_client (NULL);
  c_async_socket_set_connect_timeout (S (client), 300);
  cr_assert (c_async_socket_set_tls (S (client), client_tls, "localhost", &error));
  start_connect (client, "127.0.0.1", port);
  wait_connect (client, g_get_monotonic_time ());
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ETIMEDOUT);
  why = c_async_socket_get_close_error (S (client));
  cr_assert_not_null (why);
  cr_assert (g_error_matches (why, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s", why->message);
  cr_assert (strstr (why->message, "timed out after 300 ms (in the TLS handshake)"), "%s",
             why->message);
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1);
  cr_assert_eq (client->counts[C_NOTIFY_CLOSE], 0, "on_close after a failed connect");
  g_clear_object (&client);
  fixture_close (&f);
}

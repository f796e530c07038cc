/* test-multicast.c: joining and leaving groups, any-source and source-specific, and the
 * multicast options of datagram sockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On loopback: IPv4 groups on the interface "lo", whose multicast stays on the machine
 * (Linux has no IPv6 multicast route on lo). Between two network namespaces joined by a veth
 * pair (netns-util.c; skipped with the reason where they cannot be made): IPv6 and IPv4
 * groups crossing a real link, and what joining on "any" interface picks.
 *
 * That a datagram is *not* received is shown with a control: after it, the same sender
 * sends a unicast datagram to the receiver, and when that one has arrived, the filtered
 * one would have arrived before it.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netns-util.h"

static TwoHosts hosts;

static void
teardown (void)
{
  two_hosts_destroy (&hosts);
}

/* ---- Receivers and senders ---------------------------------------------------------------- */

/* Each datagram as "payload from address", in the order of arrival. */
static void
collect (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  GPtrArray *got = data;
  char buffer[256];
  g_autofree char *host = NULL;
  gssize n;

  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive_from (S (socket), buffer, sizeof buffer - 1, &host, NULL, 0, NULL);
  if (n < 0)
    return;
  buffer[n] = '\0';
  g_ptr_array_add (got, g_strdup_printf ("%s from %s", buffer, host));
}

typedef struct
{
  TestSocket *socket;
  GPtrArray *got;
  guint port;
} Receiver;

/* A datagram socket on the wildcard address of @family (IPV6: dual-stack) and @port (0:
 * any), with SO_REUSEADDR as group members set it. */
static void
receiver_open_at (Receiver *r, GSocketFamily family, guint port)
{
  g_autoptr (GError) error = NULL;

  r->socket = test_socket_new ();
  r->got = g_ptr_array_new_with_free_func (g_free);
  r->socket->hook = collect;
  r->socket->hook_data = r->got;
  cr_assert (c_async_socket_socket (S (r->socket), C_SOCK_DGRAM, C_FD_ALL, 0, family, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_set_sock_opt_int (S (r->socket), SOL_SOCKET, SO_REUSEADDR, 1, &error));
  cr_assert (c_async_socket_bind (S (r->socket), port,
                                  family == G_SOCKET_FAMILY_IPV6 ? "::" : "0.0.0.0", &error),
             "%s", error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (S (r->socket), NULL, &r->port, &error));
}

static void
receiver_open (Receiver *r, GSocketFamily family)
{
  receiver_open_at (r, family, 0);
}

static void
receiver_close (Receiver *r)
{
  g_clear_object (&r->socket);
  g_clear_pointer (&r->got, g_ptr_array_unref);
}

static TestSocket *
sender_new (const char *address, const char *interface)
{
  TestSocket *sender = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (sender), 0, C_SOCK_DGRAM, C_FD_NONE, address, &error),
             "sender on %s: %s", address, error ? error->message : "");
  if (interface != NULL)
    cr_assert (c_async_socket_set_multicast_interface (S (sender), interface, &error), "%s",
               error ? error->message : "");
  return sender;
}

static void
send_text_to (TestSocket *sender, const char *text, const char *host, guint port)
{
  g_autoptr (GError) error = NULL;
  gssize n = c_async_socket_send_to (S (sender), text, strlen (text), port, host, 0, &error);

  cr_assert_eq (n, (gssize) strlen (text), "send_to %s: %s", host, error ? error->message : "");
}

static gboolean
got_line (Receiver *r, const char *line)
{
  for (guint i = 0; i < r->got->len; i++)
    if (strcmp (g_ptr_array_index (r->got, i), line) == 0)
      return TRUE;
  return FALSE;
}

typedef struct
{
  Receiver *r;
  const char *line;
} LineWait;

static gboolean
line_arrived (gpointer data)
{
  LineWait *wait = data;
  return got_line (wait->r, wait->line);
}

static void
wait_line (Receiver *r, const char *line)
{
  LineWait wait = { r, line };
  g_autofree char *all = NULL;

  if (run_until (line_arrived, &wait))
    return;
  g_ptr_array_add (r->got, NULL);
  all = g_strjoinv (" | ", (char **) r->got->pdata);
  cr_assert (FALSE, "never received \"%s\" (got: %s)", line, all);
}

/* @sender's control datagram to the receiver, straight to its port at @receiver_address:
 * once it is in, what @sender sent before it to a group the receiver hears is in too. */
static void
control (Receiver *r, TestSocket *sender, const char *receiver_address, const char *sender_address)
{
  g_autofree char *line = g_strdup_printf ("control from %s", sender_address);

  send_text_to (sender, "control", receiver_address, r->port);
  wait_line (r, line);
}

static void
assert_not_got (Receiver *r, const char *line)
{
  cr_assert_not (got_line (r, line), "received \"%s\", which should have been filtered out", line);
}

/* A G_IO_ERROR (from an errno) whose message holds @fragment. */
static void
assert_io_error (GError **error, const char *fragment)
{
  cr_assert_not_null (*error, "no GError (expected one containing '%s')", fragment);
  cr_assert ((*error)->domain == G_IO_ERROR, "%s", (*error)->message);
  cr_assert (strstr ((*error)->message, fragment), "message '%s' lacks '%s'", (*error)->message,
             fragment);
  g_clear_error (error);
}

/* ---- Loopback ----------------------------------------------------------------------------- */

Test (multicast, ipv4_group_on_loopback_join_receive_leave, .timeout = 30)
{
  Receiver r;
  g_autoptr (TestSocket) sender = sender_new ("127.0.0.1", "lo");
  g_autoptr (GError) error = NULL;

  receiver_open (&r, G_SOCKET_FAMILY_IPV4);
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), "239.255.71.1", NULL, "lo", &error),
             "%s", error ? error->message : "");
  send_text_to (sender, "hello group", "239.255.71.1", r.port);
  wait_line (&r, "hello group from 127.0.0.1");
  cr_assert (
      c_async_socket_leave_multicast_group (S (r.socket), "239.255.71.1", NULL, "lo", &error), "%s",
      error ? error->message : "");
  send_text_to (sender, "after leaving", "239.255.71.1", r.port);
  control (&r, sender, "127.0.0.1", "127.0.0.1");
  assert_not_got (&r, "after leaving from 127.0.0.1");
  /* Leaving again: the kernel says the socket is no member. */
  cr_assert_not (
      c_async_socket_leave_multicast_group (S (r.socket), "239.255.71.1", NULL, "lo", &error));
  cr_assert_not_null (error);
  cr_assert (strstr (error->message, "leave_multicast_group 239.255.71.1 on lo: "), "%s",
             error->message);
  g_clear_error (&error);
  receiver_close (&r);
}

Test (multicast, source_specific_join_filters_other_sources, .timeout = 30)
{
  Receiver r;
  g_autoptr (TestSocket) a = sender_new ("127.0.0.1", "lo");
  g_autoptr (TestSocket) b = sender_new ("127.0.0.2", "lo");
  g_autoptr (GError) error = NULL;
  const char *group = "232.71.0.1";

  receiver_open (&r, G_SOCKET_FAMILY_IPV4);
  /* The interface by index this time. */
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), group, "127.0.0.1", "1", &error),
             "%s", error ? error->message : "");
  send_text_to (b, "from b", group, r.port);
  send_text_to (a, "from a", group, r.port);
  wait_line (&r, "from a from 127.0.0.1");
  control (&r, b, "127.0.0.1", "127.0.0.2");
  assert_not_got (&r, "from b from 127.0.0.2");

  /* A second source joined as well: both are heard. */
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), group, "127.0.0.2", "1", &error),
             "%s", error ? error->message : "");
  send_text_to (b, "from b again", group, r.port);
  wait_line (&r, "from b again from 127.0.0.2");
  /* An any-source join of a group joined by source is refused by the kernel. */
  cr_assert_not (c_async_socket_join_multicast_group (S (r.socket), group, NULL, "lo", &error));
  cr_assert_not_null (error);
  g_clear_error (&error);
  /* Leaving the first source: only the second is heard. */
  cr_assert (c_async_socket_leave_multicast_group (S (r.socket), group, "127.0.0.1", "1", &error),
             "%s", error ? error->message : "");
  send_text_to (a, "from a after", group, r.port);
  control (&r, a, "127.0.0.1", "127.0.0.1");
  assert_not_got (&r, "from a after from 127.0.0.1");
  receiver_close (&r);
}

Test (multicast, a_dual_stack_socket_joins_an_ipv4_group, .timeout = 30)
{
  Receiver r;
  g_autoptr (TestSocket) sender = sender_new ("127.0.0.1", "lo");
  g_autoptr (GError) error = NULL;

  receiver_open (&r, G_SOCKET_FAMILY_IPV6);
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), "239.255.71.2", NULL, "lo", &error),
             "%s", error ? error->message : "");
  send_text_to (sender, "to both families", "239.255.71.2", r.port);
  wait_line (&r, "to both families from 127.0.0.1");
  receiver_close (&r);
}

Test (multicast, ttl_and_interface_options, .timeout = 30)
{
  g_autoptr (TestSocket) v4 = sender_new ("127.0.0.1", NULL);
  g_autoptr (TestSocket) dual = sender_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  guint ttl = 0;
  int value = 0;

  cr_assert (c_async_socket_get_multicast_ttl (S (v4), &ttl, &error));
  cr_assert_eq (ttl, 1, "the default TTL is 1, not %u", ttl);
  cr_assert (c_async_socket_set_multicast_ttl (S (v4), 5, &error));
  cr_assert (c_async_socket_get_multicast_ttl (S (v4), &ttl, &error));
  cr_assert_eq (ttl, 5);
  /* A dual-stack socket: the hop limit and IPv4's TTL both. */
  cr_assert (c_async_socket_set_multicast_ttl (S (dual), 7, &error));
  cr_assert (c_async_socket_get_multicast_ttl (S (dual), &ttl, &error));
  cr_assert_eq (ttl, 7);
  cr_assert (
      c_async_socket_get_sock_opt_int (S (dual), IPPROTO_IP, IP_MULTICAST_TTL, &value, &error));
  cr_assert_eq (value, 7);
  cr_assert_not (c_async_socket_set_multicast_ttl (S (v4), 256, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE, "256");
  /* The interface by name, by index, and back to the routing table's choice. */
  cr_assert (c_async_socket_set_multicast_interface (S (dual), "lo", &error));
  cr_assert (
      c_async_socket_get_sock_opt_int (S (dual), IPPROTO_IPV6, IPV6_MULTICAST_IF, &value, &error));
  cr_assert_eq (value, (int) if_nametoindex ("lo"));
  cr_assert (c_async_socket_set_multicast_interface (S (dual), "1", &error));
  cr_assert (c_async_socket_set_multicast_interface (S (dual), NULL, &error));
  cr_assert (
      c_async_socket_get_sock_opt_int (S (dual), IPPROTO_IPV6, IPV6_MULTICAST_IF, &value, &error));
  cr_assert_eq (value, 0);
}

Test (multicast, wrong_requests_are_errors_that_say_why, .timeout = 30)
{
  g_autoptr (TestSocket) v4 = sender_new ("127.0.0.1", NULL);
  g_autoptr (TestSocket) stream = test_socket_new ();
  g_autoptr (TestSocket) unmade = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert_not (c_async_socket_join_multicast_group (S (unmade), "239.1.1.1", NULL, NULL, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_NOT_CREATED, "join_multicast_group");
  cr_assert (c_async_socket_create (S (stream), 0, C_SOCK_STREAM, C_FD_NONE, NULL, &error));
  cr_assert_not (c_async_socket_join_multicast_group (S (stream), "239.1.1.1", NULL, NULL, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE, "datagram socket");
  cr_assert_not (c_async_socket_set_multicast_ttl (S (stream), 3, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE, "set_multicast_ttl");
  cr_assert_not (c_async_socket_join_multicast_group (S (v4), "10.0.0.1", NULL, "lo", &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS,
                "10.0.0.1 is not a multicast address");
  cr_assert_not (c_async_socket_join_multicast_group (S (v4), "not-a-group", NULL, "lo", &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS, "'not-a-group'");
  cr_assert_not (c_async_socket_join_multicast_group (S (v4), "239.1.1.1", "::1", "lo", &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS, "the group's family");
  cr_assert_not (c_async_socket_join_multicast_group (S (v4), "ff15::1", NULL, "lo", &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE,
                "an IPv4 socket does not receive IPv6 datagrams");
  cr_assert_not (
      c_async_socket_join_multicast_group (S (v4), "239.1.1.1", NULL, "no-such-if0", &error));
  assert_io_error (&error, "join_multicast_group: no interface named no-such-if0: ");
  cr_assert_not (c_async_socket_join_multicast_group (S (v4), "239.1.1.1", NULL, "99999", &error));
  assert_io_error (&error, "join_multicast_group: no interface with index 99999: ");
  /* Joining twice: the kernel's answer, with what was asked. */
  cr_assert (c_async_socket_join_multicast_group (S (v4), "239.1.1.1", NULL, "lo", &error));
  cr_assert_not (c_async_socket_join_multicast_group (S (v4), "239.1.1.1", NULL, "lo", &error));
  cr_assert_not_null (error);
  cr_assert (strstr (error->message, "join_multicast_group 239.1.1.1 on lo: "), "%s",
             error->message);
  g_clear_error (&error);
  /* Closing leaves the group; the object can make a socket and join again. */
  c_async_socket_close (S (v4));
  cr_assert (c_async_socket_create (S (v4), 0, C_SOCK_DGRAM, C_FD_NONE, "127.0.0.1", &error));
  cr_assert (c_async_socket_join_multicast_group (S (v4), "239.1.1.1", NULL, "lo", &error));
}

/* ---- Two hosts ---------------------------------------------------------------------------- */

Test (multicast_hosts, ipv6_groups_across_a_link, .timeout = 60, .fini = teardown)
{
  Receiver r;
  g_autoptr (TestSocket) a = NULL;
  g_autoptr (TestSocket) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a_address = NULL, *b_address = NULL, *receiver_address = NULL;
  g_autofree char *line = NULL, *index = NULL;
  const char *ssm_group = "ff3e::4242", *group = "ff15::4242";

  two_hosts_make (&hosts, "multicast");
  a_address = two_hosts_ipv6 (&hosts, 1);
  b_address = g_strdup_printf ("fd00:%u::3", hosts.subnet);
  receiver_address = two_hosts_ipv6 (&hosts, 2);
  {
    g_autofree char *cidr = g_strdup_printf ("%s/64", b_address);
    two_hosts_ip (&hosts, hosts.client, "addr", "add", cidr, "dev", hosts.client_link, "nodad",
                  NULL);
  }

  two_hosts_enter (&hosts, hosts.server);
  receiver_open (&r, G_SOCKET_FAMILY_IPV6);
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), ssm_group, a_address,
                                                  hosts.server_link, &error),
             "%s", error ? error->message : "");
  index = g_strdup_printf ("%u", if_nametoindex (hosts.server_link));
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), group, NULL, index, &error), "%s",
             error ? error->message : "");
  two_hosts_enter (&hosts, hosts.client);
  a = sender_new (a_address, hosts.client_link);
  b = sender_new (b_address, hosts.client_link);

  /* Source-specific: a is heard, b is not. */
  send_text_to (b, "ssm from b", ssm_group, r.port);
  send_text_to (a, "ssm from a", ssm_group, r.port);
  line = g_strdup_printf ("ssm from a from %s", a_address);
  wait_line (&r, line);
  control (&r, b, receiver_address, b_address);
  g_free (line);
  line = g_strdup_printf ("ssm from b from %s", b_address);
  assert_not_got (&r, line);
  /* Any source: both are heard. */
  send_text_to (b, "asm from b", group, r.port);
  g_free (line);
  line = g_strdup_printf ("asm from b from %s", b_address);
  wait_line (&r, line);
  send_text_to (a, "asm from a", group, r.port);
  g_free (line);
  line = g_strdup_printf ("asm from a from %s", a_address);
  wait_line (&r, line);
  /* Joined on "any" interface, the group's route decides: the link (lo has no IPv6
   * multicast route). */
  two_hosts_enter (&hosts, hosts.server);
  cr_assert (c_async_socket_leave_multicast_group (S (r.socket), group, NULL, index, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), group, NULL, NULL, &error), "%s",
             error ? error->message : "");
  two_hosts_enter (&hosts, hosts.client);
  send_text_to (a, "asm on any", group, r.port);
  g_free (line);
  line = g_strdup_printf ("asm on any from %s", a_address);
  wait_line (&r, line);
  receiver_close (&r);
}

Test (multicast_hosts, ipv4_on_any_interface_follows_the_routing_table, .timeout = 60,
      .fini = teardown)
{
  Receiver r;
  g_autoptr (TestSocket) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a_address = NULL, *line = NULL;
  const char *group = "239.77.0.1";

  two_hosts_make (&hosts, "multicast");
  a_address = two_hosts_ipv4 (&hosts, 1);
  two_hosts_enter (&hosts, hosts.server);
  receiver_open (&r, G_SOCKET_FAMILY_IPV4);
  /* No route covers the group: "any" has nothing to pick. */
  cr_assert_not (c_async_socket_join_multicast_group (S (r.socket), group, NULL, NULL, &error));
  cr_log_info ("join on any interface without a route: %s", error->message);
  assert_io_error (&error, "join_multicast_group 239.77.0.1 on any interface: No such device");
  /* With a default route through the link, "any" is the link. */
  two_hosts_ip (&hosts, hosts.server, "route", "add", "default", "dev", hosts.server_link, NULL);
  cr_assert (c_async_socket_join_multicast_group (S (r.socket), group, NULL, NULL, &error), "%s",
             error ? error->message : "");
  two_hosts_enter (&hosts, hosts.client);
  a = sender_new (a_address, hosts.client_link);
  cr_assert (c_async_socket_set_multicast_ttl (S (a), 1, &error));
  send_text_to (a, "over the link", group, r.port);
  line = g_strdup_printf ("over the link from %s", a_address);
  wait_line (&r, line);
  receiver_close (&r);
}

Test (multicast_hosts, loopback_off_keeps_datagrams_off_the_sending_host, .timeout = 60,
      .fini = teardown)
{
  Receiver local, remote;
  g_autoptr (TestSocket) sender = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *sender_address = NULL, *looped = NULL, *not_looped = NULL;
  const char *group = "239.77.0.2";
  gboolean loopback = FALSE;

  two_hosts_make (&hosts, "multicast");
  sender_address = two_hosts_ipv4 (&hosts, 1);
  /* A member on each host, on one port: the group's. */
  two_hosts_enter (&hosts, hosts.client);
  receiver_open (&local, G_SOCKET_FAMILY_IPV4);
  two_hosts_enter (&hosts, hosts.server);
  receiver_open_at (&remote, G_SOCKET_FAMILY_IPV4, local.port);
  cr_assert (c_async_socket_join_multicast_group (S (remote.socket), group, NULL, hosts.server_link,
                                                  &error),
             "%s", error ? error->message : "");
  two_hosts_enter (&hosts, hosts.client);
  cr_assert (c_async_socket_join_multicast_group (S (local.socket), group, NULL, hosts.client_link,
                                                  &error),
             "%s", error ? error->message : "");
  sender = sender_new (sender_address, hosts.client_link);
  cr_assert (c_async_socket_get_multicast_loopback (S (sender), &loopback, &error));
  cr_assert (loopback, "loopback is on by default");

  /* On: the sending host's own member hears it too. */
  send_text_to (sender, "looped", group, local.port);
  looped = g_strdup_printf ("looped from %s", sender_address);
  wait_line (&local, looped);
  wait_line (&remote, looped);
  /* Off: only the other host does. */
  cr_assert (c_async_socket_set_multicast_loopback (S (sender), FALSE, &error));
  cr_assert (c_async_socket_get_multicast_loopback (S (sender), &loopback, &error));
  cr_assert_not (loopback);
  send_text_to (sender, "not looped", group, local.port);
  not_looped = g_strdup_printf ("not looped from %s", sender_address);
  wait_line (&remote, not_looped);
  control (&local, sender, sender_address, sender_address);
  assert_not_got (&local, not_looped);
  receiver_close (&local);
  receiver_close (&remote);
}

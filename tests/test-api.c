/* test-api.c: every CAsyncSocket member, and every member given bad input
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-util.h"

#define assert_socket_error(error, code_, fragment)                                                \
  assert_error (error, C_SOCKET_ERROR, code_, fragment)

/* Waits for @text to arrive on @socket and reads exactly it with one receive. */
static void
receive_text (TestSocket *socket, const char *text)
{
  g_autoptr (GError) error = NULL;
  char buffer[256] = { 0 };
  gsize length = strlen (text);
  int before = socket->counts[C_NOTIFY_RECEIVE];
  guint32 queued = 0;

  if (!c_async_socket_ioctl (S (socket), FIONREAD, &queued, NULL) || queued < length)
    cr_assert (run_until_count (socket, C_NOTIFY_RECEIVE, before + 1), "'%s' never arrived", text);
  cr_assert_eq (c_async_socket_receive (S (socket), buffer, length, 0, &error), (gssize) length,
                "receive: %s", error ? error->message : "short");
  cr_assert_str_eq (buffer, text);
}

/* Proves that a socket pair carries data both ways. */
static void
assert_pair_works (TestSocket *a, TestSocket *b)
{
  send_text (a, "ping");
  receive_text (b, "ping");
  send_text (b, "pong");
  receive_text (a, "pong");
}

static guint
unused_port (void)
{
  guint port;
  TestSocket *probe = make_listener (NULL, &port);
  g_object_unref (probe);
  return port;
}

static int
int_option (CAsyncSocket *socket, int level, int option)
{
  g_autoptr (GError) error = NULL;
  int value = -1;
  cr_assert (c_async_socket_get_sock_opt_int (socket, level, option, &value, &error), "%s",
             error ? error->message : "");
  return value;
}

/* ---- Creation ---------------------------------------------------------------------------- */

Test (api, create_binds_the_port_type_events_and_address, .timeout = 30)
{
  g_autoptr (TestSocket) stream = test_socket_new ();
  g_autoptr (TestSocket) datagram = test_socket_new ();
  g_autoptr (TestSocket) fixed = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *datagram_host = NULL;
  guint port = 0, datagram_port = 0, fixed_port = unused_port (), bound_port = 0;

  cr_assert_eq (c_async_socket_get_handle (S (stream)), C_INVALID_SOCKET);
  cr_assert (c_async_socket_create (S (stream), 0, C_SOCK_STREAM, C_FD_READ | C_FD_CLOSE,
                                    "127.0.0.1", &error),
             "%s", error ? error->message : "");
  cr_assert_geq (c_async_socket_get_handle (S (stream)), 0);
  cr_assert_eq (c_async_socket_get_events (S (stream)), C_FD_READ | C_FD_CLOSE);
  cr_assert_eq (c_async_socket_get_family (S (stream)), G_SOCKET_FAMILY_IPV4);
  cr_assert_eq (c_async_socket_get_socket_type (S (stream)), C_SOCK_STREAM);
  cr_assert_eq (int_option (S (stream), SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  cr_assert_neq (int_option (S (stream), SOL_SOCKET, SO_REUSEADDR), 0,
                 "a stream socket made by create has SO_REUSEADDR");
  cr_assert (c_async_socket_get_sock_name (S (stream), &host, &port, &error));
  cr_assert_str_eq (host, "127.0.0.1");
  cr_assert_gt (port, 0, "port 0 binds a port the system chose");
  cr_assert_eq (fcntl (c_async_socket_get_handle (S (stream)), F_GETFL) & O_NONBLOCK, O_NONBLOCK);

  cr_assert (c_async_socket_create (S (datagram), 0, C_SOCK_DGRAM, C_FD_READ, "127.0.0.1", &error),
             "%s", error ? error->message : "");
  cr_assert_eq (c_async_socket_get_socket_type (S (datagram)), C_SOCK_DGRAM);
  cr_assert_eq (int_option (S (datagram), SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
  cr_assert (c_async_socket_get_sock_name (S (datagram), &datagram_host, &datagram_port, &error));
  cr_assert_str_eq (datagram_host, "127.0.0.1");
  cr_assert_gt (datagram_port, 0);

  /* An explicit port is bound as given. */
  cr_assert (
      c_async_socket_create (S (fixed), fixed_port, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error),
      "create on port %u: %s", fixed_port, error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (S (fixed), NULL, &bound_port, &error));
  cr_assert_eq (bound_port, fixed_port);
  cr_assert_eq (c_async_socket_get_events (S (fixed)), C_FD_ALL);
}

Test (api, create_without_address_makes_a_dual_stack_ipv6_socket, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  guint port = 0;

  if (!c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error))
    cr_assert_fail ("create (NULL address): %s", error->message);
  if (c_async_socket_get_family (S (socket)) == G_SOCKET_FAMILY_IPV4)
    cr_skip_test ("no IPv6 on this machine: create fell back to IPv4's wildcard");
  cr_assert_eq (c_async_socket_get_family (S (socket)), G_SOCKET_FAMILY_IPV6);
  cr_assert_eq (int_option (S (socket), IPPROTO_IPV6, IPV6_V6ONLY), 0,
                "the wildcard IPv6 socket must serve IPv4 too");
  cr_assert (c_async_socket_get_sock_name (S (socket), &host, &port, &error));
  cr_assert_str_eq (host, "::");
  cr_assert_gt (port, 0);
}

Test (api, create_ex_and_socket_make_unbound_descriptors, .timeout = 30)
{
  g_autoptr (TestSocket) v4 = test_socket_new ();
  g_autoptr (TestSocket) v6 = test_socket_new ();
  g_autoptr (TestSocket) local = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  guint port = 1;

  cr_assert (
      c_async_socket_create_ex (S (v4), G_SOCKET_FAMILY_IPV4, C_SOCK_STREAM, 0, C_FD_ALL, &error),
      "%s", error ? error->message : "");
  cr_assert_eq (c_async_socket_get_family (S (v4)), G_SOCKET_FAMILY_IPV4);
  cr_assert_eq (c_async_socket_get_events (S (v4)), C_FD_ALL);
  cr_assert_eq (int_option (S (v4), SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
  /* Not bound: the local address is the wildcard with port 0. */
  cr_assert (c_async_socket_get_sock_name (S (v4), &host, &port, &error));
  cr_assert_str_eq (host, "0.0.0.0");
  cr_assert_eq (port, 0);

  cr_assert (c_async_socket_socket (S (v6), C_SOCK_DGRAM, C_FD_READ, IPPROTO_UDP,
                                    G_SOCKET_FAMILY_IPV6, &error),
             "%s", error ? error->message : "");
  cr_assert_eq (c_async_socket_get_family (S (v6)), G_SOCKET_FAMILY_IPV6);
  cr_assert_eq (c_async_socket_get_socket_type (S (v6)), C_SOCK_DGRAM);
  cr_assert_eq (int_option (S (v6), SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
  cr_assert_eq (c_async_socket_get_events (S (v6)), C_FD_READ);

  cr_assert (c_async_socket_create_ex (S (local), G_SOCKET_FAMILY_UNIX, C_SOCK_SEQPACKET, 0,
                                       C_FD_NONE, &error),
             "%s", error ? error->message : "");
  cr_assert_eq (c_async_socket_get_family (S (local)), G_SOCKET_FAMILY_UNIX);
  cr_assert_eq (c_async_socket_get_socket_type (S (local)), C_SOCK_SEQPACKET);
  cr_assert_eq (int_option (S (local), SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
}

Test (api, bind_and_bind_address, .timeout = 30)
{
  g_autoptr (TestSocket) by_text = test_socket_new ();
  g_autoptr (TestSocket) by_object = test_socket_new ();
  g_autoptr (TestSocket) mapped = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *host = NULL;
  g_autofree char *mapped_host = NULL;
  g_autofree char *bound_text = NULL;
  guint port = 0, mapped_port = 0;

  cr_assert (c_async_socket_create_ex (S (by_text), G_SOCKET_FAMILY_IPV4, C_SOCK_STREAM, 0,
                                       C_FD_ALL, &error));
  cr_assert (c_async_socket_bind (S (by_text), 0, "127.0.0.1", &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (S (by_text), &host, &port, &error));
  cr_assert_str_eq (host, "127.0.0.1");
  cr_assert_gt (port, 0);

  cr_assert (c_async_socket_create_ex (S (by_object), G_SOCKET_FAMILY_IPV4, C_SOCK_DGRAM, 0,
                                       C_FD_ALL, &error));
  cr_assert (c_async_socket_bind_address (S (by_object), address, &error), "%s",
             error ? error->message : "");
  bound = c_async_socket_get_sock_address (S (by_object), &error);
  cr_assert (G_IS_INET_SOCKET_ADDRESS (bound));
  bound_text = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)));
  cr_assert_str_eq (bound_text, "127.0.0.1");
  cr_assert_gt (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)), 0);

  /* An IPv4 address given to an IPv6 socket is mapped, and printed back as IPv4. */
  if (!c_async_socket_create_ex (S (mapped), G_SOCKET_FAMILY_IPV6, C_SOCK_STREAM, 0, C_FD_ALL,
                                 &error))
    cr_skip_test ("no IPv6 sockets here: %s", error->message);
  cr_assert (c_async_socket_set_sock_opt_int (S (mapped), IPPROTO_IPV6, IPV6_V6ONLY, 0, &error));
  cr_assert (c_async_socket_bind (S (mapped), 0, "127.0.0.1", &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (S (mapped), &mapped_host, &mapped_port, &error));
  cr_assert_str_eq (mapped_host, "127.0.0.1");
  cr_assert_gt (mapped_port, 0);
}

/* ---- Connections ------------------------------------------------------------------------- */

Test (api, listen_and_accept_report_the_peer_address, .timeout = 30)
{
  guint port, client_port = 0;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GSocketAddress) peer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *peer_text = NULL;

  cr_assert (c_async_socket_is_listening (S (listener)));
  cr_assert (
      c_async_socket_async_select (S (listener), C_FD_ACCEPT | C_FD_READ | C_FD_CLOSE, &error));
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_get_sock_name (S (client), NULL, &client_port, &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert_eq (listener->errors[C_NOTIFY_ACCEPT], 0);

  cr_assert (c_async_socket_accept (S (listener), S (server), &peer, &error), "%s",
             error ? error->message : "");
  cr_assert (G_IS_INET_SOCKET_ADDRESS (peer));
  peer_text
      = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (peer)));
  cr_assert_str_eq (peer_text, "127.0.0.1");
  cr_assert_eq (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer)), client_port);

  /* The accepted socket is the caller's object, connected, with the listener's events. */
  cr_assert (TEST_IS_SOCKET (server));
  cr_assert (c_async_socket_is_connected (S (server)));
  cr_assert_not (c_async_socket_is_listening (S (server)));
  cr_assert_eq (c_async_socket_get_events (S (server)), C_FD_ACCEPT | C_FD_READ | C_FD_CLOSE);
  cr_assert_eq (c_async_socket_from_handle (c_async_socket_get_handle (S (server))), S (server));
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0);
  send_text (client, "hello");
  receive_text (server, "hello");
}

Test (api, connect_and_connect_address_finish_with_on_connect, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) by_text = test_socket_new ();
  g_autoptr (TestSocket) by_object = test_socket_new ();
  g_autoptr (TestSocket) server_a = test_socket_new ();
  g_autoptr (TestSocket) server_b = test_socket_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) target = g_inet_socket_address_new (loopback, (guint16) port);
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (by_text), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (by_text), "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  /* MFC code checks GetLastError() for WSAEWOULDBLOCK after Connect. */
  cr_assert_eq (c_async_socket_get_last_error (), EWOULDBLOCK);
  cr_assert_eq (by_text->counts[C_NOTIFY_CONNECT], 0, "on_connect inside connect");

  cr_assert (
      c_async_socket_create (S (by_object), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect_address (S (by_object), target, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (by_object->counts[C_NOTIFY_CONNECT], 0, "on_connect inside connect_address");

  cr_assert (run_until_count (by_text, C_NOTIFY_CONNECT, 1));
  cr_assert (run_until_count (by_object, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (by_text->errors[C_NOTIFY_CONNECT], 0);
  cr_assert_eq (by_object->errors[C_NOTIFY_CONNECT], 0);
  cr_assert (run_until_count (by_text, C_NOTIFY_SEND, 1), "on_send follows a connect");
  cr_assert (run_until_count (by_object, C_NOTIFY_SEND, 1));
  cr_assert (c_async_socket_is_connected (S (by_text)));
  cr_assert (c_async_socket_is_connected (S (by_object)));

  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server_a), NULL, &error));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 2));
  cr_assert (c_async_socket_accept (S (listener), S (server_b), NULL, &error));
  drain_context ();
  cr_assert_eq (by_text->counts[C_NOTIFY_CONNECT], 1);
  cr_assert_eq (by_object->counts[C_NOTIFY_CONNECT], 1);
}

/* ---- Data -------------------------------------------------------------------------------- */

Test (api, send_and_receive_move_bytes_and_are_counted, .timeout = 30)
{
  Pair p;
  CSocketStats client_stats, server_stats;
  char buffer[64] = { 0 };
  gint64 before = g_get_real_time ();
  gint64 after;

  pair_open (&p);
  after = g_get_real_time ();

  send_text (p.client, "hello");
  send_text (p.client, "world!");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  /* MSG_PEEK looks without consuming. */
  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, 5, MSG_PEEK, NULL), 5);
  cr_assert_eq (memcmp (buffer, "hello", 5), 0);
  receive_text (p.server, "hello");
  receive_text (p.server, "world!");
  send_text (p.server, "ok");
  receive_text (p.client, "ok");

  c_async_socket_get_stats (S (p.client), &client_stats);
  c_async_socket_get_stats (S (p.server), &server_stats);
  cr_assert_eq (client_stats.bytes_sent, 11);
  cr_assert_eq (client_stats.send_calls, 2);
  cr_assert_eq (client_stats.bytes_received, 2);
  cr_assert_eq (client_stats.receive_calls, 1);
  /* The peek counts as a receive call: it returned bytes to the application. */
  cr_assert_eq (server_stats.bytes_received, 5 + 5 + 6);
  cr_assert_eq (server_stats.receive_calls, 3);
  cr_assert_eq (server_stats.bytes_sent, 2);
  cr_assert_eq (server_stats.send_calls, 1);
  cr_assert_eq (client_stats.records_sent + client_stats.records_received, 0);

  cr_assert_geq (client_stats.connected_time, before);
  cr_assert_leq (client_stats.connected_time, after);
  cr_assert_geq (server_stats.connected_time, before);
  cr_assert_leq (server_stats.connected_time, after);
  cr_assert_leq (client_stats.created_time, client_stats.connected_time);
  cr_assert_gt (client_stats.connected_monotonic, 0);
  pair_close (&p);
}

Test (api, send_to_and_receive_from_carry_the_address, .timeout = 30)
{
  g_autoptr (TestSocket) receiver = test_socket_new ();
  g_autoptr (TestSocket) sender = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) destination = NULL;
  g_autoptr (GSocketAddress) source = NULL;
  g_autofree char *host = NULL;
  g_autofree char *source_text = NULL;
  guint receiver_port = 0, sender_port = 0, port = 0;
  char buffer[32] = { 0 };
  CSocketStats stats;

  cr_assert (c_async_socket_create (S (receiver), 0, C_SOCK_DGRAM, C_FD_READ, "127.0.0.1", &error));
  cr_assert (c_async_socket_create (S (sender), 0, C_SOCK_DGRAM, C_FD_READ, "127.0.0.1", &error));
  cr_assert (c_async_socket_get_sock_name (S (receiver), NULL, &receiver_port, &error));
  cr_assert (c_async_socket_get_sock_name (S (sender), NULL, &sender_port, &error));

  cr_assert_eq (
      c_async_socket_send_to (S (sender), "by text", 7, receiver_port, "127.0.0.1", 0, &error), 7,
      "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (
      c_async_socket_receive_from (S (receiver), buffer, sizeof buffer, &host, &port, 0, &error), 7,
      "%s", error ? error->message : "");
  cr_assert_eq (memcmp (buffer, "by text", 7), 0);
  cr_assert_str_eq (host, "127.0.0.1");
  cr_assert_eq (port, sender_port);

  destination = c_async_socket_get_sock_address (S (receiver), &error);
  cr_assert_eq (c_async_socket_send_to_address (S (sender), "by object", 9, destination, 0, &error),
                9, "%s", error ? error->message : "");
  cr_assert (run_until_count (receiver, C_NOTIFY_RECEIVE, 2));
  cr_assert_eq (
      c_async_socket_receive_from_address (S (receiver), buffer, sizeof buffer, &source, 0, &error),
      9, "%s", error ? error->message : "");
  cr_assert_eq (memcmp (buffer, "by object", 9), 0);
  cr_assert (G_IS_INET_SOCKET_ADDRESS (source));
  source_text = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (source)));
  cr_assert_str_eq (source_text, "127.0.0.1");
  cr_assert_eq (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (source)), sender_port);

  c_async_socket_get_stats (S (sender), &stats);
  cr_assert_eq (stats.bytes_sent, 16);
  cr_assert_eq (stats.send_calls, 2);
  c_async_socket_get_stats (S (receiver), &stats);
  cr_assert_eq (stats.bytes_received, 16);
  cr_assert_eq (stats.receive_calls, 2);
}

Test (api, shut_down_sends_receives_and_both, .timeout = 30)
{
  Pair p, q;
  g_autoptr (GError) error = NULL;
  char buffer[16];

  pair_open (&p);
  /* Sends: the peer sees end of stream, and this side can still receive. */
  cr_assert (c_async_socket_shut_down (S (p.client), C_SHUTDOWN_SENDS, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, &error), 0);
  send_text (p.server, "still here");
  receive_text (p.client, "still here");
  cr_assert_eq (c_async_socket_send (S (p.client), "x", 1, 0, &error), -1);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "send of 1 bytes");
  cr_assert_eq (c_async_socket_get_last_error (), EPIPE);

  /* Receives: no on_receive and no on_close afterwards; this side can still send. */
  cr_assert (c_async_socket_shut_down (S (p.server), C_SHUTDOWN_RECEIVES, &error), "%s",
             error ? error->message : "");
  send_text (p.server, "one way");
  receive_text (p.client, "one way");
  pair_close (&p);

  pair_open (&q);
  int receives = q.server->counts[C_NOTIFY_RECEIVE];
  cr_assert (c_async_socket_shut_down (S (q.server), C_SHUTDOWN_RECEIVES, &error), "%s",
             error ? error->message : "");
  send_text (q.client, "ignored");
  c_async_socket_close (S (q.client));
  for (int i = 0; i < 10; i++)
    drain_context ();
  cr_assert_eq (q.server->counts[C_NOTIFY_RECEIVE], receives,
                "on_receive after shut_down (receives)");
  cr_assert_eq (q.server->counts[C_NOTIFY_CLOSE], 0, "on_close after shut_down (receives)");
  g_clear_object (&q.client);
  g_clear_object (&q.server);

  /* Both: the peer sees end of stream; neither direction works here any more. */
  make_pair (q.listener, "127.0.0.1", q.port, &q.client, &q.server);
  cr_assert (c_async_socket_shut_down (S (q.client), C_SHUTDOWN_BOTH, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (q.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (q.server->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (c_async_socket_send (S (q.client), "x", 1, 0, &error), -1);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "send");
  pair_close (&q);
}

Test (api, no_graceful_on_close_after_shut_down_receives, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;

  /* c_async_socket_shut_down(): after shutting down receives, no on_receive and no graceful
   * on_close is delivered. */
  pair_open (&p);
  cr_assert (c_async_socket_shut_down (S (p.server), C_SHUTDOWN_RECEIVES, &error));
  cr_assert_eq (c_async_socket_send (S (p.client), "ignored", 7, 0, NULL), 7);
  c_async_socket_close (S (p.client));
  for (int i = 0; i < 10; i++)
    drain_context ();
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 0);
  cr_assert_eq (p.server->counts[C_NOTIFY_CLOSE], 0, "on_close (%s) after shut_down (receives)",
                g_strerror (p.server->errors[C_NOTIFY_CLOSE]));
  pair_close (&p);
}

Test (api, a_reset_after_shut_down_receives_is_still_reported, .timeout = 30)
{
  Pair p;
  struct linger abort_on_close = { 1, 0 };
  g_autoptr (GError) error = NULL;

  /* ...but a reset is: data this end sent may have been lost. */
  pair_open (&p);
  cr_assert (c_async_socket_shut_down (S (p.server), C_SHUTDOWN_RECEIVES, &error));
  cr_assert (c_async_socket_set_sock_opt (S (p.client), SO_LINGER, &abort_on_close,
                                          sizeof abort_on_close, SOL_SOCKET, &error));
  c_async_socket_close (S (p.client));
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], ECONNRESET);
  drain_context ();
  cr_assert_eq (p.server->counts[C_NOTIFY_CLOSE], 1);
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 0);
  pair_close (&p);
}

Test (api, close_twice_is_harmless_and_the_object_can_be_created_again, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (GError) error = NULL;
  int fd, handle = 0;

  c_async_socket_close (S (socket)); /* never created: harmless too */
  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  fd = c_async_socket_get_handle (S (socket));
  cr_assert_eq (c_async_socket_from_handle (fd), S (socket));
  c_async_socket_close (S (socket));
  c_async_socket_close (S (socket));
  cr_assert_eq (c_async_socket_get_handle (S (socket)), C_INVALID_SOCKET);
  g_object_get (socket, "handle", &handle, NULL);
  cr_assert_eq (handle, -1);
  cr_assert_null (c_async_socket_from_handle (fd));
  cr_assert_eq (c_async_socket_get_events (S (socket)), C_FD_NONE);
  cr_assert_eq (fcntl (fd, F_GETFD), -1, "close must close the descriptor");
  cr_assert_eq (errno, EBADF);

  /* The same object takes a new descriptor. */
  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error),
             "%s", error ? error->message : "");
  cr_assert (c_async_socket_listen (S (socket), 5, &error));
}

/* ---- Descriptors ------------------------------------------------------------------------- */

Test (api, attach_detach_and_from_handle, .timeout = 30)
{
  g_autoptr (TestSocket) first = test_socket_new ();
  g_autoptr (TestSocket) second = test_socket_new ();
  g_autoptr (GError) error = NULL;
  int fds[2], notified;
  char buffer[16] = { 0 };

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), 0);
  /* A descriptor nobody attached is not found, and from_handle never makes an object. */
  cr_assert_null (c_async_socket_from_handle (fds[0]));
  cr_assert_null (c_async_socket_from_handle (fds[0]));

  cr_assert (c_async_socket_attach (S (first), fds[0], C_FD_ALL, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_async_socket_get_handle (S (first)), fds[0]);
  cr_assert_eq (c_async_socket_from_handle (fds[0]), S (first));
  cr_assert_null (c_async_socket_from_handle (fds[1]));
  cr_assert_eq (c_async_socket_get_family (S (first)), G_SOCKET_FAMILY_UNIX);
  cr_assert (c_async_socket_is_connected (S (first)));
  cr_assert_eq (fcntl (fds[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK, "attach makes it non-blocking");
  cr_assert (run_until_count (first, C_NOTIFY_SEND, 1), "an attached connection gets on_send");
  cr_assert_eq (write (fds[1], "abc", 3), 3);
  cr_assert (run_until_count (first, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive (S (first), buffer, sizeof buffer, 0, &error), 3);

  /* Detach: the descriptor stays open, notifications stop, the map forgets it. */
  cr_assert_eq (c_async_socket_detach (S (first)), fds[0]);
  cr_assert_eq (c_async_socket_get_handle (S (first)), C_INVALID_SOCKET);
  cr_assert_null (c_async_socket_from_handle (fds[0]));
  cr_assert_neq (fcntl (fds[0], F_GETFD), -1, "detach must not close the descriptor");
  cr_assert_eq (c_async_socket_detach (S (first)), C_INVALID_SOCKET, "detach twice");
  notified = test_socket_total (first);
  cr_assert_eq (write (fds[1], "def", 3), 3);
  for (int i = 0; i < 5; i++)
    drain_context ();
  cr_assert_eq (test_socket_total (first), notified, "notified after detach");

  /* Another object takes it over, and the data waiting is notified at once. */
  cr_assert (c_async_socket_attach (S (second), fds[0], C_FD_READ | C_FD_CLOSE, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (c_async_socket_from_handle (fds[0]), S (second));
  cr_assert (run_until_count (second, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive (S (second), buffer, sizeof buffer, 0, &error), 3);
  cr_assert_eq (memcmp (buffer, "def", 3), 0);
  close (fds[1]);
  cr_assert (run_until_count (second, C_NOTIFY_CLOSE, 1));
  c_async_socket_close (S (second));
  cr_assert_null (c_async_socket_from_handle (fds[0]), "from_handle after close");
  cr_assert_eq (test_socket_total (first), notified);
}

Test (api, attach_adopts_a_listening_socket, .timeout = 30)
{
  g_autoptr (TestSocket) listener = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GError) error = NULL;
  struct sockaddr_in address
      = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t length = sizeof address;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  cr_assert_geq (fd, 0);
  cr_assert_eq (bind (fd, (struct sockaddr *) &address, sizeof address), 0);
  cr_assert_eq (listen (fd, 5), 0);
  cr_assert_eq (getsockname (fd, (struct sockaddr *) &address, &length), 0);
  cr_assert (c_async_socket_attach (S (listener), fd, C_FD_ACCEPT, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_is_listening (S (listener)));
  cr_assert_not (c_async_socket_is_connected (S (listener)));

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", ntohs (address.sin_port), &error));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
}

Test (api, async_select_replaces_the_events_and_on_send_comes_when_added, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;
  CSocketEvents events = C_FD_NONE;

  pair_open (&p);
  cr_assert_eq (c_async_socket_get_events (S (p.client)), C_FD_ALL);
  cr_assert (c_async_socket_async_select (S (p.client), C_FD_READ | C_FD_OOB, &error));
  cr_assert_eq (c_async_socket_get_events (S (p.client)), C_FD_READ | C_FD_OOB);
  g_object_get (p.client, "events", &events, NULL);
  cr_assert_eq (events, C_FD_READ | C_FD_OOB);

  /* Turning on_send back on for a connected socket that can send notifies it at once. */
  int sends = p.client->counts[C_NOTIFY_SEND];
  cr_assert (c_async_socket_async_select (S (p.client), C_FD_READ | C_FD_WRITE, &error));
  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], sends, "on_send inside async_select");
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, sends + 1));

  cr_assert (c_async_socket_async_select (S (p.client), C_FD_NONE, &error));
  cr_assert_eq (c_async_socket_get_events (S (p.client)), C_FD_NONE);
  send_text (p.server, "unheard");
  for (int i = 0; i < 5; i++)
    drain_context ();
  cr_assert_eq (p.client->counts[C_NOTIFY_RECEIVE], 0);
  pair_close (&p);
}

/* ---- Names, options, control ------------------------------------------------------------- */

Test (api, peer_and_sock_names_as_text_and_as_addresses, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;
  g_autofree char *client_local = NULL, *client_peer = NULL;
  g_autofree char *server_local = NULL, *server_peer = NULL;
  guint client_local_port, client_peer_port, server_local_port, server_peer_port;
  g_autoptr (GSocketAddress) peer = NULL;
  g_autoptr (GSocketAddress) local = NULL;

  pair_open (&p);
  cr_assert (
      c_async_socket_get_sock_name (S (p.client), &client_local, &client_local_port, &error));
  cr_assert (c_async_socket_get_peer_name (S (p.client), &client_peer, &client_peer_port, &error));
  cr_assert (
      c_async_socket_get_sock_name (S (p.server), &server_local, &server_local_port, &error));
  cr_assert (c_async_socket_get_peer_name (S (p.server), &server_peer, &server_peer_port, &error));
  cr_assert_str_eq (client_peer, "127.0.0.1");
  cr_assert_str_eq (server_peer, client_local);
  cr_assert_str_eq (client_peer, server_local);
  cr_assert_eq (client_peer_port, p.port);
  cr_assert_eq (server_local_port, p.port);
  cr_assert_eq (server_peer_port, client_local_port);
  /* Either output may be omitted. */
  cr_assert (c_async_socket_get_peer_name (S (p.client), NULL, NULL, &error));

  peer = c_async_socket_get_peer_address (S (p.server), &error);
  local = c_async_socket_get_sock_address (S (p.server), &error);
  cr_assert (G_IS_INET_SOCKET_ADDRESS (peer));
  cr_assert (G_IS_INET_SOCKET_ADDRESS (local));
  cr_assert_eq (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer)), client_local_port);
  cr_assert_eq (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)), p.port);
  cr_assert_eq (g_socket_address_get_family (peer), G_SOCKET_FAMILY_IPV4);

  /* No peer on the listener: the system's error, with what was asked. */
  cr_assert_not (c_async_socket_get_peer_name (S (p.listener), NULL, NULL, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "get_peer_name");
  cr_assert_null (c_async_socket_get_peer_address (S (p.listener), &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "get_peer_name");
  pair_close (&p);
}

Test (api, socket_options_raw_and_as_integers, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;
  int size = 32768, read_back = 0, nodelay = -1;
  guint length = sizeof read_back;
  struct linger linger = { 1, 5 }, linger_back = { 0, 0 };
  guint linger_length = sizeof linger_back;

  pair_open (&p);
  cr_assert (
      c_async_socket_set_sock_opt (S (p.client), SO_RCVBUF, &size, sizeof size, SOL_SOCKET, &error),
      "%s", error ? error->message : "");
  cr_assert (c_async_socket_get_sock_opt (S (p.client), SO_RCVBUF, &read_back, &length, SOL_SOCKET,
                                          &error));
  cr_assert_eq (length, sizeof read_back);
  cr_assert_geq (read_back, size, "Linux doubles SO_RCVBUF; it is never less than asked");

  cr_assert (c_async_socket_set_sock_opt (S (p.client), SO_LINGER, &linger, sizeof linger,
                                          SOL_SOCKET, &error));
  cr_assert (c_async_socket_get_sock_opt (S (p.client), SO_LINGER, &linger_back, &linger_length,
                                          SOL_SOCKET, &error));
  cr_assert_eq (linger_length, sizeof linger_back);
  cr_assert_eq (linger_back.l_onoff, 1);
  cr_assert_eq (linger_back.l_linger, 5);

  cr_assert (c_async_socket_set_sock_opt_int (S (p.client), IPPROTO_TCP, TCP_NODELAY, 1, &error));
  cr_assert (
      c_async_socket_get_sock_opt_int (S (p.client), IPPROTO_TCP, TCP_NODELAY, &nodelay, &error));
  cr_assert_eq (nodelay, 1);

  /* An option the system does not know: its error, naming level and option. */
  cr_assert_not (c_async_socket_set_sock_opt_int (S (p.client), SOL_SOCKET, 9999, 1, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "set_sock_opt (level 1, option 9999)");
  cr_assert_eq (c_async_socket_get_last_error (), ENOPROTOOPT);
  cr_assert_not (
      c_async_socket_get_sock_opt_int (S (p.client), SOL_SOCKET, 9999, &nodelay, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "get_sock_opt (level 1, option 9999)");
  assert_pair_works (p.client, p.server);
  pair_close (&p);
}

Test (api, ioctl_fionread_fionbio_and_siocatmark, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;
  g_autoptr (TestSocket) datagrams = test_socket_new ();
  g_autoptr (TestSocket) sender = test_socket_new ();
  guint32 argument = 0;
  guint datagram_port = 0;
  char buffer[64];
  int fd;

  pair_open (&p);
  fd = c_async_socket_get_handle (S (p.server));

  /* FIONREAD on a stream: the bytes queued. */
  send_text (p.client, "seven!!");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  cr_assert (c_async_socket_ioctl (S (p.server), FIONREAD, &argument, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (argument, 7);
  receive_text (p.server, "seven!!");

  /* FIONBIO: blocking mode is refused while notifications are selected. */
  argument = 0;
  cr_assert_not (c_async_socket_ioctl (S (p.server), FIONBIO, &argument, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "FIONBIO");
  cr_assert_eq (fcntl (fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK, "mode changed by a failing call");
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_NONE, &error));
  cr_assert (c_async_socket_ioctl (S (p.server), FIONBIO, &argument, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (fcntl (fd, F_GETFL) & O_NONBLOCK, 0);
  argument = 1;
  cr_assert (c_async_socket_ioctl (S (p.server), FIONBIO, &argument, &error));
  cr_assert_eq (fcntl (fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, &error));

  /* SIOCATMARK: not at the mark before the normal data ahead of it is read, then at it. */
  send_text (p.client, "ab");
  cr_assert_eq (c_async_socket_send (S (p.client), "!", 1, MSG_OOB, &error), 1);
  cr_assert (run_until_count (p.server, C_NOTIFY_OUT_OF_BAND, 1));
  cr_assert (c_async_socket_ioctl (S (p.server), SIOCATMARK, &argument, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (argument, 0);
  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, &error), 2,
                "a receive stops at the urgent mark");
  cr_assert (c_async_socket_ioctl (S (p.server), SIOCATMARK, &argument, &error));
  cr_assert_eq (argument, 1);
  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, 1, MSG_OOB, &error), 1);
  cr_assert_eq (buffer[0], '!');

  /* FIONREAD on datagrams: the size of the first one. */
  cr_assert (
      c_async_socket_create (S (datagrams), 0, C_SOCK_DGRAM, C_FD_READ, "127.0.0.1", &error));
  cr_assert (c_async_socket_create (S (sender), 0, C_SOCK_DGRAM, C_FD_NONE, "127.0.0.1", &error));
  cr_assert (c_async_socket_get_sock_name (S (datagrams), NULL, &datagram_port, &error));
  cr_assert_eq (
      c_async_socket_send_to (S (sender), "123", 3, datagram_port, "127.0.0.1", 0, &error), 3);
  cr_assert_eq (
      c_async_socket_send_to (S (sender), "0123456789", 10, datagram_port, "127.0.0.1", 0, &error),
      10);
  cr_assert (run_until_count (datagrams, C_NOTIFY_RECEIVE, 1));
  cr_assert (c_async_socket_ioctl (S (datagrams), FIONREAD, &argument, &error));
  cr_assert_eq (argument, 3);

  /* Anything else is refused by name. */
  cr_assert_not (c_async_socket_ioctl (S (p.server), FIOASYNC, &argument, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "FIONBIO, FIONREAD or SIOCATMARK");
  assert_pair_works (p.client, p.server);
  pair_close (&p);
}

/* ---- Last error -------------------------------------------------------------------------- */

static gpointer
fail_in_another_thread (gpointer data)
{
  guint port = GPOINTER_TO_UINT (data);
  GMainContext *context = g_main_context_new ();
  CAsyncSocket *socket;
  int *codes = g_new0 (int, 3);

  g_main_context_push_thread_default (context);
  codes[0] = c_async_socket_get_last_error (); /* a new thread starts clean */
  socket = c_async_socket_new ();
  if (!c_async_socket_create (socket, port, C_SOCK_STREAM, C_FD_NONE, "127.0.0.1", NULL))
    codes[1] = c_async_socket_get_last_error ();
  g_object_unref (socket);
  codes[2] = c_async_socket_get_last_error ();
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return codes;
}

Test (api, get_last_error_is_per_thread_and_set_by_failing_calls, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree int *codes = NULL;
  GThread *thread;

  cr_assert_eq (c_async_socket_send (S (socket), "x", 1, 0, &error), -1);
  cr_assert_eq (c_async_socket_get_last_error (), ENOTSOCK, "not created ↔ WSAENOTSOCK");
  g_clear_error (&error);
  /* A successful call leaves it alone, as Winsock does. */
  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_eq (c_async_socket_get_last_error (), ENOTSOCK);
  cr_assert_eq (c_async_socket_send (S (socket), "x", 1, 0, &error), -1);
  cr_assert_eq (c_async_socket_get_last_error (), EINVAL, "wrong state ↔ WSAEINVAL");
  g_clear_error (&error);
  /* Also without a GError to fill. */
  cr_assert_not (c_async_socket_bind (S (socket), 0, "127.0.0.1", NULL));
  cr_assert_eq (c_async_socket_get_last_error (), EINVAL, "bind twice ↔ EINVAL");

  thread = g_thread_new ("last-error", fail_in_another_thread, GUINT_TO_POINTER (port));
  codes = g_thread_join (thread);
  cr_assert_eq (codes[0], 0, "a new thread inherited another thread's last error");
  cr_assert_eq (codes[1], EADDRINUSE);
  cr_assert_eq (codes[2], EADDRINUSE);
  cr_assert_eq (c_async_socket_get_last_error (), EINVAL, "changed by another thread's failure");
}

/* ---- Properties -------------------------------------------------------------------------- */

Test (api, properties_follow_the_socket, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GSocketAddress) peer = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;
  CSocketStats *stats = NULL;
  GMainContext *context = NULL;
  gboolean connected = TRUE, listening = FALSE;
  guint64 bytes_sent = 1, bytes_received = 0;
  int handle = 0;
  guint local_port = 0;

  g_object_get (client, "handle", &handle, "connected", &connected, "bytes-sent", &bytes_sent,
                "peer-address", &peer, "local-address", &local, NULL);
  cr_assert_eq (handle, -1);
  cr_assert_not (connected);
  cr_assert_eq (bytes_sent, 0);
  cr_assert_null (peer);
  cr_assert_null (local);

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  g_object_get (client, "handle", &handle, "connected", &connected, NULL);
  cr_assert_eq (handle, c_async_socket_get_handle (S (client)));
  cr_assert_not (connected, "connected before the connect finished");
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error));
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  send_text (client, "12345");
  receive_text (server, "12345");

  g_object_get (client, "connected", &connected, "bytes-sent", &bytes_sent, "stats", &stats,
                "peer-address", &peer, "local-address", &local, "context", &context, NULL);
  cr_assert (connected);
  cr_assert_eq (bytes_sent, 5);
  cr_assert_not_null (stats);
  cr_assert_eq (stats->bytes_sent, 5);
  cr_assert_eq (stats->send_calls, 1);
  cr_assert_gt (stats->connected_time, 0);
  cr_assert (G_IS_INET_SOCKET_ADDRESS (peer));
  cr_assert_eq (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer)), port);
  cr_assert (G_IS_INET_SOCKET_ADDRESS (local));
  cr_assert (c_async_socket_get_sock_name (S (client), NULL, &local_port, &error));
  cr_assert_eq (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)), local_port);
  cr_assert (context == c_async_socket_get_context (S (client)));
  c_socket_stats_free (stats);
  g_main_context_unref (context);

  g_object_get (server, "bytes-received", &bytes_received, NULL);
  cr_assert_eq (bytes_received, 5);
  g_object_get (listener, "listening", &listening, NULL);
  cr_assert (listening);
}

/* ---- Bad input: no descriptor ------------------------------------------------------------ */

#define expect_not_created(call, fragment)                                                         \
  do                                                                                               \
    {                                                                                              \
      cr_assert_not ((call), "%s succeeded without a descriptor", (fragment));                     \
      assert_socket_error (error, C_SOCKET_ERROR_NOT_CREATED, (fragment));                         \
      cr_assert_eq (c_async_socket_get_last_error (), ENOTSOCK);                                   \
    }                                                                                              \
  while (0)

/* Calls every member on a socket without a descriptor: each fails with NOT_CREATED, names
 * what was attempted, and sets no outputs. */
static void
assert_everything_fails_without_a_descriptor (CAsyncSocket *socket)
{
  g_autoptr (TestSocket) connected = test_socket_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 9);
  GSocketAddress *out_address = (GSocketAddress *) 0x1;
  GError *error = NULL;
  char buffer[8], *host = (char *) 0x1;
  guint port = 7, size = sizeof (int);
  guint32 argument = 1;
  int value = 0;

  expect_not_created (c_async_socket_bind (socket, 0, "127.0.0.1", &error), "bind");
  expect_not_created (c_async_socket_bind_address (socket, address, &error), "bind");
  expect_not_created (c_async_socket_listen (socket, 5, &error), "listen");
  expect_not_created (c_async_socket_accept (socket, S (connected), &out_address, &error),
                      "accept");
  cr_assert_null (out_address);
  cr_assert_eq (c_async_socket_get_handle (S (connected)), C_INVALID_SOCKET);
  expect_not_created (c_async_socket_connect (socket, "127.0.0.1", 9, &error), "connect");
  expect_not_created (c_async_socket_connect_address (socket, address, &error), "connect");
  expect_not_created (c_async_socket_send (socket, "x", 1, 0, &error) >= 0, "send");
  expect_not_created (c_async_socket_receive (socket, buffer, sizeof buffer, 0, &error) >= 0,
                      "receive");
  expect_not_created (c_async_socket_send_to (socket, "x", 1, 9, "127.0.0.1", 0, &error) >= 0,
                      "send_to");
  expect_not_created (c_async_socket_send_to_address (socket, "x", 1, address, 0, &error) >= 0,
                      "send_to");
  out_address = (GSocketAddress *) 0x1;
  expect_not_created (
      c_async_socket_receive_from (socket, buffer, sizeof buffer, &host, &port, 0, &error) >= 0,
      "receive_from");
  cr_assert_null (host);
  cr_assert_eq (port, 0);
  expect_not_created (
      c_async_socket_receive_from_address (socket, buffer, sizeof buffer, &out_address, 0, &error)
          >= 0,
      "receive_from");
  cr_assert_null (out_address);
  expect_not_created (c_async_socket_shut_down (socket, C_SHUTDOWN_SENDS, &error), "shut_down");
  host = (char *) 0x1;
  expect_not_created (c_async_socket_get_peer_name (socket, &host, &port, &error), "get_peer_name");
  cr_assert_null (host);
  expect_not_created (c_async_socket_get_sock_name (socket, &host, &port, &error), "get_sock_name");
  cr_assert_null (host);
  expect_not_created (c_async_socket_get_peer_address (socket, &error) != NULL, "get_peer_name");
  expect_not_created (c_async_socket_get_sock_address (socket, &error) != NULL, "get_sock_name");
  expect_not_created (
      c_async_socket_get_sock_opt (socket, SO_TYPE, &value, &size, SOL_SOCKET, &error),
      "get_sock_opt");
  expect_not_created (
      c_async_socket_set_sock_opt (socket, SO_KEEPALIVE, &value, sizeof value, SOL_SOCKET, &error),
      "set_sock_opt");
  expect_not_created (c_async_socket_get_sock_opt_int (socket, SOL_SOCKET, SO_TYPE, &value, &error),
                      "get_sock_opt");
  expect_not_created (c_async_socket_set_sock_opt_int (socket, SOL_SOCKET, SO_KEEPALIVE, 1, &error),
                      "set_sock_opt");
  expect_not_created (c_async_socket_ioctl (socket, FIONREAD, &argument, &error), "ioctl");
  expect_not_created (c_async_socket_ioctl (socket, FIONBIO, &argument, &error), "ioctl");
  expect_not_created (c_async_socket_async_select (socket, C_FD_READ, &error), "selecting events");

  /* The members without an error report say "nothing" in their own way. */
  cr_assert_eq (c_async_socket_get_handle (socket), C_INVALID_SOCKET);
  cr_assert_eq (c_async_socket_detach (socket), C_INVALID_SOCKET);
  cr_assert_eq (c_async_socket_get_events (socket), C_FD_NONE);
  cr_assert_eq (c_async_socket_get_family (socket), G_SOCKET_FAMILY_INVALID);
  cr_assert_not (c_async_socket_is_connected (socket));
  cr_assert_not (c_async_socket_is_listening (socket));
  c_async_socket_close (socket);
}

/* After any failure, the object still becomes a working connection. */
static void
assert_usable_after_failures (TestSocket *socket)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GError) error = NULL;

  if (c_async_socket_get_handle (S (socket)) < 0)
    cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error),
               "create after the failures: %s", error ? error->message : "");
  int connects = socket->counts[C_NOTIFY_CONNECT];
  cr_assert (c_async_socket_connect (S (socket), "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error));
  cr_assert (run_until_count (socket, C_NOTIFY_CONNECT, connects + 1));
  cr_assert_eq (socket->errors[C_NOTIFY_CONNECT], 0);
  assert_pair_works (socket, server);
}

Test (api, every_member_fails_cleanly_on_a_never_created_socket, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();

  assert_everything_fails_without_a_descriptor (S (socket));
  drain_context ();
  cr_assert_eq (test_socket_total (socket), 0, "a failing call led to a notification");
  assert_usable_after_failures (socket);
}

Test (api, every_member_fails_cleanly_on_a_closed_socket, .timeout = 30)
{
  Pair p;
  pair_open (&p);

  c_async_socket_close (S (p.client));
  int before = test_socket_total (p.client);
  assert_everything_fails_without_a_descriptor (S (p.client));
  drain_context ();
  cr_assert_eq (test_socket_total (p.client), before, "a failing call led to a notification");
  assert_usable_after_failures (p.client);
  pair_close (&p);
}

Test (api, every_member_fails_cleanly_on_a_detached_socket, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (GError) error = NULL;
  int fd;

  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_DGRAM, C_FD_ALL, "127.0.0.1", &error));
  fd = c_async_socket_detach (S (socket));
  cr_assert_null (c_async_socket_from_handle (fd));
  assert_everything_fails_without_a_descriptor (S (socket));
  close (fd);
  assert_usable_after_failures (socket);
}

/* ---- Bad input: wrong state -------------------------------------------------------------- */

Test (api, send_and_receive_before_connect_fail_and_the_socket_still_connects, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (GError) error = NULL;
  char buffer[4];

  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_eq (c_async_socket_send (S (socket), "x", 1, 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "send: the socket is not connected");
  /* receive is the system's call on an unconnected stream: ENOTCONN. */
  cr_assert_eq (c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, &error), -1);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "receive");
  cr_assert_not (c_async_socket_shut_down (S (socket), (CShutdownHow) 7, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "shut_down: unknown mode 7");
  cr_assert_not (c_async_socket_async_select (S (socket), (CSocketEvents) 0x100, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "unknown event bits 0x100");
  cr_assert_eq (c_async_socket_get_events (S (socket)), C_FD_ALL, "events changed by a failure");
  drain_context ();
  cr_assert_eq (test_socket_total (socket), 0);
  assert_usable_after_failures (socket);
}

Test (api, shut_down_before_connect_fails_and_the_socket_still_connects, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (GError) error = NULL;

  /* Either answer is a fair report (the system's ENOTCONN, or the library's wrong state), but
   * the failed call must not leave its mark: Linux sets the shutdown flags even when it
   * returns ENOTCONN, so a later connection would be unable to send. */
  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_not (c_async_socket_shut_down (S (socket), C_SHUTDOWN_SENDS, &error));
  cr_assert_not_null (error);
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED)
                 || g_error_matches (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE),
             "unexpected error: %s", error->message);
  cr_assert_not_null (strstr (error->message, "shut_down"), "message: %s", error->message);
  g_clear_error (&error);
  assert_usable_after_failures (socket);
}

Test (api, accept_on_a_socket_that_does_not_listen_fails_and_listen_then_works, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (TestSocket) connected = test_socket_new ();
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) other = test_socket_new ();
  g_autoptr (GError) error = NULL;
  guint port = 0;

  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_not (c_async_socket_accept (S (socket), S (connected), NULL, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "accept: the socket is not listening");
  cr_assert_eq (c_async_socket_get_handle (S (connected)), C_INVALID_SOCKET);

  cr_assert (c_async_socket_listen (S (socket), 5, &error), "%s", error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (S (socket), NULL, &port, &error));
  /* Nothing pending yet: the system's would-block. */
  cr_assert_not (c_async_socket_accept (S (socket), S (connected), NULL, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "accept");
  /* Data calls on a listener are refused. */
  cr_assert_eq (c_async_socket_send (S (socket), "x", 1, 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "send: the socket is listening");
  cr_assert_not (c_async_socket_connect (S (socket), "127.0.0.1", port, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "connect: the socket is listening");

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  cr_assert (run_until_count (socket, C_NOTIFY_ACCEPT, 1));
  /* The object for the new connection must not have a descriptor yet. */
  cr_assert (c_async_socket_create (S (other), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_not (c_async_socket_accept (S (socket), S (other), NULL, &error));
  assert_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED, "accept");
  cr_assert_not (c_async_socket_accept (S (socket), S (socket), NULL, &error));
  assert_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED, "accept");
  cr_assert (c_async_socket_accept (S (socket), S (connected), NULL, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  assert_pair_works (client, connected);
}

Test (api, listen_on_a_connected_socket_fails_and_the_connection_goes_on, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;

  pair_open (&p);
  cr_assert_not (c_async_socket_listen (S (p.client), 5, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "listen: the socket is connected");
  cr_assert_not (c_async_socket_listen (S (p.server), 5, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "listen: the socket is connected");
  cr_assert_not (c_async_socket_connect (S (p.client), "127.0.0.1", p.port, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                       "connect: the socket is already connected");
  cr_assert_not (c_async_socket_is_listening (S (p.client)));
  assert_pair_works (p.client, p.server);
  pair_close (&p);
}

Test (api, connect_while_connecting_is_in_progress, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  cr_assert_not (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  assert_socket_error (error, C_SOCKET_ERROR_IN_PROGRESS,
                       "connect: a connect is already in progress");
  cr_assert_eq (c_async_socket_get_last_error (), EINPROGRESS);
  cr_assert_eq (c_async_socket_send (S (client), "x", 1, 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "send: the socket is not connected yet");

  /* The first attempt goes on, and only it is reported. */
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0);
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error));
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1);
  assert_pair_works (client, server);
}

Test (api, create_and_attach_on_a_socket_that_has_a_descriptor_fail, .timeout = 30)
{
  Pair p;
  g_autoptr (GError) error = NULL;
  g_autoptr (TestSocket) fresh = test_socket_new ();
  int fd, fds[2];

  pair_open (&p);
  fd = c_async_socket_get_handle (S (p.client));
  cr_assert_not (
      c_async_socket_create (S (p.client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  assert_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED, "creating a socket");
  cr_assert_not (c_async_socket_create_ex (S (p.client), G_SOCKET_FAMILY_IPV4, C_SOCK_STREAM, 0,
                                           C_FD_ALL, &error));
  assert_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED, "creating a socket");
  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), 0);
  cr_assert_not (c_async_socket_attach (S (p.client), fds[0], C_FD_ALL, &error));
  assert_socket_error (error, C_SOCKET_ERROR_ALREADY_CREATED, "attaching a descriptor");
  cr_assert_eq (c_async_socket_get_handle (S (p.client)), fd, "the descriptor was replaced");
  assert_pair_works (p.client, p.server);

  /* Unsupported family; a descriptor that is not a socket; no descriptor at all. */
  cr_assert_not (c_async_socket_create_ex (S (fresh), G_SOCKET_FAMILY_INVALID, C_SOCK_STREAM, 0,
                                           C_FD_ALL, &error));
  assert_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "unsupported address family");
  int pipe_fds[2];
  cr_assert_eq (pipe (pipe_fds), 0);
  cr_assert_not (c_async_socket_attach (S (fresh), pipe_fds[0], C_FD_ALL, &error));
  g_autofree char *expected = g_strdup_printf ("attaching descriptor %d", pipe_fds[0]);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, expected);
  cr_assert_eq (c_async_socket_get_last_error (), ENOTSOCK);
  cr_assert_neq (fcntl (pipe_fds[0], F_GETFD), -1, "a failing attach closed the descriptor");
  cr_assert_eq (fcntl (pipe_fds[0], F_GETFL) & O_NONBLOCK, 0, "a failing attach changed it");
  cr_assert_not (c_async_socket_attach (S (fresh), -1, C_FD_ALL, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "attaching descriptor -1");
  cr_assert_eq (c_async_socket_get_handle (S (fresh)), C_INVALID_SOCKET);
  close (pipe_fds[0]);
  close (pipe_fds[1]);

  /* Then a real one works. */
  cr_assert (c_async_socket_attach (S (fresh), fds[0], C_FD_ALL, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (write (fds[1], "z", 1), 1);
  cr_assert (run_until_count (fresh, C_NOTIFY_RECEIVE, 1));
  close (fds[1]);
  pair_close (&p);
}

/* ---- Bad input: addresses and ports ------------------------------------------------------ */

Test (api, invalid_address_strings_are_rejected_and_the_socket_stays_usable, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (TestSocket) datagram = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *long_path = g_strnfill (200, 'x');
  g_autofree char *long_unix = g_strconcat ("/", long_path, NULL);

  /* create parses before it makes anything: nothing is left behind. */
  cr_assert_not (
      c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, "999.1.2.3", &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "'999.1.2.3'");
  cr_assert_eq (c_async_socket_get_handle (S (socket)), C_INVALID_SOCKET);
  cr_assert_eq (c_async_socket_get_last_error (), EINVAL);
  cr_assert_not (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, long_unix, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "is longer than");
  cr_assert_eq (c_async_socket_get_handle (S (socket)), C_INVALID_SOCKET);

  cr_assert (c_async_socket_create_ex (S (socket), G_SOCKET_FAMILY_IPV4, C_SOCK_STREAM, 0, C_FD_ALL,
                                       &error));
  cr_assert_not (c_async_socket_bind (S (socket), 0, "not an address", &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "'not an address'");
  cr_assert_not (c_async_socket_bind (S (socket), 0, "::1", &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "'::1' is an IPv6 address");
  cr_assert_not (c_async_socket_bind (S (socket), 0, "/tmp/afxsock-no-such.sock", &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "Unix path");
  cr_assert_not (c_async_socket_connect (S (socket), "not an address!", 80, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "connect: ");
  cr_assert_not (c_async_socket_connect (S (socket), "[127.0.0.1", 80, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "connect: ");
  cr_assert_not (c_async_socket_connect (S (socket), "", 80, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "connect: no address given");
  cr_assert_not (c_async_socket_connect (S (socket), NULL, 80, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "connect: no address given");
  cr_assert (c_async_socket_bind (S (socket), 0, "127.0.0.1", &error), "%s",
             error ? error->message : "");

  cr_assert (c_async_socket_create (S (datagram), 0, C_SOCK_DGRAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_eq (c_async_socket_send_to (S (datagram), "x", 1, 9, "bad host!", 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "'bad host!'");
  cr_assert_eq (c_async_socket_send_to (S (datagram), "x", 1, 9, "@abstract", 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "Internet socket");

  drain_context ();
  cr_assert_eq (test_socket_total (socket), 0, "a failing call led to a notification");
  assert_usable_after_failures (socket);
}

Test (api, out_of_range_ports_are_rejected_and_the_socket_stays_usable, .timeout = 30)
{
  g_autoptr (TestSocket) socket = test_socket_new ();
  g_autoptr (TestSocket) datagram = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert_not (
      c_async_socket_create (S (socket), 70000, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "port 70000");
  cr_assert_eq (c_async_socket_get_handle (S (socket)), C_INVALID_SOCKET);

  cr_assert (c_async_socket_create_ex (S (socket), G_SOCKET_FAMILY_IPV4, C_SOCK_STREAM, 0, C_FD_ALL,
                                       &error));
  cr_assert_not (c_async_socket_bind (S (socket), 70000, "127.0.0.1", &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "bind: port 70000");
  cr_assert_not (c_async_socket_connect (S (socket), "127.0.0.1", 70000, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "connect: port 70000");
  cr_assert_not (c_async_socket_connect (S (socket), "127.0.0.1", 0, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "connect: port 0");
  cr_assert_not (c_async_socket_connect (S (socket), "localhost", 0, &error));
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "connect: port 0");
  cr_assert_eq (c_async_socket_get_last_error (), EINVAL);

  cr_assert (c_async_socket_create (S (datagram), 0, C_SOCK_DGRAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_eq (c_async_socket_send_to (S (datagram), "x", 1, 70000, "127.0.0.1", 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "send_to: port 70000");
  cr_assert_eq (c_async_socket_send_to (S (datagram), "x", 1, 0, "127.0.0.1", 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "send_to: port 0");
  cr_assert_eq (c_async_socket_send_to (S (datagram), "x", 1, 0, NULL, 0, &error), -1);
  assert_socket_error (error, C_SOCKET_ERROR_INVALID_PORT, "send_to: port 0");

  drain_context ();
  cr_assert_eq (test_socket_total (socket), 0, "a failing call led to a notification");
  assert_usable_after_failures (socket);
}

Test (api, bind_to_a_port_in_use_reports_address_in_use, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) created = test_socket_new ();
  g_autoptr (TestSocket) bound = test_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("bind to 127.0.0.1:%u", port);

  /* create binds, and on a bind failure closes the descriptor it made. */
  cr_assert_not (
      c_async_socket_create (S (created), port, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert_eq (c_async_socket_get_last_error (), EADDRINUSE);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, expected);
  cr_assert_eq (c_async_socket_get_handle (S (created)), C_INVALID_SOCKET);
  cr_assert_eq (c_async_socket_get_events (S (created)), C_FD_NONE);
  drain_context ();
  cr_assert_eq (test_socket_total (created), 0);
  assert_usable_after_failures (created);

  /* bind on an existing socket fails and leaves the socket as it was. */
  cr_assert (c_async_socket_create_ex (S (bound), G_SOCKET_FAMILY_IPV4, C_SOCK_STREAM, 0, C_FD_ALL,
                                       &error));
  cr_assert_not (c_async_socket_bind (S (bound), port, "127.0.0.1", &error));
  cr_assert_eq (c_async_socket_get_last_error (), EADDRINUSE);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, expected);
  cr_assert_geq (c_async_socket_get_handle (S (bound)), 0);
  assert_usable_after_failures (bound);

  /* The listener that holds the port is unaffected. */
  cr_assert (c_async_socket_is_listening (S (listener)));
}

/* AFXSOCK_CHECK_VERSION, around the headers' own version (c-version.h). */
Test (api, check_version_compares_with_the_headers_version, .timeout = 10)
{
  cr_assert (
      AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION, AFXSOCK_MINOR_VERSION, AFXSOCK_MICRO_VERSION));
  cr_assert (AFXSOCK_CHECK_VERSION (0, 0, 0));
  cr_assert_not (AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION, AFXSOCK_MINOR_VERSION,
                                        AFXSOCK_MICRO_VERSION + 1));
  cr_assert_not (AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION, AFXSOCK_MINOR_VERSION + 1, 0));
  cr_assert_not (AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION + 1, 0, 0));
  if (AFXSOCK_MICRO_VERSION > 0)
    cr_assert (AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION, AFXSOCK_MINOR_VERSION,
                                      AFXSOCK_MICRO_VERSION - 1));
  cr_assert (AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION, AFXSOCK_MINOR_VERSION, 0));
  if (AFXSOCK_MINOR_VERSION > 0)
    cr_assert (AFXSOCK_CHECK_VERSION (AFXSOCK_MAJOR_VERSION, AFXSOCK_MINOR_VERSION - 1, 99));
}

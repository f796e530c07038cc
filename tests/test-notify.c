/* test-notify.c: the notification rules and the callback contract (README.md, "The rules
 * notifications follow": the table, and the contract paragraph under it)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "test-util.h"

/* The suite's fixture: a listener on 127.0.0.1, a client and the server end it accepted, both
 * past their first on_send. Each test runs in a worker process of its own, so each starts
 * with a fresh pair. A test may steal p.server and release it itself: the fini clears only
 * what is left. Tests that build their sockets step by step are in notify_own_setup. */
static Pair p;

static void
open_pair (void)
{
  pair_open (&p);
}

static void
close_pair (void)
{
  pair_close (&p);
}

TestSuite (notify, .init = open_pair, .fini = close_pair);

Test (notify, on_receive_not_repeated_until_receive_is_called, .timeout = 30)
{
  send_text (p.client, "first");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  /* More data arrives while the application has not read: no new notification. */
  for (int i = 0; i < 20; i++)
    {
      send_text (p.client, "more");
      drain_context ();
    }
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 1);

  /* A receive re-arms it, and since data remains it comes again at once. */
  char buffer[4];
  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, NULL), 4);
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 1, "notified inside receive");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 2));
}

static void
read_some (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  guint8 buffer[4];
  gssize n;

  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);
  if (n > 0)
    g_byte_array_append (socket->received, buffer, (guint) n);
}

static gboolean
received_ten (gpointer data)
{
  return ((TestSocket *) data)->received->len >= 10;
}

Test (notify, partial_reads_bring_on_receive_back_until_drained, .timeout = 30)
{
  p.server->hook = read_some;

  send_text (p.client, "0123456789");
  cr_assert (run_until (received_ten, p.server));
  drain_context ();
  cr_assert_eq (memcmp (p.server->received->data, "0123456789", 10), 0);
  /* 4 + 4 + 2 bytes: three notifications, and no fourth one for an empty buffer. */
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 3);
}

Test (notify, on_send_after_connect_and_accept_then_only_after_would_block, .timeout = 60)
{
  g_autofree guint8 *chunk = g_malloc0 (65536);
  g_autoptr (GError) error = NULL;
  gboolean blocked = FALSE;
  int small = 4096;

  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], 1);
  cr_assert_eq (p.server->counts[C_NOTIFY_SEND], 1);

  /* Sends that succeed bring no further on_send. */
  send_text (p.client, "hello");
  drain_context ();
  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], 1);

  c_async_socket_set_sock_opt (S (p.client), SO_SNDBUF, &small, sizeof small, SOL_SOCKET, NULL);
  c_async_socket_set_sock_opt (S (p.server), SO_RCVBUF, &small, sizeof small, SOL_SOCKET, NULL);
  for (int i = 0; i < 10000 && !blocked; i++)
    {
      gssize n = c_async_socket_send (S (p.client), chunk, 65536, 0, &error);
      if (n < 0)
        {
          cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK), "%s",
                     error->message);
          blocked = TRUE;
        }
    }
  cr_assert (blocked, "the send buffer never filled");
  drain_context ();
  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], 1, "on_send while still blocked");

  p.server->read_on_receive = TRUE;
  {
    guint8 buffer[65536];
    c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, NULL);
  }
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, 2), "no on_send after the would-block");
}

/* The client sends until the kernel says "full" (the server does not read); returns the
 * bytes sent. */
static gsize
fill_client_until_would_block (void)
{
  g_autofree guint8 *chunk = g_malloc0 (16384);
  g_autoptr (GError) error = NULL;
  gboolean blocked = FALSE;
  gsize sent = 0;

  c_async_socket_set_sock_opt_int (S (p.client), SOL_SOCKET, SO_SNDBUF, 4096, NULL);
  c_async_socket_set_sock_opt_int (S (p.server), SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  for (int i = 0; i < 10000 && !blocked; i++)
    {
      gssize n = c_async_socket_send (S (p.client), chunk, 16384, 0, &error);
      if (n < 0)
        {
          cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK), "%s",
                     error->message);
          blocked = TRUE;
        }
      else
        sent += (gsize) n;
    }
  cr_assert (blocked, "the send buffer never filled");
  drain_context ();
  return sent;
}

/* Room to send and the peer's end of stream in one report: on_close (0) and the on_send that
 * the would-block promised both come (the peer only half-closed: it still reads). */
Test (notify, on_send_still_comes_when_room_and_end_of_stream_arrive_together, .timeout = 30)
{
  guint8 buffer[65536];
  int sends = p.client->counts[C_NOTIFY_SEND];
  gsize sent = fill_client_until_would_block (), received = 0;
  int fd;

  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], sends);
  /* The server takes its descriptor out of the loop, reads everything the client sent and
   * half-closes, all before the client's context runs again: the client's next report
   * carries room to send and the end of stream together. */
  fd = c_async_socket_detach (S (p.server));
  while (received < sent)
    {
      struct pollfd wait = { fd, POLLIN, 0 };
      gssize n;
      cr_assert_eq (poll (&wait, 1, TEST_DEADLINE_MS), 1, "%zu of %zu bytes arrived", received,
                    sent);
      n = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0)
        received += (gsize) n;
    }
  cr_assert_eq (shutdown (fd, SHUT_WR), 0);
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "no on_close");
  cr_assert_eq (p.client->errors[C_NOTIFY_CLOSE], 0);
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, sends + 1),
             "the on_send that the would-block promised never came");
  close (fd);
}

/* After a graceful on_close, a reset: on_close does not come twice, but a writer waiting for
 * on_send gets it, and its next send reports the reset. */
Test (notify, a_reset_after_on_close_brings_the_waiting_on_send, .timeout = 30)
{
  struct linger hard = { 1, 0 };
  g_autoptr (GError) error = NULL;
  int sends = p.client->counts[C_NOTIFY_SEND];

  fill_client_until_would_block ();
  cr_assert (c_async_socket_shut_down (S (p.server), C_SHUTDOWN_SENDS, NULL));
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "no on_close");
  cr_assert_eq (p.client->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], sends, "on_send while still full");
  cr_assert (
      c_async_socket_set_sock_opt (S (p.server), SO_LINGER, &hard, sizeof hard, SOL_SOCKET, NULL));
  c_async_socket_close (S (p.server));
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, sends + 1),
             "a writer waiting for on_send never learned of the reset");
  cr_assert_lt (c_async_socket_send (S (p.client), "x", 1, 0, &error), 0, "a send after a reset");
  cr_assert (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK), "%s", error->message);
  cr_assert_eq (p.client->counts[C_NOTIFY_CLOSE], 1, "on_close twice");
}

Test (notify, graceful_close_only_after_all_data_was_read, .timeout = 30)
{
  char buffer[64];

  send_text (p.client, "last words");
  cr_assert (c_async_socket_shut_down (S (p.client), C_SHUTDOWN_SENDS, NULL));
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  for (int i = 0; i < 20; i++)
    drain_context ();
  cr_assert_eq (p.server->counts[C_NOTIFY_CLOSE], 0, "on_close with unread data");

  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, NULL), 10);
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, NULL), 0);
  drain_context ();
  cr_assert_eq (p.server->counts[C_NOTIFY_CLOSE], 1, "on_close more than once");
  /* No on_receive for the bare end of stream. */
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 1);
}

Test (notify, graceful_close_without_data_comes_at_once, .timeout = 30)
{
  c_async_socket_close (S (p.client));
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 0);
}

Test (notify, reset_is_reported_at_once_with_econnreset, .timeout = 30)
{
  struct linger abort_on_close = { 1, 0 };

  send_text (p.client, "unread");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  cr_assert (c_async_socket_set_sock_opt (S (p.client), SO_LINGER, &abort_on_close,
                                          sizeof abort_on_close, SOL_SOCKET, NULL));
  c_async_socket_close (S (p.client));
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], ECONNRESET);
}

Test (notify, no_notification_after_local_close, .timeout = 30)
{
  send_text (p.client, "data for a closed socket");
  c_async_socket_close (S (p.server));
  int before = test_socket_total (p.server);
  c_async_socket_close (S (p.client));
  for (int i = 0; i < 10; i++)
    drain_context ();
  cr_assert_eq (test_socket_total (p.server), before);
  cr_assert_eq (p.server->counts[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (p.client->counts[C_NOTIFY_CLOSE], 0);
}

static guint
unused_port (void)
{
  guint port;
  TestSocket *probe = make_listener (NULL, &port);
  g_object_unref (probe);
  return port;
}

Test (notify_own_setup, connect_refused_is_reported_by_on_connect, .timeout = 30)
{
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (GError) error = NULL;
  guint port = unused_port ();

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 0, "notified inside connect");
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], ECONNREFUSED);
  drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_SEND], 0);
  cr_assert_eq (client->counts[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (client->counts[C_NOTIFY_CONNECT], 1);
}

Test (notify_own_setup, on_accept_comes_again_while_connections_wait, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) a = test_socket_new ();
  g_autoptr (TestSocket) b = test_socket_new ();
  g_autoptr (TestSocket) sa = test_socket_new ();
  g_autoptr (TestSocket) sb = test_socket_new ();

  cr_assert (c_async_socket_create (S (a), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_create (S (b), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (a), "127.0.0.1", port, NULL));
  cr_assert (c_async_socket_connect (S (b), "127.0.0.1", port, NULL));
  cr_assert (run_until_count (a, C_NOTIFY_CONNECT, 1));
  cr_assert (run_until_count (b, C_NOTIFY_CONNECT, 1));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  drain_context ();
  cr_assert_eq (listener->counts[C_NOTIFY_ACCEPT], 1, "on_accept repeated without accept");

  cr_assert (c_async_socket_accept (S (listener), S (sa), NULL, NULL));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 2), "second connection not notified");
  cr_assert (c_async_socket_accept (S (listener), S (sb), NULL, NULL));
  drain_context ();
  cr_assert_eq (listener->counts[C_NOTIFY_ACCEPT], 2, "on_accept with nothing queued");
  /* The accepted sockets are the caller's own type and get their first on_send. */
  cr_assert (run_until_count (sa, C_NOTIFY_SEND, 1));
  cr_assert (run_until_count (sb, C_NOTIFY_SEND, 1));
  cr_assert_eq (c_async_socket_get_events (S (sa)), C_FD_ALL);
}

Test (notify_own_setup, data_sent_before_the_accept_is_notified_after_it, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = test_socket_new ();

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, NULL));
  cr_assert (run_until_count (client, C_NOTIFY_CONNECT, 1));
  send_text (client, "early");
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  server->read_on_receive = TRUE;
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, NULL));
  cr_assert_eq (server->counts[C_NOTIFY_RECEIVE], 0, "notified inside accept");

  /* The bytes were waiting when the descriptor was registered: on_receive and on_send
   * both come, once each. */
  cr_assert (run_until_count (server, C_NOTIFY_RECEIVE, 1));
  cr_assert (run_until_count (server, C_NOTIFY_SEND, 1));
  drain_context ();
  cr_assert_eq (server->received->len, 5);
  cr_assert_eq (memcmp (server->received->data, "early", 5), 0);
  cr_assert_eq (server->counts[C_NOTIFY_RECEIVE], 1);
  cr_assert_eq (server->counts[C_NOTIFY_SEND], 1);
}

Test (notify, async_select_replaces_the_set_and_fires_for_waiting_data, .timeout = 30)
{
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_NONE, NULL));
  send_text (p.client, "while deaf");
  for (int i = 0; i < 5; i++)
    drain_context ();
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 0);

  cr_assert (c_async_socket_async_select (S (p.server), C_FD_READ, NULL));
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 0, "notified inside async_select");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_get_events (S (p.server)), C_FD_READ);
}

Test (notify, out_of_band_data_is_notified_and_rearmed_by_oob_receive, .timeout = 30)
{
  char byte = 0;

  cr_assert_eq (c_async_socket_send (S (p.client), "!", 1, MSG_OOB, NULL), 1);
  cr_assert (run_until_count (p.server, C_NOTIFY_OUT_OF_BAND, 1));
  cr_assert_eq (c_async_socket_receive (S (p.server), &byte, 1, MSG_OOB, NULL), 1);
  cr_assert_eq (byte, '!');
  cr_assert_eq (c_async_socket_send (S (p.client), "?", 1, MSG_OOB, NULL), 1);
  cr_assert (run_until_count (p.server, C_NOTIFY_OUT_OF_BAND, 2));
}

static void
count_signal (CAsyncSocket *socket, int error_code, gpointer data)
{
  (*(int *) data)++;
}

Test (notify, signals_and_vfuncs_both_run_once, .timeout = 30)
{
  int emitted = 0;

  g_signal_connect (p.server, "receive", G_CALLBACK (count_signal), &emitted);
  send_text (p.client, "x");
  cr_assert (run_until_count (p.server, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (emitted, 1);
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 1);
}

/* Closing (and dropping the last reference) inside each notification. */

typedef struct
{
  CNotify which;
  gboolean fired;
} CloseInside;

static void
close_and_drop (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  CloseInside *ci = data;

  if (which != ci->which || ci->fired)
    return;
  ci->fired = TRUE;
  c_async_socket_close (S (socket));
  g_object_unref (socket);
}

static void
expect_close_inside (TestSocket *socket, CloseInside *ci)
{
  GWeakRef weak;
  g_weak_ref_init (&weak, socket);
  cr_assert (run_until_flag (&ci->fired), "notification %d never came", ci->which);
  for (int i = 0; i < 5; i++)
    drain_context ();
  GObject *alive = g_weak_ref_get (&weak);
  cr_assert_null (alive, "socket outlived its last reference");
  g_weak_ref_clear (&weak);
}

Test (notify, close_and_unref_inside_on_receive, .timeout = 30)
{
  CloseInside ci = { C_NOTIFY_RECEIVE, FALSE };
  p.server->hook = close_and_drop;
  p.server->hook_data = &ci;
  send_text (p.client, "data");
  c_async_socket_close (S (p.client)); /* close arrives in the same batch */
  TestSocket *server = g_steal_pointer (&p.server);
  expect_close_inside (server, &ci);
}

Test (notify, close_and_unref_inside_on_close, .timeout = 30)
{
  CloseInside ci = { C_NOTIFY_CLOSE, FALSE };
  p.server->hook = close_and_drop;
  p.server->hook_data = &ci;
  c_async_socket_close (S (p.client));
  TestSocket *server = g_steal_pointer (&p.server);
  expect_close_inside (server, &ci);
}

Test (notify, close_and_unref_inside_on_out_of_band_data, .timeout = 30)
{
  CloseInside ci = { C_NOTIFY_OUT_OF_BAND, FALSE };
  p.server->hook = close_and_drop;
  p.server->hook_data = &ci;
  cr_assert_eq (c_async_socket_send (S (p.client), "!", 1, MSG_OOB, NULL), 1);
  TestSocket *server = g_steal_pointer (&p.server);
  expect_close_inside (server, &ci);
}

Test (notify_own_setup, close_and_unref_inside_on_accept, .timeout = 30)
{
  guint port;
  TestSocket *listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  CloseInside ci = { C_NOTIFY_ACCEPT, FALSE };

  listener->hook = close_and_drop;
  listener->hook_data = &ci;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, NULL));
  expect_close_inside (listener, &ci);
}

Test (notify_own_setup, close_and_unref_inside_on_connect_and_on_send, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client = test_socket_new ();
  TestSocket *sender;
  CloseInside ci = { C_NOTIFY_CONNECT, FALSE };
  CloseInside cs = { C_NOTIFY_SEND, FALSE };

  client->hook = close_and_drop;
  client->hook_data = &ci;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, NULL));
  expect_close_inside (client, &ci);

  /* on_send is delivered right after on_connect; close inside it instead. */
  sender = test_socket_new ();
  sender->hook = close_and_drop;
  sender->hook_data = &cs;
  cr_assert (c_async_socket_create (S (sender), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (sender), "127.0.0.1", port, NULL));
  expect_close_inside (sender, &cs);
}

/* A descriptor reused inside a notification must not receive the old socket's events. */

typedef struct
{
  TestSocket *a, *b; /* both readable in the same batch */
  TestSocket *reborn;
  int closed_fd;
} ReuseState;

static void
close_other_and_reuse (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  ReuseState *st = data;
  TestSocket *victim;

  if (which != C_NOTIFY_RECEIVE || st->reborn != NULL)
    return;
  victim = socket == st->a ? st->b : st->a;
  st->closed_fd = c_async_socket_get_handle (S (victim));
  c_async_socket_close (S (victim));
  st->reborn = test_socket_new ();
  cr_assert (c_async_socket_create (S (st->reborn), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", NULL));
}

static gboolean
is_reborn (gpointer data)
{
  return ((ReuseState *) data)->reborn != NULL;
}

Test (notify, reused_descriptor_never_gets_the_dead_sockets_events, .timeout = 30)
{
  Pair second; /* the suite's pair is the first */
  ReuseState st = { 0 };
  int victim_count;

  pair_open (&second);
  st.a = p.server;
  st.b = second.server;
  p.server->hook = second.server->hook = close_other_and_reuse;
  p.server->hook_data = second.server->hook_data = &st;

  send_text (p.client, "to a");
  send_text (second.client, "to b");
  /* Let both arrive before the loop runs, so they are reported in one epoll batch. */
  cr_assert (run_until (is_reborn, &st));
  for (int i = 0; i < 5; i++)
    drain_context ();
  cr_assert_eq (c_async_socket_get_handle (S (st.reborn)), st.closed_fd,
                "the descriptor number was not reused (test precondition)");
  victim_count = st.a->counts[C_NOTIFY_RECEIVE] + st.b->counts[C_NOTIFY_RECEIVE];
  cr_assert_eq (victim_count, 1, "the closed socket was notified");
  cr_assert_eq (test_socket_total (st.reborn), 0, "the new socket got the old one's events");
  g_object_unref (st.reborn);
  pair_close (&second);
}

/* Nothing is ever notified from inside the call that caused it. */

static gboolean inside_call;

static void
assert_not_inside (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  cr_assert_not (inside_call, "notification %d delivered inside an API call", which);
}

Test (notify_own_setup, never_from_inside_the_call_that_caused_it, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = test_socket_new ();
  g_autoptr (TestSocket) server = test_socket_new ();
  char buffer[2];

  listener->hook = client->hook = server->hook = assert_not_inside;
  inside_call = TRUE;
  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, NULL));
  inside_call = FALSE;
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  inside_call = TRUE;
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, NULL));
  inside_call = FALSE;
  cr_assert (run_until_count (client, C_NOTIFY_SEND, 1));
  cr_assert (run_until_count (server, C_NOTIFY_SEND, 1));
  inside_call = TRUE;
  send_text (client, "abcdef");
  inside_call = FALSE;
  cr_assert (run_until_count (server, C_NOTIFY_RECEIVE, 1));
  inside_call = TRUE;
  cr_assert_eq (c_async_socket_receive (S (server), buffer, sizeof buffer, 0, NULL), 2);
  cr_assert (c_async_socket_async_select (S (server), C_FD_ALL, NULL));
  inside_call = FALSE;
  cr_assert (run_until_count (server, C_NOTIFY_RECEIVE, 2));
}

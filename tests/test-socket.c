/* test-socket.c: CSocket's blocking calls and the main loop they keep running
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "test-util.h"
#include <afxsock/c-socket.h>

typedef struct
{
  TestSocket *listener;
  TestSocket *peer; /* the asynchronous end */
  CSocket *socket;  /* the blocking end, accepted from the listener */
  guint port;
  int closes;   /* "close" signals on the blocking end */
  int receives; /* "receive" signals on the blocking end */
} Fixture;

static void
count_int (CAsyncSocket *socket, int error_code, gpointer data)
{
  (*(int *) data)++;
}

static void
fixture_open (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  memset (f, 0, sizeof *f);
  f->listener = make_listener (NULL, &f->port);
  f->peer = test_socket_new ();
  f->socket = c_socket_new ();
  g_signal_connect (f->socket, "close", G_CALLBACK (count_int), &f->closes);
  g_signal_connect (f->socket, "receive", G_CALLBACK (count_int), &f->receives);
  cr_assert (c_async_socket_create (S (f->peer), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (S (f->peer), "127.0.0.1", f->port, NULL));
  cr_assert (run_until_count (f->listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (f->listener), S (f->socket), NULL, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (f->peer, C_NOTIFY_SEND, 1));
}

static void
fixture_close (Fixture *f)
{
  g_clear_object (&f->socket);
  g_clear_object (&f->peer);
  g_clear_object (&f->listener);
}

/* The suite's fixture: each test runs in a worker process of its own, so each starts with a
 * fresh one. Tests that set up their own sockets are in socket_own_setup. */
static Fixture f;

static void
setup_fixture (void)
{
  fixture_open (&f);
}

static void
teardown_fixture (void)
{
  fixture_close (&f);
}

TestSuite (socket, .init = setup_fixture, .fini = teardown_fixture);

/* A timer that counts its ticks and, at a given tick, does something to the fixture. */
typedef struct
{
  Fixture *f;
  int ticks;
  int act_at;
  void (*act) (Fixture *f, gpointer data);
  gpointer data;
} Ticker;

static gboolean
tick (gpointer data)
{
  Ticker *t = data;

  if (++t->ticks == t->act_at && t->act != NULL)
    t->act (t->f, t->data);
  return G_SOURCE_CONTINUE;
}

static guint
start_ticker (Ticker *t)
{
  return g_timeout_add (5, tick, t);
}

static void
peer_sends (Fixture *f, gpointer data)
{
  const char *text = data;
  cr_assert_eq (c_async_socket_send (S (f->peer), text, strlen (text), 0, NULL),
                (gssize) strlen (text));
}

Test (socket, timer_keeps_running_during_a_blocking_receive, .timeout = 30)
{
  Ticker t = { &f, 0, 10, peer_sends, "late" };
  char buffer[16] = { 0 };
  g_autoptr (GError) error = NULL;
  guint id;

  id = start_ticker (&t);
  gssize n = c_socket_receive (f.socket, buffer, sizeof buffer, 0, &error);
  g_source_remove (id);
  cr_assert_eq (n, 4, "receive: %s", error ? error->message : "");
  cr_assert_str_eq (buffer, "late");
  cr_assert_geq (t.ticks, 10, "the timer did not run during the call");
}

Test (socket, blocking_receive_times_out_and_the_socket_stays_usable, .timeout = 30)
{
  char buffer[16] = { 0 };
  g_autoptr (GError) error = NULL;

  c_socket_set_timeout (f.socket, 50);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, &error), -1);
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s", error->message);
  cr_assert (strstr (error->message, "receive: timed out after 50 ms") != NULL, "%s",
             error->message);
  cr_assert_eq (c_async_socket_get_last_error (), ETIMEDOUT);
  cr_assert_not (c_socket_is_blocking (f.socket));

  peer_sends (&f, "still here");
  g_clear_error (&error);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, &error), 10, "%s",
                error ? error->message : "");
  cr_assert_str_eq (buffer, "still here");
}

static void
cancel_call (Fixture *f, gpointer data)
{
  c_socket_cancel_blocking_call (f->socket);
}

Test (socket, cancel_blocking_call_from_a_timer, .timeout = 30)
{
  Ticker t = { &f, 0, 3, cancel_call, NULL };
  char buffer[16];
  g_autoptr (GError) error = NULL;
  guint id;

  id = start_ticker (&t);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, &error), -1);
  g_source_remove (id);
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "%s", error->message);
  cr_assert_eq (c_async_socket_get_last_error (), EINTR);
}

static void
cancel_cancellable (Fixture *f, gpointer data)
{
  g_cancellable_cancel (data);
}

Test (socket, cancellable_cancels_the_blocking_call, .timeout = 30)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Ticker t = { &f, 0, 3, cancel_cancellable, cancellable };
  char buffer[16];
  g_autoptr (GError) error = NULL;
  guint id;

  c_socket_set_cancellable (f.socket, cancellable);
  id = start_ticker (&t);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, &error), -1);
  g_source_remove (id);
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "%s", error->message);
}

typedef struct
{
  gssize result;
  GError *error;
} SecondCall;

static void
second_call (Fixture *f, gpointer data)
{
  SecondCall *second = data;
  char buffer[4];

  second->result = c_socket_receive (f->socket, buffer, sizeof buffer, 0, &second->error);
  /* Now let the first call finish. */
  peer_sends (f, "done");
}

Test (socket, second_blocking_call_fails_with_in_progress_not_zero, .timeout = 30)
{
  SecondCall second = { 99, NULL };
  Ticker t = { &f, 0, 2, second_call, &second };
  char buffer[8] = { 0 };
  guint id;

  id = start_ticker (&t);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, NULL), 4);
  g_source_remove (id);
  cr_assert_eq (second.result, -1, "the second call returned %zd", second.result);
  cr_assert (g_error_matches (second.error, C_SOCKET_ERROR, C_SOCKET_ERROR_IN_PROGRESS));
  cr_assert (strstr (second.error->message, "already in progress") != NULL);
  g_clear_error (&second.error);
}

static void
peer_sends_and_closes (Fixture *f, gpointer data)
{
  peer_sends (f, "bye");
  c_async_socket_close (S (f->peer));
}

static gboolean
fixture_closed (gpointer data)
{
  return ((Fixture *) data)->closes > 0;
}

Test (socket, on_close_arriving_during_a_blocking_call_is_not_lost, .timeout = 30)
{
  Ticker t = { &f, 0, 2, peer_sends_and_closes, NULL };
  char buffer[8] = { 0 };
  guint id;

  id = start_ticker (&t);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, NULL), 3);
  g_source_remove (id);
  cr_assert_str_eq (buffer, "bye");
  cr_assert_eq (f.closes, 0, "on_close inside the call");
  cr_assert (run_until (fixture_closed, &f), "on_close was lost");
  drain_context ();
  cr_assert_eq (f.closes, 1);
  cr_assert_eq (f.receives, 0, "spurious on_receive after the data was consumed");
}

typedef struct
{
  Fixture *f;
  TestSocket *other_server;
  TestSocket *other_client;
  int seen_during_call;
} HeldState;

static void
other_sends (Fixture *f, gpointer data)
{
  HeldState *h = data;
  cr_assert_eq (c_async_socket_send (S (h->other_client), "x", 1, 0, NULL), 1);
}

static void
check_held_then_release (Fixture *f, gpointer data)
{
  HeldState *h = data;
  h->seen_during_call = h->other_server->counts[C_NOTIFY_RECEIVE];
  peer_sends (f, "go");
}

Test (socket, other_sockets_notifications_are_held_then_delivered_once, .timeout = 30)
{
  HeldState h = { &f };
  Ticker t1 = { &f, 0, 2, other_sends, &h };
  Ticker t2 = { &f, 0, 12, check_held_then_release, &h };
  char buffer[8];
  guint id1, id2;

  make_pair (f.listener, "127.0.0.1", f.port, &h.other_client, &h.other_server);
  drain_context ();
  int sends_before = h.other_server->counts[C_NOTIFY_SEND];

  id1 = start_ticker (&t1);
  id2 = start_ticker (&t2);
  cr_assert_eq (c_socket_receive (f.socket, buffer, sizeof buffer, 0, NULL), 2);
  g_source_remove (id1);
  g_source_remove (id2);
  cr_assert_eq (h.seen_during_call, 0, "another socket was notified during the call");
  cr_assert (run_until_count (h.other_server, C_NOTIFY_RECEIVE, 1),
             "the held notification was lost");
  drain_context ();
  cr_assert_eq (h.other_server->counts[C_NOTIFY_RECEIVE], 1, "delivered more than once");
  cr_assert_eq (h.other_server->counts[C_NOTIFY_SEND], sends_before);
  g_object_unref (h.other_client);
  g_object_unref (h.other_server);
}

Test (socket_own_setup, blocking_connect_succeeds_and_reports_refusal_as_an_error, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (CSocket) socket = c_socket_new ();
  g_autoptr (CSocket) refused = c_socket_new ();
  g_autoptr (GError) error = NULL;
  int connects = 0;

  g_signal_connect (socket, "connect", G_CALLBACK (count_int), &connects);
  cr_assert (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_socket_connect (socket, "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  cr_assert (c_async_socket_is_connected (S (socket)));
  drain_context ();
  cr_assert_eq (connects, 0, "on_connect delivered for a blocking connect");

  g_object_unref (g_steal_pointer (&listener)); /* nobody listens any more */
  cr_assert (c_async_socket_create (S (refused), 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert_not (c_socket_connect (refused, "127.0.0.1", port, &error));
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED), "%s",
             error->message);
  g_autofree char *expected = g_strdup_printf ("connect to 127.0.0.1:%u: Connection refused", port);
  cr_assert_str_eq (error->message, expected);
}

typedef struct
{
  guint port;
  CAsyncSocket *client;
} LateConnect;

static gboolean
connect_later (gpointer data)
{
  LateConnect *late = data;
  late->client = C_ASYNC_SOCKET (test_socket_new ());
  cr_assert (c_async_socket_create (late->client, 0, C_SOCK_STREAM, C_FD_ALL, NULL, NULL));
  cr_assert (c_async_socket_connect (late->client, "127.0.0.1", late->port, NULL));
  return G_SOURCE_REMOVE;
}

Test (socket_own_setup, blocking_accept_waits_for_a_connection, .timeout = 30)
{
  g_autoptr (CSocket) listener = c_socket_new ();
  g_autoptr (CSocket) accepted = c_socket_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  LateConnect late = { 0 };

  cr_assert (c_async_socket_create (S (listener), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", NULL));
  cr_assert (c_async_socket_listen (S (listener), 5, NULL));
  cr_assert (c_async_socket_get_sock_name (S (listener), NULL, &late.port, NULL));
  g_timeout_add (20, connect_later, &late);
  cr_assert (c_socket_accept (listener, S (accepted), &address, &error), "%s",
             error ? error->message : "");
  cr_assert (G_IS_INET_SOCKET_ADDRESS (address));
  cr_assert (c_async_socket_is_connected (S (accepted)));
  g_clear_object (&late.client);
}

/* A reader driven by a timer (timers keep running during a blocking call). */
static gboolean
timer_reads (gpointer data)
{
  Fixture *f = data;
  guint8 buffer[65536];
  gssize n;

  while ((n = c_async_socket_receive (S (f->peer), buffer, sizeof buffer, 0, NULL)) > 0)
    g_byte_array_append (f->peer->received, buffer, (guint) n);
  return G_SOURCE_CONTINUE;
}

static gboolean
peer_has_all (gpointer data)
{
  return ((Fixture *) data)->peer->received->len >= 8 << 20;
}

Test (socket, blocking_send_sends_everything, .timeout = 60)
{
  const gsize size = 8 << 20;
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr (GError) error = NULL;
  guint id;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  id = g_timeout_add (1, timer_reads, &f);
  cr_assert_eq (c_socket_send (f.socket, data, size, 0, &error), (gssize) size, "%s",
                error ? error->message : "");
  cr_assert (run_until (peer_has_all, &f));
  g_source_remove (id);
  cr_assert_eq (memcmp (f.peer->received->data, data, size), 0);
}

/* A thread whose context runs no main loop: the calls still work, as plain blocking ones. */
typedef struct
{
  guint port;
  char reply[16];
  GError *error;
} ThreadJob;

static gpointer
blocking_client_thread (gpointer data)
{
  ThreadJob *job = data;
  GMainContext *context = g_main_context_new ();
  CSocket *socket;

  g_main_context_push_thread_default (context);
  socket = c_socket_new ();
  if (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &job->error)
      && c_socket_connect (socket, "127.0.0.1", job->port, &job->error)
      && c_socket_send (socket, "ping", 4, 0, &job->error) == 4)
    c_socket_receive (socket, job->reply, sizeof job->reply - 1, 0, &job->error);
  g_object_unref (socket);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

Test (socket_own_setup, works_on_a_thread_without_a_running_main_loop, .timeout = 30)
{
  ThreadJob job = { 0 };
  g_autoptr (TestSocket) listener = make_listener (NULL, &job.port);
  g_autoptr (TestSocket) server = test_socket_new ();
  GThread *thread;

  server->hook = echo_hook;
  thread = g_thread_new ("blocking client", blocking_client_thread, &job);
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, NULL));
  cr_assert (run_until_count (server, C_NOTIFY_RECEIVE, 1));
  g_thread_join (thread);
  cr_assert_null (job.error, "%s", job.error ? job.error->message : "");
  cr_assert_str_eq (job.reply, "ping");
}

/* A blocking call made inside another socket's notification. */
typedef struct
{
  Fixture *f;
  char got[16];
  gboolean done;
} InsideJob;

static void
peer_answers (gpointer data)
{
  peer_sends (data, "answer");
}

static void
block_inside_on_receive (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  InsideJob *job = data;

  if (which != C_NOTIFY_RECEIVE || job->done)
    return;
  c_async_socket_receive (S (socket), job->got, sizeof job->got, 0, NULL);
  /* Ask the peer for more from a timer, then wait for it inside this notification. */
  g_timeout_add_once (10, peer_answers, job->f);
  memset (job->got, 0, sizeof job->got);
  c_socket_receive (job->f->socket, job->got, sizeof job->got - 1, 0, NULL);
  job->done = TRUE;
}

Test (socket, blocking_call_inside_a_notification, .timeout = 30)
{
  InsideJob job = { &f };
  TestSocket *a, *b;

  make_pair (f.listener, "127.0.0.1", f.port, &a, &b);
  b->hook = block_inside_on_receive;
  b->hook_data = &job;
  cr_assert_eq (c_async_socket_send (S (a), "q", 1, 0, NULL), 1);
  cr_assert (run_until_flag (&job.done));
  cr_assert_str_eq (job.got, "answer");
  g_object_unref (a);
  g_object_unref (b);
}

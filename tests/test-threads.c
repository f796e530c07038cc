/* test-threads.c: sockets, main contexts and threads (docs/internals.md, "Threads and
 * contexts")
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Criterion's assertions must run on the test's own thread, so the worker threads here
 * record the first failed check in a Worker and the test thread asserts on it after the join.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "test-util.h"

typedef struct
{
  GThread *thread;
  GMainContext *context;
  gpointer reactor;
  char *failure;         /* the first failed check, NULL if all passed */
  gboolean wrong_thread; /* a notification arrived on another thread */
  int notifications;
} Worker;

#define CHECK(worker, condition, ...)                                                              \
  do                                                                                               \
    {                                                                                              \
      if (!(condition))                                                                            \
        {                                                                                          \
          if ((worker)->failure == NULL)                                                           \
            (worker)->failure = g_strdup_printf (__VA_ARGS__);                                     \
          goto out;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

#define ERROR_TEXT(error) ((error) != NULL ? (error)->message : "")

/* Hook for every socket of a worker: counts notifications and checks they run on the
 * worker's own thread. */
static void
on_worker_thread (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Worker *worker = data;

  worker->notifications++;
  if (g_thread_self () != worker->thread)
    worker->wrong_thread = TRUE;
}

static TestSocket *
worker_socket (Worker *worker)
{
  TestSocket *socket = test_socket_new ();
  socket->hook = on_worker_thread;
  socket->hook_data = worker;
  return socket;
}

static void
assert_worker_passed (Worker *worker, const char *name)
{
  cr_assert_null (worker->failure, "%s thread: %s", name, worker->failure);
  cr_assert_not (worker->wrong_thread, "%s thread: a notification ran on another thread", name);
}

/* Makes a listener and one connected pair on the calling thread's default context, without
 * Criterion's assertions. */
static gboolean
worker_pair (Worker *worker, TestSocket **listener, TestSocket **client, TestSocket **server)
{
  g_autoptr (GError) error = NULL;
  guint port = 0;

  *listener = worker_socket (worker);
  *client = worker_socket (worker);
  *server = worker_socket (worker);
  CHECK (worker,
         c_async_socket_create (S (*listener), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error),
         "create listener: %s", ERROR_TEXT (error));
  CHECK (worker, c_async_socket_listen (S (*listener), 0, &error), "listen: %s",
         ERROR_TEXT (error));
  CHECK (worker, c_async_socket_get_sock_name (S (*listener), NULL, &port, &error),
         "get_sock_name: %s", ERROR_TEXT (error));
  CHECK (worker,
         c_async_socket_create (S (*client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error),
         "create client: %s", ERROR_TEXT (error));
  CHECK (worker, c_async_socket_connect (S (*client), "127.0.0.1", port, &error), "connect: %s",
         ERROR_TEXT (error));
  CHECK (worker, run_until_count (*listener, C_NOTIFY_ACCEPT, 1), "no on_accept");
  CHECK (worker, c_async_socket_accept (S (*listener), S (*server), NULL, &error), "accept: %s",
         ERROR_TEXT (error));
  CHECK (worker, run_until_count (*client, C_NOTIFY_CONNECT, 1), "no on_connect");
  CHECK (worker, (*client)->errors[C_NOTIFY_CONNECT] == 0, "connect failed: %s",
         g_strerror ((*client)->errors[C_NOTIFY_CONNECT]));
  CHECK (worker, run_until_count (*server, C_NOTIFY_SEND, 1), "no on_send on the server");
  return TRUE;
out:
  return FALSE;
}

static void
worker_begin (Worker *worker)
{
  worker->thread = g_thread_self ();
  worker->context = g_main_context_new ();
  g_main_context_push_thread_default (worker->context);
}

static void
worker_end (Worker *worker)
{
  g_main_context_pop_thread_default (worker->context);
}

static void
worker_clear (Worker *worker)
{
  g_clear_pointer (&worker->context, g_main_context_unref);
  g_clear_pointer (&worker->failure, g_free);
}

/* ---- Ownership at construction ----------------------------------------------------------- */

static gpointer
serve_on_own_context (gpointer data)
{
  Worker *worker = data;
  TestSocket *listener = NULL, *client = NULL, *server = NULL;
  GMainContext *property = NULL;
  char buffer[8] = { 0 };

  worker_begin (worker);
  if (!worker_pair (worker, &listener, &client, &server))
    goto out;
  CHECK (worker, c_async_socket_get_context (S (server)) == worker->context,
         "the accepted socket is not on the thread-default context");
  CHECK (worker, c_async_socket_get_context (S (client)) == worker->context,
         "the client is not on the thread-default context");
  g_object_get (client, "context", &property, NULL);
  CHECK (worker, property == worker->context, "the context property is another context");

  CHECK (worker, c_async_socket_send (S (client), "hello", 5, 0, NULL) == 5, "send failed");
  /* The data is in the kernel's queue, but iterating another context delivers nothing. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (g_main_context_default (), FALSE);
  CHECK (worker, server->counts[C_NOTIFY_RECEIVE] == 0,
         "on_receive delivered by the global default context");
  CHECK (worker, run_until_count (server, C_NOTIFY_RECEIVE, 1),
         "on_receive never came on the socket's own context");
  CHECK (worker, c_async_socket_receive (S (server), buffer, sizeof buffer, 0, NULL) == 5,
         "receive failed");
  CHECK (worker, strcmp (buffer, "hello") == 0, "received '%s'", buffer);
out:
  g_clear_pointer (&property, g_main_context_unref);
  g_clear_object (&client);
  g_clear_object (&server);
  g_clear_object (&listener);
  worker_end (worker);
  return NULL;
}

Test (threads, socket_belongs_to_the_thread_default_context_at_construction, .timeout = 30)
{
  Worker worker = { 0 };
  g_autoptr (TestSocket) here = test_socket_new ();
  GMainContext *other = g_main_context_new ();
  TestSocket *made_while_pushed;

  /* On this thread, with nothing pushed, the global default context owns new sockets. */
  cr_assert (c_async_socket_get_context (S (here)) == g_main_context_default ());

  /* A socket made while a context is pushed keeps it after the pop. */
  g_main_context_push_thread_default (other);
  made_while_pushed = test_socket_new ();
  g_main_context_pop_thread_default (other);
  cr_assert (c_async_socket_get_context (S (made_while_pushed)) == other);
  g_object_unref (made_while_pushed);
  g_main_context_unref (other);

  g_thread_join (g_thread_new ("own-context", serve_on_own_context, &worker));
  assert_worker_passed (&worker, "own-context");
  cr_assert_gt (worker.notifications, 0);
  worker_clear (&worker);
}

/* ---- The context property ---------------------------------------------------------------- */

static gboolean
run_context_until_count (GMainContext *context, TestSocket *socket, CNotify which, int n)
{
  gboolean reached;

  g_main_context_push_thread_default (context);
  reached = run_until_count (socket, which, n);
  g_main_context_pop_thread_default (context);
  return reached;
}

Test (threads, context_property_chooses_where_notifications_arrive, .timeout = 30)
{
  guint port;
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  g_autoptr (TestSocket) client = g_object_new (TEST_TYPE_SOCKET, "context", context, NULL);
  g_autoptr (TestSocket) server = test_socket_new ();
  g_autoptr (GMainContext) property = NULL;
  g_autoptr (GError) error = NULL;
  char byte;

  g_object_get (client, "context", &property, NULL);
  cr_assert (property == context);
  cr_assert (c_async_socket_get_context (S (client)) == context);

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error));
  cr_assert (run_until_count (server, C_NOTIFY_SEND, 1));
  /* The server's context (the default) ran: nothing of the client's came with it. */
  for (int i = 0; i < 5; i++)
    drain_context ();
  cr_assert_eq (test_socket_total (client), 0, "the client was notified by the default context");
  cr_assert_neq (c_async_socket_get_private (S (client))->reactor,
                 c_async_socket_get_private (S (server))->reactor,
                 "two contexts share one reactor");

  cr_assert (run_context_until_count (context, client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CONNECT], 0);
  cr_assert (run_context_until_count (context, client, C_NOTIFY_SEND, 1));

  cr_assert_eq (c_async_socket_send (S (server), "x", 1, 0, &error), 1);
  for (int i = 0; i < 5; i++)
    drain_context ();
  cr_assert_eq (client->counts[C_NOTIFY_RECEIVE], 0);
  cr_assert (run_context_until_count (context, client, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive (S (client), &byte, 1, 0, &error), 1);
  cr_assert_eq (byte, 'x');
}

/* ---- Detach on one thread, attach on another -------------------------------------------- */

typedef struct
{
  Worker worker;
  int fd;
  GAsyncQueue *to_main;   /* "attached", "replied" */
  GAsyncQueue *to_worker; /* "go-on" */
  int worker_map_before;  /* what from_handle said on the worker before the attach */
} Handover;

#define QUEUE_WAIT_US (TEST_DEADLINE_MS * (gint64) 1000)

static gpointer
adopt_connection (gpointer data)
{
  Handover *h = data;
  Worker *worker = &h->worker;
  TestSocket *moved = NULL;
  g_autoptr (GError) error = NULL;
  char buffer[8] = { 0 };

  worker_begin (worker);
  h->worker_map_before = c_async_socket_from_handle (h->fd) != NULL;
  moved = worker_socket (worker);
  CHECK (worker, c_async_socket_attach (S (moved), h->fd, C_FD_ALL, &error), "attach: %s",
         ERROR_TEXT (error));
  CHECK (worker, c_async_socket_from_handle (h->fd) == S (moved),
         "from_handle on the new thread does not find the attached socket");
  CHECK (worker, c_async_socket_get_context (S (moved)) == worker->context,
         "the attached socket is not on the new thread's context");
  worker->reactor = c_async_socket_get_private (S (moved))->reactor;
  CHECK (worker, c_async_socket_is_connected (S (moved)), "attached connection not connected");
  CHECK (worker, run_until_count (moved, C_NOTIFY_SEND, 1), "no on_send after attach");
  g_async_queue_push (h->to_main, "attached");

  CHECK (worker, run_until_count (moved, C_NOTIFY_RECEIVE, 1), "the ping never arrived");
  CHECK (worker, c_async_socket_receive (S (moved), buffer, sizeof buffer, 0, &error) == 4,
         "receive: %s", ERROR_TEXT (error));
  CHECK (worker, memcmp (buffer, "ping", 4) == 0, "received '%s'", buffer);
  CHECK (worker, c_async_socket_send (S (moved), "pong", 4, 0, &error) == 4, "send: %s",
         ERROR_TEXT (error));
  g_async_queue_push (h->to_main, "replied");

  CHECK (worker, g_async_queue_timeout_pop (h->to_worker, QUEUE_WAIT_US) != NULL,
         "the test thread never said to go on");
  c_async_socket_close (S (moved));
out:
  if (worker->failure != NULL)
    g_async_queue_push (h->to_main, "failed");
  g_clear_object (&moved);
  worker_end (worker);
  return NULL;
}

Test (threads, detach_on_one_thread_and_attach_on_another, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client, *server;
  Handover h = { 0 };
  GThread *thread;
  char buffer[8] = { 0 };
  const char *message;
  int server_count;

  make_pair (listener, "127.0.0.1", port, &client, &server);
  cr_assert_eq (c_async_socket_send (S (client), "warm", 4, 0, NULL), 4);
  cr_assert (run_until_count (server, C_NOTIFY_RECEIVE, 1));
  cr_assert_eq (c_async_socket_receive (S (server), buffer, sizeof buffer, 0, NULL), 4);

  h.fd = c_async_socket_detach (S (server));
  cr_assert_geq (h.fd, 0);
  cr_assert_null (c_async_socket_from_handle (h.fd));
  server_count = test_socket_total (server);
  h.to_main = g_async_queue_new ();
  h.to_worker = g_async_queue_new ();
  thread = g_thread_new ("adopter", adopt_connection, &h);

  message = g_async_queue_timeout_pop (h.to_main, QUEUE_WAIT_US);
  if (g_strcmp0 (message, "attached") != 0)
    {
      g_thread_join (thread);
      assert_worker_passed (&h.worker, "adopter");
      cr_assert_fail ("the adopting thread did not attach (%s)", message ? message : "timeout");
    }
  /* Each thread has its own map: this one does not know the descriptor any more. */
  cr_assert_null (c_async_socket_from_handle (h.fd), "from_handle found it on the first thread");
  cr_assert_not (h.worker_map_before, "the new thread's map knew the descriptor before attach");

  /* The connection keeps working, now served by the other thread's context. */
  cr_assert_eq (c_async_socket_send (S (client), "ping", 4, 0, NULL), 4);
  message = g_async_queue_timeout_pop (h.to_main, QUEUE_WAIT_US);
  if (g_strcmp0 (message, "replied") != 0)
    {
      g_async_queue_push (h.to_worker, "stop");
      g_thread_join (thread);
      assert_worker_passed (&h.worker, "adopter");
      cr_assert_fail ("the adopting thread did not reply (%s)", message ? message : "timeout");
    }
  cr_assert (run_until_count (client, C_NOTIFY_RECEIVE, 1));
  memset (buffer, 0, sizeof buffer);
  cr_assert_eq (c_async_socket_receive (S (client), buffer, sizeof buffer, 0, NULL), 4);
  cr_assert_str_eq (buffer, "pong");
  cr_assert_neq (h.worker.reactor, c_async_socket_get_private (S (client))->reactor,
                 "the attached socket uses the first thread's reactor");

  /* The other thread closes it; this side sees the graceful close. */
  g_async_queue_push (h.to_worker, "go-on");
  g_thread_join (thread);
  assert_worker_passed (&h.worker, "adopter");
  cr_assert (run_until_count (client, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (client->errors[C_NOTIFY_CLOSE], 0);
  drain_context ();
  cr_assert_eq (test_socket_total (server), server_count, "the detached object was notified");
  cr_assert_gt (h.worker.notifications, 0);

  g_async_queue_unref (h.to_main);
  g_async_queue_unref (h.to_worker);
  worker_clear (&h.worker);
  g_object_unref (client);
  g_object_unref (server);
}

/* ---- Two reactors at once ---------------------------------------------------------------- */

#define N_PAIRS 4
#define N_ROUNDS 200

typedef struct
{
  GMutex lock;
  GCond cond;
  int halfway; /* workers that reached the middle of their rounds */
} Rendezvous;

typedef struct
{
  Worker worker;
  Rendezvous *rendezvous;
  int rounds_done;
  TestSocket *clients[N_PAIRS];
} Server;

static gboolean
is_client (Server *s, TestSocket *socket)
{
  for (int i = 0; i < N_PAIRS; i++)
    if (s->clients[i] == socket)
      return TRUE;
  return FALSE;
}

/* The servers echo what they receive; the clients count each echo as a round trip and
 * start the next one. */
static void
echo_or_count (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Server *s = data;
  char buffer[64];
  gssize n;

  on_worker_thread (socket, which, error_code, &s->worker);
  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);
  if (n <= 0)
    return;
  if (is_client (s, socket))
    {
      s->rounds_done++;
      if (s->rounds_done + N_PAIRS <= N_ROUNDS)
        c_async_socket_send (S (socket), buffer, (gsize) n, 0, NULL);
    }
  else
    c_async_socket_send (S (socket), buffer, (gsize) n, 0, NULL);
}

static gboolean
halfway_reached (gpointer data)
{
  return ((Server *) data)->rounds_done >= N_ROUNDS / 2;
}

static gboolean
all_rounds_done (gpointer data)
{
  return ((Server *) data)->rounds_done >= N_ROUNDS;
}

/* Both threads must be serving at the same time: each waits, at its halfway point, for the
 * other to get there too. */
static gboolean
meet_halfway (Rendezvous *r)
{
  gint64 deadline = g_get_monotonic_time () + QUEUE_WAIT_US;
  gboolean met = TRUE;

  g_mutex_lock (&r->lock);
  r->halfway++;
  g_cond_broadcast (&r->cond);
  while (r->halfway < 2 && met)
    met = g_cond_wait_until (&r->cond, &r->lock, deadline);
  g_mutex_unlock (&r->lock);
  return met;
}

static gpointer
serve_pairs (gpointer data)
{
  Server *s = data;
  Worker *worker = &s->worker;
  TestSocket *listener = NULL, **clients = s->clients, *servers[N_PAIRS] = { NULL };

  worker_begin (worker);
  for (int i = 0; i < N_PAIRS; i++)
    {
      TestSocket *l = NULL;
      gboolean ok = worker_pair (worker, &l, &clients[i], &servers[i]);
      if (listener == NULL)
        listener = g_steal_pointer (&l);
      g_clear_object (&l);
      if (!ok)
        goto out;
      clients[i]->hook = servers[i]->hook = echo_or_count;
      clients[i]->hook_data = servers[i]->hook_data = s;
    }
  worker->reactor = c_async_socket_get_private (S (clients[0]))->reactor;

  for (int i = 0; i < N_PAIRS; i++)
    CHECK (worker, c_async_socket_send (S (clients[i]), "round", 5, 0, NULL) == 5, "send failed");
  CHECK (worker, run_until (halfway_reached, s), "stuck at %d round trips", s->rounds_done);
  CHECK (worker, meet_halfway (s->rendezvous), "the other thread never got halfway");
  CHECK (worker, run_until (all_rounds_done, s), "stuck at %d round trips", s->rounds_done);
out:
  for (int i = 0; i < N_PAIRS; i++)
    {
      g_clear_object (&clients[i]);
      g_clear_object (&servers[i]);
    }
  g_clear_object (&listener);
  worker_end (worker);
  return NULL;
}

Test (threads, two_threads_with_their_own_reactors_serve_concurrently, .timeout = 60)
{
  Rendezvous rendezvous = { 0 };
  Server a = { .rendezvous = &rendezvous }, b = { .rendezvous = &rendezvous };
  GThread *ta, *tb;

  g_mutex_init (&rendezvous.lock);
  g_cond_init (&rendezvous.cond);
  ta = g_thread_new ("server-a", serve_pairs, &a);
  tb = g_thread_new ("server-b", serve_pairs, &b);
  g_thread_join (ta);
  g_thread_join (tb);
  g_mutex_clear (&rendezvous.lock);
  g_cond_clear (&rendezvous.cond);

  assert_worker_passed (&a.worker, "server-a");
  assert_worker_passed (&b.worker, "server-b");
  cr_assert_eq (rendezvous.halfway, 2);
  cr_assert_geq (a.rounds_done, N_ROUNDS);
  cr_assert_geq (b.rounds_done, N_ROUNDS);
  cr_assert_neq (a.worker.reactor, b.worker.reactor, "the two contexts share a reactor");
  cr_assert_neq (a.worker.context, b.worker.context);
  cr_assert_gt (a.worker.notifications, N_ROUNDS * 2);
  cr_assert_gt (b.worker.notifications, N_ROUNDS * 2);
  worker_clear (&a.worker);
  worker_clear (&b.worker);
}

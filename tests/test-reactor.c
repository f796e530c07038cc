/* test-reactor.c: the context's poll function (src/c-reactor.c, reactor_poll)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When a context watches nothing but the reactor, it sleeps in the reactor's own epoll_wait
 * and the dispatch uses the events found there. These tests check that this path is taken
 * (the reactor counts its direct waits), that everything a context must still do works on
 * it (wake-ups from other threads, timers, other descriptors, nested iterations), and that a
 * context with the application's own poll function is left alone.
 */
#include <criterion/criterion.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

static gboolean
received_at_least (gpointer data)
{
  TestSocket *socket = data;
  return socket->received->len >= GPOINTER_TO_UINT (g_object_get_data (data, "expected"));
}

/* Round trips through an echoing server end; returns how many came back whole. */
static int
round_trips (Pair *p, int n)
{
  guint before = p->client->received->len;
  int done = 0;

  p->server->hook = echo_hook;
  p->client->read_on_receive = TRUE;
  for (int i = 0; i < n; i++)
    {
      send_text (p->client, "ping");
      g_object_set_data (G_OBJECT (p->client), "expected", GUINT_TO_POINTER (before + 4 * (i + 1)));
      if (!run_until (received_at_least, p->client))
        break;
      done++;
    }
  return done;
}

Test (reactor, a_context_with_only_sockets_sleeps_in_the_reactors_epoll_wait, .timeout = 30)
{
  Pair p;
  guint waits;

  pair_open (&p);
  waits = c_reactor_get_direct_wait_count (reactor_of (p.server));
  cr_assert_eq (round_trips (&p, 50), 50);
  waits = c_reactor_get_direct_wait_count (reactor_of (p.server)) - waits;
  /* Each round trip needs the context to wait at least once. */
  cr_assert_geq (waits, 50, "only %u direct waits for 50 round trips", waits);
  cr_assert_eq (p.client->received->len, 200);
  pair_close (&p);
}

/* ---- Wake-ups from another thread ------------------------------------------------------- */

#define N_WAKE_UPS 50

typedef struct
{
  GMainContext *context;
  GMutex lock;
  GCond cond;
  int dispatched;
} WakeUps;

static gboolean
count_dispatch (gpointer data)
{
  WakeUps *w = data;

  g_mutex_lock (&w->lock);
  w->dispatched++;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  return G_SOURCE_REMOVE;
}

/* Attaches idle sources one at a time, each after the last one ran: most are attached
 * while the test thread sleeps, and only the context's wake-up can end that sleep. */
static gpointer
attach_idles (gpointer data)
{
  WakeUps *w = data;

  for (int i = 0; i < N_WAKE_UPS; i++)
    {
      GSource *idle = g_idle_source_new ();
      g_source_set_callback (idle, count_dispatch, w, NULL);
      g_source_attach (idle, w->context);
      g_source_unref (idle);
      g_mutex_lock (&w->lock);
      while (w->dispatched <= i)
        g_cond_wait (&w->cond, &w->lock);
      g_mutex_unlock (&w->lock);
    }
  return NULL;
}

static gboolean
all_woken (gpointer data)
{
  WakeUps *w = data;
  gboolean done;

  g_mutex_lock (&w->lock);
  done = w->dispatched == N_WAKE_UPS;
  g_mutex_unlock (&w->lock);
  return done;
}

Test (reactor, another_thread_wakes_a_context_asleep_in_epoll_wait, .timeout = 30)
{
  Pair p;
  WakeUps w = { .context = g_main_context_default () };
  GThread *thread;
  guint waits;

  pair_open (&p);
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  waits = c_reactor_get_direct_wait_count (reactor_of (p.server));
  thread = g_thread_new ("wake-ups", attach_idles, &w);
  cr_assert (run_until (all_woken, &w), "%d of %d idle sources ran", w.dispatched, N_WAKE_UPS);
  g_thread_join (thread);
  waits = c_reactor_get_direct_wait_count (reactor_of (p.server)) - waits;
  cr_assert_gt (waits, 0, "the context never slept in the reactor");

  /* And the sockets still work after all those wake-ups. */
  cr_assert_eq (round_trips (&p, 5), 5);
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
  pair_close (&p);
}

/* ---- Other descriptors on the context --------------------------------------------------- */

static gboolean
pipe_readable (gint fd, GIOCondition condition, gpointer data)
{
  char byte;

  if (read (fd, &byte, 1) == 1)
    (*(int *) data)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
pipe_read_once (gpointer data)
{
  return *(int *) data >= 1;
}

Test (reactor, other_descriptors_on_the_context_go_through_g_poll, .timeout = 30)
{
  Pair p;
  int fds[2], reads = 0;
  guint source, waits;

  pair_open (&p);
  cr_assert_eq (pipe (fds), 0);
  source = g_unix_fd_add (fds[0], G_IO_IN, pipe_readable, &reads);
  waits = c_reactor_get_direct_wait_count (reactor_of (p.server));

  /* Sockets and the other descriptor both work while it is watched ... */
  cr_assert_eq (round_trips (&p, 20), 20);
  cr_assert_eq (write (fds[1], "x", 1), 1);
  cr_assert (run_until (pipe_read_once, &reads));
  /* ... and the context never slept in the reactor meanwhile: it polls three descriptors. */
  cr_assert_eq (c_reactor_get_direct_wait_count (reactor_of (p.server)), waits);

  /* Once it is gone, the direct path comes back. */
  g_source_remove (source);
  cr_assert_eq (round_trips (&p, 5), 5);
  cr_assert_gt (c_reactor_get_direct_wait_count (reactor_of (p.server)), waits);
  close (fds[0]);
  close (fds[1]);
  pair_close (&p);
}

/* ---- Nested iterations ------------------------------------------------------------------ */

typedef struct
{
  Pair *second;
  gboolean nested_done;
} Nesting;

/* On the first pair's on_receive, runs the context until the second pair has echoed a
 * message: events of the outer batch and of the nested iterations must all arrive. */
static void
nest_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Nesting *n = data;
  char buffer[16];

  if (which != C_NOTIFY_RECEIVE || n->nested_done)
    return;
  c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);
  n->nested_done = round_trips (n->second, 3) == 3;
}

Test (reactor, a_context_run_again_from_a_notification_still_gets_every_event, .timeout = 30)
{
  Pair first, second;
  Nesting n = { &second, FALSE };

  pair_open (&first);
  pair_open (&second);
  first.server->hook = nest_hook;
  first.server->hook_data = &n;
  send_text (first.client, "go");
  cr_assert (run_until_flag (&n.nested_done));
  cr_assert_eq (second.client->received->len, 12);
  first.server->hook = NULL;
  cr_assert_eq (round_trips (&first, 3), 3);
  pair_close (&second);
  pair_close (&first);
}

/* ---- The application's own poll function ------------------------------------------------ */

static int own_poll_calls;

static gint
own_poll (GPollFD *fds, guint nfds, gint timeout)
{
  own_poll_calls++;
  return g_poll (fds, nfds, timeout);
}

Test (reactor, an_applications_own_poll_function_is_kept, .timeout = 30)
{
  GMainContext *context = g_main_context_new ();
  Pair p;

  g_main_context_set_poll_func (context, own_poll);
  g_main_context_push_thread_default (context);
  pair_open (&p);
  cr_assert_eq (round_trips (&p, 10), 10);
  cr_assert_eq ((gpointer) g_main_context_get_poll_func (context), (gpointer) own_poll);
  cr_assert_gt (own_poll_calls, 0);
  cr_assert_eq (c_reactor_get_direct_wait_count (reactor_of (p.server)), 0);
  pair_close (&p);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

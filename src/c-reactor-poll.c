/* c-reactor-poll.c: the context's poll function, which sleeps in the reactor's epoll_wait
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "c-reactor-internal.h"

/*
 * With GLib's own poll function every wake-up costs two system calls: the context sleeps in
 * poll() on the reactor's epoll descriptor (and its wake-up descriptor), then the dispatch
 * asks epoll_wait which sockets are ready. When the context has nothing else to watch, this
 * poll function sleeps in epoll_wait on the reactor's instance directly, with the wake-up
 * descriptor added to it, and hands the events to the dispatch: one system call per
 * wake-up, as a hand-written epoll loop makes.
 *
 * It is installed only on a context that still has GLib's poll function, and takes the
 * direct path only when the context polls exactly two descriptors, the reactor's and one
 * other. GLib always watches its wake-up descriptor at the default priority, the reactor's
 * priority, so that other one can only be the wake-up descriptor; it is checked once to be
 * an eventfd all the same. Anything else (more descriptors, a nested iteration from inside a
 * dispatch, a context whose poll function the application replaced) goes through g_poll(),
 * and the dispatch then asks epoll_wait as before. */

static gboolean
is_eventfd (int fd)
{
  char path[32], target[64];
  ssize_t n;

  g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  n = readlink (path, target, sizeof target - 1);
  if (n < 0)
    return FALSE;
  target[n] = '\0';
  return strcmp (target, "anon_inode:[eventfd]") == 0;
}

/* Whether the reactor may wait directly with @wake_up (the other descriptor) added to its
 * epoll instance; adds it on first use. */
static gboolean
watch_wake_up (CReactor *reactor, const GPollFD *wake_up)
{
  struct epoll_event event = { 0 };

  if (wake_up->fd == reactor->wake_up_fd)
    return TRUE;
  if (reactor->wake_up_fd >= 0 || wake_up->events != G_IO_IN || !is_eventfd (wake_up->fd))
    {
      /* Not the one wake-up descriptor a context has for its life: leave the context to
       * GLib from now on. */
      reactor->direct_wait = FALSE;
      if (reactor->wake_up_fd >= 0)
        epoll_ctl (reactor->epoll_fd, EPOLL_CTL_DEL, reactor->wake_up_fd, NULL);
      reactor->wake_up_fd = -1;
      return FALSE;
    }
  /* Level-triggered: it stays ready until GLib's check reads it. */
  event.events = EPOLLIN;
  event.data.u64 = C_REACTOR_WAKE_UP_DATA;
  if (epoll_ctl (reactor->epoll_fd, EPOLL_CTL_ADD, wake_up->fd, &event) < 0)
    {
      reactor->direct_wait = FALSE;
      return FALSE;
    }
  reactor->wake_up_fd = wake_up->fd;
  return TRUE;
}

/* Waits in epoll_wait, appending to the events not yet dispatched (a higher-priority source
 * may have been dispatched in their place), and reports the reactor's and the wake-up
 * descriptor's readiness the way poll() would. */
static int
wait_directly (CReactor *reactor, GPollFD *ours, GPollFD *wake_up, int timeout)
{
  int room = C_REACTOR_BATCH - reactor->n_waiting;
  struct epoll_event *events = reactor->events + reactor->n_waiting;
  int n, kept = 0;

  if (reactor->n_waiting > 0)
    timeout = 0;
  n = room > 0 ? epoll_wait (reactor->epoll_fd, events, room, timeout) : 0;
  if (n < 0)
    return -1;
  reactor->direct_wait_count++;
  wake_up->revents = 0;
  for (int i = 0; i < n; i++)
    {
      if (events[i].data.u64 == C_REACTOR_WAKE_UP_DATA)
        wake_up->revents = G_IO_IN;
      else
        events[kept++] = events[i];
    }
  reactor->n_waiting += kept;
  ours->revents = reactor->n_waiting > 0 ? G_IO_IN : 0;
  return (ours->revents != 0) + (wake_up->revents != 0);
}

/* The reactor this thread polled last, so that the next poll finds it without the lock. A
 * reactor belongs to its context's thread, which is the one that polls it and the only one
 * that may destroy it (its sockets are closed there); any reactor's destruction bumps
 * reactors_generation, which empties every thread's cache. */
typedef struct
{
  CReactor *reactor;
  int epoll_fd;
  gint generation;
} PollCache;

static _Thread_local PollCache poll_cache;

static CReactor *
find_polled_reactor (const GPollFD *fds, guint *mine)
{
  gint generation = c_reactor_registry_generation ();
  CReactor *reactor = NULL;

  /* GLib lists its wake-up descriptor first: look at the second one first. */
  if (poll_cache.reactor != NULL && poll_cache.generation == generation)
    for (int i = 1; i >= 0; i--)
      if (fds[i].fd == poll_cache.epoll_fd)
        {
          *mine = (guint) i;
          return poll_cache.reactor;
        }

  for (int i = 1; i >= 0 && reactor == NULL; i--)
    {
      reactor = c_reactor_lookup_epoll (fds[i].fd, &generation);
      *mine = (guint) i;
    }
  if (reactor != NULL)
    poll_cache = (PollCache){ reactor, reactor->epoll_fd, generation };
  return reactor;
}

static gint
reactor_poll (GPollFD *fds, guint nfds, gint timeout)
{
  CReactor *reactor = NULL;
  guint mine = 0;

  if (nfds == 2)
    reactor = find_polled_reactor (fds, &mine);
  /* The dispatch of a notification may run the context again (CSocket): the outer batch is
   * still being delivered from events[], so nested iterations use g_poll(). */
  if (reactor == NULL || !reactor->direct_wait || reactor->dispatch_depth > 0
      || !watch_wake_up (reactor, &fds[1 - mine]))
    return g_poll (fds, nfds, timeout);
  return wait_directly (reactor, &fds[mine], &fds[1 - mine], timeout);
}

void
c_reactor_install_poll_function (CReactor *reactor, GMainContext *context)
{
  GPollFunc current = g_main_context_get_poll_func (context);

  if (current != g_poll && current != reactor_poll)
    return; /* the application's own: leave it */
  reactor->direct_wait = TRUE;
  if (current == g_poll)
    g_main_context_set_poll_func (context, reactor_poll);
}

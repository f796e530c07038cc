/* c-reactor.c: the epoll reactor: one epoll instance per GMainContext, as a single GSource
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib's usual pattern, one GSource per socket, makes every main-loop iteration walk every
 * open socket in prepare/check/poll. A server with 10,000 idle connections then pays for
 * all of them on each message. The reactor instead gives the context a single descriptor,
 * an epoll instance, and asks the kernel which sockets are ready: the cost of an iteration
 * follows the number of ready sockets, not the number of open ones.
 *
 * Every socket is registered once, edge-triggered, for input, output, urgent data and
 * hang-up. The interest set never changes while the socket lives, so no system call is
 * made per event beyond epoll_wait and the I/O itself. The MFC rule "no new on_receive
 * until receive is called" is kept in user space by the socket's own state (see
 * c-async-socket-events.c), not by rewriting the epoll interest.
 *
 * Events name their registration by slot index and generation, never by pointer: when a
 * notification closes a socket whose event is later in the same batch, or a new socket
 * reuses its descriptor and its slot, the stale event fails the generation check and is
 * dropped. That is how a reused fd never receives a dead socket's events.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "c-reactor-internal.h"

static GMutex reactors_lock;
static GHashTable *reactors;          /* GMainContext* → CReactor* */
static GHashTable *reactors_by_epoll; /* epoll descriptor → CReactor*, for the poll function */
static gint reactors_generation;      /* bumped whenever a reactor is destroyed */

/* The readiness bits are the kernel's own poll bits, so that the reactor hands epoll's
 * events on as they are. */
G_STATIC_ASSERT ((int) C_REACTOR_READABLE == (int) EPOLLIN);
G_STATIC_ASSERT ((int) C_REACTOR_WRITABLE == (int) EPOLLOUT);
G_STATIC_ASSERT ((int) C_REACTOR_PRIORITY == (int) EPOLLPRI);
G_STATIC_ASSERT ((int) C_REACTOR_ERROR == (int) EPOLLERR);
G_STATIC_ASSERT ((int) C_REACTOR_HANGUP == (int) EPOLLHUP);
G_STATIC_ASSERT ((int) C_REACTOR_READ_HANGUP == (int) EPOLLRDHUP);
G_STATIC_ASSERT ((int) EPOLLIN == POLLIN && (int) EPOLLOUT == POLLOUT);
G_STATIC_ASSERT ((int) EPOLLPRI == POLLPRI && (int) EPOLLERR == POLLERR);
G_STATIC_ASSERT ((int) EPOLLHUP == POLLHUP && (int) EPOLLRDHUP == POLLRDHUP);

static guint64
pack_slot (guint32 index, guint32 generation)
{
  return ((guint64) generation << 32) | index;
}

static gboolean
reactor_is_held_for (CReactor *reactor, gpointer owner)
{
  return reactor->hold_depth > 0 && owner != reactor->hold_except;
}

static void
queue_watch (CReactor *reactor, CReactorWatch *watch)
{
  if (watch->queued)
    return;
  watch->queued = TRUE;
  g_queue_push_tail_link (&reactor->deferred, &watch->link);
}

static void
deliver_ready (CReactor *reactor, CReactorSlot *slot, guint32 events)
{
  if (G_UNLIKELY (reactor_is_held_for (reactor, slot->owner)))
    {
      slot->watch->held_events |= events;
      queue_watch (reactor, slot->watch);
      return;
    }
  reactor->delivery_count++;
  slot->handlers->ready (slot->owner, events);
}

static void
deliver_batch (CReactor *reactor, struct epoll_event *events, int n)
{
  for (int i = 0; i < n; i++)
    {
      guint64 data = events[i].data.u64;
      guint32 index = (guint32) data;
      guint32 generation = (guint32) (data >> 32);
      CReactorSlot *slot;

      /* The slot table may have grown, or the slot been freed or reused, by an earlier
       * notification of this batch: look it up afresh for every event. */
      if (index >= reactor->n_slots)
        continue;
      slot = &reactor->slots[index];
      if (slot->owner == NULL || slot->generation != generation)
        continue;
      deliver_ready (reactor, slot, events[i].events);
    }
}

static int
wait_ready (CReactor *reactor, struct epoll_event *events, int capacity)
{
  int n;

  do
    n = epoll_wait (reactor->epoll_fd, events, capacity, 0);
  while (n < 0 && errno == EINTR);
  return n;
}

static void
dispatch_ready_events (CReactor *reactor)
{
  if (reactor->n_waiting > 0)
    {
      /* The poll function already waited: these are the events it collected. */
      int n = reactor->n_waiting;
      reactor->n_waiting = 0;
      deliver_batch (reactor, reactor->events, n);
      return;
    }
  /* A notification may block in a CSocket call, which runs this context again and so
   * re-enters this dispatch. The outer batch still lives in reactor->events, so a nested
   * dispatch reads into its own, smaller, array on the stack. */
  if (reactor->dispatch_depth > 1)
    {
      struct epoll_event nested[C_REACTOR_NESTED_BATCH];
      deliver_batch (reactor, nested, wait_ready (reactor, nested, C_REACTOR_NESTED_BATCH));
      return;
    }
  deliver_batch (reactor, reactor->events, wait_ready (reactor, reactor->events, C_REACTOR_BATCH));
}

static void
dispatch_deferred (CReactor *reactor)
{
  /* Only the work queued before this batch started runs now; work queued meanwhile waits
   * for the next dispatch, so a notification that re-queues its own socket cannot starve
   * the rest of the main loop. Items stay in the reactor's queue until popped, so a close
   * inside a notification can still unlink them. */
  guint remaining = reactor->deferred.length;
  GList *link;

  while (remaining-- > 0 && (link = g_queue_pop_head_link (&reactor->deferred)) != NULL)
    {
      CReactorWatch *watch = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (CReactorWatch, link));
      guint32 index = watch->slot;
      CReactorSlot *slot = &reactor->slots[index];
      guint32 generation = slot->generation;
      gpointer owner = slot->owner;
      const CReactorHandlers *handlers = slot->handlers;
      guint32 held = watch->held_events;
      gboolean wants_deferred = watch->wants_deferred;

      watch->queued = FALSE;
      if (reactor_is_held_for (reactor, owner))
        {
          queue_watch (reactor, watch);
          continue;
        }
      watch->held_events = 0;
      watch->wants_deferred = FALSE;
      if (held != 0)
        {
          reactor->delivery_count++;
          handlers->ready (owner, held);
        }
      /* The ready handler may have closed the socket (freeing its slot) or made new ones
       * (moving the slot table): look again before the deferred work. */
      slot = &reactor->slots[index];
      if (wants_deferred && slot->owner == owner && slot->generation == generation)
        handlers->deferred (owner);
    }
}

static gboolean
has_deliverable_deferred (CReactor *reactor)
{
  if (reactor->hold_depth == 0)
    return reactor->deferred.length > 0;

  for (GList *l = reactor->deferred.head; l != NULL; l = l->next)
    if (l->data == reactor->hold_except)
      return TRUE;
  return FALSE;
}

static gboolean
reactor_prepare (GSource *source, int *timeout)
{
  CReactor *reactor = (CReactor *) source;
  gboolean ready = reactor->n_waiting > 0 || has_deliverable_deferred (reactor);

  *timeout = ready ? 0 : -1;
  return ready;
}

static gboolean
reactor_check (GSource *source)
{
  CReactor *reactor = (CReactor *) source;

  if (reactor->n_waiting > 0 || (g_source_query_unix_fd (source, reactor->epoll_tag) & G_IO_IN))
    return TRUE;
  return has_deliverable_deferred (reactor);
}

static gboolean
reactor_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  CReactor *reactor = (CReactor *) source;

  reactor->dispatch_count++;
  reactor->dispatch_depth++;
  dispatch_ready_events (reactor);
  dispatch_deferred (reactor);
  reactor->dispatch_depth--;
  return G_SOURCE_CONTINUE;
}

static void
reactor_finalize (GSource *source)
{
  CReactor *reactor = (CReactor *) source;

  if (reactor->epoll_fd >= 0)
    close (reactor->epoll_fd);
  g_free (reactor->slots);
}

static GSourceFuncs reactor_funcs = {
  reactor_prepare, reactor_check, reactor_dispatch, reactor_finalize, NULL, NULL,
};

/* The reactor whose epoll instance is @epoll_fd, for the poll function; *generation is set
 * to the registry's generation it was found in. */
CReactor *
c_reactor_lookup_epoll (int epoll_fd, gint *generation)
{
  CReactor *reactor = NULL;

  g_mutex_lock (&reactors_lock);
  if (reactors_by_epoll != NULL)
    reactor = g_hash_table_lookup (reactors_by_epoll, GINT_TO_POINTER (epoll_fd));
  *generation = g_atomic_int_get (&reactors_generation);
  g_mutex_unlock (&reactors_lock);
  return reactor;
}

/* Changes whenever a reactor is destroyed: a cached reactor pointer is stale then. */
gint
c_reactor_registry_generation (void)
{
  return g_atomic_int_get (&reactors_generation);
}

static CReactor *
reactor_new (GMainContext *context)
{
  CReactor *reactor;
  int epoll_fd = epoll_create1 (EPOLL_CLOEXEC);

  if (epoll_fd < 0)
    return NULL;

  reactor = (CReactor *) g_source_new (&reactor_funcs, sizeof (CReactor));
  g_source_set_static_name (&reactor->source, "afxsock reactor");
  /* CSocket's blocking calls run the context from inside notifications. */
  g_source_set_can_recurse (&reactor->source, TRUE);
  reactor->epoll_fd = epoll_fd;
  reactor->epoll_tag = g_source_add_unix_fd (&reactor->source, epoll_fd, G_IO_IN);
  reactor->context = context;
  reactor->free_head = G_MAXUINT32;
  reactor->wake_up_fd = -1;
  g_queue_init (&reactor->deferred);
  g_source_attach (&reactor->source, context);
  c_reactor_install_poll_function (reactor, context);
  return reactor;
}

/* Returns the context's reactor with one more user, creating it on first use; NULL (errno
 * set) when no epoll instance can be made. Sockets hold one use each while they have a
 * descriptor, so a context without sockets carries no reactor. */
CReactor *
c_reactor_get_for_context (GMainContext *context)
{
  CReactor *reactor;

  g_mutex_lock (&reactors_lock);
  if (reactors == NULL)
    {
      reactors = g_hash_table_new (NULL, NULL);
      reactors_by_epoll = g_hash_table_new (NULL, NULL);
    }
  reactor = g_hash_table_lookup (reactors, context);
  if (reactor == NULL)
    {
      reactor = reactor_new (context);
      if (reactor != NULL)
        {
          g_hash_table_insert (reactors, context, reactor);
          g_hash_table_insert (reactors_by_epoll, GINT_TO_POINTER (reactor->epoll_fd), reactor);
        }
    }
  if (reactor != NULL)
    reactor->users++;
  g_mutex_unlock (&reactors_lock);
  return reactor;
}

CReactor *
c_reactor_ref (CReactor *reactor)
{
  g_mutex_lock (&reactors_lock);
  reactor->users++;
  g_mutex_unlock (&reactors_lock);
  return reactor;
}

void
c_reactor_unref (CReactor *reactor)
{
  gboolean last;

  g_mutex_lock (&reactors_lock);
  last = --reactor->users == 0;
  if (last)
    {
      g_hash_table_remove (reactors, reactor->context);
      g_hash_table_remove (reactors_by_epoll, GINT_TO_POINTER (reactor->epoll_fd));
      g_atomic_int_inc (&reactors_generation);
    }
  g_mutex_unlock (&reactors_lock);

  if (last)
    {
      /* Destroying from inside our own dispatch is allowed: GLib keeps the source alive
       * until dispatch returns, and every slot is already free, so the rest of the batch
       * is skipped. */
      g_source_destroy (&reactor->source);
      g_source_unref (&reactor->source);
    }
}

static guint32
take_slot (CReactor *reactor)
{
  guint32 index;

  if (reactor->free_head != G_MAXUINT32)
    {
      index = reactor->free_head;
      reactor->free_head = reactor->slots[index].next_free;
      return index;
    }
  if ((reactor->n_slots & (reactor->n_slots - 1)) == 0)
    reactor->slots = g_renew (CReactorSlot, reactor->slots, MAX (16, reactor->n_slots * 2));
  index = reactor->n_slots++;
  reactor->slots[index] = (CReactorSlot){ 0 };
  return index;
}

static void
free_slot (CReactor *reactor, guint32 index)
{
  CReactorSlot *slot = &reactor->slots[index];

  slot->owner = NULL;
  slot->handlers = NULL;
  slot->watch = NULL;
  slot->generation++;
  slot->next_free = reactor->free_head;
  reactor->free_head = index;
}

gboolean
c_reactor_add (CReactor *reactor, CReactorWatch *watch, int fd, gpointer owner,
               const CReactorHandlers *handlers, int *error_code)
{
  guint32 index = take_slot (reactor);
  CReactorSlot *slot = &reactor->slots[index];
  struct epoll_event event = { 0 };

  event.events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET;
  event.data.u64 = pack_slot (index, slot->generation);
  if (epoll_ctl (reactor->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    {
      *error_code = errno;
      free_slot (reactor, index);
      return FALSE;
    }

  slot->owner = owner;
  slot->handlers = handlers;
  slot->watch = watch;
  *watch = (CReactorWatch){ 0 };
  watch->slot = index;
  watch->registered = TRUE;
  watch->link.data = owner;
  return TRUE;
}

static void
cancel_deferred (CReactor *reactor, CReactorWatch *watch)
{
  if (watch->queued)
    g_queue_unlink (&reactor->deferred, &watch->link);
  watch->queued = FALSE;
  watch->wants_deferred = FALSE;
  watch->held_events = 0;
}

void
c_reactor_remove (CReactor *reactor, CReactorWatch *watch, int fd)
{
  if (!watch->registered)
    return;
  cancel_deferred (reactor, watch);
  /* The descriptor may already be gone (a caller closed it behind our back); the slot is
   * what matters, and freeing it makes any event still in flight stale. */
  epoll_ctl (reactor->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
  free_slot (reactor, watch->slot);
  watch->registered = FALSE;
}

void
c_reactor_defer (CReactor *reactor, CReactorWatch *watch)
{
  if (!watch->registered)
    return;
  watch->wants_deferred = TRUE;
  queue_watch (reactor, watch);
}

guint32
c_reactor_poll_now (int fd)
{
  struct pollfd pfd = { fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0 };
  int n;

  do
    n = poll (&pfd, 1, 0);
  while (n < 0 && errno == EINTR);
  return n > 0 ? (guint32) pfd.revents : 0;
}

gpointer
c_reactor_hold (CReactor *reactor, gpointer except)
{
  gpointer previous = reactor->hold_except;

  reactor->hold_depth++;
  reactor->hold_except = except;
  return previous;
}

void
c_reactor_release (CReactor *reactor, gpointer previous_except)
{
  g_return_if_fail (reactor->hold_depth > 0);

  reactor->hold_depth--;
  reactor->hold_except = previous_except;
  /* The deferred work now deliverable is seen by the next prepare (reactor_prepare). Only a
   * thread blocked in poll on the context would miss it; none can be while this thread owns
   * the context (CSocket's blocking calls hold and release it owning it), so the wakeup, a
   * write to the context's eventfd, is for the other case only. */
  if (reactor->hold_depth == 0 && reactor->deferred.length > 0
      && !g_main_context_is_owner (reactor->context))
    g_main_context_wakeup (reactor->context);
}

guint
c_reactor_get_dispatch_count (CReactor *reactor)
{
  return reactor->dispatch_count;
}

guint
c_reactor_get_delivery_count (CReactor *reactor)
{
  return reactor->delivery_count;
}

guint
c_reactor_get_direct_wait_count (CReactor *reactor)
{
  return reactor->direct_wait_count;
}

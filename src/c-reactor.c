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
#ifdef HAVE_LIBURING
#include "c-reactor-uring.h"
#endif

static GMutex reactors_lock;
static GHashTable *reactors;          /* GMainContext* → CReactor* */
static GHashTable *reactors_by_epoll; /* epoll descriptor → CReactor*, for the poll function */
static gint reactors_generation;      /* bumped whenever a reactor is destroyed */
static gint default_backend;          /* CEventBackend; DEFAULT: AFXSOCK_BACKEND decides */

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

/* Whether epoll may have events to collect: always, unless the ring watches it for us. */
static gboolean
epoll_may_have_events (CReactor *reactor)
{
#ifdef HAVE_LIBURING
  if (reactor->ring != NULL)
    return c_ring_take_epoll_ready (reactor->ring);
#endif
  return TRUE;
}

static int
wait_ready_noting_more (CReactor *reactor, struct epoll_event *events, int capacity)
{
  int n = wait_ready (reactor, events, capacity);

#ifdef HAVE_LIBURING
  /* A full batch may have left events behind, and the ring is told only of new ones. */
  if (reactor->ring != NULL && n == capacity)
    c_ring_set_epoll_ready (reactor->ring);
#endif
  return n;
}

/* For the poll function's wait in the ring: epoll's events, collected without waiting. */
gboolean
c_reactor_collect_ready (CReactor *reactor, gboolean *wake_up_ready)
{
  int room = C_REACTOR_BATCH - reactor->n_waiting;
  struct epoll_event *events = reactor->events + reactor->n_waiting;
  int n, kept = 0;

  *wake_up_ready = FALSE;
  if (room <= 0)
    return TRUE;
  n = wait_ready_noting_more (reactor, events, room);
  if (n < 0)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      if (events[i].data.u64 == C_REACTOR_WAKE_UP_DATA)
        *wake_up_ready = TRUE;
      else
        events[kept++] = events[i];
    }
  reactor->n_waiting += kept;
  return TRUE;
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
  if (!epoll_may_have_events (reactor))
    return;
  /* A notification may block in a CSocket call, which runs this context again and so
   * re-enters this dispatch. The outer batch still lives in reactor->events, so a nested
   * dispatch reads into its own, smaller, array on the stack. */
  if (reactor->dispatch_depth > 1)
    {
      struct epoll_event nested[C_REACTOR_NESTED_BATCH];
      deliver_batch (reactor, nested,
                     wait_ready_noting_more (reactor, nested, C_REACTOR_NESTED_BATCH));
      return;
    }
  deliver_batch (reactor, reactor->events,
                 wait_ready_noting_more (reactor, reactor->events, C_REACTOR_BATCH));
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
  gboolean ready;

#ifdef HAVE_LIBURING
  /* What was asked for outside a dispatch leaves before the context sleeps. */
  if (reactor->ring != NULL && c_ring_has_work (reactor->ring))
    c_ring_submit (reactor->ring);
  if (reactor->ring != NULL && c_ring_epoll_ready (reactor->ring))
    {
      *timeout = 0;
      return TRUE;
    }
#endif
  ready = reactor->n_waiting > 0 || has_deliverable_deferred (reactor);

  *timeout = ready ? 0 : -1;
  return ready;
}

static gboolean
reactor_check (GSource *source)
{
  CReactor *reactor = (CReactor *) source;

  if (reactor->n_waiting > 0 || (g_source_query_unix_fd (source, reactor->poll_tag) & G_IO_IN))
    return TRUE;
  return has_deliverable_deferred (reactor);
}

static gboolean
reactor_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  CReactor *reactor = (CReactor *) source;

  reactor->dispatch_count++;
  reactor->dispatch_depth++;
#ifdef HAVE_LIBURING
  /* The ring's completions post their events as deferred work, delivered below; one of
   * them says whether epoll has events at all. */
  if (reactor->ring != NULL)
    c_ring_dispatch_begin (reactor->ring);
#endif
  dispatch_ready_events (reactor);
  dispatch_deferred (reactor);
#ifdef HAVE_LIBURING
  if (reactor->ring != NULL)
    c_ring_dispatch_end (reactor->ring);
#endif
  reactor->dispatch_depth--;
  return G_SOURCE_CONTINUE;
}

static void
reactor_finalize (GSource *source)
{
  CReactor *reactor = (CReactor *) source;

#ifdef HAVE_LIBURING
  if (reactor->ring != NULL)
    c_ring_free (reactor->ring);
#endif
  if (reactor->epoll_fd >= 0)
    close (reactor->epoll_fd);
  g_free (reactor->slots);
}

static GSourceFuncs reactor_funcs = {
  reactor_prepare, reactor_check, reactor_dispatch, reactor_finalize, NULL, NULL,
};

/* The reactor whose context polls @poll_fd, for the poll function; *generation is set to the
 * registry's generation it was found in. */
CReactor *
c_reactor_lookup_poll_fd (int poll_fd, gint *generation)
{
  CReactor *reactor = NULL;

  g_mutex_lock (&reactors_lock);
  if (reactors_by_epoll != NULL)
    reactor = g_hash_table_lookup (reactors_by_epoll, GINT_TO_POINTER (poll_fd));
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

static CEventBackend
backend_from_environment (void)
{
  const char *name = g_getenv ("AFXSOCK_BACKEND");

  if (name == NULL || *name == '\0' || g_strcmp0 (name, "epoll") == 0)
    return C_EVENT_BACKEND_EPOLL;
  if (g_strcmp0 (name, "io_uring") == 0 || g_strcmp0 (name, "uring") == 0)
    return C_EVENT_BACKEND_IO_URING;
  g_warning ("AFXSOCK_BACKEND=%s: not a back end (epoll, io_uring); using epoll", name);
  return C_EVENT_BACKEND_EPOLL;
}

/**
 * c_event_backend_set_default:
 * @backend: the back end, or %C_EVENT_BACKEND_DEFAULT for what `AFXSOCK_BACKEND` names
 *
 * Chooses the event back end of the main contexts whose first socket is made from now on (a
 * context keeps its back end while it has sockets). %C_EVENT_BACKEND_IO_URING falls back to
 * epoll, silently, where io_uring is not available (a kernel before 5.19, seccomp, the
 * `kernel.io_uring_disabled` sysctl, a build without liburing);
 * c_async_socket_get_event_backend() tells which one runs.
 */
void
c_event_backend_set_default (CEventBackend backend)
{
  g_return_if_fail (backend >= C_EVENT_BACKEND_DEFAULT && backend <= C_EVENT_BACKEND_IO_URING);
  g_atomic_int_set (&default_backend, (gint) backend);
}

/**
 * c_event_backend_get_default:
 *
 * The back end that a context made now asks for: the one set by
 * c_event_backend_set_default(), else the one `AFXSOCK_BACKEND` names, else epoll.
 *
 * Returns: %C_EVENT_BACKEND_EPOLL or %C_EVENT_BACKEND_IO_URING
 */
CEventBackend
c_event_backend_get_default (void)
{
  CEventBackend backend = (CEventBackend) g_atomic_int_get (&default_backend);

  return backend != C_EVENT_BACKEND_DEFAULT ? backend : backend_from_environment ();
}

/* The io_uring ring, when asked for and available. It becomes the descriptor the context
 * polls, and polls the epoll instance itself: a wait in the ring (c-reactor-poll.c) runs the
 * kernel's completion work in place, where a wait in epoll_wait would be interrupted for it. */
static void
start_ring (CReactor *reactor)
{
#ifdef HAVE_LIBURING
  int error_code = 0;

  if (c_event_backend_get_default () != C_EVENT_BACKEND_IO_URING)
    return;
  reactor->ring = c_ring_new (reactor, reactor->epoll_fd, &error_code);
  if (reactor->ring == NULL)
    {
      g_debug ("io_uring is not available (%s): the epoll back end runs", g_strerror (error_code));
      return;
    }
  reactor->poll_fd = c_ring_get_fd (reactor->ring);
#else
  (void) reactor;
#endif
}

CEventBackend
c_reactor_get_backend (CReactor *reactor)
{
  return reactor->ring != NULL ? C_EVENT_BACKEND_IO_URING : C_EVENT_BACKEND_EPOLL;
}

CRing *
c_reactor_get_ring (CReactor *reactor)
{
  return reactor->ring;
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
  reactor->poll_fd = epoll_fd;
  start_ring (reactor);
  reactor->poll_tag = g_source_add_unix_fd (&reactor->source, reactor->poll_fd, G_IO_IN);
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
          g_hash_table_insert (reactors_by_epoll, GINT_TO_POINTER (reactor->poll_fd), reactor);
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
      g_hash_table_remove (reactors_by_epoll, GINT_TO_POINTER (reactor->poll_fd));
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
  slot->tag_user = NULL;
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

void
c_reactor_post (CReactor *reactor, CReactorWatch *watch, guint32 events)
{
  if (!watch->registered)
    return;
  watch->held_events |= events;
  queue_watch (reactor, watch);
}

guint64
c_reactor_set_tag_user (CReactor *reactor, CReactorWatch *watch, gpointer user)
{
  CReactorSlot *slot = &reactor->slots[watch->slot];

  slot->tag_user = user;
  return ((guint64) (slot->generation & 0x3fffffff) << 34) | ((guint64) watch->slot << 2);
}

gpointer
c_reactor_tag_user (CReactor *reactor, guint64 tag)
{
  guint32 index = (guint32) (tag >> 2);
  guint32 generation = (guint32) (tag >> 34);
  CReactorSlot *slot;

  if (index >= reactor->n_slots)
    return NULL;
  slot = &reactor->slots[index];
  if (slot->owner == NULL || (slot->generation & 0x3fffffff) != generation)
    return NULL;
  return slot->tag_user;
}

void
c_reactor_watch_input (CReactor *reactor, CReactorWatch *watch, int fd, gboolean input)
{
  struct epoll_event event = { 0 };

  /* Only urgent data (and errors and hang-ups, always reported) then: epoll reports what
   * is ready among the interest, and a socket is writable nearly always, so any wake-up of
   * it, each arriving segment's included, would report "writable" again. The ring's
   * transport reports input and room to send. */
  event.events = input ? EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET : EPOLLPRI | EPOLLET;
  event.data.u64 = pack_slot (watch->slot, reactor->slots[watch->slot].generation);
  if (epoll_ctl (reactor->epoll_fd, EPOLL_CTL_MOD, fd, &event) < 0)
    g_debug ("descriptor %d: epoll_ctl (MOD): %s", fd, g_strerror (errno));
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

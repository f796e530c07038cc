/* c-reactor-internal.h: the reactor's own state, shared by the reactor's files alone
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * c-reactor.c is the reactor proper (the GSource, registrations, deferred work, holds);
 * c-reactor-poll.c is the context's poll function that sleeps in epoll_wait itself. These
 * two, and nothing else, know that the reactor is epoll.
 */
#pragma once

#include <sys/epoll.h>

#include "c-reactor-private.h"

G_BEGIN_DECLS

#define C_REACTOR_BATCH 256
#define C_REACTOR_NESTED_BATCH 32

/* The epoll data of the context's wake-up descriptor, when the reactor's poll function has
 * added it to the epoll instance. No slot has this index. */
#define C_REACTOR_WAKE_UP_DATA G_MAXUINT64

typedef struct
{
  gpointer owner; /* NULL while free */
  const CReactorHandlers *handlers;
  CReactorWatch *watch;
  guint32 generation;
  guint32 next_free;
} CReactorSlot;

struct _CReactor
{
  GSource source;
  int epoll_fd;
  gpointer epoll_tag;
  GMainContext *context;
  guint users;

  CReactorSlot *slots;
  guint32 n_slots;
  guint32 free_head; /* G_MAXUINT32 when empty */

  GQueue deferred;
  guint hold_depth;
  gpointer hold_except;

  guint dispatch_depth;
  guint dispatch_count;
  guint delivery_count;
  guint direct_wait_count;

  /* The poll function (see reactor_poll) waits in epoll_wait itself and leaves the events
   * in events[0, n_waiting) for the next dispatch. wake_up_fd is the context's wake-up
   * descriptor once added to the epoll instance; direct_wait is cleared for good when the
   * context turns out not to look as expected. */
  int n_waiting;
  int wake_up_fd;
  gboolean direct_wait;

  struct epoll_event events[C_REACTOR_BATCH];
};

CReactor *c_reactor_lookup_epoll (int epoll_fd, gint *generation);
gint c_reactor_registry_generation (void);
void c_reactor_install_poll_function (CReactor *reactor, GMainContext *context);

G_END_DECLS

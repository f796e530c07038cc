/* c-reactor-private.h: the reactor seam: one event reactor per GMainContext, as one GSource
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CReactor CReactor;

/* The readiness a reactor reports, in its own words. (The values are the kernel's poll
 * bits, so that the epoll reactor passes events on untranslated; c-reactor.c checks it.) */
typedef enum
{
  C_REACTOR_READABLE = 0x001,    /* bytes, a connection or an end of stream to read */
  C_REACTOR_PRIORITY = 0x002,    /* urgent (out-of-band) data */
  C_REACTOR_WRITABLE = 0x004,    /* room to send; a connect finished */
  C_REACTOR_ERROR = 0x008,       /* an error is pending (SO_ERROR) */
  C_REACTOR_HANGUP = 0x010,      /* both directions are closed */
  C_REACTOR_READ_HANGUP = 0x2000 /* the peer closed its sending side */
} CReactorEvents;

/* What a registered object gets told. @events are CReactorEvents bits; the deferred
 * callback runs for objects queued with c_reactor_defer(). */
typedef struct
{
  void (*ready) (gpointer owner, guint32 events);
  void (*deferred) (gpointer owner);
} CReactorHandlers;

/* Registration of one descriptor. Embedded in its owner; no allocation per event. */
typedef struct
{
  guint32 slot;
  guint32 held_events; /* CReactorEvents that arrived while the reactor was held */
  gboolean registered;
  gboolean queued;
  gboolean wants_deferred;
  GList link; /* in the reactor's deferred queue; data points to the owner */
} CReactorWatch;

CReactor *c_reactor_get_for_context (GMainContext *context);
CReactor *c_reactor_ref (CReactor *reactor);
void c_reactor_unref (CReactor *reactor);

gboolean c_reactor_add (CReactor *reactor, CReactorWatch *watch, int fd, gpointer owner,
                        const CReactorHandlers *handlers, int *error_code);
void c_reactor_remove (CReactor *reactor, CReactorWatch *watch, int fd);

void c_reactor_defer (CReactor *reactor, CReactorWatch *watch);

/* The readiness of @fd right now, without waiting (CReactorEvents; 0 when none). */
guint32 c_reactor_poll_now (int fd);

/* While held (CSocket's blocking calls), ready events and deferred work for every owner
 * except @except are queued, not delivered; they are delivered after the last release. */
gpointer c_reactor_hold (CReactor *reactor, gpointer except);
void c_reactor_release (CReactor *reactor, gpointer previous_except);

guint c_reactor_get_dispatch_count (CReactor *reactor);
guint c_reactor_get_delivery_count (CReactor *reactor);
/* How many times the context slept in the reactor's own epoll_wait (see reactor_poll). */
guint c_reactor_get_direct_wait_count (CReactor *reactor);

G_END_DECLS

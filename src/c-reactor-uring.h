/* c-reactor-uring.h: the io_uring back end's ring, shared by the reactor and its transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With the io_uring back end (docs/internals.md, "The io_uring back end") a reactor also owns
 * a ring. The epoll instance stays the context's one descriptor and still reports what
 * readiness reports well (listening sockets, connects, datagrams, urgent data, hang-ups);
 * the ring's descriptor sits in it like any socket. A connected TCP socket's bytes go
 * through the ring instead, through its transport (c-transport-uring.c): one multishot
 * receive into the ring's provided buffers, and sends collected during a dispatch and
 * submitted together when it ends. c-reactor-uring.c owns the ring: its buffers, the
 * transports with a request to make, the submission and the completions. These files, with
 * c-reactor.c, are the only ones that know the back end is io_uring.
 */
#pragma once

#include "c-reactor-private.h"
#include "c-transport.h"

G_BEGIN_DECLS

typedef struct _CRing CRing;

/* What a completion is for, in the low bits of its user data. */
typedef enum
{
  C_RING_OP_NONE = 0, /* a cancellation's own completion */
  C_RING_OP_SEND = 1, /* the rest: a CRingSend pointer */
  C_RING_OP_RECV = 2, /* the rest: the socket's reactor slot and generation */
  C_RING_OP_EPOLL = 3 /* the epoll instance has events */
} CRingOp;

/* One block of bytes submitted to a send (or queued for one). Owned by its transport while
 * it lives, by the ring alone once the transport is gone (an orphan): a send in flight
 * keeps its bytes until it completes. */
typedef struct _CRingSend CRingSend;
struct _CRingSend
{
  CTransport *transport; /* NULL once orphaned */
  CRingSend *next;       /* an orphan's bytes queued after these */
  int fd;                /* an orphan's own descriptor (a dup), -1 otherwise */
  gboolean shutdown;     /* an orphan shuts its sends down when done */
  gboolean stuck;        /* submitted, and not done when the submission returned */
  gsize offset, length, capacity;
  guint8 data[];
};

CRing *c_ring_new (CReactor *reactor, int epoll_fd, int *error_code);
void c_ring_free (CRing *ring);
int c_ring_get_fd (CRing *ring);

/* Completions: what arrived since the last look, acted on (events reach the sockets through
 * c_reactor_post, so they are delivered by the dispatch). */
void c_ring_reap (CRing *ring);
/* The dispatch starts / ends; the end submits what the dispatch's notifications asked for. */
void c_ring_dispatch_begin (CRing *ring);
void c_ring_dispatch_end (CRing *ring);
/* Submits now whatever waits (before the context sleeps, or a write made outside a
 * dispatch). */
void c_ring_submit (CRing *ring);
gboolean c_ring_has_work (CRing *ring);
gboolean c_ring_in_dispatch (CRing *ring);
/* Waits for at least one completion and acts on what came (after c_ring_submit). */
void c_ring_wait (CRing *ring);
/* The context's sleep (c-reactor-poll.c): submits, waits up to @timeout ms (-1: no limit) for
 * a completion, acts on what came; FALSE with errno on failure. */
gboolean c_ring_wait_timeout (CRing *ring, int timeout);
/* Whether the ring saw the epoll instance become ready since the last take. */
gboolean c_ring_take_epoll_ready (CRing *ring);
gboolean c_ring_epoll_ready (CRing *ring);
void c_ring_set_epoll_ready (CRing *ring);

/* The transports' side. */
struct io_uring_sqe *c_ring_get_sqe (CRing *ring);
guint8 *c_ring_buffer (CRing *ring, guint bid);
void c_ring_recycle (CRing *ring, guint bid);
guint c_ring_free_buffers (CRing *ring);
/* Asks for c_transport_uring_submit at the next submission. */
void c_ring_want_submit (CRing *ring, GList *link);
void c_ring_cancel_submit (CRing *ring, GList *link);
/* Asks for c_transport_uring_spill when the dispatch ends. */
void c_ring_hold_buffers (CRing *ring, GList *link);
void c_ring_release_buffers (CRing *ring, GList *link);
/* A send whose transport is gone; the ring frees it when it completes. */
void c_ring_adopt_orphan (CRing *ring, CRingSend *send);
void c_ring_submit_send (CRing *ring, CRingSend *send, int fd);
CReactor *c_ring_get_reactor (CRing *ring);

/* c-transport-uring.c */
CTransport *c_transport_uring_new (CRing *ring, CAsyncSocketPrivate *priv);
gboolean c_transport_is_uring (CTransport *transport);
void c_transport_uring_received (CTransport *transport, int result, guint32 flags);
void c_transport_uring_sent (CRingSend *send, int result);
void c_transport_uring_submit (CTransport *transport);
gboolean c_transport_uring_send_now (CTransport *transport);
void c_transport_uring_spill (CTransport *transport);
GBytes *c_transport_uring_take_unread (CTransport *transport);

G_END_DECLS

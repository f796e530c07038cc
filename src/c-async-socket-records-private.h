/* c-async-socket-records-private.h: record state shared by reading and the write queue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Included by exactly three files: c-async-socket-records.c (framing, reading),
 * c-async-socket-record-mode.c (the state's life, timeouts, settings) and
 * c-async-socket-queue.c (the write queue). They share one CRecordState rather than owning
 * a part each: the reader corks the queue while it delivers records and flushes it after,
 * and the rest of the socket (c-async-socket-events.c, once per writable event) tells a
 * socket with any record state from one without by the one pointer priv->records. The
 * state is made on first use by either side (c_async_socket_records_state), so that an
 * idle connection carries none of it, and freed with the descriptor
 * (c_async_socket_records_reset).
 */
#pragma once

#include "c-async-socket-private.h"

G_BEGIN_DECLS

/* A stream record's header: its length, 4 bytes big-endian (docs/wire-format.md). */
#define C_RECORD_HEADER_SIZE 4

struct _CRecordState
{
  /* Reading (c-async-socket-records.c). A record in progress: its bytes so far (header
   * included). */
  guint8 *partial;
  gsize partial_length;
  gsize partial_capacity; /* what the record may use so far: bounded by what arrived */
  gsize partial_block;    /* the block's real size (a pooled block may be larger) */
  gint64 record_started;
  gint64 last_receive;

  /* The write queue (c-async-socket-queue.c): a ring of entries in a block of its own,
   * made when the first record waits and given back when the last has left. */
  struct _CQueuedRecord *ring;
  gsize ring_block;  /* the size of the ring's block, in bytes */
  guint32 ring_size; /* entries the ring holds: a power of two */
  guint32 ring_head;
  guint32 queue_length;
  gsize queued_bytes;
  gboolean above_high;
  gboolean corked;      /* delivering records: echoes wait for one write at the end */
  gboolean reading;     /* records_readable is under way: a nested call leaves the reading to it */
  gboolean read_missed; /* a nested call left its report to the call under way */

  /* The timeouts' timer (c-async-socket-record-mode.c) and the sender of a datagram record
   * (c-async-socket-records.c). */
  GSource *timer;
  GSocketAddress *sender;
};

/* The library closed the connection itself (c_async_socket_fail). */
static inline gboolean
c_async_socket_has_failed (CAsyncSocketPrivate *priv)
{
  return priv->close_reason != NULL;
}

/* c-async-socket-record-mode.c */
CRecordState *c_async_socket_records_create_state (CAsyncSocket *self);
/* Arms (or brings forward) the socket's timeout timer after a read. */
void c_async_socket_records_arm_timer (CAsyncSocket *self);

/* The socket's running state, made on first use. */
static inline CRecordState *
c_async_socket_records_state (CAsyncSocket *self)
{
  CRecordState *state = c_async_socket_get_private (self)->records;

  return state != NULL ? state : c_async_socket_records_create_state (self);
}

/* c-async-socket-queue.c */
void c_async_socket_records_free_queue (CRecordState *state);
void c_async_socket_records_uncork (CAsyncSocket *self, CRecordState *state);

G_END_DECLS

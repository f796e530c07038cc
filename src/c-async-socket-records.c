/* c-async-socket-records.c: whole records on non-blocking sockets: framing and reading
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * MFC leaves framing to the application (KB Q192570). In record mode a CAsyncSocket frames
 * for it: on a stream each record is a 4-byte big-endian length followed by that many bytes
 * (docs/wire-format.md, "Record framing"); on a datagram socket each datagram is one
 * record. The socket reads by itself and delivers only whole records, in order, through
 * on_record.
 *
 * Receiving never trusts the peer's length: a header announcing more than the maximum record
 * size closes the connection before anything is allocated, and the buffer of a record in
 * progress grows with the bytes that actually arrived (at most twice them, plus 64 KiB),
 * not with the length announced. Bytes are read into a per-thread scratch buffer and whole
 * records are cut from it, so an idle connection holds no receive buffer at all. Large
 * records live in blocks from a per-thread pool (c-record-blocks.c). A handler that runs
 * the main loop while its read is being cut (a CSocket call, a nested loop) lets other
 * sockets of the thread read meanwhile: they read into a block of their own, never into the
 * scratch that still holds the first read's records (scratch_acquire).
 *
 * What record mode as a whole needs (the running state's life, the idle and record timeouts,
 * the mode and its settings) is in c-async-socket-record-mode.c. Sending goes through the
 * write queue (c-async-socket-queue.c); the state the three share is in
 * c-async-socket-records-private.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "c-async-socket-records-private.h"
#include "c-transport.h"
#include "c-record-blocks.h"

#define HEADER_SIZE C_RECORD_HEADER_SIZE
/* A record assembled in its block keeps its length header there (c-record-blocks.c). */
G_STATIC_ASSERT (HEADER_SIZE == C_RECORD_BLOCK_HEADER_SIZE);
#define SCRATCH_SIZE (256 * 1024)
#define MIN_PARTIAL_CAPACITY (64 * 1024)
#define READ_BUDGET (1024 * 1024) /* bytes per dispatch before yielding to other sockets */

static C_THREAD_CACHE guint8 *thread_scratch;       /* this thread's scratch, once found */
static C_THREAD_CACHE gboolean thread_scratch_busy; /* a read is being cut from it */

/* A read buffer of SCRATCH_SIZE bytes, from scratch_acquire(). */
typedef struct
{
  guint8 *data;
  gsize capacity; /* of a block of its own; 0 for the thread's scratch */
} Scratch;

static void
scratch_free (gpointer data)
{
  thread_scratch = NULL;
  g_free (data);
}

/* The thread's read buffer: the GPrivate frees it when the thread ends, the cache finds it
 * without a call (twice per read). */
static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

/* How much of a @total-byte record (header included) the partial buffer may hold once
 * @arrived bytes of it are there: twice what arrived, at least MIN_PARTIAL_CAPACITY, never
 * more than the record. What a peer announces alone never makes the socket allocate. */
static gsize
partial_room (gsize total, gsize arrived)
{
  return MIN (total, MAX (2 * arrived, MIN_PARTIAL_CAPACITY));
}

/* Makes the partial buffer hold at least @want bytes, keeping what it holds. The record
 * may use @want bytes, whatever the size of the (possibly pooled) block behind them: a
 * peer's bytes never make the socket allocate more than the bound of c_async_socket_records_buffered. */
static void
grow_partial (CRecordState *state, gsize want)
{
  if (want <= state->partial_capacity)
    return;
  if (state->partial == NULL)
    state->partial = c_record_block_take (want, &state->partial_block);
  else if (want > state->partial_block)
    {
      state->partial = g_realloc (state->partial, want);
      state->partial_block = want;
    }
  state->partial_capacity = want;
}

static guint8 *
scratch_buffer (void)
{
  guint8 *scratch = thread_scratch;

  if (G_LIKELY (scratch != NULL))
    return scratch;
  scratch = g_private_get (&scratch_key);
  if (scratch == NULL)
    {
      scratch = g_malloc (SCRATCH_SIZE);
      g_private_set (&scratch_key, scratch);
    }
  thread_scratch = scratch;
  return scratch;
}

/* The buffer a read goes into: the thread's scratch, or, when a read of this thread is
 * still being cut from it (a handler below us runs the main loop), a block of its own, so
 * that the outer read's records are not overwritten. */
static Scratch
scratch_acquire (void)
{
  Scratch scratch = { NULL, 0 };

  if (G_UNLIKELY (thread_scratch_busy))
    scratch.data = c_record_block_take (SCRATCH_SIZE, &scratch.capacity);
  else
    {
      thread_scratch_busy = TRUE;
      scratch.data = scratch_buffer ();
    }
  return scratch;
}

static void
scratch_release (Scratch *scratch)
{
  if (scratch->capacity > 0)
    c_record_block_give_back (scratch->data, scratch->capacity);
  else
    thread_scratch_busy = FALSE;
}

/* Receiving. */

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static gboolean
check_length (CAsyncSocket *self, guint32 length)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (length <= priv->max_record_size)
    return TRUE;
  c_async_socket_fail (self, EMSGSIZE,
                       g_error_new (C_SOCKET_ERROR, C_SOCKET_ERROR_LIMIT,
                                    "the peer announced a record of %u bytes, over the maximum "
                                    "of %zu",
                                    length, priv->max_record_size));
  return FALSE;
}

static gboolean
deliver_record_bytes (CAsyncSocket *self, GBytes *record, guint incarnation)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->stats.records_received++;
  c_async_socket_notify_record (self, record);
  g_bytes_unref (record);
  return priv->incarnation == incarnation && !c_async_socket_has_failed (priv);
}

/* A record lent where it lies (on_record_data overridden): no copy, no GBytes. */
static gboolean
lend_record (CAsyncSocket *self, const guint8 *data, gsize length, guint incarnation)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  priv->stats.records_received++;
  c_async_socket_notify_record_data (self, data, length);
  return priv->incarnation == incarnation && !c_async_socket_has_failed (priv);
}

/* A record cut from a read buffer: lent from there, or copied into a GBytes of its own (a
 * GBytes outlives the buffer, which the next read reuses). */
static gboolean
deliver_record (CAsyncSocket *self, const guint8 *data, gsize length, gboolean lends,
                guint incarnation)
{
  if (lends)
    return lend_record (self, data, length, incarnation);
  return deliver_record_bytes (self, c_record_copy (data, length), incarnation);
}

/* Keeps the incomplete tail of a read: room for what has arrived, growing with it. */
static void
keep_partial (CRecordState *state, const guint8 *data, gsize length)
{
  gsize want = length;

  if (length >= HEADER_SIZE)
    want = partial_room ((gsize) read_be32 (data) + HEADER_SIZE, length);
  grow_partial (state, want);
  memmove (state->partial, data, length);
  state->partial_length = length;
}

static void
drop_partial (CRecordState *state)
{
  c_record_block_give_back (state->partial, state->partial_block);
  state->partial = NULL;
  state->partial_length = state->partial_capacity = state->partial_block = 0;
  state->record_started = 0;
}

/* Cuts whole records from data[0..length); returns the bytes consumed, or -1 when the
 * socket went away or failed meanwhile. */
static gssize
cut_records (CAsyncSocket *self, const guint8 *data, gsize length, guint incarnation)
{
  gsize offset = 0;
  gboolean lends = c_async_socket_lends_records (self); /* once per read, not per record */

  while (length - offset >= HEADER_SIZE)
    {
      guint32 record_length = read_be32 (data + offset);
      if (!check_length (self, record_length))
        return -1;
      if (length - offset - HEADER_SIZE < record_length)
        break;
      if (!deliver_record (self, data + offset + HEADER_SIZE, record_length, lends, incarnation))
        return -1;
      offset += HEADER_SIZE + record_length;
    }
  return (gssize) offset;
}

/* A record whose length is known and whose bytes do not all fit: read straight into its
 * own buffer, growing with the bytes that arrive. Returns the recv result. */
/* Whether a read of @n bytes out of @size asked, with the transport's count @remaining
 * (-1: unknown), emptied the kernel's queue, so that reading again would only say EAGAIN:
 * the transport says so, or a plain TCP read came back short. The reactor reports the next
 * arrival (edge-triggered), as for on_receive (c_async_socket_received). Not when the peer's
 * end of stream was seen (its 0 must still be read: that report will not come again), after
 * urgent data (Linux stops a read at the mark), or on a Unix stream (short at every message
 * that carries descriptors). */
static gboolean
read_drained (CAsyncSocketPrivate *priv, gssize n, gsize size, int remaining)
{
  if (priv->peer_closed || priv->urgent_seen)
    return FALSE;
  if (remaining >= 0)
    return remaining == 0;
  return (gsize) n < size && priv->transport == NULL && priv->family != G_SOCKET_FAMILY_UNIX;
}

static gssize
read_into_partial (CAsyncSocketPrivate *priv, CRecordState *state, gboolean *drained)
{
  gsize total = (gsize) read_be32 (state->partial) + HEADER_SIZE;
  gssize n;
  gsize size;
  int remaining;

  /* The buffer grows once it is full, to twice what arrived: once per doubling, not at
   * every read (a record arriving in small reads was moved, or copied, at each of them). */
  if (state->partial_length == state->partial_capacity)
    grow_partial (state, partial_room (total, state->partial_length));
  size = MIN (state->partial_capacity, total) - state->partial_length;
  n = c_transport_read (priv, state->partial + state->partial_length, size, 0, &remaining);
  if (n > 0)
    {
      state->partial_length += (gsize) n;
      *drained = read_drained (priv, n, size, remaining);
    }
  return n;
}

static gssize
read_into_scratch (CAsyncSocketPrivate *priv, CRecordState *state, guint8 *scratch,
                   gboolean *drained)
{
  gsize carried = state->partial_length; /* fewer than HEADER_SIZE bytes, or none */
  int remaining;
  gssize n;

  if (carried > 0)
    memcpy (scratch, state->partial, carried);
  n = c_transport_read (priv, scratch + carried, SCRATCH_SIZE - carried, 0, &remaining);
  if (n > 0)
    *drained = read_drained (priv, n, SCRATCH_SIZE - carried, remaining);
  return n;
}

static void
note_progress (CAsyncSocketPrivate *priv, CRecordState *state, gssize n)
{
  priv->stats.bytes_received += (guint64) n;
  priv->stats.receive_calls++;
  if (priv->idle_timeout_ms > 0 || priv->record_timeout_ms > 0)
    state->last_receive = g_get_monotonic_time ();
}

static void
end_of_stream (CAsyncSocket *self, CRecordState *state)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  c_async_socket_end_of_stream_read (priv);
  if (state->partial_length > 0)
    c_async_socket_fail (self, EPROTO,
                         g_error_new (C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE,
                                      "the peer closed in the middle of a record (%zu bytes "
                                      "received)",
                                      state->partial_length));
}

/* One read and what follows from it; FALSE when reading should stop for now (the kernel is
 * empty, or the socket failed or went away). */
static gboolean
read_stream_once (CAsyncSocket *self, CRecordState *state, guint8 *scratch, guint incarnation,
                  gsize *budget)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gboolean direct = state->partial_length >= HEADER_SIZE;
  gboolean drained = FALSE;
  gssize n = direct ? read_into_partial (priv, state, &drained)
                    : read_into_scratch (priv, state, scratch, &drained);
  gsize had_partial = state->partial_length;
  gssize used;

  if (n < 0)
    {
      int error_code = errno;
      if (error_code != EAGAIN && error_code != EWOULDBLOCK)
        c_async_socket_fail (self, error_code,
                             g_error_new (G_IO_ERROR, g_io_error_from_errno (error_code),
                                          "receive: %s", g_strerror (error_code)));
      return FALSE;
    }
  if (n == 0)
    {
      end_of_stream (self, state);
      return FALSE;
    }
  note_progress (priv, state, n);
  *budget = *budget > (gsize) n ? *budget - (gsize) n : 0;

  if (direct)
    {
      /* The partial buffer holds one record and nothing else; once whole, the buffer
       * itself becomes the record, without a copy (a large record's bytes are copied once,
       * from the kernel). */
      gsize total = (gsize) read_be32 (state->partial) + HEADER_SIZE;
      guint8 *block = state->partial;
      gsize capacity = state->partial_block;

      gboolean going_on;

      if (state->partial_length < total)
        return !drained;
      state->partial = NULL;
      drop_partial (state);
      if (!c_async_socket_lends_records (self))
        going_on = deliver_record_bytes (
            self, c_record_in_block (block, capacity, total - HEADER_SIZE), incarnation);
      else
        {
          going_on = lend_record (self, block + HEADER_SIZE, total - HEADER_SIZE, incarnation);
          c_record_block_give_back (block, capacity);
        }
      return going_on && !drained;
    }

  used = cut_records (self, scratch, had_partial + (gsize) n, incarnation);
  if (used < 0)
    return FALSE;
  if ((gsize) used < had_partial + (gsize) n)
    {
      if (used > 0 || state->record_started == 0)
        state->record_started = g_get_monotonic_time ();
      keep_partial (state, scratch + used, had_partial + (gsize) n - (gsize) used);
      c_async_socket_records_arm_timer (self);
    }
  else
    drop_partial (state);
  return !drained;
}

static void
read_datagrams (CAsyncSocket *self, CRecordState *state, guint8 *scratch, guint incarnation)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  for (int i = 0; i < 64; i++)
    {
      struct sockaddr_storage storage;
      socklen_t length = sizeof storage;
      gssize n;

      do
        n = recvfrom (priv->fd, scratch, SCRATCH_SIZE, MSG_TRUNC, (struct sockaddr *) &storage,
                      &length);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        return;
      note_progress (priv, state, n);
      if ((gsize) n > priv->max_record_size || n > SCRATCH_SIZE)
        {
          g_debug ("descriptor %d: dropped a datagram of %zd bytes, over the maximum record "
                   "size of %zu",
                   priv->fd, n, priv->max_record_size);
          continue;
        }
      g_clear_object (&state->sender);
      if (length > 0)
        state->sender = g_socket_address_new_from_native (&storage, length);
      if (!deliver_record (self, scratch, (gsize) n, c_async_socket_lends_records (self),
                           incarnation))
        return;
    }
  c_async_socket_defer (self, C_DEFER_PROBE); /* more may wait: after the other sockets */
}

/* Called by the event code instead of on_receive while in record mode. */
void
c_async_socket_records_readable (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = c_async_socket_records_state (self);
  guint incarnation = priv->incarnation;
  gsize budget = READ_BUDGET;
  Scratch scratch;

  /* A handler of this socket's records that runs the main loop (a CSocket call, a nested
   * loop) must not see this socket read again from inside: the records of the read being
   * cut would come after later ones. The loop below reads on once the handler returns. */
  if (c_async_socket_has_failed (priv))
    return;
  if (state->reading)
    {
      state->read_missed = TRUE; /* the report is used up: polled again after the outer call */
      return;
    }
  state->reading = TRUE;
  scratch = scratch_acquire ();
  if (priv->type != C_SOCK_STREAM)
    read_datagrams (self, state, scratch.data, incarnation);
  else
    {
      /* Records sent from on_record while this read is being cut go out together, in
       * one vectored write after the loop, not one write each. */
      state->corked = TRUE;
      while (read_stream_once (self, priv->records, scratch.data, incarnation, &budget))
        {
          /* A notification may have closed the socket or paused reading (async_select
           * without C_FD_READ); re-selecting C_FD_READ resumes from a probe. */
          if (priv->incarnation != incarnation || !(priv->events & C_FD_READ))
            break;
          if (budget == 0)
            {
              /* Fairness: leave the rest for the next dispatch. */
              c_async_socket_defer (self, C_DEFER_PROBE);
              break;
            }
        }
      if (priv->incarnation == incarnation && priv->records == state)
        c_async_socket_records_uncork (self, state);
    }
  scratch_release (&scratch);
  if (priv->incarnation == incarnation && priv->records == state)
    {
      /* (A state freed by a close during the handlers is not touched.) The loop may have
       * stopped at a short read that came before what a nested report announced. */
      state->reading = FALSE;
      if (state->read_missed)
        {
          state->read_missed = FALSE;
          c_async_socket_defer (self, C_DEFER_PROBE);
        }
    }
}

/* The receive buffer held for a record in progress (for tests and accounting). */
gsize
c_async_socket_records_buffered (CAsyncSocket *self)
{
  CRecordState *state = c_async_socket_get_private (self)->records;
  return state != NULL ? state->partial_capacity : 0;
}

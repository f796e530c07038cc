/* c-async-socket-records.c: whole records on non-blocking sockets, and the write queue
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
 * records are cut from it, so an idle connection holds no receive buffer at all.
 *
 * Sending goes through a bounded queue. A record is written at once when the queue is
 * empty; what the kernel does not take waits in the queue and leaves, header and payload
 * together, by vectored writes when the socket is writable. Past the high-water mark a send
 * is refused (or, if so configured, closes the connection: Redis's output-buffer limit), so
 * a reader that stalls cannot grow our memory without bound; on_drain says when the queue
 * is back under the low-water mark.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "c-async-socket-private.h"
#include "c-record-blocks.h"
#include <afxsock/c-archive.h>

#define HEADER_SIZE 4
/* A record assembled in its block keeps its length header there (c-record-blocks.c). */
G_STATIC_ASSERT (HEADER_SIZE == C_RECORD_BLOCK_HEADER_SIZE);
#define SCRATCH_SIZE (256 * 1024)
#define MIN_PARTIAL_CAPACITY (64 * 1024)
#define READ_BUDGET (1024 * 1024) /* bytes per dispatch before yielding to other sockets */
#define MAX_IOV 64

#define DEFAULT_MAX_RECORD_SIZE (64u * 1024 * 1024)
#define DEFAULT_LOW_WATER_MARK (256u * 1024)
#define DEFAULT_HIGH_WATER_MARK (4u * 1024 * 1024)

typedef struct
{
  GList link; /* in the write queue; data points to this record */
  GBytes *bytes;
  guint8 header[HEADER_SIZE];
  gsize header_size; /* 0 for datagrams */
  gsize done;        /* bytes of header + payload already sent */
} QueuedRecord;

struct _CRecordState
{
  /* A record in progress: its bytes so far (header included). */
  guint8 *partial;
  gsize partial_length;
  gsize partial_capacity; /* what the record may use so far: bounded by what arrived */
  gsize partial_block;    /* the block's real size (a pooled block may be larger) */
  gint64 record_started;
  gint64 last_receive;

  GQueue queue; /* QueuedRecord* */
  gsize queued_bytes;
  gboolean above_high;
  gboolean corked; /* delivering records: echoes wait for one write at the end */

  GSource *timer;
  GSocketAddress *sender;
};

void
c_async_socket_records_init (CAsyncSocketPrivate *priv)
{
  priv->max_record_size = DEFAULT_MAX_RECORD_SIZE;
  priv->low_water_mark = DEFAULT_LOW_WATER_MARK;
  priv->high_water_mark = DEFAULT_HIGH_WATER_MARK;
}

static void
scratch_free (gpointer data)
{
  g_free (data);
}

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
  guint8 *scratch = g_private_get (&scratch_key);

  if (scratch == NULL)
    {
      scratch = g_malloc (SCRATCH_SIZE);
      g_private_set (&scratch_key, scratch);
    }
  return scratch;
}

static void
queued_record_free (gpointer data)
{
  QueuedRecord *record = data;
  g_bytes_unref (record->bytes);
  g_free (record);
}

/* Frees the running state (buffers, queue, timers) when the descriptor goes away. */
void
c_async_socket_records_reset (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state == NULL)
    return;
  c_record_block_give_back (state->partial, state->partial_block);
  for (GList *link; (link = g_queue_pop_head_link (&state->queue)) != NULL;)
    queued_record_free (link->data);
  if (state->timer != NULL)
    {
      g_source_destroy (state->timer);
      g_source_unref (state->timer);
    }
  g_clear_object (&state->sender);
  g_free (state);
  priv->records = NULL;
}

/* The connection is dead: what waits in the write queue can never leave. Frees it, so that a
 * dead connection holds no memory for records nobody will read. */
void
c_async_socket_records_discard_queue (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state == NULL)
    return;
  for (GList *link; (link = g_queue_pop_head_link (&state->queue)) != NULL;)
    queued_record_free (link->data);
  state->queued_bytes = 0;
  state->above_high = FALSE;
  priv->shutdown_pending = FALSE;
}

static gboolean
has_failed (CAsyncSocketPrivate *priv)
{
  return priv->close_reason != NULL;
}

/* Timers: one source per socket, only when a timeout is set; reads only update times. */

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

static gint64
next_deadline (CAsyncSocketPrivate *priv)
{
  CRecordState *state = priv->records;
  gint64 next = -1;

  if (priv->idle_timeout_ms > 0)
    next = state->last_receive + (gint64) priv->idle_timeout_ms * 1000;
  if (priv->record_timeout_ms > 0 && state->record_started > 0)
    {
      gint64 record_deadline = state->record_started + (gint64) priv->record_timeout_ms * 1000;
      if (next < 0 || record_deadline < next)
        next = record_deadline;
    }
  return next;
}

static gboolean
timer_fired (gpointer data)
{
  CAsyncSocket *self = data;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;
  gint64 now = g_get_monotonic_time ();

  if (has_failed (priv))
    {
      g_source_set_ready_time (state->timer, -1);
      return G_SOURCE_CONTINUE;
    }
  if (priv->record_timeout_ms > 0 && state->record_started > 0
      && now - state->record_started >= (gint64) priv->record_timeout_ms * 1000)
    c_async_socket_fail (self, ETIMEDOUT,
                         g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "record not complete after %u ms (%zu bytes so far)",
                                      priv->record_timeout_ms, state->partial_length));
  else if (priv->idle_timeout_ms > 0
           && now - state->last_receive >= (gint64) priv->idle_timeout_ms * 1000)
    c_async_socket_fail (self, ETIMEDOUT,
                         g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "no data received for %u ms", priv->idle_timeout_ms));
  g_source_set_ready_time (state->timer, has_failed (priv) ? -1 : next_deadline (priv));
  return G_SOURCE_CONTINUE;
}

static void
arm_timer (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;
  gint64 deadline;

  if (state == NULL || (priv->idle_timeout_ms == 0 && priv->record_timeout_ms == 0))
    return;
  if (state->timer == NULL)
    {
      state->timer = g_source_new (&timer_funcs, sizeof (GSource));
      g_source_set_static_name (state->timer, "afxsock record timeouts");
      g_source_set_callback (state->timer, timer_fired, self, NULL);
      g_source_attach (state->timer, priv->context);
    }
  deadline = next_deadline (priv);
  if (g_source_get_ready_time (state->timer) < 0
      || deadline < g_source_get_ready_time (state->timer))
    g_source_set_ready_time (state->timer, deadline);
}

static CRecordState *
ensure_state (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->records == NULL)
    {
      priv->records = g_new0 (CRecordState, 1);
      g_queue_init (&priv->records->queue);
      priv->records->last_receive = g_get_monotonic_time ();
      arm_timer (self);
    }
  return priv->records;
}

/* The running state is made on first use, so that idle connections carry none; only a
 * timeout needs it (and its timer) from the start: on a connection in record mode that a
 * timeout was set on, whether before or after it was accepted or switched to records, and
 * whether or not anything has arrived yet. */
static void
start_timeouts (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->idle_timeout_ms == 0 && priv->record_timeout_ms == 0)
    return;
  if (priv->record_mode && priv->fd >= 0 && !priv->listening)
    ensure_state (self);
  arm_timer (self);
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
  return priv->incarnation == incarnation && !has_failed (priv);
}

static gboolean
deliver_record (CAsyncSocket *self, const guint8 *data, gsize length, guint incarnation)
{
  guint8 *block;
  gsize capacity;

  if (length < C_RECORD_BLOCK_POOL_MIN)
    return deliver_record_bytes (self, g_bytes_new (data, length), incarnation);
  /* A large record: copied into a record block, laid out as if assembled there, so that
   * it goes back to the pool. */
  block = c_record_block_take (length + HEADER_SIZE, &capacity);
  memcpy (block + HEADER_SIZE, data, length);
  return deliver_record_bytes (self, c_record_in_block (block, capacity, length), incarnation);
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

  while (length - offset >= HEADER_SIZE)
    {
      guint32 record_length = read_be32 (data + offset);
      if (!check_length (self, record_length))
        return -1;
      if (length - offset - HEADER_SIZE < record_length)
        break;
      if (!deliver_record (self, data + offset + HEADER_SIZE, record_length, incarnation))
        return -1;
      offset += HEADER_SIZE + record_length;
    }
  return (gssize) offset;
}

/* A record whose length is known and whose bytes do not all fit: read straight into its
 * own buffer, growing with the bytes that arrive. Returns the recv result. */
static gssize
read_into_partial (CAsyncSocketPrivate *priv, CRecordState *state)
{
  gsize total = (gsize) read_be32 (state->partial) + HEADER_SIZE;
  gsize want = partial_room (total, state->partial_length);
  gssize n;

  grow_partial (state, want);
  do
    n = recv (priv->fd, state->partial + state->partial_length,
              MIN (state->partial_capacity, total) - state->partial_length, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    state->partial_length += (gsize) n;
  return n;
}

static gssize
read_into_scratch (CAsyncSocketPrivate *priv, CRecordState *state, guint8 *scratch)
{
  gsize carried = state->partial_length; /* fewer than HEADER_SIZE bytes, or none */
  gssize n;

  if (carried > 0)
    memcpy (scratch, state->partial, carried);
  do
    n = recv (priv->fd, scratch + carried, SCRATCH_SIZE - carried, 0);
  while (n < 0 && errno == EINTR);
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

  priv->peer_closed = TRUE;
  priv->eof_read = TRUE;
  if (state->partial_length > 0)
    c_async_socket_fail (self, EPROTO,
                         g_error_new (C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE,
                                      "the peer closed in the middle of a record (%zu bytes "
                                      "received)",
                                      state->partial_length));
}

/* One read and what follows from it; FALSE when reading should stop for now. */
static gboolean
read_stream_once (CAsyncSocket *self, CRecordState *state, guint incarnation, gsize *budget)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gboolean direct = state->partial_length >= HEADER_SIZE;
  guint8 *scratch = direct ? NULL : scratch_buffer ();
  gssize n = direct ? read_into_partial (priv, state) : read_into_scratch (priv, state, scratch);
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

      if (state->partial_length < total)
        return TRUE;
      state->partial = NULL;
      drop_partial (state);
      return deliver_record_bytes (self, c_record_in_block (block, capacity, total - HEADER_SIZE),
                                   incarnation);
    }

  used = cut_records (self, scratch, had_partial + (gsize) n, incarnation);
  if (used < 0)
    return FALSE;
  if ((gsize) used < had_partial + (gsize) n)
    {
      if (used > 0 || state->record_started == 0)
        state->record_started = g_get_monotonic_time ();
      keep_partial (state, scratch + used, had_partial + (gsize) n - (gsize) used);
      arm_timer (self);
    }
  else
    drop_partial (state);
  return TRUE;
}

static void
read_datagrams (CAsyncSocket *self, CRecordState *state, guint incarnation)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  guint8 *scratch = scratch_buffer ();

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
          g_message ("descriptor %d: dropped a datagram of %zd bytes, over the maximum record "
                     "size of %zu",
                     priv->fd, n, priv->max_record_size);
          continue;
        }
      g_clear_object (&state->sender);
      if (length > 0)
        state->sender = g_socket_address_new_from_native (&storage, length);
      if (!deliver_record (self, scratch, (gsize) n, incarnation))
        return;
    }
  c_async_socket_defer (self, C_DEFER_PROBE); /* more may wait: after the other sockets */
}

static gboolean flush_queue (CAsyncSocket *self);
static void check_drained (CAsyncSocket *self);

/* Called by the event code instead of on_receive while in record mode. */
void
c_async_socket_records_readable (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = ensure_state (self);
  guint incarnation = priv->incarnation;
  gsize budget = READ_BUDGET;

  if (has_failed (priv))
    return;
  if (priv->type != C_SOCK_STREAM)
    read_datagrams (self, state, incarnation);
  else
    {
      /* Records sent from on_record while this read is being cut go out together, in
       * one vectored write after the loop, not one write each. */
      state->corked = TRUE;
      while (read_stream_once (self, priv->records, incarnation, &budget))
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
        {
          state->corked = FALSE;
          if (!priv->write_wanted && state->queue.length > 0 && !has_failed (priv)
              && flush_queue (self))
            check_drained (self);
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

/* Sending. */

static gsize
record_size (QueuedRecord *record)
{
  return record->header_size + g_bytes_get_size (record->bytes);
}

/* Fills an iovec from the queue's head; returns the number of entries. */
static int
gather (CRecordState *state, struct iovec *iov)
{
  int count = 0;

  for (GList *l = state->queue.head; l != NULL && count + 2 <= MAX_IOV; l = l->next)
    {
      QueuedRecord *record = l->data;
      gsize payload_size;
      const guint8 *payload = g_bytes_get_data (record->bytes, &payload_size);
      gsize done = record->done;

      if (done < record->header_size)
        {
          iov[count].iov_base = record->header + done;
          iov[count++].iov_len = record->header_size - done;
          done = record->header_size;
        }
      if (payload_size > done - record->header_size)
        {
          iov[count].iov_base = (guint8 *) payload + (done - record->header_size);
          iov[count++].iov_len = payload_size - (done - record->header_size);
        }
      if (record->header_size == 0)
        break; /* datagrams leave one at a time */
    }
  return count;
}

/* Marks @n bytes as sent, freeing the records that are complete. */
static void
advance (CAsyncSocketPrivate *priv, CRecordState *state, gsize n)
{
  state->queued_bytes -= n;
  while (n > 0 || (state->queue.head && record_size (state->queue.head->data) == 0))
    {
      QueuedRecord *record = g_queue_peek_head (&state->queue);
      gsize left = record_size (record) - record->done;
      gsize step = MIN (n, left);

      record->done += step;
      n -= step;
      if (record->done < record_size (record))
        break;
      priv->stats.records_sent++;
      queued_record_free (g_queue_pop_head_link (&state->queue)->data);
    }
}

/* Writes what the kernel takes; returns FALSE on a failure that closed the connection. */
static gboolean
flush_queue (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  while (state->queue.length > 0)
    {
      struct iovec iov[MAX_IOV];
      struct msghdr message = { 0 };
      gssize n;

      message.msg_iov = iov;
      message.msg_iovlen = (size_t) gather (state, iov);
      do
        n = sendmsg (priv->fd, &message, MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        {
          int error_code = errno;
          if (error_code == EAGAIN || error_code == EWOULDBLOCK || error_code == ENOBUFS)
            {
              priv->write_wanted = TRUE;
              return TRUE;
            }
          c_async_socket_fail (self, error_code,
                               g_error_new (G_IO_ERROR, g_io_error_from_errno (error_code),
                                            "send: %s", g_strerror (error_code)));
          return FALSE;
        }
      c_async_socket_note_sent (priv, (gsize) n);
      advance (priv, state, (gsize) n);
    }
  return TRUE;
}

static void
check_drained (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state->above_high && state->queued_bytes <= priv->low_water_mark)
    {
      state->above_high = FALSE;
      c_async_socket_defer (self, C_DEFER_DRAIN);
    }
}

/* Writes what the kernel takes of the queue now, before a shut_down or a close: records the
 * application was told were sent must not be overtaken by the end of stream. */
void
c_async_socket_records_flush_now (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state != NULL && state->queue.length > 0 && !has_failed (priv))
    {
      state->corked = FALSE;
      flush_queue (self);
    }
}

/* Whether records wait in the write queue. */
gboolean
c_async_socket_records_pending (CAsyncSocket *self)
{
  CRecordState *state = c_async_socket_get_private (self)->records;
  return state != NULL && state->queue.length > 0;
}

/* A half-close asked for while records waited goes out after the last of them. */
static void
finish_pending_shutdown (CAsyncSocketPrivate *priv)
{
  if (priv->shutdown_pending && priv->records->queue.length == 0)
    {
      priv->shutdown_pending = FALSE;
      shutdown (priv->fd, SHUT_WR);
    }
}

/* Called by the event code when the socket can send. Returns TRUE when records are still
 * waiting, so that on_send is not yet due to the application. */
gboolean
c_async_socket_records_writable (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state == NULL || state->queue.length == 0)
    return FALSE;
  priv->write_wanted = FALSE;
  if (!flush_queue (self))
    return TRUE;
  check_drained (self);
  finish_pending_shutdown (priv);
  /* Once the queue is empty the turn goes on to the application: on_send says that
   * everything queued has left, e.g. that it may now close. */
  return state->queue.length > 0;
}

static gboolean
check_can_send_record (CAsyncSocket *self, gsize size, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_check_created (self, "send_record", error))
    return FALSE;
  if (!priv->record_mode)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "send_record: the socket is not in record mode");
      return FALSE;
    }
  if (priv->close_error != 0)
    {
      /* A reset, a timeout or the library's own close: every later send fails with it. */
      c_set_last_error (priv->close_error);
      if (has_failed (priv))
        c_set_io_error (error, priv->close_error, "send_record: the connection was closed (%s)",
                        priv->close_reason->message);
      else
        c_set_io_error (error, priv->close_error, "send_record: the connection was lost");
      return FALSE;
    }
  if (!priv->connected)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "send_record: the socket is not connected");
      return FALSE;
    }
  if (size > priv->max_record_size || size > G_MAXUINT32)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_LIMIT,
                          "send_record: a record of %zu bytes is over the maximum of %zu", size,
                          priv->max_record_size);
      return FALSE;
    }
  return TRUE;
}

/* The queue's bound: a record is taken when the queue stays within the high-water mark with
 * it, or when the queue is empty (so that a record larger than the mark can still be sent,
 * alone). The queue never holds more than max (high-water mark, one record). */
static gboolean
check_queue_room (CAsyncSocket *self, gsize size, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state->queued_bytes == 0 || state->queued_bytes + size <= priv->high_water_mark)
    return TRUE;
  /* Like a send that would block: try again later (on_drain). A record that can never be
   * sent (over the maximum size) is C_SOCKET_ERROR_LIMIT instead. */
  state->above_high = TRUE;
  c_set_last_error (EWOULDBLOCK);
  if (error != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                 "send_record: the write queue holds %zu bytes; a record of %zu more would "
                 "pass its high-water mark of %zu; wait for on_drain",
                 state->queued_bytes, size, priv->high_water_mark);
  if (priv->overflow_closes)
    c_async_socket_fail (self, ENOBUFS,
                         g_error_new (C_SOCKET_ERROR, C_SOCKET_ERROR_LIMIT,
                                      "the peer does not read: %zu bytes queued, and %zu more "
                                      "would pass the limit of %zu",
                                      state->queued_bytes, size, priv->high_water_mark));
  return FALSE;
}

/**
 * c_async_socket_send_record:
 * @self: a connected socket in record mode
 * @record: the record's bytes
 * @error: return location for a #GError
 *
 * Sends one record without blocking: what the kernel does not take at once waits in the
 * socket's write queue and leaves when the socket can send (on a stream, the record is
 * framed with its length; on a datagram socket it is one datagram to the connected peer).
 *
 * The queue is bounded by its high-water mark (c_async_socket_set_water_marks()): a record
 * that would take the queue past the mark is refused with %G_IO_ERROR_WOULD_BLOCK, and
 * `on_drain` comes once the queue is back under the low-water mark; with
 * c_async_socket_set_overflow_closes() the connection is closed too, and `on_close` reports
 * `ENOBUFS`. Only an empty queue takes a record larger than the mark, so the queue never
 * holds more than the mark or one record, whichever is larger. A record over the maximum
 * record size is refused with %C_SOCKET_ERROR_LIMIT. When the socket could not send
 * everything at once, `on_send` comes once the queue has emptied: everything sent has left,
 * and the socket may be closed.
 *
 * Once the connection is known dead (a reset or a timeout reported by `on_close`, or a
 * connection afxsock closed itself), the queue is freed and every send fails with that
 * error (%G_IO_ERROR_CONNECTION_CLOSED for a reset).
 *
 * Returns: %TRUE if the record was sent or queued
 */
gboolean
c_async_socket_send_record (CAsyncSocket *self, GBytes *record, GError **error)
{
  CAsyncSocketPrivate *priv;
  CRecordState *state;
  QueuedRecord *queued;
  gsize size;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  priv = c_async_socket_get_private (self);
  size = g_bytes_get_size (record);
  if (!check_can_send_record (self, size, error))
    return FALSE;
  state = ensure_state (self);
  if (!check_queue_room (self, size + (priv->type == C_SOCK_STREAM ? HEADER_SIZE : 0), error))
    return FALSE;

  /* One allocation per queued record: the queue's link is part of it. */
  queued = g_new0 (QueuedRecord, 1);
  queued->link.data = queued;
  queued->bytes = g_bytes_ref (record);
  if (priv->type == C_SOCK_STREAM)
    {
      queued->header_size = HEADER_SIZE;
      queued->header[0] = (guint8) (size >> 24);
      queued->header[1] = (guint8) (size >> 16);
      queued->header[2] = (guint8) (size >> 8);
      queued->header[3] = (guint8) size;
    }
  g_queue_push_tail_link (&state->queue, &queued->link);
  state->queued_bytes += record_size (queued);
  /* Write at once unless the kernel said "full" since: then on_send's turn flushes. */
  if (!priv->write_wanted && !state->corked && !flush_queue (self))
    return TRUE; /* queued; the failure is reported by on_close */
  if (state->queued_bytes >= priv->high_water_mark)
    state->above_high = TRUE;
  return TRUE;
}

/**
 * c_async_socket_send_record_data:
 * @self: a connected socket in record mode
 * @data: (array length=size) (element-type guint8): the record's bytes
 * @size: their number
 * @error: return location for a #GError
 *
 * Like c_async_socket_send_record(), copying @data.
 *
 * Returns: %TRUE if the record was sent or queued
 */
gboolean
c_async_socket_send_record_data (CAsyncSocket *self, const void *data, gsize size, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  /* Check before copying: a refused record costs nothing. */
  if (!check_can_send_record (self, size, error))
    return FALSE;
  bytes = g_bytes_new (data, size);
  return c_async_socket_send_record (self, bytes, error);
}

/**
 * c_async_socket_send_archive:
 * @self: a connected socket in record mode
 * @archive: a storing archive made by c_archive_new_store_to_memory()
 * @error: return location for a #GError
 *
 * Sends what @archive stored as one record and leaves the archive empty for the next one
 * (without copying: the archive's buffer becomes the record). An archive whose writing
 * failed is not sent: its error is returned.
 *
 * Returns: %TRUE if the record was sent or queued
 */
gboolean
c_async_socket_send_archive (CAsyncSocket *self, CArchive *archive, GError **error)
{
  g_autoptr (GBytes) record = NULL;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (C_IS_ARCHIVE (archive) && c_archive_is_storing (archive), FALSE);
  if (!c_archive_check (archive, error))
    {
      g_prefix_error (error, "send_archive: ");
      return FALSE;
    }
  record = c_archive_steal_bytes (archive);
  return c_async_socket_send_record (self, record, error);
}

/**
 * c_async_socket_set_record_mode:
 * @self: a socket
 * @enabled: whether records replace `on_receive`
 * @error: return location for a #GError
 *
 * Switches the socket to whole records (beyond MFC, which leaves framing to the
 * application). In record mode the socket reads by itself and delivers each whole record
 * through `on_record` (and the #CAsyncSocket::record signal), never a partial one;
 * `on_receive` is not delivered and c_async_socket_receive() fails. Records are sent with
 * c_async_socket_send_record(). The frame format is in docs/wire-format.md. Accepted
 * sockets inherit the listener's mode.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_record_mode (CAsyncSocket *self, gboolean enabled, GError **error)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  priv = c_async_socket_get_private (self);
  if (priv->type == C_SOCK_RAW && priv->fd >= 0)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "set_record_mode: raw sockets carry no records");
      return FALSE;
    }
  priv->record_mode = enabled != FALSE;
  /* A listener only passes the mode and its settings on to the sockets it accepts. */
  if (priv->record_mode && priv->fd >= 0 && !priv->listening)
    {
      start_timeouts (self);
      c_async_socket_defer (self, C_DEFER_PROBE); /* records may already be waiting */
    }
  return TRUE;
}

/**
 * c_async_socket_get_record_mode:
 * @self: a socket
 *
 * Tells whether the socket is in record mode.
 *
 * Returns: whether the socket is in record mode
 */
gboolean
c_async_socket_get_record_mode (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return c_async_socket_get_private (self)->record_mode;
}

/**
 * c_async_socket_get_queued_bytes:
 * @self: a socket
 *
 * How much of the record path's write queue is still to be sent.
 *
 * Returns: the bytes waiting in the write queue (record headers included)
 */
gsize
c_async_socket_get_queued_bytes (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), 0);
  priv = c_async_socket_get_private (self);
  return priv->records != NULL ? priv->records->queued_bytes : 0;
}

/**
 * c_async_socket_get_record_sender:
 * @self: a datagram socket in record mode
 *
 * The sender of a datagram record.
 *
 * Returns: (transfer none) (nullable): the sender of the record being delivered (valid
 *   during `on_record`)
 */
GSocketAddress *
c_async_socket_get_record_sender (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  priv = c_async_socket_get_private (self);
  return priv->records != NULL ? priv->records->sender : NULL;
}

/**
 * c_async_socket_get_close_error:
 * @self: a socket
 *
 * Why afxsock closed the connection itself: a record over the maximum size, a peer that
 * closed in the middle of a record, an idle or record timeout, a write queue over its
 * limit. The same reason is logged.
 *
 * Returns: (transfer none) (nullable): the reason, or %NULL
 */
const GError *
c_async_socket_get_close_error (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  return c_async_socket_get_private (self)->close_reason;
}

/**
 * c_async_socket_set_max_record_size:
 * @self: a socket
 * @max_record_size: the largest record accepted, in bytes (default 64 MiB)
 *
 * A peer announcing a larger record is disconnected before anything that large is
 * allocated (`on_close` reports `EMSGSIZE`); larger records are refused by
 * c_async_socket_send_record().
 */
void
c_async_socket_set_max_record_size (CAsyncSocket *self, gsize max_record_size)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  c_async_socket_get_private (self)->max_record_size = MIN (max_record_size, G_MAXUINT32);
}

/**
 * c_async_socket_get_max_record_size:
 * @self: a socket
 *
 * The largest record the socket accepts or sends.
 *
 * Returns: the largest record accepted
 */
gsize
c_async_socket_get_max_record_size (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), 0);
  return c_async_socket_get_private (self)->max_record_size;
}

/**
 * c_async_socket_set_water_marks:
 * @self: a socket
 * @low: `on_drain` comes when the queue falls to this many bytes (default 256 KiB)
 * @high: sends are refused once the queue holds this many (default 4 MiB)
 *
 * Bounds the write queue of the record path.
 */
void
c_async_socket_set_water_marks (CAsyncSocket *self, gsize low, gsize high)
{
  CAsyncSocketPrivate *priv;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  g_return_if_fail (low <= high && high > 0);
  priv = c_async_socket_get_private (self);
  priv->low_water_mark = low;
  priv->high_water_mark = high;
}

/**
 * c_async_socket_get_water_marks:
 * @self: a socket
 * @low: (out) (optional): the low-water mark
 * @high: (out) (optional): the high-water mark
 *
 * Reads the write queue's water marks.
 */
void
c_async_socket_get_water_marks (CAsyncSocket *self, gsize *low, gsize *high)
{
  CAsyncSocketPrivate *priv;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  priv = c_async_socket_get_private (self);
  if (low != NULL)
    *low = priv->low_water_mark;
  if (high != NULL)
    *high = priv->high_water_mark;
}

/**
 * c_async_socket_set_overflow_closes:
 * @self: a socket
 * @closes: whether a send over the high-water mark closes the connection
 *
 * By default a send over the high-water mark is refused; with @closes the connection is
 * closed too, as Redis does with a client whose output buffer is over its limit.
 */
void
c_async_socket_set_overflow_closes (CAsyncSocket *self, gboolean closes)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  c_async_socket_get_private (self)->overflow_closes = closes != FALSE;
}

/**
 * c_async_socket_set_idle_timeout:
 * @self: a socket in record mode
 * @timeout_ms: milliseconds without any byte received before the connection is closed
 *   (`on_close` reports `ETIMEDOUT`); 0, the default, for none
 *
 * Closes a connection on which nothing arrives for a while. The clock starts when the
 * timeout is set (or, if set before, when the connection is switched to records): a peer
 * that never sends a byte is dropped too. A listener passes it on to the connections it
 * accepts.
 */
void
c_async_socket_set_idle_timeout (CAsyncSocket *self, guint timeout_ms)
{
  CAsyncSocketPrivate *priv;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  priv = c_async_socket_get_private (self);
  priv->idle_timeout_ms = timeout_ms;
  if (priv->records != NULL)
    priv->records->last_receive = g_get_monotonic_time ();
  start_timeouts (self);
}

/**
 * c_async_socket_set_record_timeout:
 * @self: a socket in record mode
 * @timeout_ms: milliseconds a record may take from its first byte to its last before the
 *   connection is closed (`on_close` reports `ETIMEDOUT`); 0, the default, for none. A
 *   peer dribbling a byte a minute is dropped.
 *
 * Closes a connection whose record takes too long to arrive.
 */
void
c_async_socket_set_record_timeout (CAsyncSocket *self, guint timeout_ms)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  c_async_socket_get_private (self)->record_timeout_ms = timeout_ms;
  start_timeouts (self);
}

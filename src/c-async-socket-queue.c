/* c-async-socket-queue.c: the record path's write queue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sending goes through a bounded queue. A record is written at once when the queue is
 * empty, straight from where the caller holds it (its GBytes, its memory, an archive's
 * buffer: send_one); only what the kernel does not take waits in the queue, as a reference
 * to the GBytes or a copy in a record block (c-record-blocks.c), and leaves, header and
 * payload together, by vectored writes when the socket is writable. The queue is a ring of
 * entries in one block, taken when the first record waits and given back when the last has
 * left, so a queue that empties at every write allocates nothing. Past the high-water mark a send
 * is refused (or, if so configured, closes the connection: Redis's output-buffer limit), so
 * a reader that stalls cannot grow our memory without bound; on_drain says when the queue
 * is back under the low-water mark.
 *
 * While the reader (c-async-socket-records.c) delivers the records of one read, the queue
 * is corked: what on_record sends waits, and leaves in one vectored write once the read is
 * cut (c_async_socket_records_uncork). The queue lives in the record path's running state,
 * shared with the reader (c-async-socket-records-private.h); the water marks and
 * overflow_closes are settings in CAsyncSocketPrivate.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "c-async-socket-records-private.h"
#include "c-record-blocks.h"
#include "c-transport.h"
#include <afxsock/c-archive.h>

#define HEADER_SIZE C_RECORD_HEADER_SIZE
#define MAX_IOV 64
#define MIN_RING 8

/* A record waiting in the write queue: a reference to the application's GBytes, or a copy of
 * bytes sent from memory in a block of its own (c-record-blocks.c). */
typedef struct _CQueuedRecord
{
  GBytes *bytes; /* NULL when the bytes are in block */
  const guint8 *data;
  gsize size;
  guint8 *block;
  gsize block_capacity;
  gsize done; /* bytes of header + payload already sent */
  guint8 header[HEADER_SIZE];
  guint8 header_size; /* 0 for datagrams */
} QueuedRecord;

static void
queued_record_clear (QueuedRecord *record)
{
  if (record->bytes != NULL)
    g_bytes_unref (record->bytes);
  c_record_block_give_back (record->block, record->block_capacity);
}

static inline QueuedRecord *
ring_at (CRecordState *state, guint32 i)
{
  return &state->ring[(state->ring_head + i) & (state->ring_size - 1)];
}

static void
ring_give_back (CRecordState *state)
{
  c_record_block_give_back ((guint8 *) state->ring, state->ring_block);
  state->ring = NULL;
  state->ring_block = 0;
  state->ring_size = state->ring_head = 0;
}

/* The entry at the queue's tail, the ring growing (doubling: its size stays a power of
 * two) when full. */
static QueuedRecord *
ring_push (CRecordState *state)
{
  if (state->queue_length == state->ring_size)
    {
      guint32 size = state->ring_size > 0 ? state->ring_size * 2 : MIN_RING;
      gsize capacity;
      QueuedRecord *ring
          = (QueuedRecord *) c_record_any_block_take (size * sizeof (QueuedRecord), &capacity);

      for (guint32 i = 0; i < state->queue_length; i++)
        ring[i] = *ring_at (state, i);
      if (state->ring != NULL)
        ring_give_back (state);
      state->ring = ring;
      state->ring_block = capacity;
      state->ring_size = size;
      state->ring_head = 0;
    }
  return ring_at (state, state->queue_length++);
}

/* Drops the entry at the head; the ring goes back with the last one. */
static void
ring_pop (CRecordState *state)
{
  queued_record_clear (ring_at (state, 0));
  state->ring_head = (state->ring_head + 1) & (state->ring_size - 1);
  if (--state->queue_length == 0)
    ring_give_back (state);
}

/* Frees every record in the queue (the caller settles the counts). */
void
c_async_socket_records_free_queue (CRecordState *state)
{
  while (state->queue_length > 0)
    ring_pop (state);
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
  c_async_socket_records_free_queue (state);
  state->queued_bytes = 0;
  state->above_high = FALSE;
  priv->shutdown_pending = FALSE;
}

static inline gsize
record_size (const QueuedRecord *record)
{
  return record->header_size + record->size;
}

/* Fills @iov with what is left of @record; returns the number of entries (0 to 2). */
static int
record_iov (const QueuedRecord *record, struct iovec *iov)
{
  int count = 0;
  gsize done = record->done;

  if (done < record->header_size)
    {
      iov[count].iov_base = (guint8 *) record->header + done;
      iov[count++].iov_len = record->header_size - done;
      done = record->header_size;
    }
  if (record->size > done - record->header_size)
    {
      iov[count].iov_base = (guint8 *) record->data + (done - record->header_size);
      iov[count++].iov_len = record->size - (done - record->header_size);
    }
  return count;
}

/* Fills an iovec from the queue's head; returns the number of entries. */
static int
gather (CRecordState *state, struct iovec *iov)
{
  int count = 0;

  for (guint32 i = 0; i < state->queue_length && count + 2 <= MAX_IOV; i++)
    {
      QueuedRecord *record = ring_at (state, i);

      count += record_iov (record, iov + count);
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
  while (n > 0 || (state->queue_length > 0 && record_size (ring_at (state, 0)) == 0))
    {
      QueuedRecord *record = ring_at (state, 0);
      gsize left = record_size (record) - record->done;
      gsize step = MIN (n, left);

      record->done += step;
      n -= step;
      if (record->done < record_size (record))
        break;
      priv->stats.records_sent++;
      ring_pop (state);
    }
}

/* A failed write: FALSE when it closed the connection, TRUE when the kernel is only full
 * (on_send's turn writes the rest). */
static gboolean
write_failed (CAsyncSocket *self, int error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (error_code == EAGAIN || error_code == EWOULDBLOCK || error_code == ENOBUFS)
    {
      c_async_socket_want_write (priv);
      return TRUE;
    }
  c_async_socket_fail (self, error_code,
                       g_error_new (G_IO_ERROR, g_io_error_from_errno (error_code), "send: %s",
                                    g_strerror (error_code)));
  return FALSE;
}

/* Writes what the kernel takes; returns FALSE on a failure that closed the connection. */
static gboolean
flush_queue (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  while (state->queue_length > 0)
    {
      struct iovec iov[MAX_IOV];
      int count = gather (state, iov);
      gssize n = c_transport_write (priv, iov, count, 0);

      if (n < 0)
        return write_failed (self, errno);
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

/* The reader corks the queue while it delivers records (c_async_socket_records_readable):
 * records sent from on_record meanwhile go out together, in one vectored write here. */
void
c_async_socket_records_uncork (CAsyncSocket *self, CRecordState *state)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  state->corked = FALSE;
  if (!priv->write_wanted && state->queue_length > 0 && !c_async_socket_has_failed (priv)
      && flush_queue (self))
    check_drained (self);
}

/* Writes what the kernel takes of the queue now, before a shut_down or a close: records the
 * application was told were sent must not be overtaken by the end of stream. */
void
c_async_socket_records_flush_now (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state != NULL && state->queue_length > 0 && !c_async_socket_has_failed (priv))
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
  return state != NULL && state->queue_length > 0;
}

/* A half-close asked for while records waited goes out after the last of them. */
static void
finish_pending_shutdown (CAsyncSocketPrivate *priv)
{
  if (priv->shutdown_pending && priv->records->queue_length == 0)
    {
      priv->shutdown_pending = FALSE;
      c_transport_shutdown (priv, SHUT_WR);
    }
}

/* shut_down (sends) with records still queued: the half-close waits for the last of them.
 * Returns FALSE when nothing is queued (the caller shuts down at once). */
gboolean
c_async_socket_records_shut_down_after_queue (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_records_pending (self))
    return FALSE;
  priv->shutdown_pending = TRUE;
  return TRUE;
}

/* Called by the event code, in on_send's turn, when records wait (it has cleared
 * write_wanted). Returns TRUE when records are still waiting, so that on_send is not yet
 * due to the application. */
gboolean
c_async_socket_records_writable (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  CRecordState *state = priv->records;

  if (state == NULL || state->queue_length == 0)
    return FALSE;
  if (!flush_queue (self))
    return TRUE;
  check_drained (self);
  finish_pending_shutdown (priv);
  /* Once the queue is empty the turn goes on to the application: on_send says that
   * everything queued has left, e.g. that it may now close. */
  return state->queue_length > 0;
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
      if (c_async_socket_has_failed (priv))
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

/* Keeps what is left of a record for the queue's tail: a reference to @bytes, the archive's
 * buffer (a record over the small blocks' size), or a copy. */
static void
keep_record (QueuedRecord *queued, GBytes *bytes, const guint8 *data, gsize size, CArchive *archive)
{
  if (bytes == NULL && archive != NULL && size > C_RECORD_SMALL_BLOCK_MAX)
    {
      queued->bytes = c_archive_steal_bytes (archive);
      queued->data = g_bytes_get_data (queued->bytes, NULL);
      return;
    }
  if (bytes != NULL)
    {
      queued->bytes = g_bytes_ref (bytes);
      queued->data = data;
      return;
    }
  if (size > 0)
    {
      queued->block = c_record_any_block_take (size, &queued->block_capacity);
      memcpy (queued->block, data, size);
      queued->data = queued->block;
    }
  if (archive != NULL)
    c_archive_clear_bytes (archive);
}

/* Sends one record: @data, @size bytes, which @bytes (when not NULL) holds, or @archive's
 * stored bytes. When nothing waits the record is written at once from where it is; only what
 * the kernel does not take goes into the queue (keep_record). Returns FALSE when the record
 * was refused (@error set; an archive keeps it). */
static gboolean
send_one (CAsyncSocket *self, GBytes *bytes, const guint8 *data, gsize size, CArchive *archive,
          GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  gsize header_size = priv->type == C_SOCK_STREAM ? HEADER_SIZE : 0;
  guint8 header[HEADER_SIZE]
      = { (guint8) (size >> 24), (guint8) (size >> 16), (guint8) (size >> 8), (guint8) size };
  CRecordState *state;
  QueuedRecord *queued;
  gsize done = 0;

  if (!check_can_send_record (self, size, error))
    return FALSE;
  state = c_async_socket_records_state (self);
  if (!check_queue_room (self, size + header_size, error))
    return FALSE;
  if (state->queue_length == 0 && !priv->write_wanted && !state->corked)
    {
      struct iovec iov[2] = { { header, header_size }, { (guint8 *) data, size } };
      gssize n = c_transport_write (priv, iov + (header_size == 0), 1 + (header_size != 0), 0);

      if (n < 0)
        {
          if (!write_failed (self, errno))
            {
              if (archive != NULL)
                c_archive_clear_bytes (archive);
              return TRUE; /* the failure is reported by on_close */
            }
          n = 0;
        }
      else
        c_async_socket_note_sent (priv, (gsize) n);
      if ((gsize) n == header_size + size)
        {
          priv->stats.records_sent++;
          if (archive != NULL)
            c_archive_clear_bytes (archive);
          return TRUE;
        }
      done = (gsize) n;
    }

  queued = ring_push (state);
  *queued = (QueuedRecord){ .size = size, .done = done, .header_size = (guint8) header_size };
  memcpy (queued->header, header, HEADER_SIZE);
  keep_record (queued, bytes, data, size, archive);
  state->queued_bytes += header_size + size - done;
  /* Write at once unless the kernel said "full" since (then on_send's turn flushes) or
   * records are being delivered (the reader's uncork writes them together). */
  if (!priv->write_wanted && !state->corked && !flush_queue (self))
    return TRUE; /* queued; the failure is reported by on_close */
  if (state->queued_bytes >= priv->high_water_mark)
    state->above_high = TRUE;
  return TRUE;
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
  gsize size;
  const guint8 *data;

  g_return_val_if_fail (c_async_socket_is_instance (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  data = g_bytes_get_data (record, &size);
  return send_one (self, record, data, size, NULL, error);
}

/**
 * c_async_socket_send_record_data:
 * @self: a connected socket in record mode
 * @data: (array length=size) (element-type guint8): the record's bytes
 * @size: their number
 * @error: return location for a #GError
 *
 * Like c_async_socket_send_record(), from memory: @data is written at once when nothing
 * waits in the queue, and what has to wait is copied.
 *
 * Returns: %TRUE if the record was sent or queued
 */
gboolean
c_async_socket_send_record_data (CAsyncSocket *self, const void *data, gsize size, GError **error)
{
  g_return_val_if_fail (c_async_socket_is_instance (self), FALSE);
  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  return send_one (self, NULL, data, size, NULL, error);
}

/**
 * c_async_socket_send_archive:
 * @self: a connected socket in record mode
 * @archive: a storing archive made by c_archive_new_store_to_memory()
 * @error: return location for a #GError
 *
 * Sends what @archive stored as one record and leaves the archive empty for the next one.
 * The record is written from the archive's own buffer when nothing waits in the queue (no
 * allocation, and the archive keeps its buffer for the next record); what has to wait is
 * copied, or for a record over 8 KiB takes the archive's buffer with it. An archive whose
 * writing failed is not sent: its error is returned. A record the queue refuses
 * (%G_IO_ERROR_WOULD_BLOCK, see c_async_socket_send_record()) stays in the archive, to be
 * sent again after `on_drain` or dropped with c_archive_clear_bytes().
 *
 * Returns: %TRUE if the record was sent or queued
 */
gboolean
c_async_socket_send_archive (CAsyncSocket *self, CArchive *archive, GError **error)
{
  const guint8 *data;
  gsize size;

  g_return_val_if_fail (c_async_socket_is_instance (self), FALSE);
  g_return_val_if_fail (C_IS_ARCHIVE (archive) && c_archive_is_storing (archive), FALSE);
  if (!c_archive_check (archive, error))
    {
      g_prefix_error (error, "send_archive: ");
      return FALSE;
    }
  data = c_archive_get_data (archive, &size);
  return send_one (self, NULL, data, size, archive, error);
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

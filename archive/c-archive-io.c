/* c-archive-io.c: CArchive's buffer: refills, raw reads and writes, flush, close, abort
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "c-archive-private.h"

/* One refill of a loading stream archive: a single read asking for the free space of
 * the buffer. Bytes not yet consumed move to the front first. Returns FALSE at end of
 * stream (a 0-byte read), on error (which becomes sticky) and for memory archives. */
gboolean
c_archive_refill (CArchive *self)
{
  GError *error = NULL;
  gssize n;

  if (self->input == NULL || self->error != NULL)
    return FALSE;
  if (self->cur > 0)
    {
      memmove (self->buffer, self->buffer + self->cur, self->end - self->cur);
      self->base += self->cur;
      self->end -= self->cur;
      self->cur = 0;
    }
  if (self->end == self->buffer_size)
    return TRUE;
  /* Not every stream checks its cancellable; the archive does, so that cancelling
   * works the same over any stream. */
  if (g_cancellable_set_error_if_cancelled (self->cancellable, &error))
    {
      c_archive_set_error (self, error);
      return FALSE;
    }
  n = g_input_stream_read (self->input, self->buffer + self->end, self->buffer_size - self->end,
                           self->cancellable, &error);
  if (n < 0)
    {
      c_archive_set_error (self, error);
      return FALSE;
    }
  self->end += n;
  return n > 0;
}

/* Copies up to length bytes, refilling only while some are still missing. */
static gsize
take_some (CArchive *self, guint8 *dest, gsize length)
{
  gsize done = 0;

  while (done < length)
    {
      gsize chunk;

      if (self->cur == self->end && !c_archive_refill (self))
        break;
      chunk = MIN (self->end - self->cur, length - done);
      memcpy (dest + done, self->data + self->cur, chunk);
      self->cur += chunk;
      done += chunk;
    }
  return done;
}

static void
fail_end_of_archive (CArchive *self, gsize needed, gsize got)
{
  c_archive_fail (self, C_ARCHIVE_ERROR_END_OF_FILE,
                  "end of archive (%" G_GSIZE_FORMAT " bytes needed, %" G_GSIZE_FORMAT " left)",
                  needed, got);
}

/* Reads exactly length bytes of the current field, or fails with end of archive. */
gboolean
c_archive_take (CArchive *self, void *dest, gsize length)
{
  gsize got;

  if (self->error != NULL)
    return FALSE;
  if (G_LIKELY (self->end - self->cur >= length))
    {
      memcpy (dest, self->data + self->cur, length);
      self->cur += length;
      return TRUE;
    }
  got = take_some (self, dest, length);
  if (got < length)
    fail_end_of_archive (self, length, got);
  return self->error == NULL;
}

/* Appends exactly length bytes to dest. dest grows with the bytes that arrive, never to
 * the claimed length at once, so a lying length prefix costs no more memory than the
 * data behind it. A memory archive knows its size and refuses such a length up front. */
gboolean
c_archive_take_into (CArchive *self, gsize length, GByteArray *dest)
{
  gsize done = 0;

  if (self->error != NULL)
    return FALSE;
  if (self->input == NULL && length > self->end - self->cur)
    {
      fail_end_of_archive (self, length, self->end - self->cur);
      return FALSE;
    }
  while (done < length)
    {
      gsize chunk;

      if (self->cur == self->end && !c_archive_refill (self))
        break;
      chunk = MIN (self->end - self->cur, length - done);
      g_byte_array_append (dest, self->data + self->cur, chunk);
      self->cur += chunk;
      done += chunk;
    }
  if (done < length)
    fail_end_of_archive (self, length, done);
  return self->error == NULL;
}

static gboolean
write_out (CArchive *self, const void *data, gsize length)
{
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (self->cancellable, &error)
      && g_output_stream_write_all (self->output, data, length, NULL, self->cancellable, &error))
    return TRUE;
  c_archive_set_error (self, error);
  return FALSE;
}

/* Sends the buffered bytes to the stream. */
static gboolean
drain_buffer (CArchive *self)
{
  gsize length = self->end;

  if (length == 0)
    return TRUE;
  self->end = 0;
  self->base += length;
  return write_out (self, self->buffer, length);
}

/* Makes room for length more bytes in a storing memory archive's buffer, doubling its
 * capacity until they fit (as GByteArray did), so that many small fields cost few
 * reallocations, and large records get the power-of-two blocks that malloc serves well
 * again and again: blocks of just the record's size made glibc grow and trim the heap for
 * every 1 MiB record, twenty times slower. A new block rather than g_realloc(): only the
 * bytes stored are copied. */
static void
grow_memory (CArchive *self, gsize length)
{
  gsize needed, capacity;
  guint8 *buffer;

  if (length > G_MAXSIZE - self->end)
    g_error ("c_archive_put: %" G_GSIZE_FORMAT " more bytes would overflow the archive", length);
  needed = self->end + length;
  capacity = MAX (self->buffer_size, C_ARCHIVE_MIN_BUFFER_SIZE);
  while (capacity < needed)
    capacity = capacity > G_MAXSIZE / 2 ? needed : capacity * 2;
  buffer = g_malloc (capacity);
  if (self->end > 0)
    memcpy (buffer, self->buffer, self->end);
  g_free (self->buffer);
  self->buffer = buffer;
  self->buffer_size = capacity;
}

/* Appends to the archive; blocks larger than a stream archive's buffer bypass it. */
void
c_archive_put (CArchive *self, const void *src, gsize length)
{
  if (self->error != NULL || length == 0)
    return;
  if (self->memory)
    {
      if (length > self->buffer_size - self->end)
        grow_memory (self, length);
      memcpy (self->buffer + self->end, src, length);
      self->end += length;
      return;
    }
  if (self->end + length > self->buffer_size && !drain_buffer (self))
    return;
  if (length >= self->buffer_size)
    {
      if (write_out (self, src, length))
        self->base += length;
      return;
    }
  memcpy (self->buffer + self->end, src, length);
  self->end += length;
}

/**
 * c_archive_write:
 * @self: a storing archive
 * @data: (array length=length) (element-type guint8): the bytes
 * @length: how many
 *
 * Writes raw bytes, with no length prefix (MFC's `CArchive::Write`).
 */
void
c_archive_write (CArchive *self, const void *data, gsize length)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (data != NULL || length == 0);

  if (c_archive_begin_field (self, "raw bytes", TRUE))
    c_archive_put (self, data, length);
}

/**
 * c_archive_read: (skip)
 * @self: a loading archive
 * @buffer: (out caller-allocates) (array length=length) (element-type guint8): where the
 *   bytes go
 * @length: how many to read
 *
 * Reads raw bytes (MFC's `CArchive::Read`). As in MFC, reaching the end of the archive
 * is not an error here: the return value is then smaller than @length. I/O errors are
 * sticky as usual. Bindings: c_archive_read_raw().
 *
 * Returns: the number of bytes read
 */
gsize
c_archive_read (CArchive *self, void *buffer, gsize length)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), 0);
  g_return_val_if_fail (buffer != NULL || length == 0, 0);

  if (!c_archive_begin_field (self, "raw bytes", FALSE))
    return 0;
  return take_some (self, buffer, length);
}

/**
 * c_archive_read_raw:
 * @self: a loading archive
 * @length: the most bytes to read
 *
 * c_archive_read() into a new #GBytes, for bindings (Python's `read`): raw bytes with no
 * length prefix (unlike c_archive_read_bytes()), up to @length, fewer at the end of the
 * archive. The memory grows with the bytes that arrive, not with @length, so a length read
 * from an untrusted record cannot make it allocate more.
 *
 * Returns: (transfer full): the bytes read, empty at the end of the archive or after an
 *   error
 */
GBytes *
c_archive_read_raw (CArchive *self, gsize length)
{
  GByteArray *bytes;

  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
  bytes = g_byte_array_new ();
  if (c_archive_begin_field (self, "raw bytes", FALSE))
    while (bytes->len < length)
      {
        guint before = bytes->len;
        gsize chunk = MIN (length - before, 65536);

        g_byte_array_set_size (bytes, before + chunk);
        chunk = take_some (self, bytes->data + before, chunk);
        g_byte_array_set_size (bytes, before + chunk);
        if (chunk == 0)
          break;
      }
  return g_byte_array_free_to_bytes (bytes);
}

/* A loading stream archive gives back what it read ahead when the stream can seek, as
 * MFC does; otherwise the bytes stay in the buffer for the next read. */
static gboolean
unread_buffer (CArchive *self, GError **error)
{
  goffset unread = self->end - self->cur;

  if (self->input == NULL || unread == 0 || !G_IS_SEEKABLE (self->input)
      || !g_seekable_can_seek (G_SEEKABLE (self->input)))
    return TRUE;
  if (!g_seekable_seek (G_SEEKABLE (self->input), -unread, G_SEEK_CUR, self->cancellable, error))
    return FALSE;
  self->base += self->end;
  self->cur = self->end = 0;
  return TRUE;
}

/**
 * c_archive_flush:
 * @self: an archive
 * @error: return location for an error
 *
 * For a storing stream archive, writes the buffer to the stream and flushes the stream:
 * "send the message now". Nothing is written if the archive already failed, so a record
 * with a bad field is never sent. For a loading archive over a seekable stream, seeks the
 * stream back over the bytes read ahead (MFC's behaviour); otherwise does nothing.
 *
 * Returns: %TRUE on success; %FALSE with the sticky error or the flush's error
 */
gboolean
c_archive_flush (CArchive *self, GError **error)
{
  GError *local = NULL;

  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);

  if (!c_archive_check (self, error))
    return FALSE;
  if (self->closed)
    return TRUE;
  if (!self->storing)
    return unread_buffer (self, error);
  if (self->output == NULL)
    return TRUE;
  self->field = "buffer";
  self->field_writing = TRUE;
  self->field_offset = c_archive_position (self);
  if (drain_buffer (self) && !g_output_stream_flush (self->output, self->cancellable, &local))
    c_archive_set_error (self, local);
  return c_archive_check (self, error);
}

/**
 * c_archive_close:
 * @self: an archive
 * @error: return location for an error
 *
 * Flushes a storing archive and detaches the archive from its stream, which stays open
 * (MFC's `Close`). Memory archives keep their bytes for c_archive_steal_bytes(). Every
 * later read or write fails. Closing twice is harmless.
 *
 * Returns: %TRUE if the archive had no error and the flush succeeded
 */
gboolean
c_archive_close (CArchive *self, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (C_IS_ARCHIVE (self), FALSE);

  if (self->closed)
    return c_archive_check (self, error);
  ok = c_archive_flush (self, error);
  c_archive_abort (self);
  return ok;
}

/**
 * c_archive_abort:
 * @self: an archive
 *
 * Closes the archive without flushing: buffered bytes of a storing stream archive are
 * dropped (MFC's `Abort`, for use after an error). The stream stays open.
 */
void
c_archive_abort (CArchive *self)
{
  g_return_if_fail (C_IS_ARCHIVE (self));

  self->closed = TRUE;
  c_archive_update_fast (self);
  if (self->input != NULL || self->output != NULL)
    {
      self->base += self->storing ? 0 : self->cur;
      self->cur = self->end = 0;
    }
  g_clear_object (&self->input);
  g_clear_object (&self->output);
}

/**
 * c_archive_steal_bytes:
 * @self: an archive made by c_archive_new_store_to_memory()
 *
 * Takes what the archive stored so far, without copying, and leaves the archive empty so
 * that it can store the next record. Object ids stay valid across records, as they do for
 * an MFC archive that lives as long as its connection. Check c_archive_check() first:
 * the bytes of a record with a failed field are incomplete.
 *
 * Returns: (transfer full): the stored bytes
 */
GBytes *
c_archive_steal_bytes (CArchive *self)
{
  GBytes *taken;
  gsize length;

  if (!c_archive_is_archive (self) || !self->memory || !self->storing)
    {
      g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
      g_return_val_if_fail (self->memory && self->storing, NULL);
    }

  length = self->end;
  if (length == 0)
    return g_bytes_new (NULL, 0);
  /* The buffer becomes the GBytes; the next record gets one the size of this one, within
   * reason, so that it usually fits without growing. */
  taken = g_bytes_new_with_free_func (self->buffer, length, g_free, self->buffer);
  self->base += length;
  self->end = 0;
  self->buffer_size = CLAMP (length, C_ARCHIVE_MIN_BUFFER_SIZE, C_ARCHIVE_MAX_KEPT_BUFFER);
  self->buffer = g_malloc (self->buffer_size);
  return taken;
}

/**
 * c_archive_get_bytes:
 * @self: an archive made by c_archive_new_store_to_memory()
 *
 * Copies what the archive stored so far; the archive keeps it.
 *
 * Returns: (transfer full): a copy of the stored bytes
 */
GBytes *
c_archive_get_bytes (CArchive *self)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
  g_return_val_if_fail (self->memory && self->storing, NULL);

  return g_bytes_new (self->buffer, self->end);
}

/**
 * c_archive_get_data: (skip)
 * @self: an archive made by c_archive_new_store_to_memory()
 * @length: (out): where to put the number of bytes stored
 *
 * What the archive stored since it was made or last emptied, in place: no copy and no
 * allocation. The bytes belong to the archive and stay valid until its next write,
 * c_archive_steal_bytes(), c_archive_clear_bytes() or finalization. With
 * c_archive_clear_bytes() afterwards, one storing archive serves record after record
 * without allocating (c_async_socket_send_record_data() sends such bytes).
 *
 * Returns: (transfer none) (nullable): the stored bytes, %NULL when there are none
 */
const guint8 *
c_archive_get_data (CArchive *self, gsize *length)
{
  g_return_val_if_fail (C_IS_ARCHIVE (self), NULL);
  g_return_val_if_fail (length != NULL, NULL);
  g_return_val_if_fail (self->memory && self->storing, NULL);

  *length = self->end;
  return self->end > 0 ? self->buffer : NULL;
}

/**
 * c_archive_clear_bytes:
 * @self: an archive made by c_archive_new_store_to_memory()
 *
 * Forgets what the archive stored so far and keeps its buffer for the next record: what
 * c_archive_steal_bytes() does, without handing the bytes over. Positions go on counting
 * and object ids stay valid, as after c_archive_steal_bytes().
 */
void
c_archive_clear_bytes (CArchive *self)
{
  g_return_if_fail (C_IS_ARCHIVE (self));
  g_return_if_fail (self->memory && self->storing);

  self->base += self->end;
  self->end = 0;
}

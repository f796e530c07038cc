/* c-transport-memory.c: a transport that reads from memory, for the fuzzers and tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A socket given this transport reads the bytes it was made with, cut into chunks of the
 * given sizes, then meets the end of the stream; what it writes is counted and dropped. No
 * system call is made, so a fuzzer can push an input through the record reader or a
 * CSocketFile in microseconds instead of through a socket pair.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "c-transport.h"

typedef struct
{
  CTransport parent;
  GBytes *data;
  gsize offset;
  gsize *chunks;
  gsize n_chunks;
  gsize next_chunk;
  gsize written;
} MemoryTransport;

static gssize
memory_read (CTransport *transport, void *buffer, gsize size, int flags, int *remaining)
{
  MemoryTransport *self = (MemoryTransport *) transport;
  gsize length;
  const guint8 *data = g_bytes_get_data (self->data, &length);
  gsize n = MIN (size, length - self->offset);

  if (flags & MSG_OOB)
    {
      errno = EINVAL; /* no urgent data, as a socket without any answers */
      return -1;
    }
  if (self->n_chunks > 0)
    n = MIN (n, self->chunks[self->next_chunk % self->n_chunks]);
  if (n > 0)
    memcpy (buffer, data + self->offset, n);
  if (!(flags & MSG_PEEK))
    {
      self->offset += n;
      if (self->n_chunks > 0 && n > 0)
        self->next_chunk++;
    }
  *remaining = (int) MIN (length - self->offset, (gsize) G_MAXINT);
  return (gssize) n;
}

static gssize
memory_write (CTransport *transport, const struct iovec *iov, int count, int flags)
{
  MemoryTransport *self = (MemoryTransport *) transport;
  gsize n = 0;

  for (int i = 0; i < count; i++)
    n += iov[i].iov_len;
  self->written += n;
  return (gssize) n;
}

static gsize
memory_pending (CTransport *transport)
{
  MemoryTransport *self = (MemoryTransport *) transport;
  return g_bytes_get_size (self->data) - self->offset;
}

static int
memory_shutdown (CTransport *transport, int how)
{
  return 0;
}

static void
memory_free (CTransport *transport)
{
  MemoryTransport *self = (MemoryTransport *) transport;

  g_bytes_unref (self->data);
  g_free (self->chunks);
  g_free (self);
}

static const CTransportClass memory_class = {
  "memory", memory_read, memory_write, memory_pending, memory_shutdown, memory_free,
};

CTransport *
c_transport_memory_new (GBytes *data, const gsize *chunks, gsize n_chunks)
{
  MemoryTransport *self = g_new0 (MemoryTransport, 1);

  self->parent.klass = &memory_class;
  self->data = g_bytes_ref (data);
  if (chunks != NULL && n_chunks > 0)
    {
      self->chunks = g_memdup2 (chunks, n_chunks * sizeof *chunks);
      self->n_chunks = n_chunks;
    }
  return &self->parent;
}

gsize
c_transport_memory_written (CTransport *transport)
{
  return ((MemoryTransport *) transport)->written;
}

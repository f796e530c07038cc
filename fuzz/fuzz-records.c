/* fuzz-records.c: libFuzzer target for the record framer, fed in chunks of random sizes
 *
 * A CAsyncSocket in record mode reads its input through the in-memory transport
 * (src/c-transport-memory.c): no bytes cross the kernel. The input says both what the
 * socket reads and how the reads are cut:
 *
 *   byte 0       settings: bits 0-1 choose the maximum record size (16 B, 1 KiB, 64 KiB or
 *                4 GiB - 1, the largest a header can announce)
 *   then chunks  a length byte L, then L stream bytes (L = 255: a 2-byte big-endian length
 *                follows); L = 0 adds nothing (it turned the main loop when the target wrote
 *                into a socket pair, and is kept so that old inputs mean the same)
 *
 * The stream is the chunks' bytes put together, and each read of the transport returns at
 * most the next chunk's length (fuzz-transport.c says how the socket is made). The main
 * loop then runs until on_close; the reader reads everything in one go.
 *
 * The transport is wrapped (CheckedTransport below) so that before each read, that is after
 * the reader has handled everything the earlier reads returned, the target checks the
 * framer against a reference parser of those bytes:
 *
 * - the records delivered are exactly the whole frames read so far, in order, byte for byte;
 *   never a partial one;
 * - the buffer held for a record in progress is bounded by the bytes of it that actually
 *   arrived (at most twice them, or 64 KiB), and by the length its header announced, so a
 *   claimed 4 GiB record costs nothing;
 * - nothing is read after a header over the maximum, and on_close has not come yet.
 *
 * At the end on_close must have come once: with EMSGSIZE after a header over the maximum
 * (and no record after it delivered), 0 when the stream ended on a frame boundary, EPROTO
 * when it ended inside a record. Any difference aborts.
 *
 * Built with clang's -fsanitize=fuzzer it is a libFuzzer target; built with any compiler and
 * standalone-main.c it runs every file of its seed corpus as a plain test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz-transport.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define HEADER_SIZE 4
#define MIN_PARTIAL_CAPACITY (64 * 1024)
#define MAX_ITERATIONS 100000

static const gsize max_record_sizes[] = { 16, 1024, 64 * 1024, G_MAXUINT32 };

/* What the reader saw. */
typedef struct
{
  guint records; /* delivered, each checked against its frame on delivery */
  int closes;
  int close_error;
} Seen;

/* The reference parser's view of the bytes read so far: stream[0, read). */
typedef struct
{
  const guint8 *stream;
  gsize length;
  gsize read;
  gsize frame_start; /* offset of the first frame not yet complete */
  guint frames;      /* whole frames read (before any oversize header) */
  gboolean oversize; /* a header over the maximum was read */
  gsize max_record;
  GArray *frame_starts; /* gsize: offset of each whole frame */
} Reference;

/* One input's run. */
typedef struct
{
  Reference ref;
  Seen seen;
  CAsyncSocket *reader;
  /* The buffer of the record in progress: how often it grew (see check_buffer). */
  gsize tracked_start; /* the record's offset in the stream */
  gsize last_buffered;
  guint growths;
} Run;

G_GNUC_NORETURN static void fail (const char *what, ...) G_GNUC_PRINTF (1, 2);

static void
fail (const char *what, ...)
{
  va_list args;

  va_start (args, what);
  fprintf (stderr, "fuzz-records: ");
  vfprintf (stderr, what, args);
  fprintf (stderr, "\n");
  va_end (args);
  abort ();
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* A read returned @data: the next bytes of the stream. */
static void
reference_read (Reference *ref, const guint8 *data, gsize length)
{
  if (length > ref->length - ref->read || memcmp (data, ref->stream + ref->read, length) != 0)
    fail ("a read of %zu bytes at offset %zu did not return the stream's bytes", length, ref->read);
  ref->read += length;
  while (!ref->oversize && ref->read - ref->frame_start >= HEADER_SIZE)
    {
      guint32 announced = read_be32 (ref->stream + ref->frame_start);
      if (announced > ref->max_record)
        {
          ref->oversize = TRUE;
          break;
        }
      if (ref->read - ref->frame_start - HEADER_SIZE < announced)
        break;
      g_array_append_val (ref->frame_starts, ref->frame_start);
      ref->frame_start += HEADER_SIZE + announced;
      ref->frames++;
    }
}

/* Bytes of the record in progress (header included) that have arrived. */
static gsize
reference_partial (Reference *ref)
{
  return ref->read - ref->frame_start;
}

/* Each record must be the next whole frame read, byte for byte. */
static void
on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  Run *run = data;
  Reference *ref = &run->ref;
  guint i = run->seen.records++;
  gsize start, size;
  guint32 length;
  const guint8 *bytes = g_bytes_get_data (record, &size);

  if (i >= ref->frames)
    fail ("record %u delivered, only %u whole frames read", i, ref->frames);
  start = g_array_index (ref->frame_starts, gsize, i);
  length = read_be32 (ref->stream + start);
  if (size != length || (size > 0 && memcmp (bytes, ref->stream + start + 4, size) != 0))
    fail ("record %u differs from its frame (%zu bytes delivered, %u framed)", i, size, length);
}

static void
on_close (CAsyncSocket *socket, int error_code, gpointer data)
{
  Run *run = data;
  run->seen.closes++;
  run->seen.close_error = error_code;
}

/* Runs the context until nothing is ready. */
static void
settle (GMainContext *context)
{
  for (int i = 0; i < MAX_ITERATIONS; i++)
    if (!g_main_context_iteration (context, FALSE))
      return;
  fail ("the main loop never settled");
}

/* No whole frame read is held back. */
static void
check_records (Reference *ref, Seen *seen)
{
  if (seen->records != ref->frames)
    fail ("%u records delivered, %u whole frames read", seen->records, ref->frames);
}

/* The receive buffer grows with what arrived, never with what a header claims; and it grows
 * by doubling, so that a record arriving in many small reads is not moved at each of them:
 * at most 3 times for a header (1, 2, 3 bytes), once when the header is whole, then once
 * per doubling from MIN_PARTIAL_CAPACITY to the record's size. */
static void
check_buffer (Run *run)
{
  Reference *ref = &run->ref;
  gsize buffered = c_async_socket_records_buffered (run->reader);
  gsize partial = reference_partial (ref);
  gsize bound = MAX (2 * partial, (gsize) MIN_PARTIAL_CAPACITY);
  gsize total = HEADER_SIZE;
  guint max_growths = HEADER_SIZE - 1;

  if (partial >= HEADER_SIZE)
    {
      total = (gsize) read_be32 (ref->stream + ref->frame_start) + HEADER_SIZE;
      max_growths = HEADER_SIZE;
      for (gsize room = MIN_PARTIAL_CAPACITY; room < total; room *= 2)
        max_growths++;
    }
  bound = MIN (bound, total);
  if (buffered > bound)
    fail ("%zu bytes buffered for a record of which %zu bytes arrived (bound %zu)", buffered,
          partial, bound);

  if (run->tracked_start != ref->frame_start)
    {
      run->tracked_start = ref->frame_start;
      run->last_buffered = 0;
      run->growths = 0;
    }
  if (buffered > run->last_buffered)
    run->growths++;
  run->last_buffered = buffered;
  if (run->growths > max_growths)
    fail ("the buffer of a %zu-byte record grew %u times (at most %u) for %zu bytes arrived", total,
          run->growths, max_growths, partial);
}

/* The reader's state once it has handled everything read so far. */
static void
check_progress (Run *run)
{
  if (run->ref.oversize)
    fail ("a read after a header over the maximum");
  if (run->seen.closes > 0)
    fail ("a read after on_close (%d)", run->seen.close_error);
  check_records (&run->ref, &run->seen);
  check_buffer (run);
}

/* The transport the reader reads: the in-memory one, checking the reader before each read
 * and feeding the reference parser with what each read returns. */
typedef struct
{
  CTransport parent;
  CTransport *memory;
  Run *run;
} CheckedTransport;

static gssize
checked_read (CTransport *transport, void *buffer, gsize size, int flags, int *remaining)
{
  CheckedTransport *self = (CheckedTransport *) transport;
  gssize n;

  if (flags & MSG_PEEK)
    fail ("the record reader peeked");
  check_progress (self->run);
  n = self->memory->klass->read (self->memory, buffer, size, flags, remaining);
  if (n > 0)
    reference_read (&self->run->ref, buffer, (gsize) n);
  return n;
}

static gssize
checked_write (CTransport *transport, const struct iovec *iov, int count, int flags)
{
  CheckedTransport *self = (CheckedTransport *) transport;
  return self->memory->klass->write (self->memory, iov, count, flags);
}

static gsize
checked_pending (CTransport *transport)
{
  CheckedTransport *self = (CheckedTransport *) transport;
  return self->memory->klass->pending (self->memory);
}

static int
checked_shutdown (CTransport *transport, int how)
{
  CheckedTransport *self = (CheckedTransport *) transport;
  return self->memory->klass->shutdown (self->memory, how);
}

static void
checked_free (CTransport *transport)
{
  CheckedTransport *self = (CheckedTransport *) transport;

  self->memory->klass->free (self->memory);
  g_free (self);
}

static const CTransportClass checked_class = {
  "fuzz-records", checked_read, checked_write, checked_pending, checked_shutdown, checked_free,
};

static CTransport *
checked_transport_new (CTransport *memory, Run *run)
{
  CheckedTransport *self = g_new0 (CheckedTransport, 1);

  self->parent.klass = &checked_class;
  self->memory = memory;
  self->run = run;
  return &self->parent;
}

/* Splits the input into chunks; returns the next chunk's length and advances *offset. */
static gsize
next_chunk (const guint8 *data, gsize size, gsize *offset)
{
  gsize length;

  length = data[(*offset)++];
  if (length == 255 && *offset + 2 <= size)
    {
      length = ((gsize) data[*offset] << 8) | data[*offset + 1];
      *offset += 2;
    }
  return MIN (length, size - *offset);
}

/* The stream the input describes, and the sizes of its non-empty chunks. */
static void
parse_input (const guint8 *data, gsize size, GByteArray *stream, GArray *chunks)
{
  gsize offset = 1;

  while (offset < size)
    {
      gsize length = next_chunk (data, size, &offset);

      if (length > 0)
        {
          g_byte_array_append (stream, data + offset, (guint) length);
          g_array_append_val (chunks, length);
        }
      offset += length;
    }
}

/* The library says why it closes a connection (a message); here that is every other input.
 * Warnings and criticals are bugs: abort. */
static GLogWriterOutput
quiet_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    return G_LOG_WRITER_HANDLED;
  g_log_writer_default (level, fields, n_fields, data);
  abort ();
}

static GMainContext *
setup (void)
{
  static GMainContext *context;

  if (context == NULL)
    {
      context = g_main_context_ref_thread_default ();
      g_log_set_writer_func (quiet_log, NULL, NULL);
      fuzz_transport_setup ();
    }
  return context;
}

static void
check_end (Reference *ref, Seen *seen)
{
  int expected = 0;

  if (ref->oversize)
    expected = EMSGSIZE;
  else if (reference_partial (ref) > 0)
    expected = EPROTO;
  if (seen->closes != 1)
    fail ("on_close came %d times", seen->closes);
  if (seen->close_error != expected)
    fail ("on_close reported %d (%s), expected %d (%s)", seen->close_error,
          g_strerror (seen->close_error), expected, g_strerror (expected));
}

/* A connected stream socket in record mode whose bytes come from @transport. */
static CAsyncSocket *
make_reader (Run *run, CTransport *transport)
{
  CAsyncSocket *reader = c_async_socket_new ();

  g_signal_connect (reader, "record", G_CALLBACK (on_record), run);
  g_signal_connect (reader, "close", G_CALLBACK (on_close), run);
  fuzz_transport_connect (reader, transport, C_FD_ALL);
  if (!c_async_socket_set_record_mode (reader, TRUE, NULL))
    fail ("cannot set up the reader");
  c_async_socket_set_max_record_size (reader, run->ref.max_record);
  return reader;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  /* Kept from one input to the next, emptied for each: large inputs would otherwise cost
   * fresh mappings each time under AddressSanitizer. */
  static GByteArray *stream;
  static GArray *chunks, *frame_starts;
  GMainContext *context = setup ();
  Run run = { 0 };
  GBytes *bytes;

  if (size == 0)
    return 0;
  if (stream == NULL)
    {
      stream = g_byte_array_new ();
      chunks = g_array_new (FALSE, FALSE, sizeof (gsize));
      frame_starts = g_array_new (FALSE, FALSE, sizeof (gsize));
    }
  g_byte_array_set_size (stream, 0);
  g_array_set_size (chunks, 0);
  g_array_set_size (frame_starts, 0);
  parse_input (data, size, stream, chunks);
  run.ref.stream = stream->data;
  run.ref.length = stream->len;
  run.ref.frame_starts = frame_starts;
  run.ref.max_record = max_record_sizes[data[0] & 3];

  bytes = g_bytes_new_static (stream->data, stream->len);
  run.reader = make_reader (
      &run, checked_transport_new (
                c_transport_memory_new (bytes, (gsize *) chunks->data, chunks->len), &run));
  g_bytes_unref (bytes);
  for (int i = 0; i < MAX_ITERATIONS && run.seen.closes == 0; i++)
    g_main_context_iteration (context, FALSE);
  settle (context);

  /* Everything was read, unless a header over the maximum stopped the reader. */
  if (!run.ref.oversize && run.ref.read != run.ref.length)
    fail ("%zu of %zu bytes read", run.ref.read, run.ref.length);
  check_records (&run.ref, &run.seen);
  check_end (&run.ref, &run.seen);

  /* The transport, and with it the last reference to @bytes, goes with the descriptor. */
  g_object_unref (run.reader);
  fuzz_transport_check_idle ();
  return 0;
}

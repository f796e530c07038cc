/* fuzz-records.c: libFuzzer target for the record framer, fed in chunks of random sizes
 *
 * A CAsyncSocket in record mode reads one end of a Unix socket pair; the target writes the
 * other end. The input says both what to write and how to cut it:
 *
 *   byte 0       settings: bits 0-1 choose the maximum record size (16 B, 1 KiB, 64 KiB or
 *                4 GiB - 1, the largest a header can announce)
 *   then chunks  a length byte L, then L stream bytes (L = 255: a 2-byte big-endian length
 *                follows); L = 0 only turns the main loop
 *
 * After each chunk the main loop runs until the socket has read everything, and the target
 * checks the framer against a reference parser of the bytes written so far:
 *
 * - the records delivered are exactly the whole frames written, in order, byte for byte;
 *   never a partial one;
 * - the buffer held for a record in progress is bounded by the bytes of it that actually
 *   arrived (at most twice them, or 64 KiB), and by the length its header announced, so a
 *   claimed 4 GiB record costs nothing;
 * - a header over the maximum closes the connection: on_close reports EMSGSIZE and no
 *   record after it is delivered.
 *
 * At the end the writer half-closes: on_close comes once, with 0 when the stream ended on a
 * frame boundary, EPROTO when it ended inside a record. Any difference aborts.
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
#include <unistd.h>

#include <afxsock.h>

#include "c-async-socket-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define HEADER_SIZE 4
#define MIN_PARTIAL_CAPACITY (64 * 1024)
#define MAX_ITERATIONS 100000

static const gsize max_record_sizes[] = { 16, 1024, 64 * 1024, G_MAXUINT32 };

/* What the reader saw. */
typedef struct
{
  GPtrArray *records; /* GBytes */
  int closes;
  int close_error;
} Seen;

/* The reference parser's view of the bytes written so far. */
typedef struct
{
  GByteArray *stream;
  gsize frame_start; /* offset of the first frame not yet complete */
  guint frames;      /* whole frames written (before any oversize header) */
  gboolean oversize; /* a header over the maximum was written */
  gsize max_record;
  GArray *frame_starts; /* gsize: offset of each whole frame */
} Reference;

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

static void
reference_append (Reference *ref, const guint8 *data, gsize length)
{
  g_byte_array_append (ref->stream, data, (guint) length);
  while (!ref->oversize && ref->stream->len - ref->frame_start >= HEADER_SIZE)
    {
      guint32 announced = read_be32 (ref->stream->data + ref->frame_start);
      if (announced > ref->max_record)
        {
          ref->oversize = TRUE;
          break;
        }
      if (ref->stream->len - ref->frame_start - HEADER_SIZE < announced)
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
  return ref->stream->len - ref->frame_start;
}

static void
on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  Seen *seen = data;
  g_ptr_array_add (seen->records, g_bytes_ref (record));
}

static void
on_close (CAsyncSocket *socket, int error_code, gpointer data)
{
  Seen *seen = data;
  seen->closes++;
  seen->close_error = error_code;
}

/* Runs the context until nothing is ready: the reader has read all it can. */
static void
settle (GMainContext *context)
{
  for (int i = 0; i < MAX_ITERATIONS; i++)
    if (!g_main_context_iteration (context, FALSE))
      return;
  fail ("the main loop never settled");
}

static void
check_records (Reference *ref, Seen *seen)
{
  if (seen->records->len != ref->frames)
    fail ("%u records delivered, %u whole frames written", seen->records->len, ref->frames);
  for (guint i = 0; i < seen->records->len; i++)
    {
      gsize start = g_array_index (ref->frame_starts, gsize, i);
      guint32 length = read_be32 (ref->stream->data + start);
      gsize size;
      const guint8 *bytes = g_bytes_get_data (g_ptr_array_index (seen->records, i), &size);

      if (size != length || (size > 0 && memcmp (bytes, ref->stream->data + start + 4, size) != 0))
        fail ("record %u differs from its frame (%zu bytes delivered, %u framed)", i, size, length);
    }
}

/* The receive buffer grows with what arrived, never with what a header claims. */
static void
check_buffer (CAsyncSocket *reader, Reference *ref)
{
  gsize buffered = c_async_socket_records_buffered (reader);
  gsize partial = reference_partial (ref);
  gsize bound = MAX (2 * partial, (gsize) MIN_PARTIAL_CAPACITY);

  if (partial >= HEADER_SIZE)
    bound = MIN (bound, (gsize) read_be32 (ref->stream->data + ref->frame_start) + HEADER_SIZE);
  else
    bound = MIN (bound, (gsize) HEADER_SIZE);
  if (buffered > bound)
    fail ("%zu bytes buffered for a record of which %zu bytes arrived (bound %zu)", buffered,
          partial, bound);
}

/* Writes all of @length unless the reader has shut its end; returns FALSE then. */
static gboolean
write_chunk (GMainContext *context, int fd, const guint8 *data, gsize length)
{
  gsize done = 0;

  for (int i = 0; done < length && i < MAX_ITERATIONS; i++)
    {
      gssize n = send (fd, data + done, length - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        done += (gsize) n;
      else if (n < 0 && errno == EAGAIN)
        g_main_context_iteration (context, FALSE); /* let the reader empty the pipe */
      else if (n < 0 && errno != EINTR)
        return FALSE;
    }
  if (done < length)
    fail ("could not write a chunk of %zu bytes", length);
  return TRUE;
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

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GMainContext *context = setup ();
  Reference ref = { 0 };
  Seen seen = { 0 };
  CAsyncSocket *reader;
  gsize offset = 1;
  gboolean writable = TRUE;
  int fds[2];

  if (size == 0)
    return 0;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    fail ("socketpair: %s", g_strerror (errno));
  ref.stream = g_byte_array_new ();
  ref.frame_starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  ref.max_record = max_record_sizes[data[0] & 3];
  seen.records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  reader = c_async_socket_new ();
  g_signal_connect (reader, "record", G_CALLBACK (on_record), &seen);
  g_signal_connect (reader, "close", G_CALLBACK (on_close), &seen);
  if (!c_async_socket_attach (reader, fds[0], C_FD_ALL, NULL)
      || !c_async_socket_set_record_mode (reader, TRUE, NULL))
    fail ("cannot set up the reader");
  c_async_socket_set_max_record_size (reader, ref.max_record);
  settle (context);

  while (offset < size && writable)
    {
      gsize length = next_chunk (data, size, &offset);

      writable = write_chunk (context, fds[1], data + offset, length);
      if (writable)
        reference_append (&ref, data + offset, length);
      offset += length;
      settle (context);
      if (ref.oversize)
        {
          writable = FALSE; /* the reader shut the connection; nothing more arrives */
          break;
        }
      check_records (&ref, &seen);
      check_buffer (reader, &ref);
      if (seen.closes > 0)
        fail ("on_close (%d) before the end of the stream", seen.close_error);
    }

  shutdown (fds[1], SHUT_WR);
  for (int i = 0; i < 1000 && seen.closes == 0; i++)
    g_main_context_iteration (context, FALSE);
  settle (context);
  check_records (&ref, &seen);
  check_end (&ref, &seen);

  g_object_unref (reader);
  close (fds[1]);
  settle (context);
  g_ptr_array_unref (seen.records);
  g_array_unref (ref.frame_starts);
  g_byte_array_unref (ref.stream);
  return 0;
}

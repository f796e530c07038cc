/* test-socket-file.c: CArchive over CSocketFile, MFC's CHATTER pattern
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reader is a CSocket subclass that reads records in on_receive the way MFC's CHATTER
 * does: `do { read a record } while (!c_archive_is_buffer_empty (archive))`. In MFC this
 * loop hangs when the archive has read more than one notification's worth (KB Q138694,
 * Q245434); here it must not, whatever way the bytes arrive. Every scenario runs in both
 * archive formats.
 *
 * The reader counts every turn it spends waiting inside a blocking call (its
 * on_message_pending), and separately the turns spent after every record the writer sends
 * had arrived: those would be a wait for data that is not coming, the hang itself. Its
 * blocking calls also have a timeout, so such a wait fails the test instead of hanging it.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>

#include "test-util.h"
#include <afxsock/c-socket.h>

/* The reader's blocking calls give up after this long; a test never needs it. */
#define READER_TIMEOUT_MS (TEST_DEADLINE_MS / 2)

/* The records: a DWORD sequence number, a CString label and a byte block whose bytes
 * follow from the sequence number, so that every byte can be checked. */

typedef struct
{
  guint32 seq;
  char *label;
  GBytes *payload;
} Record;

static void
record_free (Record *record)
{
  g_free (record->label);
  g_clear_pointer (&record->payload, g_bytes_unref);
  g_free (record);
}

static guint8 *
make_payload (guint32 seq, gsize size)
{
  guint8 *payload = g_malloc (size + 1);

  for (gsize i = 0; i < size; i++)
    payload[i] = (guint8) (seq * 31 + i * 7 + i / 253);
  return payload;
}

static void
write_record (CArchive *archive, guint32 seq, gsize payload_size)
{
  g_autofree char *label = g_strdup_printf ("record %u", seq);
  g_autofree guint8 *payload = make_payload (seq, payload_size);

  c_archive_write_dword (archive, seq);
  c_archive_write_cstring (archive, label);
  c_archive_write_data (archive, payload, payload_size);
}

static Record *
read_record (CArchive *archive)
{
  Record *record = g_new0 (Record, 1);

  record->seq = c_archive_read_dword (archive);
  record->label = c_archive_read_cstring (archive);
  record->payload = c_archive_read_bytes (archive);
  return record;
}

static void
assert_record (Record *record, guint32 seq, gsize payload_size)
{
  g_autofree char *label = g_strdup_printf ("record %u", seq);
  g_autofree guint8 *payload = make_payload (seq, payload_size);
  gsize size;
  const guint8 *data = g_bytes_get_data (record->payload, &size);

  cr_assert_eq (record->seq, seq, "record %u arrived where %u was expected", record->seq, seq);
  cr_assert_str_eq (record->label, label);
  cr_assert_eq (size, payload_size, "record %u: %zu payload bytes, expected %zu", seq, size,
                payload_size);
  cr_assert (size == 0 || memcmp (data, payload, size) == 0, "record %u: payload differs", seq);
}

/* The stream bytes of records first..last, as a memory archive stores them. */
static GBytes *
records_as_bytes (CArchiveFormat format, guint32 first, guint32 last, gsize (*size_of) (guint32))
{
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (format);

  for (guint32 seq = first; seq <= last; seq++)
    write_record (archive, seq, size_of (seq));
  cr_assert (c_archive_check (archive, NULL));
  return c_archive_steal_bytes (archive);
}

/* The reader: MFC's CHATTER socket. */

#define CHATTER_TYPE_SOCKET (chatter_socket_get_type ())
G_DECLARE_FINAL_TYPE (ChatterSocket, chatter_socket, CHATTER, SOCKET, CSocket)

struct _ChatterSocket
{
  CSocket parent_instance;
  CSocketFile *file;
  CArchive *archive; /* loading */
  GPtrArray *records;
  guint expected;      /* how many records the writer sends */
  int receives;        /* on_receive notifications */
  int closes;          /* on_close notifications */
  int wait_turns;      /* turns spent waiting inside blocking calls */
  int idle_wait_turns; /* of those, turns after every expected record had arrived */
  GError *error;       /* the archive's error, which ends the reading */
};

G_DEFINE_FINAL_TYPE (ChatterSocket, chatter_socket, C_TYPE_SOCKET)

static void
chatter_on_receive (CAsyncSocket *socket, int error_code)
{
  ChatterSocket *self = CHATTER_SOCKET (socket);

  self->receives++;
  if (self->error != NULL)
    return;
  do
    {
      Record *record = read_record (self->archive);

      if (!c_archive_check (self->archive, &self->error))
        {
          record_free (record);
          return;
        }
      g_ptr_array_add (self->records, record);
    }
  while (!c_archive_is_buffer_empty (self->archive));
}

static void
chatter_on_close (CAsyncSocket *socket, int error_code)
{
  CHATTER_SOCKET (socket)->closes++;
}

static gboolean
chatter_on_message_pending (CSocket *socket)
{
  ChatterSocket *self = CHATTER_SOCKET (socket);

  self->wait_turns++;
  if (self->records->len >= self->expected)
    self->idle_wait_turns++;
  return FALSE;
}

static void
chatter_socket_finalize (GObject *object)
{
  ChatterSocket *self = CHATTER_SOCKET (object);

  g_clear_object (&self->archive);
  g_clear_object (&self->file);
  g_ptr_array_unref (self->records);
  g_clear_error (&self->error);
  G_OBJECT_CLASS (chatter_socket_parent_class)->finalize (object);
}

static void
chatter_socket_class_init (ChatterSocketClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = chatter_socket_finalize;
  C_ASYNC_SOCKET_CLASS (klass)->on_receive = chatter_on_receive;
  C_ASYNC_SOCKET_CLASS (klass)->on_close = chatter_on_close;
  C_SOCKET_CLASS (klass)->on_message_pending = chatter_on_message_pending;
}

static void
chatter_socket_init (ChatterSocket *self)
{
  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
}

/* After the accept, as MFC's CHATTER does: the file over the socket and a loading archive
 * over the file. */
static void
chatter_socket_open_archive (ChatterSocket *self, CArchiveFormat format, gsize buffer_size)
{
  self->file = c_socket_file_new (C_SOCKET (self));
  self->archive = c_archive_new_load_from_stream (
      g_io_stream_get_input_stream (G_IO_STREAM (self->file)), format, buffer_size);
  c_socket_set_timeout (C_SOCKET (self), READER_TIMEOUT_MS);
}

static guint64
receive_calls (ChatterSocket *self)
{
  CSocketStats stats;

  c_async_socket_get_stats (S (self), &stats);
  return stats.receive_calls;
}

static gboolean
all_arrived (gpointer data)
{
  ChatterSocket *self = data;
  return self->records->len >= self->expected || self->error != NULL;
}

static void
assert_all_arrived (ChatterSocket *self, gsize (*size_of) (guint32))
{
  cr_assert (run_until (all_arrived, self), "%u of %u records after the deadline",
             self->records->len, self->expected);
  cr_assert_null (self->error, "reading record %u: %s", self->records->len + 1,
                  self->error ? self->error->message : "");
  cr_assert_eq (self->records->len, self->expected);
  for (guint i = 0; i < self->records->len; i++)
    assert_record (g_ptr_array_index (self->records, i), i + 1, size_of (i + 1));
  /* Nothing is left to notify, and nothing waited for bytes that are not coming. */
  int receives = self->receives;
  drain_context ();
  cr_assert_eq (self->receives, receives, "a spurious on_receive after the last record");
  cr_assert_eq (self->idle_wait_turns, 0, "the loop waited for data that is not coming");
}

/* The connection: a blocking writer with a storing archive, and the reader accepted from a
 * listener. */

typedef struct
{
  CArchiveFormat format;
  TestSocket *listener;
  guint port;
  CSocket *writer;
  CSocketFile *writer_file;
  CArchive *out;
  ChatterSocket *reader;
} Fixture;

static void
accept_reader (Fixture *f, guint expected, gsize buffer_size)
{
  g_autoptr (GError) error = NULL;

  cr_assert (run_until_count (f->listener, C_NOTIFY_ACCEPT, 1), "no on_accept");
  f->reader = g_object_new (CHATTER_TYPE_SOCKET, NULL);
  f->reader->expected = expected;
  cr_assert (c_async_socket_accept (S (f->listener), S (f->reader), NULL, &error), "accept: %s",
             error ? error->message : "");
  chatter_socket_open_archive (f->reader, f->format, buffer_size);
}

static void
fixture_open (Fixture *f, CArchiveFormat format, guint expected, gsize reader_buffer_size)
{
  g_autoptr (GError) error = NULL;

  memset (f, 0, sizeof *f);
  f->format = format;
  f->listener = make_listener (NULL, &f->port);
  f->writer = c_socket_new ();
  cr_assert (c_async_socket_create (S (f->writer), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error),
             "create: %s", error ? error->message : "");
  cr_assert (c_socket_connect (f->writer, "127.0.0.1", f->port, &error), "connect: %s",
             error ? error->message : "");
  /* Every send leaves at once, so that what the writer wrote is queued at the reader
   * before the reader runs (Nagle would hold back the tail of a burst). */
  cr_assert (c_async_socket_set_sock_opt_int (S (f->writer), IPPROTO_TCP, TCP_NODELAY, 1, &error),
             "TCP_NODELAY: %s", error ? error->message : "");
  accept_reader (f, expected, reader_buffer_size);
  f->writer_file = c_socket_file_new (f->writer);
  f->out = c_archive_new_store_to_stream (
      g_io_stream_get_output_stream (G_IO_STREAM (f->writer_file)), format, 0);
  drain_context ();
}

static void
fixture_close (Fixture *f)
{
  g_clear_object (&f->out);
  g_clear_object (&f->writer_file);
  g_clear_object (&f->writer);
  g_clear_object (&f->reader);
  g_clear_object (&f->listener);
}

static guint32
queued_at_reader (Fixture *f)
{
  guint32 queued = 0;
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_ioctl (S (f->reader), FIONREAD, &queued, &error), "FIONREAD: %s",
             error ? error->message : "");
  return queued;
}

static void
send_now (Fixture *f, const void *data, gsize size)
{
  g_autoptr (GError) error = NULL;

  cr_assert_eq (c_async_socket_send (S (f->writer), data, size, 0, &error), (gssize) size,
                "send: %s", error ? error->message : "short send");
}

/* A writer driven by an idle source: each dispatch sends the next chunk of a byte string
 * without blocking. Idle sources keep running while the reader waits in a blocking call,
 * so the reader sees the bytes arrive piece by piece, one main-loop iteration apart. */
typedef struct
{
  CAsyncSocket *socket;
  GBytes *bytes;
  gsize chunk;
  gsize sent;
  guint dispatches;
} Dribbler;

static gboolean
dribble_once (gpointer data)
{
  Dribbler *d = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (d->bytes, &size);
  g_autoptr (GError) error = NULL;
  gssize n;

  d->dispatches++;
  n = c_async_socket_send (d->socket, bytes + d->sent, MIN (d->chunk, size - d->sent), 0, &error);
  if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    cr_assert_fail ("dribbling send: %s", error->message);
  if (n > 0)
    d->sent += (gsize) n;
  return d->sent < size ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
start_dribbler (Dribbler *d, Fixture *f, GBytes *bytes, gsize chunk)
{
  *d = (Dribbler){ S (f->writer), bytes, chunk, 0, 0 };
  g_idle_add (dribble_once, d);
}

/* Record sizes of the scenarios. */

static gsize
small_size (guint32 seq)
{
  return seq % 41; /* 0 to 40 bytes: records of uneven length, 13 to 56 bytes in all */
}

static gsize
medium_size (guint32 seq)
{
  return 100 + seq;
}

#define TEN_MEBIBYTES ((gsize) 10 << 20)

static gsize
ten_mebibytes_then_small (guint32 seq)
{
  return seq == 1 ? TEN_MEBIBYTES : 10;
}

#define SPLIT_RECORD_SIZE ((gsize) 48 << 10)

static gsize
big_then_small (guint32 seq)
{
  return seq == 1 ? SPLIT_RECORD_SIZE : 20 + seq;
}

/* 1. A 10 MiB record, written by a CSocket on another thread through its own CArchive over
 * a CSocketFile, as a separate program would. The reader waits inside on_receive while it
 * arrives. */

typedef struct
{
  guint port;
  CArchiveFormat format;
  GError *error;
} BigWriter;

static gpointer
big_writer_thread (gpointer data)
{
  BigWriter *job = data;
  GMainContext *context = g_main_context_new ();
  CSocket *socket;

  g_main_context_push_thread_default (context);
  socket = c_socket_new ();
  if (c_async_socket_create (S (socket), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &job->error)
      && c_socket_connect (socket, "127.0.0.1", job->port, &job->error))
    {
      CSocketFile *file = c_socket_file_new (socket);
      CArchive *out = c_archive_new_store_to_stream (
          g_io_stream_get_output_stream (G_IO_STREAM (file)), job->format, 0);

      write_record (out, 1, ten_mebibytes_then_small (1));
      write_record (out, 2, ten_mebibytes_then_small (2));
      c_archive_flush (out, &job->error);
      g_object_unref (out);
      g_object_unref (file);
    }
  c_async_socket_close (S (socket));
  g_object_unref (socket);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static gboolean
reader_closed (gpointer data)
{
  return CHATTER_SOCKET (data)->closes > 0;
}

static void
ten_mebibyte_record (CArchiveFormat format)
{
  Fixture f = { .format = format };
  BigWriter job = { 0, format, NULL };
  GThread *thread;

  f.listener = make_listener (NULL, &job.port);
  thread = g_thread_new ("big writer", big_writer_thread, &job);
  accept_reader (&f, 2, 0);
  assert_all_arrived (f.reader, ten_mebibytes_then_small);
  g_thread_join (thread);
  cr_assert_null (job.error, "writer: %s", job.error ? job.error->message : "");
  /* The block went through the archive's 4 KiB buffer, one receive per refill at most. */
  cr_assert_geq (receive_calls (f.reader), TEN_MEBIBYTES / C_ARCHIVE_DEFAULT_BUFFER_SIZE);
  cr_assert (run_until (reader_closed, f.reader), "on_close after the records was lost");
  cr_assert_eq (f.reader->closes, 1);
  cr_assert_null (f.reader->error);
  fixture_close (&f);
}

Test (socket_file, ten_mebibyte_record_network, .timeout = 60)
{
  ten_mebibyte_record (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, ten_mebibyte_record_mfc, .timeout = 60)
{
  ten_mebibyte_record (C_ARCHIVE_FORMAT_MFC);
}

/* 2. A thousand small records written in one burst: on_receive reads them all from what is
 * already there, in a few notifications, without ever waiting. */

#define BURST 1000

static void
thousand_records_in_one_burst (CArchiveFormat format)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  guint64 total;

  fixture_open (&f, format, BURST, 0);
  for (guint32 seq = 1; seq <= BURST; seq++)
    write_record (f.out, seq, small_size (seq));
  cr_assert (c_archive_flush (f.out, &error), "flush: %s", error ? error->message : "");
  total = c_archive_get_position (f.out);
  cr_assert_eq (queued_at_reader (&f), total, "%u of %" G_GUINT64_FORMAT " bytes queued",
                queued_at_reader (&f), total);

  assert_all_arrived (f.reader, small_size);
  cr_assert_eq (f.reader->wait_turns, 0, "the reader waited although every byte was there");
  /* Each receive fills the archive's buffer (4 KiB); a notification ends only where a
   * record ends at the end of the buffer. */
  cr_assert_leq (receive_calls (f.reader), total / (C_ARCHIVE_DEFAULT_BUFFER_SIZE - 64) + 1,
                 "%" G_GUINT64_FORMAT " receives for %" G_GUINT64_FORMAT " bytes",
                 receive_calls (f.reader), total);
  cr_assert_leq ((guint64) f.reader->receives, receive_calls (f.reader));
  cr_assert_geq (f.reader->receives, 1);
  fixture_close (&f);
}

Test (socket_file, thousand_records_in_one_burst_network, .timeout = 30)
{
  thousand_records_in_one_burst (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, thousand_records_in_one_burst_mfc, .timeout = 30)
{
  thousand_records_in_one_burst (C_ARCHIVE_FORMAT_MFC);
}

/* The same burst through the smallest archive buffer: hundreds of refills, each of which
 * finds data, and on_receive comes back for what the loop left in the socket. */
static void
burst_through_a_tiny_buffer (CArchiveFormat format)
{
  Fixture f;
  g_autoptr (GError) error = NULL;

  fixture_open (&f, format, BURST, 1);
  for (guint32 seq = 1; seq <= BURST; seq++)
    write_record (f.out, seq, small_size (seq));
  cr_assert (c_archive_flush (f.out, &error), "flush: %s", error ? error->message : "");

  assert_all_arrived (f.reader, small_size);
  cr_assert_eq (f.reader->wait_turns, 0, "the reader waited although every byte was there");
  cr_assert_gt (receive_calls (f.reader), 100);
  fixture_close (&f);
}

Test (socket_file, burst_through_a_tiny_archive_buffer_network, .timeout = 30)
{
  burst_through_a_tiny_buffer (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, burst_through_a_tiny_archive_buffer_mfc, .timeout = 30)
{
  burst_through_a_tiny_buffer (C_ARCHIVE_FORMAT_MFC);
}

/* 3. Records dribbled one byte per main-loop iteration: each record is read in one
 * notification that waits for its bytes, and the loop stops at its end. */

#define DRIBBLED 3

static void
records_dribbled_one_byte_per_iteration (CArchiveFormat format)
{
  Fixture f;
  Dribbler d;
  g_autoptr (GBytes) bytes = records_as_bytes (format, 1, DRIBBLED, medium_size);
  gsize total = g_bytes_get_size (bytes);

  fixture_open (&f, format, DRIBBLED, 0);
  start_dribbler (&d, &f, bytes, 1);
  assert_all_arrived (f.reader, medium_size);
  cr_assert_eq (d.sent, total);
  cr_assert_eq (d.dispatches, total, "the writer was dispatched %u times for %zu bytes",
                d.dispatches, total);
  cr_assert_eq (f.reader->receives, DRIBBLED, "one notification per record, got %d",
                f.reader->receives);
  cr_assert_eq (receive_calls (f.reader), total, "the bytes did not arrive one at a time");
  cr_assert_gt (f.reader->wait_turns, 0);
  fixture_close (&f);
}

Test (socket_file, records_dribbled_one_byte_per_iteration_network, .timeout = 60)
{
  records_dribbled_one_byte_per_iteration (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, records_dribbled_one_byte_per_iteration_mfc, .timeout = 60)
{
  records_dribbled_one_byte_per_iteration (C_ARCHIVE_FORMAT_MFC);
}

/* 4. Several records in one segment: one notification, one receive, no wait. */

#define IN_ONE_SEGMENT 5

static void
several_records_in_one_segment (CArchiveFormat format)
{
  Fixture f;
  g_autoptr (GBytes) bytes = records_as_bytes (format, 1, IN_ONE_SEGMENT, small_size);

  fixture_open (&f, format, IN_ONE_SEGMENT, 0);
  send_now (&f, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  cr_assert_eq (queued_at_reader (&f), g_bytes_get_size (bytes));
  assert_all_arrived (f.reader, small_size);
  cr_assert_eq (f.reader->receives, 1);
  cr_assert_eq (receive_calls (f.reader), 1);
  cr_assert_eq (f.reader->wait_turns, 0);
  fixture_close (&f);
}

Test (socket_file, several_records_in_one_segment_network, .timeout = 30)
{
  several_records_in_one_segment (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, several_records_in_one_segment_mfc, .timeout = 30)
{
  several_records_in_one_segment (C_ARCHIVE_FORMAT_MFC);
}

/* 5. A record split across many segments, the last of which also carries the next three
 * records whole: one notification reads the big record while it arrives, then the three
 * from the archive's buffer. */

#define SPLIT_CHUNK 1000

static void
record_split_across_many_segments (CArchiveFormat format)
{
  Fixture f;
  Dribbler d;
  g_autoptr (GBytes) first = records_as_bytes (format, 1, 1, big_then_small);
  g_autoptr (GBytes) bytes = records_as_bytes (format, 1, 4, big_then_small);
  gsize total = g_bytes_get_size (bytes);

  /* The design of the scenario: the big record ends inside the last chunk. */
  cr_assert_eq (g_bytes_get_size (first) / SPLIT_CHUNK, (total - 1) / SPLIT_CHUNK);
  fixture_open (&f, format, 4, 0);
  start_dribbler (&d, &f, bytes, SPLIT_CHUNK);
  assert_all_arrived (f.reader, big_then_small);
  cr_assert_eq (d.dispatches, (total + SPLIT_CHUNK - 1) / SPLIT_CHUNK);
  cr_assert_eq (f.reader->receives, 1, "%d notifications", f.reader->receives);
  cr_assert_geq (receive_calls (f.reader), total / C_ARCHIVE_DEFAULT_BUFFER_SIZE,
                 "the record did not arrive in pieces");
  cr_assert_gt (f.reader->wait_turns, 0);
  fixture_close (&f);
}

Test (socket_file, record_split_across_many_segments_network, .timeout = 30)
{
  record_split_across_many_segments (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, record_split_across_many_segments_mfc, .timeout = 30)
{
  record_split_across_many_segments (C_ARCHIVE_FORMAT_MFC);
}

/* 6. MFC's trap (KB Q138694, Q245434): the archive's buffer holds more than one
 * notification's worth. In MFC each arrival posts an FD_READ; the archive consumes the
 * bytes of several in one receive, and the later OnReceive then blocks on a socket that
 * has nothing. Here notifications follow what the socket holds, not what arrived.
 *
 * a) Three records sent in three segments, all queued before the reader runs. */

static void
three_segments_read_in_one_notification (CArchiveFormat format)
{
  Fixture f;
  GBytes *bytes[3] = { NULL };
  gsize total = 0;

  fixture_open (&f, format, 3, 0);
  for (guint32 seq = 1; seq <= 3; seq++)
    {
      bytes[seq - 1] = records_as_bytes (format, seq, seq, medium_size);
      send_now (&f, g_bytes_get_data (bytes[seq - 1], NULL), g_bytes_get_size (bytes[seq - 1]));
      total += g_bytes_get_size (bytes[seq - 1]);
    }
  cr_assert_eq (queued_at_reader (&f), total);
  assert_all_arrived (f.reader, medium_size);
  cr_assert_eq (f.reader->receives, 1);
  cr_assert_eq (receive_calls (f.reader), 1);
  cr_assert_eq (f.reader->wait_turns, 0);
  for (int i = 0; i < 3; i++)
    g_clear_pointer (&bytes[i], g_bytes_unref);
  fixture_close (&f);
}

Test (socket_file, archive_buffer_holds_several_notifications_worth_network, .timeout = 30)
{
  three_segments_read_in_one_notification (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, archive_buffer_holds_several_notifications_worth_mfc, .timeout = 30)
{
  three_segments_read_in_one_notification (C_ARCHIVE_FORMAT_MFC);
}

/* b) The same while the reader waits inside on_receive for the rest of record 1: the rest
 * and records 2 and 3 arrive as three segments during the wait, one receive takes them
 * all, and the loop ends without a further receive or notification. */

typedef struct
{
  Fixture *f;
  GBytes *bytes;
  gsize split;        /* how much of record 1 was sent before */
  gsize end_of_first; /* where record 1 ends */
  gboolean sent;
} LateRest;

static gboolean
send_rest_while_the_reader_waits (gpointer data)
{
  LateRest *late = data;
  const guint8 *bytes = g_bytes_get_data (late->bytes, NULL);
  gsize total = g_bytes_get_size (late->bytes);
  gsize end_of_first = late->end_of_first;
  gsize end_of_second = end_of_first + (total - end_of_first) / 2;

  if (!c_socket_is_blocking (C_SOCKET (late->f->reader)))
    return G_SOURCE_CONTINUE;
  send_now (late->f, bytes + late->split, end_of_first - late->split);
  send_now (late->f, bytes + end_of_first, end_of_second - end_of_first);
  send_now (late->f, bytes + end_of_second, total - end_of_second);
  late->sent = TRUE;
  return G_SOURCE_REMOVE;
}

static gsize
same_size (guint32 seq)
{
  return 200;
}

static void
rest_arrives_during_the_wait (CArchiveFormat format)
{
  Fixture f;
  g_autoptr (GBytes) first = records_as_bytes (format, 1, 1, same_size);
  g_autoptr (GBytes) bytes = records_as_bytes (format, 1, 3, same_size);
  LateRest late = { &f, bytes, g_bytes_get_size (first) / 2, g_bytes_get_size (first), FALSE };

  fixture_open (&f, format, 3, 0);
  send_now (&f, g_bytes_get_data (bytes, NULL), late.split);
  g_idle_add (send_rest_while_the_reader_waits, &late);
  assert_all_arrived (f.reader, same_size);
  cr_assert (late.sent);
  cr_assert_eq (f.reader->receives, 1);
  cr_assert_eq (receive_calls (f.reader), 2, "%" G_GUINT64_FORMAT " receives",
                receive_calls (f.reader));
  cr_assert_gt (f.reader->wait_turns, 0);
  fixture_close (&f);
}

Test (socket_file, rest_and_next_records_arrive_during_a_wait_network, .timeout = 30)
{
  rest_arrives_during_the_wait (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, rest_and_next_records_arrive_during_a_wait_mfc, .timeout = 30)
{
  rest_arrives_during_the_wait (C_ARCHIVE_FORMAT_MFC);
}

/* 7. Bad input ends the loop with the archive's error, never with a hang: a record cut
 * short by the peer's close, and a string that claims 4 GiB. */

static void
truncated_record_then_close (CArchiveFormat format)
{
  Fixture f;
  g_autoptr (GBytes) bytes = records_as_bytes (format, 1, 2, medium_size);
  gsize cut = g_bytes_get_size (bytes) - 10;

  fixture_open (&f, format, 2, 0);
  send_now (&f, g_bytes_get_data (bytes, NULL), cut);
  c_async_socket_close (S (f.writer));
  cr_assert (run_until (reader_closed, f.reader), "no on_close");
  cr_assert_eq (f.reader->records->len, 1);
  assert_record (g_ptr_array_index (f.reader->records, 0), 1, medium_size (1));
  cr_assert (g_error_matches (f.reader->error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_END_OF_FILE), "%s",
             f.reader->error ? f.reader->error->message : "no error");
  cr_assert_eq (f.reader->closes, 1);
  fixture_close (&f);
}

Test (socket_file, truncated_record_then_close_is_an_end_of_archive_error_network, .timeout = 30)
{
  truncated_record_then_close (C_ARCHIVE_FORMAT_NETWORK);
}

Test (socket_file, truncated_record_then_close_is_an_end_of_archive_error_mfc, .timeout = 30)
{
  truncated_record_then_close (C_ARCHIVE_FORMAT_MFC);
}

static gboolean
reader_failed (gpointer data)
{
  return CHATTER_SOCKET (data)->error != NULL;
}

static void
four_gibibyte_string_claim (CArchiveFormat format, const guint8 *claim, gsize claim_size)
{
  Fixture f;

  fixture_open (&f, format, 1, 0);
  send_now (&f, claim, claim_size);
  cr_assert (run_until (reader_failed, f.reader));
  cr_assert (g_error_matches (f.reader->error, C_ARCHIVE_ERROR, C_ARCHIVE_ERROR_LIMIT_EXCEEDED),
             "%s", f.reader->error ? f.reader->error->message : "no error");
  cr_assert_eq (f.reader->records->len, 0);
  cr_assert_eq (f.reader->wait_turns, 0, "the reader waited for the claimed bytes");
  fixture_close (&f);
}

Test (socket_file, four_gibibyte_string_claim_fails_at_once_network, .timeout = 30)
{
  /* DWORD 1, then a string length escaped to the QWORD 2^32. */
  static const guint8 claim[] = { 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0 };
  four_gibibyte_string_claim (C_ARCHIVE_FORMAT_NETWORK, claim, sizeof claim);
}

Test (socket_file, four_gibibyte_string_claim_fails_at_once_mfc, .timeout = 30)
{
  /* DWORD 1, then MFC's length escapes up to the QWORD 2^32. */
  static const guint8 claim[]
      = { 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0 };
  four_gibibyte_string_claim (C_ARCHIVE_FORMAT_MFC, claim, sizeof claim);
}

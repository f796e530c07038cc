/* test-transport.c: the byte-transport seam, through the in-memory transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A socket given c_transport_memory_new() reads the bytes it was made with, in chunks of
 * the given sizes, then meets the end of the stream; what it sends is counted. The socket's
 * descriptor is one end of a Unix socket pair, so that the reactor registers it as usual.
 * With the other end closed the kernel reports the end of the stream, as for a peer that
 * sent everything the transport holds; with it open the kernel reports nothing to read, so
 * only the transport can say that bytes are there: the case of bytes held above the kernel
 * (decrypted and not yet read, for TLS), which no readiness report will ever announce.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-util.h"

#include "c-transport.h"

/* A connected socket whose bytes come from @data in chunks of @chunk bytes (0: all at
 * once). Returns the other end of its socket pair, or -1 when @peer_open is FALSE (the
 * other end is closed then). */
static int
transport_socket (TestSocket *socket, GBytes *data, gsize chunk, gboolean peer_open)
{
  g_autoptr (GError) error = NULL;
  int fds[2];

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  cr_assert (c_async_socket_attach (S (socket), fds[0], C_FD_ALL, &error), "attach: %s",
             error ? error->message : "");
  c_transport_set (c_async_socket_get_private (S (socket)),
                   c_transport_memory_new (data, chunk > 0 ? &chunk : NULL, chunk > 0));
  if (peer_open)
    return fds[1];
  close (fds[1]);
  return -1;
}

static CTransport *
transport_of (TestSocket *socket)
{
  return c_async_socket_get_private (S (socket))->transport;
}

/* Records of these sizes, each filled with bytes that follow from its index. */
static const gsize record_sizes[] = { 0, 1, 5, 100, 4096, 70000, 3, 0, 65536 };

static GBytes *
record_payload (guint index, gsize size)
{
  guint8 *data = g_malloc (size + 1);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (index * 53 + i * 7 + i / 251);
  return g_bytes_new_take (data, size);
}

/* The records as a stream: each a 4-byte big-endian length, then its bytes. */
static GBytes *
record_stream (void)
{
  GByteArray *stream = g_byte_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (record_sizes); i++)
    {
      g_autoptr (GBytes) payload = record_payload (i, record_sizes[i]);
      guint32 length = GUINT32_TO_BE ((guint32) record_sizes[i]);

      g_byte_array_append (stream, (const guint8 *) &length, 4);
      g_byte_array_append (stream, g_bytes_get_data (payload, NULL), (guint) record_sizes[i]);
    }
  return g_byte_array_free_to_bytes (stream);
}

static void
assert_records (TestSocket *socket, const char *how)
{
  cr_assert_eq (socket->records->len, G_N_ELEMENTS (record_sizes), "%s: %u records, not %zu", how,
                socket->records->len, G_N_ELEMENTS (record_sizes));
  for (guint i = 0; i < G_N_ELEMENTS (record_sizes); i++)
    {
      g_autoptr (GBytes) expected = record_payload (i, record_sizes[i]);
      cr_assert (g_bytes_equal (g_ptr_array_index (socket->records, i), expected),
                 "%s: record %u (%zu bytes) differs", how, i, record_sizes[i]);
    }
}

static gboolean
closed (gpointer data)
{
  return ((TestSocket *) data)->counts[C_NOTIFY_CLOSE] > 0;
}

Test (transport, records_in_chunks_arrive_whole_and_in_order, .timeout = 60)
{
  g_autoptr (GBytes) stream = record_stream ();
  const gsize chunks[] = { 1, 3, 4096 };
  gsize length;
  const guint8 *bytes = g_bytes_get_data (stream, &length);

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      g_autoptr (TestSocket) reader = test_socket_new ();
      g_autofree char *how = g_strdup_printf ("chunks of %zu bytes", chunks[c]);

      cr_assert (c_async_socket_set_record_mode (S (reader), TRUE, NULL));
      transport_socket (reader, stream, chunks[c], FALSE);
      cr_assert (run_until (closed, reader), "%s: no on_close", how);
      drain_context ();
      assert_records (reader, how);
      cr_assert_eq (reader->counts[C_NOTIFY_CLOSE], 1);
      cr_assert_eq (reader->errors[C_NOTIFY_CLOSE], 0, "%s: on_close (%s)", how,
                    g_strerror (reader->errors[C_NOTIFY_CLOSE]));
      cr_assert_null (c_async_socket_get_close_error (S (reader)));
      cr_assert_eq (reader->counts[C_NOTIFY_RECEIVE], 0, "on_receive in record mode");
    }

  /* The same stream through a socket pair gives the same records. */
  {
    g_autoptr (TestSocket) reader = test_socket_new ();
    int fds[2];
    gsize done = 0;

    cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    cr_assert (c_async_socket_attach (S (reader), fds[0], C_FD_ALL, NULL));
    cr_assert (c_async_socket_set_record_mode (S (reader), TRUE, NULL));
    while (done < length)
      {
        gssize n = send (fds[1], bytes + done, length - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
          done += (gsize) n;
        else
          {
            cr_assert (n < 0 && errno == EAGAIN, "send: %s", g_strerror (errno));
            iterate (1); /* the reader empties the socket */
          }
      }
    close (fds[1]);
    cr_assert (run_until (closed, reader), "socket pair: no on_close");
    drain_context ();
    assert_records (reader, "a socket pair");
    cr_assert_eq (reader->errors[C_NOTIFY_CLOSE], 0);
  }
}

Test (transport, a_record_cut_short_by_the_end_of_stream_is_eproto, .timeout = 30)
{
  static const guint8 cut[][10] = {
    { 0, 0, 0, 8, 'a', 'b', 'c' },        /* 3 of 8 bytes */
    { 0, 0, 0, 1, 'x', 0, 0 },            /* a whole record, then 2 bytes of a header */
    { 0, 0, 0, 2, 'x', 'y', 0, 0, 0, 5 }, /* a whole record, then a header alone */
  };
  static const gsize cut_lengths[] = { 7, 7, 10 };
  static const guint wholes[] = { 0, 1, 1 };

  for (guint i = 0; i < G_N_ELEMENTS (cut); i++)
    for (gsize chunk = 0; chunk <= 3; chunk++)
      {
        g_autoptr (TestSocket) reader = test_socket_new ();
        g_autoptr (GBytes) data = g_bytes_new (cut[i], cut_lengths[i]);
        const GError *reason;

        cr_assert (c_async_socket_set_record_mode (S (reader), TRUE, NULL));
        transport_socket (reader, data, chunk, FALSE);
        cr_assert (run_until (closed, reader), "stream %u, chunks of %zu: no on_close", i, chunk);
        drain_context ();
        cr_assert_eq (reader->counts[C_NOTIFY_CLOSE], 1);
        cr_assert_eq (reader->errors[C_NOTIFY_CLOSE], EPROTO,
                      "stream %u, chunks of %zu: on_close (%s), not EPROTO", i, chunk,
                      g_strerror (reader->errors[C_NOTIFY_CLOSE]));
        reason = c_async_socket_get_close_error (S (reader));
        cr_assert_not_null (reason, "no close error");
        cr_assert (strstr (reason->message, "in the middle of a record") != NULL, "%s",
                   reason->message);
        cr_assert_eq (reader->records->len, wholes[i], "stream %u: %u records, not %u", i,
                      reader->records->len, wholes[i]);
      }
}

/* A hook that receives one byte per on_receive. */
static void
take_one_byte (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  guint8 byte;
  gssize n;

  if (which == C_NOTIFY_CLOSE)
    {
      /* on_close (0) only once everything was read. */
      cr_assert_eq (socket->received->len, GPOINTER_TO_SIZE (data),
                    "on_close with %u of %zu bytes read", socket->received->len,
                    GPOINTER_TO_SIZE (data));
      return;
    }
  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), &byte, 1, 0, NULL);
  cr_assert_eq (n, 1, "on_receive, and receive gave %zd", n);
  g_byte_array_append (socket->received, &byte, 1);
}

static GBytes *
byte_pattern (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 13 + i / 256);
  return g_bytes_new_take (data, size);
}

Test (transport, receive_reads_what_the_transport_holds, .timeout = 30)
{
  g_autoptr (TestSocket) reader = test_socket_new ();
  g_autoptr (GBytes) data = byte_pattern (1000);
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) got = g_byte_array_new ();
  guint8 buffer[4096];
  gssize n;
  int peer;

  /* No main loop at all: each receive returns the next chunk, then the end of the stream. */
  peer = transport_socket (reader, data, 300, TRUE);
  c_async_socket_async_select (S (reader), C_FD_NONE, NULL);
  while ((n = c_async_socket_receive (S (reader), buffer, sizeof buffer, 0, &error)) > 0)
    {
      cr_assert_leq (n, 300, "a read of %zd bytes from chunks of 300", n);
      g_byte_array_append (got, buffer, (guint) n);
    }
  cr_assert_eq (n, 0, "receive: %s", error ? error->message : "");
  cr_assert_eq (got->len, 1000);
  cr_assert (memcmp (got->data, g_bytes_get_data (data, NULL), 1000) == 0);
  close (peer);
}

Test (transport, on_receive_comes_again_while_the_transport_holds_bytes, .timeout = 30)
{
  g_autoptr (TestSocket) reader = test_socket_new ();
  g_autoptr (GBytes) data = byte_pattern (1000);
  int peer;

  /* The peer stays open: the kernel never reports anything to read, so every on_receive
   * comes from the transport's own count. One byte per on_receive still gets everything. */
  reader->hook = take_one_byte;
  reader->hook_data = GSIZE_TO_POINTER (1000);
  peer = transport_socket (reader, data, 7, TRUE);
  cr_assert (run_until_received (reader, 1000), "%u of 1000 bytes received after %d on_receive",
             reader->received->len, reader->counts[C_NOTIFY_RECEIVE]);
  drain_context ();
  cr_assert (memcmp (reader->received->data, g_bytes_get_data (data, NULL), 1000) == 0);
  cr_assert_eq (reader->counts[C_NOTIFY_RECEIVE], 1000, "%d on_receive for 1000 bytes",
                reader->counts[C_NOTIFY_RECEIVE]);
  cr_assert_eq (reader->counts[C_NOTIFY_CLOSE], 0, "on_close before the end of the stream");
  close (peer);
}

Test (transport, on_close_waits_for_the_bytes_the_transport_holds, .timeout = 30)
{
  g_autoptr (TestSocket) reader = test_socket_new ();
  g_autoptr (GBytes) data = byte_pattern (500);

  /* The peer is closed: the kernel reports the end of the stream at once, but on_close (0)
   * must wait until the bytes above it were read (the hook checks it). */
  reader->hook = take_one_byte;
  reader->hook_data = GSIZE_TO_POINTER (500);
  transport_socket (reader, data, 3, FALSE);
  cr_assert (run_until (closed, reader), "no on_close; %u of 500 bytes received",
             reader->received->len);
  drain_context ();
  cr_assert_eq (reader->received->len, 500);
  cr_assert_eq (reader->counts[C_NOTIFY_CLOSE], 1);
  cr_assert_eq (reader->errors[C_NOTIFY_CLOSE], 0);
}

static gboolean
written_at_least (gpointer data)
{
  gpointer *args = data;
  return c_transport_memory_written (transport_of (args[0])) >= GPOINTER_TO_SIZE (args[1]);
}

Test (transport, sends_go_to_the_transport, .timeout = 30)
{
  g_autoptr (TestSocket) writer = test_socket_new ();
  g_autoptr (GBytes) nothing = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) record = byte_pattern (10000);
  g_autoptr (GError) error = NULL;
  gpointer args[2] = { writer, GSIZE_TO_POINTER (5 + 4 + 10000) };
  char byte;
  int peer;

  peer = transport_socket (writer, nothing, 0, TRUE);
  cr_assert (run_until_count (writer, C_NOTIFY_SEND, 1), "no on_send");
  cr_assert_eq (c_async_socket_send (S (writer), "hello", 5, 0, &error), 5, "send: %s",
                error ? error->message : "");
  cr_assert_eq (c_transport_memory_written (transport_of (writer)), 5);

  /* A record: its header and bytes, through the write queue's writes. */
  cr_assert (c_async_socket_set_record_mode (S (writer), TRUE, NULL));
  cr_assert (c_async_socket_send_record (S (writer), record, &error), "send_record: %s",
             error ? error->message : "");
  cr_assert (run_until (written_at_least, args), "%zu bytes written",
             c_transport_memory_written (transport_of (writer)));
  drain_context ();
  cr_assert_eq (c_transport_memory_written (transport_of (writer)), 5 + 4 + 10000);

  /* Nothing reached the kernel. */
  cr_assert_eq (recv (peer, &byte, 1, MSG_DONTWAIT), -1);
  cr_assert_eq (errno, EAGAIN);
  close (peer);
}

/* test-records.c: whole records, the bounded write queue, and record deadlines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

/* A pair whose server end (and optionally client end) is in record mode. */
static void
records_pair_open (Pair *p, gboolean client_records)
{
  p->listener = make_listener (NULL, &p->port);
  cr_assert (c_async_socket_set_record_mode (S (p->listener), TRUE, NULL));
  make_pair (p->listener, "127.0.0.1", p->port, &p->client, &p->server);
  cr_assert (c_async_socket_get_record_mode (S (p->server)), "not inherited from the listener");
  if (client_records)
    cr_assert (c_async_socket_set_record_mode (S (p->client), TRUE, NULL));
}

/* The suites' fixtures: records has both ends in record mode; records_plain_client only the
 * server end, so that the client can write frames by hand (split, truncated, oversized) as
 * any peer may. Each test runs in a worker process of its own, so each starts with a fresh
 * pair. Tests that set up their own sockets are in records_own_setup. */
static Pair p;

static void
open_records_pair (void)
{
  records_pair_open (&p, TRUE);
}

static void
open_records_pair_with_plain_client (void)
{
  records_pair_open (&p, FALSE);
}

static void
close_pair (void)
{
  pair_close (&p);
}

TestSuite (records, .init = open_records_pair, .fini = close_pair);
TestSuite (records_plain_client, .init = open_records_pair_with_plain_client, .fini = close_pair);

static GBytes *
pattern (gsize size, guint seed)
{
  guint8 *data = g_malloc (size ? size : 1);
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + seed + i / 997);
  return g_bytes_new_take (data, size);
}

Test (records, sizes_0_1_64k_and_16m_arrive_whole_and_in_order, .timeout = 60)
{
  gsize sizes[] = { 0, 1, 65536, 16 << 20, 1 };
  g_autoptr (GError) error = NULL;

  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GBytes) record = pattern (sizes[i], i);
      cr_assert (c_async_socket_send_record (S (p.client), record, &error), "%s",
                 error ? error->message : "");
    }
  cr_assert (run_until_records (p.server, G_N_ELEMENTS (sizes)));
  drain_context ();
  cr_assert_eq (p.server->records->len, G_N_ELEMENTS (sizes));
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GBytes) expected = pattern (sizes[i], i);
      cr_assert (g_bytes_equal (g_ptr_array_index (p.server->records, i), expected),
                 "record %u (%zu bytes) differs", i, sizes[i]);
    }
  CSocketStats stats;
  c_async_socket_get_stats (S (p.server), &stats);
  cr_assert_eq (stats.records_received, G_N_ELEMENTS (sizes));
  c_async_socket_get_stats (S (p.client), &stats);
  cr_assert_eq (stats.records_sent, G_N_ELEMENTS (sizes));
}

/* Large records come in blocks that go back to a per-thread pool when the application
 * drops them (c-record-blocks.c): reused blocks, of other sizes than before, must
 * carry exactly the new record, whether it was assembled over several reads or copied
 * whole from one. */
Test (records, reused_record_blocks_carry_only_the_new_record, .timeout = 60)
{
  static const gsize sizes[] = { 65536, 16384, 300000, 65536, 20000, 1048576, 40000, 65535 };
  g_autoptr (GError) error = NULL;

  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  for (guint round = 0; round < 6; round++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          g_autoptr (GBytes) record
              = pattern (sizes[(i + round) % G_N_ELEMENTS (sizes)], round * 16 + i);
          cr_assert (c_async_socket_send_record (S (p.client), record, &error), "%s",
                     error ? error->message : "");
        }
      cr_assert (run_until_records (p.server, G_N_ELEMENTS (sizes)), "round %u", round);
      cr_assert_eq (p.server->records->len, G_N_ELEMENTS (sizes));
      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          g_autoptr (GBytes) expected
              = pattern (sizes[(i + round) % G_N_ELEMENTS (sizes)], round * 16 + i);
          cr_assert (g_bytes_equal (g_ptr_array_index (p.server->records, i), expected),
                     "round %u, record %u differs", round, i);
        }
      /* Dropping them gives their blocks back for the next round. */
      g_ptr_array_set_size (p.server->records, 0);
    }
}

Test (records, ten_thousand_records_in_a_burst, .timeout = 60)
{
  const guint n = 10000;

  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  for (guint i = 0; i < n; i++)
    {
      char text[32];
      int length = g_snprintf (text, sizeof text, "record %u", i);
      cr_assert (c_async_socket_send_record_data (S (p.client), text, (gsize) length, NULL));
    }
  cr_assert (run_until_records (p.server, n));
  for (guint i = 0; i < n; i++)
    {
      char text[32];
      gsize size;
      const char *data = g_bytes_get_data (g_ptr_array_index (p.server->records, i), &size);
      int length = g_snprintf (text, sizeof text, "record %u", i);
      cr_assert_eq (size, (gsize) length);
      cr_assert_eq (memcmp (data, text, size), 0, "record %u out of order", i);
    }
}

/* The stream of three frames, split once at every possible byte. */
Test (records_plain_client, frames_split_at_every_byte_boundary, .timeout = 120)
{
  const guint8 frames[]
      = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 5, '1', '2', '3', '4', '5' };

  for (gsize split = 1; split < sizeof frames; split++)
    {
      guint before = p.server->records->len;

      cr_assert_eq (c_async_socket_send (S (p.client), frames, split, 0, NULL), (gssize) split);
      drain_context ();
      cr_assert_eq (
          c_async_socket_send (S (p.client), frames + split, sizeof frames - split, 0, NULL),
          (gssize) (sizeof frames - split));
      cr_assert (run_until_records (p.server, before + 3), "split at %zu lost a record", split);
      cr_assert_eq (g_bytes_get_size (g_ptr_array_index (p.server->records, before)), 3);
      cr_assert_eq (g_bytes_get_size (g_ptr_array_index (p.server->records, before + 1)), 0);
      cr_assert_eq (g_bytes_get_size (g_ptr_array_index (p.server->records, before + 2)), 5);
      cr_assert_eq (
          memcmp (g_bytes_get_data (g_ptr_array_index (p.server->records, before + 2), NULL),
                  "12345", 5),
          0);
    }
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], 0, "on_receive in record mode");
}

/* Counts what afxsock logs above debug level (README: it never prints about its peers). */
static GLogWriterOutput
count_loud_messages (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0
        && g_str_equal (fields[i].value, "afxsock") && !(level & G_LOG_LEVEL_DEBUG))
      (*(int *) data)++;
  return g_log_writer_default (level, fields, n_fields, NULL);
}

Test (records_plain_client, a_4_gib_announcement_is_refused_before_any_allocation, .timeout = 30)
{
  const guint8 frame[] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  const GError *reason;
  static int loud;

  g_log_set_writer_func (count_loud_messages, &loud, NULL);

  cr_assert_eq (c_async_socket_send (S (p.client), frame, sizeof frame, 0, NULL), sizeof frame);
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], EMSGSIZE);
  reason = c_async_socket_get_close_error (S (p.server));
  cr_assert_not_null (reason);
  cr_assert (g_error_matches (reason, C_SOCKET_ERROR, C_SOCKET_ERROR_LIMIT));
  cr_assert (strstr (reason->message, "4294967295 bytes") != NULL, "%s", reason->message);
  cr_assert_eq (p.server->records->len, 0);
  /* The peer sees the connection go; nothing was printed about it. */
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (loud, 0, "afxsock printed about a peer");
}

static gboolean
received_fourteen (gpointer data)
{
  return ((CAsyncSocketPrivate *) data)->stats.bytes_received >= 14;
}

Test (records_plain_client, memory_grows_with_bytes_received_not_with_the_announced_length,
      .timeout = 30)
{
  /* 60 MiB announced (under the 64 MiB limit), 10 bytes sent. */
  const guint8 frame[] = { 0x03, 0xc0, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  CAsyncSocketPrivate *priv;

  cr_assert_eq (c_async_socket_send (S (p.client), frame, sizeof frame, 0, NULL), sizeof frame);
  priv = c_async_socket_get_private (S (p.server));
  cr_assert (run_until (received_fourteen, priv));
  cr_assert_gt (c_async_socket_records_buffered (S (p.server)), 0);
  cr_assert_lt (c_async_socket_records_buffered (S (p.server)), 128 * 1024,
                "buffered %zu bytes for 14 received",
                c_async_socket_records_buffered (S (p.server)));
}

Test (records, overflow_can_close_the_connection_instead, .timeout = 60)
{
  g_autoptr (GError) error = NULL;
  gboolean refused = FALSE;

  c_async_socket_set_water_marks (S (p.client), 1024, 256 * 1024);
  c_async_socket_set_overflow_closes (S (p.client), TRUE);
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_NONE, NULL));
  for (guint i = 0; i < 4096 && !refused; i++)
    {
      g_autoptr (GBytes) record = pattern (64 * 1024, i);
      refused = !c_async_socket_send_record (S (p.client), record, &error);
    }
  cr_assert (refused);
  cr_assert_eq (p.client->counts[C_NOTIFY_CLOSE], 0, "on_close inside send_record");
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.client->errors[C_NOTIFY_CLOSE], ENOBUFS);
}

Test (records_own_setup, idle_connection_is_closed_after_the_idle_timeout, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client, *server;
  const GError *reason;

  cr_assert (c_async_socket_set_record_mode (S (listener), TRUE, NULL));
  c_async_socket_set_idle_timeout (S (listener), 100);
  make_pair (listener, "127.0.0.1", port, &client, &server);
  cr_assert (run_until_count (server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (server->errors[C_NOTIFY_CLOSE], ETIMEDOUT);
  reason = c_async_socket_get_close_error (S (server));
  cr_assert (strstr (reason->message, "no data received for 100 ms") != NULL, "%s",
             reason->message);
  g_object_unref (client);
  g_object_unref (server);
}

typedef struct
{
  TestSocket *client;
  guint sent;
} Dribble;

static gboolean
dribble_one_byte (gpointer data)
{
  Dribble *d = data;
  const guint8 frame[] = { 0, 0, 0, 100 };

  /* The header, then one payload byte per tick: bounded, at most 104 sends. */
  if (d->sent >= 104 || c_async_socket_get_handle (S (d->client)) < 0)
    return G_SOURCE_REMOVE;
  if (c_async_socket_send (S (d->client), d->sent < 4 ? &frame[d->sent] : (const guint8 *) "x", 1,
                           0, NULL)
      == 1)
    d->sent++;
  return G_SOURCE_CONTINUE;
}

Test (records_plain_client, a_dribbling_peer_is_dropped_by_the_record_deadline, .timeout = 30)
{
  Dribble d;
  guint id;

  c_async_socket_set_record_timeout (S (p.server), 150);
  d.client = p.client;
  d.sent = 0;
  id = g_timeout_add (10, dribble_one_byte, &d);
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  g_source_remove (id);
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], ETIMEDOUT);
  cr_assert (strstr (c_async_socket_get_close_error (S (p.server))->message,
                     "record not complete after 150 ms")
             != NULL);
  cr_assert_lt (d.sent, 104, "the whole record arrived before the deadline");
  cr_assert_eq (p.server->records->len, 0);
}

Test (records_plain_client, receive_is_refused_in_record_mode, .timeout = 30)
{
  char buffer[4];
  g_autoptr (GError) error = NULL;

  cr_assert_eq (c_async_socket_receive (S (p.server), buffer, sizeof buffer, 0, &error), -1);
  cr_assert (g_error_matches (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE));
  g_clear_error (&error);
  cr_assert_not (c_async_socket_send_record_data (S (p.client), "x", 1, &error));
  cr_assert (g_error_matches (error, C_SOCKET_ERROR, C_SOCKET_ERROR_WRONG_STATE), "%s",
             error->message);
}

Test (records_plain_client, truncated_record_at_end_of_stream_is_a_protocol_error, .timeout = 30)
{
  const guint8 frame[] = { 0, 0, 0, 9, 'a', 'b' };

  cr_assert_eq (c_async_socket_send (S (p.client), frame, sizeof frame, 0, NULL), sizeof frame);
  c_async_socket_close (S (p.client));
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1));
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], EPROTO);
  cr_assert (strstr (c_async_socket_get_close_error (S (p.server))->message, "middle of a record")
             != NULL);
}

Test (records_own_setup, one_record_per_datagram_with_its_sender, .timeout = 30)
{
  g_autoptr (TestSocket) a = test_socket_new ();
  g_autoptr (TestSocket) b = test_socket_new ();
  guint port_a = send_three_datagram_records (a, S (b));
  GInetSocketAddress *sender;

  cr_assert (run_until_records (b, 3));
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b->records, 0)), 3);
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b->records, 1)), 0);
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b->records, 2)), 5);
  sender = G_INET_SOCKET_ADDRESS (c_async_socket_get_record_sender (S (b)));
  cr_assert_not_null (sender);
  cr_assert_eq (g_inet_socket_address_get_port (sender), port_a);
}

static void
note_queue_at_on_send (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  if (which == C_NOTIFY_SEND)
    *(gsize *) data = c_async_socket_get_queued_bytes (S (socket));
}

Test (records, on_send_says_when_the_queue_has_emptied, .timeout = 60)
{
  gsize queued_at_on_send = G_MAXSIZE;
  int sends_before;
  g_autoptr (GError) error = NULL;

  int small = 4096;

  c_async_socket_set_sock_opt_int (S (p.client), SOL_SOCKET, SO_SNDBUF, small, NULL);
  c_async_socket_set_sock_opt_int (S (p.server), SOL_SOCKET, SO_RCVBUF, small, NULL);
  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_NONE, NULL)); /* not reading yet */
  sends_before = p.client->counts[C_NOTIFY_SEND];
  p.client->hook = note_queue_at_on_send;
  p.client->hook_data = &queued_at_on_send;
  /* More than the (shrunk) kernel buffers take, less than the high-water mark. */
  for (guint i = 0; i < 64 && c_async_socket_get_queued_bytes (S (p.client)) == 0; i++)
    {
      g_autoptr (GBytes) record = pattern (256 * 1024, i);
      cr_assert (c_async_socket_send_record (S (p.client), record, &error), "%s",
                 error ? error->message : "");
    }
  cr_assert_gt (c_async_socket_get_queued_bytes (S (p.client)), 0, "the kernel took everything");
  drain_context ();
  cr_assert_eq (p.client->counts[C_NOTIFY_SEND], sends_before, "on_send while records wait");

  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, NULL));
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, sends_before + 1),
             "no on_send once the queue emptied");
  cr_assert_eq (queued_at_on_send, 0);
}

/* Fills the client's write queue against a server that does not read; returns the bytes
 * queued (more than 0). */
static gsize
queue_behind_a_full_buffer (Pair *p)
{
  g_autoptr (GError) error = NULL;

  c_async_socket_set_sock_opt_int (S (p->client), SOL_SOCKET, SO_SNDBUF, 4096, NULL);
  c_async_socket_set_sock_opt_int (S (p->server), SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  cr_assert (c_async_socket_async_select (S (p->server), C_FD_NONE, NULL)); /* not reading */
  for (guint i = 0; i < 64 && c_async_socket_get_queued_bytes (S (p->client)) == 0; i++)
    {
      g_autoptr (GBytes) record = pattern (64 * 1024, i);
      cr_assert (c_async_socket_send_record (S (p->client), record, &error), "%s",
                 error ? error->message : "");
    }
  cr_assert_gt (c_async_socket_get_queued_bytes (S (p->client)), 0, "the kernel took it all");
  return c_async_socket_get_queued_bytes (S (p->client));
}

static void
reset_connection (TestSocket *socket)
{
  struct linger hard = { 1, 0 };
  cr_assert (
      c_async_socket_set_sock_opt (S (socket), SO_LINGER, &hard, sizeof hard, SOL_SOCKET, NULL));
  c_async_socket_close (S (socket));
}

Test (records, sends_after_a_reset_fail_with_it_and_the_queue_is_freed, .timeout = 30)
{
  g_autoptr (GError) error = NULL;

  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  queue_behind_a_full_buffer (&p);
  reset_connection (p.server);
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "no on_close after the reset");
  cr_assert_eq (p.client->errors[C_NOTIFY_CLOSE], ECONNRESET);
  cr_assert_eq (c_async_socket_get_queued_bytes (S (p.client)), 0, "the dead queue was kept");
  /* The connection is known dead: no send is accepted, none queues, none would-blocks. */
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr (GBytes) record = pattern (6 * 1024, i);
      cr_assert_not (c_async_socket_send_record (S (p.client), record, &error),
                     "send %u after the reset was accepted", i);
      assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (ECONNRESET),
                    "send_record: the connection was lost");
      cr_assert_eq (c_async_socket_get_last_error (), ECONNRESET);
    }
  cr_assert_eq (c_async_socket_get_queued_bytes (S (p.client)), 0);
  drain_context ();
  cr_assert_eq (p.client->drains, 0, "on_drain for a dead connection");
  cr_assert_eq (p.client->counts[C_NOTIFY_CLOSE], 1);
}

Test (records, sends_after_the_library_closed_the_connection_fail_with_its_reason, .timeout = 30)
{
  g_autoptr (GError) error = NULL;

  c_async_socket_set_idle_timeout (S (p.client), 50);
  cr_assert (run_until_count (p.client, C_NOTIFY_CLOSE, 1), "no idle timeout");
  cr_assert_not (c_async_socket_send_record_data (S (p.client), "late", 4, &error));
  assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no data received for 50 ms");
}

/* The most natural use: the timeout set on the accepted connection, before anything
 * arrives (here right after the accept, as a listener's on_accept would). */
Test (records_plain_client, idle_timeout_set_on_a_silent_accepted_connection_fires, .timeout = 30)
{
  c_async_socket_set_idle_timeout (S (p.server), 100);
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1), "the silent peer was never dropped");
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], ETIMEDOUT);
  cr_assert (
      strstr (c_async_socket_get_close_error (S (p.server))->message, "no data received for 100 ms")
      != NULL);
}

Test (records_own_setup, idle_timeout_set_before_record_mode_fires_once_records_are_on,
      .timeout = 30)
{
  Pair p;

  pair_open (&p);
  c_async_socket_set_idle_timeout (S (p.server), 100);
  cr_assert (c_async_socket_set_record_mode (S (p.server), TRUE, NULL));
  cr_assert (run_until_count (p.server, C_NOTIFY_CLOSE, 1), "the silent peer was never dropped");
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], ETIMEDOUT);
  pair_close (&p);
}

/* The write queue's bound (c_async_socket_send_record's comment): never more than the
 * high-water mark, except one record larger than the mark taken onto an empty queue. */
Test (records, the_write_queue_never_passes_its_high_water_mark, .timeout = 60)
{
  const gsize high = 256 * 1024;
  g_autoptr (GError) error = NULL;
  gboolean refused = FALSE;

  c_async_socket_set_water_marks (S (p.client), 1024, high);
  queue_behind_a_full_buffer (&p);
  for (guint i = 0; i < 1000 && !refused; i++)
    {
      g_autoptr (GBytes) record = pattern (48 * 1024, i);
      refused = !c_async_socket_send_record (S (p.client), record, &error);
      cr_assert_leq (c_async_socket_get_queued_bytes (S (p.client)), high,
                     "%zu bytes queued under a mark of %zu",
                     c_async_socket_get_queued_bytes (S (p.client)), high);
    }
  cr_assert (refused, "the queue took everything");
  assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "wait for on_drain");
  /* A record larger than the mark: refused while anything is queued. */
  {
    g_autoptr (GBytes) big = pattern (4 * high, 7);
    gsize before = c_async_socket_get_queued_bytes (S (p.client));
    cr_assert_not (c_async_socket_send_record (S (p.client), big, &error));
    assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "high-water mark");
    cr_assert_eq (c_async_socket_get_queued_bytes (S (p.client)), before);
  }
  /* The refusal promised on_drain: it comes once the reader catches up. */
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, NULL));
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, 2), "the queue never emptied");
  cr_assert_geq (p.client->drains, 1, "no on_drain after the refusal");
  /* On the empty queue, the large record is taken alone. */
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_NONE, NULL));
  {
    g_autoptr (GBytes) big = pattern (4 * high, 8);
    cr_assert (c_async_socket_send_record (S (p.client), big, &error), "%s",
               error ? error->message : "");
    cr_assert_leq (c_async_socket_get_queued_bytes (S (p.client)), 4 * high + 4);
    cr_assert_not (c_async_socket_send_record_data (S (p.client), "x", 1, &error),
                   "a record accepted behind one past the mark");
    g_clear_error (&error);
  }
}

/* The size of record @i of a mixed stream: from 0 to past the small blocks' 8 KiB, so that
 * some records are copied into small blocks, some into large ones; at most mixed_limit. */
static gsize mixed_limit = G_MAXSIZE;

static gsize
mixed_size (guint i)
{
  static const gsize sizes[] = { 0, 1, 60, 61, 200, 1000, 4092, 4093, 8188, 8189, 8192, 20000 };
  return MIN (sizes[i % G_N_ELEMENTS (sizes)], mixed_limit);
}

static void
fill_mixed (guint8 *data, gsize size, guint i)
{
  for (gsize k = 0; k < size; k++)
    data[k] = (guint8) (k * 13 + i * 7 + k / 251);
}

static void
assert_mixed_records (TestSocket *socket, guint n)
{
  cr_assert_eq (socket->records->len, n, "%u records arrived, expected %u", socket->records->len,
                n);
  for (guint i = 0; i < n; i++)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (socket->records, i), &size);
      g_autofree guint8 *expected = g_malloc (mixed_size (i) + 1);

      fill_mixed (expected, mixed_size (i), i);
      cr_assert_eq (size, mixed_size (i), "record %u has %zu bytes, expected %zu", i, size,
                    mixed_size (i));
      cr_assert (size == 0 || memcmp (data, expected, size) == 0, "record %u differs", i);
    }
}

/* A record sent from memory is written from the caller's memory when nothing waits, and
 * what the kernel did not take is copied: the caller may reuse its buffer as soon as the
 * call returns, whether the record left whole, in part, or not at all. The same for an
 * archive's buffer, which goes on to the next record (records over 8 KiB that have to wait
 * take the archive's buffer with them). Sent in bursts against small kernel buffers, so that
 * records are cut at every point and the write queue grows, empties and wraps around. */
Test (records, records_sent_from_memory_survive_the_caller_reusing_it, .timeout = 60)
{
  const guint n = 600;
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  guint8 *buffer = g_malloc (20000);
  g_autoptr (GError) error = NULL;
  guint i = 0;

  /* A small send buffer cuts records; the reader's stays large, so that the stream is not
   * held to a few kilobytes a round trip. */
  c_async_socket_set_sock_opt_int (S (p.client), SOL_SOCKET, SO_SNDBUF, 4096, NULL);
  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  for (guint burst = 0; i < n; burst++)
    {
      for (guint k = 0; k < 1 + burst % 40 && i < n; k++, i++)
        {
          gsize size = mixed_size (i);

          fill_mixed (buffer, size, i);
          if (i % 2 == 0)
            cr_assert (c_async_socket_send_record_data (S (p.client), buffer, size, &error),
                       "record %u: %s", i, error ? error->message : "");
          else
            {
              c_archive_write (archive, buffer, size);
              cr_assert (c_async_socket_send_archive (S (p.client), archive, &error),
                         "record %u: %s", i, error ? error->message : "");
              cr_assert (c_archive_is_buffer_empty (archive), "record %u left in the archive", i);
            }
          memset (buffer, 0xee, size); /* the caller's memory is the caller's again */
        }
      iterate (1 + burst % 3);
    }
  g_free (buffer);
  cr_assert (run_until_records (p.server, n), "%u of %u records arrived, %zu bytes queued",
             p.server->records->len, n, c_async_socket_get_queued_bytes (S (p.client)));
  assert_mixed_records (p.server, n);
  cr_assert_eq (c_async_socket_get_queued_bytes (S (p.client)), 0);
}

/* How many of the 64 KiB records that filled the buffer (queue_behind_a_full_buffer) came
 * first, counted once a record of another size has arrived after them: the writer's on_send
 * says its queue left, not that the reader has read it all (a transport that reads ahead of
 * the application, as the removed io_uring back end did, can deliver one a dispatch later). */
static gboolean
another_size_arrived (gpointer data)
{
  TestSocket *socket = data;

  for (guint i = 0; i < socket->records->len; i++)
    if (g_bytes_get_size (g_ptr_array_index (socket->records, i)) != 64 * 1024)
      return TRUE;
  return FALSE;
}

static guint
count_filling_records (TestSocket *server)
{
  guint before = 0;

  cr_assert (run_until (another_size_arrived, server), "nothing came after the 64 KiB records");
  while (before < server->records->len
         && g_bytes_get_size (g_ptr_array_index (server->records, before)) == 64 * 1024)
    before++;
  return before;
}

/* The write queue holds any number of records: far more than its first ring of entries,
 * kept in order while it grows. (Small records: the reader's buffer is shrunk, and a
 * connection with a 4 KiB window moves only a few hundred kilobytes a second.) */
Test (records, hundreds_of_waiting_records_leave_in_order, .timeout = 60)
{
  const guint n = 1500;
  guint8 buffer[20000];

  gsize queued, total = 0;
  guint before;
  int sends_before;

  c_async_socket_set_water_marks (S (p.client), 0, 64 << 20);
  mixed_limit = 100;
  queued = queue_behind_a_full_buffer (&p);
  for (guint i = 0; i < n; i++)
    {
      fill_mixed (buffer, mixed_size (i), i);
      cr_assert (c_async_socket_send_record_data (S (p.client), buffer, mixed_size (i), NULL));
      total += 4 + mixed_size (i);
    }
  cr_assert_eq (c_async_socket_get_queued_bytes (S (p.client)), queued + total,
                "the records did not all wait");
  /* The records queued behind the full buffer come first: 64 KiB patterns. */
  sends_before = p.client->counts[C_NOTIFY_SEND];
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, NULL));
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, sends_before + 1),
             "the queue never emptied");
  before = count_filling_records (p.server);
  cr_assert_gt (before, 0);
  cr_assert (run_until_records (p.server, before + n));
  g_ptr_array_remove_range (p.server->records, 0, before);
  assert_mixed_records (p.server, n);
}

/* A record the queue refuses stays in the archive (c_async_socket_send_archive's comment):
 * after on_drain the same archive is sent again, and the record arrives once. */
Test (records, a_refused_archive_keeps_its_record_for_after_on_drain, .timeout = 60)
{
  const gsize high = 128 * 1024;
  g_autoptr (CArchive) archive = c_archive_new_store_to_memory (C_ARCHIVE_FORMAT_NETWORK);
  g_autoptr (GError) error = NULL;
  guint8 record[3000];
  const guint8 *kept;
  gsize kept_size;
  guint sent = 0, before;
  int sends_before;

  c_async_socket_set_water_marks (S (p.client), 1024, high);
  queue_behind_a_full_buffer (&p);
  for (;; sent++)
    {
      cr_assert_lt (sent, 1000, "the queue took everything");
      fill_mixed (record, sizeof record, sent);
      c_archive_write (archive, record, sizeof record);
      if (!c_async_socket_send_archive (S (p.client), archive, &error))
        break;
      cr_assert (c_archive_is_buffer_empty (archive));
    }
  assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "wait for on_drain");
  g_clear_error (&error);
  kept = c_archive_get_data (archive, &kept_size);
  cr_assert_eq (kept_size, sizeof record, "the refused record left the archive");
  cr_assert_eq (memcmp (kept, record, sizeof record), 0);

  sends_before = p.client->counts[C_NOTIFY_SEND];
  cr_assert (c_async_socket_async_select (S (p.server), C_FD_ALL, NULL));
  cr_assert (run_until_count (p.client, C_NOTIFY_SEND, sends_before + 1),
             "the queue never emptied");
  cr_assert_geq (p.client->drains, 1, "no on_drain after the refusal");
  cr_assert (c_async_socket_send_archive (S (p.client), archive, &error), "%s",
             error ? error->message : "");
  cr_assert (c_archive_is_buffer_empty (archive));

  /* The 64 KiB records that filled the buffer, then records 0 to sent, each once. */
  before = count_filling_records (p.server);
  cr_assert (run_until_records (p.server, before + sent + 1));
  drain_context ();
  cr_assert_eq (p.server->records->len, before + sent + 1, "a record arrived twice");
  for (guint i = 0; i <= sent; i++)
    {
      GBytes *got = g_ptr_array_index (p.server->records, before + i);
      fill_mixed (record, sizeof record, i);
      cr_assert_eq (g_bytes_get_size (got), sizeof record);
      cr_assert_eq (memcmp (g_bytes_get_data (got, NULL), record, sizeof record), 0,
                    "record %u differs", i);
    }
}

/* Records are cut from a buffer that every record-mode socket of the thread reads into. An
 * on_record that runs the main loop (a CSocket call, a nested loop, a dialog) lets other
 * sockets read meanwhile, and more records arrive for its own: what is left of its read must
 * come through intact, and before the records that arrived later. */
typedef struct
{
  Pair *self, *other;
  gboolean nested_done;
} NestedRead;

static void
run_the_loop_inside_on_record (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  NestedRead *nested = data;
  guint8 later[100], other[2000];

  if (socket->records->len != 1)
    return;
  memset (later, 'd', sizeof later);
  cr_assert (c_async_socket_send_record_data (S (nested->self->client), later, sizeof later, NULL));
  memset (other, 'B', sizeof other);
  cr_assert (
      c_async_socket_send_record_data (S (nested->other->client), other, sizeof other, NULL));
  nested->nested_done = run_until_records (nested->other->server, 1);
  cr_assert_eq (socket->records->len, 1, "a record was delivered inside on_record");
}

Test (records_own_setup, a_nested_loop_in_on_record_keeps_records_whole_and_in_order, .timeout = 30)
{
  Pair a, b;
  NestedRead nested = { &a, &b, FALSE };
  guint8 record[100];

  records_pair_open (&a, TRUE);
  records_pair_open (&b, TRUE);
  a.server->record_hook = run_the_loop_inside_on_record;
  a.server->hook_data = &nested;
  /* Three records in the kernel before the server reads: one read takes them all. */
  for (guint i = 0; i < 3; i++)
    {
      memset (record, 'a' + i, sizeof record);
      cr_assert (c_async_socket_send_record_data (S (a.client), record, sizeof record, NULL));
    }
  cr_assert (run_until_records (a.server, 4), "%u records, the socket %s", a.server->records->len,
             c_async_socket_get_close_error (S (a.server)) != NULL
                 ? c_async_socket_get_close_error (S (a.server))->message
                 : "open");
  cr_assert (nested.nested_done, "the other socket's record did not arrive inside on_record");
  for (guint i = 0; i < 4; i++)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (a.server->records, i), &size);
      cr_assert_eq (size, sizeof record);
      for (gsize k = 0; k < size; k++)
        cr_assert_eq (data[k], 'a' + i, "record %u, byte %zu: '%c'", i, k, data[k]);
    }
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b.server->records, 0)), 2000);
  pair_close (&b);
  pair_close (&a);
}

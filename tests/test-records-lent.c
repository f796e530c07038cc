/* test-records-lent.c: records lent to on_record_data, without a copy or a GBytes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A class that overrides on_record_data gets each record where it was read (the thread's
 * read buffer, or the block a large record was assembled in), valid until the handler
 * returns. These tests use such a class (LentSocket) as the accepted end of a record-mode
 * connection: records of every size arrive whole and in order, on_record and the ::record
 * signal come only when the handler chains up, records sent on from the handler arrive
 * intact, a handler that runs the main loop keeps its bytes, and a handler may close or drop
 * the socket. Datagram sockets lend their records too.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "test-util.h"

#define LENT_TYPE_SOCKET (lent_socket_get_type ())
G_DECLARE_FINAL_TYPE (LentSocket, lent_socket, LENT, SOCKET, CAsyncSocket)

typedef void (*LentHook) (LentSocket *self, const guint8 *data, gsize size);

struct _LentSocket
{
  CAsyncSocket parent_instance;
  GPtrArray *records; /* copies of what on_record_data lent */
  gboolean chain_up;
  gboolean echo; /* send each record back with c_async_socket_send_record_data */
  LentHook hook; /* called from inside on_record_data, before the copy is kept */
  gpointer hook_data;
  guint on_record_calls;
};

G_DEFINE_FINAL_TYPE (LentSocket, lent_socket, C_TYPE_ASYNC_SOCKET)

static void
lent_on_record_data (CAsyncSocket *socket, const guint8 *data, gsize size)
{
  LentSocket *self = LENT_SOCKET (socket);

  cr_assert (data != NULL || size == 0);
  if (self->hook != NULL)
    self->hook (self, data, size);
  g_ptr_array_add (self->records, g_bytes_new (data, size));
  if (self->echo)
    cr_assert (c_async_socket_send_record_data (socket, data, size, NULL));
  if (self->chain_up)
    C_ASYNC_SOCKET_CLASS (lent_socket_parent_class)->on_record_data (socket, data, size);
}

static void
lent_on_record (CAsyncSocket *socket, GBytes *record)
{
  LENT_SOCKET (socket)->on_record_calls++;
}

static void
lent_socket_finalize (GObject *object)
{
  g_ptr_array_unref (LENT_SOCKET (object)->records);
  G_OBJECT_CLASS (lent_socket_parent_class)->finalize (object);
}

static void
lent_socket_class_init (LentSocketClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lent_socket_finalize;
  C_ASYNC_SOCKET_CLASS (klass)->on_record_data = lent_on_record_data;
  C_ASYNC_SOCKET_CLASS (klass)->on_record = lent_on_record;
}

static void
lent_socket_init (LentSocket *self)
{
  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

/* A record-mode client (TestSocket) and its accepted end, a LentSocket. */
typedef struct
{
  TestSocket *listener, *client;
  LentSocket *server;
} LentPair;

static void
lent_pair_open (LentPair *p)
{
  guint port;
  g_autoptr (GError) error = NULL;

  p->listener = make_listener (NULL, &port);
  cr_assert (c_async_socket_set_record_mode (S (p->listener), TRUE, NULL));
  p->client = test_socket_new ();
  p->server = g_object_new (LENT_TYPE_SOCKET, NULL);
  cr_assert (c_async_socket_create (S (p->client), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
  cr_assert (c_async_socket_set_record_mode (S (p->client), TRUE, NULL));
  cr_assert (c_async_socket_connect (S (p->client), "127.0.0.1", port, &error));
  cr_assert (run_until_count (p->listener, C_NOTIFY_ACCEPT, 1), "no on_accept");
  cr_assert (c_async_socket_accept (S (p->listener), S (p->server), NULL, &error), "accept: %s",
             error ? error->message : "");
  cr_assert (c_async_socket_get_record_mode (S (p->server)));
  cr_assert (run_until_count (p->client, C_NOTIFY_CONNECT, 1), "no on_connect");
  c_async_socket_set_water_marks (S (p->client), 0, 64 << 20);
}

static void
lent_pair_close (LentPair *p)
{
  g_clear_object (&p->client);
  g_clear_object (&p->server);
  g_clear_object (&p->listener);
}

static LentPair p;

static void
open_lent_pair (void)
{
  lent_pair_open (&p);
}

static void
close_lent_pair (void)
{
  lent_pair_close (&p);
}

TestSuite (lent, .init = open_lent_pair, .fini = close_lent_pair);

static gboolean
lent_records_reached (gpointer data)
{
  LentSocket *socket = data;
  return socket->records->len >= GPOINTER_TO_UINT (g_object_get_data (data, "wanted"));
}

static gboolean
run_until_lent (LentSocket *socket, guint n)
{
  g_object_set_data (G_OBJECT (socket), "wanted", GUINT_TO_POINTER (n));
  return run_until (lent_records_reached, socket);
}

static GBytes *
pattern (gsize size, guint seed)
{
  guint8 *data = g_malloc (size + 1);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 29 + seed * 7 + i / 1009);
  return g_bytes_new_take (data, size);
}

static const gsize sizes[] = { 0, 1, 60, 8188, 8192, 20000, 65536, 300000, 1 << 20, 5 };

static void
send_sizes (TestSocket *client, guint seed)
{
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GBytes) record = pattern (sizes[i], seed + i);
      cr_assert (c_async_socket_send_record (S (client), record, NULL));
    }
}

static void
assert_sizes (GPtrArray *records, guint first, guint seed)
{
  cr_assert_geq (records->len, first + G_N_ELEMENTS (sizes));
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GBytes) expected = pattern (sizes[i], seed + i);
      cr_assert (g_bytes_equal (g_ptr_array_index (records, first + i), expected),
                 "record %u (%zu bytes) differs", first + i, sizes[i]);
    }
}

Test (lent, records_of_every_size_arrive_whole_and_in_order, .timeout = 60)
{
  CSocketStats stats;

  for (guint round = 0; round < 3; round++)
    send_sizes (p.client, round * 100);
  cr_assert (run_until_lent (p.server, 3 * G_N_ELEMENTS (sizes)));
  for (guint round = 0; round < 3; round++)
    assert_sizes (p.server->records, round * G_N_ELEMENTS (sizes), round * 100);
  cr_assert_eq (p.server->on_record_calls, 0, "on_record called for a lent record");
  c_async_socket_get_stats (S (p.server), &stats);
  cr_assert_eq (stats.records_received, 3 * G_N_ELEMENTS (sizes));
}

static int signal_calls;

static void
count_record_signal (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  GPtrArray *seen = data;

  signal_calls++;
  g_ptr_array_add (seen, g_bytes_ref (record));
}

/* Overriding on_record_data replaces on_record and the signal; chaining up brings both
 * back, with the same bytes. */
Test (lent, the_record_signal_comes_only_when_the_handler_chains_up, .timeout = 30)
{
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_signal_connect (p.server, "record", G_CALLBACK (count_record_signal), seen);
  cr_assert (c_async_socket_send_record_data (S (p.client), "first", 5, NULL));
  cr_assert (run_until_lent (p.server, 1));
  cr_assert_eq (signal_calls, 0, "the ::record signal for a class that takes records lent");

  p.server->chain_up = TRUE;
  send_sizes (p.client, 7);
  cr_assert (run_until_lent (p.server, 1 + G_N_ELEMENTS (sizes)));
  drain_context ();
  cr_assert_eq (signal_calls, (int) G_N_ELEMENTS (sizes));
  assert_sizes (seen, 0, 7);
  /* The signal ran instead of on_record (the signal's class handler is on_record: with a
   * handler connected, GLib calls both). */
  cr_assert_eq (p.server->on_record_calls, G_N_ELEMENTS (sizes));
}

/* Records sent back from the handler: the lent bytes are copied only where they have to
 * wait (records are corked while a read is cut). Many records per read. */
Test (lent, records_sent_on_from_the_handler_arrive_intact, .timeout = 60)
{
  const guint n = 3000;

  p.server->echo = TRUE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GBytes) record = pattern (i % 300, i);
      cr_assert (c_async_socket_send_record (S (p.client), record, NULL));
    }
  send_sizes (p.client, 5);
  cr_assert (run_until_records (p.client, n + G_N_ELEMENTS (sizes)));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GBytes) expected = pattern (i % 300, i);
      cr_assert (g_bytes_equal (g_ptr_array_index (p.client->records, i), expected),
                 "echo %u differs", i);
    }
  {
    g_autoptr (GPtrArray) tail = g_ptr_array_new ();
    for (guint i = n; i < p.client->records->len; i++)
      g_ptr_array_add (tail, g_ptr_array_index (p.client->records, i));
    assert_sizes (tail, 0, 5);
  }
}

/* A handler that runs the main loop while holding lent bytes: another record-mode socket of
 * the thread reads meanwhile, and the bytes must not change under the handler. */
typedef struct
{
  Pair other;
  gboolean nested_done;
  gboolean intact;
} Nested;

static void
run_the_loop_and_compare (LentSocket *self, const guint8 *data, gsize size)
{
  Nested *nested = self->hook_data;
  g_autofree guint8 *before = g_memdup2 (data, size);
  guint8 other[4000];

  if (self->records->len != 0)
    return;
  memset (other, 'B', sizeof other);
  cr_assert (c_async_socket_send_record_data (S (nested->other.client), other, sizeof other, NULL));
  nested->nested_done = run_until_records (nested->other.server, 1);
  nested->intact = memcmp (before, data, size) == 0;
}

Test (lent, a_handler_that_runs_the_loop_keeps_its_bytes, .timeout = 30)
{
  Nested nested = { 0 };

  nested.other.listener = make_listener (NULL, &nested.other.port);
  cr_assert (c_async_socket_set_record_mode (S (nested.other.listener), TRUE, NULL));
  make_pair (nested.other.listener, "127.0.0.1", nested.other.port, &nested.other.client,
             &nested.other.server);
  cr_assert (c_async_socket_set_record_mode (S (nested.other.client), TRUE, NULL));
  p.server->hook = run_the_loop_and_compare;
  p.server->hook_data = &nested;
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GBytes) record = pattern (3000, i);
      cr_assert (c_async_socket_send_record (S (p.client), record, NULL));
    }
  cr_assert (run_until_lent (p.server, 3));
  cr_assert (nested.nested_done, "the other socket's record did not arrive inside the handler");
  cr_assert (nested.intact, "the lent bytes changed while the handler ran the loop");
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GBytes) expected = pattern (3000, i);
      cr_assert (g_bytes_equal (g_ptr_array_index (p.server->records, i), expected));
    }
  pair_close (&nested.other);
}

static void
close_in_handler (LentSocket *self, const guint8 *data, gsize size)
{
  c_async_socket_close (C_ASYNC_SOCKET (self));
}

/* The handler closes the socket on the first record of a read that holds more, one of them
 * assembled in a block of its own: nothing more is delivered, nothing leaks (ASan,
 * Valgrind). */
Test (lent, a_handler_may_close_its_socket, .timeout = 30)
{
  p.server->hook = close_in_handler;
  send_sizes (p.client, 1);
  cr_assert (run_until_lent (p.server, 1));
  drain_context ();
  cr_assert_eq (p.server->records->len, 1);
  cr_assert_eq (c_async_socket_get_handle (S (p.server)), -1);
}

static void
drop_last_reference (LentSocket *self, const guint8 *data, gsize size)
{
  gboolean *dropped = self->hook_data;

  if (*dropped)
    return;
  *dropped = TRUE;
  g_object_unref (self); /* the application's only reference */
}

/* MFC's `delete this` from the handler: the socket is closed and freed after it, and the
 * bytes stayed valid until the handler returned. */
Test (lent, a_handler_may_drop_the_last_reference, .timeout = 30)
{
  gboolean dropped = FALSE;
  LentSocket *server = g_steal_pointer (&p.server);
  GWeakRef weak;

  g_weak_ref_init (&weak, server);
  server->hook = drop_last_reference;
  server->hook_data = &dropped;
  send_sizes (p.client, 2);
  cr_assert (run_until_flag (&dropped));
  drain_context ();
  cr_assert_null (g_weak_ref_get (&weak), "the released socket is still alive");
  g_weak_ref_clear (&weak);
}

Test (lent_own_setup, datagram_records_are_lent_with_their_sender, .timeout = 30)
{
  g_autoptr (TestSocket) a = test_socket_new ();
  g_autoptr (LentSocket) b = g_object_new (LENT_TYPE_SOCKET, NULL);
  guint port_a = send_three_datagram_records (a, S (b));
  GInetSocketAddress *sender;

  cr_assert (run_until_lent (b, 3));
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b->records, 0)), 3);
  cr_assert_eq (memcmp (g_bytes_get_data (g_ptr_array_index (b->records, 0), NULL), "one", 3), 0);
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b->records, 1)), 0);
  cr_assert_eq (g_bytes_get_size (g_ptr_array_index (b->records, 2)), 5);
  sender = G_INET_SOCKET_ADDRESS (c_async_socket_get_record_sender (S (b)));
  cr_assert_not_null (sender);
  cr_assert_eq (g_inet_socket_address_get_port (sender), port_a);
}

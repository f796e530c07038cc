/* test-faults.c: the integrity checks under injected system-call faults
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs under fault-shim.c (LD_PRELOAD, seeded by AFXSOCK_FAULT_SEED; meson test sets both),
 * which makes about 30% of the TCP socket calls fall short, fail with EINTR or EAGAIN (each
 * EAGAIN, and each short receive, followed by the readiness edge the kernel would raise, see
 * fault-shim.c), and makes accept fail with EMFILE or ENFILE. Under that:
 *
 * - records: 3,000 records of 0 to 200 KiB arrive whole, once, in order and intact, and
 *   each acknowledgement comes back;
 * - CSocket + CArchive (MFC's CHATTER pattern, the reader in on_receive, the writer on a
 *   thread of its own): 1,000 messages of numbers, strings and byte blocks arrive intact;
 * - accept: 200 clients are all accepted and served;
 * - plain CAsyncSocket request/response (one receive per on_receive, as in MFC): 200 round
 *   trips complete.
 *
 * Each test also checks that the shim really injected what it claims. Outside the shim the
 * tests are skipped.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "reliability-util.h"

#define S(x) C_ASYNC_SOCKET (x)
#define DEADLINE_MS 60000

typedef struct
{
  unsigned long long calls;
  unsigned long long interrupted;
  unsigned long long would_block;
  unsigned long long short_calls;
  unsigned long long emfile;
  unsigned long long enfile;
  unsigned long long edges;
} FaultStats;

typedef int (*GetStats) (FaultStats *out);

static FaultStats
shim_stats (void)
{
  GetStats get = (GetStats) dlsym (RTLD_DEFAULT, "afxsock_fault_shim_get_stats");
  FaultStats stats = { 0 };

  if (get == NULL || !get (&stats))
    cr_skip_test ("not running under the fault shim (LD_PRELOAD=…/fault-shim.so "
                  "AFXSOCK_FAULT_SEED=N; meson test does this)");
  return stats;
}

static FaultStats
stats_since (const FaultStats *before)
{
  FaultStats now = shim_stats ();

  now.calls -= before->calls;
  now.interrupted -= before->interrupted;
  now.would_block -= before->would_block;
  now.short_calls -= before->short_calls;
  now.emfile -= before->emfile;
  now.enfile -= before->enfile;
  now.edges -= before->edges;
  return now;
}

static void
log_stats (const char *what, const FaultStats *s)
{
  cr_log_info ("%s: seed %s; %llu socket calls, %llu short, %llu EINTR, %llu EAGAIN (%llu edges "
               "owed and delivered), %llu EMFILE, %llu ENFILE",
               what, g_getenv ("AFXSOCK_FAULT_SEED"), s->calls, s->short_calls, s->interrupted,
               s->would_block, s->edges, s->emfile, s->enfile);
}

/* make_pair (), for a world where accept fails now and then: on_accept comes again. */
static void
make_pair_under_faults (TestSocket *listener, guint port, TestSocket **client, TestSocket **server)
{
  g_autoptr (GError) error = NULL;

  *client = test_socket_new ();
  *server = test_socket_new ();
  cr_assert (c_async_socket_create (S (*client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_connect (S (*client), "127.0.0.1", port, &error));
  for (int accepts = 1;; accepts++)
    {
      cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, accepts), "no on_accept");
      if (c_async_socket_accept (S (listener), S (*server), NULL, &error))
        break;
      g_clear_error (&error);
    }
  cr_assert (run_until_count (*client, C_NOTIFY_CONNECT, 1));
  cr_assert_eq ((*client)->errors[C_NOTIFY_CONNECT], 0);
  cr_assert (run_until_count (*client, C_NOTIFY_SEND, 1));
  cr_assert (run_until_count (*server, C_NOTIFY_SEND, 1));
}

/* ---- Records -------------------------------------------------------------------------- */

#define N_RECORDS 3000
#define WINDOW_RECORDS 128
#define SEED 7

typedef struct
{
  TestSocket *client;
  TestSocket *server;
  guint32 next_send;
  guint32 acknowledged;
  guint32 next_expected;
  char *failure;
} RecordRun;

static void
record_failure (RecordRun *run, char *message)
{
  if (run->failure == NULL)
    run->failure = message;
  else
    g_free (message);
}

static void
fill_window (RecordRun *run)
{
  while (run->next_send < N_RECORDS && run->next_send - run->acknowledged < WINDOW_RECORDS)
    {
      g_autoptr (GBytes) record = make_checked_record (run->next_send, SEED);
      if (!c_async_socket_send_record (S (run->client), record, NULL))
        return; /* at the high-water mark: on_drain */
      run->next_send++;
    }
}

static void
server_checks (CAsyncSocket *server, GBytes *record, gpointer data)
{
  RecordRun *run = data;
  char *why = NULL;
  gint64 id = verify_checked_record (record, SEED, &why);
  guint8 ack[4];

  if (id < 0)
    {
      record_failure (run, why);
      return;
    }
  if (id != run->next_expected)
    {
      record_failure (run, g_strdup_printf ("record %" G_GINT64_FORMAT " arrived, %u expected", id,
                                            run->next_expected));
      return;
    }
  run->next_expected++;
  ack[0] = (guint8) (id >> 24);
  ack[1] = (guint8) (id >> 16);
  ack[2] = (guint8) (id >> 8);
  ack[3] = (guint8) id;
  if (!c_async_socket_send_record_data (server, ack, sizeof ack, NULL))
    record_failure (run, g_strdup ("the server could not acknowledge"));
}

static void
client_counts (CAsyncSocket *client, GBytes *record, gpointer data)
{
  RecordRun *run = data;
  gsize size;
  const guint8 *ack = g_bytes_get_data (record, &size);
  guint32 id;

  if (size != 4)
    {
      record_failure (run, g_strdup ("a malformed acknowledgement"));
      return;
    }
  id = ((guint32) ack[0] << 24) | ((guint32) ack[1] << 16) | ((guint32) ack[2] << 8) | ack[3];
  if (id != run->acknowledged)
    record_failure (run,
                    g_strdup_printf ("acknowledgement %u, expected %u", id, run->acknowledged));
  run->acknowledged++;
  fill_window (run);
}

static void
client_drained (CAsyncSocket *client, gpointer data)
{
  fill_window (data);
}

static gboolean
records_done (gpointer data)
{
  RecordRun *run = data;
  return run->failure != NULL || run->acknowledged == N_RECORDS;
}

Test (faults, records_arrive_whole_once_in_order_and_intact, .timeout = 120)
{
  FaultStats before = shim_stats (), injected;
  RecordRun run = { 0 };
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  gint64 started = g_get_monotonic_time ();

  cr_assert (c_async_socket_set_record_mode (S (listener), TRUE, NULL));
  make_pair_under_faults (listener, port, &run.client, &run.server);
  cr_assert (c_async_socket_set_record_mode (S (run.client), TRUE, NULL));
  c_async_socket_set_water_marks (S (run.client), 256 * 1024, 1024 * 1024);
  g_signal_connect (run.server, "record", G_CALLBACK (server_checks), &run);
  g_signal_connect (run.client, "record", G_CALLBACK (client_counts), &run);
  g_signal_connect (run.client, "drain", G_CALLBACK (client_drained), &run);
  fill_window (&run);

  cr_assert (run_until_within (records_done, &run, DEADLINE_MS),
             "stalled: %u records sent, %u received, %u acknowledged; %zu bytes queued by the "
             "client, %zu by the server",
             run.next_send, run.next_expected, run.acknowledged,
             c_async_socket_get_queued_bytes (S (run.client)),
             c_async_socket_get_queued_bytes (S (run.server)));
  cr_assert_null (run.failure, "%s", run.failure);
  cr_assert_eq (run.next_expected, N_RECORDS);
  cr_assert_eq (run.client->counts[C_NOTIFY_CLOSE] + run.server->counts[C_NOTIFY_CLOSE], 0,
                "a connection closed under faults that the kernel would not cause");

  injected = stats_since (&before);
  log_stats ("records", &injected);
  cr_log_info ("%d records in %.1f s", N_RECORDS, (g_get_monotonic_time () - started) / 1e6);
  cr_assert_gt (injected.short_calls, 0);
  cr_assert_gt (injected.interrupted, 0);
  if (g_strcmp0 (g_getenv ("AFXSOCK_FAULT_EAGAIN"), "none") != 0)
    cr_assert_gt (injected.would_block, 0);
  g_object_unref (run.client);
  g_object_unref (run.server);
}

/* ---- CSocket + CArchive ---------------------------------------------------------------- */

#define N_MESSAGES 1000

static gsize
text_length (guint32 id)
{
  return (id * 131) % 2000;
}

static gsize
block_size (guint32 id)
{
  return (id * 7919) % (64 * 1024);
}

static char *
expected_text (guint32 id)
{
  GString *text = g_string_new (NULL);

  while (text->len < text_length (id))
    g_string_append_printf (text, "message %u ", id);
  g_string_truncate (text, text_length (id));
  return g_string_free (text, FALSE);
}

typedef struct
{
  guint port;
  gint done; /* atomic */
  char *error;
} Writer;

/* The writer: a thread with its own context, blocking CSocket calls, one flush per message
 * as CHATTER does. */
static gpointer
write_messages (gpointer data)
{
  Writer *writer = data;
  GMainContext *context = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  CSocket *socket;
  CSocketFile *file;
  CArchive *ar;

  g_main_context_push_thread_default (context);
  socket = c_socket_new ();
  c_socket_set_timeout (socket, 20000);
  if (!c_async_socket_create (C_ASYNC_SOCKET (socket), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1",
                              &error)
      || !c_socket_connect (socket, "127.0.0.1", writer->port, &error))
    writer->error = g_strdup_printf ("connect: %s", error->message);
  file = c_socket_file_new (socket);
  ar = c_archive_new_store_to_stream (g_io_stream_get_output_stream (G_IO_STREAM (file)),
                                      C_ARCHIVE_FORMAT_NETWORK, 0);
  for (guint32 id = 0; id < N_MESSAGES && writer->error == NULL; id++)
    {
      g_autofree char *text = expected_text (id);
      g_autofree guint8 *block = g_malloc (block_size (id) + 1);

      fill_payload (block, block_size (id), id, SEED);
      c_archive_write_dword (ar, id);
      c_archive_write_cstring (ar, text);
      c_archive_write_data (ar, block, block_size (id));
      c_archive_write_double (ar, id / 3.0);
      if (!c_archive_flush (ar, &error))
        writer->error = g_strdup_printf ("message %u: %s", id, error->message);
    }
  if (writer->error == NULL && !c_archive_close (ar, &error))
    writer->error = g_strdup_printf ("close: %s", error->message);
  g_object_unref (ar);
  g_object_unref (file);
  g_object_unref (socket);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_atomic_int_set (&writer->done, 1);
  return NULL;
}

typedef struct
{
  CSocket *socket;
  CSocketFile *file;
  CArchive *ar;
  guint32 received;
  char *failure;
} Reader;

static void
check_message (Reader *reader)
{
  guint32 id = c_archive_read_dword (reader->ar);
  g_autofree char *text = c_archive_read_cstring (reader->ar);
  g_autoptr (GBytes) block = c_archive_read_bytes (reader->ar);
  gdouble third = c_archive_read_double (reader->ar);
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree guint8 *payload = NULL;

  if (!c_archive_check (reader->ar, &error))
    {
      reader->failure = g_strdup_printf ("message %u: %s", reader->received, error->message);
      return;
    }
  expected = expected_text (id);
  payload = g_malloc (block_size (id) + 1);
  fill_payload (payload, block_size (id), id, SEED);
  if (id != reader->received || strcmp (text, expected) != 0 || third != id / 3.0
      || g_bytes_get_size (block) != block_size (id)
      || (block_size (id) > 0
          && memcmp (g_bytes_get_data (block, NULL), payload, block_size (id)) != 0))
    reader->failure
        = g_strdup_printf ("message %u (id %u) differs from what was sent", reader->received, id);
  reader->received++;
}

/* MFC's CHATTER: in on_receive, read messages while the archive's buffer holds more. */
static void
reader_on_receive (CAsyncSocket *socket, int error_code, gpointer data)
{
  Reader *reader = data;

  do
    check_message (reader);
  while (reader->failure == NULL && reader->received < N_MESSAGES
         && !c_archive_is_buffer_empty (reader->ar));
}

typedef struct
{
  Reader *reader;
  Writer *writer;
} ChatterWait;

static gboolean
chatter_done (gpointer data)
{
  ChatterWait *wait = data;
  return wait->reader->failure != NULL
         || (wait->reader->received == N_MESSAGES && g_atomic_int_get (&wait->writer->done));
}

Test (faults, csocket_and_carchive_messages_arrive_intact, .timeout = 120)
{
  FaultStats before = shim_stats (), injected;
  Writer writer = { 0 };
  Reader reader = { 0 };
  ChatterWait wait = { &reader, &writer };
  g_autoptr (TestSocket) listener = make_listener (NULL, &writer.port);
  g_autoptr (GError) error = NULL;
  GThread *thread;

  thread = g_thread_new ("writer", write_messages, &writer);
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  reader.socket = c_socket_new ();
  c_socket_set_timeout (reader.socket, 20000);
  g_signal_connect (reader.socket, "receive", G_CALLBACK (reader_on_receive), &reader);
  /* Accept may fail under the shim (EMFILE, EINTR …): on_accept comes again. */
  for (int accepts = 2; !c_async_socket_accept (S (listener), S (reader.socket), NULL, &error);
       accepts++)
    {
      g_clear_error (&error);
      cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, accepts), "no on_accept");
    }
  reader.file = c_socket_file_new (reader.socket);
  reader.ar = c_archive_new_load_from_stream (
      g_io_stream_get_input_stream (G_IO_STREAM (reader.file)), C_ARCHIVE_FORMAT_NETWORK, 0);

  cr_assert (run_until_within (chatter_done, &wait, DEADLINE_MS), "stalled after %u messages",
             reader.received);
  g_thread_join (thread);
  cr_assert_null (writer.error, "writer: %s", writer.error);
  cr_assert_null (reader.failure, "reader: %s", reader.failure);
  cr_assert_eq (reader.received, N_MESSAGES);

  injected = stats_since (&before);
  log_stats ("CSocket + CArchive", &injected);
  cr_assert_gt (injected.short_calls, 0);
  cr_assert_gt (injected.interrupted, 0);
  g_object_unref (reader.ar);
  g_object_unref (reader.file);
  g_object_unref (reader.socket);
}

/* ---- Accept ---------------------------------------------------------------------------- */

#define N_CLIENTS 200
#define CLIENT_BATCH 50

typedef struct
{
  GPtrArray *servers;
  guint accept_errors;
} Acceptor;

static void
echo (CAsyncSocket *server, GBytes *record, gpointer data)
{
  c_async_socket_send_record (server, record, NULL);
}

static void
accept_all (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  Acceptor *acceptor = data;
  TestSocket *server;

  if (which != C_NOTIFY_ACCEPT)
    return;
  if (error_code != 0)
    acceptor->accept_errors++;
  server = test_socket_new ();
  g_signal_connect (server, "record", G_CALLBACK (echo), NULL);
  if (c_async_socket_accept (S (listener), S (server), NULL, NULL))
    g_ptr_array_add (acceptor->servers, server);
  else
    g_object_unref (server);
}

static void
client_sends_on_connect (TestSocket *client, CNotify which, int error_code, gpointer data)
{
  if (which == C_NOTIFY_CONNECT && error_code == 0)
    c_async_socket_send_record_data (S (client), "ping", 4, NULL);
}

static gboolean
batch_echoed (gpointer data)
{
  GPtrArray *clients = data;

  for (guint i = 0; i < clients->len; i++)
    if (((TestSocket *) g_ptr_array_index (clients, i))->records->len < 1)
      return FALSE;
  return TRUE;
}

Test (faults, every_client_is_accepted_and_served, .timeout = 120)
{
  FaultStats before = shim_stats (), injected;
  Acceptor acceptor = { g_ptr_array_new_with_free_func (g_object_unref), 0 };
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);

  cr_assert (c_async_socket_set_record_mode (S (listener), TRUE, NULL));
  listener->hook = accept_all;
  listener->hook_data = &acceptor;
  for (guint batch = 0; batch < N_CLIENTS / CLIENT_BATCH; batch++)
    {
      g_autoptr (GPtrArray) wave = g_ptr_array_new ();

      for (guint i = 0; i < CLIENT_BATCH; i++)
        {
          TestSocket *client = test_socket_new ();
          g_autoptr (GError) error = NULL;

          cr_assert (
              c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
          cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
          client->hook = client_sends_on_connect;
          cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
          g_ptr_array_add (clients, client);
          g_ptr_array_add (wave, client);
        }
      cr_assert (run_until_within (batch_echoed, wave, DEADLINE_MS),
                 "batch %u: %u connections accepted so far", batch, acceptor.servers->len);
    }
  cr_assert_eq (acceptor.servers->len, N_CLIENTS);
  for (guint i = 0; i < clients->len; i++)
    {
      TestSocket *client = g_ptr_array_index (clients, i);
      cr_assert_eq (client->records->len, 1);
      cr_assert_eq (client->counts[C_NOTIFY_CLOSE], 0);
    }

  injected = stats_since (&before);
  log_stats ("accept", &injected);
  cr_log_info ("%d clients accepted and served; on_accept reported %u errors", N_CLIENTS,
               acceptor.accept_errors);
  cr_assert_gt (injected.emfile, 0);
  cr_assert_gt (injected.enfile, 0);
  g_ptr_array_unref (acceptor.servers);
}

/* ---- Plain CAsyncSocket request / response --------------------------------------------- */

#define N_ROUND_TRIPS 200
#define REQUEST_SIZE (16 * 1024)

typedef struct
{
  TestSocket *client;
  TestSocket *server;
  guint round_trips;
  gsize request_sent; /* of the current request */
  gsize request_got;  /* by the server */
  gsize reply_sent;   /* by the server */
  gsize reply_got;    /* by the client */
  char *failure;
} Ping;

static void
send_request (Ping *ping)
{
  static guint8 request[REQUEST_SIZE];

  while (ping->request_sent < REQUEST_SIZE)
    {
      gssize n = c_async_socket_send (S (ping->client), request + ping->request_sent,
                                      REQUEST_SIZE - ping->request_sent, 0, NULL);
      if (n < 0)
        return; /* would block: on_send goes on */
      ping->request_sent += (gsize) n;
    }
}

static void
ping_client_hook (TestSocket *client, CNotify which, int error_code, gpointer data)
{
  Ping *ping = data;
  guint8 reply[16];
  gssize n;

  if (which == C_NOTIFY_SEND)
    send_request (ping);
  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (client), reply, sizeof reply, 0, NULL);
  if (n <= 0)
    return;
  ping->reply_got += (gsize) n;
  if (ping->reply_got < 4)
    return;
  if (ping->reply_got > 4)
    ping->failure = g_strdup ("a reply longer than 4 bytes");
  ping->round_trips++;
  ping->reply_got = 0;
  ping->request_sent = 0;
  if (ping->round_trips < N_ROUND_TRIPS)
    send_request (ping);
}

static void
send_reply (Ping *ping)
{
  static const char reply[4] = { 'p', 'o', 'n', 'g' };

  while (ping->reply_sent < sizeof reply)
    {
      gssize n = c_async_socket_send (S (ping->server), &reply[ping->reply_sent],
                                      sizeof reply - ping->reply_sent, 0, NULL);
      if (n < 0)
        return; /* would block: on_send goes on */
      ping->reply_sent += (gsize) n;
    }
}

/* MFC's pattern: one receive per on_receive. */
static void
ping_server_hook (TestSocket *server, CNotify which, int error_code, gpointer data)
{
  Ping *ping = data;
  guint8 buffer[64 * 1024];
  gssize n;

  if (which == C_NOTIFY_SEND)
    send_reply (ping);
  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (server), buffer, sizeof buffer, 0, NULL);
  if (n <= 0)
    return;
  ping->request_got += (gsize) n;
  if (ping->request_got < REQUEST_SIZE)
    return;
  if (ping->request_got > REQUEST_SIZE)
    ping->failure = g_strdup ("the server got more than one request");
  ping->request_got = 0;
  ping->reply_sent = 0;
  send_reply (ping);
}

static gboolean
ping_done (gpointer data)
{
  Ping *ping = data;
  return ping->failure != NULL || ping->round_trips == N_ROUND_TRIPS;
}

Test (faults, plain_receive_request_response_completes, .timeout = 120)
{
  FaultStats before = shim_stats (), injected;
  Ping ping = { 0 };
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  int unread = -1;

  make_pair_under_faults (listener, port, &ping.client, &ping.server);
  ping.client->hook = ping_client_hook;
  ping.client->hook_data = &ping;
  ping.server->hook = ping_server_hook;
  ping.server->hook_data = &ping;
  send_request (&ping);

  if (!run_until_within (ping_done, &ping, 20000))
    {
      ioctl (c_async_socket_get_handle (S (ping.server)), FIONREAD, &unread);
      cr_assert_fail ("stalled at round trip %u: the client sent %zu of %d request bytes, the "
                      "server received %zu and %d more wait unread in its socket; on_receive "
                      "came %d times to the server",
                      ping.round_trips, ping.request_sent, REQUEST_SIZE, ping.request_got, unread,
                      ping.server->counts[C_NOTIFY_RECEIVE]);
    }
  cr_assert_null (ping.failure, "%s", ping.failure);

  injected = stats_since (&before);
  log_stats ("plain request/response", &injected);
  cr_assert_gt (injected.short_calls, 0);
  g_object_unref (ping.client);
  g_object_unref (ping.server);
}

/* test-hostile.c: peers that attack a record-mode server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * - Slowloris: many connections that send nothing, or a byte now and then, hold the server's
 *   resources unless deadlines drop them. The idle and record timeouts must drop every one
 *   of them, while a normal client on the same server keeps getting its replies in time.
 * - 1,000 connections opened and abandoned in the middle of a record (closed, or reset):
 *   every one is reported, and afterwards the process holds exactly the descriptors it held
 *   before and no socket object is left alive (the Valgrind and LeakSanitizer runs check the
 *   memory).
 *
 * - A peer that puts one urgent (MSG_OOB) byte in the middle of its stream: Linux stops a
 *   read at the urgent mark, and FIONREAD counts only the bytes before it. The bytes after
 *   the mark must still be notified, and a close that follows them must not be reported as
 *   graceful before they are read.
 * - A peer on a Unix stream socket that passes a descriptor (SCM_RIGHTS) with part of its
 *   data: Linux stops a read after the message that carried it, with the rest still queued.
 *   The rest must still be notified.
 *
 * (A stalled reader against the write queue is test-records-stress.c's.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reliability-util.h"

#define S(x) C_ASYNC_SOCKET (x)

/* Socket objects alive, to show that none is left behind. */
static guint live_objects;

static void
object_finalized (gpointer data, GObject *where)
{
  live_objects--;
}

static void
track (gpointer object)
{
  live_objects++;
  g_object_weak_ref (object, object_finalized, NULL);
}

/* A record-mode server that echoes every record and logs how each connection ended. */
typedef struct
{
  TestSocket *listener;
  guint port;
  GHashTable *open;     /* TestSocket* → itself: the connections not closed yet */
  GArray *close_errors; /* int: on_close's code, for every connection that ended */
  GArray *close_times;  /* gint64: when, monotonic */
  GArray *open_times;   /* gint64: when each ended connection was accepted */
  guint accepted;
  guint accept_failures;
} Server;

static void
server_echo (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  c_async_socket_send_record (socket, record, NULL);
}

static void
server_connection_hook (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  Server *server = data;
  gint64 now = g_get_monotonic_time ();
  gint64 opened = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (socket), "opened"));

  if (which != C_NOTIFY_CLOSE)
    return;
  g_array_append_val (server->close_errors, error_code);
  g_array_append_val (server->close_times, now);
  g_array_append_val (server->open_times, opened);
  g_hash_table_remove (server->open, socket); /* drops the last reference */
}

static void
server_listener_hook (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  Server *server = data;
  TestSocket *socket;

  if (which != C_NOTIFY_ACCEPT || error_code != 0)
    return;
  socket = test_socket_new ();
  if (!c_async_socket_accept (S (listener), S (socket), NULL, NULL))
    {
      server->accept_failures++;
      g_object_unref (socket);
      return;
    }
  server->accepted++;
  track (socket);
  g_object_set_data (G_OBJECT (socket), "opened", GSIZE_TO_POINTER (g_get_monotonic_time ()));
  socket->hook = server_connection_hook;
  socket->hook_data = server;
  g_signal_connect (socket, "record", G_CALLBACK (server_echo), server);
  g_hash_table_add (server->open, socket);
}

static void
server_start (Server *server, guint idle_ms, guint record_ms)
{
  memset (server, 0, sizeof *server);
  server->listener = make_listener (NULL, &server->port);
  cr_assert (c_async_socket_set_record_mode (S (server->listener), TRUE, NULL));
  c_async_socket_set_idle_timeout (S (server->listener), idle_ms);
  c_async_socket_set_record_timeout (S (server->listener), record_ms);
  c_async_socket_set_max_record_size (S (server->listener), 1 << 20);
  server->listener->hook = server_listener_hook;
  server->listener->hook_data = server;
  server->open = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  server->close_errors = g_array_new (FALSE, FALSE, sizeof (int));
  server->close_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  server->open_times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
server_stop (Server *server)
{
  g_hash_table_unref (server->open);
  g_array_unref (server->close_errors);
  g_array_unref (server->close_times);
  g_array_unref (server->open_times);
  g_clear_object (&server->listener);
}

/* ---- Slowloris ------------------------------------------------------------------------- */

#define IDLE_TIMEOUT_MS 400
#define RECORD_TIMEOUT_MS 1000
#define ATTACKERS_PER_KIND 50
#define N_ATTACKERS (3 * ATTACKERS_PER_KIND)
#define DRIBBLE_INTERVAL_MS 100 /* a quarter of the idle timeout: only the record one fires */
#define MAX_DRIBBLES 40
#define NORMAL_INTERVAL_MS 20
#define MAX_ROUND_TRIP_MS 250

typedef enum
{
  ATTACK_SILENT,          /* connects, sends nothing: the idle timeout */
  ATTACK_DRIBBLE_PAYLOAD, /* a header announcing 1000 bytes, then a byte every 100 ms */
  ATTACK_DRIBBLE_HEADER,  /* a byte of a header every 100 ms, never completing it */
} AttackKind;

typedef struct
{
  TestSocket *socket;
  AttackKind kind;
  guint sent;
  guint timer;
} Attacker;

static gboolean
dribble (gpointer data)
{
  Attacker *attacker = data;
  static const guint8 header[] = { 0, 0, 3, 232 }; /* 1000 */
  guint8 byte = attacker->kind == ATTACK_DRIBBLE_HEADER ? header[attacker->sent % 3] : 'x';

  if (attacker->socket->counts[C_NOTIFY_CLOSE] > 0 || attacker->sent >= MAX_DRIBBLES)
    {
      attacker->timer = 0;
      return G_SOURCE_REMOVE;
    }
  if (attacker->kind == ATTACK_DRIBBLE_PAYLOAD && attacker->sent == 0)
    c_async_socket_send (S (attacker->socket), header, sizeof header, 0, NULL);
  else
    c_async_socket_send (S (attacker->socket), &byte, 1, 0, NULL);
  attacker->sent++;
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  TestSocket *socket;
  guint32 next_id; /* next record to send */
  guint32 echoed;  /* records echoed, in order */
  gint64 sent_at[4096];
  gint64 max_round_trip;
  gboolean out_of_order;
  guint timer;
} NormalClient;

static void
normal_receives (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  NormalClient *normal = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (record, &size);
  guint32 id;

  if (size != 4)
    {
      normal->out_of_order = TRUE;
      return;
    }
  id = ((guint32) bytes[0] << 24) | ((guint32) bytes[1] << 16) | ((guint32) bytes[2] << 8)
       | bytes[3];
  if (id != normal->echoed)
    normal->out_of_order = TRUE;
  normal->max_round_trip
      = MAX (normal->max_round_trip, g_get_monotonic_time () - normal->sent_at[id % 4096]);
  normal->echoed++;
}

static gboolean
normal_sends (gpointer data)
{
  NormalClient *normal = data;
  guint8 bytes[4] = { (guint8) (normal->next_id >> 24), (guint8) (normal->next_id >> 16),
                      (guint8) (normal->next_id >> 8), (guint8) normal->next_id };

  normal->sent_at[normal->next_id % 4096] = g_get_monotonic_time ();
  if (c_async_socket_send_record_data (S (normal->socket), bytes, 4, NULL))
    normal->next_id++;
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  Server *server;
  Attacker *attackers;
  NormalClient *normal;
  guint32 echoes_wanted;
} SlowlorisWait;

static gboolean
attack_over (gpointer data)
{
  SlowlorisWait *wait = data;

  for (int i = 0; i < N_ATTACKERS; i++)
    if (wait->attackers[i].socket->counts[C_NOTIFY_CLOSE] == 0)
      return FALSE;
  return wait->server->close_errors->len >= N_ATTACKERS;
}

static gboolean
echoes_arrived (gpointer data)
{
  SlowlorisWait *wait = data;
  return wait->normal->echoed >= wait->echoes_wanted || wait->normal->out_of_order;
}

static TestSocket *
connect_client (guint port, gboolean records)
{
  TestSocket *client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error),
             "%s", error ? error->message : "");
  if (records)
    cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error), "%s",
             error ? error->message : "");
  return client;
}

Test (hostile, slowloris_is_dropped_by_the_deadlines_and_a_normal_client_is_served, .timeout = 60)
{
  Server server;
  Attacker attackers[N_ATTACKERS];
  NormalClient normal = { 0 };
  SlowlorisWait wait = { &server, attackers, &normal, 0 };
  gint64 started;
  guint32 echoed_during_attack;
  guint silent = 0, dribblers = 0;

  server_start (&server, IDLE_TIMEOUT_MS, RECORD_TIMEOUT_MS);
  normal.socket = connect_client (server.port, TRUE);
  g_signal_connect (normal.socket, "record", G_CALLBACK (normal_receives), &normal);
  cr_assert (run_until_count (normal.socket, C_NOTIFY_CONNECT, 1));

  started = g_get_monotonic_time ();
  for (int i = 0; i < N_ATTACKERS; i++)
    {
      attackers[i].socket = connect_client (server.port, FALSE);
      attackers[i].kind = (AttackKind) (i % 3);
      attackers[i].sent = 0;
      attackers[i].timer = 0;
      if (attackers[i].kind != ATTACK_SILENT)
        attackers[i].timer = g_timeout_add (DRIBBLE_INTERVAL_MS, dribble, &attackers[i]);
    }
  normal.timer = g_timeout_add (NORMAL_INTERVAL_MS, normal_sends, &normal);

  cr_assert (run_until_within (attack_over, &wait, 20000),
             "the attack was not over after 20 s (%u connections closed by the server)",
             server.close_errors->len);
  echoed_during_attack = normal.echoed;
  /* And the normal client goes on after the attack. */
  wait.echoes_wanted = normal.next_id + 10;
  cr_assert (run_until_within (echoes_arrived, &wait, 10000), "the normal client got %u of %u",
             normal.echoed, wait.echoes_wanted);
  g_source_remove (normal.timer);

  cr_assert_eq (server.accepted, N_ATTACKERS + 1);
  cr_assert_eq (server.close_errors->len, N_ATTACKERS, "%u connections closed, %d attackers",
                server.close_errors->len, N_ATTACKERS);
  for (guint i = 0; i < server.close_errors->len; i++)
    {
      int code = g_array_index (server.close_errors, int, i);
      gint64 lived = g_array_index (server.close_times, gint64, i)
                     - g_array_index (server.open_times, gint64, i);

      cr_assert_eq (code, ETIMEDOUT, "an attacker was dropped with %d (%s)", code,
                    g_strerror (code));
      /* Never before its deadline; silent ones by the idle timeout, dribblers by the record
       * timeout (their bytes keep the idle timer from firing). */
      cr_assert_geq (lived, IDLE_TIMEOUT_MS * 1000 - 20000, "dropped after %" G_GINT64_FORMAT " µs",
                     lived);
      if (lived < RECORD_TIMEOUT_MS * 1000 - 20000)
        silent++;
      else
        dribblers++;
    }
  cr_assert_eq (silent, ATTACKERS_PER_KIND, "%u dropped early (silent), %u late (dribblers)",
                silent, dribblers);
  cr_assert_eq (dribblers, 2 * ATTACKERS_PER_KIND);
  for (int i = 0; i < N_ATTACKERS; i++)
    {
      cr_assert_eq (attackers[i].socket->counts[C_NOTIFY_CLOSE], 1);
      cr_assert_leq (attackers[i].sent, MAX_DRIBBLES);
    }

  cr_assert_not (normal.out_of_order, "the normal client's echoes came out of order");
  cr_assert_eq (normal.socket->counts[C_NOTIFY_CLOSE], 0, "the normal client was disconnected");
  cr_assert_eq (g_hash_table_size (server.open), 1);
  cr_assert_gt (echoed_during_attack, (RECORD_TIMEOUT_MS / NORMAL_INTERVAL_MS) / 2,
                "only %u replies while the attack lasted", echoed_during_attack);
  cr_assert_lt (normal.max_round_trip, MAX_ROUND_TRIP_MS * 1000,
                "a reply took %" G_GINT64_FORMAT " µs", normal.max_round_trip);
  cr_log_info ("slowloris: %d attackers (%u silent, %u dribbling) dropped in %.2f s; the normal "
               "client got %u replies, slowest %.1f ms",
               N_ATTACKERS, silent, dribblers, (g_get_monotonic_time () - started) / 1e6,
               normal.echoed, normal.max_round_trip / 1e3);

  for (int i = 0; i < N_ATTACKERS; i++)
    {
      if (attackers[i].timer != 0)
        g_source_remove (attackers[i].timer);
      g_object_unref (attackers[i].socket);
    }
  g_object_unref (normal.socket);
  server_stop (&server);
}

/* ---- 1,000 connections abandoned mid-record --------------------------------------------- */

#define N_ABANDONED 1000
#define BATCH 100

typedef struct
{
  guint index;
  gboolean reset;
} Abandon;

/* On connect: a header announcing 64 KiB and part of the payload, then gone. */
static void
abandon_on_connect (TestSocket *client, CNotify which, int error_code, gpointer data)
{
  Abandon *abandon = data;
  guint8 bytes[2048];
  gsize partial = 4 + (abandon->index * 37) % (sizeof bytes - 4);

  if (which != C_NOTIFY_CONNECT)
    return;
  memset (bytes, 'p', sizeof bytes);
  bytes[0] = 0;
  bytes[1] = 1;
  bytes[2] = 0;
  bytes[3] = 0;
  c_async_socket_send (S (client), bytes, partial, 0, NULL);
  if (abandon->reset)
    set_linger_zero (S (client));
  c_async_socket_close (S (client));
}

typedef struct
{
  Server *server;
  guint expected;
} ClosedWait;

static gboolean
all_closed (gpointer data)
{
  ClosedWait *wait = data;
  return wait->server->close_errors->len >= wait->expected;
}

Test (hostile, a_thousand_connections_abandoned_mid_record_leak_nothing, .timeout = 120)
{
  Server server;
  Abandon abandons[BATCH];
  TestSocket *clients[BATCH];
  ClosedWait wait = { &server, 0 };
  int before, after, resets_ok = 0, closes_ok = 0;
  g_autofree char *open_before = NULL;
  g_autofree char *open_after = NULL;

  drain_context ();
  before = count_open_descriptors ();
  open_before = describe_open_descriptors ();
  server_start (&server, 0, 0);
  track (server.listener);

  for (guint batch = 0; batch < N_ABANDONED / BATCH; batch++)
    {
      for (guint i = 0; i < BATCH; i++)
        {
          abandons[i].index = batch * BATCH + i;
          abandons[i].reset = (i % 2) == 1;
          clients[i] = connect_client (server.port, FALSE);
          track (clients[i]);
          clients[i]->hook = abandon_on_connect;
          clients[i]->hook_data = &abandons[i];
        }
      wait.expected = (batch + 1) * BATCH;
      cr_assert (run_until_within (all_closed, &wait, 20000),
                 "batch %u: the server saw %u of %u connections end", batch,
                 server.close_errors->len, wait.expected);
      for (guint i = 0; i < BATCH; i++)
        g_object_unref (clients[i]);
    }
  drain_context ();

  /* Every abandoned connection was reported with an error: a reset as ECONNRESET, a close in
   * the middle of a record as EPROTO. (Expectations, so that the leak checks below run.) */
  for (guint i = 0; i < server.close_errors->len; i++)
    {
      int code = g_array_index (server.close_errors, int, i);
      if (code == ECONNRESET)
        resets_ok++;
      else if (code == EPROTO)
        closes_ok++;
      else
        cr_expect_fail ("a connection abandoned mid-record ended with %d (%s)", code,
                        g_strerror (code));
    }
  cr_expect_eq (resets_ok + closes_ok, N_ABANDONED, "%d resets and %d truncations reported",
                resets_ok, closes_ok);
  cr_assert_eq (server.accepted, N_ABANDONED);
  cr_assert_eq (server.accept_failures, 0);
  cr_assert_eq (g_hash_table_size (server.open), 0);

  server_stop (&server);
  drain_context ();
  after = count_open_descriptors ();
  open_after = describe_open_descriptors ();
  cr_assert_eq (after, before, "%d descriptors before (%s), %d after (%s)", before, open_before,
                after, open_after);
  cr_assert_eq (live_objects, 0, "%u socket objects still alive", live_objects);
  cr_log_info ("%d connections abandoned mid-record (%d reset, %d closed): all reported, "
               "descriptors %d before and after",
               N_ABANDONED, resets_ok, closes_ok, before);
}

/* ---- Urgent data in the middle of the stream -------------------------------------------- */

#define BEFORE_MARK 5000
#define AFTER_MARK 5000

static gboolean
all_bytes_or_close (gpointer data)
{
  TestSocket *server = data;
  return server->received->len >= BEFORE_MARK + AFTER_MARK || server->counts[C_NOTIFY_CLOSE] > 0;
}

/* MFC's plain pattern (one receive per on_receive, TestSocket's read_on_receive) against a
 * peer that sends 5,000 bytes, one urgent byte, 5,000 bytes, and maybe closes. */
static void
check_bytes_after_the_urgent_mark (gboolean then_close)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *client, *server;
  guint8 bytes[BEFORE_MARK];
  guint received;
  int closes, close_error;

  make_pair (listener, "127.0.0.1", port, &client, &server);
  server->read_on_receive = TRUE;
  memset (bytes, 'b', sizeof bytes);
  cr_assert_eq (c_async_socket_send (S (client), bytes, BEFORE_MARK, 0, NULL), BEFORE_MARK);
  cr_assert_eq (c_async_socket_send (S (client), "!", 1, MSG_OOB, NULL), 1);
  cr_assert_eq (c_async_socket_send (S (client), bytes, AFTER_MARK, 0, NULL), AFTER_MARK);
  if (then_close)
    c_async_socket_close (S (client));

  run_until_within (all_bytes_or_close, server, 3000);
  if (then_close)
    run_until_count (server, C_NOTIFY_CLOSE, 1);
  drain_context ();
  received = server->received->len;
  closes = server->counts[C_NOTIFY_CLOSE];
  close_error = server->errors[C_NOTIFY_CLOSE];
  g_object_unref (client);
  g_object_unref (server);

  cr_assert_eq (received, BEFORE_MARK + AFTER_MARK,
                "%u of %d bytes received%s; the rest, after the urgent mark, was never notified",
                received, BEFORE_MARK + AFTER_MARK, closes ? " before a graceful on_close" : "");
  if (then_close)
    {
      cr_assert_eq (closes, 1, "no on_close");
      cr_assert_eq (close_error, 0);
    }
}

Test (hostile, an_urgent_byte_mid_stream_does_not_hide_the_bytes_after_it, .timeout = 30)
{
  check_bytes_after_the_urgent_mark (FALSE);
}

Test (hostile, a_close_after_an_urgent_byte_is_graceful_only_after_every_byte, .timeout = 30)
{
  check_bytes_after_the_urgent_mark (TRUE);
}

/* ---- A descriptor passed on a Unix stream ---------------------------------------------- */

#define BEFORE_PASS 100
#define AFTER_PASS 100

static gboolean
all_passed_bytes (gpointer data)
{
  return ((TestSocket *) data)->received->len >= BEFORE_PASS + AFTER_PASS;
}

Test (hostile, a_descriptor_passed_on_a_unix_stream_does_not_hide_the_bytes_after_it, .timeout = 30)
{
  int fds[2], passed;
  TestSocket *reader = test_socket_new ();
  g_autoptr (GError) error = NULL;
  guint8 bytes[BEFORE_PASS];
  char control[CMSG_SPACE (sizeof (int))] = { 0 };
  struct iovec iov = { bytes, BEFORE_PASS };
  struct msghdr message = { 0 };
  struct cmsghdr *header;
  guint received;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  cr_assert (c_async_socket_attach (S (reader), fds[0], C_FD_ALL, &error), "%s",
             error ? error->message : "");
  reader->read_on_receive = TRUE;
  drain_context ();

  memset (bytes, 'p', sizeof bytes);
  passed = dup (fds[1]);
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  header = CMSG_FIRSTHDR (&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (header), &passed, sizeof passed);
  cr_assert_eq (sendmsg (fds[1], &message, MSG_NOSIGNAL), BEFORE_PASS);
  close (passed);
  cr_assert_eq (send (fds[1], bytes, AFTER_PASS, MSG_NOSIGNAL), AFTER_PASS);

  run_until_within (all_passed_bytes, reader, 3000);
  received = reader->received->len;
  g_object_unref (reader);
  close (fds[1]);
  cr_assert_eq (received, BEFORE_PASS + AFTER_PASS,
                "%u of %d bytes received; the rest, after the message that passed a "
                "descriptor, was never notified",
                received, BEFORE_PASS + AFTER_PASS);
}

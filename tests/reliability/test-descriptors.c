/* test-descriptors.c: descriptor leaks, running out of descriptors, and SIGPIPE
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * - libevent's fd-leak test: with RLIMIT_NOFILE at 64, thousands of sequential
 *   connect / exchange / close cycles succeed, and the process ends with the descriptors it
 *   started with. One leaked descriptor per cycle would exhaust the table within 60 cycles.
 * - A server whose descriptor table is full: accept fails with EMFILE, the listener backs off
 *   instead of spinning (the process's CPU time over the wait is a small fraction of the wall
 *   time), and once descriptors are freed every waiting client is accepted and served.
 * - Writing to a peer that reset the connection, through every path that writes, with
 *   SIGPIPE's default action in place, never kills the process.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "reliability-util.h"

#define S(x) C_ASYNC_SOCKET (x)

/* ---- 4,000 cycles at RLIMIT_NOFILE = 64 ------------------------------------------------ */

#define N_CYCLES 4000
#define DESCRIPTOR_LIMIT 64

typedef struct
{
  TestSocket *listener;
  guint port;
  TestSocket *client;
  TestSocket *server;
  guint cycle;
  gboolean greeted;     /* the client got the server's greeting */
  gboolean echoed;      /* the client got its record back */
  gboolean client_done; /* the client saw the server's close and closed */
  gboolean server_done; /* the server saw the close and closed */
  int server_close_error;
  char *failure;
} Cycles;

static void
fail_cycle (Cycles *c, const char *what, const GError *error)
{
  if (c->failure == NULL)
    c->failure = g_strdup_printf ("cycle %u: %s%s%s", c->cycle, what, error ? ": " : "",
                                  error ? error->message : "");
}

/* The exchange: the server greets, the client sends one record, the server echoes it and
 * closes first (as an HTTP/1.0 server does), so that TIME_WAIT stays on the server's side
 * and the client's ephemeral ports are free again at once; the client closes on the
 * server's close. A record sent from on_record leaves after the notification (the record
 * path gathers them into one write), and nothing says when the write queue is empty, so
 * the server half-closes from the main loop once the echo has left. The greeting makes the
 * server's initial on_send come first, so that the echo can leave at once. */
static gboolean
half_close_after_echo (gpointer data)
{
  Cycles *c = data;
  g_autoptr (GError) error = NULL;

  if (c->server == NULL)
    return G_SOURCE_REMOVE;
  if (c_async_socket_get_queued_bytes (S (c->server)) != 0)
    fail_cycle (c, "the echo did not leave", NULL);
  else if (!c_async_socket_shut_down (S (c->server), C_SHUTDOWN_SENDS, &error))
    fail_cycle (c, "shut_down", error);
  return G_SOURCE_REMOVE;
}

static void
server_echoes (CAsyncSocket *server, GBytes *record, gpointer data)
{
  g_autoptr (GError) error = NULL;

  if (!c_async_socket_send_record (server, record, &error))
    fail_cycle (data, "echo", error);
  else
    g_idle_add (half_close_after_echo, data);
}

static void
server_hook (TestSocket *server, CNotify which, int error_code, gpointer data)
{
  Cycles *c = data;
  g_autoptr (GError) error = NULL;

  if (which == C_NOTIFY_SEND && server->counts[C_NOTIFY_SEND] == 1
      && !c_async_socket_send_record_data (S (server), "hello", 5, &error))
    fail_cycle (c, "greeting", error);
  if (which != C_NOTIFY_CLOSE)
    return;
  c->server_close_error = error_code;
  c->server_done = TRUE;
  c_async_socket_close (S (server));
}

static void
listener_hook (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  Cycles *c = data;
  g_autoptr (GError) error = NULL;

  if (which != C_NOTIFY_ACCEPT)
    return;
  if (error_code != 0)
    {
      fail_cycle (c, "on_accept reported an error", NULL);
      return;
    }
  c->server = test_socket_new ();
  c->server->hook = server_hook;
  c->server->hook_data = c;
  g_signal_connect (c->server, "record", G_CALLBACK (server_echoes), c);
  if (!c_async_socket_accept (S (listener), S (c->server), NULL, &error))
    {
      fail_cycle (c, "accept", error);
      g_clear_object (&c->server);
    }
}

static void
client_hook (TestSocket *client, CNotify which, int error_code, gpointer data)
{
  Cycles *c = data;

  if (which == C_NOTIFY_CONNECT && error_code != 0)
    fail_cycle (c, "connect failed", NULL);
  if (which != C_NOTIFY_CLOSE)
    return;
  if (error_code != 0 || !c->echoed)
    fail_cycle (c, error_code ? g_strerror (error_code) : "on_close before the echo", NULL);
  c->client_done = TRUE;
  c_async_socket_close (S (client));
}

static void
client_receives (CAsyncSocket *client, GBytes *record, gpointer data)
{
  Cycles *c = data;
  g_autoptr (GError) error = NULL;
  char text[32];
  gsize size;
  const char *bytes = g_bytes_get_data (record, &size);
  int length = g_snprintf (text, sizeof text, "cycle %u", c->cycle);

  if (!c->greeted)
    {
      if (size != 5 || memcmp (bytes, "hello", 5) != 0)
        fail_cycle (c, "no greeting", NULL);
      c->greeted = TRUE;
      if (!c_async_socket_send_record_data (client, text, (gsize) length, &error))
        fail_cycle (c, "send_record", error);
      return;
    }
  if (size != (gsize) length || memcmp (bytes, text, size) != 0)
    fail_cycle (c, "the echo differs from the record sent", NULL);
  c->echoed = TRUE;
}

static gboolean
cycle_finished (gpointer data)
{
  Cycles *c = data;
  return c->failure != NULL || (c->client_done && c->server_done);
}

static void
run_cycle (Cycles *c)
{
  g_autoptr (GError) error = NULL;

  c->greeted = c->echoed = c->client_done = c->server_done = FALSE;
  c->client = test_socket_new ();
  c->client->hook = client_hook;
  c->client->hook_data = c;
  g_signal_connect (c->client, "record", G_CALLBACK (client_receives), c);
  if (!c_async_socket_create (S (c->client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error)
      || !c_async_socket_set_record_mode (S (c->client), TRUE, &error)
      || !c_async_socket_connect (S (c->client), "127.0.0.1", c->port, &error))
    fail_cycle (c, "client", error);
  else if (!run_until (cycle_finished, c))
    fail_cycle (c, "stuck", NULL);
  else if (c->failure == NULL && c->server_close_error != 0)
    fail_cycle (c, g_strerror (c->server_close_error), NULL);
  g_clear_object (&c->client);
  g_clear_object (&c->server);
}

Test (descriptors, four_thousand_cycles_with_rlimit_nofile_at_64, .timeout = 120)
{
  Cycles c = { 0 };
  struct rlimit saved, lowered;
  int before, after;
  gint64 started = g_get_monotonic_time ();
  g_autofree char *open_before = NULL;
  g_autofree char *open_after = NULL;

  drain_context (); /* the main context's own wake-up descriptor exists from here on */
  before = count_open_descriptors ();
  open_before = describe_open_descriptors ();
  c.listener = make_listener (NULL, &c.port);
  cr_assert (c_async_socket_set_record_mode (S (c.listener), TRUE, NULL));
  c.listener->hook = listener_hook;
  c.listener->hook_data = &c;

  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &saved), 0);
  lowered = saved;
  lowered.rlim_cur = DESCRIPTOR_LIMIT;
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &lowered), 0, "setrlimit: %s", g_strerror (errno));

  for (c.cycle = 0; c.cycle < N_CYCLES && c.failure == NULL; c.cycle++)
    run_cycle (&c);

  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &saved), 0);
  cr_assert_null (c.failure, "%s", c.failure);
  cr_assert_eq (c.cycle, N_CYCLES);
  g_clear_object (&c.listener);
  drain_context ();
  after = count_open_descriptors ();
  open_after = describe_open_descriptors ();
  cr_assert_eq (after, before, "%d descriptors open before (%s), %d after %d cycles (%s)", before,
                open_before, after, N_CYCLES, open_after);
  cr_log_info ("%d connect/exchange/close cycles at RLIMIT_NOFILE %d in %.1f s; descriptors "
               "%d before, %d after",
               N_CYCLES, DESCRIPTOR_LIMIT, (g_get_monotonic_time () - started) / 1e6, before,
               after);
}

/* ---- EMFILE: low CPU at the limit, recovery when descriptors are freed ------------------ */

#define N_WAITING 8
#define N_LATE 4
#define N_CLIENTS (N_WAITING + N_LATE)
#define SPARE_DESCRIPTORS 16
#define WAIT_AT_LIMIT_MS 1500
#define MAX_CPU_FRACTION 0.10

typedef struct
{
  TestSocket *listener;
  TestSocket *servers[N_CLIENTS];
  guint accepted;
  guint accept_failures;
  guint emfile_notifications;
  guint other_errors;
} AtLimit;

static void
echo_record (CAsyncSocket *server, GBytes *record, gpointer data)
{
  c_async_socket_send_record (server, record, NULL);
}

static void
limited_listener_hook (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  AtLimit *s = data;
  TestSocket *server;

  if (which != C_NOTIFY_ACCEPT)
    return;
  if (error_code == EMFILE)
    s->emfile_notifications++;
  else if (error_code != 0)
    s->other_errors++;
  if (s->accepted == N_CLIENTS)
    return;
  server = test_socket_new ();
  if (c_async_socket_accept (S (listener), S (server), NULL, NULL))
    {
      g_signal_connect (server, "record", G_CALLBACK (echo_record), NULL);
      s->servers[s->accepted++] = server;
    }
  else
    {
      s->accept_failures++;
      g_object_unref (server);
    }
}

static TestSocket *
record_client (void)
{
  TestSocket *client = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  return client;
}

static void
send_hello (TestSocket *client, CNotify which, int error_code, gpointer data)
{
  if (which == C_NOTIFY_SEND && client->counts[C_NOTIFY_SEND] == 1)
    c_async_socket_send_record_data (S (client), "hello", 5, NULL);
}

typedef struct
{
  TestSocket **clients;
  guint first;
  guint count;
} Served;

/* Every client in the range has its echo, or (under Valgrind, see below) lost its
 * connection. */
static gboolean
clients_served (gpointer data)
{
  Served *served = data;

  for (guint i = served->first; i < served->first + served->count; i++)
    {
      TestSocket *client = served->clients[i];
      if (client->records->len < 1 && !(RUNNING_ON_VALGRIND && client->counts[C_NOTIFY_CLOSE]))
        return FALSE;
    }
  return TRUE;
}

/* Opens descriptors until the table is full; returns how many. */
static int
fill_descriptor_table (int *fds, int capacity)
{
  int n = 0;

  while (n < capacity)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        break;
      fds[n++] = fd;
    }
  return n;
}

Test (descriptors, at_the_descriptor_limit_the_server_idles_and_recovers_when_freed, .timeout = 60)
{
  AtLimit s = { 0 };
  guint port;
  TestSocket *clients[N_CLIENTS];
  Served waiting = { clients, 0, N_WAITING }, late = { clients, N_WAITING, N_LATE };
  int fillers[SPARE_DESCRIPTORS + 8];
  int n_fillers, probe_fd, probe_errno;
  struct rlimit saved, lowered;
  gint64 cpu_before, cpu_used, wall_before, wall_used;
  guint dispatches, lost = 0;
  CReactor *reactor;

  s.listener = make_listener (NULL, &port);
  cr_assert (c_async_socket_set_record_mode (S (s.listener), TRUE, NULL));
  s.listener->hook = limited_listener_hook;
  s.listener->hook_data = &s;
  reactor = c_async_socket_get_private (S (s.listener))->reactor;
  for (int i = 0; i < N_CLIENTS; i++)
    {
      clients[i] = record_client ();
      clients[i]->hook = send_hello;
    }
  drain_context ();

  /* A table with a few spare entries, then full. Nothing below asserts until the fillers
   * are closed again, so that Criterion itself never lacks a descriptor. */
  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &saved), 0);
  lowered = saved;
  lowered.rlim_cur = (rlim_t) count_open_descriptors () + SPARE_DESCRIPTORS;
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &lowered), 0, "setrlimit: %s", g_strerror (errno));
  n_fillers = fill_descriptor_table (fillers, G_N_ELEMENTS (fillers));
  probe_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  probe_errno = errno;

  for (int i = 0; i < N_WAITING; i++)
    c_async_socket_connect (S (clients[i]), "127.0.0.1", port, NULL);

  /* At the limit: the clients wait in the backlog; the server must sleep meanwhile. */
  dispatches = c_reactor_get_dispatch_count (reactor);
  cpu_before = process_cpu_time_us ();
  wall_before = g_get_monotonic_time ();
  run_for_ms (WAIT_AT_LIMIT_MS);
  cpu_used = process_cpu_time_us () - cpu_before;
  wall_used = g_get_monotonic_time () - wall_before;
  dispatches = c_reactor_get_dispatch_count (reactor) - dispatches;

  /* Descriptors free up: the waiting clients are accepted and served, and so are new ones. */
  for (int i = 0; i < n_fillers; i++)
    close (fillers[i]);
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &saved), 0);
  for (int i = N_WAITING; i < N_CLIENTS; i++)
    cr_assert (c_async_socket_connect (S (clients[i]), "127.0.0.1", port, NULL));

  cr_assert_lt (probe_fd, 0, "the descriptor table was not full");
  cr_assert_eq (probe_errno, EMFILE);
  cr_assert_gt (n_fillers, 0);
  cr_assert_gt (s.accept_failures, 0, "accept never failed at the limit");
  cr_assert_gt (s.emfile_notifications, 0, "on_accept never reported EMFILE");
  cr_assert_eq (s.other_errors, 0);
  cr_assert_lt ((double) cpu_used, MAX_CPU_FRACTION * (double) wall_used,
                "%" G_GINT64_FORMAT " µs of CPU in %" G_GINT64_FORMAT " µs at the limit "
                "(%u dispatches, %u failed accepts)",
                cpu_used, wall_used, dispatches, s.accept_failures);

  cr_assert (run_until_within (clients_served, &waiting, 5000),
             "the clients that waited at the limit were not all served (%u accepted)", s.accepted);
  cr_assert (run_until_within (clients_served, &late, 5000),
             "the clients that came after were not all served (%u accepted)", s.accepted);
  /* Valgrind emulates the descriptor limit: the kernel's accept succeeds and Valgrind closes
   * the new descriptor before reporting EMFILE, so there the connections tried at the limit
   * are gone. Everywhere else every waiting client is served. */
  for (int i = 0; i < N_WAITING; i++)
    lost += clients[i]->records->len == 0;
  if (!RUNNING_ON_VALGRIND)
    cr_assert_eq (lost, 0);
  cr_log_info ("at the limit for %" G_GINT64_FORMAT " ms: %.2f%% CPU, %u reactor dispatches, %u "
               "failed accepts, %u EMFILE notifications; then %d waiting clients (%u lost to "
               "Valgrind's emulation) and %d new ones served",
               wall_used / 1000, 100.0 * (double) cpu_used / (double) wall_used, dispatches,
               s.accept_failures, s.emfile_notifications, N_WAITING, lost, N_LATE);
  for (int i = 0; i < N_CLIENTS; i++)
    g_object_unref (clients[i]);
  for (guint i = 0; i < s.accepted; i++)
    g_object_unref (s.servers[i]);
  g_object_unref (s.listener);
}

/* ---- SIGPIPE ------------------------------------------------------------------------- */

static gboolean
sigpipe_is_default (void)
{
  struct sigaction action;

  cr_assert_eq (sigaction (SIGPIPE, NULL, &action), 0);
  return action.sa_handler == SIG_DFL;
}

static void
restore_default_sigpipe (void)
{
  struct sigaction action = { 0 };

  action.sa_handler = SIG_DFL;
  sigemptyset (&action.sa_mask);
  cr_assert_eq (sigaction (SIGPIPE, &action, NULL), 0);
}

/* A connected pair whose server end resets the connection; returns the client, which has
 * seen on_close (ECONNRESET). */
static gpointer
reset_pair (TestSocket *listener, guint port, GType client_type, gboolean records)
{
  TestSocket *server = test_socket_new ();
  CAsyncSocket *client = g_object_new (client_type, NULL);
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (client), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
  if (records)
    cr_assert (c_async_socket_set_record_mode (S (client), TRUE, NULL));
  cr_assert (c_async_socket_connect (S (client), "127.0.0.1", port, &error));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, listener->counts[C_NOTIFY_ACCEPT] + 1));
  cr_assert (c_async_socket_accept (S (listener), S (server), NULL, &error), "%s",
             error ? error->message : "");
  cr_assert (run_until_count (server, C_NOTIFY_SEND, 1));
  set_linger_zero (S (server));
  g_object_unref (server);
  return client;
}

static gboolean
reset_seen (gpointer data)
{
  return c_async_socket_get_private (data)->close_error != 0
         || c_async_socket_get_private (data)->close_delivered;
}

Test (descriptors, writing_to_a_reset_peer_never_raises_sigpipe, .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = NULL;
  g_autoptr (TestSocket) raw = NULL;
  g_autoptr (TestSocket) plain = NULL;
  g_autoptr (TestSocket) records = NULL;
  g_autoptr (CSocket) blocking = NULL;
  g_autoptr (CSocketFile) file = NULL;
  g_autoptr (CArchive) ar = NULL;
  g_autoptr (GError) error = NULL;
  guint8 block[65536] = { 0 };
  gboolean default_before;
  ssize_t written;

  /* The process starts with SIGPIPE's default action; the first socket replaces it with
   * "ignore", for writes the library does not make itself (a raw write on its descriptor). */
  restore_default_sigpipe ();
  default_before = sigpipe_is_default ();
  listener = make_listener (NULL, &port);
  cr_assert (default_before);
  cr_assert_not (sigpipe_is_default (), "the library left SIGPIPE's default action in place");
  raw = reset_pair (listener, port, TEST_TYPE_SOCKET, FALSE);
  cr_assert (run_until (reset_seen, raw));
  written = write (c_async_socket_get_handle (S (raw)), block, sizeof block);
  cr_assert_eq (written, -1);
  cr_assert (errno == EPIPE || errno == ECONNRESET, "write: %s", g_strerror (errno));

  /* With the default action put back, every path that writes must still not raise it. */
  restore_default_sigpipe ();

  plain = reset_pair (listener, port, TEST_TYPE_SOCKET, FALSE);
  cr_assert (run_until (reset_seen, plain));
  for (int i = 0; i < 3; i++)
    {
      cr_assert_eq (c_async_socket_send (S (plain), block, sizeof block, 0, &error), -1);
      cr_assert_not_null (error);
      g_clear_error (&error);
    }

  records = reset_pair (listener, port, TEST_TYPE_SOCKET, TRUE);
  cr_assert (run_until (reset_seen, records));
  for (int i = 0; i < 3; i++)
    {
      /* Refused, or accepted into the queue and failed on the wire: either way no signal. */
      c_async_socket_send_record_data (S (records), block, sizeof block, NULL);
      drain_context ();
    }

  blocking = reset_pair (listener, port, C_TYPE_SOCKET, FALSE);
  cr_assert (run_until (reset_seen, blocking));
  c_socket_set_timeout (blocking, 5000);
  cr_assert_eq (c_socket_send (blocking, block, sizeof block, 0, &error), -1);
  cr_assert_not_null (error);
  g_clear_error (&error);
  file = c_socket_file_new (blocking);
  ar = c_archive_new_store_to_stream (g_io_stream_get_output_stream (G_IO_STREAM (file)),
                                      C_ARCHIVE_FORMAT_NETWORK, 0);
  c_archive_write_data (ar, block, sizeof block);
  cr_assert_not (c_archive_flush (ar, &error), "the archive's flush to a reset peer succeeded");
  cr_assert_not_null (error);
  c_archive_abort (ar);

  cr_assert (sigpipe_is_default ());
  cr_log_info ("wrote to reset peers by write(2), send, send_record, CSocket send and a "
               "CArchive flush: no SIGPIPE");
}

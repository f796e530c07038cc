/* test-scale.c: many idle connections on one context, and EMFILE without spinning
 * (docs/internals.md, "The reactor"; README.md's list of what afxsock adds to MFC: one epoll
 * reactor per GMainContext, a listener out of descriptors backs off instead of spinning)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Costs are measured with the reactor's own counters (dispatches of its GSource, and
 * deliveries of ready events to sockets), never with time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "test-util.h"

/* ---- 10,000 connections: one active, 9,999 idle ---------------------------------------- */

/* The server ends, all on one context, live in this process; the idle client ends live in a
 * child process that only holds them open, so each process needs about 10,000 descriptors
 * rather than one process 20,000 (more than the usual hard limit). */

#define N_IDLE 9999 /* plus the active one: 10,000 connections to one server */
#define ROUND_TRIPS 200
#define MAX_DELIVERIES_PER_ROUND_TRIP 4

typedef struct
{
  GPtrArray *servers; /* accepted idle connections */
  int accept_errors;
} Crowd;

static void
accept_all_pending (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  Crowd *crowd = data;

  if (which != C_NOTIFY_ACCEPT)
    return;
  if (error_code != 0)
    {
      crowd->accept_errors++;
      return;
    }
  for (;;)
    {
      TestSocket *server = test_socket_new ();
      if (!c_async_socket_accept (S (listener), S (server), NULL, NULL))
        {
          g_object_unref (server);
          if (c_async_socket_get_last_error () != EAGAIN)
            crowd->accept_errors++;
          return;
        }
      g_ptr_array_add (crowd->servers, server);
    }
}

static gboolean
crowd_complete (gpointer data)
{
  Crowd *crowd = data;
  return crowd->servers->len >= N_IDLE || crowd->accept_errors > 0;
}

/* Raises the soft descriptor limit to @needed, or skips the test saying why it cannot. */
static void
ensure_descriptors (rlim_t needed)
{
  struct rlimit limit;

  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur >= needed)
    return;
  if (limit.rlim_max < needed)
    cr_skip_test ("this test needs %lu descriptors per process but the RLIMIT_NOFILE hard "
                  "limit is %lu",
                  (unsigned long) needed, (unsigned long) limit.rlim_max);
  limit.rlim_cur = needed;
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &limit), 0, "setrlimit: %s", g_strerror (errno));
}

/* The child: open the idle connections with plain blocking sockets, report how many on the
 * pipe, and hold them until the parent closes its end. Exits without touching GLib. */
static void G_GNUC_NORETURN
hold_idle_connections (guint port, int report_fd, int release_fd)
{
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  guint32 opened = 0;
  char byte;

  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  for (; opened < N_IDLE; opened++)
    {
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || connect (fd, (struct sockaddr *) &address, sizeof address) < 0)
        break;
    }
  if (write (report_fd, &opened, sizeof opened) != sizeof opened)
    _exit (2);
  while (read (release_fd, &byte, 1) < 0 && errno == EINTR)
    ;
  _exit (0);
}

typedef struct
{
  TestSocket *client, *server;
  int round_trips;
} PingPong;

static void
ping_pong (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  PingPong *game = data;
  char buffer[64];
  gssize n;

  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);
  if (n <= 0)
    return;
  if (socket == game->client)
    {
      game->round_trips++;
      if (game->round_trips < ROUND_TRIPS)
        c_async_socket_send (S (socket), "ping", 4, 0, NULL);
    }
  else
    c_async_socket_send (S (socket), "pong", 4, 0, NULL);
}

static gboolean
game_over (gpointer data)
{
  return ((PingPong *) data)->round_trips >= ROUND_TRIPS;
}

Test (scale, one_active_connection_among_10000_costs_only_its_own_events, .timeout = 120)
{
  guint port;
  TestSocket *listener, *active_client, *active_server;
  Crowd crowd = { g_ptr_array_new_with_free_func (g_object_unref), 0 };
  PingPong game = { 0 };
  g_autofree int *idle_totals = NULL;
  CReactor *reactor;
  guint deliveries, dispatches;
  guint32 child_opened = 0;
  int report[2], release[2], status = 0;
  gint64 started = g_get_monotonic_time ();
  pid_t child;

  ensure_descriptors (N_IDLE + 200);

  /* The active pair first, then the crowd from the child. */
  listener = make_listener (NULL, &port);
  make_pair (listener, "127.0.0.1", port, &active_client, &active_server);
  listener->hook = accept_all_pending;
  listener->hook_data = &crowd;

  cr_assert_eq (pipe2 (report, O_CLOEXEC), 0);
  cr_assert_eq (pipe2 (release, O_CLOEXEC), 0);
  child = fork ();
  cr_assert_geq (child, 0, "fork: %s", g_strerror (errno));
  if (child == 0)
    {
      close (report[0]);
      close (release[1]);
      hold_idle_connections (port, report[1], release[0]);
    }
  close (report[1]);
  close (release[0]);

  cr_assert (run_until (crowd_complete, &crowd), "stuck at %u accepted", crowd.servers->len);
  cr_assert_eq (crowd.accept_errors, 0, "an accept failed");
  cr_assert_eq (read (report[0], &child_opened, sizeof child_opened), sizeof child_opened);
  cr_assert_eq (child_opened, N_IDLE, "the child opened only %u connections", child_opened);
  cr_assert_eq (crowd.servers->len, N_IDLE);
  cr_log_info ("opened %d connections in %.1f s", N_IDLE,
               (g_get_monotonic_time () - started) / 1e6);

  /* Let every first on_send land, then photograph the crowd. */
  for (int i = 0; i < 20; i++)
    drain_context ();
  idle_totals = g_new (int, N_IDLE);
  for (guint i = 0; i < N_IDLE; i++)
    idle_totals[i] = test_socket_total (g_ptr_array_index (crowd.servers, i));

  /* One reactor serves them all. */
  reactor = reactor_of (active_client);
  cr_assert_eq (reactor_of (g_ptr_array_index (crowd.servers, 0)), reactor);
  cr_assert_eq (reactor_of (g_ptr_array_index (crowd.servers, N_IDLE - 1)), reactor);
  cr_assert_eq (reactor_of (listener), reactor);

  game.client = active_client;
  game.server = active_server;
  active_client->hook = active_server->hook = ping_pong;
  active_client->hook_data = active_server->hook_data = &game;
  deliveries = c_reactor_get_delivery_count (reactor);
  dispatches = c_reactor_get_dispatch_count (reactor);
  cr_assert_eq (c_async_socket_send (S (active_client), "ping", 4, 0, NULL), 4);
  cr_assert (run_until (game_over, &game), "stuck after %d round trips", game.round_trips);
  deliveries = c_reactor_get_delivery_count (reactor) - deliveries;
  dispatches = c_reactor_get_dispatch_count (reactor) - dispatches;
  cr_log_info ("%d round trips: %u deliveries, %u dispatches, with %d idle connections",
               ROUND_TRIPS, deliveries, dispatches, N_IDLE);

  /* The cost follows the active connection: a small constant per round trip, whatever the
   * number of idle connections. */
  cr_assert_geq (deliveries, ROUND_TRIPS, "the delivery counter did not count (%u)", deliveries);
  cr_assert_leq (deliveries, MAX_DELIVERIES_PER_ROUND_TRIP * ROUND_TRIPS,
                 "%u deliveries for %d round trips", deliveries, ROUND_TRIPS);
  cr_assert_leq (dispatches, MAX_DELIVERIES_PER_ROUND_TRIP * ROUND_TRIPS,
                 "%u dispatches for %d round trips", dispatches, ROUND_TRIPS);
  for (guint i = 0; i < N_IDLE; i++)
    cr_assert_eq (test_socket_total (g_ptr_array_index (crowd.servers, i)), idle_totals[i],
                  "idle connection %u was notified during the ping-pong", i);

  close (release[1]);
  close (report[0]);
  cr_assert_eq (waitpid (child, &status, 0), child);
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_object_unref (active_client);
  g_object_unref (active_server);
  g_ptr_array_unref (crowd.servers);
  g_object_unref (listener);
}

/* ---- EMFILE without spinning ------------------------------------------------------------- */

#define N_PENDING 3
#define MAX_DISPATCHES_WHILE_BACKING_OFF 50

typedef struct
{
  int codes[64]; /* on_accept's error codes, in order */
  int n;
} AcceptLog;

static void
log_accept (TestSocket *listener, CNotify which, int error_code, gpointer data)
{
  AcceptLog *log = data;

  if (which == C_NOTIFY_ACCEPT && log->n < (int) G_N_ELEMENTS (log->codes))
    log->codes[log->n++] = error_code;
}

/* The lowest free descriptor number: with the soft limit set to it, the next descriptor the
 * process makes fails with EMFILE. */
static int
lowest_free_descriptor (void)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  close (fd);
  return fd;
}

Test (scale, accept_out_of_descriptors_reports_emfile_once_and_backs_off_without_spinning,
      .timeout = 30)
{
  guint port;
  g_autoptr (TestSocket) listener = make_listener (NULL, &port);
  TestSocket *clients[N_PENDING];
  TestSocket *servers[N_PENDING];
  g_autoptr (GError) error = NULL;
  AcceptLog log = { { 0 }, 0 };
  struct rlimit saved, lowered;
  CReactor *reactor = reactor_of (listener);
  gboolean accepted, reported, came_back;
  int last_error, after_failure = 0;
  guint dispatches;
  gint64 failed_at, back_at;

  listener->hook = log_accept;
  listener->hook_data = &log;
  for (int i = 0; i < N_PENDING; i++)
    {
      clients[i] = test_socket_new ();
      servers[i] = test_socket_new ();
      cr_assert (
          c_async_socket_create (S (clients[i]), 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error));
      cr_assert (c_async_socket_connect (S (clients[i]), "127.0.0.1", port, &error));
    }
  for (int i = 0; i < N_PENDING; i++)
    cr_assert (run_until_count (clients[i], C_NOTIFY_CONNECT, 1));
  cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 1));
  cr_assert_eq (log.codes[0], 0);
  drain_context ();
  cr_assert_eq (log.n, 1);

  /* Out of descriptors. Nothing below asserts until the limit is back, so that Criterion
   * itself is never short of one. */
  cr_assert_eq (getrlimit (RLIMIT_NOFILE, &saved), 0);
  lowered = saved;
  lowered.rlim_cur = (rlim_t) lowest_free_descriptor ();
  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &lowered), 0, "setrlimit: %s", g_strerror (errno));

  dispatches = c_reactor_get_dispatch_count (reactor);
  failed_at = g_get_monotonic_time ();
  accepted = c_async_socket_accept (S (listener), S (servers[0]), NULL, &error);
  last_error = c_async_socket_get_last_error ();
  /* on_accept (EMFILE) comes once, from the loop; then on_accept (0) after the back-off. */
  reported = run_until_count (listener, C_NOTIFY_ACCEPT, 2);
  if (reported)
    after_failure = c_reactor_get_dispatch_count (reactor) - dispatches;
  came_back = run_until_count (listener, C_NOTIFY_ACCEPT, 3);
  back_at = g_get_monotonic_time ();
  dispatches = c_reactor_get_dispatch_count (reactor) - dispatches;

  cr_assert_eq (setrlimit (RLIMIT_NOFILE, &saved), 0, "setrlimit: %s", g_strerror (errno));

  cr_assert_not (accepted, "accept succeeded beyond the descriptor limit");
  cr_assert_not_null (error);
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES), "wrong error: %s",
             error->message);
  cr_assert_not_null (strstr (error->message, "accept"), "%s", error->message);
  cr_assert_not_null (strstr (error->message, "Too many open files"), "%s", error->message);
  g_clear_error (&error);
  cr_assert_eq (last_error, EMFILE);
  cr_assert_eq (c_async_socket_get_handle (S (servers[0])), C_INVALID_SOCKET);

  cr_assert (reported, "on_accept (EMFILE) never came");
  cr_assert_eq (log.codes[1], EMFILE, "second on_accept carried %d", log.codes[1]);
  cr_assert_leq (after_failure, 3, "%d dispatches before on_accept (EMFILE)", after_failure);
  cr_assert (came_back, "on_accept (0) never came back after the back-off");
  cr_assert_eq (log.codes[2], 0);
  cr_assert_eq (log.n, 3, "on_accept came %d times", log.n);
  cr_assert_lt (dispatches, MAX_DISPATCHES_WHILE_BACKING_OFF,
                "%u reactor dispatches while backing off: the listener spins", dispatches);
  /* The back-off is a 50 ms timer; allow for GLib's cached loop time. */
  cr_assert_geq (back_at - failed_at, 25 * 1000,
                 "on_accept came back after only %" G_GINT64_FORMAT " µs", back_at - failed_at);
  cr_log_info ("EMFILE back-off: %u dispatches, %" G_GINT64_FORMAT " µs", dispatches,
               back_at - failed_at);

  /* With descriptors again, every pending connection is accepted. (Valgrind emulates the
   * soft limit itself: the kernel's accept succeeds and Valgrind closes the new descriptor
   * before reporting EMFILE, so under Valgrind that one connection is gone.) */
  int expected = N_PENDING - (RUNNING_ON_VALGRIND ? 1 : 0);
  for (int i = 0; i < expected; i++)
    {
      if (i > 0)
        cr_assert (run_until_count (listener, C_NOTIFY_ACCEPT, 3 + i), "on_accept %d", 3 + i);
      cr_assert (c_async_socket_accept (S (listener), S (servers[i]), NULL, &error), "%s",
                 error ? error->message : "");
    }
  drain_context ();
  cr_assert_eq (log.n, 2 + expected);
  for (int i = 0; i < log.n; i++)
    cr_assert_eq (log.codes[i], i == 1 ? EMFILE : 0, "on_accept %d carried %d", i, log.codes[i]);
  for (int i = 0; i < expected; i++)
    cr_assert (run_until_count (servers[i], C_NOTIFY_SEND, 1));
  for (int i = 0; i < N_PENDING; i++)
    {
      g_object_unref (clients[i]);
      g_object_unref (servers[i]);
    }
}

/* ---- A handler that fills its buffer is notified again without another iteration ------- */

#define BULK_CHUNK 4096
#define BULK_CHUNKS 16

typedef struct
{
  guint received;
  guint would_block; /* on_receive with nothing to read: a spurious notification */
} BulkLog;

static void
read_chunk (TestSocket *socket, CNotify which, int error_code, gpointer data)
{
  BulkLog *log = data;
  guint8 buffer[BULK_CHUNK];
  gssize n;

  if (which != C_NOTIFY_RECEIVE)
    return;
  n = c_async_socket_receive (S (socket), buffer, sizeof buffer, 0, NULL);
  if (n > 0)
    log->received += (guint) n;
  else if (c_async_socket_get_last_error () == EAGAIN)
    log->would_block++;
}

static gboolean
bulk_received (gpointer data)
{
  return ((BulkLog *) data)->received >= BULK_CHUNK * BULK_CHUNKS;
}

Test (scale, full_buffers_bring_on_receive_back_in_the_same_dispatch, .timeout = 30)
{
  Pair p;
  BulkLog log = { 0 };
  g_autofree guint8 *block = g_malloc0 (BULK_CHUNK * BULK_CHUNKS);
  guint dispatches;

  pair_open (&p);
  p.server->hook = read_chunk;
  p.server->hook_data = &log;
  cr_assert_eq (c_async_socket_send (S (p.client), block, BULK_CHUNK * BULK_CHUNKS, 0, NULL),
                BULK_CHUNK * BULK_CHUNKS);

  dispatches = c_reactor_get_dispatch_count (reactor_of (p.server));
  cr_assert (run_until (bulk_received, &log));
  drain_context ();
  dispatches = c_reactor_get_dispatch_count (reactor_of (p.server)) - dispatches;

  /* Sixteen full buffers. Each one's on_receive came straight after the previous returned
   * (one probe of the descriptor each), not from a main-loop iteration of its own: a handful
   * of dispatches where there used to be one per buffer. And no on_receive found nothing. */
  cr_assert_eq (log.received, BULK_CHUNK * BULK_CHUNKS);
  cr_assert_eq (p.server->counts[C_NOTIFY_RECEIVE], BULK_CHUNKS);
  cr_assert_eq (log.would_block, 0, "%u spurious on_receive", log.would_block);
  cr_assert_leq (dispatches, 4, "%u dispatches for %d full buffers", dispatches, BULK_CHUNKS);
  /* After the first full buffer, reads report what remains queued (TCP_INQ), so the
   * following on_receive notifications needed no poll() to be decided. */
  cr_assert_eq (c_async_socket_get_private (S (p.server))->tcp_inq, C_TCP_INQ_ON);
  cr_log_info ("%d full buffers: %u dispatches", BULK_CHUNKS, dispatches);
  pair_close (&p);
}

static gboolean
closed_after_bulk (gpointer data)
{
  return ((TestSocket *) data)->counts[C_NOTIFY_CLOSE] > 0;
}

Test (scale, full_buffers_then_end_of_stream_lose_nothing, .timeout = 30)
{
  enum
  {
    CHUNKS = 40 /* more than one dispatch's rounds */
  };
  Pair p;
  BulkLog log = { 0 };
  g_autofree guint8 *block = g_malloc0 (BULK_CHUNK * CHUNKS);
  gsize sent = 0;

  pair_open (&p);
  p.server->hook = read_chunk;
  p.server->hook_data = &log;
  /* The client sends everything it can, then what is left as the server drains, then
   * closes: the end of stream arrives while full buffers are being redelivered. */
  while (sent < BULK_CHUNK * CHUNKS)
    {
      gssize n
          = c_async_socket_send (S (p.client), block + sent, BULK_CHUNK * CHUNKS - sent, 0, NULL);
      if (n > 0)
        sent += (gsize) n;
      else
        cr_assert (run_until_count (p.client, C_NOTIFY_SEND, p.client->counts[C_NOTIFY_SEND] + 1));
    }
  c_async_socket_close (S (p.client));

  cr_assert (run_until (closed_after_bulk, p.server));
  drain_context ();
  cr_assert_eq (log.received, BULK_CHUNK * CHUNKS);
  cr_assert_eq (p.server->counts[C_NOTIFY_CLOSE], 1);
  cr_assert_eq (p.server->errors[C_NOTIFY_CLOSE], 0);
  cr_assert_eq (log.would_block, 0, "%u spurious on_receive", log.would_block);
  pair_close (&p);
}

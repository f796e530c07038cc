/* test-service.c: CSocketService, one thread and several (docs/service.md)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/un.h>
#include <unistd.h>

#include "test-util.h"

/* EchoConn: the application's connection type. It echoes, closes itself on "bye" and on a
 * graceful on_close, but not on a reset (the service must). Instances are counted, and each
 * remembers the thread that made it and saw its notifications. */

#define ECHO_TYPE_CONN (echo_conn_get_type ())
G_DECLARE_FINAL_TYPE (EchoConn, echo_conn, ECHO, CONN, CAsyncSocket)

struct _EchoConn
{
  CAsyncSocket parent_instance;
  GThread *made_on;
  GThread *notified_on;
};

G_DEFINE_FINAL_TYPE (EchoConn, echo_conn, C_TYPE_ASYNC_SOCKET)

static gint live_conns;

static void
echo_conn_on_receive (CAsyncSocket *socket, int error_code)
{
  char buffer[4096];
  gssize n = c_async_socket_receive (socket, buffer, sizeof buffer, 0, NULL);

  ECHO_CONN (socket)->notified_on = g_thread_self ();
  if (n == 3 && memcmp (buffer, "bye", 3) == 0)
    c_async_socket_close (socket);
  else if (n > 0)
    c_async_socket_send (socket, buffer, (gsize) n, 0, NULL);
}

static void
echo_conn_on_close (CAsyncSocket *socket, int error_code)
{
  if (error_code == 0)
    c_async_socket_close (socket);
}

static void
echo_conn_finalize (GObject *object)
{
  g_atomic_int_add (&live_conns, -1);
  G_OBJECT_CLASS (echo_conn_parent_class)->finalize (object);
}

static void
echo_conn_class_init (EchoConnClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = echo_conn_finalize;
  C_ASYNC_SOCKET_CLASS (klass)->on_receive = echo_conn_on_receive;
  C_ASYNC_SOCKET_CLASS (klass)->on_close = echo_conn_on_close;
}

static void
echo_conn_init (EchoConn *self)
{
  self->made_on = g_thread_self ();
  g_atomic_int_inc (&live_conns);
}

/* Waiting: the main context iterates, woken every 5 ms, since worker threads change what
 * is waited for without waking it. */

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
wait_for (gboolean (*condition) (gpointer), gpointer data)
{
  guint ticker = g_timeout_add (5, tick, NULL);
  gboolean met = run_until (condition, data);

  g_source_remove (ticker);
  return met;
}

typedef struct
{
  CSocketService *service;
  guint now;
  guint64 total;
  guint64 refused;
} Want;

static gboolean
stats_reached (gpointer data)
{
  Want *want = data;
  CSocketServiceStats stats;

  c_socket_service_get_stats (want->service, &stats);
  return stats.connections_now == want->now && stats.connections_total >= want->total
         && stats.refused >= want->refused;
}

static void
wait_stats (CSocketService *service, guint now, guint64 total, guint64 refused)
{
  Want want = { service, now, total, refused };
  CSocketServiceStats stats;

  if (!wait_for (stats_reached, &want))
    {
      c_socket_service_get_stats (service, &stats);
      g_autofree char *message = g_strdup_printf (
          "waited for %u held, %" G_GUINT64_FORMAT " total, %" G_GUINT64_FORMAT
          " refused; have %u, %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT,
          now, total, refused, stats.connections_now, stats.connections_total, stats.refused);
      cr_assert (FALSE, "%s", message);
    }
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

static gboolean
live_is (gpointer data)
{
  return g_atomic_int_get (&live_conns) == GPOINTER_TO_INT (data);
}

/* Clients: plain non-blocking descriptors on loopback. */

static int
client_connect (guint port)
{
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  cr_assert (fd >= 0);
  cr_assert (connect (fd, (struct sockaddr *) &address, sizeof address) == 0, "connect: %s",
             g_strerror (errno));
  return fd;
}

typedef struct
{
  int fd;
  GString *got;
  gboolean eof;
} Reader;

static gboolean
reader_done (gpointer data)
{
  Reader *reader = data;
  char buffer[4096];
  gssize n;

  while ((n = recv (reader->fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
    g_string_append_len (reader->got, buffer, n);
  if (n == 0 || (n < 0 && errno == ECONNRESET))
    reader->eof = TRUE;
  return reader->eof || reader->got->len > 0;
}

/* What the client reads next: the bytes, or NULL for end of stream. */
static char *
client_read (int fd)
{
  Reader reader = { fd, g_string_new (NULL), FALSE };

  cr_assert (wait_for (reader_done, &reader), "the client read nothing");
  if (reader.got->len == 0)
    {
      g_string_free (reader.got, TRUE);
      return NULL;
    }
  return g_string_free (reader.got, FALSE);
}

static void
client_send (int fd, const char *text)
{
  cr_assert (send (fd, text, strlen (text), MSG_NOSIGNAL) == (gssize) strlen (text));
}

static void
client_expect_echo (int fd, const char *text)
{
  g_autofree char *got = NULL;

  client_send (fd, text);
  got = client_read (fd);
  cr_assert (got != NULL && strcmp (got, text) == 0, "echo of '%s': '%s'", text,
             got ? got : "(end of stream)");
}

static CSocketService *
start_service (guint threads, gboolean hand_over)
{
  CSocketService *service = c_socket_service_new (ECHO_TYPE_CONN);
  g_autoptr (GError) error = NULL;

  c_socket_service_set_threads (service, threads);
  c_socket_service_set_hand_over (service, hand_over);
  c_socket_service_add_inet_port (service, "127.0.0.1", 0);
  cr_assert (c_socket_service_start (service, &error), "start: %s", error ? error->message : "");
  cr_assert (c_socket_service_get_port (service, 0) > 0);
  return service;
}

static void
finish (CSocketService *service)
{
  g_object_unref (service);
  cr_assert (wait_for (live_is, GINT_TO_POINTER (0)), "%d connections outlived the service",
             g_atomic_int_get (&live_conns));
}

/* incoming: every connection is the application's type, already connected */

static gboolean
check_incoming (CSocketService *service, CAsyncSocket *connection, gpointer data)
{
  gboolean *all_echo = data;

  *all_echo &= ECHO_IS_CONN (connection) && c_async_socket_is_connected (connection);
  return TRUE;
}

Test (service, holds_connections_nobody_else_holds, .timeout = 30)
{
  CSocketService *service = start_service (1, FALSE);
  guint port = c_socket_service_get_port (service, 0);
  gboolean all_echo = TRUE;
  int fds[5];

  g_signal_connect (service, "incoming", G_CALLBACK (check_incoming), &all_echo);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    fds[i] = client_connect (port);
  wait_stats (service, 5, 5, 0);
  cr_assert (all_echo, "a connection was not an EchoConn, or not connected");
  cr_assert_eq (g_atomic_int_get (&live_conns), 5);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    client_expect_echo (fds[i], "hello");

  /* A peer's reset: the service closes and releases (EchoConn's on_close leaves it open). */
  setsockopt (fds[0], SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 }, sizeof (struct linger));
  close (fds[0]);
  wait_stats (service, 4, 5, 0);
  cr_assert (wait_for (live_is, GINT_TO_POINTER (4)), "the closed connection was not released");
  /* The connection closes itself: released too. */
  client_send (fds[1], "bye");
  g_autofree char *end = client_read (fds[1]);
  cr_assert_null (end, "the connection said '%s' after closing", end);
  wait_stats (service, 3, 5, 0);
  cr_assert (wait_for (live_is, GINT_TO_POINTER (3)));

  /* The service goes: what it held is closed and released; the peers see the close. */
  finish (service);
  for (guint i = 2; i < G_N_ELEMENTS (fds); i++)
    {
      g_autofree char *after = client_read (fds[i]);
      cr_assert_null (after);
      close (fds[i]);
    }
  close (fds[1]);
}

static gboolean
refuse_odd (CSocketService *service, CAsyncSocket *connection, gpointer data)
{
  guint *seen = data;
  return (*seen)++ % 2 == 0;
}

Test (service, incoming_refuses, .timeout = 30)
{
  CSocketService *service = start_service (1, FALSE);
  guint port = c_socket_service_get_port (service, 0);
  guint seen = 0;
  int kept, refused;

  g_signal_connect (service, "incoming", G_CALLBACK (refuse_odd), &seen);
  kept = client_connect (port);
  wait_stats (service, 1, 1, 0);
  refused = client_connect (port);
  wait_stats (service, 1, 1, 1);
  g_autofree char *nothing = client_read (refused);
  cr_assert_null (nothing, "a refused connection answered");
  client_expect_echo (kept, "still here");
  cr_assert (wait_for (live_is, GINT_TO_POINTER (1)), "the refused connection was kept");
  close (kept);
  close (refused);
  finish (service);
}

Test (service, limit_pauses_then_resumes, .timeout = 30)
{
  CSocketService *service = start_service (1, FALSE);
  guint port = c_socket_service_get_port (service, 0);
  int fds[3];

  c_socket_service_set_max_connections (service, 2, C_SERVICE_LIMIT_PAUSE);
  for (guint i = 0; i < 3; i++)
    fds[i] = client_connect (port); /* the kernel completes all three handshakes */
  wait_stats (service, 2, 2, 0);
  /* The third waits in the backlog: 200 ms of iterations change nothing. */
  run_until_within (never, NULL, 200);
  CSocketServiceStats stats;
  c_socket_service_get_stats (service, &stats);
  cr_assert_eq (stats.connections_total, 2, "accepted beyond the limit");
  client_expect_echo (fds[0], "one");
  close (fds[0]);
  wait_stats (service, 2, 3, 0); /* one went, the waiting one came */
  client_expect_echo (fds[2], "three");
  close (fds[1]);
  close (fds[2]);
  finish (service);
}

Test (service, limit_refuses, .timeout = 30)
{
  CSocketService *service = start_service (1, FALSE);
  guint port = c_socket_service_get_port (service, 0);
  int first, second;

  c_socket_service_set_max_connections (service, 1, C_SERVICE_LIMIT_REFUSE);
  first = client_connect (port);
  wait_stats (service, 1, 1, 0);
  second = client_connect (port);
  wait_stats (service, 1, 1, 1);
  g_autofree char *nothing = client_read (second);
  cr_assert_null (nothing);
  client_expect_echo (first, "first");
  close (first);
  close (second);
  finish (service);
}

static void
stopped (GObject *source, GAsyncResult *result, gpointer data)
{
  guint *closed = data;
  g_autoptr (GError) error = NULL;

  cr_assert (c_socket_service_stop_finish (C_SOCKET_SERVICE (source), result, closed, &error),
             "stop: %s", error ? error->message : "");
}

static gboolean
value_set (gpointer data)
{
  return *(guint *) data != G_MAXUINT;
}

Test (service, stop_lets_connections_finish_until_the_deadline, .timeout = 30)
{
  CSocketService *service = start_service (1, FALSE);
  guint port = c_socket_service_get_port (service, 0);
  guint closed = G_MAXUINT;
  int leaving, staying, late;

  leaving = client_connect (port);
  staying = client_connect (port);
  wait_stats (service, 2, 2, 0);
  c_socket_service_stop (service, 300, NULL, stopped, &closed);
  cr_assert_not (c_socket_service_is_active (service));
  /* New connections are refused at once: the listener is closed. */
  late = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  cr_assert (connect (late, (struct sockaddr *) &address, sizeof address) < 0
             && errno == ECONNREFUSED);
  /* One connection finishes in time, and is still served until it does. */
  client_expect_echo (leaving, "last words");
  close (leaving);
  cr_assert (wait_for (value_set, &closed), "the stop never ended");
  cr_assert_eq (closed, 1, "%u connections closed at the deadline", closed);
  g_autofree char *nothing = client_read (staying);
  cr_assert_null (nothing, "the connection left open was not closed");
  close (staying);
  close (late);
  finish (service);
}

Test (service, stop_without_connections_ends_at_once, .timeout = 30)
{
  CSocketService *service = start_service (2, FALSE);
  guint closed = G_MAXUINT;

  c_socket_service_stop (service, 60000, NULL, stopped, &closed);
  cr_assert (wait_for (value_set, &closed));
  cr_assert_eq (closed, 0);
  finish (service);
}

/* Threads */

typedef struct
{
  GMutex lock;
  GThread *threads[2];
  guint n_threads;
  CAsyncSocket *first; /* a reference */
  GThread *first_thread;
} Seen;

static gboolean
note_thread (CSocketService *service, CAsyncSocket *connection, gpointer data)
{
  Seen *seen = data;
  GThread *self = g_thread_self ();

  g_mutex_lock (&seen->lock);
  if (seen->first == NULL)
    {
      seen->first = g_object_ref (connection);
      seen->first_thread = self;
    }
  if (seen->n_threads < 2 && (seen->n_threads == 0 || seen->threads[0] != self))
    seen->threads[seen->n_threads++] = self;
  g_mutex_unlock (&seen->lock);
  return TRUE;
}

/* @total connections, 100 open at a time; then the spread over the two threads. */
static void
spread_over_two_threads (gboolean hand_over, guint total)
{
  CSocketService *service = start_service (2, hand_over);
  guint port = c_socket_service_get_port (service, 0);
  Seen seen = { 0 };
  guint64 on[2];
  int fds[100];

  g_mutex_init (&seen.lock);
  g_signal_connect (service, "incoming", G_CALLBACK (note_thread), &seen);
  for (guint done = 0; done < total; done += G_N_ELEMENTS (fds))
    {
      for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
        fds[i] = client_connect (port);
      wait_stats (service, G_N_ELEMENTS (fds), done + G_N_ELEMENTS (fds), 0);
      for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
        close (fds[i]);
      wait_stats (service, 0, done + G_N_ELEMENTS (fds), 0);
    }
  on[0] = c_socket_service_get_thread_accepted (service, 0);
  on[1] = c_socket_service_get_thread_accepted (service, 1);
  cr_log_info ("%s: %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT " connections (max/min %.2f)",
               hand_over ? "hand-over" : "SO_REUSEPORT", on[0], on[1],
               (double) MAX (on[0], on[1]) / (double) MAX (MIN (on[0], on[1]), 1));
  cr_assert_eq (on[0] + on[1], total);
  cr_assert (on[0] > 0 && on[1] > 0, "one thread got nothing");
  cr_assert ((double) MAX (on[0], on[1]) <= 1.5 * (double) MIN (on[0], on[1]),
             "unbalanced: %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT, on[0], on[1]);
  cr_assert_eq (seen.n_threads, 2, "incoming ran on %u threads", seen.n_threads);
  cr_assert (seen.threads[0] != g_thread_self () && seen.threads[1] != g_thread_self (),
             "a connection lives on the caller's thread");
  g_clear_object (&seen.first);
  g_mutex_clear (&seen.lock);
  finish (service);
}

Test (service, reuseport_spreads_1000_connections_over_two_threads, .timeout = 120)
{
  spread_over_two_threads (FALSE, 1000);
}

Test (service, hand_over_spreads_connections_over_two_threads, .timeout = 60)
{
  spread_over_two_threads (TRUE, 200);
}

typedef struct
{
  CAsyncSocket *connection;
  GThread *ran_on;
  GThread *expected;
  gint done;
} Greeting;

static gboolean
greet (gpointer data)
{
  Greeting *greeting = data;

  greeting->ran_on = g_thread_self ();
  c_async_socket_send (greeting->connection, "hi", 2, 0, NULL);
  g_atomic_int_set (&greeting->done, TRUE);
  return G_SOURCE_REMOVE;
}

Test (service, invoke_runs_on_the_connections_thread, .timeout = 30)
{
  CSocketService *service = start_service (2, FALSE);
  Seen seen = { 0 };
  Greeting greeting = { 0 };
  int fd;

  g_mutex_init (&seen.lock);
  g_signal_connect (service, "incoming", G_CALLBACK (note_thread), &seen);
  fd = client_connect (c_socket_service_get_port (service, 0));
  wait_stats (service, 1, 1, 0);
  g_mutex_lock (&seen.lock);
  greeting.connection = seen.first;
  greeting.expected = seen.first_thread;
  g_mutex_unlock (&seen.lock);
  cr_assert_neq (greeting.expected, g_thread_self ());
  c_async_socket_invoke (greeting.connection, greet, &greeting, NULL);
  g_autofree char *got = client_read (fd);
  cr_assert_str_eq (got, "hi");
  cr_assert_eq (greeting.ran_on, greeting.expected, "invoke ran on another thread");
  cr_assert_eq (ECHO_CONN (greeting.connection)->made_on, greeting.expected);
  client_expect_echo (fd, "and on");
  cr_assert_eq (ECHO_CONN (greeting.connection)->notified_on, greeting.expected);
  g_clear_object (&seen.first);
  g_mutex_clear (&seen.lock);
  close (fd);
  finish (service);
}

Test (service, unix_path_is_handed_over_with_threads, .timeout = 30)
{
  CSocketService *service = c_socket_service_new (ECHO_TYPE_CONN);
  g_autofree char *dir = g_dir_make_tmp ("afxsock-service-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "socket", NULL);
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  g_autoptr (GError) error = NULL;
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  c_socket_service_set_threads (service, 2);
  c_socket_service_add_unix_path (service, path);
  cr_assert (c_socket_service_start (service, &error), "%s", error ? error->message : "");
  cr_assert_eq (c_socket_service_get_port (service, 0), 0);
  g_strlcpy (address.sun_path, path, sizeof address.sun_path);
  cr_assert (connect (fd, (struct sockaddr *) &address, sizeof address) == 0);
  wait_stats (service, 1, 1, 0);
  client_expect_echo (fd, "over a path");
  close (fd);
  finish (service);
  g_unlink (path);
  g_rmdir (dir);
}

Test (service, counts_bytes_over_threads, .timeout = 30)
{
  CSocketService *service = start_service (2, FALSE);
  guint port = c_socket_service_get_port (service, 0);
  CSocketServiceStats stats;
  int fds[8];

  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    {
      fds[i] = client_connect (port);
      client_expect_echo (fds[i], "0123456789");
    }
  close (fds[0]); /* one closed, the others open: both kinds are counted */
  wait_stats (service, G_N_ELEMENTS (fds) - 1, G_N_ELEMENTS (fds), 0);
  c_socket_service_get_stats (service, &stats);
  cr_assert_eq (stats.bytes_received, 10 * G_N_ELEMENTS (fds));
  cr_assert_eq (stats.bytes_sent, 10 * G_N_ELEMENTS (fds));
  for (guint i = 1; i < G_N_ELEMENTS (fds); i++)
    close (fds[i]);
  finish (service);
}

Test (service, start_reports_the_address, .timeout = 30)
{
  CSocketService *first = start_service (1, FALSE);
  CSocketService *second = c_socket_service_new (ECHO_TYPE_CONN);
  g_autoptr (GError) error = NULL;

  /* The same port again, without SO_REUSEPORT on the first: in use. */
  c_socket_service_add_inet_port (second, "127.0.0.1", c_socket_service_get_port (first, 0));
  cr_assert_not (c_socket_service_start (second, &error));
  cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE), "%s", error->message);
  g_clear_error (&error);
  cr_assert_not (c_socket_service_start (second, &error), "a failed service started again");
  g_object_unref (second);
  g_clear_error (&error);

  second = c_socket_service_new (ECHO_TYPE_CONN);
  c_socket_service_add_inet_port (second, "no-such-host.invalid", 0);
  cr_assert_not (c_socket_service_start (second, &error));
  assert_error (error, C_SOCKET_ERROR, C_SOCKET_ERROR_INVALID_ADDRESS, "no-such-host.invalid");
  g_object_unref (second);
  finish (first);
}

Test (service, dual_stack_by_default, .timeout = 30)
{
  CSocketService *service = c_socket_service_new (ECHO_TYPE_CONN);
  g_autoptr (GError) error = NULL;
  struct sockaddr_in6 address6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  int fd4, fd6 = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

  c_socket_service_add_inet_port (service, NULL, 0);
  if (!c_socket_service_start (service, &error))
    {
      cr_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED), "%s",
                 error->message);
      cr_skip_test ("no IPv6 here: %s", error->message);
    }
  fd4 = client_connect (c_socket_service_get_port (service, 0));
  address6.sin6_port = htons ((guint16) c_socket_service_get_port (service, 0));
  cr_assert (connect (fd6, (struct sockaddr *) &address6, sizeof address6) == 0, "::1: %s",
             g_strerror (errno));
  client_expect_echo (fd4, "v4");
  client_expect_echo (fd6, "v6");
  close (fd4);
  close (fd6);
  finish (service);
}

static void
records_on_listener (CSocketService *service, CAsyncSocket *listener, gpointer data)
{
  g_autoptr (GError) error = NULL;

  cr_assert_not (c_async_socket_is_listening (listener), "configured after listen");
  cr_assert (c_async_socket_set_record_mode (listener, TRUE, &error), "%s",
             error ? error->message : "");
  g_atomic_int_inc ((gint *) data);
}

static gboolean
record_mode_inherited (CSocketService *service, CAsyncSocket *connection, gpointer data)
{
  g_atomic_int_set ((gint *) data, c_async_socket_get_record_mode (connection) ? 1 : -1);
  return TRUE;
}

Test (service, connections_inherit_what_configure_listener_sets, .timeout = 30)
{
  CSocketService *service = c_socket_service_new (ECHO_TYPE_CONN);
  g_autoptr (GError) error = NULL;
  gint listeners = 0, inherited = 0;
  int fd;

  c_socket_service_set_threads (service, 2);
  c_socket_service_add_inet_port (service, "127.0.0.1", 0);
  g_signal_connect (service, "configure-listener", G_CALLBACK (records_on_listener), &listeners);
  g_signal_connect (service, "incoming", G_CALLBACK (record_mode_inherited), &inherited);
  cr_assert (c_socket_service_start (service, &error), "%s", error ? error->message : "");
  cr_assert_eq (g_atomic_int_get (&listeners), 2, "one listener per thread");
  fd = client_connect (c_socket_service_get_port (service, 0));
  wait_stats (service, 1, 1, 0);
  cr_assert_eq (g_atomic_int_get (&inherited), 1, "the connection is not in record mode");
  close (fd);
  finish (service);
}

/* test-two-hosts.c: 100 MiB between two network namespaces over a rate-limited veth pair
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two "hosts": the test makes two network namespaces joined by a veth pair, with addresses
 * in 10.200.N.0/24 and a token-bucket filter (tc tbf) at 100 Mbit/s on both ends, so that
 * the traffic crosses a real link with a real rate limit and stays inside namespaces the
 * test owns. A forked child in one namespace sends 100 MiB of records to a child in the
 * other; the receiver sends back the SHA-256 of what it got, which must equal the sender's.
 * About 9 seconds at that rate.
 *
 * Skipped, with the reason, where namespaces cannot be made (not root, no ip or tc, no
 * kernel support). The namespaces are deleted when the test ends, even when it fails.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reliability-util.h"

#define S(x) C_ASYNC_SOCKET (x)

#define RECORD_SIZE (64 * 1024)
#define N_RECORDS 1600 /* 100 MiB */
#define RATE_MBIT 100
#define CHILD_DEADLINE_S 90
#define SEED 11

static char namespaces[2][32];
static char link_names[2][16];
static pid_t children[2];

static gboolean
run_command (char **error_text, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  const char *arg;
  int status = -1;
  va_list args;
  gboolean ok;

  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  ok = g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                     &status, NULL)
       && g_spawn_check_wait_status (status, NULL);
  if (!ok && error_text != NULL)
    *error_text = g_strdup_printf ("%s: %s", first, err ? g_strstrip (err) : "failed");
  return ok;
}

static void
cleanup (void)
{
  for (int i = 0; i < 2; i++)
    if (children[i] > 0)
      {
        kill (children[i], SIGKILL);
        waitpid (children[i], NULL, 0);
        children[i] = 0;
      }
  /* Deleting a namespace deletes its end of the veth pair, and with it the other end. */
  for (int i = 0; i < 2; i++)
    if (namespaces[i][0] != '\0')
      {
        run_command (NULL, "ip", "netns", "delete", namespaces[i], NULL);
        namespaces[i][0] = '\0';
      }
}

/* Namespaces left by an earlier run of this test that was killed (a timeout, a crash),
 * whose process is gone. Only this test's own names are touched. */
static void
remove_stale_namespaces (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/run/netns", 0, NULL);
  const char *name;
  int pid;
  char side;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (sscanf (name, "afxsock-rel-%d-%c", &pid, &side) == 2 && kill (pid, 0) < 0 && errno == ESRCH)
      run_command (NULL, "ip", "netns", "delete", name, NULL);
}

/* Makes the namespaces, the link, the addresses and the rate limit; skips the test when the
 * first step is impossible here. */
static void
make_hosts (const char *server_address, const char *client_address)
{
  g_autofree char *why = NULL;
  g_autofree char *server_cidr = g_strdup_printf ("%s/24", server_address);
  g_autofree char *client_cidr = g_strdup_printf ("%s/24", client_address);
  g_autofree char *rate = g_strdup_printf ("%dmbit", RATE_MBIT);
  g_autofree char *ip = g_find_program_in_path ("ip");
  g_autofree char *tc = g_find_program_in_path ("tc");

  if (geteuid () != 0)
    cr_skip_test ("two hosts: network namespaces need root (run the suite as root to include "
                  "this test)");
  if (ip == NULL || tc == NULL)
    cr_skip_test ("two hosts: the ip and tc commands (iproute2) are not installed");
  remove_stale_namespaces ();
  g_snprintf (namespaces[0], sizeof namespaces[0], "afxsock-rel-%d-s", (int) getpid ());
  g_snprintf (link_names[0], sizeof link_names[0], "afx%ds", (int) getpid () % 100000);
  if (!run_command (&why, "ip", "netns", "add", namespaces[0], NULL))
    {
      namespaces[0][0] = '\0';
      cr_skip_test ("two hosts: cannot make a network namespace here (%s)", why);
    }
  g_snprintf (namespaces[1], sizeof namespaces[1], "afxsock-rel-%d-c", (int) getpid ());
  g_snprintf (link_names[1], sizeof link_names[1], "afx%dc", (int) getpid () % 100000);
  cr_assert (run_command (&why, "ip", "netns", "add", namespaces[1], NULL), "%s", why);
  cr_assert (run_command (&why, "ip", "link", "add", link_names[0], "netns", namespaces[0], "type",
                          "veth", "peer", "name", link_names[1], "netns", namespaces[1], NULL),
             "%s", why);
  cr_assert (run_command (&why, "ip", "-n", namespaces[0], "addr", "add", server_cidr, "dev",
                          link_names[0], NULL),
             "%s", why);
  cr_assert (run_command (&why, "ip", "-n", namespaces[1], "addr", "add", client_cidr, "dev",
                          link_names[1], NULL),
             "%s", why);
  for (int i = 0; i < 2; i++)
    {
      cr_assert (
          run_command (&why, "ip", "-n", namespaces[i], "link", "set", link_names[i], "up", NULL),
          "%s", why);
      cr_assert (run_command (&why, "tc", "-n", namespaces[i], "qdisc", "add", "dev", link_names[i],
                              "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms",
                              NULL),
                 "%s", why);
    }
}

/* ---- The children ----------------------------------------------------------------------- */

static void
enter_namespace (const char *name)
{
  g_autofree char *path = g_build_filename ("/run/netns", name, NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0 || setns (fd, CLONE_NEWNET) < 0)
    {
      fprintf (stderr, "two hosts: cannot enter %s: %s\n", name, g_strerror (errno));
      _exit (3);
    }
  close (fd);
}

static gboolean
child_deadline (gpointer data)
{
  fprintf (stderr, "two hosts: %s did not finish within %d s\n", (const char *) data,
           CHILD_DEADLINE_S);
  _exit (4);
}

typedef struct
{
  GChecksum *digest;
  guint records;
  gboolean done;
  int report;
} Receiver;

static void
receiver_on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  Receiver *r = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (record, &size);
  guint8 digest[32];
  gsize length = sizeof digest;

  g_checksum_update (r->digest, bytes, (gssize) size);
  if (++r->records < N_RECORDS)
    return;
  g_checksum_get_digest (r->digest, digest, &length);
  c_async_socket_send_record_data (socket, digest, length, NULL);
}

static void
receiver_on_close (CAsyncSocket *socket, int error_code, gpointer data)
{
  Receiver *r = data;
  g_autofree char *line
      = g_strdup_printf ("received %u records, close %d\n", r->records, error_code);

  if (write (r->report, line, strlen (line)) < 0)
    _exit (5);
  r->done = TRUE;
}

static void
receiver_on_accept (CAsyncSocket *listener, int error_code, gpointer data)
{
  CAsyncSocket *connection = c_async_socket_new ();

  g_signal_connect (connection, "record", G_CALLBACK (receiver_on_record), data);
  g_signal_connect (connection, "close", G_CALLBACK (receiver_on_close), data);
  if (!c_async_socket_accept (listener, connection, NULL, NULL))
    g_object_unref (connection);
  /* The connection lives until the child exits. */
}

static G_GNUC_NORETURN void
run_receiver (const char *address, int report)
{
  GMainContext *context = g_main_context_new ();
  Receiver r = { g_checksum_new (G_CHECKSUM_SHA256), 0, FALSE, report };
  CAsyncSocket *listener;
  g_autoptr (GError) error = NULL;
  guint port;
  char line[64];
  int length;

  g_main_context_push_thread_default (context);
  listener = c_async_socket_new ();
  g_signal_connect (listener, "accept", G_CALLBACK (receiver_on_accept), &r);
  if (!c_async_socket_create (listener, 0, C_SOCK_STREAM, C_FD_ALL, address, &error)
      || !c_async_socket_set_record_mode (listener, TRUE, &error)
      || !c_async_socket_listen (listener, 1, &error)
      || !c_async_socket_get_sock_name (listener, NULL, &port, &error))
    {
      fprintf (stderr, "two hosts: receiver: %s\n", error->message);
      _exit (2);
    }
  length = g_snprintf (line, sizeof line, "%u\n", port);
  if (write (report, line, (size_t) length) != length)
    _exit (5);
  g_timeout_add_seconds (CHILD_DEADLINE_S, child_deadline, (gpointer) "the receiver");
  while (!r.done)
    g_main_context_iteration (context, TRUE);
  _exit (0);
}

typedef struct
{
  CAsyncSocket *socket;
  GChecksum *digest;
  guint sent;
  gint64 started;
  gboolean done;
  int report;
} Sender;

static void
send_more (Sender *s)
{
  while (s->sent < N_RECORDS)
    {
      guint8 *payload = g_malloc (RECORD_SIZE);
      g_autoptr (GBytes) record = NULL;

      fill_payload (payload, RECORD_SIZE, s->sent, SEED);
      record = g_bytes_new_take (payload, RECORD_SIZE);
      if (!c_async_socket_send_record (s->socket, record, NULL))
        return; /* at the high-water mark: on_drain */
      g_checksum_update (s->digest, g_bytes_get_data (record, NULL), RECORD_SIZE);
      s->sent++;
    }
}

static void
sender_on_connect (CAsyncSocket *socket, int error_code, gpointer data)
{
  Sender *s = data;

  if (error_code != 0)
    {
      fprintf (stderr, "two hosts: sender: connect: %s\n", g_strerror (error_code));
      _exit (2);
    }
  s->started = g_get_monotonic_time ();
  send_more (s);
}

static void
sender_on_drain (CAsyncSocket *socket, gpointer data)
{
  send_more (data);
}

/* The receiver's digest: compare, report, close. */
static void
sender_on_record (CAsyncSocket *socket, GBytes *record, gpointer data)
{
  Sender *s = data;
  guint8 digest[32];
  gsize length = sizeof digest;
  gint64 elapsed = g_get_monotonic_time () - s->started;
  g_autofree char *line = NULL;

  g_checksum_get_digest (s->digest, digest, &length);
  line = g_strdup_printf ("sent %u records in %" G_GINT64_FORMAT " us, digest %s\n", s->sent,
                          elapsed,
                          g_bytes_get_size (record) == length
                                  && memcmp (g_bytes_get_data (record, NULL), digest, length) == 0
                              ? "matches"
                              : "DIFFERS");
  if (write (s->report, line, strlen (line)) < 0)
    _exit (5);
  c_async_socket_close (socket);
  s->done = TRUE;
}

static G_GNUC_NORETURN void
run_sender (const char *local_address, const char *address, guint port, int report)
{
  GMainContext *context = g_main_context_new ();
  Sender s = { NULL, g_checksum_new (G_CHECKSUM_SHA256), 0, 0, FALSE, report };
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (context);
  s.socket = c_async_socket_new ();
  c_async_socket_set_water_marks (s.socket, 1 << 20, 4 << 20);
  g_signal_connect (s.socket, "connect", G_CALLBACK (sender_on_connect), &s);
  g_signal_connect (s.socket, "drain", G_CALLBACK (sender_on_drain), &s);
  g_signal_connect (s.socket, "record", G_CALLBACK (sender_on_record), &s);
  if (!c_async_socket_create (s.socket, 0, C_SOCK_STREAM, C_FD_ALL, local_address, &error)
      || !c_async_socket_set_record_mode (s.socket, TRUE, &error)
      || !c_async_socket_connect (s.socket, address, port, &error))
    {
      fprintf (stderr, "two hosts: sender: %s\n", error->message);
      _exit (2);
    }
  g_timeout_add_seconds (CHILD_DEADLINE_S, child_deadline, (gpointer) "the sender");
  while (!s.done)
    g_main_context_iteration (context, TRUE);
  _exit (0);
}

/* ---- The test ------------------------------------------------------------------------- */

static pid_t
fork_child (int *report)
{
  int fds[2];
  pid_t pid;

  cr_assert_eq (pipe2 (fds, O_CLOEXEC), 0);
  pid = fork ();
  cr_assert_geq (pid, 0, "fork: %s", g_strerror (errno));
  if (pid == 0)
    {
      close (fds[0]);
      *report = fds[1];
      return 0;
    }
  close (fds[1]);
  *report = fds[0];
  return pid;
}

static char *
read_report (int fd)
{
  GString *text = g_string_new (NULL);
  char buffer[256];
  ssize_t n;

  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_string_append_len (text, buffer, n);
  close (fd);
  return g_strstrip (g_string_free (text, FALSE));
}

typedef struct
{
  int status[2];
  gboolean exited[2];
} Exits;

static void
child_exited (GPid pid, int status, gpointer data)
{
  Exits *exits = data;
  int i = pid == children[0] ? 0 : 1;

  exits->status[i] = status;
  exits->exited[i] = TRUE;
  children[i] = 0;
}

static gboolean
both_exited (gpointer data)
{
  Exits *exits = data;
  return exits->exited[0] && exits->exited[1];
}

Test (two_hosts, hundred_mebibytes_over_a_rate_limited_veth_pair, .timeout = 150, .fini = cleanup)
{
  int n = (int) getpid () % 250 + 1;
  g_autofree char *server_address = g_strdup_printf ("10.200.%d.1", n);
  g_autofree char *client_address = g_strdup_printf ("10.200.%d.2", n);
  g_autofree char *server_report = NULL;
  g_autofree char *client_report = NULL;
  Exits exits = { { 0 }, { FALSE } };
  int server_fd, client_fd;
  guint port = 0;
  char line[16] = { 0 };
  gint64 elapsed_us = 0;
  guint sent = 0;
  double megabits;

  make_hosts (server_address, client_address);

  children[0] = fork_child (&server_fd);
  if (children[0] == 0)
    {
      enter_namespace (namespaces[0]);
      run_receiver (server_address, server_fd);
    }
  /* The receiver's port, once it listens (a blocking read on the pipe: the child's first
   * word, or end of file if it failed). */
  for (gsize i = 0; i < sizeof line - 1 && read (server_fd, line + i, 1) == 1 && line[i] != '\n';
       i++)
    ;
  port = (guint) g_ascii_strtoull (line, NULL, 10);
  cr_assert_gt (port, 0, "the receiver did not start");

  children[1] = fork_child (&client_fd);
  if (children[1] == 0)
    {
      enter_namespace (namespaces[1]);
      run_sender (client_address, server_address, port, client_fd);
    }
  g_child_watch_add (children[0], child_exited, &exits);
  g_child_watch_add (children[1], child_exited, &exits);
  cr_assert (run_until_within (both_exited, &exits, (CHILD_DEADLINE_S + 10) * 1000),
             "the transfer did not end");

  server_report = read_report (server_fd);
  client_report = read_report (client_fd);
  cr_assert (WIFEXITED (exits.status[0]) && WEXITSTATUS (exits.status[0]) == 0,
             "the receiver failed (%d): %s", exits.status[0], server_report);
  cr_assert (WIFEXITED (exits.status[1]) && WEXITSTATUS (exits.status[1]) == 0,
             "the sender failed (%d): %s", exits.status[1], client_report);
  cr_assert_not_null (strstr (client_report, "digest matches"), "sender: %s", client_report);
  cr_assert_eq (
      sscanf (client_report, "sent %u records in %" G_GINT64_FORMAT " us", &sent, &elapsed_us), 2,
      "%s", client_report);
  cr_assert_eq (sent, N_RECORDS);
  cr_assert_str_eq (server_report, "received 1600 records, close 0");
  megabits = (double) N_RECORDS * RECORD_SIZE * 8 / 1e6 / (elapsed_us / 1e6);
  /* The link's limit held: the transfer was not faster than the token bucket allows. */
  cr_assert_leq (megabits, RATE_MBIT * 1.1, "%.1f Mbit/s through a %d Mbit/s limit", megabits,
                 RATE_MBIT);
  cr_log_info ("two hosts: %d MiB from %s to %s in %.1f s (%.1f Mbit/s through a %d Mbit/s tbf), "
               "SHA-256 equal",
               N_RECORDS * RECORD_SIZE >> 20, client_address, server_address, elapsed_us / 1e6,
               megabits, RATE_MBIT);
}

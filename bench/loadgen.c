/* loadgen.c: the load generator of the benchmark suite
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   loadgen --port N [--connections N] [--size BYTES] [--depth N] [--idle N]
 *           [--warmup S] [--duration S] [--total-bytes N] [--framed] [--accept]
 *           [--pid PID] [--setup-timeout S]
 *
 * Drives an echo server on 127.0.0.1 from one thread with one epoll instance. Each active
 * connection keeps --depth messages of --size bytes in flight: every message that comes
 * back whole is answered with a new one, so the server always has work queued. With
 * --framed every message starts with a 4-byte big-endian length of the rest (the
 * afxsock record framing); the bytes on the wire stay --size per message, so framed and
 * raw runs carry the same traffic.
 *
 * Idle connections (--idle) are opened before the measurement and never written to. To
 * know the server really accepted them, one more connection is opened after them and a
 * message echoed on it: servers accept in backlog order, so its echo means all the idle
 * ones before it were accepted. The server's resident memory (VmRSS) is read before and
 * after, which gives its memory per idle connection.
 *
 * --total-bytes ends the run once that many bytes came back (bulk transfer); --accept
 * measures connections per second instead: --connections connects in flight, each closed
 * as soon as it is established.
 *
 * With --pid, the server's CPU time (utime + stime of /proc/PID/stat) is read at the start
 * and end of the measured window. Results go to standard output as one JSON object.
 *
 * Everything is bounded: connection counts, message sizes and durations are capped, and a
 * hard deadline ends the program whatever the server does.
 */
#include <errno.h>
#include <fcntl.h>
#include "loadgen-util.h"

#include <glib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 16384
#define MAX_DEPTH 1024
#define MAX_MESSAGE_SIZE (16 * 1024 * 1024)
#define MAX_SECONDS 120.0
#define MAX_EVENTS 512
#define READ_BUFFER_SIZE (256 * 1024)
#define TEMPLATE_MIN_SIZE (256 * 1024)
#define CONNECTS_IN_FLIGHT 256
#define ACCEPT_SOURCE_ADDRESSES 64
#define HEADER_SIZE 4

typedef enum
{
  CONNECTION_CONNECTING,
  CONNECTION_ACTIVE,
  CONNECTION_IDLE,
  CONNECTION_CLOSED
} ConnectionState;

typedef struct
{
  int fd;
  ConnectionState state;
  gboolean idle;
  gboolean blocked;    /* the last write would-blocked: wait for EPOLLOUT */
  guint64 unsent;      /* bytes of queued messages not written yet */
  guint64 send_offset; /* bytes written so far (position in the message stream) */
  guint64 received;    /* bytes of the oldest message in flight already back */
  gint64 *stamps;      /* ring of send times of the messages in flight */
  guint head;
  guint in_flight;
} Connection;

typedef struct
{
  /* Options */
  int port;
  int n_active;
  gsize size;
  int depth;
  int n_idle;
  double warmup;
  double duration;
  guint64 total_bytes;
  gboolean framed;
  gboolean accept_mode;
  int pid;
  double setup_timeout;

  /* State */
  int epoll_fd;
  Connection *connections;
  int n_connections;
  int n_connecting;
  guint8 *template;
  gsize template_size;
  guint8 *read_buffer;
  gboolean measuring;
  gboolean stopping;
  gint64 deadline;

  /* Results of the measured window */
  guint64 messages;
  guint64 bytes_back;
  guint64 connects;
  guint64 connect_failures;
  LoadgenHistogram round_trips;
  guint64 errors;
} LoadGen;

/* Message bytes, repeated so that one write can carry many messages. */
static void
make_template (LoadGen *gen)
{
  gsize per = MAX (1, TEMPLATE_MIN_SIZE / gen->size);

  gen->template_size = per * gen->size;
  gen->template = g_malloc (gen->template_size);
  for (gsize i = 0; i < gen->template_size; i++)
    gen->template[i] = (guint8) ('a' + i % 26);
  if (gen->framed)
    for (gsize m = 0; m < per; m++)
      {
        guint32 length = (guint32) (gen->size - HEADER_SIZE);
        guint8 *header = gen->template + m * gen->size;
        header[0] = (guint8) (length >> 24);
        header[1] = (guint8) (length >> 16);
        header[2] = (guint8) (length >> 8);
        header[3] = (guint8) length;
      }
}

static void
set_nodelay (int fd)
{
  int on = 1;

  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* Starts a non-blocking connect; returns the descriptor or -1. In accept mode the
 * connections come from 127.0.0.2 … so that the ephemeral ports of one source address
 * (about 28,000) do not run out at tens of thousands of connections per second. */
static int
start_connect (LoadGen *gen, guint source)
{
  struct sockaddr_in address = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (gen->accept_mode)
    {
      struct sockaddr_in local = { 0 };
      int on = 1;
      local.sin_family = AF_INET;
      local.sin_addr.s_addr = htonl (INADDR_LOOPBACK + 1 + source % ACCEPT_SOURCE_ADDRESSES);
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
      if (bind (fd, (struct sockaddr *) &local, sizeof local) < 0)
        {
          close (fd);
          return -1;
        }
    }
  else
    set_nodelay (fd);
  address.sin_family = AF_INET;
  address.sin_port = htons ((guint16) gen->port);
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &address, sizeof address) < 0 && errno != EINPROGRESS)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
watch (LoadGen *gen, int fd, guint32 events, guint64 data, int operation)
{
  struct epoll_event event = { 0 };

  event.events = events;
  event.data.u64 = data;
  return epoll_ctl (gen->epoll_fd, operation, fd, &event) == 0;
}

/* Writes queued messages until done or the socket is full. */
static void
flush_writes (LoadGen *gen, Connection *connection)
{
  while (connection->unsent > 0)
    {
      gsize position = connection->send_offset % gen->template_size;
      gsize length = MIN (connection->unsent, gen->template_size - position);
      ssize_t n = send (connection->fd, gen->template + position, length, MSG_NOSIGNAL);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN)
            gen->errors++;
          connection->blocked = TRUE;
          return;
        }
      connection->send_offset += (guint64) n;
      connection->unsent -= (guint64) n;
    }
  connection->blocked = FALSE;
}

static gboolean
want_more (LoadGen *gen, guint64 queued_total)
{
  if (gen->stopping)
    return FALSE;
  return gen->total_bytes == 0 || queued_total < gen->total_bytes;
}

static guint64 queued_total; /* bytes of messages queued on all connections (bulk) */

static void
queue_message (LoadGen *gen, Connection *connection, gint64 now)
{
  guint slot = (connection->head + connection->in_flight) % (guint) gen->depth;

  connection->stamps[slot] = now;
  connection->in_flight++;
  connection->unsent += gen->size;
  queued_total += gen->size;
}

/* Counts the bytes that came back: each whole message is timed and replaced by a new one. */
static void
take_echo (LoadGen *gen, Connection *connection, gsize n, gint64 now)
{
  guint completed = 0;

  if (gen->measuring)
    gen->bytes_back += n;
  while (n > 0 && connection->in_flight > 0)
    {
      gsize missing = gen->size - connection->received;
      if (n < missing)
        {
          connection->received += n;
          n = 0;
          break;
        }
      n -= missing;
      connection->received = 0;
      if (gen->measuring)
        {
          gen->messages++;
          loadgen_histogram_record (&gen->round_trips, now - connection->stamps[connection->head]);
        }
      connection->head = (connection->head + 1) % (guint) gen->depth;
      connection->in_flight--;
      completed++;
    }
  if (n > 0)
    gen->errors++; /* more bytes than were sent: not an echo */
  for (guint i = 0; i < completed && want_more (gen, queued_total); i++)
    queue_message (gen, connection, now);
}

static void
close_connection (LoadGen *gen, Connection *connection)
{
  if (connection->fd >= 0)
    close (connection->fd);
  connection->fd = -1;
  connection->state = CONNECTION_CLOSED;
}

static void
handle_active (LoadGen *gen, Connection *connection, guint32 events, gint64 now)
{
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
    {
      for (;;)
        {
          ssize_t n = recv (connection->fd, gen->read_buffer, READ_BUFFER_SIZE, 0);
          if (n > 0)
            {
              take_echo (gen, connection, (gsize) n, now);
              if (n < READ_BUFFER_SIZE)
                break;
              continue;
            }
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == EAGAIN)
            break;
          if (!gen->stopping)
            gen->errors++; /* the server closed or reset the connection */
          close_connection (gen, connection);
          return;
        }
    }
  if (connection->unsent > 0 && (!connection->blocked || (events & EPOLLOUT)))
    flush_writes (gen, connection);
}

static void
connection_established (LoadGen *gen, Connection *connection, gint64 now)
{
  if (connection->idle)
    {
      /* Idle connections stay open but leave the epoll set: they cost the load generator
       * nothing from now on. */
      epoll_ctl (gen->epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
      connection->state = CONNECTION_IDLE;
      return;
    }
  connection->state = CONNECTION_ACTIVE;
  for (int i = 0; i < gen->depth && want_more (gen, queued_total); i++)
    queue_message (gen, connection, now);
  flush_writes (gen, connection);
}

static int
socket_error (int fd)
{
  int value = 0;
  socklen_t length = sizeof value;

  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &value, &length) < 0)
    return errno;
  return value;
}

static void
handle_event (LoadGen *gen, Connection *connection, guint32 events, gint64 now)
{
  if (connection->state == CONNECTION_CONNECTING)
    {
      gen->n_connecting--;
      if (socket_error (connection->fd) != 0)
        {
          gen->connect_failures++;
          close_connection (gen, connection);
          return;
        }
      connection_established (gen, connection, now);
      events &= ~(guint32) EPOLLOUT;
    }
  if (connection->state == CONNECTION_ACTIVE)
    handle_active (gen, connection, events, now);
}

/* One round of epoll; returns the number of events handled. */
static int
poll_once (LoadGen *gen, int timeout_ms)
{
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait (gen->epoll_fd, events, MAX_EVENTS, timeout_ms);
  gint64 now = loadgen_now_ns ();

  for (int i = 0; i < n; i++)
    handle_event (gen, &gen->connections[events[i].data.u64], events[i].events, now);
  return MAX (n, 0);
}

static gboolean
open_connection (LoadGen *gen, int index, gboolean idle)
{
  Connection *connection = &gen->connections[index];
  int fd = start_connect (gen, 0);

  *connection = (Connection){ 0 };
  connection->fd = fd;
  connection->idle = idle;
  connection->state = CONNECTION_CONNECTING;
  if (!idle)
    connection->stamps = g_new0 (gint64, gen->depth);
  if (fd < 0
      || !watch (gen, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, (guint64) index,
                 EPOLL_CTL_ADD))
    {
      gen->connect_failures++;
      close_connection (gen, connection);
      return FALSE;
    }
  gen->n_connecting++;
  return TRUE;
}

static int
count_state (LoadGen *gen, int first, int last, ConnectionState state)
{
  int count = 0;

  for (int i = first; i < last; i++)
    count += gen->connections[i].state == state;
  return count;
}

/* Opens the idle connections, at most CONNECTS_IN_FLIGHT connects at a time. Returns how
 * many are established. */
static int
open_idle (LoadGen *gen, int first, gint64 until)
{
  int next = first, last = first + gen->n_idle;

  while (loadgen_now_ns () < until)
    {
      while (next < last && gen->n_connecting < CONNECTS_IN_FLIGHT)
        open_connection (gen, next++, TRUE);
      if (next == last && gen->n_connecting == 0)
        break;
      poll_once (gen, 10);
    }
  return count_state (gen, first, last, CONNECTION_IDLE);
}

/* Echoes one message on a new connection, opened after the idle ones: the server accepts
 * in order, so the echo proves that it accepted them all. */
static gboolean
sync_with_server (LoadGen *gen, gint64 until)
{
  int fd = start_connect (gen, 0);
  struct pollfd pfd = { fd, POLLOUT, 0 };
  gsize sent = 0, received = 0;
  gboolean done = FALSE;

  while (fd >= 0 && !done && loadgen_now_ns () < until)
    {
      int timeout = (int) MAX (1, (until - loadgen_now_ns ()) / 1000000);
      if (poll (&pfd, 1, timeout) <= 0)
        continue;
      if (pfd.revents & (POLLERR | POLLHUP))
        break;
      if (sent < gen->size)
        {
          ssize_t n = send (fd, gen->template + sent, gen->size - sent, MSG_NOSIGNAL);
          if (n < 0 && errno != EAGAIN && errno != ENOTCONN)
            break;
          sent += n > 0 ? (gsize) n : 0;
          pfd.events = sent < gen->size ? POLLOUT : POLLIN;
          continue;
        }
      ssize_t n = recv (fd, gen->read_buffer, READ_BUFFER_SIZE, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN))
        break;
      received += n > 0 ? (gsize) n : 0;
      done = received >= gen->size;
    }
  /* Kept open: it counts as one more idle connection. */
  return done;
}

static void
run_for (LoadGen *gen, gint64 until)
{
  while (!gen->stopping && loadgen_now_ns () < until && loadgen_now_ns () < gen->deadline)
    {
      int timeout = (int) MAX (1, MIN (100, (until - loadgen_now_ns ()) / 1000000));
      poll_once (gen, timeout);
      if (gen->total_bytes > 0 && gen->bytes_back >= gen->total_bytes)
        break;
    }
}

/* Accept mode: keep n_active connects in flight, close each one once established. */
static void
run_accept (LoadGen *gen, gint64 until)
{
  guint source = 0;
  int in_flight = 0;

  while (loadgen_now_ns () < until && loadgen_now_ns () < gen->deadline)
    {
      struct epoll_event events[MAX_EVENTS];
      int n;

      while (in_flight < gen->n_active)
        {
          int fd = start_connect (gen, source++);
          if (fd < 0 || !watch (gen, fd, EPOLLOUT, (guint64) fd, EPOLL_CTL_ADD))
            {
              gen->connect_failures++;
              if (fd >= 0)
                close (fd);
              break;
            }
          in_flight++;
        }
      n = epoll_wait (gen->epoll_fd, events, MAX_EVENTS, 10);
      for (int i = 0; i < n; i++)
        {
          int fd = (int) events[i].data.u64;
          if (socket_error (fd) == 0)
            gen->connects += gen->measuring;
          else
            gen->connect_failures++;
          close (fd); /* also leaves the epoll set */
          in_flight--;
        }
    }
}

static void
print_results (LoadGen *gen, double seconds, gint64 cpu_ns, gint64 rss_before, gint64 rss_after,
               int idle_open, gboolean synced, double setup_seconds)
{
  double own_cpu = loadgen_own_cpu_s ();
  guint64 count = gen->accept_mode ? gen->connects : gen->messages;

  printf (
      "{\"seconds\": %.4f, \"messages\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
      ", \"connects\": %" G_GUINT64_FORMAT ", \"rate\": %.1f, \"p50_us\": %.3f, "
      "\"p99_us\": %.3f, \"server_cpu_s\": %.4f, \"cpu_per_op_ns\": %.1f, "
      "\"rss_before_kb\": %" G_GINT64_FORMAT ", \"rss_after_kb\": %" G_GINT64_FORMAT
      ", \"idle_open\": %d, \"idle_synced\": %s, \"setup_s\": %.3f, \"errors\": %" G_GUINT64_FORMAT
      ", \"connect_failures\": %" G_GUINT64_FORMAT ", \"loadgen_cpu_s\": %.3f}\n",
      seconds, gen->messages, gen->bytes_back, gen->connects, seconds > 0 ? count / seconds : 0.0,
      loadgen_histogram_percentile_ns (&gen->round_trips, 0.50) / 1000.0,
      loadgen_histogram_percentile_ns (&gen->round_trips, 0.99) / 1000.0,
      cpu_ns < 0 ? -1.0 : cpu_ns / 1e9, cpu_ns < 0 || count == 0 ? -1.0 : (double) cpu_ns / count,
      rss_before, rss_after, idle_open, synced ? "true" : "false", setup_seconds, gen->errors,
      gen->connect_failures, own_cpu);
}

static gboolean
check_options (LoadGen *gen, GError **error)
{
  if (gen->port <= 0 || gen->port > 65535)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--port is required");
  else if (gen->n_active < 1 || gen->n_active + gen->n_idle + 1 > MAX_CONNECTIONS
           || gen->n_idle < 0)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--connections and --idle: at least 1 active, at most %d in all", MAX_CONNECTIONS);
  else if (gen->size < (gen->framed ? HEADER_SIZE + 1 : 1) || gen->size > MAX_MESSAGE_SIZE)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--size: from %d to %d bytes",
                 gen->framed ? HEADER_SIZE + 1 : 1, MAX_MESSAGE_SIZE);
  else if (gen->depth < 1 || gen->depth > MAX_DEPTH)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--depth: 1 to %d", MAX_DEPTH);
  else if (gen->duration <= 0 || gen->duration > MAX_SECONDS || gen->warmup < 0
           || gen->warmup > MAX_SECONDS || gen->setup_timeout <= 0
           || gen->setup_timeout > MAX_SECONDS)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "durations: positive, at most %.0f s", MAX_SECONDS);
  else
    return TRUE;
  return FALSE;
}

int
main (int argc, char **argv)
{
  LoadGen gen = {
    .n_active = 1, .size = 64, .depth = 1, .warmup = 0.5, .duration = 3.0, .setup_timeout = 10.0
  };
  gint64 size = 64, total_bytes = 0;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &gen.port, "Server port on 127.0.0.1", "N" },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &gen.n_active, "Active connections (1)", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT64, &size, "Message size in bytes on the wire (64)", "B" },
    { "depth", 'd', 0, G_OPTION_ARG_INT, &gen.depth, "Messages in flight per connection (1)", "N" },
    { "idle", 'i', 0, G_OPTION_ARG_INT, &gen.n_idle, "Idle connections (0)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &gen.warmup, "Seconds before measuring (0.5)", "S" },
    { "duration", 't', 0, G_OPTION_ARG_DOUBLE, &gen.duration, "Seconds measured (3)", "S" },
    { "total-bytes", 'b', 0, G_OPTION_ARG_INT64, &total_bytes,
      "Stop once this many bytes came back (bulk)", "N" },
    { "framed", 'f', 0, G_OPTION_ARG_NONE, &gen.framed, "4-byte big-endian length framing", NULL },
    { "accept", 'a', 0, G_OPTION_ARG_NONE, &gen.accept_mode,
      "Measure connections per second (each closed at once)", NULL },
    { "pid", 0, 0, G_OPTION_ARG_INT, &gen.pid, "Server process for CPU and memory", "PID" },
    { "setup-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &gen.setup_timeout,
      "Seconds allowed for opening the idle connections (10)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- drive an echo server");
  g_autoptr (GError) error = NULL;
  gint64 start, rss_before = -1, rss_after = -1, cpu_start, cpu_end, setup_start;
  int idle_open = 0;
  gboolean synced = TRUE;
  double seconds, setup_seconds = 0;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("loadgen: %s\n", error->message);
      return 2;
    }
  gen.size = (gsize) CLAMP (size, 0, MAX_MESSAGE_SIZE + 1);
  gen.total_bytes = (guint64) MAX (total_bytes, 0);
  if (!check_options (&gen, &error))
    {
      g_printerr ("loadgen: %s\n", error->message);
      return 2;
    }

  loadgen_raise_descriptor_limit ();
  gen.deadline = loadgen_now_ns ()
                 + loadgen_seconds_to_ns (gen.setup_timeout + 2 * gen.warmup + gen.duration + 10.0);
  gen.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  gen.n_connections = gen.n_active + gen.n_idle;
  gen.connections = g_new0 (Connection, gen.n_connections);
  gen.read_buffer = g_malloc (READ_BUFFER_SIZE);
  loadgen_histogram_init (&gen.round_trips);
  make_template (&gen);

  if (gen.accept_mode)
    {
      run_accept (&gen, loadgen_now_ns () + loadgen_seconds_to_ns (gen.warmup));
      gen.measuring = TRUE;
      cpu_start = loadgen_server_cpu_ns (gen.pid);
      start = loadgen_now_ns ();
      run_accept (&gen, start + loadgen_seconds_to_ns (gen.duration));
      seconds = (loadgen_now_ns () - start) / 1e9;
      cpu_end = loadgen_server_cpu_ns (gen.pid);
      print_results (&gen, seconds, cpu_start < 0 ? -1 : cpu_end - cpu_start, -1, -1, 0, TRUE, 0);
      return 0;
    }

  /* Active connections first, warmed up so that the server has made its buffers. */
  for (int i = 0; i < gen.n_active; i++)
    open_connection (&gen, gen.n_idle + i, FALSE);
  if (gen.total_bytes == 0)
    run_for (&gen, loadgen_now_ns () + loadgen_seconds_to_ns (gen.warmup));

  if (gen.n_idle > 0)
    {
      gint64 until;
      rss_before = loadgen_server_rss_kb (gen.pid);
      setup_start = loadgen_now_ns ();
      until = setup_start + loadgen_seconds_to_ns (gen.setup_timeout);
      idle_open = open_idle (&gen, 0, until);
      synced = sync_with_server (&gen, until);
      setup_seconds = (loadgen_now_ns () - setup_start) / 1e9;
      rss_after = loadgen_server_rss_kb (gen.pid);
      if (!synced)
        {
          /* A server that has not accepted its idle connections yet is still busy with
           * them: what it would do meanwhile is not the figure asked for. */
          print_results (&gen, 0, -1, rss_before, rss_after, idle_open, FALSE, setup_seconds);
          return 0;
        }
      run_for (&gen, loadgen_now_ns () + loadgen_seconds_to_ns (MIN (gen.warmup, 0.2)));
    }

  gen.measuring = TRUE;
  cpu_start = loadgen_server_cpu_ns (gen.pid);
  start = loadgen_now_ns ();
  run_for (&gen, start + loadgen_seconds_to_ns (gen.duration)); /* bulk: the time allowed */
  seconds = (loadgen_now_ns () - start) / 1e9;
  cpu_end = loadgen_server_cpu_ns (gen.pid);
  gen.stopping = TRUE;
  print_results (&gen, seconds, cpu_start < 0 ? -1 : cpu_end - cpu_start, rss_before, rss_after,
                 idle_open, synced, setup_seconds);
  return 0;
}

/* loadgen-tls.c: the TLS load generator of the benchmark suite
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   loadgen-tls --port N [--connections N] [--size BYTES] [--depth N] [--warmup S]
 *               [--duration S] [--total-bytes N] [--handshakes] [--idle N]
 *               [--pid PID] [--setup-timeout S]
 *
 * loadgen.c's echo driver over TLS: one thread, one epoll instance (edge-triggered), each
 * connection a non-blocking OpenSSL client on its descriptor. TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 and X25519 only, so that every server negotiates the same thing;
 * the server's certificate is not verified (the client's costs are not the figure).
 *
 * Three modes:
 * - echo (the default): --connections connections complete their handshakes first; then each
 *   keeps --depth messages of --size bytes in flight, every message that comes back whole
 *   answered with a new one. --total-bytes ends the run once that many came back (bulk).
 * - --handshakes: --connections full handshakes in flight (no session is ever resumed);
 *   each connection that completes one sends close_notify, is closed and replaced. Counts
 *   handshakes per second. Connections come from 127.0.0.2 … (as loadgen --accept does) so
 *   that the ephemeral ports of one source address do not run out.
 * - --idle N: one connection does a handshake and echoes one message; the server's resident
 *   memory (VmRSS) is read; then N more do the same (16 at a time) and stay open, idle;
 *   VmRSS is read again. The echo proves that the server finished the handshake.
 *
 * With --pid, the server's CPU time (utime + stime of /proc/PID/stat) is read at the start
 * and end of the measured window. Results go to standard output as one JSON object, with
 * loadgen's keys. Everything is bounded: counts, sizes and durations are capped, and a hard
 * deadline ends the program whatever the server does.
 */
#include "loadgen-util.h"

#include <errno.h>
#include <gio/gio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
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
/* Idle connections are set up a few at a time: memory a server frees once a connection is
 * idle (OpenSSL's buffers, with SSL_MODE_RELEASE_BUFFERS) stays in its RSS, so what many
 * connections held at once while busy would count as theirs. */
#define IDLE_SETUPS_IN_FLIGHT 16
#define SOURCE_ADDRESSES 64

typedef enum
{
  STATE_CONNECTING, /* TCP */
  STATE_HANDSHAKING,
  STATE_ACTIVE,
  STATE_IDLE,
  STATE_CLOSED
} State;

typedef enum
{
  ROLE_ECHO,      /* keeps --depth messages in flight once traffic starts */
  ROLE_IDLE,      /* echoes one message, then stays idle */
  ROLE_HANDSHAKE, /* closed as soon as its handshake completes */
} Role;

typedef struct
{
  int fd;
  SSL *ssl;
  State state;
  Role role;
  guint64 unsent;      /* bytes of queued messages not written yet */
  guint64 send_offset; /* bytes written so far (position in the message stream) */
  int retry_length;    /* the length of an SSL_write to repeat (it wanted the socket), or 0 */
  guint64 received;    /* bytes of the oldest message in flight already back */
  gint64 *stamps;      /* ring of send times of the messages in flight */
  guint head;
  guint in_flight;
} Connection;

typedef struct
{
  /* Options */
  int port;
  int n_connections;
  gsize size;
  int depth;
  int n_idle;
  double warmup;
  double duration;
  guint64 total_bytes;
  gboolean handshake_mode;
  int pid;
  double setup_timeout;

  /* State */
  SSL_CTX *context;
  int epoll_fd;
  Connection *connections;
  int n_slots;
  int n_busy; /* connections opened and not yet established (or idle) */
  int n_ready;
  guint8 *template;
  gsize template_size;
  guint8 *read_buffer;
  gboolean measuring;
  gboolean stopping;
  gint64 deadline;
  guint source;
  guint64 queued_total;

  /* Results of the measured window */
  guint64 messages;
  guint64 bytes_back;
  guint64 handshakes;
  guint64 connect_failures;
  guint64 errors;
  LoadgenHistogram round_trips;
} LoadGen;

static SSL_CTX *
client_context (GError **error)
{
  SSL_CTX *context = SSL_CTX_new (TLS_client_method ());

  if (context == NULL || SSL_CTX_set_min_proto_version (context, TLS1_3_VERSION) != 1
      || SSL_CTX_set_ciphersuites (context, "TLS_AES_128_GCM_SHA256") != 1
      || SSL_CTX_set1_groups_list (context, "X25519") != 1)
    {
      char reason[256];
      ERR_error_string_n (ERR_get_error (), reason, sizeof reason);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS client context: %s", reason);
      SSL_CTX_free (context);
      return NULL;
    }
  SSL_CTX_set_verify (context, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode (context, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode (context, SSL_MODE_ENABLE_PARTIAL_WRITE);
  return context;
}

static void
make_template (LoadGen *gen)
{
  gsize per = MAX (1, TEMPLATE_MIN_SIZE / gen->size);

  gen->template_size = per * gen->size;
  gen->template = g_malloc (gen->template_size);
  for (gsize i = 0; i < gen->template_size; i++)
    gen->template[i] = (guint8) ('a' + i % 26);
}

/* A non-blocking connect to the server; from 127.0.0.2 … with @spread_sources. */
static int
start_connect (LoadGen *gen, gboolean spread_sources)
{
  struct sockaddr_in address = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;

  if (fd < 0)
    return -1;
  if (spread_sources)
    {
      struct sockaddr_in local = { 0 };
      local.sin_family = AF_INET;
      local.sin_addr.s_addr = htonl (INADDR_LOOPBACK + 1 + gen->source++ % SOURCE_ADDRESSES);
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
      if (bind (fd, (struct sockaddr *) &local, sizeof local) < 0)
        {
          close (fd);
          return -1;
        }
    }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
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

static void
close_connection (LoadGen *gen, Connection *connection, gboolean graceful)
{
  if (connection->state == STATE_CONNECTING || connection->state == STATE_HANDSHAKING
      || (connection->role == ROLE_IDLE && connection->state == STATE_ACTIVE))
    gen->n_busy--;
  if (connection->ssl != NULL)
    {
      if (graceful)
        SSL_shutdown (connection->ssl); /* close_notify, without waiting for the server's */
      SSL_free (connection->ssl);
    }
  if (connection->fd >= 0)
    close (connection->fd);
  g_free (connection->stamps);
  connection->stamps = NULL;
  connection->ssl = NULL;
  connection->fd = -1;
  connection->state = STATE_CLOSED;
}

static gboolean
open_connection (LoadGen *gen, int index, Role role)
{
  Connection *connection = &gen->connections[index];
  struct epoll_event event = { 0 };

  *connection = (Connection){ .fd = -1, .role = role, .state = STATE_CONNECTING };
  gen->n_busy++;
  connection->fd = start_connect (gen, role == ROLE_HANDSHAKE);
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = (guint64) index;
  if (connection->fd < 0 || (connection->ssl = SSL_new (gen->context)) == NULL
      || SSL_set_fd (connection->ssl, connection->fd) != 1
      || epoll_ctl (gen->epoll_fd, EPOLL_CTL_ADD, connection->fd, &event) < 0)
    {
      gen->connect_failures++;
      close_connection (gen, connection, FALSE);
      return FALSE;
    }
  SSL_set_connect_state (connection->ssl);
  if (role != ROLE_HANDSHAKE)
    connection->stamps = g_new0 (gint64, gen->depth);
  return TRUE;
}

static gboolean
would_block (SSL *ssl, int result)
{
  int error = SSL_get_error (ssl, result);

  return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

/* Writes queued messages until done or OpenSSL wants the socket; FALSE on failure. */
static gboolean
flush_writes (LoadGen *gen, Connection *connection)
{
  while (connection->unsent > 0)
    {
      gsize position = connection->send_offset % gen->template_size;
      int length = connection->retry_length > 0
                       ? connection->retry_length
                       : (int) MIN (MIN (connection->unsent, gen->template_size - position),
                                    (guint64) G_MAXINT);
      int n = SSL_write (connection->ssl, gen->template + position, length);

      if (n <= 0)
        {
          if (!would_block (connection->ssl, n))
            return FALSE;
          connection->retry_length = length; /* the same bytes, the same length next time */
          return TRUE;
        }
      connection->retry_length = 0;
      connection->send_offset += (guint64) n;
      connection->unsent -= (guint64) n;
    }
  return TRUE;
}

static gboolean
want_more (LoadGen *gen)
{
  if (gen->stopping)
    return FALSE;
  return gen->total_bytes == 0 || gen->queued_total < gen->total_bytes;
}

static void
queue_message (LoadGen *gen, Connection *connection, gint64 now)
{
  guint slot = (connection->head + connection->in_flight) % (guint) gen->depth;

  connection->stamps[slot] = now;
  connection->in_flight++;
  connection->unsent += gen->size;
  gen->queued_total += gen->size;
}

/* Counts the bytes that came back: each whole message is timed and replaced by a new one
 * (an idle connection's one message ends its active life). */
static void
take_echo (LoadGen *gen, Connection *connection, gsize n, gint64 now)
{
  guint completed = 0;
  gboolean counted = gen->measuring && connection->role == ROLE_ECHO;

  if (counted)
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
      if (counted)
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
  if (connection->role == ROLE_IDLE)
    {
      if (connection->in_flight == 0)
        {
          /* Idle from now on: out of the epoll set, it costs the load generator nothing. */
          epoll_ctl (gen->epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
          connection->state = STATE_IDLE;
          gen->n_busy--;
        }
      return;
    }
  for (guint i = 0; i < completed && want_more (gen); i++)
    queue_message (gen, connection, now);
}

/* Reads until OpenSSL wants the socket; FALSE if the connection ended. */
static gboolean
drain_reads (LoadGen *gen, Connection *connection, gint64 now)
{
  for (;;)
    {
      int n = SSL_read (connection->ssl, gen->read_buffer, READ_BUFFER_SIZE);

      if (n > 0)
        {
          take_echo (gen, connection, (gsize) n, now);
          if (connection->state != STATE_ACTIVE)
            return TRUE;
          continue;
        }
      return would_block (connection->ssl, n);
    }
}

static void
start_traffic (LoadGen *gen, Connection *connection, gint64 now)
{
  int messages = connection->role == ROLE_IDLE ? 1 : gen->depth;

  for (int i = 0; i < messages && want_more (gen); i++)
    queue_message (gen, connection, now);
  if (!flush_writes (gen, connection))
    {
      gen->errors++;
      close_connection (gen, connection, FALSE);
    }
}

static void
handshake_done (LoadGen *gen, Connection *connection, gint64 now)
{
  switch (connection->role)
    {
      case ROLE_HANDSHAKE:
        gen->handshakes += gen->measuring;
        close_connection (gen, connection, TRUE);
        break;
      case ROLE_ECHO:
        gen->n_busy--;
        gen->n_ready++;
        connection->state = STATE_ACTIVE; /* traffic starts once every connection is ready */
        break;
      case ROLE_IDLE:
        connection->state = STATE_ACTIVE;
        start_traffic (gen, connection, now);
        break;
    }
}

static void
handle_event (LoadGen *gen, Connection *connection, guint32 events, gint64 now)
{
  if (connection->state == STATE_CONNECTING)
    {
      int value = 0;
      socklen_t length = sizeof value;
      if (getsockopt (connection->fd, SOL_SOCKET, SO_ERROR, &value, &length) < 0 || value != 0)
        {
          gen->connect_failures++;
          close_connection (gen, connection, FALSE);
          return;
        }
      connection->state = STATE_HANDSHAKING;
    }
  if (connection->state == STATE_HANDSHAKING)
    {
      int result = SSL_do_handshake (connection->ssl);
      if (result != 1)
        {
          if (!would_block (connection->ssl, result))
            {
              gen->connect_failures++;
              close_connection (gen, connection, FALSE);
            }
          return;
        }
      handshake_done (gen, connection, now);
    }
  if (connection->state != STATE_ACTIVE)
    return;
  if (!drain_reads (gen, connection, now))
    {
      if (!gen->stopping)
        gen->errors++; /* the server closed or reset the connection */
      close_connection (gen, connection, FALSE);
      return;
    }
  if (connection->state == STATE_ACTIVE && connection->unsent > 0
      && !flush_writes (gen, connection))
    {
      gen->errors++;
      close_connection (gen, connection, FALSE);
    }
}

static void
poll_once (LoadGen *gen, int timeout_ms)
{
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait (gen->epoll_fd, events, MAX_EVENTS, timeout_ms);
  gint64 now = loadgen_now_ns ();

  for (int i = 0; i < n; i++)
    handle_event (gen, &gen->connections[events[i].data.u64], events[i].events, now);
}

static gboolean
running (LoadGen *gen, gint64 until)
{
  gint64 now = loadgen_now_ns ();

  return now < until && now < gen->deadline;
}

static int
timeout_until (gint64 until)
{
  return (int) CLAMP ((until - loadgen_now_ns ()) / 1000000, 1, 100);
}

/* Echo and bulk: runs until @until, or until --total-bytes came back. */
static void
run_echo (LoadGen *gen, gint64 until)
{
  while (running (gen, until))
    {
      poll_once (gen, timeout_until (until));
      if (gen->total_bytes > 0 && gen->bytes_back >= gen->total_bytes)
        break;
    }
}

/* Handshakes: keeps --connections of them in flight until @until. */
static void
run_handshakes (LoadGen *gen, gint64 until)
{
  while (running (gen, until))
    {
      for (int i = 0; i < gen->n_slots && gen->n_busy < gen->n_connections; i++)
        if (gen->connections[i].state == STATE_CLOSED)
          open_connection (gen, i, ROLE_HANDSHAKE);
      poll_once (gen, timeout_until (until));
    }
}

/* Opens connections [first, last) with @role, at most @in_flight busy at a time, and waits
 * until none is busy or @until. */
static void
open_and_settle (LoadGen *gen, int first, int last, Role role, int in_flight, gint64 until)
{
  int next = first;

  while (running (gen, until))
    {
      while (next < last && gen->n_busy < in_flight)
        open_connection (gen, next++, role);
      if (next == last && gen->n_busy == 0)
        break;
      poll_once (gen, timeout_until (until));
    }
}

static int
count_state (LoadGen *gen, int first, int last, State state)
{
  int count = 0;

  for (int i = first; i < last; i++)
    count += gen->connections[i].state == state;
  return count;
}

static void
print_results (LoadGen *gen, double seconds, gint64 cpu_ns, gint64 rss_before, gint64 rss_after,
               int idle_open, gboolean synced, double setup_seconds)
{
  guint64 count = gen->handshake_mode ? gen->handshakes : gen->messages;

  printf (
      "{\"seconds\": %.4f, \"messages\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
      ", \"connects\": %" G_GUINT64_FORMAT ", \"rate\": %.1f, \"p50_us\": %.3f, "
      "\"p99_us\": %.3f, \"server_cpu_s\": %.4f, \"cpu_per_op_ns\": %.1f, "
      "\"rss_before_kb\": %" G_GINT64_FORMAT ", \"rss_after_kb\": %" G_GINT64_FORMAT
      ", \"idle_open\": %d, \"idle_synced\": %s, \"setup_s\": %.3f, \"errors\": %" G_GUINT64_FORMAT
      ", \"connect_failures\": %" G_GUINT64_FORMAT ", \"loadgen_cpu_s\": %.3f}\n",
      seconds, gen->messages, gen->bytes_back, gen->handshakes, seconds > 0 ? count / seconds : 0.0,
      loadgen_histogram_percentile_ns (&gen->round_trips, 0.50) / 1000.0,
      loadgen_histogram_percentile_ns (&gen->round_trips, 0.99) / 1000.0,
      cpu_ns < 0 ? -1.0 : cpu_ns / 1e9, cpu_ns < 0 || count == 0 ? -1.0 : (double) cpu_ns / count,
      rss_before, rss_after, idle_open, synced ? "true" : "false", setup_seconds, gen->errors,
      gen->connect_failures, loadgen_own_cpu_s ());
}

/* --idle: one connection first (the server's one-time costs), then the idle ones. */
static void
run_idle (LoadGen *gen)
{
  gint64 start = loadgen_now_ns (), until = start + loadgen_seconds_to_ns (gen->setup_timeout);
  gint64 rss_before, rss_after;
  int opened;

  open_and_settle (gen, 0, 1, ROLE_IDLE, 1, until);
  rss_before = loadgen_server_rss_kb (gen->pid);
  open_and_settle (gen, 1, 1 + gen->n_idle, ROLE_IDLE, IDLE_SETUPS_IN_FLIGHT, until);
  rss_after = loadgen_server_rss_kb (gen->pid);
  opened = count_state (gen, 1, 1 + gen->n_idle, STATE_IDLE);
  print_results (gen, 0, -1, rss_before, rss_after, opened,
                 gen->connections[0].state == STATE_IDLE && opened == gen->n_idle,
                 (loadgen_now_ns () - start) / 1e9);
}

static gboolean
check_options (LoadGen *gen, GError **error)
{
  if (gen->port <= 0 || gen->port > 65535)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--port is required");
  else if (gen->n_connections < 1 || gen->n_connections > MAX_CONNECTIONS || gen->n_idle < 0
           || gen->n_idle + 1 > MAX_CONNECTIONS)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--connections and --idle: 1 to %d", MAX_CONNECTIONS);
  else if (gen->size < 1 || gen->size > MAX_MESSAGE_SIZE)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--size: from 1 to %d bytes",
                 MAX_MESSAGE_SIZE);
  else if (gen->depth < 1 || gen->depth > MAX_DEPTH)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--depth: 1 to %d", MAX_DEPTH);
  else if (gen->duration <= 0 || gen->duration > MAX_SECONDS || gen->warmup < 0
           || gen->warmup > MAX_SECONDS || gen->setup_timeout <= 0
           || gen->setup_timeout > MAX_SECONDS)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "durations: positive, at most %.0f s", MAX_SECONDS);
  else if (gen->handshake_mode && gen->n_idle > 0)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--handshakes and --idle: one mode at a time");
  else
    return TRUE;
  return FALSE;
}

int
main (int argc, char **argv)
{
  LoadGen gen = { .n_connections = 1,
                  .size = 64,
                  .depth = 1,
                  .warmup = 0.5,
                  .duration = 3.0,
                  .setup_timeout = 10.0 };
  gint64 size = 64, total_bytes = 0;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &gen.port, "Server port on 127.0.0.1", "N" },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &gen.n_connections,
      "Connections (1); with --handshakes, handshakes in flight", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT64, &size, "Message size in bytes of plaintext (64)", "B" },
    { "depth", 'd', 0, G_OPTION_ARG_INT, &gen.depth, "Messages in flight per connection (1)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &gen.warmup, "Seconds before measuring (0.5)", "S" },
    { "duration", 't', 0, G_OPTION_ARG_DOUBLE, &gen.duration, "Seconds measured (3)", "S" },
    { "total-bytes", 'b', 0, G_OPTION_ARG_INT64, &total_bytes,
      "Stop once this many bytes came back (bulk)", "N" },
    { "handshakes", 0, 0, G_OPTION_ARG_NONE, &gen.handshake_mode,
      "Measure full handshakes per second", NULL },
    { "idle", 'i', 0, G_OPTION_ARG_INT, &gen.n_idle,
      "Measure the server's memory per idle connection, with this many", "N" },
    { "pid", 0, 0, G_OPTION_ARG_INT, &gen.pid, "Server process for CPU and memory", "PID" },
    { "setup-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &gen.setup_timeout,
      "Seconds allowed for the handshakes before the measurement (10)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- drive a TLS echo server");
  g_autoptr (GError) error = NULL;
  gint64 start, cpu_start, cpu_end, until;
  double seconds;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("loadgen-tls: %s\n", error->message);
      return 2;
    }
  gen.size = (gsize) CLAMP (size, 0, MAX_MESSAGE_SIZE + 1);
  gen.total_bytes = (guint64) MAX (total_bytes, 0);
  if (!check_options (&gen, &error) || (gen.context = client_context (&error)) == NULL)
    {
      g_printerr ("loadgen-tls: %s\n", error->message);
      return 2;
    }

  loadgen_raise_descriptor_limit ();
  gen.deadline = loadgen_now_ns ()
                 + loadgen_seconds_to_ns (gen.setup_timeout + 2 * gen.warmup + gen.duration + 10.0);
  gen.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  gen.n_slots = gen.n_idle > 0 ? gen.n_idle + 1 : gen.n_connections;
  gen.connections = g_new0 (Connection, gen.n_slots);
  for (int i = 0; i < gen.n_slots; i++)
    gen.connections[i] = (Connection){ .fd = -1, .state = STATE_CLOSED };
  gen.read_buffer = g_malloc (READ_BUFFER_SIZE);
  loadgen_histogram_init (&gen.round_trips);
  make_template (&gen);

  if (gen.n_idle > 0)
    {
      run_idle (&gen);
      return 0;
    }
  if (gen.handshake_mode)
    run_handshakes (&gen, loadgen_now_ns () + loadgen_seconds_to_ns (gen.warmup));
  else
    {
      /* Every connection completes its handshake first; then the traffic starts. */
      until = loadgen_now_ns () + loadgen_seconds_to_ns (gen.setup_timeout);
      open_and_settle (&gen, 0, gen.n_connections, ROLE_ECHO, CONNECTS_IN_FLIGHT, until);
      if (gen.n_ready < gen.n_connections)
        g_printerr ("loadgen-tls: %d of %d handshakes completed\n", gen.n_ready, gen.n_connections);
      for (int i = 0; i < gen.n_connections; i++)
        if (gen.connections[i].state == STATE_ACTIVE)
          start_traffic (&gen, &gen.connections[i], loadgen_now_ns ());
      if (gen.total_bytes == 0)
        run_echo (&gen, loadgen_now_ns () + loadgen_seconds_to_ns (gen.warmup));
    }

  gen.measuring = TRUE;
  cpu_start = loadgen_server_cpu_ns (gen.pid);
  start = loadgen_now_ns ();
  if (gen.handshake_mode)
    run_handshakes (&gen, start + loadgen_seconds_to_ns (gen.duration));
  else
    run_echo (&gen, start + loadgen_seconds_to_ns (gen.duration)); /* bulk: the time allowed */
  seconds = (loadgen_now_ns () - start) / 1e9;
  cpu_end = loadgen_server_cpu_ns (gen.pid);
  gen.stopping = TRUE;
  print_results (&gen, seconds, cpu_start < 0 ? -1 : cpu_end - cpu_start, -1, -1, 0, TRUE, 0);
  return 0;
}

/* chaos-proxy.c: a TCP proxy that cuts, delays, stalls, half-closes and resets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small afxsock program (and a module the chaos test links in). Between a client and a
 * server on loopback it forwards each direction in pieces of 1 byte to 64 KiB (log-uniform,
 * so one piece in four is at most 16 bytes), sometimes delays a piece, sometimes stalls a
 * direction for a while, and ends some connections badly: a reset of both sides in the
 * middle of a record, or a half-close toward the server in the middle of a record. Every
 * decision comes from one seeded generator, printed at start, so a run's decisions can be
 * replayed; the kernel's timing is not replayed, so the interleaving may differ.
 *
 * "In the middle of a record" needs the record framing of afxsock's record mode (a 4-byte
 * big-endian length, then the bytes): the proxy follows it in the client-to-server
 * direction, and fires a planned fault only when the bytes forwarded so far end inside a
 * record. Over TLS that framing is hidden: the proxy reads ciphertext as lengths, and its
 * faults land anywhere in the TLS stream (test-chaos-tls.c).
 *
 * A tap (chaos_proxy_set_tap) sees every piece forwarded, for a test that looks at the
 * stream (test-chaos-tls-relay.c counts its TLS records).
 *
 * The proxy itself follows MFC's rules: one receive per on_receive, and none while its
 * buffer for that direction is full (so a slow side pushes back on the other instead of
 * growing memory); a send that would block waits for on_send.
 *
 * Standalone:
 *   chaos-proxy --target 127.0.0.1:PORT [--listen PORT] [--seed N]
 */
#include "chaos-proxy.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_BUFFERED (256 * 1024)
#define RECEIVE_SIZE (64 * 1024)
#define HEADER_SIZE 4

typedef struct _Pair Pair;

typedef struct
{
  Pair *pair;
  gboolean to_server;
  GByteArray *buffer;    /* received from one side; from sent_offset on, not yet sent */
  gsize sent_offset;     /* the front already sent, dropped in bulk (1-byte pieces stay cheap) */
  gboolean source_ended; /* the sending side's end of stream was seen */
  gboolean shut;         /* the end of stream was passed on */
  gboolean discarding;   /* after a half-close: what still comes is dropped */
  gboolean read_paused;  /* buffer full: receive not called until it drains */
  gboolean blocked;      /* a send would-block: waiting for on_send */
  GSource *timer;        /* a delay, a stall, or a turn of the loop between pieces */
  /* Framing of what was forwarded (client to server only). */
  guint header_have;
  guint8 header[HEADER_SIZE];
  guint64 record_left;
} Direction;

struct _Pair
{
  ChaosProxy *proxy;
  CAsyncSocket *client; /* the accepted connection */
  CAsyncSocket *server; /* ours, to the target */
  Direction to_server;
  Direction to_client;
  gboolean connected;
  gboolean finished;
  guint client_port;
  guint upstream_port;
  guint64 forwarded; /* bytes sent to the server */
  gboolean fault_planned;
  ChaosEvent fault;
  guint64 fault_after;
};

struct _ChaosProxy
{
  ChaosConfig config;
  GRand *rand;
  CAsyncSocket *listener;
  char *target_host;
  guint target_port;
  GList *pairs;
  GSource *reaper;
  ChaosEventFunc event_func;
  gpointer event_data;
  ChaosTapFunc tap_func;
  gpointer tap_data;
  ChaosStats stats;
};

static void pump (Direction *dir);
static void read_from (Direction *dir);

void
chaos_config_init (ChaosConfig *config, guint32 seed)
{
  config->seed = seed;
  config->max_piece = 64 * 1024;
  config->reset_probability = 0.6;
  config->half_close_probability = 0.3;
  config->fault_within = 1024 * 1024;
  config->delay_probability = 0.01;
  config->max_delay_ms = 10;
  config->stall_probability = 0.002;
  config->min_stall_ms = 50;
  config->max_stall_ms = 300;
}

static CAsyncSocket *
source_of (Direction *dir)
{
  return dir->to_server ? dir->pair->client : dir->pair->server;
}

static CAsyncSocket *
sink_of (Direction *dir)
{
  return dir->to_server ? dir->pair->server : dir->pair->client;
}

static void
drop_timer (Direction *dir)
{
  if (dir->timer == NULL)
    return;
  g_source_destroy (dir->timer);
  g_clear_pointer (&dir->timer, g_source_unref);
}

/* Bytes received from one side and not yet sent to the other. */
static gsize
pending (Direction *dir)
{
  return dir->buffer->len - dir->sent_offset;
}

static gboolean
reap_pairs (gpointer data)
{
  ChaosProxy *proxy = data;
  GList *l = proxy->pairs;

  while (l != NULL)
    {
      GList *next = l->next;
      Pair *pair = l->data;

      if (pair->finished)
        {
          g_clear_object (&pair->client);
          g_clear_object (&pair->server);
          g_byte_array_unref (pair->to_server.buffer);
          g_byte_array_unref (pair->to_client.buffer);
          g_free (pair);
          proxy->pairs = g_list_delete_link (proxy->pairs, l);
        }
      l = next;
    }
  g_clear_pointer (&proxy->reaper, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* Ends the pair: closes both connections (already set to reset, or not) and frees the pair
 * from the main loop, since this may run inside one of its sockets' notifications. */
static void
finish (Pair *pair)
{
  ChaosProxy *proxy = pair->proxy;

  if (pair->finished)
    return;
  pair->finished = TRUE;
  drop_timer (&pair->to_server);
  drop_timer (&pair->to_client);
  c_async_socket_close (pair->client);
  c_async_socket_close (pair->server);
  if (proxy->reaper == NULL)
    {
      proxy->reaper = g_idle_source_new ();
      g_source_set_callback (proxy->reaper, reap_pairs, proxy, NULL);
      g_source_attach (proxy->reaper, NULL);
    }
}

static void
check_finished (Pair *pair)
{
  if (pair->to_server.shut && pair->to_client.shut && pair->to_server.source_ended
      && pair->to_client.source_ended)
    finish (pair);
}

static void
set_linger_zero (CAsyncSocket *socket)
{
  struct linger linger = { 1, 0 };
  c_async_socket_set_sock_opt (socket, SO_LINGER, &linger, sizeof linger, SOL_SOCKET, NULL);
}

static void
report (Pair *pair, ChaosEvent event)
{
  ChaosProxy *proxy = pair->proxy;

  if (proxy->event_func != NULL)
    proxy->event_func (event, pair->client_port, pair->upstream_port, proxy->event_data);
}

/* A reset of both sides: RST instead of FIN, whatever is in flight is lost. */
static void
reset_pair (Pair *pair, gboolean planned)
{
  if (planned)
    {
      pair->proxy->stats.resets++;
      report (pair, CHAOS_EVENT_RESET);
    }
  set_linger_zero (pair->client);
  set_linger_zero (pair->server);
  finish (pair);
}

/* The server's connection gets end of stream in the middle of a record; what the client
 * still sends is dropped. The server's close then ends the pair. */
static void
half_close (Pair *pair)
{
  Direction *dir = &pair->to_server;

  pair->proxy->stats.half_closes++;
  report (pair, CHAOS_EVENT_HALF_CLOSE);
  c_async_socket_shut_down (pair->server, C_SHUTDOWN_SENDS, NULL);
  dir->shut = TRUE;
  dir->discarding = TRUE;
  g_byte_array_set_size (dir->buffer, 0);
  dir->sent_offset = 0;
  if (dir->read_paused)
    {
      dir->read_paused = FALSE;
      read_from (dir); /* reading again, to drop it, until the client's end of stream */
    }
}

static gboolean
inside_record (Direction *dir)
{
  return dir->header_have > 0 || dir->record_left > 0;
}

/* Follows the record framing over @n forwarded bytes. */
static void
follow_framing (Direction *dir, const guint8 *data, gsize n)
{
  while (n > 0)
    {
      if (dir->record_left > 0)
        {
          gsize step = (gsize) MIN ((guint64) n, dir->record_left);
          dir->record_left -= step;
          data += step;
          n -= step;
          continue;
        }
      dir->header[dir->header_have++] = *data++;
      n--;
      if (dir->header_have == HEADER_SIZE)
        {
          dir->record_left = ((guint64) dir->header[0] << 24) | ((guint64) dir->header[1] << 16)
                             | ((guint64) dir->header[2] << 8) | dir->header[3];
          dir->header_have = 0;
        }
    }
}

static gsize
piece_size (ChaosProxy *proxy)
{
  double exponent
      = g_rand_double_range (proxy->rand, 0.0, log ((double) proxy->config.max_piece + 1));
  gsize size = (gsize) exp (exponent);

  return CLAMP (size, 1, proxy->config.max_piece);
}

static gboolean
timer_done (gpointer data)
{
  Direction *dir = data;

  g_clear_pointer (&dir->timer, g_source_unref);
  pump (dir);
  return G_SOURCE_REMOVE;
}

static void
start_timer (Direction *dir, GSource *source)
{
  g_assert (dir->timer == NULL);
  dir->timer = source;
  g_source_set_callback (source, timer_done, dir, NULL);
  g_source_attach (source, NULL);
}

/* After a piece: go on at once, after a turn of the loop, after a delay, or after a stall.
 * Returns TRUE to go on at once. */
static gboolean
pace (Direction *dir)
{
  ChaosProxy *proxy = dir->pair->proxy;
  double r = g_rand_double (proxy->rand);

  if (r < proxy->config.stall_probability)
    {
      proxy->stats.stalls++;
      start_timer (dir, g_timeout_source_new ((guint) g_rand_int_range (
                            proxy->rand, (gint32) proxy->config.min_stall_ms,
                            (gint32) proxy->config.max_stall_ms + 1)));
      return FALSE;
    }
  r -= proxy->config.stall_probability;
  if (r < proxy->config.delay_probability)
    {
      proxy->stats.delays++;
      start_timer (dir, g_timeout_source_new ((guint) g_rand_int_range (
                            proxy->rand, 1, (gint32) proxy->config.max_delay_ms + 1)));
      return FALSE;
    }
  if (g_rand_boolean (proxy->rand))
    {
      start_timer (dir, g_idle_source_new ());
      return FALSE;
    }
  return TRUE;
}

static gboolean
fault_due (Direction *dir)
{
  Pair *pair = dir->pair;

  return dir->to_server && pair->fault_planned && pair->forwarded >= pair->fault_after
         && inside_record (dir);
}

static void
fire_fault (Pair *pair)
{
  pair->fault_planned = FALSE;
  if (pair->fault == CHAOS_EVENT_RESET)
    reset_pair (pair, TRUE);
  else
    half_close (pair);
}

/* Sends one piece; returns FALSE when the direction must wait. */
static gboolean
send_piece (Direction *dir)
{
  ChaosProxy *proxy = dir->pair->proxy;
  gsize piece = piece_size (proxy);
  gsize n = MIN (piece, pending (dir));
  const guint8 *data = dir->buffer->data + dir->sent_offset;
  g_autoptr (GError) error = NULL;
  gssize sent = c_async_socket_send (sink_of (dir), data, n, 0, &error);

  if (sent < 0)
    {
      /* Would block: on_send says when. Anything else ends the connection, and on_close
       * says so. */
      dir->blocked = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      return FALSE;
    }
  if (dir->to_server)
    follow_framing (dir, data, (gsize) sent);
  if (proxy->tap_func != NULL)
    proxy->tap_func (dir->to_server, data, (gsize) sent, proxy->tap_data);
  dir->sent_offset += (gsize) sent;
  if (dir->sent_offset == dir->buffer->len || dir->sent_offset >= RECEIVE_SIZE)
    {
      g_byte_array_remove_range (dir->buffer, 0, (guint) dir->sent_offset);
      dir->sent_offset = 0;
    }
  proxy->stats.pieces++;
  proxy->stats.smallest_piece = MIN (proxy->stats.smallest_piece, (gsize) sent);
  proxy->stats.largest_piece = MAX (proxy->stats.largest_piece, (gsize) sent);
  if (dir->to_server)
    {
      dir->pair->forwarded += (guint64) sent;
      proxy->stats.bytes_to_server += (guint64) sent;
    }
  else
    proxy->stats.bytes_to_client += (guint64) sent;
  return TRUE;
}

static void
pump (Direction *dir)
{
  Pair *pair = dir->pair;

  while (!pair->finished && pair->connected && dir->timer == NULL && !dir->blocked
         && !dir->discarding && pending (dir) > 0)
    {
      if (fault_due (dir))
        {
          fire_fault (pair);
          return;
        }
      if (!send_piece (dir))
        return;
      if (dir->read_paused && pending (dir) < MAX_BUFFERED / 2)
        {
          /* Reading again pumps this direction itself (and may pace it): look afresh. */
          dir->read_paused = FALSE;
          read_from (dir);
          continue;
        }
      if (!pace (dir))
        return;
    }
  if (pair->finished || !pair->connected)
    return;
  if (pending (dir) == 0 && dir->read_paused)
    {
      dir->read_paused = FALSE;
      read_from (dir);
      return;
    }
  if (pending (dir) == 0 && dir->source_ended && !dir->shut)
    {
      c_async_socket_shut_down (sink_of (dir), C_SHUTDOWN_SENDS, NULL);
      dir->shut = TRUE;
    }
  check_finished (pair);
}

static void
read_from (Direction *dir)
{
  guint8 data[RECEIVE_SIZE];
  gssize n;

  if (pending (dir) >= MAX_BUFFERED)
    {
      dir->read_paused = TRUE; /* no receive, so no on_receive until we call it again */
      return;
    }
  n = c_async_socket_receive (source_of (dir), data, sizeof data, 0, NULL);
  if (n == 0)
    dir->source_ended = TRUE;
  else if (n > 0 && !dir->discarding)
    g_byte_array_append (dir->buffer, data, (guint) n);
  if (n >= 0)
    pump (dir);
}

static Direction *
direction_from (Pair *pair, CAsyncSocket *socket)
{
  return socket == pair->client ? &pair->to_server : &pair->to_client;
}

static Direction *
direction_to (Pair *pair, CAsyncSocket *socket)
{
  return socket == pair->server ? &pair->to_server : &pair->to_client;
}

static void
on_receive (CAsyncSocket *socket, int error_code, gpointer data)
{
  read_from (direction_from (data, socket));
}

static void
on_send (CAsyncSocket *socket, int error_code, gpointer data)
{
  Direction *dir = direction_to (data, socket);

  dir->blocked = FALSE;
  pump (dir);
}

static void
on_close (CAsyncSocket *socket, int error_code, gpointer data)
{
  Pair *pair = data;
  Direction *dir = direction_from (pair, socket);

  if (error_code != 0)
    {
      /* One side reset, or failed: pass the reset on. */
      reset_pair (pair, FALSE);
      return;
    }
  dir->source_ended = TRUE;
  pump (dir);
}

static void
on_connect (CAsyncSocket *socket, int error_code, gpointer data)
{
  Pair *pair = data;

  if (error_code != 0)
    {
      reset_pair (pair, FALSE);
      return;
    }
  pair->connected = TRUE;
  pump (&pair->to_server);
  if (!pair->finished)
    pump (&pair->to_client);
}

static void
set_no_delay (CAsyncSocket *socket)
{
  c_async_socket_set_sock_opt_int (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
watch (Pair *pair, CAsyncSocket *socket)
{
  g_signal_connect (socket, "receive", G_CALLBACK (on_receive), pair);
  g_signal_connect (socket, "send", G_CALLBACK (on_send), pair);
  g_signal_connect (socket, "close", G_CALLBACK (on_close), pair);
}

static void
init_direction (Direction *dir, Pair *pair, gboolean to_server)
{
  dir->pair = pair;
  dir->to_server = to_server;
  dir->buffer = g_byte_array_new ();
}

static void
plan_fault (ChaosProxy *proxy, Pair *pair)
{
  double r = g_rand_double (proxy->rand);

  if (r < proxy->config.reset_probability)
    pair->fault = CHAOS_EVENT_RESET;
  else if (r < proxy->config.reset_probability + proxy->config.half_close_probability)
    pair->fault = CHAOS_EVENT_HALF_CLOSE;
  else
    return;
  pair->fault_planned = TRUE;
  pair->fault_after
      = (guint64) g_rand_double_range (proxy->rand, 0, (double) proxy->config.fault_within);
}

static void
on_accept (CAsyncSocket *listener, int error_code, gpointer data)
{
  ChaosProxy *proxy = data;
  Pair *pair = g_new0 (Pair, 1);
  g_autoptr (GError) error = NULL;

  pair->proxy = proxy;
  pair->client = c_async_socket_new ();
  pair->server = c_async_socket_new ();
  init_direction (&pair->to_server, pair, TRUE);
  init_direction (&pair->to_client, pair, FALSE);
  proxy->pairs = g_list_prepend (proxy->pairs, pair);
  if (!c_async_socket_accept (listener, pair->client, NULL, &error))
    {
      finish (pair); /* nothing accepted: the reaper frees the pair */
      return;
    }
  proxy->stats.connections++;
  watch (pair, pair->client);
  watch (pair, pair->server);
  g_signal_connect (pair->server, "connect", G_CALLBACK (on_connect), pair);
  set_no_delay (pair->client);
  c_async_socket_get_peer_name (pair->client, NULL, &pair->client_port, NULL);
  if (!c_async_socket_create (pair->server, 0, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1", &error)
      || !c_async_socket_get_sock_name (pair->server, NULL, &pair->upstream_port, &error)
      || !c_async_socket_connect (pair->server, proxy->target_host, proxy->target_port, &error))
    {
      g_warning ("chaos-proxy: cannot reach the server: %s", error->message);
      reset_pair (pair, FALSE);
      return;
    }
  set_no_delay (pair->server);
  plan_fault (proxy, pair);
}

ChaosProxy *
chaos_proxy_new (const ChaosConfig *config, guint listen_port, const char *target_host,
                 guint target_port, GError **error)
{
  ChaosProxy *proxy = g_new0 (ChaosProxy, 1);

  proxy->config = *config;
  proxy->rand = g_rand_new_with_seed (config->seed);
  proxy->target_host = g_strdup (target_host);
  proxy->target_port = target_port;
  proxy->stats.smallest_piece = G_MAXSIZE;
  proxy->listener = c_async_socket_new ();
  g_signal_connect (proxy->listener, "accept", G_CALLBACK (on_accept), proxy);
  if (!c_async_socket_create (proxy->listener, listen_port, C_SOCK_STREAM, C_FD_ALL, "127.0.0.1",
                              error)
      || !c_async_socket_listen (proxy->listener, 128, error))
    {
      chaos_proxy_free (proxy);
      return NULL;
    }
  return proxy;
}

void
chaos_proxy_free (ChaosProxy *proxy)
{
  for (GList *l = proxy->pairs; l != NULL; l = l->next)
    finish (l->data);
  if (proxy->reaper != NULL)
    g_source_destroy (proxy->reaper);
  reap_pairs (proxy);
  g_clear_object (&proxy->listener);
  g_rand_free (proxy->rand);
  g_free (proxy->target_host);
  g_free (proxy);
}

guint
chaos_proxy_get_port (ChaosProxy *proxy)
{
  guint port = 0;

  c_async_socket_get_sock_name (proxy->listener, NULL, &port, NULL);
  return port;
}

void
chaos_proxy_set_event_func (ChaosProxy *proxy, ChaosEventFunc func, gpointer user_data)
{
  proxy->event_func = func;
  proxy->event_data = user_data;
}

void
chaos_proxy_get_stats (ChaosProxy *proxy, ChaosStats *stats)
{
  *stats = proxy->stats;
  if (stats->pieces == 0)
    stats->smallest_piece = 0;
}

void
chaos_proxy_set_tap (ChaosProxy *proxy, ChaosTapFunc func, gpointer user_data)
{
  proxy->tap_func = func;
  proxy->tap_data = user_data;
}

guint
chaos_proxy_get_open_pairs (ChaosProxy *proxy)
{
  guint open = 0;

  for (GList *l = proxy->pairs; l != NULL; l = l->next)
    open += !((Pair *) l->data)->finished;
  return open;
}

#ifdef CHAOS_PROXY_MAIN

#include <glib-unix.h>

static void
print_event (ChaosEvent event, guint client_port, guint upstream_port, gpointer data)
{
  printf ("%s client-port %u upstream-port %u\n",
          event == CHAOS_EVENT_RESET ? "reset" : "half-close", client_port, upstream_port);
  fflush (stdout);
}

static gboolean
quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *target = NULL;
  gint64 seed = -1;
  gint listen_port = 0;
  GOptionEntry entries[] = {
    { "target", 't', 0, G_OPTION_ARG_STRING, &target, "Where to forward (HOST:PORT)", "HOST:PORT" },
    { "listen", 'l', 0, G_OPTION_ARG_INT, &listen_port, "Port to listen on (default: any)",
      "PORT" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the decisions (default: random)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("- afxsock's chaos proxy");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *host = NULL;
  const char *colon;
  ChaosConfig config;
  ChaosProxy *proxy;
  ChaosStats stats;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  if (target == NULL || (colon = strrchr (target, ':')) == NULL)
    {
      fprintf (stderr, "chaos-proxy: --target HOST:PORT is required\n");
      return 2;
    }
  host = g_strndup (target, (gsize) (colon - target));
  if (seed < 0)
    seed = g_random_int ();
  chaos_config_init (&config, (guint32) seed);
  proxy = chaos_proxy_new (&config, (guint) listen_port, host, (guint) atoi (colon + 1), &error);
  if (proxy == NULL)
    {
      fprintf (stderr, "chaos-proxy: %s\n", error->message);
      return 1;
    }
  chaos_proxy_set_event_func (proxy, print_event, NULL);
  printf ("chaos-proxy: seed %u, listening on 127.0.0.1:%u, forwarding to %s\n", config.seed,
          chaos_proxy_get_port (proxy), target);
  fflush (stdout);
  g_unix_signal_add (SIGINT, quit, loop);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_main_loop_run (loop);
  chaos_proxy_get_stats (proxy, &stats);
  printf ("chaos-proxy: %u connections, %" G_GUINT64_FORMAT " pieces, %u delays, %u stalls, %u "
          "resets, %u half-closes\n",
          stats.connections, stats.pieces, stats.delays, stats.stalls, stats.resets,
          stats.half_closes);
  chaos_proxy_free (proxy);
  return 0;
}

#endif

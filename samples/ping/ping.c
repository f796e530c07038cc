/* ping.c: ICMP echo, like ping(8), with a raw CAsyncSocket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   ping [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [--datagram] HOST
 *
 * Sends ICMP echo requests to HOST (an IPv4 address or name, and nothing else) every
 * INTERVAL seconds (default 1), prints each reply with its round-trip time, and a summary
 * at the end (after COUNT requests and TIMEOUT more seconds for the last replies, or on
 * Ctrl-C). Exits with 0 if any reply came, 1 if none, 2 on errors.
 *
 * A raw ICMP socket needs CAP_NET_RAW. Without it, ping falls back to an ICMP datagram
 * socket ("ping socket"), which Linux allows to the groups in net.ipv4.ping_group_range;
 * the kernel then fills in the identifier and the checksum and hands us only the replies
 * to our own requests, without their IP header (so no TTL is shown). --datagram uses that
 * kind directly.
 */
#include <afxsock.h>
#include <glib-unix.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sample-options.h"

#define PAYLOAD_SIZE 56 /* ping(8)'s default: 64 bytes of ICMP */
#define PACKET_SIZE (sizeof (struct icmphdr) + PAYLOAD_SIZE)

#define PING_TYPE_SOCKET (ping_socket_get_type ())
G_DECLARE_FINAL_TYPE (PingSocket, ping_socket, PING, SOCKET, CAsyncSocket)

struct _PingSocket
{
  CAsyncSocket parent_instance;
  gboolean raw; /* raw socket (IP header included) or ICMP datagram socket */
  GInetAddress *target;
  char *target_text;  /* as given */
  char *from_text;    /* for replies: "127.0.0.1", or "localhost (127.0.0.1)" */
  guint16 identifier; /* raw sockets: ours to choose; datagram sockets: the kernel's */
  guint count;        /* requests to send, 0: until interrupted */
  guint interval_ms;
  guint linger_s; /* how long to wait for replies after the last request */
  guint sent, received, duplicates;
  guint8 seen[65536 / 8]; /* sequence numbers answered, to spot duplicates */
  double min_ms, max_ms, sum_ms, sum_squares;
  gint64 started;
  guint timer;
  int status;
  GMainLoop *loop;
};

G_DEFINE_FINAL_TYPE (PingSocket, ping_socket, C_TYPE_ASYNC_SOCKET)

/* RFC 1071: the ones' complement of the ones' complement sum of the 16-bit words. */
static guint16
internet_checksum (const guint8 *data, gsize length)
{
  guint32 sum = 0;

  for (gsize i = 0; i + 1 < length; i += 2)
    sum += (guint32) (data[i] << 8 | data[i + 1]);
  if (length % 2 == 1)
    sum += (guint32) data[length - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return g_htons ((guint16) ~sum);
}

static void
print_summary (PingSocket *self)
{
  guint lost = self->sent - MIN (self->received, self->sent);
  gint64 elapsed_ms = (g_get_monotonic_time () - self->started) / 1000;

  g_print ("\n--- %s ping statistics ---\n", self->target_text);
  g_print ("%u packets transmitted, %u received", self->sent, self->received);
  if (self->duplicates > 0)
    g_print (", +%u duplicates", self->duplicates);
  g_print (", %u%% packet loss, time %" G_GINT64_FORMAT "ms\n",
           self->sent > 0 ? lost * 100 / self->sent : 0, elapsed_ms);
  if (self->received > 0)
    {
      double average = self->sum_ms / self->received;
      double deviation = sqrt (MAX (0.0, self->sum_squares / self->received - average * average));
      g_print ("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", self->min_ms, average,
               self->max_ms, deviation);
    }
}

static void
finish (PingSocket *self, int status)
{
  if (self->timer != 0)
    g_source_remove (self->timer);
  self->timer = 0;
  print_summary (self);
  self->status = status;
  g_main_loop_quit (self->loop);
}

static gboolean
on_linger_done (gpointer data)
{
  PingSocket *self = data;

  self->timer = 0;
  finish (self, self->received > 0 ? 0 : 1);
  return G_SOURCE_REMOVE;
}

/* Sends one echo request: the send time rides in the payload, as ping(8) does it. */
static gboolean
send_request (gpointer data)
{
  PingSocket *self = data;
  guint8 packet[PACKET_SIZE] = { 0 };
  struct icmphdr *header = (struct icmphdr *) packet;
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (self->target, 0);
  g_autoptr (GError) error = NULL;

  header->type = ICMP_ECHO;
  header->un.echo.id = g_htons (self->identifier);
  header->un.echo.sequence = g_htons ((guint16) (self->sent + 1));
  memcpy (packet + sizeof *header, &now, sizeof now);
  for (gsize i = sizeof *header + sizeof now; i < sizeof packet; i++)
    packet[i] = (guint8) i;
  header->checksum = internet_checksum (packet, sizeof packet);

  /* The port of the address means nothing to ICMP. */
  if (c_async_socket_send_to_address (C_ASYNC_SOCKET (self), packet, sizeof packet, address, 0,
                                      &error)
      < 0)
    g_printerr ("ping: icmp_seq=%u: %s\n", self->sent + 1, error->message);
  self->sent++;

  if (self->count == 0 || self->sent < self->count)
    return G_SOURCE_CONTINUE;
  /* That was the last one: wait a little for the replies still on their way. */
  self->timer = self->received >= self->count
                    ? 0
                    : g_timeout_add_seconds (self->linger_s, on_linger_done, self);
  if (self->timer == 0)
    finish (self, 0);
  return G_SOURCE_REMOVE;
}

/* Finds the ICMP message in what the socket received: raw sockets deliver the IP header
 * too, where the TTL is; datagram sockets deliver the ICMP message alone. */
static const struct icmphdr *
parse_reply (PingSocket *self, const guint8 *data, gsize size, gsize *icmp_size, int *ttl)
{
  gsize header_size = 0;

  *ttl = -1;
  if (self->raw)
    {
      if (size < 20 || (data[0] >> 4) != 4)
        return NULL;
      header_size = (gsize) (data[0] & 0x0f) * 4;
      *ttl = data[8];
    }
  if (size < header_size + sizeof (struct icmphdr))
    return NULL;
  *icmp_size = size - header_size;
  return (const struct icmphdr *) (data + header_size);
}

static void
note_round_trip (PingSocket *self, double ms)
{
  self->min_ms = self->received == 0 ? ms : MIN (self->min_ms, ms);
  self->max_ms = MAX (self->max_ms, ms);
  self->sum_ms += ms;
  self->sum_squares += ms * ms;
  self->received++;
}

static void
ping_socket_on_receive (CAsyncSocket *socket, int error_code)
{
  PingSocket *self = PING_SOCKET (socket);
  guint8 buffer[1500];
  g_autoptr (GSocketAddress) from = NULL;
  g_autoptr (GError) error = NULL;
  gssize n = c_async_socket_receive_from_address (socket, buffer, sizeof buffer, &from, 0, &error);
  const struct icmphdr *reply;
  gsize icmp_size;
  guint16 sequence;
  gint64 sent_at;
  double round_trip_ms;
  int ttl;

  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_printerr ("ping: %s\n", error->message);
      return;
    }
  /* A raw socket sees every ICMP message of the machine: keep only the echo replies to our
   * own requests, from the target. */
  reply = parse_reply (self, buffer, (gsize) n, &icmp_size, &ttl);
  if (reply == NULL || reply->type != ICMP_ECHOREPLY || icmp_size < sizeof *reply + sizeof sent_at
      || !G_IS_INET_SOCKET_ADDRESS (from)
      || !g_inet_address_equal (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)),
                                self->target)
      || (self->raw && g_ntohs (reply->un.echo.id) != self->identifier))
    return;

  sequence = g_ntohs (reply->un.echo.sequence);
  memcpy (&sent_at, (const guint8 *) reply + sizeof *reply, sizeof sent_at);
  round_trip_ms = (double) (g_get_monotonic_time () - sent_at) / 1000.0;
  g_print ("%zu bytes from %s: icmp_seq=%u", icmp_size, self->from_text, sequence);
  if (ttl >= 0)
    g_print (" ttl=%d", ttl);
  g_print (" time=%.3f ms", round_trip_ms);
  if (self->seen[sequence / 8] & (1u << (sequence % 8)))
    {
      g_print (" (DUP!)\n");
      self->duplicates++;
      return;
    }
  g_print ("\n");
  self->seen[sequence / 8] |= (guint8) (1u << (sequence % 8));
  note_round_trip (self, round_trip_ms);

  if (self->count > 0 && self->sent >= self->count && self->received >= self->count)
    finish (self, 0);
}

static void
ping_socket_finalize (GObject *object)
{
  PingSocket *self = PING_SOCKET (object);

  g_clear_object (&self->target);
  g_free (self->target_text);
  g_free (self->from_text);
  G_OBJECT_CLASS (ping_socket_parent_class)->finalize (object);
}

static void
ping_socket_class_init (PingSocketClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ping_socket_finalize;
  C_ASYNC_SOCKET_CLASS (klass)->on_receive = ping_socket_on_receive;
}

static void
ping_socket_init (PingSocket *self)
{
}

/* Opening: raw if permitted, else the unprivileged datagram kind. */
static gboolean
open_icmp_socket (PingSocket *self, gboolean datagram_only, GError **error)
{
  g_autoptr (GError) raw_error = NULL;
  g_autoptr (GError) datagram_error = NULL;
  CAsyncSocket *socket = C_ASYNC_SOCKET (self);

  if (!datagram_only
      && c_async_socket_socket (socket, C_SOCK_RAW, C_FD_READ, IPPROTO_ICMP, G_SOCKET_FAMILY_IPV4,
                                &raw_error))
    {
      self->raw = TRUE;
      self->identifier = (guint16) getpid ();
      return TRUE;
    }
  if (c_async_socket_socket (socket, C_SOCK_DGRAM, C_FD_READ, IPPROTO_ICMP, G_SOCKET_FAMILY_IPV4,
                             &datagram_error))
    return TRUE;

  if (g_error_matches (datagram_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
      && (raw_error == NULL
          || g_error_matches (raw_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "ICMP sockets are not permitted here: %s%s%sdatagram socket: %s (needs a group "
                 "of yours in net.ipv4.ping_group_range)",
                 raw_error ? "raw socket: " : "", raw_error ? raw_error->message : "",
                 raw_error ? " (needs CAP_NET_RAW); " : "", datagram_error->message);
  else if (raw_error != NULL)
    g_propagate_error (error, g_steal_pointer (&raw_error));
  else
    g_propagate_error (error, g_steal_pointer (&datagram_error));
  return FALSE;
}

/* Starting, once the name is resolved (without blocking the main loop). */
static void
on_resolved (GObject *source, GAsyncResult *result, gpointer data)
{
  PingSocket *self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *numeric = NULL;
  GList *addresses
      = g_resolver_lookup_by_name_with_flags_finish (G_RESOLVER (source), result, &error);

  if (addresses == NULL)
    {
      g_printerr ("ping: %s\n", error->message);
      self->status = 2;
      g_main_loop_quit (self->loop);
      return;
    }
  self->target = g_object_ref (addresses->data);
  g_resolver_free_addresses (addresses);
  numeric = g_inet_address_to_string (self->target);
  self->from_text = g_str_equal (numeric, self->target_text)
                        ? g_strdup (numeric)
                        : g_strdup_printf ("%s (%s)", self->target_text, numeric);
  g_print ("PING %s (%s) %d(%zu) bytes of data.\n", self->target_text, numeric, PAYLOAD_SIZE,
           PACKET_SIZE + 20);
  self->started = g_get_monotonic_time ();
  if (send_request (self))
    self->timer = g_timeout_add (self->interval_ms, send_request, self);
}

static gboolean
on_interrupt (gpointer data)
{
  PingSocket *self = data;

  finish (self, self->received > 0 ? 0 : 1);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  int count = 0, linger = 2;
  double interval = 1.0;
  gboolean datagram_only = FALSE;
  GOptionEntry entries[] = {
    { "count", 'c', 0, G_OPTION_ARG_INT, &count, "Stop after COUNT requests", "COUNT" },
    { "interval", 'i', 0, G_OPTION_ARG_DOUBLE, &interval, "Seconds between requests (default 1)",
      "INTERVAL" },
    { "timeout", 'W', 0, G_OPTION_ARG_INT, &linger,
      "Seconds to wait for replies after the last request (default 2)", "TIMEOUT" },
    { "datagram", 'd', 0, G_OPTION_ARG_NONE, &datagram_only,
      "Use an ICMP datagram socket, not a raw one", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) options = g_option_context_new ("HOST - send ICMP echo requests");
  g_autoptr (GError) error = NULL;
  g_autoptr (PingSocket) self = NULL;
  g_autoptr (GResolver) resolver = NULL;
  int status;

  setlocale (LC_ALL, ""); /* text in the locale's encoding: GLib converts (sample-options.h) */
  g_option_context_add_main_entries (options, entries, NULL);
  sample_add_version_option (options);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("ping: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || count < 0 || linger < 0 || !(interval >= 0.01 && interval <= 3600))
    {
      g_printerr ("ping: one HOST is needed; COUNT and TIMEOUT are not negative; INTERVAL is "
                  "0.01 to 3600 seconds\n");
      return 2;
    }

  self = g_object_new (PING_TYPE_SOCKET, NULL);
  if (!open_icmp_socket (self, datagram_only, &error))
    {
      g_printerr ("ping: %s\n", error->message);
      return 2;
    }
  self->target_text = g_strdup (argv[1]);
  self->count = (guint) count;
  self->interval_ms = (guint) (interval * 1000);
  self->linger_s = (guint) linger;
  self->loop = g_main_loop_new (NULL, FALSE);

  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_with_flags_async (
      resolver, argv[1], G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY, NULL, on_resolved, self);
  g_unix_signal_add (SIGINT, on_interrupt, self);
  g_main_loop_run (self->loop);
  status = self->status;
  g_main_loop_unref (self->loop);
  return status;
}

/* chaos-proxy.h: a TCP proxy that cuts, delays, stalls, half-closes and resets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock.h>

G_BEGIN_DECLS

typedef struct _ChaosProxy ChaosProxy;

/* What the proxy may do, from one seed. Probabilities are per connection (the faults that
 * end it) or per piece forwarded (delays and stalls). */
typedef struct
{
  guint32 seed;
  gsize max_piece;               /* pieces are 1 byte to this, log-uniform (64 KiB) */
  double reset_probability;      /* a connection is reset mid-record */
  double half_close_probability; /* a connection is half-closed toward the server mid-record */
  gsize fault_within;            /* … after 0 to this many client bytes */
  double delay_probability;      /* a piece waits 1 to max_delay_ms */
  guint max_delay_ms;
  double stall_probability; /* a direction stops for min_stall_ms to max_stall_ms */
  guint min_stall_ms;
  guint max_stall_ms;
} ChaosConfig;

typedef enum
{
  CHAOS_EVENT_RESET,      /* both connections of a pair reset (RST) in the middle of a record */
  CHAOS_EVENT_HALF_CLOSE, /* the server's connection half-closed in the middle of a record */
} ChaosEvent;

/* Called when the proxy does a fault, before it reaches the endpoints: @client_port is the
 * client's local port, @upstream_port the proxy's local port toward the server (the peer
 * port the server sees). */
typedef void (*ChaosEventFunc) (ChaosEvent event, guint client_port, guint upstream_port,
                                gpointer user_data);

/* Called with each piece the proxy forwarded, in order, for a test to look at the stream
 * (the TLS records in it, say). */
typedef void (*ChaosTapFunc) (gboolean to_server, const guint8 *data, gsize size,
                              gpointer user_data);

typedef struct
{
  guint connections;
  guint64 bytes_to_server;
  guint64 bytes_to_client;
  guint64 pieces;
  gsize smallest_piece;
  gsize largest_piece;
  guint delays;
  guint stalls;
  guint resets;
  guint half_closes;
} ChaosStats;

void chaos_config_init (ChaosConfig *config, guint32 seed);

/* Listens on 127.0.0.1:@listen_port (0 for any) and forwards each connection to
 * @target_host:@target_port, on the thread-default main context. */
ChaosProxy *chaos_proxy_new (const ChaosConfig *config, guint listen_port, const char *target_host,
                             guint target_port, GError **error);
void chaos_proxy_free (ChaosProxy *proxy);
guint chaos_proxy_get_port (ChaosProxy *proxy);
void chaos_proxy_set_event_func (ChaosProxy *proxy, ChaosEventFunc func, gpointer user_data);
void chaos_proxy_set_tap (ChaosProxy *proxy, ChaosTapFunc func, gpointer user_data);
void chaos_proxy_get_stats (ChaosProxy *proxy, ChaosStats *stats);
/* Connection pairs not finished yet. */
guint chaos_proxy_get_open_pairs (ChaosProxy *proxy);

G_END_DECLS

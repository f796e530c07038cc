/* c-async-socket-properties.c: CAsyncSocket's GObject properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each read-only property reads the socket's own state ("context" is set once at
 * construction); the connect settings (connect-timeout, connect-attempt-delay) have
 * accessors of their own, here, and are notified when they change.
 */
#include "config.h"

#include "c-async-socket-private.h"

enum
{
  PROP_0,
  PROP_CONTEXT,
  PROP_HANDLE,
  PROP_EVENTS,
  PROP_FAMILY,
  PROP_SOCKET_TYPE,
  PROP_LISTENING,
  PROP_CONNECTED,
  PROP_STATS,
  PROP_BYTES_SENT,
  PROP_BYTES_RECEIVED,
  PROP_LOCAL_ADDRESS,
  PROP_PEER_ADDRESS,
  PROP_CONNECT_TIMEOUT,
  PROP_CONNECT_ATTEMPT_DELAY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
c_async_socket_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CAsyncSocket *self = C_ASYNC_SOCKET (object);
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  switch (prop_id)
    {
      case PROP_CONTEXT:
        g_value_set_boxed (value, priv->context);
        break;
      case PROP_HANDLE:
        g_value_set_int (value, priv->fd);
        break;
      case PROP_EVENTS:
        g_value_set_flags (value, priv->events);
        break;
      case PROP_FAMILY:
        g_value_set_enum (value, priv->family);
        break;
      case PROP_SOCKET_TYPE:
        g_value_set_enum (value, priv->fd >= 0 ? priv->type : C_SOCK_STREAM);
        break;
      case PROP_LISTENING:
        g_value_set_boolean (value, priv->listening);
        break;
      case PROP_CONNECTED:
        g_value_set_boolean (value, priv->connected);
        break;
      case PROP_STATS:
        g_value_set_boxed (value, &priv->stats);
        break;
      case PROP_BYTES_SENT:
        g_value_set_uint64 (value, priv->stats.bytes_sent);
        break;
      case PROP_BYTES_RECEIVED:
        g_value_set_uint64 (value, priv->stats.bytes_received);
        break;
      case PROP_LOCAL_ADDRESS:
        g_value_take_object (value, c_async_socket_get_sock_address (self, NULL));
        break;
      case PROP_PEER_ADDRESS:
        g_value_take_object (value, c_async_socket_get_peer_address (self, NULL));
        break;
      case PROP_CONNECT_TIMEOUT:
        g_value_set_uint (value, priv->connect_timeout_ms);
        break;
      case PROP_CONNECT_ATTEMPT_DELAY:
        g_value_set_uint (value, priv->attempt_delay_ms);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
c_async_socket_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (C_ASYNC_SOCKET (object));

  switch (prop_id)
    {
      case PROP_CONTEXT:
        if (g_value_get_boxed (value) != NULL)
          priv->context = g_main_context_ref (g_value_get_boxed (value));
        break;
      case PROP_CONNECT_TIMEOUT:
        c_async_socket_set_connect_timeout (C_ASYNC_SOCKET (object), g_value_get_uint (value));
        break;
      case PROP_CONNECT_ATTEMPT_DELAY:
        c_async_socket_set_connect_attempt_delay (C_ASYNC_SOCKET (object),
                                                  g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
c_async_socket_install_properties (GObjectClass *object_class)
{
  object_class->get_property = c_async_socket_get_property;
  object_class->set_property = c_async_socket_set_property;

  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  /**
   * CAsyncSocket:context:
   *
   * The main context whose loop delivers this socket's notifications; by default the
   * thread-default context at construction.
   */
  properties[PROP_CONTEXT]
      = g_param_spec_boxed ("context", NULL, NULL, G_TYPE_MAIN_CONTEXT,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * CAsyncSocket:handle:
   *
   * The descriptor, or %C_INVALID_SOCKET.
   */
  properties[PROP_HANDLE] = g_param_spec_int ("handle", NULL, NULL, -1, G_MAXINT, -1, ro);
  /**
   * CAsyncSocket:events:
   *
   * The notifications asked for with c_async_socket_async_select().
   */
  properties[PROP_EVENTS]
      = g_param_spec_flags ("events", NULL, NULL, C_TYPE_SOCKET_EVENTS, C_FD_NONE, ro);
  /**
   * CAsyncSocket:family:
   *
   * The address family.
   */
  properties[PROP_FAMILY]
      = g_param_spec_enum ("family", NULL, NULL, G_TYPE_SOCKET_FAMILY, G_SOCKET_FAMILY_INVALID, ro);
  /**
   * CAsyncSocket:socket-type:
   *
   * Stream, datagram, raw or sequenced packets.
   */
  properties[PROP_SOCKET_TYPE]
      = g_param_spec_enum ("socket-type", NULL, NULL, C_TYPE_SOCKET_TYPE, C_SOCK_STREAM, ro);
  /**
   * CAsyncSocket:listening:
   *
   * Whether c_async_socket_listen() succeeded.
   */
  properties[PROP_LISTENING] = g_param_spec_boolean ("listening", NULL, NULL, FALSE, ro);
  /**
   * CAsyncSocket:connected:
   *
   * Whether a connection (or default peer) is established.
   */
  properties[PROP_CONNECTED] = g_param_spec_boolean ("connected", NULL, NULL, FALSE, ro);
  /**
   * CAsyncSocket:stats:
   *
   * The connection's accounting (#CSocketStats).
   */
  properties[PROP_STATS] = g_param_spec_boxed ("stats", NULL, NULL, C_TYPE_SOCKET_STATS, ro);
  /**
   * CAsyncSocket:bytes-sent:
   *
   * Bytes sent so far.
   */
  properties[PROP_BYTES_SENT]
      = g_param_spec_uint64 ("bytes-sent", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /**
   * CAsyncSocket:bytes-received:
   *
   * Bytes received so far.
   */
  properties[PROP_BYTES_RECEIVED]
      = g_param_spec_uint64 ("bytes-received", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /**
   * CAsyncSocket:local-address:
   *
   * The bound address, if any.
   */
  properties[PROP_LOCAL_ADDRESS]
      = g_param_spec_object ("local-address", NULL, NULL, G_TYPE_SOCKET_ADDRESS, ro);
  /**
   * CAsyncSocket:peer-address:
   *
   * The connected peer's address, if any.
   */
  properties[PROP_PEER_ADDRESS]
      = g_param_spec_object ("peer-address", NULL, NULL, G_TYPE_SOCKET_ADDRESS, ro);

  /**
   * CAsyncSocket:connect-timeout:
   *
   * Milliseconds a connect may take, from c_async_socket_connect() to `on_connect`
   * (resolution, every attempt and, with TLS from the start, the handshake), before it is
   * given up with `on_connect (ETIMEDOUT)`; c_async_socket_get_close_error() then says
   * "connect to HOST:PORT: timed out after N ms". 0, the default, leaves the limit to the
   * kernel (about two minutes for TCP). Read when a connect starts. A #CSocket's blocking
   * connect ends at whichever comes first, this or #CSocket:timeout.
   */
  properties[PROP_CONNECT_TIMEOUT]
      = g_param_spec_uint ("connect-timeout", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * CAsyncSocket:connect-attempt-delay:
   *
   * RFC 8305's connection attempt delay, in milliseconds: how long a connect by host name
   * gives one attempt before starting the next address's beside it (the earlier ones go
   * on). 250 by default; 10 to 60000.
   */
  properties[PROP_CONNECT_ATTEMPT_DELAY]
      = g_param_spec_uint ("connect-attempt-delay", NULL, NULL, C_ATTEMPT_DELAY_MIN_MS,
                           C_ATTEMPT_DELAY_MAX_MS, C_ATTEMPT_DELAY_DEFAULT_MS,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/**
 * c_async_socket_set_connect_timeout:
 * @self: a socket
 * @timeout_ms: milliseconds, 0 for no limit
 *
 * Sets #CAsyncSocket:connect-timeout, for the connects started afterwards.
 */
void
c_async_socket_set_connect_timeout (CAsyncSocket *self, guint timeout_ms)
{
  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  if (c_async_socket_get_private (self)->connect_timeout_ms == timeout_ms)
    return;
  c_async_socket_get_private (self)->connect_timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECT_TIMEOUT]);
}

/**
 * c_async_socket_get_connect_timeout:
 * @self: a socket
 *
 * The time a connect may take before it is given up.
 *
 * Returns: #CAsyncSocket:connect-timeout, in milliseconds (0: no limit)
 */
guint
c_async_socket_get_connect_timeout (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), 0);
  return c_async_socket_get_private (self)->connect_timeout_ms;
}

/**
 * c_async_socket_set_connect_attempt_delay:
 * @self: a socket
 * @delay_ms: milliseconds, 10 to 60000 (RFC 8305 recommends 250, and no less than 10)
 *
 * Sets #CAsyncSocket:connect-attempt-delay; a connect under way uses it from its next
 * attempt on.
 */
void
c_async_socket_set_connect_attempt_delay (CAsyncSocket *self, guint delay_ms)
{
  CAsyncSocketPrivate *priv;

  g_return_if_fail (C_IS_ASYNC_SOCKET (self));
  g_return_if_fail (delay_ms >= C_ATTEMPT_DELAY_MIN_MS && delay_ms <= C_ATTEMPT_DELAY_MAX_MS);
  priv = c_async_socket_get_private (self);
  if (priv->attempt_delay_ms == delay_ms)
    return;
  priv->attempt_delay_ms = delay_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECT_ATTEMPT_DELAY]);
}

/**
 * c_async_socket_get_connect_attempt_delay:
 * @self: a socket
 *
 * How long a connect by name waits for an attempt before starting the next beside it.
 *
 * Returns: #CAsyncSocket:connect-attempt-delay, in milliseconds
 */
guint
c_async_socket_get_connect_attempt_delay (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), C_ATTEMPT_DELAY_DEFAULT_MS);
  return c_async_socket_get_private (self)->attempt_delay_ms;
}

/**
 * c_async_socket_get_connect_attempts:
 * @self: a socket
 *
 * How many addresses the last connect tried: 1 for a connect to an address; for a connect
 * by name, every attempt started, whether it won, failed or was abandoned when another
 * won (0 if the name did not resolve).
 *
 * Returns: the number of connection attempts the last connect started
 */
guint
c_async_socket_get_connect_attempts (CAsyncSocket *self)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), 0);
  return c_async_socket_get_private (self)->connect_attempts;
}

/* c-async-socket-properties.c: CAsyncSocket's GObject properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each property reads the socket's own state (or, for "context", is set once at
 * construction); none has a setter of its own or is notified.
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

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* c-async-socket-multicast.c: multicast groups and options for datagram sockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Joins and leaves use the protocol-independent calls of RFC 3678 (MCAST_JOIN_GROUP,
 * MCAST_JOIN_SOURCE_GROUP and their leaves), which take an interface index and socket
 * addresses for IPv4 and IPv6 alike, on the socket's own descriptor. An IPv4 group is
 * joined at the IPv4 level even on a dual-stack IPv6 socket (Linux hands an IPv6 datagram
 * socket's IPPROTO_IP options to IPv4), so that one socket bound to [::] hears groups of
 * both families; the sending options are set for both families on such a socket.
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "c-async-socket-private.h"

/* Which levels apply to the socket: IPv4's, IPv6's, or both (dual-stack). */
typedef struct
{
  gboolean ipv4;
  gboolean ipv6;
} Levels;

static gboolean
check_datagram (CAsyncSocket *self, const char *operation, Levels *levels, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int v6only = 0;
  socklen_t length = sizeof v6only;

  if (!c_async_socket_check_created (self, operation, error))
    return FALSE;
  if (priv->type == C_SOCK_STREAM || priv->type == C_SOCK_SEQPACKET
      || (priv->family != G_SOCKET_FAMILY_IPV4 && priv->family != G_SOCKET_FAMILY_IPV6))
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "%s: multicast needs an IPv4 or IPv6 datagram socket", operation);
      return FALSE;
    }
  if (priv->family == G_SOCKET_FAMILY_IPV6)
    getsockopt (priv->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &length);
  levels->ipv6 = priv->family == G_SOCKET_FAMILY_IPV6;
  levels->ipv4 = priv->family == G_SOCKET_FAMILY_IPV4 || !v6only;
  return TRUE;
}

/* An interface by name or number: NULL or "" is 0 ("any"). */
static gboolean
find_interface (const char *interface, const char *operation, guint *index, GError **error)
{
  char name[IF_NAMESIZE];
  guint64 number;

  *index = 0;
  if (interface == NULL || interface[0] == '\0')
    return TRUE;
  if (g_ascii_string_to_unsigned (interface, 10, 1, G_MAXUINT32, &number, NULL))
    {
      if (if_indextoname ((unsigned) number, name) == NULL)
        {
          c_set_io_error (error, errno, "%s: no interface with index %s", operation, interface);
          return FALSE;
        }
      *index = (guint) number;
      return TRUE;
    }
  *index = if_nametoindex (interface);
  if (*index == 0)
    {
      c_set_io_error (error, errno, "%s: no interface named %s", operation, interface);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_inet (const char *text, const char *what, const char *operation, GInetAddress **address,
            GError **error)
{
  *address = text != NULL ? g_inet_address_new_from_string (text) : NULL;
  if (*address == NULL)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                          "%s: '%s' is not a numeric IPv4 or IPv6 %s", operation,
                          text ? text : "(null)", what);
      return FALSE;
    }
  return TRUE;
}

static void
to_storage (GInetAddress *address, struct sockaddr_storage *storage)
{
  g_autoptr (GSocketAddress) socket_address = g_inet_socket_address_new (address, 0);

  memset (storage, 0, sizeof *storage);
  g_socket_address_to_native (socket_address, storage, sizeof *storage, NULL);
}

static gboolean
group_operation (CAsyncSocket *self, gboolean join, const char *group, const char *source,
                 const char *interface, GError **error)
{
  const char *operation = join ? "join_multicast_group" : "leave_multicast_group";
  g_autoptr (GInetAddress) group_address = NULL;
  g_autoptr (GInetAddress) source_address = NULL;
  g_autofree char *what = NULL;
  Levels levels;
  guint index;
  int level, option, result;

  if (!check_datagram (self, operation, &levels, error)
      || !parse_inet (group, "group", operation, &group_address, error)
      || (source != NULL && !parse_inet (source, "source", operation, &source_address, error))
      || !find_interface (interface, operation, &index, error))
    return FALSE;
  what = g_strdup_printf ("%s %s%s%s%s%s", operation, group, source ? " (source " : "",
                          source ? source : "", source ? ")" : "",
                          interface && *interface ? "" : " on any interface");
  if (interface != NULL && *interface != '\0')
    {
      char *with = g_strdup_printf ("%s on %s", what, interface);
      g_free (what);
      what = with;
    }
  if (!g_inet_address_get_is_multicast (group_address))
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                          "%s: %s is not a multicast address", what, group);
      return FALSE;
    }
  if (source_address != NULL
      && (g_inet_address_get_family (source_address) != g_inet_address_get_family (group_address)
          || g_inet_address_get_is_multicast (source_address)))
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                          "%s: the source must be a unicast address of the group's family", what);
      return FALSE;
    }
  if (g_inet_address_get_family (group_address) == G_SOCKET_FAMILY_IPV6 ? !levels.ipv6
                                                                        : !levels.ipv4)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "%s: an %s socket does not receive %s datagrams", what,
                          levels.ipv6 ? "IPv6-only" : "IPv4", levels.ipv6 ? "IPv4" : "IPv6");
      return FALSE;
    }
  level = g_inet_address_get_family (group_address) == G_SOCKET_FAMILY_IPV6 ? IPPROTO_IPV6
                                                                            : IPPROTO_IP;
  if (source_address == NULL)
    {
      struct group_req request = { .gr_interface = index };

      to_storage (group_address, &request.gr_group);
      option = join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP;
      result
          = setsockopt (c_async_socket_get_handle (self), level, option, &request, sizeof request);
    }
  else
    {
      struct group_source_req request = { .gsr_interface = index };

      to_storage (group_address, &request.gsr_group);
      to_storage (source_address, &request.gsr_source);
      option = join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP;
      result
          = setsockopt (c_async_socket_get_handle (self), level, option, &request, sizeof request);
    }
  if (result < 0)
    {
      int error_code = errno;
      c_set_io_error (error, error_code, "%s", what);
      return FALSE;
    }
  g_debug ("descriptor %d: %s", c_async_socket_get_handle (self), what);
  return TRUE;
}

/**
 * c_async_socket_join_multicast_group:
 * @self: a datagram socket (IPv4, or IPv6, whose dual-stack sockets join IPv4 groups too)
 * @group: the group's numeric address, such as "239.255.42.1" or "ff15::42"
 * @source: (nullable): for a source-specific join (SSM, RFC 4607), the one sender whose
 *   datagrams to the group are wanted; %NULL for any sender
 * @interface: (nullable): the interface, by name ("eth0") or index ("2"); %NULL or "" for
 *   "any", which lets the kernel choose
 * @error: return location for a #GError
 *
 * Joins a multicast group on one interface (beyond MFC; like GIO's
 * g_socket_join_multicast_group() and g_socket_join_multicast_group_ssm()): datagrams sent
 * to the group and to the port the socket is bound to then arrive, through `on_receive`
 * (or `on_record`) as any datagram does. Bind the socket to the wildcard address (or the
 * group) and the group's port first; several programs on one machine share the port with
 * `SO_REUSEADDR` (or `SO_REUSEPORT`) set before binding.
 *
 * "Any" interface is not every interface: the kernel looks the group up in the routing
 * table and joins on the interface that route leaves by, usually the default route's
 * (the join fails with `ENODEV` where no route covers the group). On a machine with
 * several interfaces, name the one the group lives on; to hear a group on several
 * interfaces, join it on each.
 *
 * A source-specific join admits datagrams from @source only; other senders to the group
 * are filtered out by the kernel. A socket may hold several joins of one group with
 * different sources, but not an any-source join of it at the same time.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_join_multicast_group (CAsyncSocket *self, const char *group, const char *source,
                                     const char *interface, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return group_operation (self, TRUE, group, source, interface, error);
}

/**
 * c_async_socket_leave_multicast_group:
 * @self: a datagram socket
 * @group: the group's numeric address, as joined
 * @source: (nullable): the source, as joined (%NULL for an any-source join)
 * @interface: (nullable): the interface, as joined (%NULL or "" for "any")
 * @error: return location for a #GError
 *
 * Leaves a group joined with c_async_socket_join_multicast_group(), with the same
 * arguments. Closing the socket leaves every group it joined.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_leave_multicast_group (CAsyncSocket *self, const char *group, const char *source,
                                      const char *interface, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return group_operation (self, FALSE, group, source, interface, error);
}

/* Sets an integer option at each level the socket has. */
static gboolean
set_levels (CAsyncSocket *self, const char *operation, int ipv4_option, int ipv6_option, int value,
            GError **error)
{
  int fd = c_async_socket_get_handle (self);
  Levels levels;

  if (!check_datagram (self, operation, &levels, error))
    return FALSE;
  if ((levels.ipv6 && setsockopt (fd, IPPROTO_IPV6, ipv6_option, &value, sizeof value) < 0)
      || (levels.ipv4 && setsockopt (fd, IPPROTO_IP, ipv4_option, &value, sizeof value) < 0))
    {
      c_set_io_error (error, errno, "%s (%d)", operation, value);
      return FALSE;
    }
  return TRUE;
}

/* Reads an integer option: IPv6's on an IPv6 socket, IPv4's on an IPv4 one. */
static gboolean
get_level (CAsyncSocket *self, const char *operation, int ipv4_option, int ipv6_option, int *value,
           GError **error)
{
  Levels levels;
  socklen_t length = sizeof *value;

  *value = 0;
  if (!check_datagram (self, operation, &levels, error))
    return FALSE;
  if (getsockopt (c_async_socket_get_handle (self), levels.ipv6 ? IPPROTO_IPV6 : IPPROTO_IP,
                  levels.ipv6 ? ipv6_option : ipv4_option, value, &length)
      < 0)
    {
      c_set_io_error (error, errno, "%s", operation);
      return FALSE;
    }
  return TRUE;
}

/**
 * c_async_socket_set_multicast_interface:
 * @self: a datagram socket
 * @interface: (nullable): the interface, by name or index; %NULL or "" to let the routing
 *   table choose (the default)
 * @error: return location for a #GError
 *
 * Chooses the interface the socket's datagrams to multicast groups leave by
 * (`IP_MULTICAST_IF`, `IPV6_MULTICAST_IF`; both on a dual-stack socket).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_multicast_interface (CAsyncSocket *self, const char *interface, GError **error)
{
  const char *operation = "set_multicast_interface";
  Levels levels;
  guint index;
  int fd;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  if (!check_datagram (self, operation, &levels, error)
      || !find_interface (interface, operation, &index, error))
    return FALSE;
  fd = c_async_socket_get_handle (self);
  if (levels.ipv6 && setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0)
    {
      c_set_io_error (error, errno, "%s (%s)", operation, interface ? interface : "any");
      return FALSE;
    }
  if (levels.ipv4)
    {
      struct ip_mreqn request = { .imr_ifindex = (int) index };

      if (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request) < 0)
        {
          c_set_io_error (error, errno, "%s (%s)", operation, interface ? interface : "any");
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * c_async_socket_set_multicast_ttl:
 * @self: a datagram socket
 * @ttl: 0 to 255: how many routers the socket's multicast datagrams may cross (0: they do
 *   not leave the machine; 1, the default, the local network)
 * @error: return location for a #GError
 *
 * Sets the time to live of datagrams sent to groups (`IP_MULTICAST_TTL`; the hop limit,
 * `IPV6_MULTICAST_HOPS`, on IPv6; both on a dual-stack socket).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_multicast_ttl (CAsyncSocket *self, guint ttl, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  if (ttl > 255)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "set_multicast_ttl: %u is more than 255", ttl);
      return FALSE;
    }
  return set_levels (self, "set_multicast_ttl", IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, (int) ttl,
                     error);
}

/**
 * c_async_socket_get_multicast_ttl:
 * @self: a datagram socket
 * @ttl: (out): the time to live (IPv6 sockets: the hop limit) of its multicast datagrams
 * @error: return location for a #GError
 *
 * Reads what c_async_socket_set_multicast_ttl() set.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_get_multicast_ttl (CAsyncSocket *self, guint *ttl, GError **error)
{
  int value;
  gboolean ok;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (ttl != NULL, FALSE);
  ok = get_level (self, "get_multicast_ttl", IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, &value, error);
  *ttl = (guint) value;
  return ok;
}

/**
 * c_async_socket_set_multicast_loopback:
 * @self: a datagram socket
 * @loopback: whether the socket's datagrams to a group are also delivered to the groups'
 *   members on this machine (%TRUE by default), the sender itself included if it joined
 * @error: return location for a #GError
 *
 * Sets `IP_MULTICAST_LOOP` (`IPV6_MULTICAST_LOOP`; both on a dual-stack socket).
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_multicast_loopback (CAsyncSocket *self, gboolean loopback, GError **error)
{
  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  return set_levels (self, "set_multicast_loopback", IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP,
                     loopback ? 1 : 0, error);
}

/**
 * c_async_socket_get_multicast_loopback:
 * @self: a datagram socket
 * @loopback: (out): whether multicast datagrams it sends loop back to this machine
 * @error: return location for a #GError
 *
 * Reads what c_async_socket_set_multicast_loopback() set.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_get_multicast_loopback (CAsyncSocket *self, gboolean *loopback, GError **error)
{
  int value;
  gboolean ok;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (loopback != NULL, FALSE);
  ok = get_level (self, "get_multicast_loopback", IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, &value,
                  error);
  *loopback = value != 0;
  return ok;
}

/* c-address.c: address strings ⇄ socket addresses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * MFC's string addresses are dotted IPv4 only. afxsock takes IPv4 and IPv6 literals (with or
 * without brackets), Unix-domain paths (an absolute path, or "@name" for Linux's abstract
 * namespace), and, where connecting, host names, which are resolved without blocking.
 * An IPv4 address given to an IPv6 socket is mapped (::ffff:a.b.c.d), so one dual-stack
 * socket serves both families; mapped addresses are printed back in IPv4 form.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "c-address-private.h"
#include "c-error-private.h"

gboolean
c_address_is_unix_path (const char *host)
{
  return host != NULL && (host[0] == '/' || host[0] == '@');
}

/* A syntactically plausible DNS name: letters, digits, '-', '.', '_' and non-ASCII
 * (IDN) bytes, 1–253 characters. Anything else is rejected before any lookup. */
gboolean
c_address_is_host_name (const char *host)
{
  gsize length;

  if (host == NULL)
    return FALSE;
  length = strlen (host);
  if (length == 0 || length > 253 || host[0] == '-' || host[0] == '.')
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      if (!(g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c >= 0x80))
        return FALSE;
    }
  return g_utf8_validate (host, -1, NULL);
}

static gboolean
parse_unix (const char *path, struct sockaddr_storage *storage, socklen_t *length, GError **error)
{
  struct sockaddr_un *sun = (struct sockaddr_un *) storage;
  gsize n = strlen (path);

  if (n >= sizeof sun->sun_path)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                          "Unix socket path '%s' is longer than %zu bytes", path,
                          sizeof sun->sun_path - 1);
      return FALSE;
    }
  memset (sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  memcpy (sun->sun_path, path, n);
  if (path[0] == '@')
    sun->sun_path[0] = '\0'; /* abstract namespace: no terminator counted */
  *length
      = (socklen_t) (G_STRUCT_OFFSET (struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
  return TRUE;
}

static gboolean
strip_brackets (const char *host, char *out, gsize out_size)
{
  gsize n = strlen (host);

  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < out_size)
    {
      memcpy (out, host + 1, n - 2);
      out[n - 2] = '\0';
      return TRUE;
    }
  if (n >= out_size)
    return FALSE;
  memcpy (out, host, n + 1);
  return TRUE;
}

static void
set_ipv4 (struct sockaddr_storage *storage, socklen_t *length, const struct in_addr *a, guint port)
{
  struct sockaddr_in *sin = (struct sockaddr_in *) storage;

  memset (sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_port = htons ((guint16) port);
  sin->sin_addr = *a;
  *length = sizeof *sin;
}

static void
set_ipv6 (struct sockaddr_storage *storage, socklen_t *length, const struct in6_addr *a, guint port)
{
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) storage;

  memset (sin6, 0, sizeof *sin6);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons ((guint16) port);
  sin6->sin6_addr = *a;
  *length = sizeof *sin6;
}

static void
map_ipv4 (const struct in_addr *a, struct in6_addr *mapped)
{
  memset (mapped, 0, sizeof *mapped);
  mapped->s6_addr[10] = 0xff;
  mapped->s6_addr[11] = 0xff;
  memcpy (&mapped->s6_addr[12], a, 4);
}

/* Parses a numeric address (or Unix path) for a socket of @family; G_SOCKET_FAMILY_INVALID
 * means "any family" and picks the literal's own. NULL or "" is the wildcard address. */
gboolean
c_address_parse (const char *host, guint port, GSocketFamily family,
                 struct sockaddr_storage *storage, socklen_t *length, GError **error)
{
  char literal[INET6_ADDRSTRLEN + 8];
  struct in_addr a4;
  struct in6_addr a6;

  if (c_address_is_unix_path (host) || family == G_SOCKET_FAMILY_UNIX)
    {
      if (!c_address_is_unix_path (host))
        {
          c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                              "'%s' is not a Unix socket path (an absolute path or @name)",
                              host ? host : "(null)");
          return FALSE;
        }
      if (family != G_SOCKET_FAMILY_INVALID && family != G_SOCKET_FAMILY_UNIX)
        {
          c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                              "'%s' is a Unix path but the socket is an Internet socket", host);
          return FALSE;
        }
      return parse_unix (host, storage, length, error);
    }

  if (host == NULL || host[0] == '\0')
    {
      if (family == G_SOCKET_FAMILY_IPV4)
        {
          a4.s_addr = htonl (INADDR_ANY);
          set_ipv4 (storage, length, &a4, port);
        }
      else
        set_ipv6 (storage, length, &in6addr_any, port);
      return TRUE;
    }

  if (strip_brackets (host, literal, sizeof literal))
    {
      if (inet_pton (AF_INET, literal, &a4) == 1 && literal[0] != '[')
        {
          if (family == G_SOCKET_FAMILY_IPV6)
            {
              map_ipv4 (&a4, &a6);
              set_ipv6 (storage, length, &a6, port);
            }
          else
            set_ipv4 (storage, length, &a4, port);
          return TRUE;
        }
      if (inet_pton (AF_INET6, literal, &a6) == 1)
        {
          if (family == G_SOCKET_FAMILY_IPV4)
            {
              if (!IN6_IS_ADDR_V4MAPPED (&a6))
                {
                  c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS,
                                      "'%s' is an IPv6 address but the socket is IPv4", host);
                  return FALSE;
                }
              memcpy (&a4, &a6.s6_addr[12], 4);
              set_ipv4 (storage, length, &a4, port);
            }
          else
            set_ipv6 (storage, length, &a6, port);
          return TRUE;
        }
    }

  c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "'%s' is not a numeric IP address",
                      host);
  return FALSE;
}

/* The textual address and port; IPv4-mapped IPv6 addresses come back as IPv4. */
char *
c_address_to_string (const struct sockaddr *address, socklen_t length, guint *port)
{
  char text[INET6_ADDRSTRLEN];

  if (port != NULL)
    *port = 0;
  switch (address->sa_family)
    {
      case AF_INET:
        {
          const struct sockaddr_in *sin = (const struct sockaddr_in *) address;
          inet_ntop (AF_INET, &sin->sin_addr, text, sizeof text);
          if (port != NULL)
            *port = ntohs (sin->sin_port);
          return g_strdup (text);
        }
      case AF_INET6:
        {
          const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) address;
          if (IN6_IS_ADDR_V4MAPPED (&sin6->sin6_addr))
            inet_ntop (AF_INET, &sin6->sin6_addr.s6_addr[12], text, sizeof text);
          else
            inet_ntop (AF_INET6, &sin6->sin6_addr, text, sizeof text);
          if (port != NULL)
            *port = ntohs (sin6->sin6_port);
          return g_strdup (text);
        }
      case AF_UNIX:
        {
          const struct sockaddr_un *sun = (const struct sockaddr_un *) address;
          gssize n = (gssize) length - (gssize) G_STRUCT_OFFSET (struct sockaddr_un, sun_path);
          if (n <= 0)
            return g_strdup ("");
          if (sun->sun_path[0] == '\0')
            return g_strdup_printf ("@%.*s", (int) n - 1, sun->sun_path + 1);
          return g_strndup (sun->sun_path, (gsize) n);
        }
      default:
        return g_strdup_printf ("(address family %d)", address->sa_family);
    }
}

/* "127.0.0.1:80", "[::1]:80" or "/run/x.sock", for messages. */
char *
c_address_describe (const struct sockaddr *address, socklen_t length)
{
  guint port;
  g_autofree char *text = c_address_to_string (address, length, &port);

  if (address->sa_family == AF_INET6 && strchr (text, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", text, port);
  if (address->sa_family == AF_INET || address->sa_family == AF_INET6)
    return g_strdup_printf ("%s:%u", text, port);
  return g_steal_pointer (&text);
}

/* Converts a GSocketAddress for a socket of @family, mapping IPv4 onto a dual-stack socket. */
gboolean
c_address_from_gobject (GSocketAddress *address, GSocketFamily family,
                        struct sockaddr_storage *storage, socklen_t *length, GError **error)
{
  gssize size = g_socket_address_get_native_size (address);

  if (size <= 0 || !g_socket_address_to_native (address, storage, sizeof *storage, error))
    {
      if (error != NULL && *error == NULL)
        c_set_socket_error (error, C_SOCKET_ERROR_INVALID_ADDRESS, "address cannot be converted");
      c_set_last_error (EINVAL);
      return FALSE;
    }
  *length = (socklen_t) size;
  if (family == G_SOCKET_FAMILY_IPV6 && storage->ss_family == AF_INET)
    {
      struct sockaddr_in sin = *(struct sockaddr_in *) storage;
      struct in6_addr mapped;
      map_ipv4 (&sin.sin_addr, &mapped);
      set_ipv6 (storage, length, &mapped, ntohs (sin.sin_port));
    }
  return TRUE;
}

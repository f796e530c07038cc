/* c-address-private.h: socket addresses, parsed and printed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

gboolean c_address_parse (const char *host, guint port, GSocketFamily family,
                          struct sockaddr_storage *storage, socklen_t *length, GError **error);
gboolean c_address_is_unix_path (const char *host);
gboolean c_address_is_host_name (const char *host);
char *c_address_to_string (const struct sockaddr *address, socklen_t length, guint *port);
char *c_address_describe (const struct sockaddr *address, socklen_t length);
gboolean c_address_from_gobject (GSocketAddress *address, GSocketFamily family,
                                 struct sockaddr_storage *storage, socklen_t *length,
                                 GError **error);

G_END_DECLS

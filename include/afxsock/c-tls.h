/* c-tls.h: TLS under CAsyncSocket's notifications (OpenSSL), and the settings it shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <afxsock/c-version.h>
#include <afxsock/c-async-socket.h>

G_BEGIN_DECLS

/**
 * CTlsRole:
 * @C_TLS_ROLE_CLIENT: the side that connects: verifies the server by default
 * @C_TLS_ROLE_SERVER: the side that accepts: presents a certificate
 *
 * Which end of the handshake a #CTlsSettings is for.
 */
typedef enum
{
  C_TLS_ROLE_CLIENT,
  C_TLS_ROLE_SERVER,
} CTlsRole;

/**
 * CTlsClientAuth:
 * @C_TLS_CLIENT_AUTH_NONE: the server asks for no client certificate
 * @C_TLS_CLIENT_AUTH_REQUEST: the server asks for one and verifies it if sent
 * @C_TLS_CLIENT_AUTH_REQUIRE: the server fails the handshake without a valid one
 *
 * Client certificates, for server settings.
 */
typedef enum
{
  C_TLS_CLIENT_AUTH_NONE,
  C_TLS_CLIENT_AUTH_REQUEST,
  C_TLS_CLIENT_AUTH_REQUIRE,
} CTlsClientAuth;

/**
 * CTlsVersion:
 * @C_TLS_VERSION_1_2: TLS 1.2, the oldest afxsock speaks
 * @C_TLS_VERSION_1_3: TLS 1.3
 *
 * Protocol versions, for c_tls_settings_set_versions().
 */
typedef enum
{
  C_TLS_VERSION_1_2,
  C_TLS_VERSION_1_3,
} CTlsVersion;

#define C_TYPE_TLS_SETTINGS (c_tls_settings_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (CTlsSettings, c_tls_settings, C, TLS_SETTINGS, GObject)

AFXSOCK_AVAILABLE_IN_ALL
CTlsSettings *c_tls_settings_new (CTlsRole role);
AFXSOCK_AVAILABLE_IN_ALL
CTlsRole c_tls_settings_get_role (CTlsSettings *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_tls_settings_set_certificate_files (CTlsSettings *self, const char *certificate_file,
                                               const char *key_file, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_tls_settings_set_certificate (CTlsSettings *self, GTlsCertificate *certificate,
                                         GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_tls_settings_add_server_name_files (CTlsSettings *self, const char *server_name,
                                               const char *certificate_file, const char *key_file,
                                               GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_tls_settings_add_server_name (CTlsSettings *self, const char *server_name,
                                         GTlsCertificate *certificate, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
void c_tls_settings_set_session_resumption (CTlsSettings *self, gboolean resume);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_tls_settings_set_ca_file (CTlsSettings *self, const char *ca_file, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
void c_tls_settings_set_system_trust (CTlsSettings *self, gboolean use_system_trust);
AFXSOCK_AVAILABLE_IN_ALL
void c_tls_settings_set_verify_peer (CTlsSettings *self, gboolean verify);
AFXSOCK_AVAILABLE_IN_ALL
void c_tls_settings_set_client_auth (CTlsSettings *self, CTlsClientAuth mode);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_tls_settings_set_alpn_protocols (CTlsSettings *self, const char *const *protocols,
                                            GError **error);
AFXSOCK_AVAILABLE_IN_ALL
void c_tls_settings_set_versions (CTlsSettings *self, CTlsVersion min, CTlsVersion max);

/* TLS on a socket */
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_set_tls (CAsyncSocket *self, CTlsSettings *settings, const char *peer_name,
                                 GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_start_tls (CAsyncSocket *self, CTlsSettings *settings,
                                   const char *peer_name, GError **error);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_is_tls_established (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
GTlsCertificate *c_async_socket_get_peer_certificate (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_peer_certificate_info (CAsyncSocket *self, char **subject,
                                                   char **issuer, char **sha256);
AFXSOCK_AVAILABLE_IN_ALL
GTlsCertificateFlags c_async_socket_get_peer_certificate_errors (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
const char *c_async_socket_get_negotiated_protocol (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
const char *c_async_socket_get_tls_version (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_is_tls_session_resumed (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
const char *c_async_socket_get_tls_server_name (CAsyncSocket *self);
AFXSOCK_AVAILABLE_IN_ALL
gboolean c_async_socket_get_tls_wire_bytes (CAsyncSocket *self, guint64 *sent, guint64 *received);

G_END_DECLS

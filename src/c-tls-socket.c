/* c-tls-socket.c: TLS on a socket: the API, and the hooks that start it in connect and accept
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A socket given TLS settings before it connects or listens keeps them here until its
 * connection exists; then the TLS transport (c-tls-transport.c) takes over the bytes.
 * docs/tls.md has the API by example.
 */
#include "config.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "c-tls-private.h"

static GQuark config_quark;

typedef struct
{
  CTlsSettings *settings;
  char *peer_name;
} TlsConfig;

static void
config_free (gpointer data)
{
  TlsConfig *config = data;

  g_object_unref (config->settings);
  g_free (config->peer_name);
  g_free (config);
}

/* ---- The hooks in connect and accept ---------------------------------------------------- */

gboolean
c_tls_on_connected (CAsyncSocket *self)
{
  TlsConfig *config = config_quark ? g_object_get_qdata (G_OBJECT (self), config_quark) : NULL;

  if (config == NULL || c_tls_transport_of (self) != NULL
      || c_tls_settings_get_role (config->settings) != C_TLS_ROLE_CLIENT)
    return FALSE;
  c_transport_set (
      c_async_socket_get_private (self),
      c_tls_transport_new (self, config->settings, config->peer_name, C_HANDSHAKE_CONNECT));
  return TRUE;
}

void
c_tls_on_accepted (CAsyncSocket *listener, CAsyncSocket *connected)
{
  TlsConfig *config = config_quark ? g_object_get_qdata (G_OBJECT (listener), config_quark) : NULL;

  if (config == NULL || c_tls_settings_get_role (config->settings) != C_TLS_ROLE_SERVER)
    return;
  c_transport_set (c_async_socket_get_private (connected),
                   c_tls_transport_new (connected, config->settings, NULL, C_HANDSHAKE_ACCEPT));
}

/* ---- The API ---------------------------------------------------------------------------- */

static gboolean
check_stream (CAsyncSocket *self, const char *operation, GError **error)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (!c_async_socket_check_created (self, operation, error))
    return FALSE;
  if (priv->type != C_SOCK_STREAM)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "%s: TLS needs a stream socket",
                          operation);
      return FALSE;
    }
  if (c_tls_transport_of (self) != NULL)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE, "%s: the socket already has TLS",
                          operation);
      return FALSE;
    }
  return TRUE;
}

/**
 * c_async_socket_set_tls:
 * @self: a created stream socket, not yet connected, or a listener
 * @settings: client settings for a socket that connects, server settings for a listener
 * @peer_name: (nullable): a client's name for the server: checked against its certificate
 *   and sent as SNI; %NULL checks the certificate's chain only
 * @error: return location for a #GError
 *
 * TLS from the start. A client connects, then runs the handshake: `on_connect (0)` and the
 * first `on_send` come once it has succeeded, and a failed handshake is the connect's
 * error (`on_connect` with `EPROTO`, `ECONNABORTED`…, the #GError from
 * c_async_socket_get_close_error()). Every connection a listener accepts runs the server
 * handshake before its first `on_send`; one that fails gets `on_close` with the error.
 *
 * Returns: %TRUE on success
 */
gboolean
c_async_socket_set_tls (CAsyncSocket *self, CTlsSettings *settings, const char *peer_name,
                        GError **error)
{
  CAsyncSocketPrivate *priv;
  TlsConfig *config;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (C_IS_TLS_SETTINGS (settings), FALSE);
  priv = c_async_socket_get_private (self);
  if (!check_stream (self, "set_tls", error))
    return FALSE;
  if (priv->connected || priv->connecting || priv->eyeballs != NULL)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "set_tls: the socket is connected; use start_tls");
      return FALSE;
    }
  if (config_quark == 0)
    config_quark = g_quark_from_static_string ("afxsock-tls-config");
  config = g_new0 (TlsConfig, 1);
  config->settings = g_object_ref (settings);
  config->peer_name = g_strdup (peer_name);
  g_object_set_qdata_full (G_OBJECT (self), config_quark, config, config_free);
  return TRUE;
}

/**
 * c_async_socket_start_tls:
 * @self: a connected stream socket
 * @settings: client or server settings: which side of the handshake this socket takes
 * @peer_name: (nullable): for a client, the server's name (see c_async_socket_set_tls())
 * @error: return location for a #GError
 *
 * STARTTLS: turns a plaintext connection into a TLS one. The handshake starts from the
 * main loop; `on_handshake` says when it has ended (0, or the errno with the #GError from
 * c_async_socket_get_close_error(); after a failure the connection is shut down, no
 * `on_close` follows and the socket should be closed), then `on_send` comes. Plaintext
 * the peer sent before its handshake must have been read before this call.
 *
 * Returns: %TRUE when the handshake was started
 */
gboolean
c_async_socket_start_tls (CAsyncSocket *self, CTlsSettings *settings, const char *peer_name,
                          GError **error)
{
  CAsyncSocketPrivate *priv;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  g_return_val_if_fail (C_IS_TLS_SETTINGS (settings), FALSE);
  priv = c_async_socket_get_private (self);
  if (!check_stream (self, "start_tls", error))
    return FALSE;
  if (!priv->connected)
    {
      c_set_socket_error (error, C_SOCKET_ERROR_WRONG_STATE,
                          "start_tls: the socket is not connected");
      return FALSE;
    }
  c_transport_set (priv, c_tls_transport_new (self, settings, peer_name, C_HANDSHAKE_STARTTLS));
  c_async_socket_defer (self, C_DEFER_PROBE);
  return TRUE;
}

/**
 * c_async_socket_is_tls_established:
 * @self: a socket
 *
 * Tells whether the socket speaks TLS now: from the end of a successful handshake until
 * the socket is closed.
 *
 * Returns: %TRUE once the socket's TLS handshake has succeeded
 */
gboolean
c_async_socket_is_tls_established (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  t = c_tls_transport_of (self);
  return t != NULL && t->established && !t->failed;
}

/**
 * c_async_socket_get_peer_certificate:
 * @self: a TLS socket
 *
 * The certificate the peer presented (with its chain), once verified (or while the
 * #CTlsSettings::accept-certificate handler decides on it).
 *
 * Returns: (transfer none) (nullable): the certificate, or %NULL
 */
GTlsCertificate *
c_async_socket_get_peer_certificate (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  t = c_tls_transport_of (self);
  return t != NULL ? t->peer_certificate : NULL;
}

/**
 * c_async_socket_get_peer_certificate_errors:
 * @self: a TLS socket
 *
 * What verification found wrong with the peer's certificate (0 when nothing), whether or
 * not it was accepted anyway.
 *
 * Returns: the flags
 */
GTlsCertificateFlags
c_async_socket_get_peer_certificate_errors (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), 0);
  t = c_tls_transport_of (self);
  return t != NULL ? t->peer_flags : 0;
}

/**
 * c_async_socket_get_negotiated_protocol:
 * @self: a TLS socket
 *
 * The ALPN protocol both sides agreed on (c_tls_settings_set_alpn_protocols()).
 *
 * Returns: (transfer none) (nullable): the protocol, or %NULL when none was negotiated
 */
const char *
c_async_socket_get_negotiated_protocol (CAsyncSocket *self)
{
  TlsTransport *t;
  const unsigned char *data = NULL;
  unsigned int length = 0;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  t = c_tls_transport_of (self);
  if (t == NULL || !t->established)
    return NULL;
  SSL_get0_alpn_selected (t->ssl, &data, &length);
  if (length == 0)
    return NULL;
  {
    /* Interned, so that the pointer stays valid after the socket is gone. */
    g_autofree char *name = g_strndup ((const char *) data, length);
    return g_intern_string (name);
  }
}

/**
 * c_async_socket_get_tls_version:
 * @self: a TLS socket
 *
 * The TLS version the handshake agreed on.
 *
 * Returns: (nullable): the protocol version in use, "TLSv1.2" or "TLSv1.3", or %NULL before
 *   the handshake
 */
const char *
c_async_socket_get_tls_version (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  t = c_tls_transport_of (self);
  return t != NULL && t->established ? SSL_get_version (t->ssl) : NULL;
}

/**
 * c_async_socket_is_tls_session_resumed:
 * @self: a TLS socket
 *
 * Whether the handshake resumed an earlier session (c_tls_settings_set_session_resumption())
 * instead of running a full one.
 *
 * Returns: %TRUE after a resumed handshake
 */
gboolean
c_async_socket_is_tls_session_resumed (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  t = c_tls_transport_of (self);
  return t != NULL && t->established && t->resumed;
}

/**
 * c_async_socket_get_tls_server_name:
 * @self: a TLS socket
 *
 * The server name of the connection (SNI): on a server, the name the client asked for
 * (see c_tls_settings_add_server_name_files()); on a client, the name it was given.
 *
 * Returns: (transfer none) (nullable): the name, valid until the socket is closed, or %NULL
 *   when none was sent
 */
const char *
c_async_socket_get_tls_server_name (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  t = c_tls_transport_of (self);
  return t != NULL ? SSL_get_servername (t->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}

/**
 * c_async_socket_get_tls_wire_bytes:
 * @self: a socket
 * @sent: (out) (optional): TLS bytes the kernel took
 * @received: (out) (optional): TLS bytes read from the kernel
 *
 * The connection's TLS traffic as it crossed the wire (records, handshake, alerts), beside
 * the plaintext that #CSocketStats counts (c_async_socket_get_stats()).
 *
 * Returns: %TRUE when the socket has TLS (else both are 0)
 */
gboolean
c_async_socket_get_tls_wire_bytes (CAsyncSocket *self, guint64 *sent, guint64 *received)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  t = c_tls_transport_of (self);
  if (sent != NULL)
    *sent = t != NULL ? t->wire_sent : 0;
  if (received != NULL)
    *received = t != NULL ? t->wire_received : 0;
  return t != NULL;
}

static char *
name_text (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long length;
  char *text;

  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253);
  length = BIO_get_mem_data (bio, &data);
  text = g_strndup (data, (gsize) length);
  BIO_free (bio);
  return text;
}

/**
 * c_async_socket_get_peer_certificate_info:
 * @self: a TLS socket
 * @subject: (out) (optional) (transfer full): the certificate's subject, as RFC 2253 writes
 *   it ("CN=localhost")
 * @issuer: (out) (optional) (transfer full): its issuer, the same way
 * @sha256: (out) (optional) (transfer full): the SHA-256 fingerprint of the certificate,
 *   as `openssl x509 -fingerprint -sha256` prints it ("1E:52:…", 32 bytes in hex)
 *
 * What the peer's certificate says, read from OpenSSL (no GIO TLS back end needed, unlike
 * c_async_socket_get_peer_certificate()); for pinning, compare the fingerprint.
 *
 * Returns: %TRUE when the peer presented a certificate (else the outputs are %NULL)
 */
gboolean
c_async_socket_get_peer_certificate_info (CAsyncSocket *self, char **subject, char **issuer,
                                          char **sha256)
{
  TlsTransport *t;
  X509 *peer;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  t = c_tls_transport_of (self);
  peer = t != NULL ? SSL_get0_peer_certificate (t->ssl) : NULL;
  if (subject != NULL)
    *subject = peer != NULL ? name_text (X509_get_subject_name (peer)) : NULL;
  if (issuer != NULL)
    *issuer = peer != NULL ? name_text (X509_get_issuer_name (peer)) : NULL;
  if (sha256 != NULL)
    {
      *sha256 = NULL;
      if (peer != NULL && X509_digest (peer, EVP_sha256 (), digest, &length) == 1)
        {
          GString *hex = g_string_sized_new (length * 3);
          for (unsigned int i = 0; i < length; i++)
            g_string_append_printf (hex, i == 0 ? "%02X" : ":%02X", digest[i]);
          *sha256 = g_string_free (hex, FALSE);
        }
    }
  return peer != NULL;
}

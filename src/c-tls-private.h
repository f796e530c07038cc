/* c-tls-private.h: the TLS transport's links to the settings and to the socket code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <openssl/ssl.h>

#include <afxsock/c-tls.h>

#include "c-transport.h"

G_BEGIN_DECLS

/* The TLS transport's state (c-tls-transport.c; its verdicts in c-tls-verify.c). */
typedef struct
{
  CTransport parent;
  CAsyncSocket *socket; /* the owner (not a reference: the socket frees the transport) */
  int fd;
  SSL *ssl;
  CTlsSettings *settings;
  char *peer_name;

  GByteArray *out; /* ciphertext not yet taken by the kernel */
  gsize out_offset;
  int shutdown_after_flush; /* how + 1, or 0 */

  guint handshaking : 1;
  guint established : 1;
  guint close_notify_received : 1;
  guint close_notify_sent : 1;
  guint kernel_eof : 1;
  guint write_wants_read : 1;
  guint alpn_failed : 1;
  guint failed : 1;
  guint failure_reported : 1;
  int read_errno;
  int fail_code;
  GError *fail_error;   /* reported once through ready() */
  GError *verify_error; /* why our verification rejected the peer */
  GTlsCertificateFlags peer_flags;
  GTlsCertificate *peer_certificate;
} TlsTransport;

/* c-tls-settings.c */
SSL_CTX *c_tls_settings_get_ctx (CTlsSettings *self);
gboolean c_tls_settings_get_verify_peer (CTlsSettings *self);
gboolean c_tls_settings_has_alpn (CTlsSettings *self);
gboolean c_tls_settings_emit_accept_certificate (CTlsSettings *self, CAsyncSocket *socket,
                                                 GTlsCertificate *certificate,
                                                 GTlsCertificateFlags errors);
/* The transport behind an SSL object (its app data), for the settings' callbacks. */
void c_tls_transport_note_alpn_failure (SSL *ssl);

/* c-tls-verify.c */
/* The failure after an SSL call returned @ssl_error: a specific GError and an errno, kept
 * in the transport to be reported once. */
void c_tls_transport_fail (TlsTransport *t, int ssl_error);
/* OpenSSL's verification, run by us (SSL_CTX_set_cert_verify_callback). */
int c_tls_verify_certificate (X509_STORE_CTX *store_ctx, void *data);

/* c-tls-transport.c: the hooks in connect/accept (TLS from the start). */
gboolean c_tls_on_connected (CAsyncSocket *self);
void c_tls_on_accepted (CAsyncSocket *listener, CAsyncSocket *connected);

G_END_DECLS

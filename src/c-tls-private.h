/* c-tls-private.h: the TLS transport's links to the settings and to the socket code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <openssl/ssl.h>

#include <afxsock/c-tls.h>

#include "c-transport.h"

G_BEGIN_DECLS

/* What settings keep between handshakes (c-tls-sessions.c). */
typedef struct _CTlsSessionCache CTlsSessionCache;
typedef struct _CTlsServerNames CTlsServerNames;

/* The TLS transport's state (c-tls-transport.c; its verdicts in c-tls-verify.c). */
typedef struct
{
  CTransport parent;
  CAsyncSocket *socket; /* the owner (not a reference: the socket frees the transport) */
  int fd;
  SSL *ssl;
  CTlsSettings *settings;
  char *peer_name;
  char *session_key; /* a client's key in the session cache, or NULL */

  GByteArray *out;                  /* ciphertext not yet taken by the kernel */
  guint64 wire_sent, wire_received; /* TLS bytes on the wire, handshake included */
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
  guint resumed : 1;
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
/* The client's session cache, or NULL (a server, or resumption turned off). */
CTlsSessionCache *c_tls_settings_get_sessions (CTlsSettings *self);
gboolean c_tls_settings_emit_accept_certificate (CTlsSettings *self, CAsyncSocket *socket,
                                                 GTlsCertificate *certificate,
                                                 GTlsCertificateFlags errors);
/* The transport behind an SSL object (its app data), for the settings' callbacks. */
void c_tls_transport_note_alpn_failure (SSL *ssl);

/* c-tls-sessions.c */
CTlsSessionCache *c_tls_session_cache_new (void);
void c_tls_session_cache_free (CTlsSessionCache *cache);
char *c_tls_session_key (const char *peer_name, int fd);
void c_tls_session_cache_store (CTlsSessionCache *cache, const char *key, SSL_SESSION *session,
                                GTlsCertificateFlags flags);
SSL_SESSION *c_tls_session_cache_take (CTlsSessionCache *cache, const char *key);
GTlsCertificateFlags c_tls_session_flags (SSL_SESSION *session);
/* SSL_CTX_sess_set_new_cb: a client's new session (a TLS 1.3 ticket) into its cache. */
int c_tls_session_cache_new_session (SSL *ssl, SSL_SESSION *session);
CTlsServerNames *c_tls_server_names_new (void);
void c_tls_server_names_free (CTlsServerNames *names);
void c_tls_server_names_add (CTlsServerNames *names, const char *pattern, SSL_CTX *holder);
int c_tls_server_names_choose (SSL *ssl, int *alert, void *names);

/* c-tls-verify.c */
/* The failure after an SSL call returned @ssl_error: a specific GError and an errno, kept
 * in the transport to be reported once. */
void c_tls_transport_fail (TlsTransport *t, int ssl_error);
/* OpenSSL's verification, run by us (SSL_CTX_set_cert_verify_callback). */
int c_tls_verify_certificate (X509_STORE_CTX *store_ctx, void *data);
/* A resumed handshake runs no verification: the peer's certificate and the flags it was
 * accepted with come from the session. */
void c_tls_verify_resumed (TlsTransport *t);

/* c-tls-transport.c */
CTransport *c_tls_transport_new (CAsyncSocket *socket, CTlsSettings *settings,
                                 const char *peer_name, CTransportHandshake handshake);
/* The socket's TLS transport, or NULL. */
TlsTransport *c_tls_transport_of (CAsyncSocket *self);

/* c-tls-socket.c: the hooks in connect/accept (TLS from the start). */
gboolean c_tls_on_connected (CAsyncSocket *self);
void c_tls_on_accepted (CAsyncSocket *listener, CAsyncSocket *connected);

G_END_DECLS

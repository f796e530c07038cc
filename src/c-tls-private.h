/* c-tls-private.h: the TLS transport's links to the settings and to the socket code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <openssl/ssl.h>

#include <afxsock/c-tls.h>

#include "c-transport.h"

G_BEGIN_DECLS

/* c-tls-settings.c */
SSL_CTX *c_tls_settings_get_ctx (CTlsSettings *self);
gboolean c_tls_settings_get_verify_peer (CTlsSettings *self);
gboolean c_tls_settings_has_alpn (CTlsSettings *self);
gboolean c_tls_settings_emit_accept_certificate (CTlsSettings *self, CAsyncSocket *socket,
                                                 GTlsCertificate *certificate,
                                                 GTlsCertificateFlags errors);
/* The transport behind an SSL object (its app data), for the settings' callbacks. */
void c_tls_transport_note_alpn_failure (SSL *ssl);

/* c-tls-transport.c: the hooks in connect/accept (TLS from the start). */
gboolean c_tls_on_connected (CAsyncSocket *self);
void c_tls_on_accepted (CAsyncSocket *listener, CAsyncSocket *connected);

G_END_DECLS

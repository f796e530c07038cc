/* sample-tls.h: the samples' --tls options, shared by every client and server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Servers:  --tls-certificate=FILE --tls-key=FILE [--tls-client-ca=FILE]
 * Clients:  --tls [--tls-ca=FILE] [--tls-certificate=FILE --tls-key=FILE]
 *
 * A server with a certificate speaks TLS only; with --tls-client-ca it requires a client
 * certificate signed by that CA. A client with --tls verifies the server against the system's
 * trust store and the CA of --tls-ca, and checks the host name it connects to; with a
 * certificate of its own it presents it when the server asks (docs/tls.md).
 */
#pragma once

#include <afxsock.h>

typedef struct
{
  gboolean enabled;  /* clients: --tls; servers: set once a certificate is given */
  char *certificate; /* --tls-certificate */
  char *key;         /* --tls-key */
  char *ca;          /* clients: --tls-ca; servers: --tls-client-ca */
} SampleTls;

/* Adds the options to the context's main group (so that --help lists them); they fill
 * @tls, which must outlive the parsing. */
void sample_tls_add_server_options (GOptionContext *context, SampleTls *tls);
void sample_tls_add_client_options (GOptionContext *context, SampleTls *tls);

/* After parsing: TLS on @listener (inherited by what it accepts), or nothing when no
 * certificate was given. FALSE with @error for a bad combination or an unreadable file. */
gboolean sample_tls_set_up_server (SampleTls *tls, CAsyncSocket *listener, GError **error);

/* After parsing: TLS on @socket before it connects to @host (the name its certificate must
 * match), or nothing without --tls. */
gboolean sample_tls_set_up_client (SampleTls *tls, CAsyncSocket *socket, const char *host,
                                   GError **error);

void sample_tls_clear (SampleTls *tls);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SampleTls, sample_tls_clear)

/* Why a connect or a connection failed: the socket's GError (a TLS handshake's is there,
 * "certificate for 'localhost' is signed by an unknown CA"), else the errno's text. */
const char *sample_failure_message (CAsyncSocket *socket, int error_code);

/* bench-tls.h: the OpenSSL server context of the TLS peers (the epoll loop and libevent)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdbool.h>
#include <openssl/ssl.h>

/* A server SSL_CTX with the certificate chain and key of these PEM files, TLS 1.2 and 1.3
 * (the versions afxsock speaks), renegotiation refused, partial writes and a moving write
 * buffer allowed (non-blocking writes retried from a copy). With @release_buffers,
 * SSL_MODE_RELEASE_BUFFERS too: idle connections give back OpenSSL's record buffers.
 * Prints OpenSSL's reason and exits on failure. */
SSL_CTX *bench_tls_server_context (const char *cert, const char *key, bool release_buffers);

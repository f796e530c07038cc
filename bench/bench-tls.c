/* bench-tls.c: the OpenSSL server context of the TLS peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-tls.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>

SSL_CTX *
bench_tls_server_context (const char *cert, const char *key, bool release_buffers)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
  long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;

  if (ctx == NULL || SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION) != 1
      || SSL_CTX_use_certificate_chain_file (ctx, cert) != 1
      || SSL_CTX_use_PrivateKey_file (ctx, key, SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key (ctx) != 1)
    {
      char reason[256];
      ERR_error_string_n (ERR_get_error (), reason, sizeof reason);
      fprintf (stderr, "TLS server context from %s and %s: %s\n", cert, key, reason);
      exit (1);
    }
  SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION);
  if (release_buffers)
    mode |= SSL_MODE_RELEASE_BUFFERS;
  SSL_CTX_set_mode (ctx, mode);
  return ctx;
}

/* c-tls-verify.c: the TLS transport's verdicts: certificate verification and errors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenSSL's verification is run by us, so that every problem with the peer's certificate
 * is collected as GTlsCertificateFlags and the accept-certificate hook can overrule it; and
 * every failure of an SSL call becomes one specific GError (docs/tls.md, "Errors").
 */
#include "config.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "c-tls-private.h"

/* ---- Errors ----------------------------------------------------------------------------- */

static const char *
last_reason (unsigned long e)
{
  const char *reason = ERR_reason_error_string (e);
  return reason != NULL ? reason : "unknown error";
}

/* The failure after an SSL call returned @ssl_error: a specific GError and an errno. */
void
c_tls_transport_fail (TlsTransport *t, int ssl_error)
{
  unsigned long e = ERR_peek_last_error ();
  int reason = ERR_GET_REASON (e);
  gboolean handshake = t->handshaking;
  GError *error = NULL;
  int code = EPROTO;

  if (t->failed)
    return;
  if (t->verify_error != NULL)
    error = g_steal_pointer (&t->verify_error);
  else if (t->alpn_failed || reason == SSL_R_NO_APPLICATION_PROTOCOL
           || reason == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)
    error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
                         "no common protocol: the peers share no ALPN protocol");
  else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED,
                         "peer did not send a certificate");
  else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
    error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED,
                         "the peer requires a certificate and none was sent");
  else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST
           || reason == SSL_R_HTTPS_PROXY_REQUEST || reason == SSL_R_UNKNOWN_PROTOCOL
           || reason == SSL_R_PACKET_LENGTH_TOO_LONG)
    error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_NOT_TLS, "the peer does not speak TLS (%s)",
                         last_reason (e));
  else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION
           || reason == SSL_R_NO_PROTOCOLS_AVAILABLE || reason == SSL_R_VERSION_TOO_LOW)
    error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE, "no TLS version in common (%s)",
                         last_reason (e));
  else if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE
           || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED
           || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN
           || reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED)
    error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                         "the peer rejected our certificate (%s)", last_reason (e));
  else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING
           || (ssl_error == SSL_ERROR_SYSCALL && e == 0 && t->read_errno == 0))
    {
      code = ECONNABORTED;
      error = handshake ? g_error_new (G_TLS_ERROR, G_TLS_ERROR_EOF,
                                       "the peer closed the connection during the handshake")
                        : g_error_new (G_TLS_ERROR, G_TLS_ERROR_EOF,
                                       "truncated: the peer closed without close_notify");
    }
  else if (ssl_error == SSL_ERROR_SYSCALL && t->read_errno != 0)
    {
      code = t->read_errno;
      error = g_error_new (G_IO_ERROR, g_io_error_from_errno (code), "TLS%s: %s",
                           handshake ? " handshake" : "", g_strerror (code));
    }
  else
    error = g_error_new (G_TLS_ERROR, handshake ? G_TLS_ERROR_HANDSHAKE : G_TLS_ERROR_MISC,
                         "TLS%s failed: %s", handshake ? " handshake" : "", last_reason (e));
  ERR_clear_error ();
  t->failed = TRUE;
  t->fail_code = code;
  t->fail_error = error;
  g_debug ("TLS on descriptor %d: %s", t->fd, error->message);
}

/* ---- Verification ----------------------------------------------------------------------- */

static GTlsCertificateFlags
flags_of (int x509_error)
{
  switch (x509_error)
    {
      case X509_V_OK:
        return 0;
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      case X509_V_ERR_CERT_UNTRUSTED:
      case X509_V_ERR_INVALID_CA:
        return G_TLS_CERTIFICATE_UNKNOWN_CA;
      case X509_V_ERR_CERT_HAS_EXPIRED:
        return G_TLS_CERTIFICATE_EXPIRED;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return G_TLS_CERTIFICATE_NOT_ACTIVATED;
      case X509_V_ERR_CERT_REVOKED:
        return G_TLS_CERTIFICATE_REVOKED;
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return G_TLS_CERTIFICATE_BAD_IDENTITY;
      case X509_V_ERR_EE_KEY_TOO_SMALL:
      case X509_V_ERR_CA_KEY_TOO_SMALL:
      case X509_V_ERR_CA_MD_TOO_WEAK:
        return G_TLS_CERTIFICATE_INSECURE;
      default:
        return G_TLS_CERTIFICATE_GENERIC_ERROR;
    }
}

static int
collect_errors (int ok, X509_STORE_CTX *store_ctx)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx ());
  TlsTransport *t = SSL_get_app_data (ssl);

  if (!ok)
    t->peer_flags |= flags_of (X509_STORE_CTX_get_error (store_ctx));
  return 1; /* go on: every problem is collected, then decided on at once */
}

/* The peer's chain as a GTlsCertificate (leaf first). */
static GTlsCertificate *
certificate_of (X509 *leaf, STACK_OF (X509) * chain)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long length;
  g_autofree char *pem = NULL;
  GTlsCertificate *certificate;
  g_autoptr (GError) error = NULL;

  PEM_write_bio_X509 (bio, leaf);
  for (int i = 0; chain != NULL && i < sk_X509_num (chain); i++)
    if (X509_cmp (sk_X509_value (chain, i), leaf) != 0)
      PEM_write_bio_X509 (bio, sk_X509_value (chain, i));
  length = BIO_get_mem_data (bio, &data);
  pem = g_strndup (data, (gsize) length);
  BIO_free (bio);
  certificate = g_tls_certificate_new_from_pem (pem, -1, &error);
  if (certificate == NULL)
    g_debug ("the peer's certificate as a GTlsCertificate: %s", error->message);
  return certificate;
}

static char *
certificate_name (X509 *leaf)
{
  char name[256] = "";

  X509_NAME_get_text_by_NID (X509_get_subject_name (leaf), NID_commonName, name, sizeof name);
  return g_strdup (name);
}

static GError *
verification_error (TlsTransport *t, X509 *leaf, GTlsCertificateFlags flags)
{
  g_autoptr (GString) message = g_string_new (NULL);
  g_autofree char *name = certificate_name (leaf);

  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append_printf (message, "; certificate for '%s' does not match host '%s'", name,
                            t->peer_name);
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    g_string_append (message, "; certificate has expired");
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_string_append (message, "; certificate is not yet valid");
  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_string_append_printf (message, "; certificate for '%s' is signed by an unknown CA", name);
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    g_string_append (message, "; certificate was revoked");
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    g_string_append (message, "; certificate uses an insecure algorithm or key");
  if (flags & G_TLS_CERTIFICATE_GENERIC_ERROR)
    g_string_append (message, "; certificate could not be verified");
  return g_error_new (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "%s", message->str + 2);
}

/* OpenSSL's verification, run by us (SSL_CTX_set_cert_verify_callback): every problem is
 * collected as GTlsCertificateFlags, then the accept-certificate hook may overrule. */
int
c_tls_verify_certificate (X509_STORE_CTX *store_ctx, void *data)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx ());
  TlsTransport *t = SSL_get_app_data (ssl);
  X509 *leaf = X509_STORE_CTX_get0_cert (store_ctx);
  int first_error;

  t->peer_flags = 0;
  X509_STORE_CTX_set_verify_cb (store_ctx, collect_errors);
  if (X509_verify_cert (store_ctx) <= 0 && t->peer_flags == 0)
    t->peer_flags = G_TLS_CERTIFICATE_GENERIC_ERROR;
  first_error = X509_STORE_CTX_get_error (store_ctx);
  g_clear_object (&t->peer_certificate);
  t->peer_certificate = certificate_of (leaf, X509_STORE_CTX_get0_untrusted (store_ctx));
  if (t->peer_flags == 0 || !c_tls_settings_get_verify_peer (t->settings))
    {
      X509_STORE_CTX_set_error (store_ctx, X509_V_OK);
      return 1;
    }
  if (t->peer_certificate != NULL
      && c_tls_settings_emit_accept_certificate (t->settings, t->socket, t->peer_certificate,
                                                 t->peer_flags))
    {
      X509_STORE_CTX_set_error (store_ctx, X509_V_OK);
      return 1;
    }
  g_clear_error (&t->verify_error);
  t->verify_error = verification_error (t, leaf, t->peer_flags);
  /* The alert the peer gets says why (unknown CA, expired, …). */
  X509_STORE_CTX_set_error (store_ctx,
                            first_error != X509_V_OK ? first_error : X509_V_ERR_CERT_REJECTED);
  return 0;
}

void
c_tls_verify_resumed (TlsTransport *t)
{
  X509 *leaf = SSL_get0_peer_certificate (t->ssl);

  if (leaf == NULL)
    return;
  t->peer_flags = c_tls_session_flags (SSL_get_session (t->ssl));
  g_clear_object (&t->peer_certificate);
  t->peer_certificate = certificate_of (leaf, SSL_get_peer_cert_chain (t->ssl));
}

void
c_tls_transport_note_alpn_failure (SSL *ssl)
{
  TlsTransport *t = SSL_get_app_data (ssl);
  t->alpn_failed = TRUE;
}

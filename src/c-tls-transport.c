/* c-tls-transport.c: TLS (OpenSSL) as a transport under the socket's notifications
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SSL object reads the socket's own descriptor, from the reactor's dispatch on the
 * socket's context (never a thread); what it writes goes into a buffer of ours (a custom
 * BIO) that is flushed to the kernel after each call. A TLS write therefore never
 * half-happens inside OpenSSL: the transport calls SSL_write only once the previous
 * ciphertext has left, and a write that finds it still queued fails with EAGAIN having
 * taken nothing (sendmsg's contract), which OpenSSL's own socket BIO cannot promise (its
 * WANT_WRITE keeps an encrypted record that must be retried with the same bytes).
 * docs/tls.md explains the design; docs/internals.md ("The transport seam") the hook.
 */
#include "config.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "c-tls-private.h"

/* At most this much plaintext per write call, so that what waits in our buffer for room
 * in the kernel stays bounded. */
#define C_TLS_WRITE_LIMIT (64 * 1024)

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

/* ---- The BIO: reads from the descriptor, writes into our buffer ------------------------- */

static BIO_METHOD *bio_method;

static int
bio_write (BIO *bio, const char *data, size_t size, size_t *written)
{
  TlsTransport *t = BIO_get_data (bio);

  g_byte_array_append (t->out, (const guint8 *) data, (guint) size);
  *written = size;
  return 1;
}

static int
bio_read (BIO *bio, char *data, size_t size, size_t *read_bytes)
{
  TlsTransport *t = BIO_get_data (bio);
  ssize_t n;

  BIO_clear_retry_flags (bio);
  do
    n = recv (t->fd, data, size, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    {
      *read_bytes = (size_t) n;
      return 1;
    }
  *read_bytes = 0;
  if (n == 0)
    t->kernel_eof = TRUE;
  else if (errno == EAGAIN || errno == EWOULDBLOCK)
    BIO_set_retry_read (bio);
  else
    t->read_errno = errno;
  return 0;
}

static long
bio_ctrl (BIO *bio, int command, long number, void *pointer)
{
  TlsTransport *t = BIO_get_data (bio);

  switch (command)
    {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_EOF:
        return t->kernel_eof;
      default:
        return 0;
    }
}

static int
bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static BIO_METHOD *
get_bio_method (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      BIO_METHOD *method = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "afxsock");
      BIO_meth_set_write_ex (method, bio_write);
      BIO_meth_set_read_ex (method, bio_read);
      BIO_meth_set_ctrl (method, bio_ctrl);
      BIO_meth_set_create (method, bio_create);
      bio_method = method;
      g_once_init_leave (&once, 1);
    }
  return bio_method;
}

/* Sends what waits in the buffer. TRUE when it is empty; FALSE with errno (EAGAIN: the
 * kernel is full, the next writability report continues). */
static gboolean
flush_out (TlsTransport *t)
{
  while (t->out_offset < t->out->len)
    {
      ssize_t n
          = send (t->fd, t->out->data + t->out_offset, t->out->len - t->out_offset, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int error_code = errno;
          if (error_code != EAGAIN && error_code != EWOULDBLOCK)
            {
              g_byte_array_set_size (t->out, 0); /* the connection is gone */
              t->out_offset = 0;
            }
          errno = error_code;
          return FALSE;
        }
      t->out_offset += (gsize) n;
    }
  g_byte_array_set_size (t->out, 0);
  t->out_offset = 0;
  if (t->shutdown_after_flush != 0)
    {
      shutdown (t->fd, t->shutdown_after_flush - 1);
      t->shutdown_after_flush = 0;
    }
  return TRUE;
}

/* ---- Errors ----------------------------------------------------------------------------- */

static const char *
last_reason (unsigned long e)
{
  const char *reason = ERR_reason_error_string (e);
  return reason != NULL ? reason : "unknown error";
}

/* The failure after an SSL call returned @ssl_error: a specific GError and an errno. */
static void
fail (TlsTransport *t, int ssl_error)
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
int c_tls_verify_certificate (X509_STORE_CTX *store_ctx, void *data);
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
c_tls_transport_note_alpn_failure (SSL *ssl)
{
  TlsTransport *t = SSL_get_app_data (ssl);
  t->alpn_failed = TRUE;
}

/* ---- The handshake ---------------------------------------------------------------------- */

/* One step: 1 when done, 0 when it waits for the peer or the kernel, -1 on failure. */
static int
handshake_step (TlsTransport *t)
{
  int r, ssl_error;

  if (t->failed)
    return -1;
  if (!t->handshaking)
    return 1;
  ERR_clear_error ();
  t->read_errno = 0;
  r = SSL_do_handshake (t->ssl);
  ssl_error = r == 1 ? SSL_ERROR_NONE : SSL_get_error (t->ssl, r);
  flush_out (t);
  if (r == 1)
    {
      t->handshaking = FALSE;
      t->established = TRUE;
      g_debug ("TLS on descriptor %d: %s, %s", t->fd, SSL_get_version (t->ssl),
               SSL_get_cipher_name (t->ssl));
      return 1;
    }
  if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
    return 0;
  fail (t, ssl_error);
  return -1;
}

/* ---- The transport ---------------------------------------------------------------------- */

/* What is known to be readable after a read: decrypted bytes, else the kernel's count. */
static int
remaining_after (TlsTransport *t)
{
  int pending = SSL_pending (t->ssl);
  int unread = 0;

  if (pending > 0)
    return pending;
  if (ioctl (t->fd, FIONREAD, &unread) == 0 && unread > 0)
    return unread;
  return 0;
}

static gssize
tls_read (CTransport *transport, void *buffer, gsize size, int flags, int *remaining)
{
  TlsTransport *t = (TlsTransport *) transport;
  size_t n = 0;
  int ok, ssl_error;

  *remaining = -1;
  if (flags & MSG_OOB)
    {
      errno = EOPNOTSUPP; /* TLS has no urgent data */
      return -1;
    }
  switch (handshake_step (t))
    {
      case 0:
        errno = EAGAIN;
        return -1;
      case -1:
        errno = t->fail_code;
        return -1;
    }
  if (t->close_notify_received)
    return 0;
  ERR_clear_error ();
  t->read_errno = 0;
  ok = (flags & MSG_PEEK) ? SSL_peek_ex (t->ssl, buffer, size, &n)
                          : SSL_read_ex (t->ssl, buffer, size, &n);
  ssl_error = ok ? SSL_ERROR_NONE : SSL_get_error (t->ssl, 0);
  flush_out (t); /* alerts, key updates */
  if (ok)
    {
      *remaining = remaining_after (t);
      return (gssize) n;
    }
  switch (ssl_error)
    {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        /* close_notify: nothing more can come; the kernel's end of stream may follow
         * later, so the socket's read side is shut now for the notification code. */
        t->close_notify_received = TRUE;
        shutdown (t->fd, SHUT_RD);
        *remaining = 0;
        return 0;
      default:
        fail (t, ssl_error);
        errno = t->fail_code;
        return -1;
    }
}

static gssize
tls_write (CTransport *transport, const struct iovec *iov, int count, int flags)
{
  TlsTransport *t = (TlsTransport *) transport;
  gsize total = 0;

  if (flags & MSG_OOB)
    {
      errno = EOPNOTSUPP;
      return -1;
    }
  switch (handshake_step (t))
    {
      case 0:
        errno = EAGAIN;
        return -1;
      case -1:
        errno = t->fail_code;
        return -1;
    }
  if (t->close_notify_sent)
    {
      errno = EPIPE;
      return -1;
    }
  /* The previous ciphertext leaves first: until it has, nothing new is taken. */
  if (!flush_out (t))
    return -1;
  for (int i = 0; i < count && total < C_TLS_WRITE_LIMIT; i++)
    {
      const char *base = iov[i].iov_base;
      gsize done = 0;

      while (done < iov[i].iov_len && total < C_TLS_WRITE_LIMIT)
        {
          gsize chunk = MIN (iov[i].iov_len - done, C_TLS_WRITE_LIMIT - total);
          size_t written = 0;
          int ssl_error;

          ERR_clear_error ();
          if (SSL_write_ex (t->ssl, base + done, chunk, &written) == 1)
            {
              t->write_wants_read = FALSE;
              done += written;
              total += written;
              continue;
            }
          ssl_error = SSL_get_error (t->ssl, 0);
          if (total > 0)
            goto out;
          if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
            {
              /* A write that must read first: on_send comes with the next readability. */
              t->write_wants_read = ssl_error == SSL_ERROR_WANT_READ;
              flush_out (t);
              errno = EAGAIN;
              return -1;
            }
          fail (t, ssl_error);
          errno = t->fail_code;
          return -1;
        }
    }
out:
  /* What the kernel does not take now waits in the buffer; the bytes are taken. */
  if (!flush_out (t) && errno != EAGAIN && errno != EWOULDBLOCK && total == 0)
    return -1;
  return (gssize) total;
}

static gsize
tls_pending (CTransport *transport)
{
  TlsTransport *t = (TlsTransport *) transport;

  if (!t->established || t->failed)
    return 0;
  return (gsize) SSL_pending (t->ssl);
}

static int
tls_shutdown (CTransport *transport, int how)
{
  TlsTransport *t = (TlsTransport *) transport;

  if (how != SHUT_RD && t->established && !t->failed && !t->close_notify_sent)
    {
      ERR_clear_error ();
      SSL_shutdown (t->ssl); /* queues close_notify */
      ERR_clear_error ();
      t->close_notify_sent = TRUE;
      if (!flush_out (t) && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          /* The kernel's end of stream follows close_notify once it has left. */
          t->shutdown_after_flush = how + 1;
          return 0;
        }
    }
  return shutdown (t->fd, how);
}

/* Readiness, before the notifications see it: drives the handshake, flushes, and says
 * whether plaintext is readable (a record may carry none: a session ticket, a key
 * update). */
static guint32
tls_ready (CTransport *transport, guint32 events, int *error_code, GError **error)
{
  TlsTransport *t = (TlsTransport *) transport;

  if (t->failed)
    {
      if (!t->failure_reported)
        {
          t->failure_reported = TRUE;
          *error_code = t->fail_code;
          *error = g_steal_pointer (&t->fail_error);
        }
      return events;
    }
  if ((events & C_REACTOR_WRITABLE) && !flush_out (t))
    events &= ~(guint32) C_REACTOR_WRITABLE;
  if (t->handshaking)
    {
      if (handshake_step (t) < 0)
        return tls_ready (transport, events, error_code, error);
      return 0;
    }
  if (t->write_wants_read && (events & C_REACTOR_READABLE))
    {
      t->write_wants_read = FALSE;
      events |= C_REACTOR_WRITABLE;
    }
  if ((events & C_REACTOR_READABLE) && !t->close_notify_received && SSL_pending (t->ssl) == 0)
    {
      char byte;
      size_t n;
      int ssl_error;

      ERR_clear_error ();
      t->read_errno = 0;
      ssl_error = SSL_peek_ex (t->ssl, &byte, 1, &n) ? SSL_ERROR_NONE : SSL_get_error (t->ssl, 0);
      flush_out (t);
      switch (ssl_error)
        {
          case SSL_ERROR_NONE:
            break;
          case SSL_ERROR_WANT_READ:
          case SSL_ERROR_WANT_WRITE:
            events &= ~(guint32) C_REACTOR_READABLE;
            break;
          case SSL_ERROR_ZERO_RETURN:
            t->close_notify_received = TRUE;
            shutdown (t->fd, SHUT_RD);
            events |= C_REACTOR_READ_HANGUP;
            break;
          default:
            fail (t, ssl_error);
            return tls_ready (transport, events, error_code, error);
        }
    }
  return events;
}

static gboolean
tls_handshaking (CTransport *transport)
{
  return ((TlsTransport *) transport)->handshaking;
}

static void
tls_free (CTransport *transport)
{
  TlsTransport *t = (TlsTransport *) transport;

  /* A close sends close_notify, so that the peer sees a graceful end, not a truncation. */
  if (t->established && !t->failed && !t->close_notify_sent)
    {
      ERR_clear_error ();
      SSL_shutdown (t->ssl);
      ERR_clear_error ();
      flush_out (t);
    }
  SSL_free (t->ssl);
  g_byte_array_unref (t->out);
  g_clear_error (&t->fail_error);
  g_clear_error (&t->verify_error);
  g_clear_object (&t->peer_certificate);
  g_object_unref (t->settings);
  g_free (t->peer_name);
  g_free (t);
}

static const CTransportClass tls_class = {
  .name = "tls",
  .read = tls_read,
  .write = tls_write,
  .pending = tls_pending,
  .shutdown = tls_shutdown,
  .free = tls_free,
  .ready = tls_ready,
  .handshaking = tls_handshaking,
};

static CTransport *
tls_transport_new (CAsyncSocket *socket, CTlsSettings *settings, const char *peer_name,
                   CTransportHandshake handshake)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (socket);
  TlsTransport *t = g_new0 (TlsTransport, 1);
  BIO *bio;

  t->parent.klass = &tls_class;
  t->parent.handshake = handshake;
  t->socket = socket;
  t->fd = priv->fd;
  t->settings = g_object_ref (settings);
  t->peer_name = g_strdup (peer_name);
  t->out = g_byte_array_new ();
  t->handshaking = TRUE;
  t->ssl = SSL_new (c_tls_settings_get_ctx (settings));
  g_assert (t->ssl != NULL);
  SSL_set_app_data (t->ssl, t);
  bio = BIO_new (get_bio_method ());
  BIO_set_data (bio, t);
  SSL_set_bio (t->ssl, bio, bio);
  if (c_tls_settings_get_role (settings) == C_TLS_ROLE_CLIENT)
    {
      SSL_set_connect_state (t->ssl);
      if (peer_name != NULL)
        {
          X509_VERIFY_PARAM *param = SSL_get0_param (t->ssl);
          if (g_hostname_is_ip_address (peer_name))
            X509_VERIFY_PARAM_set1_ip_asc (param, peer_name);
          else
            {
              SSL_set_tlsext_host_name (t->ssl, peer_name);
              X509_VERIFY_PARAM_set1_host (param, peer_name, 0);
            }
        }
    }
  else
    SSL_set_accept_state (t->ssl);
  return &t->parent;
}

static TlsTransport *
tls_of (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->transport == NULL || priv->transport->klass != &tls_class)
    return NULL;
  return (TlsTransport *) priv->transport;
}

/* ---- The hooks in connect and accept ---------------------------------------------------- */

gboolean
c_tls_on_connected (CAsyncSocket *self)
{
  TlsConfig *config = config_quark ? g_object_get_qdata (G_OBJECT (self), config_quark) : NULL;

  if (config == NULL || tls_of (self) != NULL
      || c_tls_settings_get_role (config->settings) != C_TLS_ROLE_CLIENT)
    return FALSE;
  c_transport_set (
      c_async_socket_get_private (self),
      tls_transport_new (self, config->settings, config->peer_name, C_HANDSHAKE_CONNECT));
  return TRUE;
}

void
c_tls_on_accepted (CAsyncSocket *listener, CAsyncSocket *connected)
{
  TlsConfig *config = config_quark ? g_object_get_qdata (G_OBJECT (listener), config_quark) : NULL;

  if (config == NULL || c_tls_settings_get_role (config->settings) != C_TLS_ROLE_SERVER)
    return;
  c_transport_set (c_async_socket_get_private (connected),
                   tls_transport_new (connected, config->settings, NULL, C_HANDSHAKE_ACCEPT));
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
  if (tls_of (self) != NULL)
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
  if (priv->connected || priv->connecting || priv->resolving)
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
  c_transport_set (priv, tls_transport_new (self, settings, peer_name, C_HANDSHAKE_STARTTLS));
  c_async_socket_defer (self, C_DEFER_PROBE);
  return TRUE;
}

/**
 * c_async_socket_is_tls_established:
 * @self: a socket
 *
 * Returns: %TRUE once the socket's TLS handshake has succeeded
 */
gboolean
c_async_socket_is_tls_established (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), FALSE);
  t = tls_of (self);
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
  t = tls_of (self);
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
  t = tls_of (self);
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
  t = tls_of (self);
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
 * Returns: (nullable): the protocol version in use, "TLSv1.2" or "TLSv1.3", or %NULL before
 *   the handshake
 */
const char *
c_async_socket_get_tls_version (CAsyncSocket *self)
{
  TlsTransport *t;

  g_return_val_if_fail (C_IS_ASYNC_SOCKET (self), NULL);
  t = tls_of (self);
  return t != NULL && t->established ? SSL_get_version (t->ssl) : NULL;
}

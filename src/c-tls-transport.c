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
/* A buffer that grew beyond this for one write is freed once it has left. */
#define C_TLS_KEEP_BUFFER (16 * 1024)

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
      t->wire_received += (guint64) n;
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
      t->wire_sent += (guint64) n;
    }
  if (t->out->len > C_TLS_KEEP_BUFFER)
    {
      /* A bulk write's buffer is not kept by an idle connection. */
      g_byte_array_unref (t->out);
      t->out = g_byte_array_new ();
    }
  else
    g_byte_array_set_size (t->out, 0);
  t->out_offset = 0;
  if (t->shutdown_after_flush != 0)
    {
      shutdown (t->fd, t->shutdown_after_flush - 1);
      t->shutdown_after_flush = 0;
    }
  return TRUE;
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
      t->resumed = SSL_session_reused (t->ssl) != 0;
      if (t->resumed && c_tls_settings_get_role (t->settings) == C_TLS_ROLE_CLIENT)
        c_tls_verify_resumed (t);
      g_debug ("TLS on descriptor %d: %s, %s", t->fd, SSL_get_version (t->ssl),
               SSL_get_cipher_name (t->ssl));
      return 1;
    }
  if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
    return 0;
  c_tls_transport_fail (t, ssl_error);
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

/* Whether application data can be read or written now: the handshake is done (it is driven
 * a step further here) and no urgent data is asked for; otherwise FALSE with errno set
 * (EAGAIN while the handshake waits for the peer). */
static gboolean
can_move_data (TlsTransport *t, int flags)
{
  if (flags & MSG_OOB)
    {
      errno = EOPNOTSUPP; /* TLS has no urgent data */
      return FALSE;
    }
  switch (handshake_step (t))
    {
      case 0:
        errno = EAGAIN;
        return FALSE;
      case -1:
        errno = t->fail_code;
        return FALSE;
    }
  return TRUE;
}

/* A record carries at most 16 KiB: a larger buffer is filled from the records that follow
 * until it is full or the kernel has no more (then nothing remains, and no FIONREAD is
 * needed: without read-ahead, OpenSSL wants to read only after recv said EAGAIN). What ends
 * the run early (close_notify, a failure) is kept for the next call, which a non-zero
 * remaining count brings. */
static gssize
fill_from_records (TlsTransport *t, void *buffer, gsize size, size_t n, int *remaining)
{
  while (n < size)
    {
      size_t more = 0;
      int ssl_error;

      ERR_clear_error ();
      if (SSL_read_ex (t->ssl, (char *) buffer + n, size - n, &more))
        {
          n += more;
          continue;
        }
      ssl_error = SSL_get_error (t->ssl, 0);
      flush_out (t);
      if (ssl_error == SSL_ERROR_WANT_READ)
        {
          *remaining = 0;
          return (gssize) n;
        }
      if (ssl_error == SSL_ERROR_ZERO_RETURN)
        {
          t->close_notify_received = TRUE;
          shutdown (t->fd, SHUT_RD);
        }
      else if (ssl_error != SSL_ERROR_WANT_WRITE)
        c_tls_transport_fail (t, ssl_error);
      *remaining = 1;
      return (gssize) n;
    }
  *remaining = remaining_after (t);
  return (gssize) n;
}

static gssize
tls_read (CTransport *transport, void *buffer, gsize size, int flags, int *remaining)
{
  TlsTransport *t = (TlsTransport *) transport;
  size_t n = 0;
  int ok, ssl_error;

  *remaining = -1;
  if (!can_move_data (t, flags))
    return -1;
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
      if (!(flags & MSG_PEEK))
        return fill_from_records (t, buffer, size, n, remaining);
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
        c_tls_transport_fail (t, ssl_error);
        errno = t->fail_code;
        return -1;
    }
}

static gssize
tls_write (CTransport *transport, const struct iovec *iov, int count, int flags)
{
  TlsTransport *t = (TlsTransport *) transport;
  gsize total = 0;

  if (!can_move_data (t, flags))
    return -1;
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
          c_tls_transport_fail (t, ssl_error);
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
            c_tls_transport_fail (t, ssl_error);
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
  g_free (t->session_key);
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

CTransport *
c_tls_transport_new (CAsyncSocket *socket, CTlsSettings *settings, const char *peer_name,
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
      CTlsSessionCache *sessions = c_tls_settings_get_sessions (settings);

      SSL_set_connect_state (t->ssl);
      t->session_key = sessions != NULL ? c_tls_session_key (peer_name, t->fd) : NULL;
      if (t->session_key != NULL)
        {
          SSL_SESSION *session = c_tls_session_cache_take (sessions, t->session_key);
          if (session != NULL)
            SSL_set_session (t->ssl, session);
          SSL_SESSION_free (session);
        }
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

TlsTransport *
c_tls_transport_of (CAsyncSocket *self)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);

  if (priv->transport == NULL || priv->transport->klass != &tls_class)
    return NULL;
  return (TlsTransport *) priv->transport;
}

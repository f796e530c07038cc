/* c-transport.h: the byte transport under a connected stream socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every byte that a connected stream socket reads or writes goes through these few calls:
 * c_async_socket_receive and _send (and so CSocket and CSocketFile, which are built on
 * them), the record reader and the write queue's vectored writes. Datagram and raw sockets
 * call the kernel directly.
 *
 * The first transport is the socket itself (c-transport-plain.c): a socket whose
 * `transport` is NULL uses it, through direct calls that the compiler can inline, so the
 * plain path pays nothing for the seam. A second transport (TLS, an in-memory one for the
 * fuzzers) is a CTransport with its own class; docs/internals.md says what it must provide.
 * The notification code asks the transport, never the kernel, whether data remains: a
 * transport may hold bytes above the kernel (decrypted and not yet read) for which no
 * readiness report will ever come.
 */
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "c-async-socket-private.h"

G_BEGIN_DECLS

/* How the end of a transport's handshake is announced (c-async-socket-events.c). */
typedef enum
{
  C_HANDSHAKE_NONE,     /* no handshake, or its end was announced */
  C_HANDSHAKE_CONNECT,  /* TLS from the start, client: on_connect */
  C_HANDSHAKE_ACCEPT,   /* TLS from the start, server: nothing, or on_close on failure */
  C_HANDSHAKE_STARTTLS, /* on a live connection: on_handshake */
} CTransportHandshake;

typedef struct
{
  const char *name;
  /* recv()'s contract: n > 0 bytes, 0 at the end of the stream, -1 with errno set (EAGAIN
   * when nothing is there now; EINTR never). @flags: MSG_PEEK, MSG_OOB (a transport that
   * has no urgent data fails with EOPNOTSUPP). *remaining: the bytes known to be readable
   * after this read, -1 when unknown. */
  gssize (*read) (CTransport *transport, void *buffer, gsize size, int flags, int *remaining);
  /* sendmsg()'s contract: the bytes taken from @iov (possibly fewer), -1 with errno set;
   * never SIGPIPE, never EINTR. */
  gssize (*write) (CTransport *transport, const struct iovec *iov, int count, int flags);
  /* The bytes read from the kernel and held above it, readable without a new report. */
  gsize (*pending) (CTransport *transport);
  /* shutdown()'s contract, @how SHUT_RD, SHUT_WR or SHUT_RDWR: a transport with a closing
   * handshake of its own sends it before the kernel's end of stream. */
  int (*shutdown) (CTransport *transport, int how);
  /* Frees the transport; the descriptor is the socket's, closed by the socket. */
  void (*free) (CTransport *transport);
  /* Optional, for a transport with a protocol of its own (TLS); NULL otherwise.
   * ready: told each readiness report of a connected socket before the notifications:
   * drives the handshake (returning 0 while it runs), flushes what the transport holds,
   * and returns the report as the application's bytes see it (readable only when plaintext
   * is; writable only when a write can proceed; C_REACTOR_READ_HANGUP for the transport's
   * own end of stream). A failure is returned once, as *error_code and *error.
   * handshaking: whether the handshake is still under way. */
  guint32 (*ready) (CTransport *transport, guint32 events, int *error_code, GError **error);
  gboolean (*handshaking) (CTransport *transport);
} CTransportClass;

struct _CTransport
{
  const CTransportClass *klass;
  CTransportHandshake handshake; /* a handshake whose end is still to be announced */
};

/* Whether the socket's transport has a handshake whose end is still to be announced. */
static inline gboolean
c_transport_in_handshake (CAsyncSocketPrivate *priv)
{
  return priv->transport != NULL && priv->transport->handshake != C_HANDSHAKE_NONE;
}

/* The plain socket transport (c-transport-plain.c; its two calls per message are here, to
 * be inlined). */
gssize c_transport_plain_read_counting (CAsyncSocketPrivate *priv, void *buffer, gsize size,
                                        int flags, int *remaining);
gboolean c_transport_kernel_has_unread (CAsyncSocketPrivate *priv);
void c_transport_plain_count_remaining (CAsyncSocketPrivate *priv);

static inline gssize
c_transport_plain_read (CAsyncSocketPrivate *priv, void *buffer, gsize size, int flags,
                        int *remaining)
{
  gssize n;

  if (priv->tcp_inq == C_TCP_INQ_ON && !(flags & (MSG_OOB | MSG_PEEK)))
    return c_transport_plain_read_counting (priv, buffer, size, flags, remaining);
  *remaining = -1;
  do
    n = recv (priv->fd, buffer, size, flags);
  while (n < 0 && errno == EINTR);
  return n;
}

static inline gssize
c_transport_plain_write (CAsyncSocketPrivate *priv, const struct iovec *iov, int count, int flags)
{
  struct msghdr message = { 0 };
  gssize n;

  message.msg_iov = (struct iovec *) iov;
  message.msg_iovlen = (size_t) count;
  do
    n = count == 1 ? send (priv->fd, iov[0].iov_base, iov[0].iov_len, flags | MSG_NOSIGNAL)
                   : sendmsg (priv->fd, &message, flags | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

static inline gssize
c_transport_read (CAsyncSocketPrivate *priv, void *buffer, gsize size, int flags, int *remaining)
{
  if (G_LIKELY (priv->transport == NULL))
    return c_transport_plain_read (priv, buffer, size, flags, remaining);
  return priv->transport->klass->read (priv->transport, buffer, size, flags, remaining);
}

static inline gssize
c_transport_write (CAsyncSocketPrivate *priv, const struct iovec *iov, int count, int flags)
{
  if (G_LIKELY (priv->transport == NULL))
    return c_transport_plain_write (priv, iov, count, flags);
  return priv->transport->klass->write (priv->transport, iov, count, flags);
}

static inline gsize
c_transport_pending (CAsyncSocketPrivate *priv)
{
  return priv->transport == NULL ? 0 : priv->transport->klass->pending (priv->transport);
}

/* Whether a read would return something now: bytes above the kernel, or in it. */
static inline gboolean
c_transport_has_unread (CAsyncSocketPrivate *priv)
{
  return c_transport_pending (priv) > 0 || c_transport_kernel_has_unread (priv);
}

static inline int
c_transport_shutdown (CAsyncSocketPrivate *priv, int how)
{
  if (priv->transport == NULL)
    return shutdown (priv->fd, how);
  return priv->transport->klass->shutdown (priv->transport, how);
}

/* Asks for *remaining from the next reads where the transport can tell it cheaply (the
 * plain transport turns on TCP_INQ; others always tell, or never). */
static inline void
c_transport_count_remaining (CAsyncSocketPrivate *priv)
{
  if (priv->transport == NULL)
    c_transport_plain_count_remaining (priv);
}

/* Gives the socket a transport (NULL: the plain one again), freeing the one it had. */
void c_transport_set (CAsyncSocketPrivate *priv, CTransport *transport);

/* An in-memory transport (c-transport-memory.c), for the fuzzers and tests: reads come from
 * @data in chunks whose sizes cycle through @chunks (each at least 1; NULL: all at once),
 * then the end of the stream; writes are taken whole and counted. */
CTransport *c_transport_memory_new (GBytes *data, const gsize *chunks, gsize n_chunks);
gsize c_transport_memory_written (CTransport *transport);

G_END_DECLS

/* c-transport-plain.c: the plain socket transport, and the transport slot of a socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The socket's own descriptor, read and written by the kernel's calls. Reads can also say
 * how many bytes remain queued: TCP_INQ (Linux 4.18) attaches that count to each read, so a
 * reader that filled its buffer knows without a poll() whether to be notified again. It is
 * turned on per socket, only for readers whose reads fill the buffer (bulk readers), so
 * that other sockets pay no system call for it.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>

#include "c-transport.h"

void
c_transport_plain_count_remaining (CAsyncSocketPrivate *priv)
{
  int on = 1;

  if (priv->tcp_inq != C_TCP_INQ_UNTRIED)
    return;
  priv->tcp_inq = C_TCP_INQ_UNAVAILABLE;
  if ((priv->family == G_SOCKET_FAMILY_IPV4 || priv->family == G_SOCKET_FAMILY_IPV6)
      && (priv->protocol == 0 || priv->protocol == IPPROTO_TCP)
      && setsockopt (priv->fd, IPPROTO_TCP, TCP_INQ, &on, sizeof on) == 0)
    priv->tcp_inq = C_TCP_INQ_ON;
}

/* recvmsg() with TCP_INQ's count of the bytes still queued afterwards. */
static gssize
receive_counting_rest (CAsyncSocketPrivate *priv, void *buffer, gsize size, int flags,
                       int *remaining)
{
  union
  {
    char buffer[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { buffer, size };
  struct msghdr message = { 0 };
  gssize n;

  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.buffer;
  message.msg_controllen = sizeof control.buffer;
  n = recvmsg (priv->fd, &message, flags);
  if (n < 0)
    return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&message); c != NULL; c = CMSG_NXTHDR (&message, c))
    if (c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ
        && c->cmsg_len >= CMSG_LEN (sizeof (int)))
      memcpy (remaining, CMSG_DATA (c), sizeof (int));
  return n;
}

/* A read that also learns how many bytes remain queued (TCP_INQ is on). */
gssize
c_transport_plain_read_counting (CAsyncSocketPrivate *priv, void *buffer, gsize size, int flags,
                                 int *remaining)
{
  gssize n;

  *remaining = -1;
  do
    n = receive_counting_rest (priv, buffer, size, flags, remaining);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Whether bytes wait in the kernel. FIONREAD stops at TCP's urgent mark, so once urgent data
 * was seen a one-byte peek (which steps over the mark) decides instead. */
gboolean
c_transport_kernel_has_unread (CAsyncSocketPrivate *priv)
{
  int unread = 0;
  char byte;

  if (priv->urgent_seen)
    return recv (priv->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  return ioctl (priv->fd, FIONREAD, &unread) == 0 && unread > 0;
}

void
c_transport_set (CAsyncSocketPrivate *priv, CTransport *transport)
{
  if (priv->transport != NULL)
    priv->transport->klass->free (priv->transport);
  priv->transport = transport;
}

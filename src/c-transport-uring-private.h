/* c-transport-uring-private.h: the io_uring transport's state, shared by its two files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * c-transport-uring.c is the transport (receiving, the class, its life); c-transport-uring-send.c
 * its sending and what a close leaves to the ring. The design is at the top of the first.
 */
#pragma once

#include "c-reactor-uring.h"

G_BEGIN_DECLS

#define C_URING_HELD_MAX 8
#define C_URING_SPILL_HIGH (256 * 1024)
#define C_URING_SPILL_LOW (64 * 1024)
#define C_URING_OUT_LIMIT (256 * 1024)
#define C_URING_OUT_MIN 4096

typedef enum
{
  RECV_WANTED,     /* to be armed at the next submission; reads go to the kernel meanwhile */
  RECV_ARMED,      /* the multishot receive is in the ring */
  RECV_CANCELLING, /* cancelled for holding too much; its last completion is still to come */
  RECV_STOPPED,    /* cancelled; armed again when the application has read enough */
  RECV_ENDED,      /* end of stream or an error: nothing more will come */
  RECV_DIRECT,     /* urgent data is selected: reads go to the kernel (see below) */
} RecvState;

typedef struct
{
  guint16 bid;
  guint32 offset, length;
} Held;

typedef struct
{
  CTransport parent;
  CRing *ring;
  CAsyncSocketPrivate *priv;
  int fd;
  guint64 recv_tag;
  RecvState recv;
  gboolean input_moved; /* the epoll interest no longer asks for input */
  gboolean eof;
  int read_error;

  Held held[C_URING_HELD_MAX];
  guint held_first, n_held;
  GByteArray *spill;
  gsize spill_offset;
  gsize pending;

  CRingSend *out;    /* accepted, not yet submitted */
  CRingSend *flight; /* submitted, not yet complete */
  int write_error;
  int socket_error; /* taken from the kernel by a completion, for take_error */
  gboolean want_writable;
  gboolean shutdown_wanted; /* SHUT_WR once what is queued has left */
  gboolean sends_shut;      /* shut down for sending: writes fail with EPIPE */

  GList submit_link;
  GList hold_link;
} UringTransport;

/* c-transport-uring.c */
void c_uring_post (UringTransport *t, guint32 events);
void c_uring_want_submit (UringTransport *t);

/* c-transport-uring-send.c */
gsize c_uring_out_pending (UringTransport *t);
gboolean c_uring_send_stuck (UringTransport *t);
gssize c_uring_write (CTransport *transport, const struct iovec *iov, int count, int flags);
int c_uring_shutdown (CTransport *transport, int how);
void c_uring_orphan_output (UringTransport *t);

G_END_DECLS

/* fault-shim.c: an LD_PRELOAD library that makes socket calls fail or fall short at random
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Preloaded into a test, it wraps send, sendto, sendmsg, recv, recvfrom and recvmsg on TCP
 * sockets (IPv4 and IPv6 only, so that the test framework's own Unix-domain IPC is left
 * alone), and accept and accept4 on TCP listeners. A seeded generator decides, for each
 * call, whether it runs as asked or
 *
 * - is interrupted: -1 with EINTR, nothing done;
 * - would block: -1 with EAGAIN, nothing done (see below);
 * - falls short: a send takes, or a receive returns, fewer bytes than asked (at least one),
 *   as POSIX allows any time and as Linux does, for instance, at TCP's urgent mark;
 * - for accept: fails with EMFILE or ENFILE, the connection left in the backlog, exactly
 *   as when the descriptor table is full.
 *
 * Environment:
 *   AFXSOCK_FAULT_SEED    the seed; without it every call passes through untouched
 *   AFXSOCK_FAULT_RATE    percent of eligible calls that get a fault (default 30)
 *   AFXSOCK_FAULT_EAGAIN  how an injected EAGAIN is modelled: "edge" (default), "none" or
 *                         "spurious"
 *   AFXSOCK_FAULT_SHORT   how a short receive is modelled: "edge" (default) or "bare"
 *
 * EAGAIN needs care. An edge-triggered reactor (afxsock's, nginx's, any epoll user with
 * EPOLLET) reads or writes until EAGAIN and then sleeps until the kernel reports the next
 * change of readiness; epoll(7) documents exactly that use. Linux returns EAGAIN from a
 * non-blocking socket call only when the socket really has no data (no room, no pending
 * connection), and the change that ends that state raises a new edge. An EAGAIN injected
 * while the socket is ready breaks that contract: no edge will ever follow, because the
 * state never changes. "spurious" does just that, to show the consequence (the reactor
 * sleeps on a ready socket until other traffic wakes it). The honest model, "edge", keeps
 * the contract: the EAGAIN stands for "the data (room, connection) arrived just after the
 * call looked", so the shim owes the socket the edge that arrival would have raised, and
 * adds it to the next epoll_wait on the epoll instance that watches the socket (and makes
 * that instance poll as readable meanwhile, so that a main loop sleeping in poll wakes up).
 * "none" injects no EAGAIN at all.
 *
 * A short receive is the same question. POSIX allows one at any time; Linux's TCP returns
 * one with data still queued only at the urgent mark (and Unix stream sockets at a passed
 * descriptor or a change of credentials); otherwise a short read means the queue was empty
 * at that instant, and what comes next raises an edge. So by default ("edge") a short
 * receive that filled what it was allowed owes the socket an edge too, as if the rest had
 * arrived just after; "bare" owes none, to show what a reader that relies on the rule does
 * when the rule does not hold (the urgent-mark and passed-descriptor cases are tested
 * directly, without the shim).
 *
 * The test reads what was injected through afxsock_fault_shim_get_stats(), looked up with
 * dlsym, which also tells it whether the shim is loaded at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define MAX_TRACKED_FD 65536
#define MAX_IOV 1024

typedef struct
{
  unsigned long long calls;       /* eligible calls seen */
  unsigned long long interrupted; /* EINTR */
  unsigned long long would_block; /* EAGAIN */
  unsigned long long short_calls; /* partial sends and receives */
  unsigned long long emfile;
  unsigned long long enfile;
  unsigned long long edges; /* readiness edges delivered after an injected EAGAIN */
} AfxsockFaultStats;

typedef enum
{
  EAGAIN_EDGE,
  EAGAIN_NONE,
  EAGAIN_SPURIOUS
} EagainModel;

typedef enum
{
  FAULT_NONE,
  FAULT_EINTR,
  FAULT_EAGAIN,
  FAULT_SHORT
} Fault;

/* The epoll registration of a descriptor, to deliver owed edges. */
typedef struct
{
  int epoll_fd; /* 0 when not registered (descriptor 0 is never an epoll instance here) */
  struct epoll_event event;
  uint32_t owed;
} Tracked;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int enabled;
static unsigned rate = 30;
static EagainModel eagain_model = EAGAIN_EDGE;
static int short_receive_owes_edge = 1;
static uint64_t state;
static AfxsockFaultStats stats;
static Tracked tracked[MAX_TRACKED_FD];
static int tracked_end; /* one past the highest descriptor ever registered */
static int owed_count;

static ssize_t (*real_send) (int, const void *, size_t, int);
static ssize_t (*real_sendto) (int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg) (int, const struct msghdr *, int);
static ssize_t (*real_recv) (int, void *, size_t, int);
static ssize_t (*real_recvfrom) (int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg) (int, struct msghdr *, int);
static int (*real_accept) (int, struct sockaddr *, socklen_t *);
static int (*real_accept4) (int, struct sockaddr *, socklen_t *, int);
static int (*real_epoll_ctl) (int, int, int, struct epoll_event *);
static int (*real_epoll_wait) (int, struct epoll_event *, int, int);
static int (*real_poll) (struct pollfd *, nfds_t, int);

int afxsock_fault_shim_get_stats (AfxsockFaultStats *out);

static void
initialize (void)
{
  const char *seed = getenv ("AFXSOCK_FAULT_SEED");
  const char *text;

  real_send = dlsym (RTLD_NEXT, "send");
  real_sendto = dlsym (RTLD_NEXT, "sendto");
  real_sendmsg = dlsym (RTLD_NEXT, "sendmsg");
  real_recv = dlsym (RTLD_NEXT, "recv");
  real_recvfrom = dlsym (RTLD_NEXT, "recvfrom");
  real_recvmsg = dlsym (RTLD_NEXT, "recvmsg");
  real_accept = dlsym (RTLD_NEXT, "accept");
  real_accept4 = dlsym (RTLD_NEXT, "accept4");
  real_epoll_ctl = dlsym (RTLD_NEXT, "epoll_ctl");
  real_epoll_wait = dlsym (RTLD_NEXT, "epoll_wait");
  real_poll = dlsym (RTLD_NEXT, "poll");
  if (seed == NULL || *seed == '\0')
    return;
  enabled = 1;
  state = strtoull (seed, NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
  if ((text = getenv ("AFXSOCK_FAULT_RATE")) != NULL)
    rate = (unsigned) atoi (text);
  if ((text = getenv ("AFXSOCK_FAULT_SHORT")) != NULL)
    short_receive_owes_edge = strcmp (text, "bare") != 0;
  if ((text = getenv ("AFXSOCK_FAULT_EAGAIN")) != NULL)
    eagain_model = strcmp (text, "none") == 0       ? EAGAIN_NONE
                   : strcmp (text, "spurious") == 0 ? EAGAIN_SPURIOUS
                                                    : EAGAIN_EDGE;
}

static void
ensure_initialized (void)
{
  pthread_once (&once, initialize);
}

/* xorshift64*, under the lock. */
static uint64_t
next_random (void)
{
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dull;
}

static int
is_tcp (int fd, int want_listener)
{
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  int type = 0, listening = 0;
  socklen_t size = sizeof type;

  if (getsockname (fd, (struct sockaddr *) &address, &length) < 0)
    return 0;
  if (address.ss_family != AF_INET && address.ss_family != AF_INET6)
    return 0;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &size) < 0 || type != SOCK_STREAM)
    return 0;
  size = sizeof listening;
  getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size);
  return (listening != 0) == (want_listener != 0);
}

/* Decides the fault of one call on @fd; for FAULT_SHORT, *limit is the new size. */
static Fault
decide (int fd, size_t size, size_t *limit)
{
  Fault fault = FAULT_NONE;
  uint64_t r;

  ensure_initialized ();
  if (!enabled || !is_tcp (fd, 0))
    return FAULT_NONE;
  pthread_mutex_lock (&lock);
  stats.calls++;
  r = next_random ();
  if (r % 100 < rate)
    {
      unsigned kind = (unsigned) ((r >> 8) % 10);
      if (kind < 3)
        fault = FAULT_EINTR;
      else if (kind < 5 && eagain_model != EAGAIN_NONE)
        fault = FAULT_EAGAIN;
      else if (size > 1)
        {
          fault = FAULT_SHORT;
          *limit = 1 + (size_t) ((r >> 16) % (size - 1));
        }
    }
  if (fault == FAULT_EINTR)
    stats.interrupted++;
  else if (fault == FAULT_EAGAIN)
    stats.would_block++;
  else if (fault == FAULT_SHORT)
    stats.short_calls++;
  pthread_mutex_unlock (&lock);
  return fault;
}

/* The edge the kernel would raise when the state that made the call block ends. */
static void
add_owed_edge (int fd, uint32_t events)
{
  if (fd < 0 || fd >= MAX_TRACKED_FD)
    return;
  pthread_mutex_lock (&lock);
  if (tracked[fd].epoll_fd > 0 && (tracked[fd].event.events & events))
    {
      if (tracked[fd].owed == 0)
        owed_count++;
      tracked[fd].owed |= events;
    }
  pthread_mutex_unlock (&lock);
}

static void
owe_edge (int fd, uint32_t events)
{
  if (eagain_model == EAGAIN_EDGE)
    add_owed_edge (fd, events);
}

/* After a short receive that filled all it was allowed: more may be queued. */
static ssize_t
after_short_receive (int fd, ssize_t n, size_t limit)
{
  int saved = errno;

  if (n > 0 && (size_t) n == limit && short_receive_owes_edge)
    add_owed_edge (fd, EPOLLIN);
  errno = saved;
  return n;
}

static ssize_t
fail (int code)
{
  errno = code;
  return -1;
}

ssize_t
send (int fd, const void *buffer, size_t size, int flags)
{
  size_t limit = size;

  switch (decide (fd, size, &limit))
    {
      case FAULT_EINTR:
        return fail (EINTR);
      case FAULT_EAGAIN:
        owe_edge (fd, EPOLLOUT);
        return fail (EAGAIN);
      default:
        return real_send (fd, buffer, limit, flags);
    }
}

ssize_t
sendto (int fd, const void *buffer, size_t size, int flags, const struct sockaddr *address,
        socklen_t length)
{
  size_t limit = size;

  switch (decide (fd, size, &limit))
    {
      case FAULT_EINTR:
        return fail (EINTR);
      case FAULT_EAGAIN:
        owe_edge (fd, EPOLLOUT);
        return fail (EAGAIN);
      default:
        return real_sendto (fd, buffer, limit, flags, address, length);
    }
}

static size_t
iov_total (const struct iovec *iov, size_t count)
{
  size_t total = 0;

  for (size_t i = 0; i < count; i++)
    total += iov[i].iov_len;
  return total;
}

/* Copies the first @limit bytes' worth of @message's vector into @iov; returns its count. */
static size_t
truncate_iov (const struct msghdr *message, struct iovec *iov, size_t limit)
{
  size_t count = 0;

  for (size_t i = 0; i < message->msg_iovlen && limit > 0; i++)
    {
      iov[count] = message->msg_iov[i];
      if (iov[count].iov_len > limit)
        iov[count].iov_len = limit;
      limit -= iov[count].iov_len;
      count++;
    }
  return count;
}

ssize_t
sendmsg (int fd, const struct msghdr *message, int flags)
{
  size_t total, limit;
  struct iovec iov[MAX_IOV];
  struct msghdr shorter;

  ensure_initialized ();
  if (message->msg_iovlen > MAX_IOV)
    return real_sendmsg (fd, message, flags);
  total = limit = iov_total (message->msg_iov, message->msg_iovlen);
  switch (decide (fd, total, &limit))
    {
      case FAULT_EINTR:
        return fail (EINTR);
      case FAULT_EAGAIN:
        owe_edge (fd, EPOLLOUT);
        return fail (EAGAIN);
      case FAULT_SHORT:
        shorter = *message;
        shorter.msg_iov = iov;
        shorter.msg_iovlen = truncate_iov (message, iov, limit);
        return real_sendmsg (fd, &shorter, flags);
      default:
        return real_sendmsg (fd, message, flags);
    }
}

/* Receives with MSG_PEEK or MSG_OOB are left alone: they do not consume the stream. */
static Fault
decide_receive (int fd, size_t size, int flags, size_t *limit)
{
  if (flags & (MSG_PEEK | MSG_OOB))
    return FAULT_NONE;
  return decide (fd, size, limit);
}

ssize_t
recv (int fd, void *buffer, size_t size, int flags)
{
  size_t limit = size;

  ensure_initialized ();
  switch (decide_receive (fd, size, flags, &limit))
    {
      case FAULT_EINTR:
        return fail (EINTR);
      case FAULT_EAGAIN:
        owe_edge (fd, EPOLLIN);
        return fail (EAGAIN);
      case FAULT_SHORT:
        return after_short_receive (fd, real_recv (fd, buffer, limit, flags), limit);
      default:
        return real_recv (fd, buffer, limit, flags);
    }
}

ssize_t
recvfrom (int fd, void *buffer, size_t size, int flags, struct sockaddr *address, socklen_t *length)
{
  size_t limit = size;

  ensure_initialized ();
  switch (decide_receive (fd, size, flags, &limit))
    {
      case FAULT_EINTR:
        return fail (EINTR);
      case FAULT_EAGAIN:
        owe_edge (fd, EPOLLIN);
        return fail (EAGAIN);
      case FAULT_SHORT:
        return after_short_receive (fd, real_recvfrom (fd, buffer, limit, flags, address, length),
                                    limit);
      default:
        return real_recvfrom (fd, buffer, limit, flags, address, length);
    }
}

ssize_t
recvmsg (int fd, struct msghdr *message, int flags)
{
  size_t total, limit;
  struct iovec iov[MAX_IOV];
  struct msghdr shorter;
  ssize_t n;

  ensure_initialized ();
  if (message->msg_iovlen > MAX_IOV)
    return real_recvmsg (fd, message, flags);
  total = limit = iov_total (message->msg_iov, message->msg_iovlen);
  switch (decide_receive (fd, total, flags, &limit))
    {
      case FAULT_EINTR:
        return fail (EINTR);
      case FAULT_EAGAIN:
        owe_edge (fd, EPOLLIN);
        return fail (EAGAIN);
      case FAULT_SHORT:
        shorter = *message;
        shorter.msg_iov = iov;
        shorter.msg_iovlen = truncate_iov (message, iov, limit);
        n = real_recvmsg (fd, &shorter, flags);
        message->msg_flags = shorter.msg_flags;
        message->msg_controllen = shorter.msg_controllen;
        message->msg_namelen = shorter.msg_namelen;
        return after_short_receive (fd, n, limit);
      default:
        return real_recvmsg (fd, message, flags);
    }
}

/* Accept: EMFILE, ENFILE, EINTR, EAGAIN; the pending connection stays queued. */
static int
decide_accept (int fd)
{
  int code = 0;
  uint64_t r;

  ensure_initialized ();
  if (!enabled || !is_tcp (fd, 1))
    return 0;
  pthread_mutex_lock (&lock);
  stats.calls++;
  r = next_random ();
  if (r % 100 < rate)
    {
      unsigned kind = (unsigned) ((r >> 8) % 10);
      if (kind < 4)
        code = EMFILE;
      else if (kind < 6)
        code = ENFILE;
      else if (kind < 8)
        code = EINTR;
      else if (eagain_model != EAGAIN_NONE)
        code = EAGAIN;
    }
  stats.emfile += code == EMFILE;
  stats.enfile += code == ENFILE;
  stats.interrupted += code == EINTR;
  stats.would_block += code == EAGAIN;
  pthread_mutex_unlock (&lock);
  if (code == EAGAIN)
    owe_edge (fd, EPOLLIN);
  return code;
}

int
accept (int fd, struct sockaddr *address, socklen_t *length)
{
  int code = decide_accept (fd);

  if (code != 0)
    return (int) fail (code);
  return real_accept (fd, address, length);
}

int
accept4 (int fd, struct sockaddr *address, socklen_t *length, int flags)
{
  int code = decide_accept (fd);

  if (code != 0)
    return (int) fail (code);
  return real_accept4 (fd, address, length, flags);
}

/* The epoll side of the "edge" model. */

int
epoll_ctl (int epoll_fd, int operation, int fd, struct epoll_event *event)
{
  int result;

  ensure_initialized ();
  result = real_epoll_ctl (epoll_fd, operation, fd, event);
  if (result < 0 || fd < 0 || fd >= MAX_TRACKED_FD)
    return result;
  pthread_mutex_lock (&lock);
  if (operation == EPOLL_CTL_DEL)
    {
      if (tracked[fd].owed != 0)
        owed_count--;
      memset (&tracked[fd], 0, sizeof tracked[fd]);
    }
  else if (event != NULL)
    {
      tracked[fd].epoll_fd = epoll_fd;
      tracked[fd].event = *event;
      if (fd >= tracked_end)
        tracked_end = fd + 1;
    }
  pthread_mutex_unlock (&lock);
  return result;
}

/* Adds the owed edges of @epoll_fd's descriptors to @events; returns the new count. */
static int
add_owed_edges (int epoll_fd, struct epoll_event *events, int count, int capacity)
{
  for (int fd = 0; fd < tracked_end && owed_count > 0; fd++)
    {
      Tracked *t = &tracked[fd];
      int merged = 0;

      if (t->owed == 0 || t->epoll_fd != epoll_fd)
        continue;
      for (int i = 0; i < count && !merged; i++)
        if (events[i].data.u64 == t->event.data.u64)
          {
            events[i].events |= t->owed;
            merged = 1;
          }
      if (!merged && count < capacity)
        {
          events[count].events = t->owed;
          events[count].data = t->event.data;
          count++;
          merged = 1;
        }
      if (merged)
        {
          t->owed = 0;
          owed_count--;
          stats.edges++;
        }
    }
  return count;
}

static int
has_owed_edges (int epoll_fd)
{
  for (int fd = 0; fd < tracked_end && owed_count > 0; fd++)
    if (tracked[fd].owed != 0 && tracked[fd].epoll_fd == epoll_fd)
      return 1;
  return 0;
}

int
epoll_wait (int epoll_fd, struct epoll_event *events, int capacity, int timeout)
{
  int owed, count;

  ensure_initialized ();
  pthread_mutex_lock (&lock);
  owed = owed_count > 0 && has_owed_edges (epoll_fd);
  pthread_mutex_unlock (&lock);
  count = real_epoll_wait (epoll_fd, events, capacity, owed ? 0 : timeout);
  if (!owed || count < 0)
    return count;
  pthread_mutex_lock (&lock);
  count = add_owed_edges (epoll_fd, events, count, capacity);
  pthread_mutex_unlock (&lock);
  return count;
}

int
poll (struct pollfd *fds, nfds_t n, int timeout)
{
  int ready = 0, result;

  ensure_initialized ();
  pthread_mutex_lock (&lock);
  for (nfds_t i = 0; i < n && owed_count > 0; i++)
    if ((fds[i].events & POLLIN) && fds[i].fd > 0 && has_owed_edges (fds[i].fd))
      ready = 1;
  pthread_mutex_unlock (&lock);
  result = real_poll (fds, n, ready ? 0 : timeout);
  if (!ready || result < 0)
    return result;
  result = 0;
  pthread_mutex_lock (&lock);
  for (nfds_t i = 0; i < n; i++)
    {
      if ((fds[i].events & POLLIN) && fds[i].fd > 0 && has_owed_edges (fds[i].fd))
        fds[i].revents |= POLLIN;
      result += fds[i].revents != 0;
    }
  pthread_mutex_unlock (&lock);
  return result;
}

int
afxsock_fault_shim_get_stats (AfxsockFaultStats *out)
{
  ensure_initialized ();
  pthread_mutex_lock (&lock);
  *out = stats;
  pthread_mutex_unlock (&lock);
  return enabled;
}

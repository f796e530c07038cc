/* c-types.h: enumerations, error domains and small structs shared by the sockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(AFXSOCK_INSIDE) && !defined(AFXSOCK_COMPILATION)
#error "Only <afxsock.h> can be included directly."
#endif

#include <gio/gio.h>
#include <afxsock/c-version.h>

G_BEGIN_DECLS

/**
 * CSocketEvents:
 * @C_FD_NONE: no notification
 * @C_FD_READ: data can be received (`on_receive`)
 * @C_FD_WRITE: data can be sent (`on_send`)
 * @C_FD_OOB: urgent data arrived (`on_out_of_band_data`)
 * @C_FD_ACCEPT: a connection is pending on a listening socket (`on_accept`)
 * @C_FD_CONNECT: a connect attempt finished (`on_connect`)
 * @C_FD_CLOSE: the peer closed the connection (`on_close`)
 * @C_FD_ALL: every notification
 *
 * The notifications a socket asks for, with MFC's values (`FD_READ` … `FD_CLOSE`).
 */
typedef enum /*< flags >*/
{
  C_FD_NONE = 0,
  C_FD_READ = 1 << 0,
  C_FD_WRITE = 1 << 1,
  C_FD_OOB = 1 << 2,
  C_FD_ACCEPT = 1 << 3,
  C_FD_CONNECT = 1 << 4,
  C_FD_CLOSE = 1 << 5,
  C_FD_ALL = 0x3f
} CSocketEvents;

/**
 * CSocketType:
 * @C_SOCK_STREAM: a connected byte stream (TCP, Unix stream)
 * @C_SOCK_DGRAM: datagrams (UDP, Unix datagram)
 * @C_SOCK_RAW: raw IP datagrams (needs a protocol, e.g. ICMP)
 * @C_SOCK_SEQPACKET: connected, reliable datagrams (Unix)
 *
 * The socket types; the values are the operating system's `SOCK_*` values.
 */
typedef enum
{
  C_SOCK_STREAM = 1,
  C_SOCK_DGRAM = 2,
  C_SOCK_RAW = 3,
  C_SOCK_SEQPACKET = 5
} CSocketType;

/**
 * CShutdownHow:
 * @C_SHUTDOWN_RECEIVES: no more receives
 * @C_SHUTDOWN_SENDS: no more sends (half close: the peer sees end of stream)
 * @C_SHUTDOWN_BOTH: neither
 *
 * What c_async_socket_shut_down() disables, with MFC's values.
 */
typedef enum
{
  C_SHUTDOWN_RECEIVES = 0,
  C_SHUTDOWN_SENDS = 1,
  C_SHUTDOWN_BOTH = 2
} CShutdownHow;

/**
 * C_INVALID_SOCKET:
 *
 * The handle of a socket object that has no descriptor (MFC's `INVALID_SOCKET`).
 */
#define C_INVALID_SOCKET (-1)

/**
 * C_SOCKET_ERROR:
 *
 * The error domain of socket states that are not operating-system failures: a closed or
 * never created socket, a call in the wrong state, an argument out of range. Failures of
 * the operating system are reported in `G_IO_ERROR`.
 */
#define C_SOCKET_ERROR (c_socket_error_quark ())

/**
 * CSocketError:
 * @C_SOCKET_ERROR_NOT_CREATED: the socket has no descriptor (never created, or closed)
 * @C_SOCKET_ERROR_ALREADY_CREATED: the socket already has a descriptor
 * @C_SOCKET_ERROR_WRONG_STATE: the call does not fit the socket's state or type
 * @C_SOCKET_ERROR_INVALID_ADDRESS: an address string could not be parsed
 * @C_SOCKET_ERROR_INVALID_PORT: a port number outside 0–65535 (or 0 where a port is needed)
 * @C_SOCKET_ERROR_WRONG_CONTEXT: the socket is used from a thread that does not own its
 *   main context
 * @C_SOCKET_ERROR_IN_PROGRESS: another operation of the same kind is under way
 * @C_SOCKET_ERROR_LIMIT: a configured limit was reached
 *
 * Error codes of #C_SOCKET_ERROR.
 */
typedef enum
{
  C_SOCKET_ERROR_NOT_CREATED,
  C_SOCKET_ERROR_ALREADY_CREATED,
  C_SOCKET_ERROR_WRONG_STATE,
  C_SOCKET_ERROR_INVALID_ADDRESS,
  C_SOCKET_ERROR_INVALID_PORT,
  C_SOCKET_ERROR_WRONG_CONTEXT,
  C_SOCKET_ERROR_IN_PROGRESS,
  C_SOCKET_ERROR_LIMIT
} CSocketError;

AFXSOCK_AVAILABLE_IN_ALL
GQuark c_socket_error_quark (void);

/**
 * CSocketStats:
 * @bytes_sent: bytes handed to the kernel by send calls
 * @bytes_received: bytes returned by receive calls
 * @send_calls: successful send calls (including partial sends)
 * @receive_calls: successful receive calls (including the one that saw end of stream)
 * @records_sent: whole records sent (record path)
 * @records_received: whole records received (record path)
 * @created_time: wall-clock time (g_get_real_time()) when the descriptor was made or attached
 * @connected_time: wall-clock time when the connection was established, 0 if never
 * @connected_monotonic: g_get_monotonic_time() when the connection was established, 0 if never
 *
 * Per-connection accounting, in the spirit of RFC 147: what went each way and since when.
 * Read it at any time with c_async_socket_get_stats(); the peer and local addresses are
 * available from c_async_socket_get_peer_address() and c_async_socket_get_sock_address().
 */
typedef struct
{
  guint64 bytes_sent;
  guint64 bytes_received;
  guint64 send_calls;
  guint64 receive_calls;
  guint64 records_sent;
  guint64 records_received;
  gint64 created_time;
  gint64 connected_time;
  gint64 connected_monotonic;
} CSocketStats;

#define C_TYPE_SOCKET_STATS (c_socket_stats_get_type ())
AFXSOCK_AVAILABLE_IN_ALL
GType c_socket_stats_get_type (void);
AFXSOCK_AVAILABLE_IN_ALL
CSocketStats *c_socket_stats_copy (const CSocketStats *stats);
AFXSOCK_AVAILABLE_IN_ALL
void c_socket_stats_free (CSocketStats *stats);

G_END_DECLS

/* rpc-protocol.h: the records of the RPC sample, shared by its server and client
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each message is one record (afxsock's record path) holding a CArchive in network format:
 *
 *   request:  DWORD id, string method, count n, then n values
 *   reply:    DWORD id, BYTE status, then
 *               status 0 (result): one value
 *               status 1 (error):  LONG code (RpcError), string message
 *   value:    BYTE type tag, then 'i': a 64-bit integer, 'd': a double, 's': a string
 *
 * The reply to a request whose id could not be read carries id 0. Values are GVariants of
 * type "x", "d" or "s" on both sides.
 */
#pragma once

#include <afxsock.h>

#define RPC_MAX_ARGUMENTS 64
#define RPC_MAX_STRING_LENGTH (64 * 1024)
#define RPC_MAX_RECORD_SIZE (1024 * 1024)

#define RPC_ERROR (rpc_error_quark ())

/* The error codes of error replies (and of RPC_ERROR). */
typedef enum
{
  RPC_ERROR_MALFORMED = 1,      /* the request could not be decoded */
  RPC_ERROR_UNKNOWN_METHOD = 2, /* no such method */
  RPC_ERROR_BAD_ARGUMENTS = 3,  /* wrong number or types of arguments */
  RPC_ERROR_DIVISION_BY_ZERO = 4,
  RPC_ERROR_OVERFLOW = 5,
} RpcError;

GQuark rpc_error_quark (void);

void rpc_write_value (CArchive *archive, GVariant *value);
GVariant *rpc_read_value (CArchive *archive, GError **error);

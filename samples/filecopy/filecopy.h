/* filecopy.h: the conversation of filecopy-client and filecopy-server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One CArchive (network format) in each direction over the TCP stream:
 *
 *   client → server:  string FILECOPY_MAGIC, string file name, QWORD size,
 *                     the size bytes of the file (raw), string SHA-256 of them (hex)
 *   server → client:  bool verified, string message
 *
 * The name is the file's base name; the server refuses anything with a directory in it.
 */
#pragma once

#define FILECOPY_MAGIC "afxsock filecopy 1"
#define FILECOPY_CHUNK_SIZE (64 * 1024)
#define FILECOPY_MAX_NAME_LENGTH 255
/* The client: the timeout of each blocking call, so that a stalled server fails it. The
 * server: the deadline of each stage of a transfer (header, contents, digest, reply), the
 * contents having one more second per FILECOPY_MIN_RATE bytes of the file. */
#define FILECOPY_TIMEOUT_MS (30 * 1000)
#define FILECOPY_MIN_RATE (256 * 1024)

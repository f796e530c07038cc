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
#define FILECOPY_TIMEOUT_MS (30 * 1000) /* for every blocking call: a stalled peer fails */

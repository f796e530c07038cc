/* c-record-blocks.h: large blocks for records, recycled through a per-thread pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Private to the library (not installed). See c-record-blocks.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A record lies in its block after a header of this many bytes (a framed record's length,
 * docs/wire-format.md), over which c_record_in_block() writes the block's capacity. */
#define C_RECORD_BLOCK_HEADER_SIZE 4

/* Blocks of C_RECORD_BLOCK_POOL_MIN to C_RECORD_BLOCK_POOL_MAX bytes are kept for reuse, up
 * to C_RECORD_BLOCK_POOL_BYTES in all per thread; others go straight back to the heap. */
#define C_RECORD_BLOCK_POOL_MIN (16 * 1024)
#define C_RECORD_BLOCK_POOL_MAX (1024 * 1024)
#define C_RECORD_BLOCK_POOL_BYTES (4 * 1024 * 1024)

/* Small blocks, for records and write-queue entries under C_RECORD_SMALL_BLOCK_MAX bytes:
 * power-of-two sizes from C_RECORD_SMALL_BLOCK_MIN, each size keeping up to
 * C_RECORD_SMALL_POOL_BYTES per thread. */
#define C_RECORD_SMALL_BLOCK_MIN 64
#define C_RECORD_SMALL_BLOCK_MAX (8 * 1024)
#define C_RECORD_SMALL_POOL_BYTES (64 * 1024)

/* A per-thread cache pointer beside a GPrivate (which frees the thread's data at its end):
 * initial-exec, so that reading it is one load, not a call to __tls_get_addr. The few bytes
 * come from the static TLS surplus that the C library keeps for libraries loaded later. */
#define C_THREAD_CACHE __thread __attribute__ ((tls_model ("initial-exec")))

guint8 *c_record_block_take (gsize want, gsize *capacity);
guint8 *c_record_small_block_take (gsize want, gsize *capacity);
guint8 *c_record_any_block_take (gsize want, gsize *capacity);
void c_record_block_give_back (guint8 *block, gsize capacity);
GBytes *c_record_in_block (guint8 *block, gsize capacity, gsize length);
GBytes *c_record_copy (const guint8 *data, gsize length);
gsize c_record_blocks_pooled (guint *count);
gsize c_record_small_blocks_pooled (guint *count);

G_END_DECLS

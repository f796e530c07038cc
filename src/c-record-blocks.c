/* c-record-blocks.c: large blocks for records, recycled through a per-thread pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A record longer than what one read brings is assembled in a block of its own, which then
 * becomes the record's GBytes. Such blocks come and go once per record, and handed back to
 * glibc, a block of that size at the top of the heap is trimmed off and the next one comes
 * back as fresh pages: page faults and page clearing cost three times the rest of a bulk
 * transfer of 64 KiB records (docs/performance.md). Records that arrive whole in one read
 * are copied into such blocks too. Released blocks of 16 KiB to 1 MiB wait in a per-thread
 * pool for the next record instead, up to 4 MiB (the default high-water mark: what one
 * busy connection keeps in flight).
 *
 * Small records (under 8 KiB) take small blocks: power-of-two sizes from 64 bytes, each
 * size a free list of up to 64 KiB per thread. A pipelined server has hundreds of records in
 * flight per wake-up, more than glibc's per-thread cache holds, so each record cost a trip
 * through malloc's bins both ways (docs/performance.md); the write queue's entries and the
 * copies it keeps of records sent from memory take small blocks too.
 *
 * This file knows blocks only, not sockets: the record path (c-async-socket-records.c)
 * takes a block for a record, and the record's GBytes gives it back when its last
 * reference goes, on whatever thread that happens.
 */
#include "config.h"

#include <string.h>

#include "c-record-blocks.h"

#define POOL_MIN_BLOCK C_RECORD_BLOCK_POOL_MIN
#define POOL_MAX_BLOCK C_RECORD_BLOCK_POOL_MAX
#define POOL_MAX_BYTES C_RECORD_BLOCK_POOL_BYTES
#define POOL_BLOCKS (POOL_MAX_BYTES / POOL_MIN_BLOCK)

#define SMALL_MIN_SHIFT 6  /* C_RECORD_SMALL_BLOCK_MIN */
#define SMALL_MAX_SHIFT 13 /* C_RECORD_SMALL_BLOCK_MAX */
#define SMALL_SIZES (SMALL_MAX_SHIFT - SMALL_MIN_SHIFT + 1)
G_STATIC_ASSERT (C_RECORD_SMALL_BLOCK_MIN == 1 << SMALL_MIN_SHIFT);
G_STATIC_ASSERT (C_RECORD_SMALL_BLOCK_MAX == 1 << SMALL_MAX_SHIFT);

/* Free small blocks of one size, linked through their first bytes. */
typedef struct
{
  gpointer head;
  guint n;
} SmallList;

typedef struct
{
  guint8 *block[POOL_BLOCKS];
  gsize capacity[POOL_BLOCKS];
  guint n;
  gsize bytes;
  SmallList small[SMALL_SIZES];
} BlockPool;

static C_THREAD_CACHE BlockPool *thread_pool; /* this thread's pool, once block_pool() found it */

static void
block_pool_free (gpointer data)
{
  BlockPool *pool = data;

  thread_pool = NULL; /* a block given back later in the thread's exit makes a new pool */
  for (guint i = 0; i < pool->n; i++)
    g_free (pool->block[i]);
  for (guint i = 0; i < SMALL_SIZES; i++)
    while (pool->small[i].head != NULL)
      {
        gpointer block = pool->small[i].head;
        pool->small[i].head = *(gpointer *) block;
        g_free (block);
      }
  g_free (pool);
}

/* The GPrivate frees a thread's pool when the thread ends; the thread-local pointer finds it
 * without a call (a record takes and gives back a block or two: g_private_get was a tenth of
 * the record path's instructions). */
static GPrivate block_pool_key = G_PRIVATE_INIT (block_pool_free);

static BlockPool *
block_pool (void)
{
  BlockPool *pool = thread_pool;

  if (G_LIKELY (pool != NULL))
    return pool;
  pool = g_private_get (&block_pool_key);
  if (pool == NULL)
    {
      pool = g_new0 (BlockPool, 1);
      g_private_set (&block_pool_key, pool);
    }
  thread_pool = pool;
  return pool;
}

/* A block of at least @want bytes, *capacity set to its size: a pooled one when one fits
 * without wasting more than half of it. */
guint8 *
c_record_block_take (gsize want, gsize *capacity)
{
  if (want >= POOL_MIN_BLOCK && want <= POOL_MAX_BLOCK)
    {
      BlockPool *pool = block_pool ();
      for (guint i = pool->n; i-- > 0;)
        if (pool->capacity[i] >= want && pool->capacity[i] / 2 <= want)
          {
            guint8 *block = pool->block[i];
            *capacity = pool->capacity[i];
            pool->bytes -= pool->capacity[i];
            pool->n--;
            pool->block[i] = pool->block[pool->n];
            pool->capacity[i] = pool->capacity[pool->n];
            return block;
          }
    }
  *capacity = want;
  return g_malloc (want);
}

/* A small block of at least @want bytes (at most C_RECORD_SMALL_BLOCK_MAX), *capacity set
 * to its size, the power of two at or above @want: from this thread's free list of that
 * size when it has one. */
guint8 *
c_record_small_block_take (gsize want, gsize *capacity)
{
  guint shift = want <= C_RECORD_SMALL_BLOCK_MIN ? SMALL_MIN_SHIFT : g_bit_storage (want - 1);
  SmallList *list;
  gpointer block;

  g_assert (want <= C_RECORD_SMALL_BLOCK_MAX);
  *capacity = (gsize) 1 << shift;
  list = &block_pool ()->small[shift - SMALL_MIN_SHIFT];
  block = list->head;
  if (block == NULL)
    return g_malloc (*capacity);
  list->head = *(gpointer *) block;
  list->n--;
  return block;
}

/* A block of at least @want bytes of either kind: a small block up to
 * C_RECORD_SMALL_BLOCK_MAX, else one from the pool (or the heap). */
guint8 *
c_record_any_block_take (gsize want, gsize *capacity)
{
  if (want <= C_RECORD_SMALL_BLOCK_MAX)
    return c_record_small_block_take (want, capacity);
  return c_record_block_take (want, capacity);
}

/* The free list for blocks of @capacity bytes, or NULL when that is not a small size. */
static SmallList *
small_list (gsize capacity)
{
  if (capacity < C_RECORD_SMALL_BLOCK_MIN || capacity > C_RECORD_SMALL_BLOCK_MAX
      || (capacity & (capacity - 1)) != 0)
    return NULL;
  return &block_pool ()->small[g_bit_storage (capacity) - 1 - SMALL_MIN_SHIFT];
}

/* Gives back a block from c_record_block_take() or c_record_small_block_take() (or
 * g_malloc()), of @capacity bytes: to this thread's pool if it fits there, otherwise to the
 * heap. NULL is ignored. */
void
c_record_block_give_back (guint8 *block, gsize capacity)
{
  BlockPool *pool;
  SmallList *list;

  if (block == NULL)
    return;
  if ((list = small_list (capacity)) != NULL)
    {
      if (list->n >= C_RECORD_SMALL_POOL_BYTES / capacity)
        g_free (block);
      else
        {
          *(gpointer *) block = list->head;
          list->head = block;
          list->n++;
        }
      return;
    }
  if (capacity < POOL_MIN_BLOCK || capacity > POOL_MAX_BLOCK
      || (pool = block_pool ())->bytes + capacity > POOL_MAX_BYTES)
    {
      g_free (block);
      return;
    }
  pool->block[pool->n] = block;
  pool->capacity[pool->n] = capacity;
  pool->bytes += capacity;
  pool->n++;
}

/* The GBytes free function of a record handed over in its block: the block's capacity was
 * written over the record's header, which the GBytes does not include. */
static void
release_record_block (gpointer data)
{
  guint8 *block = data;
  guint32 capacity;

  memcpy (&capacity, block, sizeof capacity);
  c_record_block_give_back (block, capacity);
}

/* A record's bytes in their block: the GBytes leaves out the header, over which the block's
 * capacity is written for release_record_block(). */
GBytes *
c_record_in_block (guint8 *block, gsize capacity, gsize length)
{
  guint32 stored = (guint32) MIN (capacity, G_MAXUINT32);

  G_STATIC_ASSERT (sizeof stored <= C_RECORD_BLOCK_HEADER_SIZE);
  memcpy (block, &stored, sizeof stored);
  return g_bytes_new_with_free_func (block + C_RECORD_BLOCK_HEADER_SIZE, length,
                                     release_record_block, block);
}

/* A copy of @length bytes as a record in a block of its own, laid out as if assembled there,
 * so that the block goes back to the pool with the record: a small block for a small
 * record. */
GBytes *
c_record_copy (const guint8 *data, gsize length)
{
  gsize capacity;
  guint8 *block = c_record_any_block_take (length + C_RECORD_BLOCK_HEADER_SIZE, &capacity);

  memcpy (block + C_RECORD_BLOCK_HEADER_SIZE, data, length);
  return c_record_in_block (block, capacity, length);
}

/* The bytes this thread's pool holds, and in *count (optional) how many blocks (for tests
 * and accounting). */
gsize
c_record_blocks_pooled (guint *count)
{
  BlockPool *pool = g_private_get (&block_pool_key);

  if (count != NULL)
    *count = pool != NULL ? pool->n : 0;
  return pool != NULL ? pool->bytes : 0;
}

/* The bytes this thread's small free lists hold, and in *count (optional) how many blocks
 * (for tests and accounting). */
gsize
c_record_small_blocks_pooled (guint *count)
{
  BlockPool *pool = g_private_get (&block_pool_key);
  gsize bytes = 0;
  guint n = 0;

  for (guint i = 0; pool != NULL && i < SMALL_SIZES; i++)
    {
      bytes += (gsize) pool->small[i].n << (SMALL_MIN_SHIFT + i);
      n += pool->small[i].n;
    }
  if (count != NULL)
    *count = n;
  return bytes;
}

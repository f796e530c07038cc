/* test-record-blocks.c: the per-thread pool of record blocks (src/c-record-blocks.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Large records are assembled in blocks that go back to a per-thread pool when the
 * record's GBytes is dropped. These tests check the pool on its own, without sockets:
 * blocks are at least the size asked for, a block given back comes back for a request it
 * fits (and only one it fits without wasting more than half of it), the pool keeps only
 * blocks of the pooled sizes and no more bytes than its bound, a record's GBytes gives its
 * block back when its last reference goes, and each thread has a pool of its own.
 *
 * Small records (and the write queue's entries) take small blocks: power-of-two sizes from
 * 64 bytes to 8 KiB, each size a free list of its own, bounded in bytes per thread.
 *
 * Each test runs in a process of its own (Criterion's workers), so each starts with an
 * empty pool.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "c-record-blocks.h"

#define KiB 1024
#define MiB (1024 * 1024)

/* What @pooled (c_record_blocks_pooled or c_record_small_blocks_pooled) says it holds. */
static void
assert_held (gsize (*pooled) (guint *count), const char *what, gsize bytes, guint count)
{
  guint n;
  gsize held = pooled (&n);

  cr_assert_eq (held, bytes, "%s hold %zu bytes, expected %zu", what, held, bytes);
  cr_assert_eq (n, count, "%s hold %u blocks, expected %u", what, n, count);
}

static void
assert_pool (gsize bytes, guint count)
{
  assert_held (c_record_blocks_pooled, "the large blocks' pool", bytes, count);
}

static void
assert_small_pool (gsize bytes, guint count)
{
  assert_held (c_record_small_blocks_pooled, "the small lists", bytes, count);
}

/* A block of at least @want bytes from @take_block, checked to be that large and writable. */
static guint8 *
take_checked (guint8 *(*take_block) (gsize want, gsize *capacity), gsize want, gsize *capacity)
{
  guint8 *block = take_block (want, capacity);

  cr_assert_not_null (block);
  cr_assert_geq (*capacity, want, "a block of %zu bytes for %zu asked", *capacity, want);
  memset (block, 0xa5, *capacity); /* the whole capacity is the caller's (ASan, Valgrind) */
  return block;
}

static guint8 *
take (gsize want, gsize *capacity)
{
  return take_checked (c_record_block_take, want, capacity);
}

static guint8 *
take_small (gsize want, gsize *capacity)
{
  return take_checked (c_record_small_block_take, want, capacity);
}

Test (record_blocks, fresh_blocks_are_the_size_asked)
{
  static const gsize sizes[]
      = { 1, 100, 16 * KiB - 1, 16 * KiB, 20000, 64 * KiB, 300000, 1 * MiB, 1 * MiB + 1, 5 * MiB };
  guint8 *blocks[G_N_ELEMENTS (sizes)];
  gsize capacity[G_N_ELEMENTS (sizes)];

  assert_pool (0, 0);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      blocks[i] = take (sizes[i], &capacity[i]);
      /* Nothing pooled yet: a block from the heap, exactly as large as asked. */
      cr_assert_eq (capacity[i], sizes[i]);
      for (guint j = 0; j < i; j++)
        cr_assert_neq (blocks[i], blocks[j]);
    }
  assert_pool (0, 0);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    c_record_block_give_back (blocks[i], capacity[i]);
}

Test (record_blocks, a_block_given_back_comes_back)
{
  gsize capacity, again;
  guint8 *block = take (64 * KiB, &capacity);
  guint8 *other;

  c_record_block_give_back (block, capacity);
  assert_pool (64 * KiB, 1);
  other = take (64 * KiB, &again);
  cr_assert_eq (other, block, "the pooled block is reused");
  cr_assert_eq (again, 64 * KiB);
  assert_pool (0, 0);

  /* A smaller request that the block fits without wasting more than half of it gets the
   * whole block, and its real capacity. */
  c_record_block_give_back (other, again);
  other = take (40000, &again);
  cr_assert_eq (other, block);
  cr_assert_eq (again, 64 * KiB);
  assert_pool (0, 0);
  c_record_block_give_back (other, again);
}

Test (record_blocks, a_block_is_taken_only_where_it_fits)
{
  gsize capacity, got;
  guint8 *block = take (64 * KiB, &capacity);
  guint8 *other;

  c_record_block_give_back (block, capacity);

  /* Too small for the request. */
  other = take (64 * KiB + 1, &got);
  cr_assert_neq (other, block);
  cr_assert_eq (got, 64 * KiB + 1);
  c_record_block_give_back (other, got);
  assert_pool (64 * KiB + 64 * KiB + 1, 2);
  other = take (64 * KiB + 1, &got); /* now the one just given back */
  cr_assert_neq (other, block);
  assert_pool (64 * KiB, 1);
  g_free (other);

  /* More than twice the request: left in the pool. */
  other = take (32 * KiB - 1, &got);
  cr_assert_neq (other, block);
  cr_assert_eq (got, 32 * KiB - 1);
  g_free (other);
  assert_pool (64 * KiB, 1);

  /* Exactly twice the request: taken. */
  other = take (32 * KiB, &got);
  cr_assert_eq (other, block);
  cr_assert_eq (got, 64 * KiB);
  assert_pool (0, 0);
  g_free (other);
}

Test (record_blocks, requests_outside_the_pooled_sizes_skip_the_pool)
{
  gsize small_capacity, large_capacity, got;
  guint8 *small = take (16 * KiB, &small_capacity);
  guint8 *large = take (1 * MiB, &large_capacity);
  guint8 *other;

  c_record_block_give_back (small, small_capacity);
  c_record_block_give_back (large, large_capacity);
  assert_pool (16 * KiB + 1 * MiB, 2);

  /* The 16 KiB block would fit 16 KiB - 1 by size, but requests under the pooled sizes
   * come from the heap. */
  other = take (16 * KiB - 1, &got);
  cr_assert_neq (other, small);
  cr_assert_eq (got, 16 * KiB - 1);
  g_free (other);
  other = take (1 * MiB + 1, &got);
  cr_assert_neq (other, large);
  cr_assert_eq (got, 1 * MiB + 1);
  g_free (other);
  assert_pool (16 * KiB + 1 * MiB, 2);

  /* At the bounds themselves the pool answers. */
  cr_assert_eq (take (16 * KiB, &got), small);
  cr_assert_eq (take (1 * MiB, &got), large);
  assert_pool (0, 0);
  g_free (small);
  g_free (large);
}

Test (record_blocks, only_blocks_of_the_pooled_sizes_are_kept)
{
  c_record_block_give_back (NULL, 64 * KiB);
  assert_pool (0, 0);
  c_record_block_give_back (g_malloc (16 * KiB - 1), 16 * KiB - 1);
  assert_pool (0, 0);
  c_record_block_give_back (g_malloc (1 * MiB + 1), 1 * MiB + 1);
  assert_pool (0, 0);
  c_record_block_give_back (g_malloc (16 * KiB), 16 * KiB);
  assert_pool (16 * KiB, 1);
  c_record_block_give_back (g_malloc (1 * MiB), 1 * MiB);
  assert_pool (16 * KiB + 1 * MiB, 2);
  cr_assert_eq (C_RECORD_BLOCK_POOL_MIN, 16 * KiB);
  cr_assert_eq (C_RECORD_BLOCK_POOL_MAX, 1 * MiB);
}

Test (record_blocks, the_pool_keeps_at_most_its_bound_in_bytes)
{
  gsize got;
  guint8 *block;

  cr_assert_eq (C_RECORD_BLOCK_POOL_BYTES, 4 * MiB);
  for (guint i = 0; i < 4; i++)
    c_record_block_give_back (g_malloc (1 * MiB), 1 * MiB);
  assert_pool (4 * MiB, 4);
  /* Full: a fifth block goes to the heap, however small. */
  c_record_block_give_back (g_malloc (1 * MiB), 1 * MiB);
  assert_pool (4 * MiB, 4);
  c_record_block_give_back (g_malloc (16 * KiB), 16 * KiB);
  assert_pool (4 * MiB, 4);

  /* Once a block left, there is room again, for what fits in it. */
  block = take (1 * MiB, &got);
  assert_pool (3 * MiB, 3);
  c_record_block_give_back (g_malloc (16 * KiB), 16 * KiB);
  assert_pool (3 * MiB + 16 * KiB, 4);
  c_record_block_give_back (block, got); /* no room for it now: freed */
  assert_pool (3 * MiB + 16 * KiB, 4);
}

Test (record_blocks, the_pool_keeps_at_most_its_bound_in_blocks)
{
  guint most = C_RECORD_BLOCK_POOL_BYTES / C_RECORD_BLOCK_POOL_MIN;
  GHashTable *seen = g_hash_table_new_full (NULL, NULL, g_free, NULL);

  for (guint i = 0; i < most; i++)
    c_record_block_give_back (g_malloc (16 * KiB), 16 * KiB);
  assert_pool (4 * MiB, most);
  c_record_block_give_back (g_malloc (16 * KiB), 16 * KiB);
  assert_pool (4 * MiB, most);

  /* Every block kept comes back once, and then the pool is empty. */
  for (guint i = 0; i < most; i++)
    {
      gsize got;
      guint8 *block = take (16 * KiB, &got);
      cr_assert_eq (got, 16 * KiB);
      cr_assert (g_hash_table_add (seen, block), "block %u came back twice", i);
    }
  assert_pool (0, 0);
  g_hash_table_unref (seen);
}

Test (record_blocks, a_record_gives_its_block_back_with_its_last_reference)
{
  gsize capacity, got;
  guint8 *block = take (64 * KiB + C_RECORD_BLOCK_HEADER_SIZE, &capacity);
  GBytes *record, *more;
  gsize size;
  const guint8 *data;

  for (gsize i = 0; i < 1000; i++)
    block[C_RECORD_BLOCK_HEADER_SIZE + i] = (guint8) (i * 7);
  record = c_record_in_block (block, capacity, 1000);
  data = g_bytes_get_data (record, &size);
  cr_assert_eq (data, block + C_RECORD_BLOCK_HEADER_SIZE, "the record lies after its header");
  cr_assert_eq (size, 1000);
  for (gsize i = 0; i < 1000; i++)
    cr_assert_eq (data[i], (guint8) (i * 7));

  more = g_bytes_ref (record);
  g_bytes_unref (record);
  assert_pool (0, 0); /* still referenced */
  g_bytes_unref (more);
  assert_pool (capacity, 1);
  cr_assert_eq (take (capacity, &got), block);
  cr_assert_eq (got, capacity);
  g_free (block);
}

Test (record_blocks, a_record_in_a_small_block_frees_it)
{
  guint8 *block = g_malloc (100);

  g_bytes_unref (c_record_in_block (block, 100, 96));
  assert_pool (0, 0);
}

/* A capacity that does not fit the header is stored as the largest that does, which is too
 * large for the pool: the block is freed, not pooled under a truncated size. */
Test (record_blocks, a_capacity_over_32_bits_is_not_truncated)
{
  guint8 *block = g_malloc (100);
  guint64 claimed = (guint64) G_MAXUINT32 + 1 + 64 * KiB;

  if (sizeof (gsize) < sizeof claimed)
    cr_skip_test ("gsize has 32 bits");
  g_bytes_unref (c_record_in_block (block, (gsize) claimed, 96));
  assert_pool (0, 0);
}

typedef struct
{
  guint8 *main_block; /* given back by the main thread before the worker starts */
  GBytes *record;     /* whose last reference the worker drops */
  gsize pooled_at_start;
  gboolean took_main_block;
  gsize pooled_after_own;
  gsize pooled_after_record;
  guint count_after_record;
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  gsize capacity;
  guint8 *block;

  w->pooled_at_start = c_record_blocks_pooled (NULL);
  block = c_record_block_take (64 * KiB, &capacity);
  w->took_main_block = block == w->main_block;
  c_record_block_give_back (block, capacity);
  w->pooled_after_own = c_record_blocks_pooled (NULL);
  g_bytes_unref (w->record);
  w->pooled_after_record = c_record_blocks_pooled (&w->count_after_record);
  return NULL;
}

Test (record_blocks, each_thread_has_a_pool_of_its_own)
{
  Worker w = { 0 };
  gsize capacity, record_capacity, got;
  guint8 *record_block = c_record_block_take (128 * KiB, &record_capacity);

  w.main_block = take (64 * KiB, &capacity);
  c_record_block_give_back (w.main_block, capacity);
  w.record = c_record_in_block (record_block, record_capacity, 10);
  assert_pool (64 * KiB, 1);

  g_thread_join (g_thread_new ("record-blocks", worker_thread, &w));
  cr_assert_eq (w.pooled_at_start, 0, "a new thread starts with an empty pool");
  cr_assert_not (w.took_main_block, "a thread took a block from another thread's pool");
  cr_assert_eq (w.pooled_after_own, 64 * KiB);
  /* A record's block goes to the pool of the thread that drops the record. */
  cr_assert_eq (w.pooled_after_record, 64 * KiB + 128 * KiB);
  cr_assert_eq (w.count_after_record, 2);

  /* The main thread's pool is as it was. */
  assert_pool (64 * KiB, 1);
  cr_assert_eq (take (64 * KiB, &got), w.main_block);
  g_free (w.main_block);
}

/* ---- Small blocks ------------------------------------------------------------------------ */

Test (record_blocks, small_blocks_are_the_power_of_two_at_or_above_the_request)
{
  static const struct
  {
    gsize want, capacity;
  } cases[]
      = { { 0, 64 },    { 1, 64 },      { 63, 64 },     { 64, 64 },     { 65, 128 },   { 128, 128 },
          { 129, 256 }, { 1000, 1024 }, { 4097, 8192 }, { 8191, 8192 }, { 8192, 8192 } };

  cr_assert_eq (C_RECORD_SMALL_BLOCK_MIN, 64);
  cr_assert_eq (C_RECORD_SMALL_BLOCK_MAX, 8 * KiB);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize capacity;
      guint8 *block = take_small (cases[i].want, &capacity);

      cr_assert_eq (capacity, cases[i].capacity, "%zu bytes asked: a block of %zu, expected %zu",
                    cases[i].want, capacity, cases[i].capacity);
      g_free (block);
    }
  assert_small_pool (0, 0);
  assert_pool (0, 0);
}

Test (record_blocks, a_small_block_comes_back_for_its_size_only)
{
  gsize capacity, got;
  guint8 *block = take_small (100, &capacity);
  guint8 *other;

  c_record_block_give_back (block, capacity);
  assert_small_pool (128, 1);
  assert_pool (0, 0); /* the large blocks' pool is not involved */

  /* Other sizes do not take it: smaller or larger power. */
  other = take_small (64, &got);
  cr_assert_neq (other, block);
  g_free (other);
  other = take_small (129, &got);
  cr_assert_neq (other, block);
  g_free (other);
  assert_small_pool (128, 1);

  /* Any request of its size does, last in first out. */
  other = take_small (65, &got);
  cr_assert_eq (other, block);
  cr_assert_eq (got, 128);
  assert_small_pool (0, 0);
  c_record_block_give_back (other, got);
  block = take_small (128, &capacity);
  cr_assert_eq (block, other);
  g_free (block);
}

/* A block given back under a capacity that is not a small size goes where that capacity
 * says: the heap, or the large pool. */
Test (record_blocks, only_power_of_two_sizes_join_the_small_lists)
{
  c_record_block_give_back (g_malloc (100), 100);
  c_record_block_give_back (g_malloc (32), 32);
  c_record_block_give_back (g_malloc (8 * KiB + 64), 8 * KiB + 64);
  assert_small_pool (0, 0);
  assert_pool (0, 0);
  c_record_block_give_back (g_malloc (16 * KiB), 16 * KiB); /* a large block */
  assert_small_pool (0, 0);
  assert_pool (16 * KiB, 1);
  c_record_block_give_back (g_malloc (8 * KiB), 8 * KiB);
  c_record_block_give_back (g_malloc (64), 64);
  assert_small_pool (8 * KiB + 64, 2);
  assert_pool (16 * KiB, 1);
}

/* Each size keeps C_RECORD_SMALL_POOL_BYTES at most; more goes to the heap, and the other
 * sizes keep their own room. */
Test (record_blocks, each_small_size_keeps_at_most_its_bound)
{
  GHashTable *seen = g_hash_table_new_full (NULL, NULL, g_free, NULL);
  guint most_64 = C_RECORD_SMALL_POOL_BYTES / 64;
  guint most_8k = C_RECORD_SMALL_POOL_BYTES / (8 * KiB);

  cr_assert_eq (C_RECORD_SMALL_POOL_BYTES, 64 * KiB);
  for (guint i = 0; i < most_64 + 10; i++)
    c_record_block_give_back (g_malloc (64), 64);
  assert_small_pool (64 * KiB, most_64);
  for (guint i = 0; i < most_8k + 3; i++)
    c_record_block_give_back (g_malloc (8 * KiB), 8 * KiB);
  assert_small_pool (128 * KiB, most_64 + most_8k);

  /* Every block kept comes back once. */
  for (guint i = 0; i < most_64; i++)
    {
      gsize got;
      cr_assert (g_hash_table_add (seen, take_small (64, &got)), "block %u came back twice", i);
    }
  assert_small_pool (64 * KiB, most_8k);
  g_hash_table_unref (seen);
}

Test (record_blocks, a_record_in_a_small_block_goes_to_its_list)
{
  gsize capacity;
  guint8 *block = take_small (C_RECORD_BLOCK_HEADER_SIZE + 50, &capacity);
  GBytes *record;

  cr_assert_eq (capacity, 64);
  memcpy (block + C_RECORD_BLOCK_HEADER_SIZE, "a small record", 14);
  record = c_record_in_block (block, capacity, 14);
  cr_assert_eq (g_bytes_get_size (record), 14);
  cr_assert_eq (memcmp (g_bytes_get_data (record, NULL), "a small record", 14), 0);
  g_bytes_unref (record);
  assert_small_pool (64, 1);
  assert_pool (0, 0);
  cr_assert_eq (take_small (10, &capacity), block);
  g_free (block);
}

static gpointer
small_worker (gpointer data)
{
  gsize *result = data;
  gsize capacity;
  guint8 *block;

  result[0] = c_record_small_blocks_pooled (NULL);
  block = c_record_small_block_take (200, &capacity);
  result[1] = GPOINTER_TO_SIZE (block);
  c_record_block_give_back (block, capacity);
  result[2] = c_record_small_blocks_pooled (NULL);
  /* The thread ends holding a block: its lists are freed with it (Valgrind, ASan). */
  return NULL;
}

Test (record_blocks, each_thread_has_small_lists_of_its_own)
{
  gsize capacity;
  guint8 *block = take_small (200, &capacity);
  gsize result[3];

  c_record_block_give_back (block, capacity);
  assert_small_pool (256, 1);
  g_thread_join (g_thread_new ("small-blocks", small_worker, result));
  cr_assert_eq (result[0], 0, "a new thread starts with empty small lists");
  cr_assert_neq (result[1], GPOINTER_TO_SIZE (block), "a thread took another thread's block");
  cr_assert_eq (result[2], 256);
  assert_small_pool (256, 1);
  cr_assert_eq (take_small (256, &capacity), block);
  g_free (block);
}

/* c_record_any_block_take: a small block up to 8 KiB, a large one (pool or heap) above. */
Test (record_blocks, any_block_is_small_up_to_8_kib_and_large_above)
{
  gsize capacity;
  guint8 *small = take_checked (c_record_any_block_take, 8 * KiB, &capacity);
  guint8 *large;

  cr_assert_eq (capacity, 8 * KiB);
  c_record_block_give_back (small, capacity);
  assert_small_pool (8 * KiB, 1);
  cr_assert_eq (take_checked (c_record_any_block_take, 5000, &capacity), small);
  cr_assert_eq (capacity, 8 * KiB);
  g_free (small);

  large = take_checked (c_record_any_block_take, 8 * KiB + 1, &capacity);
  cr_assert_eq (capacity, 8 * KiB + 1, "a fresh large block is the size asked");
  g_free (large);
  large = take (64 * KiB, &capacity);
  c_record_block_give_back (large, capacity);
  cr_assert_eq (take_checked (c_record_any_block_take, 40000, &capacity), large);
  cr_assert_eq (capacity, 64 * KiB);
  g_free (large);
  assert_small_pool (0, 0);
  assert_pool (0, 0);
}

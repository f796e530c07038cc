/* standalone-main.c: runs a libFuzzer target over files and directories of inputs
 *
 * Lets every compiler build the fuzz targets as plain tests over their seed corpus:
 * `fuzz-archive-load-corpus fuzz/corpus/archive-load` runs each file once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static gboolean
run_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return FALSE;
    }
  LLVMFuzzerTestOneInput ((const guint8 *) contents, length);
  return TRUE;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Runs the directory's files in name order, so that runs are reproducible. */
static int
run_directory (const char *path, int *failed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      (*failed)++;
      return 0;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    if (!run_file (g_ptr_array_index (names, i)))
      (*failed)++;
  return (int) names->len;
}

int
main (int argc, char **argv)
{
  int ran = 0, failed = 0;

  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        ran += run_directory (argv[i], &failed);
      else
        {
          ran++;
          failed += !run_file (argv[i]);
        }
    }
  if (ran == 0)
    {
      fprintf (stderr, "usage: %s CORPUS-DIR-OR-FILE...\n", argv[0]);
      return 1;
    }
  /* Every input that ran without crashing passed. */
  printf ("%d passed, %d failed\n", ran - failed, failed);
  return failed == 0 ? 0 : 1;
}

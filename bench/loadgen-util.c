/* loadgen-util.c: what the load generators share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "loadgen-util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define FINE_STEP_NS 10
#define FINE_BUCKETS 1000000
#define COARSE_STEP_NS 10000
#define COARSE_BUCKETS 1000000

gint64
loadgen_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

gint64
loadgen_seconds_to_ns (double seconds)
{
  return (gint64) (seconds * 1e9);
}

gint64
loadgen_server_cpu_ns (int pid)
{
  char path[64];
  g_autofree char *contents = NULL;
  const char *p;
  unsigned long long utime, stime;

  if (pid <= 0)
    return -1;
  g_snprintf (path, sizeof path, "/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  /* The command name is in parentheses and may hold spaces: fields count from the last ')'.
   * After it come state (3) … utime (14) and stime (15). */
  p = strrchr (contents, ')');
  if (p == NULL
      || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
             != 2)
    return -1;
  return (gint64) ((utime + stime) * (1000000000.0 / (double) sysconf (_SC_CLK_TCK)));
}

gint64
loadgen_server_rss_kb (int pid)
{
  char path[64];
  g_autofree char *contents = NULL;
  const char *p;

  if (pid <= 0)
    return -1;
  g_snprintf (path, sizeof path, "/proc/%d/status", pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  p = strstr (contents, "VmRSS:");
  return p != NULL ? g_ascii_strtoll (p + 6, NULL, 10) : -1;
}

void
loadgen_raise_descriptor_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

double
loadgen_own_cpu_s (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

void
loadgen_histogram_init (LoadgenHistogram *histogram)
{
  histogram->fine = g_new0 (guint32, FINE_BUCKETS);
  histogram->coarse = g_new0 (guint32, COARSE_BUCKETS);
  histogram->overflow = 0;
}

void
loadgen_histogram_record (LoadgenHistogram *histogram, gint64 ns)
{
  if (ns < 0)
    ns = 0;
  if (ns < (gint64) FINE_STEP_NS * FINE_BUCKETS)
    histogram->fine[ns / FINE_STEP_NS]++;
  else if (ns < (gint64) COARSE_STEP_NS * COARSE_BUCKETS)
    histogram->coarse[ns / COARSE_STEP_NS]++;
  else
    histogram->overflow++;
}

double
loadgen_histogram_percentile_ns (const LoadgenHistogram *histogram, double q)
{
  guint64 total = histogram->overflow, rank, seen = 0;

  for (int i = 0; i < FINE_BUCKETS; i++)
    total += histogram->fine[i];
  for (int i = 0; i < COARSE_BUCKETS; i++)
    total += histogram->coarse[i];
  if (total == 0)
    return 0;
  rank = (guint64) (q * (double) total);
  if (rank >= total)
    rank = total - 1;
  for (int i = 0; i < FINE_BUCKETS; i++)
    if ((seen += histogram->fine[i]) > rank)
      return (i + 0.5) * FINE_STEP_NS;
  for (int i = 0; i < COARSE_BUCKETS; i++)
    if ((seen += histogram->coarse[i]) > rank)
      return (i + 0.5) * COARSE_STEP_NS;
  return (double) COARSE_STEP_NS * COARSE_BUCKETS;
}

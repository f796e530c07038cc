/* loadgen-util.h: what the load generators share (clocks, the server's /proc figures,
 * round-trip histograms)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

gint64 loadgen_now_ns (void);
gint64 loadgen_seconds_to_ns (double seconds);

/* The server's CPU time in nanoseconds (utime + stime of /proc/PID/stat), -1 if unknown. */
gint64 loadgen_server_cpu_ns (int pid);

/* The server's resident memory in kB (VmRSS of /proc/PID/status), -1 if unknown. */
gint64 loadgen_server_rss_kb (int pid);

/* Raises the descriptor limit to the hard limit. */
void loadgen_raise_descriptor_limit (void);

/* Our own CPU time (user + system) in seconds. */
double loadgen_own_cpu_s (void);

/* Round trips: 10 ns steps up to 10 ms, then 10 µs steps up to 10 s. */
typedef struct
{
  guint32 *fine;
  guint32 *coarse;
  guint64 overflow;
} LoadgenHistogram;

void loadgen_histogram_init (LoadgenHistogram *histogram);
void loadgen_histogram_record (LoadgenHistogram *histogram, gint64 ns);
/* The round trip below which a fraction q of the recorded ones fall, in nanoseconds. */
double loadgen_histogram_percentile_ns (const LoadgenHistogram *histogram, double q);

/* bench-util.h: what every echo server of the benchmark suite shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The port to listen on (--port N, 0 by default: any free port). Exits with a usage
 * message on anything else. */
int bench_parse_port (int argc, char **argv);

/* The TLS servers' arguments: --port N (0 by default), --cert FILE and --key FILE (both
 * required: a PEM certificate chain and its key). Exits with a usage message on anything else. */
int bench_parse_tls_arguments (int argc, char **argv, const char **cert, const char **key);

/* Raises the descriptor limit to the hard limit (the idle-connection scenario holds
 * 10,000 sockets), ignores SIGPIPE and ends the process after 15 minutes whatever happens,
 * so that a forgotten server cannot outlive its benchmark run for long. The driver stops
 * servers with SIGTERM, whose default action is enough: a signal source would be one more
 * source for every main-loop iteration to check, which the measurement should not carry. */
void bench_setup_process (void);

/* Prints "port N" for the driver, which starts every server with --port 0. */
void bench_announce_port (int port);

/* A non-blocking listening TCP socket on 127.0.0.1:port with the largest backlog, or exits. */
int bench_listen (int port);

/* The port a socket is bound to. */
int bench_local_port (int fd);

/* Turns Nagle's algorithm off: echoes of pipelined messages must not wait for ACKs. */
void bench_set_nodelay (int fd);

/* The hand-written loops keep their connections in an array indexed by descriptor: the slot
 * of @fd in *@table (of *@count slots of @size bytes), the array grown by doubling (from
 * 1,024) and its new slots zeroed when @fd is past its end. Aborts when memory runs out.
 * Inline: the loops look a connection up at every event. */
static inline void *
bench_fd_slot (void **table, size_t *count, size_t size, int fd)
{
  if ((size_t) fd >= *count)
    {
      size_t n = *count == 0 ? 1024 : *count;
      char *grown;

      while (n <= (size_t) fd)
        n *= 2;
      grown = realloc (*table, n * size);
      if (grown == NULL)
        abort ();
      memset (grown + *count * size, 0, (n - *count) * size);
      *table = grown;
      *count = n;
    }
  return (char *) *table + (size_t) fd * size;
}

/* bench-util.c: process setup and listening sockets for the echo servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BENCH_MAX_LIFETIME_SECONDS (15 * 60)

int
bench_parse_port (int argc, char **argv)
{
  if (argc == 1)
    return 0;
  if (argc == 3 && strcmp (argv[1], "--port") == 0)
    {
      char *end;
      long port = strtol (argv[2], &end, 10);
      if (*end == '\0' && port >= 0 && port <= 65535)
        return (int) port;
    }
  fprintf (stderr, "usage: %s [--port N]\n", argv[0]);
  exit (2);
}

int
bench_parse_tls_arguments (int argc, char **argv, const char **cert, const char **key)
{
  long port = 0;

  *cert = *key = NULL;
  for (int i = 1; i + 1 < argc; i += 2)
    {
      char *end;
      if (strcmp (argv[i], "--port") == 0)
        {
          port = strtol (argv[i + 1], &end, 10);
          if (*end != '\0' || port < 0 || port > 65535)
            break;
        }
      else if (strcmp (argv[i], "--cert") == 0)
        *cert = argv[i + 1];
      else if (strcmp (argv[i], "--key") == 0)
        *key = argv[i + 1];
      else
        break;
      if (i + 2 == argc && *cert != NULL && *key != NULL)
        return (int) port;
    }
  fprintf (stderr, "usage: %s [--port N] --cert FILE --key FILE\n", argv[0]);
  exit (2);
}

void
bench_setup_process (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
  signal (SIGPIPE, SIG_IGN);
  alarm (BENCH_MAX_LIFETIME_SECONDS);
}

void
bench_announce_port (int port)
{
  printf ("port %d\n", port);
  fflush (stdout);
}

int
bench_local_port (int fd)
{
  struct sockaddr_in address;
  socklen_t length = sizeof address;

  if (getsockname (fd, (struct sockaddr *) &address, &length) < 0)
    return -1;
  return ntohs (address.sin_port);
}

int
bench_listen (int port)
{
  struct sockaddr_in address = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;

  address.sin_family = AF_INET;
  address.sin_port = htons ((unsigned short) port);
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0
      || bind (fd, (struct sockaddr *) &address, sizeof address) < 0 || listen (fd, SOMAXCONN) < 0)
    {
      perror ("listen on 127.0.0.1");
      exit (1);
    }
  return fd;
}

void
bench_set_nodelay (int fd)
{
  int on = 1;

  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

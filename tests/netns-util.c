/* netns-util.c: two hosts in network namespaces the test makes for itself
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "netns-util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static gboolean
run_argv (GPtrArray *argv, char **error_text)
{
  g_autofree char *err = NULL;
  int status = -1;
  gboolean ok;

  g_ptr_array_add (argv, NULL);
  ok = g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                     &status, NULL)
       && g_spawn_check_wait_status (status, NULL);
  if (!ok && error_text != NULL)
    {
      g_autofree char *command = g_strjoinv (" ", (char **) argv->pdata);
      *error_text = g_strdup_printf ("%s: %s", command, err ? g_strstrip (err) : "failed");
    }
  return ok;
}

static gboolean
run (char **error_text, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  return run_argv (argv, error_text);
}

void
two_hosts_ip (TwoHosts *hosts, const char *namespace_name, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *why = NULL;
  va_list args;

  g_ptr_array_add (argv, (gpointer) "ip");
  g_ptr_array_add (argv, (gpointer) "-n");
  g_ptr_array_add (argv, (gpointer) namespace_name);
  va_start (args, namespace_name);
  for (const char *arg = va_arg (args, const char *); arg != NULL;
       arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  cr_assert (run_argv (argv, &why), "%s", why);
}

/* Namespaces of an earlier run that was killed (a timeout, a crash), whose process is gone.
 * Only this file's own names are touched. */
static void
remove_stale_namespaces (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/run/netns", 0, NULL);
  const char *name;
  char tag[32];
  int pid;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (sscanf (name, "afxsock-%31[a-z]-%d-", tag, &pid) == 2 && kill (pid, 0) < 0
        && errno == ESRCH)
      run (NULL, "ip", "netns", "delete", name, NULL);
}

char *
two_hosts_ipv4 (TwoHosts *hosts, guint host)
{
  return g_strdup_printf ("10.%u.0.%u", hosts->subnet, host);
}

char *
two_hosts_ipv6 (TwoHosts *hosts, guint host)
{
  return g_strdup_printf ("fd00:%u::%u", hosts->subnet, host);
}

static void
add_addresses (TwoHosts *hosts, const char *namespace_name, const char *link, guint host)
{
  g_autofree char *v4 = g_strdup_printf ("10.%u.0.%u/24", hosts->subnet, host);
  g_autofree char *v6 = g_strdup_printf ("fd00:%u::%u/64", hosts->subnet, host);

  two_hosts_ip (hosts, namespace_name, "addr", "add", v4, "dev", link, NULL);
  two_hosts_ip (hosts, namespace_name, "addr", "add", v6, "dev", link, "nodad", NULL);
}

void
two_hosts_add_server_address (TwoHosts *hosts, guint host)
{
  add_addresses (hosts, hosts->server, hosts->server_link, host);
}

void
two_hosts_make (TwoHosts *hosts, const char *tag)
{
  g_autofree char *why = NULL;
  g_autofree char *ip = g_find_program_in_path ("ip");
  int pid = (int) getpid ();

  *hosts = (TwoHosts){ .original = -1 };
  if (geteuid () != 0)
    cr_skip_test ("%s: network namespaces need root (run the suite as root to include this test)",
                  tag);
  if (ip == NULL)
    cr_skip_test ("%s: the ip command (iproute2) is not installed", tag);
  remove_stale_namespaces ();
  hosts->original = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  cr_assert (hosts->original >= 0, "cannot open this thread's namespace: %s", g_strerror (errno));
  hosts->subnet = 100 + (guint) pid % 100;
  g_snprintf (hosts->server, sizeof hosts->server, "afxsock-%s-%d-s", tag, pid);
  g_snprintf (hosts->client, sizeof hosts->client, "afxsock-%s-%d-c", tag, pid);
  g_snprintf (hosts->server_link, sizeof hosts->server_link, "afx%ds", pid % 1000000);
  g_snprintf (hosts->client_link, sizeof hosts->client_link, "afx%dc", pid % 1000000);
  if (!run (&why, "ip", "netns", "add", hosts->server, NULL))
    {
      hosts->server[0] = hosts->client[0] = '\0';
      cr_skip_test ("%s: cannot make a network namespace here (%s)", tag, why);
    }
  cr_assert (run (&why, "ip", "netns", "add", hosts->client, NULL), "%s", why);
  cr_assert (run (&why, "ip", "link", "add", hosts->server_link, "netns", hosts->server, "type",
                  "veth", "peer", "name", hosts->client_link, "netns", hosts->client, NULL),
             "%s", why);
  add_addresses (hosts, hosts->server, hosts->server_link, 2);
  add_addresses (hosts, hosts->client, hosts->client_link, 1);
  two_hosts_ip (hosts, hosts->server, "link", "set", "lo", "up", NULL);
  two_hosts_ip (hosts, hosts->client, "link", "set", "lo", "up", NULL);
  two_hosts_ip (hosts, hosts->server, "link", "set", hosts->server_link, "up", NULL);
  two_hosts_ip (hosts, hosts->client, "link", "set", hosts->client_link, "up", NULL);
}

void
two_hosts_drop (TwoHosts *hosts, const char *address)
{
  two_hosts_ip (hosts, hosts->client, "neigh", "replace", address, "lladdr", "02:00:00:00:00:01",
                "dev", hosts->client_link, "nud", "permanent", NULL);
}

void
two_hosts_enter (TwoHosts *hosts, const char *namespace_name)
{
  g_autofree char *path = g_build_filename ("/run/netns", namespace_name, NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  cr_assert (fd >= 0, "cannot open %s: %s", path, g_strerror (errno));
  cr_assert (setns (fd, CLONE_NEWNET) == 0, "cannot enter %s: %s", namespace_name,
             g_strerror (errno));
  close (fd);
}

void
two_hosts_leave (TwoHosts *hosts)
{
  if (hosts->original >= 0)
    setns (hosts->original, CLONE_NEWNET);
}

void
two_hosts_destroy (TwoHosts *hosts)
{
  two_hosts_leave (hosts);
  if (hosts->original >= 0)
    close (hosts->original);
  hosts->original = -1;
  /* Deleting a namespace deletes its end of the veth pair, and with it the other end. */
  if (hosts->server[0] != '\0')
    run (NULL, "ip", "netns", "delete", hosts->server, NULL);
  if (hosts->client[0] != '\0')
    run (NULL, "ip", "netns", "delete", hosts->client, NULL);
  hosts->server[0] = hosts->client[0] = '\0';
}

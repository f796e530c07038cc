/* resolver-util.c: names for connect tests without DNS, and what the kernel shows of a race
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "resolver-util.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct
{
  char *addresses[2]; /* [0] IPv6, [1] IPv4: comma-separated, NULL for none */
  int delays[2];
} Entry;

struct _TestResolver
{
  GResolver parent_instance;
  GHashTable *names; /* name → Entry */
  GResolver *previous;
  guint lookups;
  guint cancelled;
};

typedef GResolverClass TestResolverClass;
static GType test_resolver_get_type (void);
G_DEFINE_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)
#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
#define TEST_RESOLVER(object)                                                                      \
  G_TYPE_CHECK_INSTANCE_CAST ((object), TEST_TYPE_RESOLVER, TestResolver)

/* The same resolver without per-family lookups. */
typedef TestResolver TestPlainResolver;
typedef TestResolverClass TestPlainResolverClass;
static GType test_plain_resolver_get_type (void);
G_DEFINE_TYPE (TestPlainResolver, test_plain_resolver, TEST_TYPE_RESOLVER)

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->addresses[0]);
  g_free (entry->addresses[1]);
  g_free (entry);
}

static int
family_index (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV6 ? 0 : 1;
}

/* The answer for @flags: the addresses (IPv6 first), the delay (the slower family's), or an
 * error. */
static GList *
answer (TestResolver *self, const char *name, GResolverNameLookupFlags flags, int *delay,
        GError **error)
{
  Entry *entry = g_hash_table_lookup (self->names, name);
  GList *addresses = NULL;

  *delay = 0;
  for (int i = 0; entry != NULL && i < 2; i++)
    {
      g_auto (GStrv) list = NULL;

      if ((i == 0 && flags == G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY)
          || (i == 1 && flags == G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY))
        continue;
      if (entry->delays[i] == TEST_RESOLVER_NEVER || *delay == TEST_RESOLVER_NEVER)
        *delay = TEST_RESOLVER_NEVER;
      else
        *delay = MAX (*delay, entry->delays[i]);
      list = entry->addresses[i] ? g_strsplit (entry->addresses[i], ",", -1) : NULL;
      for (char **a = list; a != NULL && *a != NULL; a++)
        addresses = g_list_append (addresses, g_inet_address_new_from_string (*a));
    }
  if (addresses == NULL)
    g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no %s address for %s",
                 flags == G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY   ? "IPv6"
                 : flags == G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY ? "IPv4"
                                                                   : "such",
                 name);
  return addresses;
}

static GList *
lookup_with_flags (GResolver *resolver, const char *name, GResolverNameLookupFlags flags,
                   GCancellable *cancellable, GError **error)
{
  int delay;

  TEST_RESOLVER (resolver)->lookups++;
  return answer (TEST_RESOLVER (resolver), name, flags, &delay, error);
}

static GList *
lookup (GResolver *resolver, const char *name, GCancellable *cancellable, GError **error)
{
  return lookup_with_flags (resolver, name, G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT, cancellable,
                            error);
}

/* A lookup waiting for its delay or its cancellation, whichever comes first. */
typedef struct
{
  GTask *task;
  GList *addresses;
  GError *error;
  GSource *timer;
  GSource *cancel;
} Pending;

static void
pending_finish (Pending *pending, gboolean cancelled)
{
  TestResolver *self = g_task_get_source_object (pending->task);

  if (pending->timer != NULL)
    g_source_destroy (pending->timer);
  if (pending->cancel != NULL)
    g_source_destroy (pending->cancel);
  g_clear_pointer (&pending->timer, g_source_unref);
  g_clear_pointer (&pending->cancel, g_source_unref);
  if (cancelled)
    {
      self->cancelled++;
      g_resolver_free_addresses (pending->addresses);
      g_clear_error (&pending->error);
      g_task_return_new_error (pending->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "the lookup was cancelled");
    }
  else if (pending->error != NULL)
    g_task_return_error (pending->task, pending->error);
  else
    g_task_return_pointer (pending->task, pending->addresses,
                           (GDestroyNotify) g_resolver_free_addresses);
  g_object_unref (pending->task);
  g_free (pending);
}

static gboolean
pending_answer (gpointer data)
{
  pending_finish (data, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
pending_cancelled (GCancellable *cancellable, gpointer data)
{
  pending_finish (data, TRUE);
  return G_SOURCE_REMOVE;
}

static void
lookup_with_flags_async (GResolver *resolver, const char *name, GResolverNameLookupFlags flags,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  Pending *pending = g_new0 (Pending, 1);
  GMainContext *context = g_main_context_get_thread_default ();
  int delay;

  self->lookups++;
  pending->task = g_task_new (resolver, cancellable, callback, user_data);
  pending->addresses = answer (self, name, flags, &delay, &pending->error);
  if (delay != TEST_RESOLVER_NEVER)
    {
      pending->timer = g_timeout_source_new ((guint) delay);
      g_source_set_callback (pending->timer, pending_answer, pending, NULL);
      g_source_attach (pending->timer, context);
    }
  if (cancellable != NULL)
    {
      pending->cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (pending->cancel, G_SOURCE_FUNC (pending_cancelled), pending, NULL);
      g_source_attach (pending->cancel, context);
    }
}

static void
lookup_async (GResolver *resolver, const char *name, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data)
{
  lookup_with_flags_async (resolver, name, G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT, cancellable,
                           callback, user_data);
}

static GList *
lookup_finish (GResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_finalize (GObject *object)
{
  g_hash_table_unref (TEST_RESOLVER (object)->names);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  resolver_class->lookup_by_name = lookup;
  resolver_class->lookup_by_name_async = lookup_async;
  resolver_class->lookup_by_name_finish = lookup_finish;
  resolver_class->lookup_by_name_with_flags = lookup_with_flags;
  resolver_class->lookup_by_name_with_flags_async = lookup_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = lookup_finish;
}

static void
test_resolver_init (TestResolver *self)
{
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
}

static void
test_plain_resolver_class_init (TestPlainResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  resolver_class->lookup_by_name_with_flags = NULL;
  resolver_class->lookup_by_name_with_flags_async = NULL;
  resolver_class->lookup_by_name_with_flags_finish = NULL;
}

static void
test_plain_resolver_init (TestPlainResolver *self)
{
}

TestResolver *
test_resolver_install (gboolean plain)
{
  TestResolver *self
      = g_object_new (plain ? test_plain_resolver_get_type () : TEST_TYPE_RESOLVER, NULL);

  self->previous = g_resolver_get_default ();
  g_resolver_set_default (G_RESOLVER (self));
  return self;
}

void
test_resolver_uninstall (TestResolver *self)
{
  g_resolver_set_default (self->previous);
  g_clear_object (&self->previous);
  g_object_unref (self);
}

void
test_resolver_set (TestResolver *self, const char *name, GSocketFamily family,
                   const char *addresses, int delay_ms)
{
  Entry *entry = g_hash_table_lookup (self->names, name);
  int i = family_index (family);

  if (entry == NULL)
    {
      entry = g_new0 (Entry, 1);
      g_hash_table_insert (self->names, g_strdup (name), entry);
    }
  g_free (entry->addresses[i]);
  entry->addresses[i] = addresses && *addresses ? g_strdup (addresses) : NULL;
  entry->delays[i] = delay_ms;
}

guint
test_resolver_lookups (TestResolver *self)
{
  return self->lookups;
}

guint
test_resolver_cancelled (TestResolver *self)
{
  return self->cancelled;
}

/* ---- /proc -------------------------------------------------------------------------------- */

/* Calls @func for each socket line of /proc/thread-self/net/@file: local and remote ports,
 * state, tx and rx queues. */
static void
each_tcp_socket (const char *file,
                 void (*func) (guint local_port, guint remote_port, guint state, guint tx, guint rx,
                               gpointer data),
                 gpointer data)
{
  g_autofree char *path = g_build_filename ("/proc/thread-self/net", file, NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  cr_assert (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  lines = g_strsplit (text, "\n", -1);
  for (char **line = lines + 1; *line != NULL; line++)
    {
      char local[64], remote[64];
      guint state, tx, rx;
      char *colon;

      if (sscanf (*line, "%*d: %63s %63s %x %x:%x", local, remote, &state, &tx, &rx) != 5)
        continue;
      colon = strrchr (local, ':');
      char *remote_colon = strrchr (remote, ':');
      if (colon == NULL || remote_colon == NULL)
        continue;
      func ((guint) strtoul (colon + 1, NULL, 16), (guint) strtoul (remote_colon + 1, NULL, 16),
            state, tx, rx, data);
    }
}

typedef struct
{
  guint port;
  guint count;
  gboolean full;
} ProcQuery;

#define TCP_SYN_SENT 0x02
#define TCP_LISTEN 0x0A

static void
count_syn_sent (guint local_port, guint remote_port, guint state, guint tx, guint rx, gpointer data)
{
  ProcQuery *query = data;

  if (remote_port == query->port && state == TCP_SYN_SENT)
    query->count++;
}

guint
syn_sent_towards (guint port)
{
  ProcQuery query = { port, 0, FALSE };

  each_tcp_socket ("tcp", count_syn_sent, &query);
  each_tcp_socket ("tcp6", count_syn_sent, &query);
  return query.count;
}

static void
check_listener (guint local_port, guint remote_port, guint state, guint tx, guint rx, gpointer data)
{
  ProcQuery *query = data;

  /* For a listener, rx is the accept queue's length and tx its backlog. */
  if (local_port == query->port && state == TCP_LISTEN)
    {
      query->count++;
      query->full = rx > tx;
    }
}

gboolean
accept_queue_full (guint port, gboolean ipv6)
{
  ProcQuery query = { port, 0, FALSE };

  each_tcp_socket (ipv6 ? "tcp6" : "tcp", check_listener, &query);
  cr_assert_eq (query.count, 1, "%u listeners on port %u", query.count, port);
  return query.full;
}

guint
open_descriptors (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  cr_assert_not_null (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* ---- Listeners ---------------------------------------------------------------------------- */

TestSocket *
make_listener_on (const char *address, guint *port)
{
  TestSocket *listener = test_socket_new ();
  g_autoptr (GError) error = NULL;

  cr_assert (c_async_socket_create (S (listener), *port, C_SOCK_STREAM, C_FD_ALL, address, &error),
             "listener on %s port %u: %s", address, *port, error ? error->message : "");
  cr_assert (c_async_socket_listen (S (listener), 1, &error), "listen: %s",
             error ? error->message : "");
  cr_assert (c_async_socket_get_sock_name (S (listener), NULL, port, &error));
  return listener;
}

typedef struct
{
  guint port;
  gboolean ipv6;
} QueueWait;

static gboolean
queue_is_full (gpointer data)
{
  QueueWait *wait = data;
  return accept_queue_full (wait->port, wait->ipv6);
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
run_until_polled (gboolean (*func) (gpointer data), gpointer data, guint deadline_ms)
{
  GSource *ticker = g_timeout_source_new (1);
  gboolean held;

  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, g_main_context_get_thread_default ());
  held = run_until_within (func, data, deadline_ms);
  g_source_destroy (ticker);
  g_source_unref (ticker);
  return held;
}

typedef struct
{
  guint port, n;
} SynWait;

static gboolean
enough_syn_sent (gpointer data)
{
  SynWait *wait = data;
  return syn_sent_towards (wait->port) == wait->n;
}

gboolean
run_until_syn_sent (guint port, guint n)
{
  SynWait wait = { port, n };
  return run_until_polled (enough_syn_sent, &wait, TEST_DEADLINE_MS);
}

TestSocket *
make_full_listener (const char *address, guint *port, GPtrArray *fillers)
{
  TestSocket *listener = make_listener_on (address, port);
  QueueWait wait = { *port, strchr (address, ':') != NULL };
  g_autoptr (GError) error = NULL;

  /* A backlog of 1 holds two connections, none of them accepted; with more waiting than
   * the backlog, Linux drops new SYNs. */
  for (int i = 0; i < 2; i++)
    {
      TestSocket *filler = test_socket_new ();

      g_ptr_array_add (fillers, filler);
      cr_assert (c_async_socket_create (S (filler), 0, C_SOCK_STREAM, C_FD_ALL, NULL, &error));
      cr_assert (c_async_socket_connect (S (filler), address, *port, &error), "%s",
                 error ? error->message : "");
      cr_assert (run_until_count (filler, C_NOTIFY_CONNECT, 1), "filler %d: no on_connect", i);
      cr_assert_eq (filler->errors[C_NOTIFY_CONNECT], 0, "filler %d: %s", i,
                    g_strerror (filler->errors[C_NOTIFY_CONNECT]));
    }
  /* The listener's side of the last handshake ends just after the client's: the loop runs,
   * with a ticker to look again, until the kernel shows the queue full. */
  run_until_polled (queue_is_full, &wait, 5000);
  cr_assert (accept_queue_full (*port, wait.ipv6), "the accept queue of %s port %u is not full",
             address, *port);
  return listener;
}

/* c-async-socket-eyeballs.c: connect by host name, Happy Eyeballs version 2 (RFC 8305)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * c_async_socket_connect() with a host name hands the connect to a race (CEyeballs), which
 * owns everything about it until it ends:
 *
 * - the lookups: AAAA and A in parallel (g_resolver_lookup_by_name_with_flags_async() with
 *   IPV6_ONLY and IPV4_ONLY; a resolver without that call gets one plain lookup, whose
 *   answer is split by family), only for the families the socket reaches;
 * - when to begin: at once when the IPv6 answer is in; RESOLUTION_DELAY_MS after an IPv4
 *   answer that came first, unless the IPv6 one arrives meanwhile (section 3);
 * - the candidates: one queue per family, taken in turn, IPv6 first (section 4, with a
 *   "first address family count" of 1); addresses that arrive late join their queue;
 * - the attempts: the first on the socket's own descriptor; while that one is busy, others
 *   on descriptors of their own (same family, type and options, bound where the socket
 *   is), registered with the reactor under the socket as owner, so that a CSocket call
 *   waiting on the socket sees them. A new attempt starts beside the others after the
 *   socket's connection attempt delay, and at once when one fails (section 5);
 * - the end: the first attempt to connect wins (its descriptor takes the socket's place,
 *   c_async_socket_replace_fd()), the others are closed, the lookups cancelled; or, with
 *   nothing left to try, the last attempt's error. Either way connect.c's
 *   c_async_socket_connect_settle() delivers the one on_connect.
 *
 * The entry points run from the main loop (lookup callbacks, timers, readiness), never
 * inside c_async_socket_connect(). The race is referenced by the socket and by each lookup
 * under way, and by each entry point while it runs; 'self' is cleared when the race ends,
 * so a late lookup only drops its reference.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c-async-socket-private.h"

#define RESOLUTION_DELAY_MS 50

enum
{
  FAMILY_IPV6,
  FAMILY_IPV4,
  N_FAMILIES
};

static const char *const family_names[N_FAMILIES] = { "IPv6", "IPv4" };

typedef struct
{
  int fd;
  gboolean own;        /* the socket's own descriptor */
  CReactorWatch watch; /* the registration of a descriptor of the race's own */
  char *target;        /* the address, for messages */
} Attempt;

struct _CEyeballs
{
  guint refs;
  CAsyncSocket *self; /* NULL once the race is over */
  char *host;
  guint16 port;
  guint families; /* 1 << FAMILY_*: those the socket reaches */
  guint lookups;  /* 1 << FAMILY_*: lookups under way */
  GCancellable *cancellable;
  GQueue candidates[N_FAMILIES]; /* GInetSocketAddress*, still to try */
  int next_family;
  GPtrArray *attempts; /* Attempt*, under way */
  GSource *resolution_timer;
  GSource *attempt_timer;
  gboolean racing;               /* the first attempt was due */
  gboolean starved;              /* an attempt was due with no address to try */
  gboolean one_at_a_time;        /* no descriptor beside the socket's own */
  gboolean own_used;             /* the socket's descriptor made an attempt: dissolve it first */
  struct sockaddr_storage local; /* where the race's own descriptors bind */
  socklen_t local_length;        /* 0: they need no bind */
  int last_error;
  GError *resolve_error;
  gint64 started;
};

static void start_next_attempt (CEyeballs *eb);
static gboolean attempt_delay_passed (gpointer data);

static void
eyeballs_unref (CEyeballs *eb)
{
  if (--eb->refs > 0)
    return;
  for (int f = 0; f < N_FAMILIES; f++)
    g_queue_clear_full (&eb->candidates[f], g_object_unref);
  g_ptr_array_unref (eb->attempts);
  g_clear_error (&eb->resolve_error);
  g_clear_object (&eb->cancellable);
  g_free (eb->host);
  g_free (eb);
}

static double
elapsed_ms (CEyeballs *eb)
{
  return (double) (g_get_monotonic_time () - eb->started) / 1000.0;
}

static void
stop_timer (GSource **timer)
{
  if (*timer == NULL)
    return;
  g_source_destroy (*timer);
  g_clear_pointer (timer, g_source_unref);
}

static GSource *
add_timer (CEyeballs *eb, guint ms, GSourceFunc function)
{
  GSource *timer = g_timeout_source_new (ms);

  g_source_set_static_name (timer, "afxsock happy eyeballs");
  g_source_set_callback (timer, function, eb, NULL);
  g_source_attach (timer, c_async_socket_get_private (eb->self)->context);
  return timer;
}

static void
close_attempt (CAsyncSocketPrivate *priv, Attempt *attempt)
{
  /* The socket's own descriptor stays: a connect under way on it is dissolved by whoever
   * ends the race (replace_fd closes it; abandon_connect dissolves it). */
  if (!attempt->own && attempt->fd >= 0)
    {
      c_reactor_remove (priv->reactor, &attempt->watch, attempt->fd);
      close (attempt->fd);
    }
  g_free (attempt->target);
  g_free (attempt);
}

/* Detaches the race from its socket: the lookups are cancelled, the timers stopped, the
 * attempts still under way closed. */
static void
end_race (CEyeballs *eb)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (eb->self);

  g_cancellable_cancel (eb->cancellable);
  stop_timer (&eb->resolution_timer);
  stop_timer (&eb->attempt_timer);
  while (eb->attempts->len > 0)
    close_attempt (priv, g_ptr_array_steal_index (eb->attempts, eb->attempts->len - 1));
  for (int f = 0; f < N_FAMILIES; f++)
    g_queue_clear_full (&eb->candidates[f], g_object_unref);
  eb->self = NULL;
  priv->eyeballs = NULL;
  eyeballs_unref (eb);
}

void
c_eyeballs_abandon (CAsyncSocket *self)
{
  CEyeballs *eb = c_async_socket_get_private (self)->eyeballs;

  if (eb != NULL)
    {
      g_debug ("connect to %s:%u: abandoned after %.1f ms", eb->host, eb->port, elapsed_ms (eb));
      end_race (eb);
    }
}

/* ---- The end ----------------------------------------------------------------------------- */

static void
win (CEyeballs *eb, Attempt *winner)
{
  CAsyncSocket *self = eb->self;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int error_code = 0;

  g_ptr_array_remove_fast (eb->attempts, winner);
  g_debug ("connect to %s:%u: %s won after %.1f ms (attempt %u; %u others closed)", eb->host,
           eb->port, winner->target, elapsed_ms (eb), priv->connect_attempts, eb->attempts->len);
  end_race (eb);
  if (!winner->own)
    {
      g_autoptr (GError) error = NULL;

      c_reactor_remove (priv->reactor, &winner->watch, winner->fd);
      if (!c_async_socket_replace_fd (self, winner->fd, &error))
        {
          g_debug ("connect to %s: %s", winner->target, error->message);
          error_code = EIO;
        }
      winner->fd = -1; /* taken (or closed) by replace_fd */
    }
  close_attempt (priv, winner);
  c_async_socket_connect_settle (self, error_code);
}

/* Nothing is left to try: on_connect with the last attempt's error, or, when no attempt
 * was made, EHOSTUNREACH with the resolver's reason. */
static void
give_up (CEyeballs *eb)
{
  CAsyncSocket *self = eb->self;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  int error_code = eb->last_error;

  if (priv->connect_attempts == 0)
    {
      error_code = EHOSTUNREACH;
      g_clear_error (&priv->close_reason);
      if (eb->resolve_error != NULL)
        priv->close_reason
            = g_error_new (eb->resolve_error->domain, eb->resolve_error->code,
                           "cannot resolve %s: %s", eb->host, eb->resolve_error->message);
      else
        priv->close_reason
            = g_error_new (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "cannot resolve %s: no address the socket's family reaches", eb->host);
    }
  g_debug ("connect to %s:%u: nothing left to try after %.1f ms and %u attempts", eb->host,
           eb->port, elapsed_ms (eb), priv->connect_attempts);
  end_race (eb);
  c_async_socket_connect_settle (self, error_code);
}

static gboolean
nothing_left (CEyeballs *eb)
{
  return eb->attempts->len == 0 && eb->lookups == 0
         && g_queue_is_empty (&eb->candidates[FAMILY_IPV6])
         && g_queue_is_empty (&eb->candidates[FAMILY_IPV4]);
}

static void
give_up_if_nothing_left (CEyeballs *eb)
{
  if (eb->self != NULL && nothing_left (eb))
    give_up (eb);
}

/* An attempt ended: a win ends the race; a failure makes way for the next at once. */
static void
attempt_finished (CEyeballs *eb, Attempt *attempt, int error_code)
{
  if (error_code == 0)
    {
      win (eb, attempt);
      return;
    }
  g_debug ("connect to %s:%u: %s failed after %.1f ms: %s", eb->host, eb->port, attempt->target,
           elapsed_ms (eb), g_strerror (error_code));
  eb->last_error = error_code;
  g_ptr_array_remove_fast (eb->attempts, attempt);
  close_attempt (c_async_socket_get_private (eb->self), attempt);
  start_next_attempt (eb);
}

void
c_eyeballs_own_finished (CAsyncSocket *self, int error_code)
{
  CEyeballs *eb = c_async_socket_get_private (self)->eyeballs;

  for (guint i = 0; i < eb->attempts->len; i++)
    {
      Attempt *attempt = g_ptr_array_index (eb->attempts, i);

      if (attempt->own)
        {
          eb->refs++;
          attempt_finished (eb, attempt, error_code);
          give_up_if_nothing_left (eb);
          eyeballs_unref (eb);
          return;
        }
    }
}

/* Readiness of one of the race's own descriptors (the socket is the owner, so the report
 * does not say which): each is asked in turn. Called from the reactor's dispatch. */
static void
racer_ready (gpointer owner, guint32 events)
{
  CAsyncSocket *self = owner;
  CEyeballs *eb = c_async_socket_get_private (self)->eyeballs;
  const guint32 done = C_REACTOR_WRITABLE | C_REACTOR_ERROR | C_REACTOR_HANGUP;

  if (eb == NULL)
    return;
  eb->refs++;
  c_async_socket_dispatch_enter (self);
  for (guint i = 0; eb->self != NULL && i < eb->attempts->len; i++)
    {
      Attempt *attempt = g_ptr_array_index (eb->attempts, i);
      guint32 now = attempt->own ? 0 : c_reactor_poll_now (attempt->fd);
      int error_code = 0;
      socklen_t length = sizeof error_code;

      if (!(now & done))
        continue;
      if (getsockopt (attempt->fd, SOL_SOCKET, SO_ERROR, &error_code, &length) < 0)
        error_code = errno;
      if (error_code == 0 && (now & C_REACTOR_HANGUP) && !(now & C_REACTOR_WRITABLE))
        error_code = ECONNREFUSED;
      attempt_finished (eb, attempt, error_code);
      i = (guint) -1; /* the list changed: from the start again */
    }
  give_up_if_nothing_left (eb);
  c_async_socket_dispatch_leave (self);
  eyeballs_unref (eb);
}

static void
racer_deferred (gpointer owner)
{
}

static const CReactorHandlers racer_handlers = { racer_ready, racer_deferred };

/* ---- Attempts ---------------------------------------------------------------------------- */

static gboolean
own_busy (CEyeballs *eb)
{
  for (guint i = 0; i < eb->attempts->len; i++)
    if (((Attempt *) g_ptr_array_index (eb->attempts, i))->own)
      return TRUE;
  return FALSE;
}

/* A descriptor for an attempt beside the socket's own: its family, type, protocol and
 * options, and its bound address (and port, if the application chose one). */
static int
open_racer (CEyeballs *eb, int *error_code)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (eb->self);
  int fd = socket (priv->family, (int) priv->type | SOCK_NONBLOCK | SOCK_CLOEXEC, priv->protocol);

  if (fd < 0)
    {
      *error_code = errno;
      return -1;
    }
  c_async_socket_copy_options (priv->fd, fd);
  if (eb->local_length > 0 && bind (fd, (struct sockaddr *) &eb->local, eb->local_length) < 0)
    {
      *error_code = errno;
      close (fd);
      return -1;
    }
  return fd;
}

static void
arm_attempt_timer (CEyeballs *eb)
{
  stop_timer (&eb->attempt_timer);
  eb->attempt_timer = add_timer (eb, c_async_socket_get_private (eb->self)->attempt_delay_ms,
                                 attempt_delay_passed);
}

/* Starts one attempt at @candidate. FALSE when it failed at once (the next address is then
 * due); TRUE when it is under way, won, or must wait for the socket's descriptor. */
static gboolean
try_candidate (CEyeballs *eb, GInetSocketAddress *candidate, int family)
{
  CAsyncSocket *self = eb->self;
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  struct sockaddr_storage storage;
  socklen_t length;
  Attempt *attempt;
  gboolean own = !own_busy (eb);
  int fd, error_code = 0;

  if (!c_address_from_gobject (G_SOCKET_ADDRESS (candidate), priv->family, &storage, &length, NULL))
    return FALSE;
  if (own)
    {
      if (eb->own_used)
        c_async_socket_dissolve_attempt (priv);
      eb->own_used = TRUE;
      fd = priv->fd;
    }
  else if ((fd = open_racer (eb, &error_code)) < 0)
    {
      /* No second descriptor (out of descriptors, or a bound port that cannot be shared):
       * the addresses wait for the socket's own, one at a time. */
      g_debug ("connect to %s:%u: no descriptor for a parallel attempt (%s): one at a time",
               eb->host, eb->port, g_strerror (error_code));
      eb->one_at_a_time = TRUE;
      g_queue_push_head (&eb->candidates[family], g_object_ref (candidate));
      return TRUE;
    }

  attempt = g_new0 (Attempt, 1);
  attempt->fd = fd;
  attempt->own = own;
  attempt->target = c_address_describe ((struct sockaddr *) &storage, length);
  priv->connect_attempts++;
  g_debug ("connect to %s:%u: attempt %u, %s (%s), at %.1f ms", eb->host, eb->port,
           priv->connect_attempts, attempt->target, family_names[family], elapsed_ms (eb));
  g_ptr_array_add (eb->attempts, attempt);
  if (connect (fd, (struct sockaddr *) &storage, length) == 0)
    {
      win (eb, attempt); /* a datagram socket's peer, say */
      return TRUE;
    }
  error_code = errno;
  if (error_code == EINPROGRESS || error_code == EINTR)
    {
      if (own)
        priv->connecting = TRUE;
      if (own
          || c_reactor_add (priv->reactor, &attempt->watch, fd, self, &racer_handlers, &error_code))
        {
          eb->starved = FALSE;
          arm_attempt_timer (eb);
          return TRUE;
        }
    }
  g_debug ("connect to %s:%u: %s failed at once: %s", eb->host, eb->port, attempt->target,
           g_strerror (error_code));
  eb->last_error = error_code;
  g_ptr_array_remove_fast (eb->attempts, attempt);
  close_attempt (priv, attempt);
  return FALSE;
}

static GInetSocketAddress *
take_candidate (CEyeballs *eb, int *family)
{
  int f = eb->next_family;

  if (g_queue_is_empty (&eb->candidates[f]))
    f = 1 - f;
  if (g_queue_is_empty (&eb->candidates[f]))
    return NULL;
  eb->next_family = 1 - f; /* the families alternate */
  *family = f;
  return g_queue_pop_head (&eb->candidates[f]);
}

static void
start_next_attempt (CEyeballs *eb)
{
  while (eb->self != NULL && !(eb->one_at_a_time && eb->attempts->len > 0))
    {
      int family = FAMILY_IPV6;
      GInetSocketAddress *candidate = take_candidate (eb, &family);
      gboolean started;

      if (candidate == NULL)
        {
          eb->starved = TRUE; /* addresses that arrive later start at once */
          return;
        }
      started = try_candidate (eb, candidate, family);
      g_object_unref (candidate);
      if (started)
        return;
    }
}

/* The connection attempt delay passed: the next attempt starts beside those under way. */
static gboolean
attempt_delay_passed (gpointer data)
{
  CEyeballs *eb = data;
  CAsyncSocket *self = eb->self;

  g_clear_pointer (&eb->attempt_timer, g_source_unref);
  eb->refs++;
  c_async_socket_dispatch_enter (self);
  start_next_attempt (eb);
  give_up_if_nothing_left (eb);
  c_async_socket_dispatch_leave (self);
  eyeballs_unref (eb);
  return G_SOURCE_REMOVE;
}

/* ---- Resolution -------------------------------------------------------------------------- */

static gboolean
resolution_delay_passed (gpointer data)
{
  CEyeballs *eb = data;
  CAsyncSocket *self = eb->self;

  g_clear_pointer (&eb->resolution_timer, g_source_unref);
  g_debug ("connect to %s:%u: no IPv6 answer within %d ms: IPv4 first", eb->host, eb->port,
           RESOLUTION_DELAY_MS);
  eb->refs++;
  c_async_socket_dispatch_enter (self);
  eb->racing = TRUE;
  start_next_attempt (eb);
  give_up_if_nothing_left (eb);
  c_async_socket_dispatch_leave (self);
  eyeballs_unref (eb);
  return G_SOURCE_REMOVE;
}

/* Moves the race on after an answer: begins it when the answers allow, starts an attempt
 * when one is due and waited for addresses, and gives up when nothing is left to try. */
static void
advance (CEyeballs *eb)
{
  gboolean any = !g_queue_is_empty (&eb->candidates[FAMILY_IPV6])
                 || !g_queue_is_empty (&eb->candidates[FAMILY_IPV4]);

  if (!eb->racing)
    {
      if (eb->lookups & (1u << FAMILY_IPV6))
        {
          /* The IPv4 answer came first: the IPv6 one gets the resolution delay. */
          if (any && eb->resolution_timer == NULL)
            eb->resolution_timer = add_timer (eb, RESOLUTION_DELAY_MS, resolution_delay_passed);
        }
      else if (any)
        {
          stop_timer (&eb->resolution_timer);
          eb->racing = TRUE;
          start_next_attempt (eb);
        }
    }
  else if (any && (eb->attempts->len == 0 || eb->starved))
    start_next_attempt (eb);
  give_up_if_nothing_left (eb);
}

static void
add_candidates (CEyeballs *eb, GList *addresses)
{
  for (GList *l = addresses; l != NULL; l = l->next)
    {
      int f
          = g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV6 ? FAMILY_IPV6 : FAMILY_IPV4;

      if (eb->families & (1u << f))
        g_queue_push_tail (&eb->candidates[f], g_inet_socket_address_new (l->data, eb->port));
    }
}

static void
answered (CEyeballs *eb, guint families, GList *addresses, GError *error)
{
  CAsyncSocket *self = eb->self;

  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_resolver_free_addresses (addresses);
      g_clear_error (&error);
      eyeballs_unref (eb);
      return;
    }
  eb->lookups &= ~families;
  add_candidates (eb, addresses);
  g_debug ("connect to %s:%u: %s answer after %.1f ms: %u addresses%s%s", eb->host, eb->port,
           families == (1u << FAMILY_IPV6)   ? "IPv6"
           : families == (1u << FAMILY_IPV4) ? "IPv4"
                                             : "the",
           elapsed_ms (eb), g_list_length (addresses), error ? ", " : "",
           error ? error->message : "");
  g_resolver_free_addresses (addresses);
  if (error != NULL)
    {
      g_clear_error (&eb->resolve_error);
      eb->resolve_error = error;
    }
  c_async_socket_dispatch_enter (self);
  advance (eb);
  c_async_socket_dispatch_leave (self);
  eyeballs_unref (eb);
}

static void
answered_ipv6 (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  GList *addresses
      = g_resolver_lookup_by_name_with_flags_finish (G_RESOLVER (source), result, &error);

  answered (data, 1u << FAMILY_IPV6, addresses, error);
}

static void
answered_ipv4 (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  GList *addresses
      = g_resolver_lookup_by_name_with_flags_finish (G_RESOLVER (source), result, &error);

  answered (data, 1u << FAMILY_IPV4, addresses, error);
}

static void
answered_both (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  CEyeballs *eb = data;

  answered (eb, eb->families, addresses, error);
}

/* Where the race's own descriptors bind: nowhere for a socket bound to the wildcard address
 * and a port of the system's choice; else its address, with its port if the application
 * chose it (Linux lets two unconnected sockets with SO_REUSEADDR share it). */
static void
find_binding (CEyeballs *eb, CAsyncSocketPrivate *priv)
{
  struct sockaddr_storage name;
  socklen_t length = sizeof name;
  gboolean wildcard;

  eb->local_length = 0;
  if (getsockname (priv->fd, (struct sockaddr *) &name, &length) < 0)
    return;
  if (name.ss_family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) &name;
      wildcard = in->sin_addr.s_addr == htonl (INADDR_ANY);
      if (!priv->bound_port_fixed)
        in->sin_port = 0;
    }
  else if (name.ss_family == AF_INET6)
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &name;
      wildcard = IN6_IS_ADDR_UNSPECIFIED (&in6->sin6_addr);
      if (!priv->bound_port_fixed)
        in6->sin6_port = 0;
    }
  else
    return;
  if (wildcard && !priv->bound_port_fixed)
    return;
  eb->local = name;
  eb->local_length = length;
}

static guint
families_reached (CAsyncSocketPrivate *priv)
{
  int v6only = 0;
  socklen_t length = sizeof v6only;

  if (priv->family == G_SOCKET_FAMILY_IPV4)
    return 1u << FAMILY_IPV4;
  if (getsockopt (priv->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &length) == 0 && v6only)
    return 1u << FAMILY_IPV6;
  return (1u << FAMILY_IPV6) | (1u << FAMILY_IPV4);
}

void
c_eyeballs_start (CAsyncSocket *self, const char *host, guint port)
{
  CAsyncSocketPrivate *priv = c_async_socket_get_private (self);
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  CEyeballs *eb = g_new0 (CEyeballs, 1);

  eb->refs = 1; /* the socket's */
  eb->self = self;
  eb->host = g_strdup (host);
  eb->port = (guint16) port;
  eb->families = families_reached (priv);
  eb->cancellable = g_cancellable_new ();
  eb->attempts = g_ptr_array_new ();
  eb->next_family = FAMILY_IPV6;
  eb->last_error = EHOSTUNREACH;
  eb->started = g_get_monotonic_time ();
  g_queue_init (&eb->candidates[FAMILY_IPV6]);
  g_queue_init (&eb->candidates[FAMILY_IPV4]);
  find_binding (eb, priv);
  priv->eyeballs = eb;
  priv->connect_attempts = 0;

  /* The callbacks must run where the socket's notifications do. */
  g_main_context_push_thread_default (priv->context);
  if (G_RESOLVER_GET_CLASS (resolver)->lookup_by_name_with_flags_async == NULL)
    {
      /* A resolver without per-family lookups: one lookup, split by family. */
      eb->refs++;
      eb->lookups = eb->families;
      g_resolver_lookup_by_name_async (resolver, host, eb->cancellable, answered_both, eb);
    }
  else
    {
      if (eb->families & (1u << FAMILY_IPV6))
        {
          eb->refs++;
          eb->lookups |= 1u << FAMILY_IPV6;
          g_resolver_lookup_by_name_with_flags_async (resolver, host,
                                                      G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY,
                                                      eb->cancellable, answered_ipv6, eb);
        }
      if (eb->families & (1u << FAMILY_IPV4))
        {
          eb->refs++;
          eb->lookups |= 1u << FAMILY_IPV4;
          g_resolver_lookup_by_name_with_flags_async (resolver, host,
                                                      G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY,
                                                      eb->cancellable, answered_ipv4, eb);
        }
    }
  g_main_context_pop_thread_default (priv->context);
}

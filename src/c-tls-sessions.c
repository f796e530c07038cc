/* c-tls-sessions.c: what TLS settings keep between handshakes: a client's sessions for
 * resumption, a server's certificates per name (SNI)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both belong to a CTlsSettings (c-tls-settings.c owns them and its API sets them); the
 * transport (c-tls-transport.c) asks them at the start and end of each handshake.
 * docs/tls.md ("Session resumption", "Server names") says what users see.
 */
#include "config.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include "c-address-private.h"
#include "c-tls-private.h"

/* ---- A client's sessions ---------------------------------------------------------------- */

/* At most this many servers remembered per settings object; a new one beyond it pushes out
 * an arbitrary old one. */
#define C_TLS_SESSION_CACHE_SIZE 256

struct _CTlsSessionCache
{
  GMutex lock;         /* settings may be shared by sockets on several threads */
  GHashTable *entries; /* key (peer name and address) → SSL_SESSION */
};

static int flags_index = -1; /* the verification flags a session was accepted with */

CTlsSessionCache *
c_tls_session_cache_new (void)
{
  static gsize once;
  CTlsSessionCache *cache = g_new0 (CTlsSessionCache, 1);

  if (g_once_init_enter (&once))
    {
      flags_index = SSL_SESSION_get_ex_new_index (0, NULL, NULL, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
  g_mutex_init (&cache->lock);
  cache->entries
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) SSL_SESSION_free);
  return cache;
}

void
c_tls_session_cache_free (CTlsSessionCache *cache)
{
  g_hash_table_unref (cache->entries);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

/* The key a client's session is kept under: the name it verified and the address it
 * reached, so that a session is offered only to the server it was made with. */
char *
c_tls_session_key (const char *peer_name, int fd)
{
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  g_autofree char *where = NULL;

  if (getpeername (fd, (struct sockaddr *) &address, &length) != 0)
    return NULL;
  where = c_address_describe ((struct sockaddr *) &address, length);
  return g_strdup_printf ("%s/%s", peer_name != NULL ? peer_name : "", where);
}

/* Keeps @session (taking the caller's reference), with the flags verification gave it. */
void
c_tls_session_cache_store (CTlsSessionCache *cache, const char *key, SSL_SESSION *session,
                           GTlsCertificateFlags flags)
{
  SSL_SESSION_set_ex_data (session, flags_index, GUINT_TO_POINTER ((guint) flags));
  g_mutex_lock (&cache->lock);
  if (g_hash_table_size (cache->entries) >= C_TLS_SESSION_CACHE_SIZE
      && !g_hash_table_contains (cache->entries, key))
    {
      GHashTableIter iter;
      g_hash_table_iter_init (&iter, cache->entries);
      if (g_hash_table_iter_next (&iter, NULL, NULL))
        g_hash_table_iter_remove (&iter);
    }
  g_hash_table_replace (cache->entries, g_strdup (key), session);
  g_mutex_unlock (&cache->lock);
}

/* A session to offer the server under @key, or NULL (a reference for the caller). A TLS 1.3
 * ticket is used once (RFC 8446, C.4: reuse lets the connections be linked), so it leaves
 * the cache; the server sends fresh ones after each handshake. */
SSL_SESSION *
c_tls_session_cache_take (CTlsSessionCache *cache, const char *key)
{
  SSL_SESSION *session;

  g_mutex_lock (&cache->lock);
  session = g_hash_table_lookup (cache->entries, key);
  if (session != NULL && !SSL_SESSION_is_resumable (session))
    {
      g_hash_table_remove (cache->entries, key);
      session = NULL;
    }
  else if (session != NULL && SSL_SESSION_get_protocol_version (session) == TLS1_3_VERSION)
    {
      gpointer stored_key = NULL;
      g_hash_table_steal_extended (cache->entries, key, &stored_key, NULL);
      g_free (stored_key);
    }
  else if (session != NULL)
    SSL_SESSION_up_ref (session);
  g_mutex_unlock (&cache->lock);
  return session;
}

int
c_tls_session_cache_new_session (SSL *ssl, SSL_SESSION *session)
{
  TlsTransport *t = SSL_get_app_data (ssl);
  CTlsSessionCache *cache = t != NULL ? c_tls_settings_get_sessions (t->settings) : NULL;

  if (cache == NULL || t->session_key == NULL)
    return 0; /* OpenSSL frees it */
  c_tls_session_cache_store (cache, t->session_key, session, t->peer_flags);
  return 1;
}

/* The flags the certificate of a resumed session was accepted with. */
GTlsCertificateFlags
c_tls_session_flags (SSL_SESSION *session)
{
  return (GTlsCertificateFlags) GPOINTER_TO_UINT (SSL_SESSION_get_ex_data (session, flags_index));
}

/* ---- A server's certificates per name --------------------------------------------------- */

typedef struct
{
  char *pattern;   /* "example.org", or "*.example.org" for one label in front of it */
  SSL_CTX *holder; /* only holds the certificate, its chain and its key */
} ServerName;

struct _CTlsServerNames
{
  GArray *names; /* of ServerName, in the order they were added */
};

static void
server_name_clear (gpointer data)
{
  ServerName *name = data;

  g_free (name->pattern);
  SSL_CTX_free (name->holder);
}

CTlsServerNames *
c_tls_server_names_new (void)
{
  CTlsServerNames *names = g_new0 (CTlsServerNames, 1);

  names->names = g_array_new (FALSE, FALSE, sizeof (ServerName));
  g_array_set_clear_func (names->names, server_name_clear);
  return names;
}

void
c_tls_server_names_free (CTlsServerNames *names)
{
  g_array_unref (names->names);
  g_free (names);
}

/* Adds (or replaces) the certificate for @pattern, taking @holder. */
void
c_tls_server_names_add (CTlsServerNames *names, const char *pattern, SSL_CTX *holder)
{
  ServerName name = { g_ascii_strdown (pattern, -1), holder };

  for (guint i = 0; i < names->names->len; i++)
    if (g_str_equal (g_array_index (names->names, ServerName, i).pattern, name.pattern))
      {
        g_array_remove_index (names->names, i);
        break;
      }
  g_array_append_val (names->names, name);
}

static gboolean
name_matches (const char *pattern, const char *requested)
{
  const char *dot;

  if (g_ascii_strcasecmp (pattern, requested) == 0)
    return TRUE;
  if (!g_str_has_prefix (pattern, "*."))
    return FALSE;
  /* A wildcard stands for exactly one label, never an empty one. */
  dot = strchr (requested, '.');
  return dot != NULL && dot != requested && g_ascii_strcasecmp (pattern + 1, dot) == 0;
}

/* The servername callback: the certificate for the name the client asked for (an exact
 * name before a wildcard); no name, or one not listed, keeps the default certificate. */
int
c_tls_server_names_choose (SSL *ssl, int *alert, void *data)
{
  CTlsServerNames *names = data;
  const char *requested = SSL_get_servername (ssl, TLSEXT_NAMETYPE_host_name);
  SSL_CTX *chosen = NULL;
  STACK_OF (X509) *chain = NULL;

  if (requested == NULL)
    return SSL_TLSEXT_ERR_OK;
  for (int wildcard = 0; wildcard < 2 && chosen == NULL; wildcard++)
    for (guint i = 0; i < names->names->len && chosen == NULL; i++)
      {
        ServerName *name = &g_array_index (names->names, ServerName, i);
        if (g_str_has_prefix (name->pattern, "*.") == wildcard
            && name_matches (name->pattern, requested))
          chosen = name->holder;
      }
  if (chosen == NULL)
    return SSL_TLSEXT_ERR_OK;
  SSL_CTX_get0_chain_certs (chosen, &chain);
  if (SSL_use_cert_and_key (ssl, SSL_CTX_get0_certificate (chosen),
                            SSL_CTX_get0_privatekey (chosen), chain, 1)
      != 1)
    {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
  return SSL_TLSEXT_ERR_OK;
}

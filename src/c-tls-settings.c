/* c-tls-settings.c: CTlsSettings, one OpenSSL SSL_CTX shared by the sockets of one role
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The settings own the SSL_CTX; each TLS socket makes its SSL object from it when its
 * handshake starts. docs/tls.md has the design and the API by example.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "c-tls-private.h"

/**
 * CTlsSettings:
 *
 * What a TLS socket needs to know before its handshake, shared by many sockets of one
 * role (OpenSSL's `SSL_CTX`).
 *
 * ```c
 * static gboolean
 * connect_securely (CAsyncSocket *socket, const char *host, GError **error)
 * {
 *   g_autoptr (CTlsSettings) tls = c_tls_settings_new (C_TLS_ROLE_CLIENT);
 *
 *   // trusted: the system's store; checked against host, which also goes out as SNI
 *   return c_async_socket_create (socket, 0, C_SOCK_STREAM, C_FD_ALL, NULL, error)
 *          && c_async_socket_set_tls (socket, tls, host, error)
 *          && c_async_socket_connect (socket, host, 443, error); // handshake, then on_connect
 * }
 * ```
 *
 * It holds: its own certificate and key, whom it trusts (the system's
 * trust store by default, plus CA files), whether it verifies its peer (clients do by
 * default, checking the host name given to c_async_socket_set_tls(), which is also sent
 * as SNI), a server's certificates per name (SNI), client certificates (servers), session
 * resumption (on by default), ALPN and the protocol versions (TLS 1.2 at the least;
 * renegotiation is always refused).
 *
 * Change the settings before the sockets that use them start their handshakes.
 */
struct _CTlsSettings
{
  GObject parent_instance;
  CTlsRole role;
  SSL_CTX *ctx;
  gboolean verify_peer;
  gboolean system_trust;
  GPtrArray *ca_files;
  GBytes *alpn;               /* the protocols in ALPN's wire format */
  CTlsSessionCache *sessions; /* a client's, while resumption is on */
  CTlsServerNames *names;     /* a server's certificates per name, once one is added */
};

enum
{
  PROP_0,
  PROP_ROLE,
  N_PROPS
};

enum
{
  SIGNAL_ACCEPT_CERTIFICATE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CTlsSettings, c_tls_settings, G_TYPE_OBJECT)

static void
set_openssl_error (GError **error, int code, const char *what)
{
  unsigned long e = ERR_get_error ();
  char reason[256];

  ERR_error_string_n (e, reason, sizeof reason);
  g_set_error (error, G_TLS_ERROR, code, "%s: %s", what,
               e != 0 ? ERR_reason_error_string (e) ? ERR_reason_error_string (e) : reason
                      : "unknown error");
  ERR_clear_error ();
}

/* Completes a certificate's chain from the trust store once, when it is loaded, rather than
 * at every handshake (OpenSSL's automatic chain building, turned off by
 * SSL_MODE_NO_AUTO_CHAIN, searches the store's directories each time: a directory listing
 * per handshake). The root is left out: the peer has it or cannot use it. */
static void
build_chain (SSL_CTX *ctx, X509_STORE *store)
{
  if (SSL_CTX_get0_certificate (ctx) == NULL)
    return;
  if (store != NULL)
    SSL_CTX_set1_cert_store (ctx, store);
  SSL_CTX_build_cert_chain (ctx, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR
                                     | SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
  ERR_clear_error ();
}

/* The trust store, rebuilt from the system's paths and the CA files. */
static void
rebuild_store (CTlsSettings *self)
{
  X509_STORE *store = X509_STORE_new ();

  if (self->system_trust)
    X509_STORE_set_default_paths (store);
  for (guint i = 0; i < self->ca_files->len; i++)
    X509_STORE_load_file (store, g_ptr_array_index (self->ca_files, i));
  ERR_clear_error ();
  SSL_CTX_set_cert_store (self->ctx, store);
  build_chain (self->ctx, NULL); /* with what is trusted now */
}

static void
apply_verify_mode (CTlsSettings *self, CTlsClientAuth auth)
{
  int mode = SSL_VERIFY_NONE;

  if (self->role == C_TLS_ROLE_CLIENT)
    mode = SSL_VERIFY_PEER; /* always checked, so that the flags are known; see verify */
  else if (auth == C_TLS_CLIENT_AUTH_REQUEST)
    mode = SSL_VERIFY_PEER;
  else if (auth == C_TLS_CLIENT_AUTH_REQUIRE)
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify (self->ctx, mode, NULL);
}

/* Chooses the server's first protocol that the client offered; none in common fails the
 * handshake (RFC 7301: no_application_protocol). */
static int
select_alpn (SSL *ssl, const unsigned char **out, unsigned char *out_length,
             const unsigned char *offered, unsigned int offered_length, void *data)
{
  CTlsSettings *self = data;
  gsize length;
  const unsigned char *ours = g_bytes_get_data (self->alpn, &length);
  unsigned char *chosen = NULL;

  if (SSL_select_next_proto (&chosen, out_length, ours, (unsigned int) length, offered,
                             offered_length)
      == OPENSSL_NPN_NEGOTIATED)
    {
      *out = chosen;
      return SSL_TLSEXT_ERR_OK;
    }
  c_tls_transport_note_alpn_failure (ssl);
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void
c_tls_settings_constructed (GObject *object)
{
  CTlsSettings *self = C_TLS_SETTINGS (object);

  G_OBJECT_CLASS (c_tls_settings_parent_class)->constructed (object);
  self->ctx
      = SSL_CTX_new (self->role == C_TLS_ROLE_CLIENT ? TLS_client_method () : TLS_server_method ());
  g_assert (self->ctx != NULL);
  SSL_CTX_set_min_proto_version (self->ctx, TLS1_2_VERSION);
  SSL_CTX_set_options (self->ctx, SSL_OP_NO_RENEGOTIATION);
  /* Idle connections give back OpenSSL's record buffers (about 34 KiB each). */
  SSL_CTX_set_mode (self->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE
                                   | SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_cert_verify_callback (self->ctx, c_tls_verify_certificate, NULL);
  self->verify_peer = self->role == C_TLS_ROLE_CLIENT;
  apply_verify_mode (self, C_TLS_CLIENT_AUTH_NONE);
  rebuild_store (self);
  if (self->role == C_TLS_ROLE_SERVER)
    /* Resumption of sessions with client certificates needs it (OpenSSL refuses them
     * otherwise); one value for all afxsock servers: tickets are keyed per settings. */
    SSL_CTX_set_session_id_context (self->ctx, (const unsigned char *) "afxsock", 7);
  else
    SSL_CTX_sess_set_new_cb (self->ctx, c_tls_session_cache_new_session);
  c_tls_settings_set_session_resumption (self, TRUE);
}

static void
c_tls_settings_finalize (GObject *object)
{
  CTlsSettings *self = C_TLS_SETTINGS (object);

  SSL_CTX_free (self->ctx);
  g_ptr_array_unref (self->ca_files);
  g_clear_pointer (&self->alpn, g_bytes_unref);
  g_clear_pointer (&self->sessions, c_tls_session_cache_free);
  g_clear_pointer (&self->names, c_tls_server_names_free);
  G_OBJECT_CLASS (c_tls_settings_parent_class)->finalize (object);
}

static void
c_tls_settings_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CTlsSettings *self = C_TLS_SETTINGS (object);

  switch (prop_id)
    {
      case PROP_ROLE:
        self->role = (CTlsRole) g_value_get_int (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
c_tls_settings_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CTlsSettings *self = C_TLS_SETTINGS (object);

  switch (prop_id)
    {
      case PROP_ROLE:
        g_value_set_int (value, (int) self->role);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
c_tls_settings_class_init (CTlsSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = c_tls_settings_constructed;
  object_class->finalize = c_tls_settings_finalize;
  object_class->set_property = c_tls_settings_set_property;
  object_class->get_property = c_tls_settings_get_property;

  /**
   * CTlsSettings:role:
   *
   * The #CTlsRole (as an int): client or server. Set at construction.
   */
  properties[PROP_ROLE] = g_param_spec_int (
      "role", NULL, NULL, C_TLS_ROLE_CLIENT, C_TLS_ROLE_SERVER, C_TLS_ROLE_CLIENT,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CTlsSettings::accept-certificate:
   * @self: the settings
   * @socket: the socket whose handshake is under way
   * @peer_certificate: the certificate the peer presented, with its chain
   * @errors: why it failed verification
   *
   * The peer's certificate failed verification (an unknown CA, a self-signed certificate,
   * a name that does not match, an expired one): a handler may accept it anyway, for
   * pinning or a self-signed peer, by returning %TRUE (like
   * #GTlsConnection::accept-certificate). Without a handler, or when every handler returns
   * %FALSE, the handshake fails with an error that says why. Emitted from inside the
   * handshake, on the socket's context: do not close the socket from the handler.
   *
   * Returns: %TRUE to accept the certificate
   */
  signals[SIGNAL_ACCEPT_CERTIFICATE]
      = g_signal_new ("accept-certificate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                      g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 3,
                      C_TYPE_ASYNC_SOCKET, G_TYPE_TLS_CERTIFICATE, G_TYPE_TLS_CERTIFICATE_FLAGS);
}

static void
c_tls_settings_init (CTlsSettings *self)
{
  self->system_trust = TRUE;
  self->ca_files = g_ptr_array_new_with_free_func (g_free);
}

/**
 * c_tls_settings_new:
 * @role: client or server
 *
 * Makes settings for one role, with afxsock's defaults: TLS 1.2 or later, the system's
 * trust store, and for clients verification of the server's certificate and host name.
 *
 * Returns: (transfer full): new settings
 */
CTlsSettings *
c_tls_settings_new (CTlsRole role)
{
  return g_object_new (C_TYPE_TLS_SETTINGS, "role", (int) role, NULL);
}

/**
 * c_tls_settings_get_role:
 * @self: settings
 *
 * Whether the settings are for clients or servers.
 *
 * Returns: the role the settings were made for
 */
CTlsRole
c_tls_settings_get_role (CTlsSettings *self)
{
  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), C_TLS_ROLE_CLIENT);
  return self->role;
}

/* Loads a certificate, its chain and its key into @ctx (the settings', or a holder of one
 * name's certificate). */
static gboolean
load_certificate_files (SSL_CTX *ctx, const char *certificate_file, const char *key_file,
                        GError **error)
{
  ERR_clear_error ();
  if (SSL_CTX_use_certificate_chain_file (ctx, certificate_file) != 1)
    {
      g_autofree char *what = g_strdup_printf ("loading the certificate %s", certificate_file);
      set_openssl_error (error, G_TLS_ERROR_BAD_CERTIFICATE, what);
      return FALSE;
    }
  if (key_file == NULL)
    key_file = certificate_file;
  if (SSL_CTX_use_PrivateKey_file (ctx, key_file, SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key (ctx) != 1)
    {
      g_autofree char *what = g_strdup_printf ("loading the private key %s", key_file);
      set_openssl_error (error, G_TLS_ERROR_BAD_CERTIFICATE, what);
      return FALSE;
    }
  return TRUE;
}

/**
 * c_tls_settings_set_certificate_files:
 * @self: settings
 * @certificate_file: a PEM file: the certificate, then its chain
 * @key_file: (nullable): a PEM file with the private key; %NULL: it is in @certificate_file
 * @error: return location for a #GError
 *
 * The certificate this side presents (a server's, or a client certificate).
 *
 * Returns: %TRUE when both were loaded and match
 */
gboolean
c_tls_settings_set_certificate_files (CTlsSettings *self, const char *certificate_file,
                                      const char *key_file, GError **error)
{
  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), FALSE);
  g_return_val_if_fail (certificate_file != NULL, FALSE);
  if (!load_certificate_files (self->ctx, certificate_file, key_file, error))
    return FALSE;
  build_chain (self->ctx, NULL);
  return TRUE;
}

static gboolean
load_certificate (SSL_CTX *ctx, GTlsCertificate *certificate, GError **error)
{
  g_autofree char *key_pem = NULL;
  BIO *bio;
  EVP_PKEY *key;
  gboolean first = TRUE;

  g_object_get (certificate, "private-key-pem", &key_pem, NULL);
  if (key_pem == NULL)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   "the certificate has no private key in PEM form");
      return FALSE;
    }
  ERR_clear_error ();
  SSL_CTX_clear_chain_certs (ctx);
  for (GTlsCertificate *c = certificate; c != NULL; c = g_tls_certificate_get_issuer (c))
    {
      g_autofree char *pem = NULL;
      X509 *x509;
      int ok;

      g_object_get (c, "certificate-pem", &pem, NULL);
      bio = BIO_new_mem_buf (pem, -1);
      x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
      BIO_free (bio);
      if (x509 == NULL)
        {
          set_openssl_error (error, G_TLS_ERROR_BAD_CERTIFICATE, "reading the certificate");
          return FALSE;
        }
      ok = first ? SSL_CTX_use_certificate (ctx, x509) : SSL_CTX_add1_chain_cert (ctx, x509);
      X509_free (x509);
      if (ok != 1)
        {
          set_openssl_error (error, G_TLS_ERROR_BAD_CERTIFICATE, "using the certificate");
          return FALSE;
        }
      first = FALSE;
    }
  bio = BIO_new_mem_buf (key_pem, -1);
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  BIO_free (bio);
  if (key == NULL || SSL_CTX_use_PrivateKey (ctx, key) != 1 || SSL_CTX_check_private_key (ctx) != 1)
    {
      EVP_PKEY_free (key);
      set_openssl_error (error, G_TLS_ERROR_BAD_CERTIFICATE, "using the private key");
      return FALSE;
    }
  EVP_PKEY_free (key);
  return TRUE;
}

/**
 * c_tls_settings_set_certificate:
 * @self: settings
 * @certificate: a certificate with its private key (#GTlsCertificate:private-key-pem) and
 *   its issuers
 * @error: return location for a #GError
 *
 * Like c_tls_settings_set_certificate_files(), from a #GTlsCertificate.
 *
 * Returns: %TRUE on success
 */
gboolean
c_tls_settings_set_certificate (CTlsSettings *self, GTlsCertificate *certificate, GError **error)
{
  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), FALSE);
  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), FALSE);
  if (!load_certificate (self->ctx, certificate, error))
    return FALSE;
  build_chain (self->ctx, NULL);
  return TRUE;
}

/**
 * c_tls_settings_set_ca_file:
 * @self: settings
 * @ca_file: a PEM file of CA certificates
 * @error: return location for a #GError
 *
 * Trusts the CAs in @ca_file, besides the system's trust store (see
 * c_tls_settings_set_system_trust()). For a server they are also the CAs named to clients
 * asked for a certificate.
 *
 * Returns: %TRUE when the file was loaded
 */
gboolean
c_tls_settings_set_ca_file (CTlsSettings *self, const char *ca_file, GError **error)
{
  X509_STORE *probe;

  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), FALSE);
  g_return_val_if_fail (ca_file != NULL, FALSE);
  ERR_clear_error ();
  probe = X509_STORE_new ();
  if (X509_STORE_load_file (probe, ca_file) != 1)
    {
      g_autofree char *what = g_strdup_printf ("loading the CA file %s", ca_file);
      X509_STORE_free (probe);
      set_openssl_error (error, G_TLS_ERROR_BAD_CERTIFICATE, what);
      return FALSE;
    }
  X509_STORE_free (probe);
  g_ptr_array_add (self->ca_files, g_strdup (ca_file));
  rebuild_store (self);
  if (self->role == C_TLS_ROLE_SERVER)
    SSL_CTX_set_client_CA_list (self->ctx, SSL_load_client_CA_file (ca_file));
  ERR_clear_error ();
  return TRUE;
}

/**
 * c_tls_settings_set_system_trust:
 * @self: settings
 * @use_system_trust: whether the system's trust store is trusted (the default)
 *
 * With %FALSE only the CA files given to c_tls_settings_set_ca_file() are trusted.
 */
void
c_tls_settings_set_system_trust (CTlsSettings *self, gboolean use_system_trust)
{
  g_return_if_fail (C_IS_TLS_SETTINGS (self));
  self->system_trust = use_system_trust;
  rebuild_store (self);
}

/**
 * c_tls_settings_set_verify_peer:
 * @self: client settings
 * @verify: whether a server certificate that fails verification fails the handshake
 *
 * On by default for clients. Turned off, every certificate is accepted (its flags are
 * still computed: c_async_socket_get_peer_certificate_errors()); prefer a
 * #CTlsSettings::accept-certificate handler that checks what it accepts. Servers verify
 * client certificates according to c_tls_settings_set_client_auth().
 */
void
c_tls_settings_set_verify_peer (CTlsSettings *self, gboolean verify)
{
  g_return_if_fail (C_IS_TLS_SETTINGS (self));
  self->verify_peer = verify;
}

/**
 * c_tls_settings_set_client_auth:
 * @self: server settings
 * @mode: whether clients are asked for a certificate, and whether one is required
 *
 * Client certificates are verified against the trusted CAs.
 */
void
c_tls_settings_set_client_auth (CTlsSettings *self, CTlsClientAuth mode)
{
  g_return_if_fail (C_IS_TLS_SETTINGS (self));
  g_return_if_fail (self->role == C_TLS_ROLE_SERVER);
  self->verify_peer = mode != C_TLS_CLIENT_AUTH_NONE;
  apply_verify_mode (self, mode);
}

/**
 * c_tls_settings_set_alpn_protocols:
 * @self: settings
 * @protocols: (array zero-terminated=1) (nullable): the protocols, in order of preference
 *   ("h2", "http/1.1", …); %NULL or empty for none
 * @error: return location for a #GError
 *
 * Application-Layer Protocol Negotiation: a client offers these, a server picks its first
 * one that the client offered and fails the handshake when there is none in common. The
 * result: c_async_socket_get_negotiated_protocol().
 *
 * Returns: %TRUE, or %FALSE for a name that is empty or longer than 255 bytes
 */
gboolean
c_tls_settings_set_alpn_protocols (CTlsSettings *self, const char *const *protocols, GError **error)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();

  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), FALSE);
  for (gsize i = 0; protocols != NULL && protocols[i] != NULL; i++)
    {
      gsize length = strlen (protocols[i]);
      guint8 byte = (guint8) length;

      if (length == 0 || length > 255)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "ALPN protocol names are 1 to 255 bytes long");
          return FALSE;
        }
      g_byte_array_append (wire, &byte, 1);
      g_byte_array_append (wire, (const guint8 *) protocols[i], (guint) length);
    }
  g_clear_pointer (&self->alpn, g_bytes_unref);
  if (wire->len > 0)
    self->alpn = g_byte_array_free_to_bytes (g_steal_pointer (&wire));
  if (self->role == C_TLS_ROLE_CLIENT)
    {
      gsize length = 0;
      const guint8 *data = self->alpn ? g_bytes_get_data (self->alpn, &length) : NULL;
      SSL_CTX_set_alpn_protos (self->ctx, data, (unsigned int) length);
    }
  else
    SSL_CTX_set_alpn_select_cb (self->ctx, self->alpn ? select_alpn : NULL, self);
  return TRUE;
}

/**
 * c_tls_settings_set_versions:
 * @self: settings
 * @min: the oldest version accepted (never older than TLS 1.2)
 * @max: the newest version offered
 *
 * The protocol versions; by default TLS 1.2 and 1.3.
 */
void
c_tls_settings_set_versions (CTlsSettings *self, CTlsVersion min, CTlsVersion max)
{
  g_return_if_fail (C_IS_TLS_SETTINGS (self));
  SSL_CTX_set_min_proto_version (self->ctx,
                                 min == C_TLS_VERSION_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version (self->ctx,
                                 max == C_TLS_VERSION_1_2 ? TLS1_2_VERSION : TLS1_3_VERSION);
}

static gboolean
check_server_name (CTlsSettings *self, const char *server_name, GError **error)
{
  const char *name = g_str_has_prefix (server_name, "*.") ? server_name + 2 : server_name;

  if (self->role != C_TLS_ROLE_SERVER)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "add_server_name: certificates per name are for server settings");
      return FALSE;
    }
  if (*name == '\0' || strchr (name, '*') != NULL || name[0] == '.')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "add_server_name: '%s' is not a host name or *.domain", server_name);
      return FALSE;
    }
  return TRUE;
}

static void
add_server_name (CTlsSettings *self, const char *server_name, SSL_CTX *holder)
{
  if (self->names == NULL)
    {
      self->names = c_tls_server_names_new ();
      SSL_CTX_set_tlsext_servername_callback (self->ctx, c_tls_server_names_choose);
      SSL_CTX_set_tlsext_servername_arg (self->ctx, self->names);
    }
  c_tls_server_names_add (self->names, server_name, holder);
}

/**
 * c_tls_settings_add_server_name_files:
 * @self: server settings
 * @server_name: the name clients ask for (SNI): a host name, or `*.example.org` for any one
 *   label in front of example.org
 * @certificate_file: a PEM file: the certificate for that name, then its chain
 * @key_file: (nullable): a PEM file with its private key; %NULL: it is in @certificate_file
 * @error: return location for a #GError
 *
 * Server Name Indication: a client that asks for @server_name gets this certificate
 * instead of the default one (c_tls_settings_set_certificate_files()). An exact name wins
 * over a wildcard; a client that asks for no name, or for one not added, gets the default.
 * Adding a name again replaces its certificate. The name a client asked for:
 * c_async_socket_get_tls_server_name().
 *
 * Returns: %TRUE when the certificate and key were loaded and match
 */
gboolean
c_tls_settings_add_server_name_files (CTlsSettings *self, const char *server_name,
                                      const char *certificate_file, const char *key_file,
                                      GError **error)
{
  SSL_CTX *holder;

  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), FALSE);
  g_return_val_if_fail (server_name != NULL && certificate_file != NULL, FALSE);
  if (!check_server_name (self, server_name, error))
    return FALSE;
  holder = SSL_CTX_new (TLS_server_method ());
  if (!load_certificate_files (holder, certificate_file, key_file, error))
    {
      SSL_CTX_free (holder);
      return FALSE;
    }
  build_chain (holder, SSL_CTX_get_cert_store (self->ctx));
  add_server_name (self, server_name, holder);
  return TRUE;
}

/**
 * c_tls_settings_add_server_name:
 * @self: server settings
 * @server_name: the name clients ask for (see c_tls_settings_add_server_name_files())
 * @certificate: a certificate with its private key and its issuers
 * @error: return location for a #GError
 *
 * Like c_tls_settings_add_server_name_files(), from a #GTlsCertificate.
 *
 * Returns: %TRUE on success
 */
gboolean
c_tls_settings_add_server_name (CTlsSettings *self, const char *server_name,
                                GTlsCertificate *certificate, GError **error)
{
  SSL_CTX *holder;

  g_return_val_if_fail (C_IS_TLS_SETTINGS (self), FALSE);
  g_return_val_if_fail (server_name != NULL && G_IS_TLS_CERTIFICATE (certificate), FALSE);
  if (!check_server_name (self, server_name, error))
    return FALSE;
  holder = SSL_CTX_new (TLS_server_method ());
  if (!load_certificate (holder, certificate, error))
    {
      SSL_CTX_free (holder);
      return FALSE;
    }
  build_chain (holder, SSL_CTX_get_cert_store (self->ctx));
  add_server_name (self, server_name, holder);
  return TRUE;
}

/**
 * c_tls_settings_set_session_resumption:
 * @self: settings
 * @resume: whether handshakes may resume earlier sessions (the default)
 *
 * Session resumption: a client remembers, per server (the name it verified and the
 * address it reached), the session of its last handshake and offers it on the next
 * connection, which then skips the certificate exchange and the key agreement's expensive
 * half (c_async_socket_is_tls_session_resumed() says whether it did). A server issues
 * session tickets (TLS 1.3, and 1.2) and keeps 1.2 sessions by ID. A TLS 1.3 ticket is
 * offered once. Turned off, every handshake is a full one.
 */
void
c_tls_settings_set_session_resumption (CTlsSettings *self, gboolean resume)
{
  g_return_if_fail (C_IS_TLS_SETTINGS (self));
  if (self->role == C_TLS_ROLE_CLIENT)
    {
      SSL_CTX_set_session_cache_mode (self->ctx, resume ? SSL_SESS_CACHE_CLIENT
                                                              | SSL_SESS_CACHE_NO_INTERNAL_STORE
                                                        : SSL_SESS_CACHE_OFF);
      if (resume && self->sessions == NULL)
        self->sessions = c_tls_session_cache_new ();
      else if (!resume)
        g_clear_pointer (&self->sessions, c_tls_session_cache_free);
      return;
    }
  SSL_CTX_set_session_cache_mode (self->ctx, resume ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets (self->ctx, resume ? 2 : 0);
  if (resume)
    SSL_CTX_clear_options (self->ctx, SSL_OP_NO_TICKET);
  else
    SSL_CTX_set_options (self->ctx, SSL_OP_NO_TICKET);
}

SSL_CTX *
c_tls_settings_get_ctx (CTlsSettings *self)
{
  return self->ctx;
}

gboolean
c_tls_settings_get_verify_peer (CTlsSettings *self)
{
  return self->verify_peer;
}

gboolean
c_tls_settings_has_alpn (CTlsSettings *self)
{
  return self->alpn != NULL;
}

CTlsSessionCache *
c_tls_settings_get_sessions (CTlsSettings *self)
{
  return self->sessions;
}

gboolean
c_tls_settings_emit_accept_certificate (CTlsSettings *self, CAsyncSocket *socket,
                                        GTlsCertificate *certificate, GTlsCertificateFlags errors)
{
  gboolean accepted = FALSE;

  g_signal_emit (self, signals[SIGNAL_ACCEPT_CERTIFICATE], 0, socket, certificate, errors,
                 &accepted);
  return accepted;
}

/* sample-tls.c: the samples' --tls options (sample-tls.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sample-tls.h"

void
sample_tls_add_server_options (GOptionContext *context, SampleTls *tls)
{
  GOptionEntry entries[] = {
    { "tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &tls->certificate,
      "Speak TLS, with this PEM certificate (chain)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls->key, "The PEM private key of --tls-certificate",
      "FILE" },
    { "tls-client-ca", 0, 0, G_OPTION_ARG_FILENAME, &tls->ca,
      "Require a client certificate signed by a CA in this PEM file", "FILE" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
}

void
sample_tls_add_client_options (GOptionContext *context, SampleTls *tls)
{
  GOptionEntry entries[] = {
    { "tls", 0, 0, G_OPTION_ARG_NONE, &tls->enabled,
      "Speak TLS, verifying the server's certificate and host name", NULL },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &tls->ca,
      "Trust the CAs in this PEM file too (default: the system's only)", "FILE" },
    { "tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &tls->certificate,
      "Present this PEM client certificate when asked", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls->key, "The PEM private key of --tls-certificate",
      "FILE" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
}

/* A certificate comes with its key. */
static gboolean
check_pair (const SampleTls *tls, GError **error)
{
  if ((tls->certificate == NULL) == (tls->key == NULL))
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s needs %s too",
               tls->certificate ? "--tls-certificate" : "--tls-key",
               tls->certificate ? "--tls-key" : "--tls-certificate");
  return FALSE;
}

gboolean
sample_tls_set_up_server (SampleTls *tls, CAsyncSocket *listener, GError **error)
{
  g_autoptr (CTlsSettings) settings = NULL;

  if (!check_pair (tls, error))
    return FALSE;
  if (tls->certificate == NULL)
    {
      if (tls->ca == NULL)
        return TRUE; /* plaintext */
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--tls-client-ca needs --tls-certificate and --tls-key");
      return FALSE;
    }
  settings = c_tls_settings_new (C_TLS_ROLE_SERVER);
  if (!c_tls_settings_set_certificate_files (settings, tls->certificate, tls->key, error))
    return FALSE;
  if (tls->ca != NULL)
    {
      /* Client certificates from this CA alone, not from any the system trusts. */
      c_tls_settings_set_system_trust (settings, FALSE);
      if (!c_tls_settings_set_ca_file (settings, tls->ca, error))
        return FALSE;
      c_tls_settings_set_client_auth (settings, C_TLS_CLIENT_AUTH_REQUIRE);
    }
  tls->enabled = TRUE;
  return c_async_socket_set_tls (listener, settings, NULL, error);
}

gboolean
sample_tls_set_up_client (SampleTls *tls, CAsyncSocket *socket, const char *host, GError **error)
{
  g_autoptr (CTlsSettings) settings = NULL;

  if (!check_pair (tls, error))
    return FALSE;
  if (!tls->enabled)
    {
      if (tls->ca == NULL && tls->certificate == NULL)
        return TRUE; /* plaintext */
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s needs --tls",
                   tls->ca ? "--tls-ca" : "--tls-certificate");
      return FALSE;
    }
  settings = c_tls_settings_new (C_TLS_ROLE_CLIENT);
  if (tls->ca != NULL && !c_tls_settings_set_ca_file (settings, tls->ca, error))
    return FALSE;
  if (tls->certificate != NULL
      && !c_tls_settings_set_certificate_files (settings, tls->certificate, tls->key, error))
    return FALSE;
  return c_async_socket_set_tls (socket, settings, host, error);
}

void
sample_tls_clear (SampleTls *tls)
{
  g_clear_pointer (&tls->certificate, g_free);
  g_clear_pointer (&tls->key, g_free);
  g_clear_pointer (&tls->ca, g_free);
}

const char *
sample_failure_message (CAsyncSocket *socket, int error_code)
{
  const GError *reason = c_async_socket_get_close_error (socket);

  return reason != NULL ? reason->message : g_strerror (error_code);
}

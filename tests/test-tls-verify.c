/* test-tls-verify.c: certificate verification: the "not yet valid" certificate, and the
 * accept-certificate hook overruling each kind of failure
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The certificates are made by tools/make-test-certs.sh (tls-util.c). test-tls.c has the
 * wrong host name, the unknown CA (a self-signed certificate), the expired certificate and
 * the hook accepting the self-signed one; this file has the rest.
 */
#include "tls-util.h"

Test (tls_verify, not_yet_valid, .timeout = 60)
{
  verification_fails ("not-yet-valid", G_TLS_CERTIFICATE_NOT_ACTIVATED,
                      "certificate is not yet valid");
}

typedef struct
{
  int calls;
  GTlsCertificateFlags seen;
  gboolean verdict;
} HookCalls;

static gboolean
decide (CTlsSettings *settings, CAsyncSocket *socket, GTlsCertificate *certificate,
        GTlsCertificateFlags errors, gpointer data)
{
  HookCalls *hook = data;

  hook->calls++;
  hook->seen = errors;
  cr_assert (G_IS_TLS_CERTIFICATE (certificate));
  return hook->verdict;
}

/* The hook is asked once, with exactly @flags; when it accepts, the connection works and
 * still reports the flags. */
static void
hook_overrides (const char *certificate, GTlsCertificateFlags flags)
{
  g_autoptr (CTlsSettings) server_tls = server_settings (certificate);
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { .server_hook = echo_hook };
  g_autoptr (TestSocket) client = NULL;
  HookCalls hook = { .verdict = TRUE };

  g_signal_connect (client_tls, "accept-certificate", G_CALLBACK (decide), &hook);
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connected (client);
  cr_assert_eq (hook.calls, 1);
  cr_assert_eq (hook.seen, flags, "the hook saw %#x, expected %#x", hook.seen, flags);
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (client)), flags);
  cr_assert_not_null (c_async_socket_get_peer_certificate (S (client)));
  echo_round_trip (client);
  g_clear_object (&client);
  server_close (&server);
}

Test (tls_verify, hook_accepts_not_yet_valid, .timeout = 60)
{
  hook_overrides ("not-yet-valid", G_TLS_CERTIFICATE_NOT_ACTIVATED);
}

Test (tls_verify, hook_accepts_expired, .timeout = 60)
{
  hook_overrides ("expired", G_TLS_CERTIFICATE_EXPIRED);
}

Test (tls_verify, hook_accepts_wrong_host_name, .timeout = 60)
{
  hook_overrides ("other-host", G_TLS_CERTIFICATE_BAD_IDENTITY);
}

/* A self-signed certificate for localhost: the hook accepting it is in test-tls.c
 * (accept_certificate_overrides); here, the flag and message it gets. */
Test (tls_verify, self_signed_is_an_unknown_ca, .timeout = 60)
{
  verification_fails ("self-signed", G_TLS_CERTIFICATE_UNKNOWN_CA,
                      "certificate for 'localhost' is signed by an unknown CA");
}

/* A hook that says no: the handshake fails with the specific error, as without a hook. */
Test (tls_verify, hook_refuses_not_yet_valid, .timeout = 60)
{
  g_autoptr (CTlsSettings) server_tls = server_settings ("not-yet-valid");
  g_autoptr (CTlsSettings) client_tls = client_settings ();
  Server server = { 0 };
  g_autoptr (TestSocket) client = NULL;
  HookCalls hook = { .verdict = FALSE };

  g_signal_connect (client_tls, "accept-certificate", G_CALLBACK (decide), &hook);
  server_open (&server, server_tls);
  client = client_connect (client_tls, "localhost", server.port);
  assert_connect_failed (client, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                         "certificate is not yet valid");
  cr_assert_eq (hook.calls, 1);
  cr_assert_eq (hook.seen, G_TLS_CERTIFICATE_NOT_ACTIVATED);
  cr_assert_eq (c_async_socket_get_peer_certificate_errors (S (client)),
                G_TLS_CERTIFICATE_NOT_ACTIVATED);
  server_close (&server);
}

/* tls-util.h: fixtures shared by the TLS tests (certificates, settings, a TLS listener,
 * clients, the checks on a handshake, peer programs)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Certificates are made at test time by tools/make-test-certs.sh, once per build directory
 * (AFXSOCK_TLS_CERTS and AFXSOCK_MAKE_CERTS, set by tests/meson.build).
 */
#pragma once

#include "test-util.h"

G_BEGIN_DECLS

/* ---- Certificates and settings ---------------------------------------------------------- */

/* The directory of the test certificates, made on first use. */
const char *certs_dir (void);
/* A file in it (free with g_free). A missing file remakes the whole set (one made by an
 * older script), which other TLS tests running at the same time would see half-changed: ask
 * only for files tools/make-test-certs.sh makes. */
char *cert_path (const char *name);
/* Server settings with NAME.pem and NAME.key. */
CTlsSettings *server_settings (const char *name);
/* Client settings trusting the test CA only. */
CTlsSettings *client_settings (void);

/* ---- Connections ------------------------------------------------------------------------ */

/* A TLS listener that accepts every connection into a TestSocket of its own. */
typedef struct
{
  TestSocket *listener;
  guint port;
  GPtrArray *servers;
  TestHook server_hook;
  gboolean server_reads; /* accepted sockets read into 'received' */
  gboolean server_records;
} Server;

void server_open (Server *server, CTlsSettings *settings);
void server_close (Server *server);
/* The @index-th accepted connection (runs until there is one). */
TestSocket *server_connection (Server *server, guint index);

/* A client with TLS from the start, connecting to 127.0.0.1:port; runs until on_connect. */
TestSocket *client_connect (CTlsSettings *settings, const char *peer_name, guint port);
/* The handshake succeeded on the client, and on_send came. */
void assert_connected (TestSocket *client);
/* The handshake failed on the client: on_connect with an errno, and the GError. */
void assert_connect_failed (TestSocket *client, GQuark domain, int code, const char *fragment);
void wait_received (TestSocket *socket, guint length);
/* Sends a short text and waits for it to come back (the server echoes). */
void echo_round_trip (TestSocket *client);

/* A verification failure: the client's on_connect says so, the server's on_close too. */
void verification_fails (const char *certificate, GTlsCertificateFlags flag, const char *fragment);

/* ---- Other implementations as peers ----------------------------------------------------- */

/* Runs @argv with @input on its standard input while the main loop serves our sockets;
 * returns its standard output. */
char *run_peer (const char *const *argv, const char *input);

G_END_DECLS

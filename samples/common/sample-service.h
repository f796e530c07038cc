/* sample-service.h: the sample servers on a CSocketService
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every sample server is the same around its connection type: a CSocketService
 * (docs/service.md) on --address and --port with --threads threads, each listener set up by
 * the sample (record mode, limits, TLS: the connections inherit them), a number and a log
 * line for each connection, "listening on PORT" once ready, and the main loop until --clients
 * N connections have finished. The service holds every connection until it is closed: a
 * sample closes its connection when done with it, and keeps no reference.
 */
#pragma once

#include <afxsock.h>

/* Sets up one listener; runs on the thread that owns it (any of the service's). FALSE with
 * @error stops the start. */
typedef gboolean (*SampleListenerSetUp) (CAsyncSocket *listener, gpointer data, GError **error);

typedef struct
{
  GType connection_type;      /* the sample's CAsyncSocket subclass */
  const char *address;        /* --address, or NULL for every address (IPv6 and IPv4) */
  int port;                   /* --port; 0 for any (printed) */
  int threads;                /* --threads; 1 runs on the main thread */
  int clients;                /* --clients: run until N connections finished; 0 forever */
  SampleListenerSetUp set_up; /* or NULL */
  gpointer set_up_data;
  /* Each connection, once accepted, on its thread: after "connection N: from ADDRESS port
   * P" is printed (unless own_log), with N its number (1, 2, … over all threads). */
  void (*accepted) (CAsyncSocket *connection, guint number);
  gboolean own_log; /* accepted() logs the new connection in the sample's own words */
} SampleServer;

/* Starts the service and prints "listening on PORT". NULL with @error ("rpc-server: …" is
 * for the caller to add) when an option is out of range or a listener cannot be made. */
CSocketService *sample_server_start (const SampleServer *server, GError **error);

/* Runs the main loop until --clients connections have called
 * sample_server_connection_finished() (forever with 0). */
void sample_server_run (void);

/* The whole life of a server that needs nothing else of its service: start, run, then free
 * the service (which closes what is still open). Returns the exit status: 0, 1 when it
 * could not start ("PROGRAM: why" printed), 2 for an option out of range. */
int sample_server_serve (const SampleServer *server);

/* A connection ends (call once per connection, on any thread): counts it. */
void sample_server_connection_finished (void);

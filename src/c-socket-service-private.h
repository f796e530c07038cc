/* c-socket-service-private.h: CSocketService's internals, shared by c-socket-service.c (the
 * service) and c-socket-service-worker.c (its threads and listeners)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <afxsock/c-socket-service.h>
#include <afxsock/c-socket.h>

G_BEGIN_DECLS

#define C_SERVICE_MAX_THREADS 1024

typedef enum
{
  C_SERVICE_IDLE,
  C_SERVICE_RUNNING,
  C_SERVICE_STOPPING,
  C_SERVICE_STOPPED,
} CServiceState;

typedef enum
{
  C_SERVICE_ADMIT,
  C_SERVICE_PAUSE,
  C_SERVICE_REFUSE,
} CServiceAdmission;

typedef struct
{
  char *host; /* NULL: dual-stack any (with path NULL) */
  guint port;
  char *path; /* a Unix path instead */
  guint bound_port;
} CServiceAddress;

typedef struct _CServiceWorker CServiceWorker; /* c-socket-service-worker.c */

typedef struct
{
  /* Set before start, read-only afterwards */
  GType connection_type;
  CSocketServiceFactory factory;
  gpointer factory_data;
  GDestroyNotify factory_notify;
  guint n_threads;
  gboolean hand_over;
  GPtrArray *addresses;  /* CServiceAddress */
  GMainContext *context; /* thread-default at start: the stop, the hand-over acceptor */

  CServiceState state; /* the service's own context only */
  CServiceWorker **workers;
  guint n_workers;
  CServiceWorker *acceptor; /* hand-over listeners on the service's context, or NULL */
  GTask *stop_task;
  GSource *stop_timer;
  gulong stop_cancel_id;

  /* Shared between threads */
  gint connections_now; /* atomic */
  gint max_connections; /* atomic; 0: none */
  gint limit;           /* atomic CServiceLimit */
  gint stopping;        /* atomic: c_socket_service_stop() is waiting for the connections */
  gint closing;         /* atomic: stopping or shut down: accept nothing more */
  GMutex lock;          /* guards what follows */
  guint64 connections_total;
  guint64 refused;
  CSocketStats closed; /* the closed connections' sums */
} CSocketServicePrivate;

CSocketServicePrivate *c_socket_service_get_priv (CSocketService *self);
void c_service_address_free (CServiceAddress *address);
void c_socket_service_shut_down (CSocketService *self);

/* c-socket-service.c, called by the workers */
gboolean c_service_emit_incoming (CSocketService *self, CAsyncSocket *connection);
void c_service_emit_configure_listener (CSocketService *self, CAsyncSocket *listener);
CServiceAdmission c_service_admit (CSocketService *self);
void c_service_reserve (CSocketService *self);
void c_service_unreserve (CSocketService *self);
void c_service_count_kept (CSocketService *self);
void c_service_count_refused (CSocketService *self);
void c_service_connection_released (CSocketService *self, const CSocketStats *stats);
gboolean c_service_is_closing (CSocketService *self);
void c_service_stop_check (CSocketService *self);

/* c-socket-service-worker.c */
gboolean c_service_workers_start (CSocketService *self, GError **error);
void c_service_workers_close_listeners (CSocketService *self);
guint c_service_workers_close_all (CSocketService *self);
void c_service_workers_join (CSocketService *self);
void c_service_workers_sum_live (CSocketService *self, CSocketStats *sum);
void c_service_resume_paused (CSocketService *self);

G_END_DECLS

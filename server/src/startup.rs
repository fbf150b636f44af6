//! Builds the application: storage, state, the router (pages, server functions,
//! health check, static files) and its middleware; runs it until a shutdown signal.
//!
//! Tests start it exactly as `main` does, on port 0 with their own database.

use std::{
    future::{Future, IntoFuture},
    net::SocketAddr,
    sync::{Arc, OnceLock},
};

use app::{
    server::{
        db::Db,
        hub::{self, Hub},
        limiter::{LoginLimiter, SignupLimiter},
        metrics::{Metrics, RequestLabel},
        session::SessionKeys,
        state::Shared,
        AppState,
    },
    shell, App,
};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    serve::{ListenerExt, TapIo},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::{TcpListener, TcpStream};

use crate::{config::Config, ops::OperatorToken, origin::Origins};

/// The pages' routes, generated once per process and cloned for each application.
///
/// `generate_route_list` renders the app once with resource loading suppressed, and
/// leptos keeps that suppression in one process-wide flag: a resource first polled while
/// any thread of the process generates routes never loads, and its page hangs until the
/// request timeout. Generated once, before any application of the process has routes to
/// serve a page with, the list leaves no such window, however many applications one
/// process starts (the integration tests start one per test, in parallel).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not bind {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("storage: {0}")]
    Db(#[from] app::server::db::DbError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    local_addr: SocketAddr,
    db: Db,
    hub: Arc<Hub>,
}

impl Application {
    /// Binds `config.addr` (port 0 picks a free one), connects and migrates the database.
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| StartError::Bind(config.addr, e))?;
        Self::with_listener(config, listener).await
    }

    pub async fn with_listener(
        config: Config,
        listener: TcpListener,
    ) -> Result<Application, StartError> {
        let local_addr = listener.local_addr()?;
        let db = Db::connect(&config.database_url, config.db_max_connections).await?;
        tracing::info!(backend = ?db.backend, "database ready");

        let leptos_options = LeptosOptions::builder()
            .output_name("liveledger")
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .hash_files(app::server::assets::hash_file().is_some())
            .build();
        let (hub, wake) = Hub::new(config.live.queue_len);
        // The rate limits count in PostgreSQL (shared by every instance), in memory on
        // SQLite (one instance).
        let limits = app::server::limiter::Store::for_db(&db);
        let state = AppState::new(Shared {
            leptos_options: leptos_options.clone(),
            db: db.clone(),
            sessions: Arc::new(SessionKeys::new(
                config.jwt_secret.expose(),
                config.session_ttl.as_secs(),
                config.secure_cookie,
            )),
            login_limiter: Arc::new(LoginLimiter::new(
                config.login_limit_per_account,
                config.login_limit_per_address,
                config.login_limit_window,
                &limits,
            )),
            signup_limiter: Arc::new(SignupLimiter::new(
                config.signup_limit_per_address,
                std::time::Duration::from_secs(3600),
                &limits,
            )),
            hub: hub.clone(),
            live_slots: app::server::slots::LiveSlots::new(config.live.slot_limits()),
            live: config.live,
            metrics: Arc::new(Metrics::default()),
            action_limiter: Arc::new(app::server::limiter::ActionLimiter::new(
                std::time::Duration::from_secs(60),
                &limits,
            )),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        });
        tokio::spawn(hub::delivery::run(hub.clone(), db.clone(), wake));
        if db.backend == app::server::db::Backend::Postgres {
            tokio::spawn(hub::cluster::listen_postgres(
                hub.clone(),
                config.database_url.clone(),
            ));
            tokio::spawn(hub::cluster::wake_peers(hub.clone(), db.clone()));
            tokio::spawn(hub::cluster::check_heads(
                hub.clone(),
                db.clone(),
                HEAD_CHECK_PERIOD,
            ));
        }
        tokio::spawn(prune_events(db.clone(), config.event_retention));
        let origins = Origins::new(config.allowed_origins.clone(), config.secure_cookie);
        let routes = route_list();
        let trusted_proxies = state.trusted_proxies.clone();
        // `/live` gets the state behind one `Arc` shared by every socket: each socket's
        // task holds it for its whole life, and the state itself is 336 bytes.
        let live = Router::new()
            .route("/live", get(crate::live::upgrade))
            .with_state(Arc::new(state.clone()));
        let router = Router::new()
            .route("/healthz", get(healthz))
            .merge(live)
            .route("/metrics", get(metrics))
            .route("/w/{ws}/export/{kind}", get(crate::export::export))
            .route("/account/export", get(crate::export::account))
            .route("/ops/users/{id}/disconnect", post(crate::ops::disconnect))
            .route("/ops/announce", post(crate::ops::announce))
            .leptos_routes_with_context(
                &state,
                routes,
                {
                    let state = state.clone();
                    move || provide_context(state.clone())
                },
                {
                    let options = leptos_options.clone();
                    move || shell(options.clone())
                },
            )
            // Timed per route pattern; only matched routes (not static files) are timed.
            .route_layer(middleware::from_fn_with_state(state.clone(), time_request))
            .nest_service("/pkg", crate::assets::pkg_service(&config.site_root, "pkg"))
            .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
            .with_state(state);
        // The app's own steps, inside the outer ones: one layer around the whole router
        // (see `http::around`), not a layer per route or per step.
        let router = tower::ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(
                AppSteps {
                    https: config.secure_cookie,
                    operator: OperatorToken::new(config.operator_token.clone()),
                    origins,
                },
                app_steps,
            ))
            .service(router);
        let router = crate::http::outer_layers(
            router,
            crate::http::HttpSettings {
                request_timeout: config.request_timeout,
                https: config.secure_cookie,
                trusted_proxies,
            },
        );
        Ok(Application {
            listener,
            router,
            local_addr,
            db,
            hub,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            router,
            db,
            hub,
            ..
        } = self;
        // On shutdown, tell live sockets to reconnect (elsewhere) before waiting for
        // requests in flight: an open socket would otherwise hold the shutdown up.
        let shutdown = async move {
            shutdown.await;
            hub.close_all(hub::close::GOING_AWAY, "server shutting down");
        };
        // Requests in flight may finish, for `SHUTDOWN_GRACE` at most: a request that
        // never ends must not hold the process up forever.
        let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = stopping_tx.send(());
        };
        let serve = axum::serve(
            no_delay(listener),
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .into_future();
        tokio::pin!(serve);
        tokio::select! {
            served = &mut serve => served?,
            () = async {
                if stopping.await.is_err() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight at the end of the grace period: stopping anyway"),
        }
        db.pool.close().await;
        db.log.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The listener with `TCP_NODELAY` set on every connection it accepts.
///
/// Without it, Nagle's algorithm holds a small write back while an earlier one on the
/// same connection is unacknowledged, and the peer may delay its acknowledgement by up
/// to 40 ms: a live frame that follows another one to the same socket, or a response
/// that follows a frame, would wait for it. Every write this server makes is a whole
/// frame or a whole response, so there is nothing for Nagle to gather.
pub fn no_delay(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    fn set(stream: &mut TcpStream) {
        if let Err(e) = stream.set_nodelay(true) {
            // The connection is still served, only with Nagle's algorithm on.
            tracing::debug!(error = %e, "could not set TCP_NODELAY on an accepted connection");
        }
    }
    listener.tap_io(set)
}

/// How often each instance on PostgreSQL compares its rooms with the stream heads
/// (`hub::cluster::check_heads`): the longest a commit whose wake was lost waits.
const HEAD_CHECK_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a graceful shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The retention job: every few minutes, forgets logged events older than `retention`,
/// and the shared rate-limit counts whose window has passed.
async fn prune_events(db: Db, retention: std::time::Duration) {
    let every = (retention / 10).min(std::time::Duration::from_secs(300));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let cut = app::server::now_ms() - retention.as_millis() as i64;
        match app::server::outbox::prune(&db, cut).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned old events"),
            Err(e) => tracing::warn!(error = %e, "pruning old events failed"),
        }
        let now = app::server::now_ms();
        if let Err(e) = app::server::limiter::prune(&db.pool, now).await {
            tracing::warn!(error = %e, "pruning rate-limit counts failed");
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}

/// `GET /metrics`: Prometheus/OpenMetrics text, for the operator only. Without an
/// `OPERATOR_TOKEN` configured the endpoint does not exist (404).
async fn metrics(
    State(state): State<AppState>,
    axum::Extension(operator): axum::Extension<OperatorToken>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = crate::ops::refusal(&operator, &headers) {
        return refused;
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app::server::metrics::render(
            &state.hub.stats(),
            &state.hub.counters,
            &state.hub.kinds,
            &state.metrics,
        ),
    )
        .into_response()
}

/// Records each routed request's latency under its route pattern. Server functions
/// share one wildcard pattern, so they are told apart by their path, which names the
/// function and never carries ids; a path that matched no function counts as one.
async fn time_request(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let pattern = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let route = if pattern.contains('*') && path.starts_with("/api/") && status != 404 {
        path
    } else if status == 404 {
        "unmatched".to_owned()
    } else {
        pattern
    };
    state
        .metrics
        .requests
        .get_or_create(&RequestLabel {
            method,
            route,
            status,
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.db.pool).await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// What [`app_steps`] needs to know.
#[derive(Clone)]
struct AppSteps {
    /// The site is served over HTTPS (the kept form's cookie is `Secure`).
    https: bool,
    operator: OperatorToken,
    origins: Origins,
}

/// The app's own steps before the router, in one layer (as `http::outer_layers` has
/// its steps, and for the same reason), the first outermost: a refused form's fields
/// kept (`kept::keep_typed`), a server function's error given its status
/// ([`error_status`]), the operator's token and the allowed origins handed to the
/// handlers that need them, and the cross-site check (`origin::check`).
async fn app_steps(State(s): State<AppSteps>, req: Request, next: Next) -> Response {
    crate::kept::keep_typed(s.https, req, |req| {
        error_status(req, |mut req: Request| {
            req.extensions_mut().insert(s.operator.clone());
            req.extensions_mut().insert(s.origins.clone());
            crate::origin::check(&s.origins, req, |req| next.run(req))
        })
    })
    .await
}

/// Gives a server function's error its HTTP status (422 for validation, 404, 403 …)
/// in this one place; server_fn answers every error with 500. Plain form posts are
/// redirects and pass untouched.
async fn error_status(req: Request, next: impl AsyncFnOnce(Request) -> Response) -> Response {
    let res = next(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "error body too large").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

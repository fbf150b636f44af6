// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

use server::{config::Config, startup::Application, telemetry};

/// jemalloc answers every allocation of the process, SQLite's included: less CPU per
/// request than glibc's malloc and no more memory per idle socket (ARCHITECTURE.md,
/// "The write path", ninth session).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    telemetry::init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            std::process::exit(2);
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "could not start");
            std::process::exit(1);
        }
    };
    println!("LiveLedger is running at http://{}", app.local_addr());
    if let Err(e) = app
        .run_until_stopped(server::startup::shutdown_signal())
        .await
    {
        tracing::error!(error = %e, "server error");
        std::process::exit(1);
    }
}

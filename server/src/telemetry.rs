//! Logging: `RUST_LOG` decides what is printed (default: info, sqlx quiet);
//! `LOG_FORMAT=json` prints one JSON object per line (for a log collector) instead of text.
//! Text is coloured only on a terminal: a file or a pipe gets plain lines.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

/// What is logged when `RUST_LOG` is not set. `scripts/bench.sh socketio` runs the server
/// with it and the README names it (`logs::the_default_log_filter_is_the_one_named_elsewhere`).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // `try_init`: tests may call this more than once.
    let _ = if json {
        fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .with_target(false)
            .try_init()
    } else {
        let text = fmt().with_env_filter(filter).with_target(false);
        // Colours as tracing-subscriber decides (on, unless `NO_COLOR` is set), and only
        // ever on a terminal.
        if std::io::stdout().is_terminal() {
            text.try_init()
        } else {
            text.with_ansi(false).try_init()
        }
    };
}

//! What the server binary prints where an operator collects it (a file, a pipe to a
//! log collector): plain lines, no terminal escape codes.

use std::time::Duration;

use crate::helpers::{start_binary, start_binary_following, TempDir, PASSWORD};

/// The server on any free port, its SQLite file in `dir`, logging at `info`.
fn logging_at_info<'c>(
    command: &'c mut std::process::Command,
    dir: &TempDir,
) -> &'c mut std::process::Command {
    command
        .env("LIVELEDGER_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", &dir.0)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/ll.db", dir.0.display()),
        )
        .env("JWT_SECRET", "logs-test-secret-logs-test-secret-0123456789")
        .env("RUST_LOG", "info")
}

#[test]
fn logs_written_to_a_pipe_carry_no_terminal_colours() {
    let dir = TempDir::new("liveledger-logs");
    let (_server, printed, _) = start_binary(|command| {
        logging_at_info(command, &dir).env_remove("NO_COLOR");
    });
    assert!(
        printed
            .iter()
            .any(|l| l.contains("INFO") && l.contains("database ready")),
        "the start-up's log line: {printed:#?}"
    );
    assert!(
        printed.iter().all(|l| !l.contains('\u{1b}')),
        "no escape codes: {printed:#?}"
    );
}

/// The benchmark measures the server at its default log level, and the README tells
/// operators what that is: both spell the filter out, so both must spell this one.
#[test]
fn the_default_log_filter_is_the_one_named_elsewhere() {
    let filter = server::telemetry::DEFAULT_FILTER;
    let bench = include_str!("../../../scripts/bench.sh");
    assert!(
        bench.contains(&format!("LL_RUST_LOG:-{filter}}}")),
        "scripts/bench.sh runs the server with {filter}"
    );
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&format!("| `RUST_LOG` | `{filter}` |")),
        "README.md names {filter}"
    );
}

/// A line logged while a request is answered names the request: its id (the one sent
/// back in `x-request-id`), the client's address, the method and the path.
#[tokio::test]
async fn a_requests_log_lines_name_its_id_client_method_and_path() {
    let dir = TempDir::new("liveledger-logs");
    let (_server, _, addr, later) = start_binary_following(|command| {
        logging_at_info(command, &dir);
    });
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/api/auth/register"))
        .form(&[
            ("email", "logged@example.com"),
            ("display_name", "Logged"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let line = loop {
        let line = later
            .recv_timeout(Duration::from_secs(30))
            .expect("the sign-up's log line");
        if line.contains("registered a new account") {
            break line;
        }
    };
    for part in [
        format!("id=\"{id}\""),
        "client=127.0.0.1".into(),
        "method=POST".into(),
        "path=/api/auth/register".into(),
    ] {
        assert!(line.contains(&part), "{part} in {line}");
    }
}

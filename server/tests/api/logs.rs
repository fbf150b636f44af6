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

/// One server per SQLite file: a second one started on the file of a running one stops
/// at once and says why (the first holds the file, `db::SQLITE_VFS`), instead of
/// serving writes whose events the first would never deliver live; the first is
/// untouched. Once the first has stopped, the file is free again.
#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_refuses_to_start() {
    use std::io::Read;
    let dir = TempDir::new("liveledger-one-server");
    let (first, _, addr) = start_binary(|command| {
        logging_at_info(command, &dir);
    });

    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    logging_at_info(&mut second, &dir);
    let mut second = second
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    // Read to the end: the second process closes its output when it exits. (Were it to
    // start instead, it would print where it listens and go on; the bound below ends
    // the test then.)
    let mut out = second.stdout.take().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        let _ = done.send(text);
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(text) => printed.push_str(&text),
        Err(_) => {
            let _ = second.kill();
            panic!("the second server did not stop");
        }
    }
    let status = second.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "it exits as any failed start does: {printed}"
    );
    assert!(
        printed.contains("in use by another process") && !printed.contains("is running at"),
        "it says why, and never listened: {printed}"
    );

    // The first still answers.
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert!(health.status().is_success());

    // Stopped, it lets the file go: a new server starts on it.
    drop(first);
    let (_third, printed, _) = start_binary(|command| {
        logging_at_info(command, &dir);
    });
    assert!(printed.iter().any(|l| l.contains("database ready")));
}

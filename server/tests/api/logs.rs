//! What the server binary prints where an operator collects it (a file, a pipe to a
//! log collector): plain lines, no terminal escape codes.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use crate::helpers::{unique_name, TempDir};

#[test]
fn logs_written_to_a_pipe_carry_no_terminal_colours() {
    let dir = TempDir(std::env::temp_dir().join(format!("liveledger-logs-{}", unique_name())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("LIVELEDGER_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", &dir.0)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/ll.db", dir.0.display()),
        )
        .env("JWT_SECRET", "logs-test-secret-logs-test-secret-0123456789")
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut printed = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("LiveLedger is running at");
        printed.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
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

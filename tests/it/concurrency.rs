//! 50 `supportd ingest` processes started at once (a mail server piping each message) get
//! 50 distinct, consecutive case numbers.

use std::io::Write;
use std::process::Stdio;

use crate::support::{Backend, Sandbox, customer_mail};

async fn fifty_pipes_fifty_numbers(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    assert!(sandbox.run(&["migrate"]).status.success());
    const N: usize = 50;
    let children: Vec<_> = (0..N)
        .map(|n| {
            let mut child = sandbox
                .cmd(&["ingest"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn supportd ingest");
            (n, child.stdin.take().expect("stdin"), child)
        })
        .collect();
    // All 50 are running before any gets its message.
    let children: Vec<_> = children
        .into_iter()
        .map(|(n, mut stdin, child)| {
            stdin.write_all(&customer_mail(n, &format!("Concurrent {n}"))).expect("pipe message");
            drop(stdin);
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "ingest failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut numbers: Vec<u64> =
        sandbox.cases().iter().map(|c| c["number"].as_str().unwrap().parse().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=N as u64).collect::<Vec<_>>());
    assert_eq!(sandbox.outbox_rows().len(), N, "one acknowledgement queued per case");
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_pipes_fifty_numbers_on_sqlite() {
    fifty_pipes_fifty_numbers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_pipes_fifty_numbers_on_postgres() {
    fifty_pipes_fifty_numbers(Backend::Postgres).await;
}

/// The pipe reports a database it cannot reach as a temporary failure (75), so the mail
/// server keeps the message and retries.
#[tokio::test(flavor = "multi_thread")]
async fn unreachable_database_is_a_temporary_failure() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        c.replace("url = \"sqlite://var/supportd.db?mode=rwc\"", "url = \"postgres://postgres@127.0.0.1:1/nothing\"")
    });
    let mut child = sandbox.cmd(&["ingest"]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().unwrap().write_all(&customer_mail(1, "Hello")).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", String::from_utf8_lossy(&out.stderr));
}

//! Starts `flowforge serve` on free loopback ports in a temporary data folder and stops it (by
//! PID) when the handle is dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running server.
pub struct TestServer {
    child: Child,
    /// pgwire address.
    pub pg: SocketAddr,
    /// HTTP address.
    pub http: SocketAddr,
    /// The data folder (sample data, catalog, demo TLS files).
    pub dir: tempfile::TempDir,
}

/// Path of the binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_flowforge"))
}

impl TestServer {
    /// Starts a server with extra flags and waits until it prints its addresses.
    pub fn start(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(binary())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path())
            .args([
                "--pg-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
                "--sample-anchor",
                "2026-01-05",
            ])
            .args(extra)
            .env("FLOWFORGE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn flowforge serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut pg = None;
            let mut http = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["pgwire", addr, ..] => pg = addr.parse::<SocketAddr>().ok(),
                    ["web", url, ..] => {
                        http = url
                            .trim_start_matches("http://")
                            .trim_end_matches('/')
                            .parse::<SocketAddr>()
                            .ok()
                    }
                    _ => {}
                }
                if let (Some(p), Some(h)) = (pg, http) {
                    let _ = tx.send((p, h));
                    pg = None;
                }
            }
        });
        // Generous: the first start generates the sample data in a debug build.
        match rx.recv_timeout(Duration::from_secs(300)) {
            Ok((pg, http)) => TestServer {
                child,
                pg,
                http,
                dir,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("flowforge serve did not report its addresses");
            }
        }
    }

    /// A libpq connection string for a user.
    pub fn dsn(&self, user: &str, password: &str) -> String {
        format!(
            "host={} port={} user={user} password={password} dbname=flowforge sslmode=disable connect_timeout=10",
            self.pg.ip(),
            self.pg.port()
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The HTTP door of a running server: health probes and the landing page.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::server::TestServer;

/// A plain HTTP/1.1 GET; returns (status, body).
pub(super) fn get(server: &TestServer, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.http).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.http
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn health_probes_report_every_component_and_the_page_says_how_to_connect() {
    let server = TestServer::start(&[]);
    let (status, body) = get(&server, "/health/live");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&server, "/health/ready");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""name":"catalog","status":"ok""#), "{body}");
    assert!(
        body.contains(r#""name":"embedded","status":"ok""#),
        "{body}"
    );
    let (status, body) = get(&server, "/");
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!("port={}", server.pg.port())),
        "{body}"
    );
}

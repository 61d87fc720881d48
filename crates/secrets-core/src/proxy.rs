//! An HTTP/1.1 proxy in front of a test server (an emulator) that counts
//! the requests going through it, so that remote request budgets are
//! asserted at the HTTP layer, retries and pages included, not only at the
//! trait.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The proxy; it serves until the process ends.
#[derive(Debug, Clone)]
pub struct CountingProxy {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    /// A proxy on a free port of 127.0.0.1 forwarding to `upstream`
    /// (`http://host:port`, plain HTTP/1.1).
    pub fn start(upstream: &str) -> Self {
        Self::start_with_latency(upstream, Duration::ZERO)
    }

    /// [`CountingProxy::start`], holding each request for `latency` before
    /// forwarding it: a service far away, for work that must take a while.
    pub fn start_with_latency(upstream: &str, latency: Duration) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("bound").port()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let seen = Arc::clone(&seen);
                thread::spawn(move || relay(client, server, &seen, latency));
            }
        });
        Self { url, requests }
    }

    /// Where clients send their requests.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many requests went through so far.
    pub fn count(&self) -> usize {
        self.requests.lock().expect("not poisoned").len()
    }

    /// Each request so far: its request line, and the operation where the
    /// protocol names it in a header (`X-Amz-Target`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("not poisoned").clone()
    }

    /// Forgets the requests counted so far.
    pub fn reset(&self) {
        self.requests.lock().expect("not poisoned").clear();
    }
}

/// Copies responses back as they come, and requests forward one by one,
/// recording each request's head.
fn relay(client: TcpStream, server: TcpStream, seen: &Mutex<Vec<String>>, latency: Duration) {
    let (Ok(mut back_from), Ok(mut back_to)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    let responses = thread::spawn(move || {
        let _ = std::io::copy(&mut back_from, &mut back_to);
        let _ = back_to.shutdown(Shutdown::Write);
    });
    let mut reader = BufReader::new(client);
    let mut server = server;
    while let Some(head) = read_head(&mut reader) {
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_owned();
        let header = |name: &str| {
            text.split("\r\n").skip(1).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let target = header("x-amz-target").unwrap_or_default();
        seen.lock()
            .expect("not poisoned")
            .push(format!("{request_line} {target}").trim_end().to_owned());
        thread::sleep(latency);
        if server.write_all(&head).is_err() {
            break;
        }
        let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let length: u64 = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body = if chunked {
            copy_chunked(&mut reader, &mut server)
        } else {
            std::io::copy(&mut (&mut reader).take(length), &mut server).map(|_| ())
        };
        if body.is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = responses.join();
}

/// A request's head, up to and with its blank line; `None` at the end.
fn read_head(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        if line == b"\r\n" && head.is_empty() {
            // A blank line between requests.
            continue;
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" {
            return Some(head);
        }
        if head.len() > 1 << 20 {
            return None;
        }
    }
}

/// Forwards a chunked body, its last chunk and trailers included.
fn copy_chunked(reader: &mut impl BufRead, to: &mut impl Write) -> std::io::Result<()> {
    loop {
        let mut size_line = Vec::new();
        reader.read_until(b'\n', &mut size_line)?;
        to.write_all(&size_line)?;
        let size_text = String::from_utf8_lossy(&size_line);
        let size = u64::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut line = Vec::new();
                reader.read_until(b'\n', &mut line)?;
                to.write_all(&line)?;
                if line == b"\r\n" || line.is_empty() {
                    return Ok(());
                }
            }
        }
        std::io::copy(&mut (&mut *reader).take(size + 2), to)?;
    }
}

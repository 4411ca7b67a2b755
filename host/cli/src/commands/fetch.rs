//! A small HTTP/1.1 GET for `ferry plugin install <url>`: one request,
//! redirects followed, HTTPS through rustls with the system's roots. Plain
//! `http://` is accepted only from loopback (local mirrors and tests), since
//! the bytes are about to become code this project runs.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// Larger than any plugin should be; stops a hostile server filling the disk.
const MAX_BYTES: usize = 64 << 20;
const MAX_REDIRECTS: usize = 5;

struct Url {
    https: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse(url: &str) -> Result<Url> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        bail!("{url} is not an http(s) URL");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').with_context(|| format!("{url}: unclosed `[` in the host"))?;
        (host.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => p.parse().with_context(|| format!("{url}: `{p}` is not a port"))?,
        None if https => 443,
        None => 80,
    };
    if host.is_empty() {
        bail!("{url} has no host");
    }
    Ok(Url { https, host, port, path: path.to_string() })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The body of `url` (after redirects), or an error naming the URL.
pub fn get(url: &str) -> Result<Vec<u8>> {
    let mut current = url.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let parsed = parse(&current)?;
        if !parsed.https && !is_loopback(&parsed.host) {
            bail!(
                "refusing to download a plugin over plain http from {}\nhint: use an https:// URL (plain http is allowed only from localhost)",
                parsed.host
            );
        }
        let response = request(&parsed).with_context(|| format!("cannot download {current}"))?;
        match response.status {
            200 => return Ok(response.body),
            301 | 302 | 303 | 307 | 308 => {
                let location = response
                    .location
                    .with_context(|| format!("{current} answered {} without a Location", response.status))?;
                let next = if location.contains("://") {
                    location
                } else if location.starts_with('/') {
                    let scheme = if parsed.https { "https" } else { "http" };
                    format!("{scheme}://{}:{}{location}", bracket(&parsed.host), parsed.port)
                } else {
                    bail!("{current} redirects to `{location}`, which ferry does not follow");
                };
                if parsed.https && next.starts_with("http://") {
                    bail!("{current} redirects from https to plain http ({next}); refusing");
                }
                current = next;
            }
            status => bail!(
                "cannot download {current}: the server answered HTTP {status}{}",
                if status == 404 { "\nhint: check the URL and the release it points at" } else { "" }
            ),
        }
    }
    bail!("cannot download {url}: more than {MAX_REDIRECTS} redirects")
}

fn bracket(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_string() }
}

struct Response {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

fn request(url: &Url) -> Result<Response> {
    let tcp = TcpStream::connect((url.host.as_str(), url.port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(60)))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ferry/{}\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
        url.path,
        bracket(&url.host),
        env!("CARGO_PKG_VERSION")
    );
    let raw = if url.https {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(url.host.clone())
            .with_context(|| format!("`{}` is not a valid TLS server name", url.host))?;
        let connection = rustls::ClientConnection::new(Arc::new(config), name)?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        stream.write_all(request.as_bytes())?;
        read_all(&mut stream)?
    } else {
        let mut stream = tcp;
        stream.write_all(request.as_bytes())?;
        read_all(&mut stream)?
    };
    parse_response(&raw)
}

/// Reads until the server closes, bounded. A TLS peer that closes without
/// `close_notify` is tolerated: the length checks below catch truncation.
fn read_all(stream: &mut impl Read) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&chunk[..n]);
                if raw.len() > MAX_BYTES {
                    bail!("the response is larger than {} MiB", MAX_BYTES >> 20);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(raw)
}

fn parse_response(raw: &[u8]) -> Result<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").context("the server sent no complete HTTP header")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line}"))?;
    let mut content_length = None;
    let mut chunked = false;
    let mut location = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => content_length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "location" => location = Some(value.to_string()),
            _ => {}
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked {
        dechunk(body)?
    } else if let Some(length) = content_length {
        if body.len() < length {
            bail!("the connection closed after {} of {length} bytes", body.len());
        }
        body[..length].to_vec()
    } else {
        body.to_vec()
    };
    Ok(Response { status, location, body })
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").context("truncated chunked body")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or_default().trim(), 16)
            .with_context(|| format!("bad chunk size `{size_text}`"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            bail!("truncated chunked body");
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = parse("https://example.com/a/b.wasm").unwrap();
        assert!(u.https && u.host == "example.com" && u.port == 443 && u.path == "/a/b.wasm");
        let u = parse("http://127.0.0.1:8080").unwrap();
        assert!(!u.https && u.port == 8080 && u.path == "/");
        let u = parse("http://[::1]:9/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9));
        assert!(parse("ftp://x").is_err());
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("example.com"));
    }

    #[test]
    fn plain_http_elsewhere_is_refused() {
        let err = get("http://example.com/p.wasm").unwrap_err().to_string();
        assert!(err.contains("plain http"), "{err}");
    }

    #[test]
    fn responses_parse_with_length_and_chunks() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abc"[..]));
        let r =
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_response(b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n").unwrap();
        assert_eq!(r.location.as_deref(), Some("/x"));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
    }
}

//! The download for `ferry plugin install <url>`: one GET, redirects
//! followed, through hyper's client (hyper-util, hyper-rustls) — the HTTP
//! stack the AWS SDK already links, so ferry has no second HTTP client —
//! with rustls and the system's roots. Plain `http://` is accepted only from
//! loopback (local mirrors and tests), since the bytes are about to become
//! code this project runs; the caller checks the sha256 the user pinned.

use anyhow::{Context, Result, bail};
use ferry_core::Failure;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Uri;
use hyper::body::Bytes;
use std::time::Duration;

/// Larger than any plugin should be; stops a hostile server filling the disk.
const MAX_BYTES: usize = 64 << 20;
const MAX_REDIRECTS: usize = 5;
/// The whole of one request, body included.
const TIMEOUT: Duration = Duration::from_secs(120);

fn parse(url: &str) -> Result<Uri> {
    let uri: Uri = url.parse().with_context(|| format!("{url} is not a valid URL"))?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => bail!("{url} is not an http(s) URL"),
    }
    if uri.host().is_none_or(str::is_empty) {
        bail!("{url} has no host");
    }
    Ok(uri)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

fn client() -> Result<HttpsClient> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    // `https_or_http`: plain http is refused above the connector, except to loopback.
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_or_http().enable_http1().build();
    // A download is one request and its redirects: no idle connections are
    // kept, so a server that closes after each response is never answered
    // with a request on a connection it already closed.
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector))
}

/// The body of `url` (after redirects), or an error naming the URL; run on
/// the command's runtime ([`crate::context::CommandContext::block_on`]).
pub async fn get(url: &str) -> Result<Vec<u8>> {
    let client = client()?;
    let mut current = url.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let uri = parse(&current)?;
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or_default().to_string();
        if !https && !is_loopback(&host) {
            return Err(Failure::new(format!("refusing to download a plugin over plain http from {host}"))
                .hint("use an https:// URL (plain http is allowed only from localhost)")
                .into());
        }
        let request = hyper::Request::get(uri.clone())
            .header(hyper::header::USER_AGENT, concat!("ferry/", env!("CARGO_PKG_VERSION")))
            .header(hyper::header::ACCEPT_ENCODING, "identity")
            .body(Empty::<Bytes>::new())
            .with_context(|| format!("cannot build a request for {current}"))?;
        let fetched = tokio::time::timeout(TIMEOUT, async {
            let response = client.request(request).await.map_err(|e| anyhow::anyhow!(chain(&e)))?;
            let status = response.status().as_u16();
            let location =
                response.headers().get(hyper::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
            if status != 200 {
                return Ok::<_, anyhow::Error>((status, location, Vec::new()));
            }
            let body = Limited::new(response.into_body(), MAX_BYTES).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    anyhow::anyhow!("the response is larger than {} MiB", MAX_BYTES >> 20)
                } else {
                    anyhow::anyhow!("the connection failed while reading the body: {e}")
                }
            })?;
            Ok((status, location, body.to_bytes().to_vec()))
        })
        .await
        .map_err(|_| anyhow::anyhow!("no complete answer within {} s", TIMEOUT.as_secs()))
        .and_then(|r| r)
        .with_context(|| format!("cannot download {current}"))?;
        let (status, location, body) = fetched;
        match status {
            200 => return Ok(body),
            301 | 302 | 303 | 307 | 308 => {
                let location = location.with_context(|| format!("{current} answered {status} without a Location"))?;
                let next = if location.contains("://") {
                    location
                } else if location.starts_with('/') && !location.starts_with("//") {
                    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
                    format!("{}://{authority}{location}", if https { "https" } else { "http" })
                } else {
                    bail!("{current} redirects to `{location}`, which ferry does not follow");
                };
                if https && next.starts_with("http://") {
                    bail!("{current} redirects from https to plain http ({next}); refusing");
                }
                current = next;
            }
            status => {
                let failure = Failure::new(format!("cannot download {current}: the server answered HTTP {status}"));
                let failure =
                    if status == 404 { failure.hint("check the URL and the release it points at") } else { failure };
                return Err(failure.into());
            }
        }
    }
    bail!("cannot download {url}: more than {MAX_REDIRECTS} redirects")
}

/// An error and its causes on one line (hyper's top-level message alone is
/// "client error (Connect)").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(url: &str) -> Result<Vec<u8>> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(super::get(url))
    }

    #[test]
    fn urls_parse() {
        let u = parse("https://example.com/a/b.wasm").unwrap();
        assert_eq!((u.host(), u.path()), (Some("example.com"), "/a/b.wasm"));
        let u = parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(u.port_u16(), Some(8080));
        assert!(parse("ftp://x").is_err());
        assert!(parse("https:///x").is_err());
        assert!(is_loopback("127.0.0.1") && is_loopback("[::1]") && is_loopback("localhost"));
        assert!(!is_loopback("example.com"));
    }

    #[test]
    fn plain_http_elsewhere_is_refused() {
        let err = get("http://example.com/p.wasm").unwrap_err().to_string();
        assert!(err.contains("plain http"), "{err}");
    }

    /// Serves each canned answer to one connection on 127.0.0.1.
    fn serve(answers: Vec<Vec<u8>>) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for answer in answers {
                let Ok((mut stream, _)) = listener.accept() else { return };
                // A TLS client's hello has no blank line: answer after a moment.
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(&answer);
            }
        });
        port
    }

    #[test]
    fn follows_redirects_and_reads_chunked_bodies() {
        let port = serve(vec![
            b"HTTP/1.1 302 Found\r\nLocation: /p.wasm\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                .to_vec(),
        ]);
        assert_eq!(get(&format!("http://127.0.0.1:{port}/old.wasm")).unwrap(), b"abcde");
    }

    #[test]
    fn hostile_answers_are_errors_not_panics() {
        // A chunk size that overflows any integer (the hand-written client's bug).
        let port = serve(vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n".to_vec(),
        ]);
        let err = format!("{:#}", get(&format!("http://127.0.0.1:{port}/p.wasm")).unwrap_err());
        assert!(err.contains("cannot download"), "{err}");
        // A body shorter than its Content-Length.
        let port = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nabc".to_vec()]);
        assert!(get(&format!("http://127.0.0.1:{port}/p.wasm")).is_err());
        // A 404 says so.
        let port = serve(vec![b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()]);
        let err = get(&format!("http://127.0.0.1:{port}/p.wasm")).unwrap_err().to_string();
        assert!(err.contains("HTTP 404"), "{err}");
    }

    #[test]
    fn https_to_a_server_that_does_not_speak_tls_fails_cleanly() {
        // A TLS handshake with a server that is not TLS at all fails cleanly.
        let port = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".to_vec()]);
        let err = format!("{:#}", get(&format!("https://127.0.0.1:{port}/p.wasm")).unwrap_err());
        assert!(err.contains("cannot download"), "{err}");
    }
}

//! Application-layer parsers for the first bytes of each TCP direction and for single DNS datagrams.
//!
//! Every function here is pure: it takes the bytes another module reassembled (client→server and
//! server→client, each in order) and returns structured data — never verdicts, never I/O. Input is
//! treated as hostile: no panics, every count and length is capped by a documented constant or by a
//! `max` argument, and whatever could not be parsed is reported (an error value, or an `end`/`error`
//! field saying where parsing stopped) rather than dropped as "nothing there".
//!
//! | module | input | crate |
//! |---|---|---|
//! | [`http`] | client and server streams | `httparse` for heads; bodies skipped by Content-Length / chunking |
//! | [`tls`] | client and server streams | `tls-parser` for records and hellos, `x509-parser` for certificates; JA3/JA3S |
//! | [`dns`] | one UDP datagram | own parser (why: see the module) |
//! | [`smtp`] | client and server streams | own line parser (RFC 5321) |
//!
//! [`sniff`] tells which of them applies to a connection from its first bytes, independent of the
//! port: a protocol/port mismatch (HTTP on 443, TLS on 8080) is for the caller to judge.

pub mod dns;
pub mod http;
pub mod smtp;
pub mod tls;

#[cfg(test)]
mod tests;

pub use dns::{DnsError, DnsMessage, dns_message};
pub use http::{
    HttpError, HttpExchange, HttpRequest, HttpResponse, HttpScan, ScanEnd, http_exchange,
    http_requests, http_responses,
};
pub use smtp::{SmtpSession, smtp_session};
pub use tls::{ClientHello, ServerSide, TlsError, tls_client_hello, tls_server};

/// The application protocol a TCP connection carries, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppProto {
    /// HTTP/1.x: a request line in the client bytes or a status line in the server bytes.
    Http,
    /// TLS (or SSL 2.0/3.0): a TLS record header (any record type, so that connections already
    /// open when the capture started count too) or an SSL 2.0 ClientHello opens either direction.
    Tls,
    /// SMTP/LMTP: a `220` greeting from the server, or `EHLO`/`HELO`/`LHLO` from the client.
    Smtp,
    /// Bytes that match none of the above.
    Other,
    /// No payload in either direction.
    Empty,
}

/// Methods accepted as the start of an HTTP/1.x request line by [`sniff`] (RFC 9110 plus WebDAV).
const HTTP_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
];

/// How far into the first line [`sniff`] looks for `HTTP/1.`.
const SNIFF_LINE: usize = 8 * 1024;

/// Which application protocol the connection speaks, from the first bytes of each direction.
///
/// TLS is checked first (a binary record header cannot be mistaken for text), then HTTP, then SMTP.
pub fn sniff(client: &[u8], server: &[u8]) -> AppProto {
    if client.is_empty() && server.is_empty() {
        return AppProto::Empty;
    }
    if tls::looks_like_tls(client)
        || tls::looks_like_tls_record(client)
        || tls::looks_like_tls_record(server)
    {
        return AppProto::Tls;
    }
    if looks_like_http_request(client) || looks_like_http_response(server) {
        return AppProto::Http;
    }
    if smtp::looks_like_smtp(client, server) {
        return AppProto::Smtp;
    }
    AppProto::Other
}

/// Whether `client` opens with an HTTP/1.x request line (`METHOD SP target SP HTTP/1.x`).
///
/// Only the first line (at most 8 KiB) is read; a line cut short by the end of the data counts when
/// what is there matches (`METHOD SP /…`).
pub fn looks_like_http_request(client: &[u8]) -> bool {
    let Some(method) = HTTP_METHODS.iter().find(|m| {
        client.len() > m.len() && client.starts_with(m) && client.get(m.len()) == Some(&b' ')
    }) else {
        return false;
    };
    let window = &client[..client.len().min(SNIFF_LINE)];
    let line_end = window.iter().position(|&b| b == b'\n');
    let line = match line_end {
        Some(end) => &window[..end],
        None => window,
    };
    let rest = line.get(method.len() + 1..).unwrap_or_default();
    if find(line, b" HTTP/1.").is_some() {
        return true;
    }
    // A request line cut by the end of the captured bytes: accept an origin-form or
    // absolute-form target with no space or control bytes yet.
    line_end.is_none()
        && (rest.starts_with(b"/") || rest.starts_with(b"http://") || rest.starts_with(b"*"))
        && rest.iter().all(|&b| b > b' ' && b != 0x7f)
}

/// Whether `server` opens with an HTTP/1.x status line (`HTTP/1.x SP ddd`).
pub fn looks_like_http_response(server: &[u8]) -> bool {
    server.len() >= 12
        && server.starts_with(b"HTTP/1.")
        && server[7].is_ascii_digit()
        && server[8] == b' '
        && server[9..12].iter().all(u8::is_ascii_digit)
}

/// Position of `needle` in `hay` (linear time, whatever the needle).
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

/// `bytes` as text: at most `cap` bytes, invalid UTF-8 replaced by U+FFFD.
pub(crate) fn text(bytes: &[u8], cap: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(cap)]).into_owned()
}

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Whether `value` looks like base64 data rather than a word or a number: at least `min_len`
/// characters (not counting `=` padding) from the standard or URL-safe alphabet, percent-escapes of
/// `+`, `/` and `=` allowed (form bodies carry them so), with upper case, lower case and digits all
/// present. Session identifiers in hex or plain words fail the mixed-case test.
pub fn base64_like(value: &[u8], min_len: usize) -> bool {
    let (mut upper, mut lower, mut digit, mut len) = (false, false, false, 0usize);
    let mut i = 0;
    let mut padding = false;
    while i < value.len() {
        let b = value[i];
        let mut step = 1;
        let symbol = if b == b'%' {
            // %2B, %2F, %3D (either case) stand for '+', '/', '='.
            let esc = value.get(i + 1..i + 3).unwrap_or_default();
            step = 3;
            match esc {
                [b'2', b'b' | b'B'] => b'+',
                [b'2', b'f' | b'F'] => b'/',
                [b'3', b'd' | b'D'] => b'=',
                _ => return false,
            }
        } else {
            b
        };
        match symbol {
            b'=' => padding = true,
            _ if padding => return false,
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => digit = true,
            b'+' | b'/' | b'-' | b'_' => {}
            _ => return false,
        }
        if symbol != b'=' {
            len += 1;
        }
        i += step;
    }
    len >= min_len && upper && lower && digit
}

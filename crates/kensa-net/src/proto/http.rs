//! HTTP/1.x heads in a reassembled TCP stream: every request in the client bytes (keep-alive and
//! pipelining: several per connection) and every response in the server bytes.
//!
//! Heads are parsed with `httparse`; bodies are skipped by `Content-Length` or by walking the chunked
//! encoding, and the first [`BODY_PEEK`] bytes of a request body are looked at to describe its shape
//! (single `key=base64` form field, multipart parts). A message whose body runs past the end of the
//! captured bytes is still returned; the scan then ends with [`ScanEnd::BodyCut`].
//!
//! The helpers at the end ([`HttpRequest::traits`], [`host_is_ip_literal`], …) describe the request
//! shapes of Emotet C2 (spec `network.md` §4: IP-literal `Host`, POST of a form body, random
//! lower-case path segments ending in `/`, the MSIE 7.0 / Trident user agent, a `Referer` equal to
//! the request's own URL, base64 cookies) and the TrickBot path tails `/81/`, `/83/`, `/90`. They
//! return facts; scoring is the caller's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use httparse::Status;

use super::{base64_like, find, text};

/// Header slots handed to `httparse`; a head with more headers is reported as malformed.
pub const MAX_HEADERS: usize = 96;
/// Longest head (request/status line and headers) looked for; a longer one is malformed.
pub const MAX_HEAD: usize = 64 * 1024;
/// Longest text kept from a header value, method, URI or reason phrase (bytes).
pub const MAX_TEXT: usize = 2048;
/// Cookies kept per request (the rest are counted in [`HttpRequest::cookie_count`]).
pub const MAX_COOKIES: usize = 32;
/// Chunks walked in one chunked body before giving up.
pub const MAX_CHUNKS: usize = 4096;
/// Bytes of a request body inspected for its shape.
pub const BODY_PEEK: usize = 64 * 1024;
/// Cookie values at least this long that pass [`base64_like`] are flagged.
pub const COOKIE_BASE64_MIN: usize = 32;
/// Form values at least this long that pass [`base64_like`] make a "random=base64" body.
pub const FORM_BASE64_MIN: usize = 16;

/// Why a stream could not be read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("malformed HTTP head at offset {offset}: {source}")]
    Head {
        offset: usize,
        source: httparse::Error,
    },
    #[error("HTTP head at offset {offset} is longer than {MAX_HEAD} bytes")]
    HeadTooLong { offset: usize },
    #[error("invalid Content-Length in the message at offset {offset}")]
    ContentLength { offset: usize },
    #[error("invalid chunk size line at offset {offset}")]
    ChunkSize { offset: usize },
    #[error("chunked body of the message at offset {offset} has more than {MAX_CHUNKS} chunks")]
    TooManyChunks { offset: usize },
    #[error("chunk data at offset {offset} is not followed by CRLF")]
    ChunkEnd { offset: usize },
}

/// Where and why a scan of a stream stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanEnd {
    /// Every byte was accounted for.
    Complete,
    /// `max` messages were read; more bytes start at `offset`.
    Limit { offset: usize },
    /// The data ends inside the head that starts at `offset`.
    HeadCut { offset: usize },
    /// The data ends inside the body of the message that starts at `offset`.
    BodyCut { offset: usize },
    /// The response at `offset` has no length: its body runs to the end of the connection.
    BodyToClose { offset: usize },
    /// The message at `offset` switched protocols (`CONNECT`, `101`): the rest is not HTTP.
    Tunnel { offset: usize },
    /// The bytes could not be read as HTTP.
    Malformed(HttpError),
}

/// The messages read from one direction, and why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpScan<T> {
    pub messages: Vec<T>,
    pub end: ScanEnd,
}

/// One cookie of a `Cookie` header: its name and the length of its value (the value itself is not
/// kept: it may be a session secret or, for Emotet, the C2 payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value_len: usize,
    /// The value passes [`base64_like`] with at least [`COOKIE_BASE64_MIN`] characters.
    pub base64_like: bool,
}

/// What a request body looks like, from its first [`BODY_PEEK`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyShape {
    /// No body (or an empty one).
    Empty,
    /// `application/x-www-form-urlencoded` with one field whose value looks like base64:
    /// `random=base64` (Emotet 2019–2021).
    FormSingleBase64 {
        key: String,
        value_len: usize,
        /// The key equals the last segment of the request path (the 2021 urlencoded Emotet POSTs).
        key_matches_path: bool,
    },
    /// Another urlencoded form, with its field count.
    Form { fields: usize },
    /// `multipart/form-data`: parts delimited by the boundary, and how many carry a `filename`.
    Multipart { parts: usize, file_parts: usize },
    /// Anything else.
    Opaque,
}

/// How much of a body was present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyInfo {
    /// Body length as framed: Content-Length, the sum of chunk sizes, or the bytes up to the end for
    /// a response delimited by close. `None` when the data ended before the framing was known.
    pub length: Option<u64>,
    /// Body bytes present in the data.
    pub captured: u64,
    pub shape: BodyShape,
}

/// One request head (and facts about its body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Offset of the request line in the client bytes.
    pub offset: usize,
    /// Length of the head, blank line included.
    pub head_len: usize,
    pub method: String,
    pub uri: String,
    /// `x` of HTTP/1.x.
    pub minor_version: u8,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    /// `boundary` parameter of a `multipart/…` content type.
    pub multipart_boundary: Option<String>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub referer: Option<String>,
    /// The first [`MAX_COOKIES`] cookies of all `Cookie` headers.
    pub cookies: Vec<Cookie>,
    /// All cookies, including those not kept.
    pub cookie_count: usize,
    pub header_count: usize,
    pub body: BodyInfo,
}

/// One response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Offset of the status line in the server bytes.
    pub offset: usize,
    pub head_len: usize,
    pub minor_version: u8,
    pub status: u16,
    pub reason: String,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub server: Option<String>,
    pub location: Option<String>,
    pub set_cookie_count: usize,
    pub header_count: usize,
    pub body: BodyInfo,
}

/// Requests and responses of one connection, responses framed with the knowledge of the requests
/// (a response to `HEAD` has no body whatever its Content-Length says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpExchange {
    pub requests: HttpScan<HttpRequest>,
    pub responses: HttpScan<HttpResponse>,
}

impl HttpExchange {
    /// The response to request `index` (interim `1xx` responses skipped), if one was read.
    pub fn response_to(&self, index: usize) -> Option<&HttpResponse> {
        self.responses
            .messages
            .iter()
            .filter(|r| !(100..200).contains(&r.status) || r.status == 101)
            .nth(index)
    }
}

/// Facts about a request that Emotet/TrickBot C2 traffic shares (spec `network.md` §4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequestTraits {
    /// No `Host` header.
    pub missing_host: bool,
    /// `Host` is an IP address or IP:port ([`host_is_ip_literal`]).
    pub host_ip_literal: bool,
    /// POST with `multipart/form-data` or `application/x-www-form-urlencoded`.
    pub post_form: bool,
    /// The body is a single urlencoded `random=base64` field.
    pub body_random_base64: bool,
    /// The path is one or more random-looking lower-case alphanumeric segments ending in `/`
    /// ([`random_lower_alnum_path`]).
    pub random_lower_alnum_path: bool,
    /// `User-Agent` claims MSIE 7.0 together with a Trident engine token.
    pub msie7_trident_ua: bool,
    /// `Referer` names this request's own host and path ([`referer_is_self`]).
    pub referer_is_self: bool,
    /// A cookie value looks like base64 data.
    pub cookie_base64: bool,
    /// The path ends in a TrickBot command tail: `/81/`, `/83/` or `/90`.
    pub trickbot_path_tail: Option<&'static str>,
}

impl HttpRequest {
    /// The Emotet/TrickBot request traits of this request.
    pub fn traits(&self) -> HttpRequestTraits {
        let is_post = self.method.eq_ignore_ascii_case("POST");
        let form = self.content_type.as_deref().is_some_and(|ct| {
            let ct = ct.trim_start().to_ascii_lowercase();
            ct.starts_with("multipart/form-data")
                || ct.starts_with("application/x-www-form-urlencoded")
        });
        HttpRequestTraits {
            missing_host: self.host.is_none(),
            host_ip_literal: self.host.as_deref().is_some_and(host_is_ip_literal),
            post_form: is_post && form,
            body_random_base64: matches!(self.body.shape, BodyShape::FormSingleBase64 { .. }),
            random_lower_alnum_path: random_lower_alnum_path(&self.uri),
            msie7_trident_ua: self.user_agent.as_deref().is_some_and(msie7_trident),
            referer_is_self: match (&self.referer, &self.host) {
                (Some(referer), Some(host)) => referer_is_self(referer, host, &self.uri),
                _ => false,
            },
            cookie_base64: self.cookies.iter().any(|c| c.base64_like),
            trickbot_path_tail: trickbot_path_tail(&self.uri),
        }
    }
}

/// The length of a head httparse read at `pos`, or why reading stops there: cut short, longer
/// than the head window (`capped`), or malformed.
fn head_length(
    parsed: httparse::Result<usize>,
    capped: bool,
    pos: usize,
) -> Result<usize, ScanEnd> {
    match parsed {
        Ok(Status::Complete(n)) => Ok(n),
        Ok(Status::Partial) if capped => {
            Err(ScanEnd::Malformed(HttpError::HeadTooLong { offset: pos }))
        }
        Ok(Status::Partial) => Err(ScanEnd::HeadCut { offset: pos }),
        Err(source) => Err(ScanEnd::Malformed(HttpError::Head {
            offset: pos,
            source,
        })),
    }
}

/// Reads up to `max` request heads from the client bytes of one connection.
pub fn http_requests(client: &[u8], max: usize) -> HttpScan<HttpRequest> {
    let mut messages = Vec::new();
    let mut pos = skip_blank_lines(client, 0);
    let end = loop {
        if pos >= client.len() {
            break ScanEnd::Complete;
        }
        if messages.len() >= max {
            break ScanEnd::Limit { offset: pos };
        }
        let (window, capped) = head_window(client, pos);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let head_len = match head_length(req.parse(window), capped, pos) {
            Ok(n) => n,
            Err(end) => break end,
        };
        let fields = HeadFields::read(req.headers, pos);
        let method = req.method.unwrap_or_default();
        let uri = req.path.unwrap_or_default();
        let body_start = pos.saturating_add(head_len);
        // RFC 9112 §6.3: a request without Content-Length or chunking has no body.
        let framing = if fields.chunked {
            Framing::Chunked
        } else if fields.length_error.is_some() {
            Framing::Unknown
        } else {
            Framing::Length(fields.content_length.unwrap_or(0))
        };
        let body = read_body(client, body_start, framing, pos);
        let shape = match &body.peek {
            Some(peek) => body_shape(peek, fields.content_type.as_deref(), uri),
            None => BodyShape::Empty,
        };
        let mut cookies = Vec::new();
        let mut cookie_count = 0usize;
        for value in &fields.cookie_values {
            for item in value.split(|&b| b == b';') {
                let item = trim(item);
                if item.is_empty() {
                    continue;
                }
                cookie_count += 1;
                if cookies.len() < MAX_COOKIES {
                    let (name, value) = match item.iter().position(|&b| b == b'=') {
                        Some(eq) => (&item[..eq], &item[eq + 1..]),
                        None => (item, &b""[..]),
                    };
                    cookies.push(Cookie {
                        name: text(trim(name), MAX_TEXT),
                        value_len: value.len(),
                        base64_like: base64_like(trim_quotes(value), COOKIE_BASE64_MIN),
                    });
                }
            }
        }
        messages.push(HttpRequest {
            offset: pos,
            head_len,
            method: text(method.as_bytes(), MAX_TEXT),
            uri: text(uri.as_bytes(), MAX_TEXT),
            minor_version: req.version.unwrap_or(1),
            multipart_boundary: fields.content_type.as_deref().and_then(multipart_boundary),
            host: fields.host,
            user_agent: fields.user_agent,
            content_type: fields.content_type,
            content_length: fields.content_length,
            chunked: fields.chunked,
            referer: fields.referer,
            cookies,
            cookie_count,
            header_count: req.headers.len(),
            body: BodyInfo {
                length: body.length,
                captured: body.captured,
                shape,
            },
        });
        if method.eq_ignore_ascii_case("CONNECT") {
            break ScanEnd::Tunnel { offset: pos };
        }
        match body.next {
            Next::At(next) => pos = skip_blank_lines(client, next),
            Next::Cut => break ScanEnd::BodyCut { offset: pos },
            Next::ToClose => break ScanEnd::BodyToClose { offset: pos },
            Next::Error(e) => break ScanEnd::Malformed(e),
        }
    };
    HttpScan { messages, end }
}

/// Reads up to `max` response heads from the server bytes of one connection, assuming no request
/// was `HEAD` (use [`http_exchange`] when the client bytes are at hand).
pub fn http_responses(server: &[u8], max: usize) -> HttpScan<HttpResponse> {
    responses(server, max, &[])
}

/// Reads up to `max` requests and `max` responses of one connection.
pub fn http_exchange(client: &[u8], server: &[u8], max: usize) -> HttpExchange {
    let requests = http_requests(client, max);
    let head: Vec<bool> = requests
        .messages
        .iter()
        .map(|r| r.method.eq_ignore_ascii_case("HEAD"))
        .collect();
    let responses = responses(server, max, &head);
    HttpExchange {
        requests,
        responses,
    }
}

fn responses(server: &[u8], max: usize, head_requests: &[bool]) -> HttpScan<HttpResponse> {
    let mut messages = Vec::new();
    let mut pos = skip_blank_lines(server, 0);
    // Index of the request the next final response answers.
    let mut answered = 0usize;
    let end = loop {
        if pos >= server.len() {
            break ScanEnd::Complete;
        }
        if messages.len() >= max {
            break ScanEnd::Limit { offset: pos };
        }
        let (window, capped) = head_window(server, pos);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let head_len = match head_length(resp.parse(window), capped, pos) {
            Ok(n) => n,
            Err(end) => break end,
        };
        let fields = HeadFields::read(resp.headers, pos);
        let status = resp.code.unwrap_or(0);
        let interim = (100..200).contains(&status) && status != 101;
        let to_head = !interim && head_requests.get(answered).copied().unwrap_or(false);
        if !interim {
            answered = answered.saturating_add(1);
        }
        // RFC 9112 §6.3: 1xx, 204, 304 and answers to HEAD have no body.
        let framing = if interim || status == 101 || status == 204 || status == 304 || to_head {
            Framing::Length(0)
        } else if fields.chunked {
            Framing::Chunked
        } else if fields.length_error.is_some() {
            Framing::Unknown
        } else if let Some(len) = fields.content_length {
            Framing::Length(len)
        } else {
            Framing::ToClose
        };
        let body_start = pos.saturating_add(head_len);
        let body = read_body(server, body_start, framing, pos);
        messages.push(HttpResponse {
            offset: pos,
            head_len,
            minor_version: resp.version.unwrap_or(1),
            status,
            reason: text(resp.reason.unwrap_or_default().as_bytes(), MAX_TEXT),
            content_type: fields.content_type,
            content_length: fields.content_length,
            chunked: fields.chunked,
            server: fields.server,
            location: fields.location,
            set_cookie_count: fields.set_cookie_count,
            header_count: resp.headers.len(),
            body: BodyInfo {
                length: body.length,
                captured: body.captured,
                shape: if body.peek.is_some() {
                    BodyShape::Opaque
                } else {
                    BodyShape::Empty
                },
            },
        });
        if status == 101 {
            break ScanEnd::Tunnel { offset: pos };
        }
        match body.next {
            Next::At(next) => pos = skip_blank_lines(server, next),
            Next::Cut => break ScanEnd::BodyCut { offset: pos },
            Next::ToClose => break ScanEnd::BodyToClose { offset: pos },
            Next::Error(e) => break ScanEnd::Malformed(e),
        }
    };
    HttpScan { messages, end }
}

/// The header values a head is read for.
#[derive(Default)]
struct HeadFields<'a> {
    host: Option<String>,
    user_agent: Option<String>,
    content_type: Option<String>,
    content_length: Option<u64>,
    chunked: bool,
    referer: Option<String>,
    server: Option<String>,
    location: Option<String>,
    cookie_values: Vec<&'a [u8]>,
    set_cookie_count: usize,
    /// A Content-Length that is not a number, or two that differ: the framing is unknown.
    length_error: Option<HttpError>,
}

impl<'a> HeadFields<'a> {
    fn read(headers: &[httparse::Header<'a>], offset: usize) -> Self {
        let mut f = HeadFields::default();
        for h in headers {
            let name = h.name;
            let value = trim(h.value);
            let keep = || Some(text(value, MAX_TEXT));
            if name.eq_ignore_ascii_case("host") {
                f.host = f.host.or_else(keep);
            } else if name.eq_ignore_ascii_case("user-agent") {
                f.user_agent = f.user_agent.or_else(keep);
            } else if name.eq_ignore_ascii_case("content-type") {
                f.content_type = f.content_type.or_else(keep);
            } else if name.eq_ignore_ascii_case("referer") {
                f.referer = f.referer.or_else(keep);
            } else if name.eq_ignore_ascii_case("server") {
                f.server = f.server.or_else(keep);
            } else if name.eq_ignore_ascii_case("location") {
                f.location = f.location.or_else(keep);
            } else if name.eq_ignore_ascii_case("cookie") {
                f.cookie_values.push(value);
            } else if name.eq_ignore_ascii_case("set-cookie") {
                f.set_cookie_count = f.set_cookie_count.saturating_add(1);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                // Chunked only when it is the final coding (RFC 9112 §6.3).
                let last = value
                    .rsplit(|&b| b == b',')
                    .next()
                    .map(trim)
                    .unwrap_or_default();
                f.chunked = last.eq_ignore_ascii_case(b"chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                // Several equal values (or a list of equal values) are tolerated; differing ones
                // leave the framing unknown.
                for part in value.split(|&b| b == b',') {
                    match parse_decimal(trim(part)) {
                        Some(len) if f.content_length.is_none_or(|prev| prev == len) => {
                            f.content_length = Some(len);
                        }
                        _ => f.length_error = Some(HttpError::ContentLength { offset }),
                    }
                }
            }
        }
        f
    }
}

enum Framing {
    Length(u64),
    Chunked,
    ToClose,
    /// Content-Length unusable: the end of the body cannot be found.
    Unknown,
}

enum Next {
    /// The next message starts here.
    At(usize),
    /// The data ends inside the body.
    Cut,
    /// The body runs to the end of the connection.
    ToClose,
    Error(HttpError),
}

struct Body {
    length: Option<u64>,
    captured: u64,
    /// The first [`BODY_PEEK`] body bytes (de-chunked), `None` for an empty body.
    peek: Option<Vec<u8>>,
    next: Next,
}

fn read_body(data: &[u8], start: usize, framing: Framing, msg_offset: usize) -> Body {
    let available = data.len().saturating_sub(start);
    let rest = data.get(start..).unwrap_or_default();
    match framing {
        Framing::Length(len) => {
            let present = usize::try_from(len).map_or(available, |l| l.min(available));
            let body = &rest[..present];
            let peek = (!body.is_empty()).then(|| body[..body.len().min(BODY_PEEK)].to_vec());
            let next = if (present as u64) < len {
                Next::Cut
            } else {
                Next::At(start + present)
            };
            Body {
                length: Some(len),
                captured: present as u64,
                peek,
                next,
            }
        }
        Framing::ToClose => {
            let peek = (!rest.is_empty()).then(|| rest[..rest.len().min(BODY_PEEK)].to_vec());
            Body {
                length: Some(available as u64),
                captured: available as u64,
                peek,
                next: Next::ToClose,
            }
        }
        Framing::Chunked => read_chunked(data, start, msg_offset),
        Framing::Unknown => Body {
            length: None,
            captured: 0,
            peek: None,
            next: Next::Error(HttpError::ContentLength { offset: msg_offset }),
        },
    }
}

/// Walks a chunked body (RFC 9112 §7.1) starting at `start`.
fn read_chunked(data: &[u8], start: usize, msg_offset: usize) -> Body {
    let mut pos = start;
    let mut total = 0u64;
    let mut captured = 0u64;
    let mut peek = Vec::new();
    let mut chunks = 0usize;
    let done = |length: Option<u64>, captured: u64, peek: Vec<u8>, next: Next| Body {
        length,
        captured,
        peek: (!peek.is_empty()).then_some(peek),
        next,
    };
    loop {
        if chunks >= MAX_CHUNKS {
            let e = HttpError::TooManyChunks { offset: msg_offset };
            return done(None, captured, peek, Next::Error(e));
        }
        chunks += 1;
        let rest = data.get(pos..).unwrap_or_default();
        let (line_len, size) = match httparse::parse_chunk_size(rest) {
            Ok(Status::Complete(v)) => v,
            Ok(Status::Partial) => return done(None, captured, peek, Next::Cut),
            Err(_) => {
                return done(
                    None,
                    captured,
                    peek,
                    Next::Error(HttpError::ChunkSize { offset: pos }),
                );
            }
        };
        pos = pos.saturating_add(line_len);
        if size == 0 {
            // Trailer section: header lines up to an empty line.
            return match end_of_trailers(data, pos) {
                Some(next) => done(Some(total), captured, peek, Next::At(next)),
                None => done(Some(total), captured, peek, Next::Cut),
            };
        }
        total = total.saturating_add(size);
        let available = data.len().saturating_sub(pos);
        let present = usize::try_from(size).map_or(available, |s| s.min(available));
        let chunk = data.get(pos..pos + present).unwrap_or_default();
        let room = BODY_PEEK.saturating_sub(peek.len());
        peek.extend_from_slice(&chunk[..chunk.len().min(room)]);
        captured = captured.saturating_add(present as u64);
        if (present as u64) < size {
            return done(None, captured, peek, Next::Cut);
        }
        pos += present;
        match data.get(pos..) {
            Some([b'\r', b'\n', ..]) => pos += 2,
            Some([b'\n', ..]) => pos += 1,
            Some([] | [b'\r']) | None => return done(None, captured, peek, Next::Cut),
            Some(_) => {
                return done(
                    None,
                    captured,
                    peek,
                    Next::Error(HttpError::ChunkEnd { offset: pos }),
                );
            }
        }
    }
}

/// Offset after the trailer section that starts at `pos`, or `None` when the data ends first.
fn end_of_trailers(data: &[u8], mut pos: usize) -> Option<usize> {
    let limit = pos.saturating_add(MAX_HEAD).min(data.len());
    while pos < limit {
        let line_end = data[pos..limit].iter().position(|&b| b == b'\n')?;
        let line = &data[pos..pos + line_end];
        pos += line_end + 1;
        if line.is_empty() || line == b"\r" {
            return Some(pos);
        }
    }
    None
}

/// The bytes a head may occupy from `pos`, and whether they were capped at [`MAX_HEAD`].
fn head_window(data: &[u8], pos: usize) -> (&[u8], bool) {
    let rest = data.get(pos..).unwrap_or_default();
    if rest.len() > MAX_HEAD {
        (&rest[..MAX_HEAD], true)
    } else {
        (rest, false)
    }
}

/// Skips CR/LF between messages (RFC 9112 §2.2 lets a recipient ignore them).
fn skip_blank_lines(data: &[u8], mut pos: usize) -> usize {
    while data.get(pos).is_some_and(|&b| b == b'\r' || b == b'\n') {
        pos += 1;
    }
    pos
}

fn body_shape(body: &[u8], content_type: Option<&str>, uri: &str) -> BodyShape {
    let ct = content_type
        .unwrap_or_default()
        .trim_start()
        .to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let body = trim(body);
        let fields = body.split(|&b| b == b'&').filter(|f| !f.is_empty()).count();
        if fields == 1
            && let Some(eq) = body.iter().position(|&b| b == b'=')
        {
            let (key, value) = (&body[..eq], &body[eq + 1..]);
            if (1..=64).contains(&key.len())
                && key.iter().all(u8::is_ascii_alphanumeric)
                && base64_like(value, FORM_BASE64_MIN)
            {
                let last_segment = path_of(uri).trim_end_matches('/').rsplit('/').next();
                return BodyShape::FormSingleBase64 {
                    key: text(key, MAX_TEXT),
                    value_len: value.len(),
                    key_matches_path: last_segment.is_some_and(|s| s.as_bytes() == key),
                };
            }
        }
        return BodyShape::Form { fields };
    }
    if ct.starts_with("multipart/")
        && let Some(boundary) = content_type.and_then(multipart_boundary)
    {
        return multipart_shape(body, boundary.as_bytes());
    }
    BodyShape::Opaque
}

/// Counts the parts of a multipart body (those starting within the inspected bytes).
fn multipart_shape(body: &[u8], boundary: &[u8]) -> BodyShape {
    let mut delimiter = Vec::with_capacity(boundary.len() + 2);
    delimiter.extend_from_slice(b"--");
    delimiter.extend_from_slice(boundary);
    let (mut parts, mut file_parts) = (0usize, 0usize);
    let mut pos = 0;
    while let Some(found) = find(&body[pos..], &delimiter) {
        let after = pos + found + delimiter.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        let line_end = body[after..].iter().position(|&b| b == b'\n');
        let headers_start = after + line_end.map_or(body.len() - after, |e| e + 1);
        let headers_end = find(&body[headers_start..], b"\r\n\r\n")
            .or_else(|| find(&body[headers_start..], b"\n\n"))
            .map_or(body.len(), |e| headers_start + e);
        parts += 1;
        if find(&body[headers_start..headers_end], b"filename=").is_some() {
            file_parts += 1;
        }
        pos = headers_end.max(after);
        if pos >= body.len() {
            break;
        }
    }
    BodyShape::Multipart { parts, file_parts }
}

/// The `boundary` parameter of a `multipart/…` content type, quotes removed.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    let (media, params) = content_type.split_once(';')?;
    if !media.trim().to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| {
            let v = v.trim();
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
                .to_string()
        })
    })
}

/// Whether a `Host` value is an IP address rather than a name: `a.b.c.d`, `a.b.c.d:port`,
/// `[v6]`, `[v6]:port`, or a bare IPv6 address.
pub fn host_is_ip_literal(host: &str) -> bool {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        return addr.parse::<Ipv6Addr>().is_ok() && (after.is_empty() || is_port(after));
    }
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    match host.rsplit_once(':') {
        Some((addr, port)) => addr.parse::<Ipv4Addr>().is_ok() && is_port_digits(port),
        None => false,
    }
}

fn is_port(s: &str) -> bool {
    s.strip_prefix(':').is_some_and(is_port_digits)
}

fn is_port_digits(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the path of `uri` is made of random-looking lower-case alphanumeric segments and ends
/// in `/`, as Emotet's 2020–2021 POSTs (`/7u0e9j2avwlvnuynyo/szcm27k/fzb067wy/`).
///
/// Every segment must be 3–40 characters of `[a-z0-9]`, and at least one segment of 5 or more
/// characters must mix letters and digits, so that `/blog/`, `/images/2020/` or `/wp-admin/` do
/// not match.
pub fn random_lower_alnum_path(uri: &str) -> bool {
    let path = path_of(uri);
    let Some(inner) = path.strip_prefix('/').and_then(|p| p.strip_suffix('/')) else {
        return false;
    };
    if inner.is_empty() {
        return false;
    }
    let segment_ok = |s: &str| {
        (3..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let mut mixed_long = false;
    for seg in inner.split('/') {
        if !segment_ok(seg) {
            return false;
        }
        mixed_long |= seg.len() >= 5
            && seg.bytes().any(|b| b.is_ascii_lowercase())
            && seg.bytes().any(|b| b.is_ascii_digit());
    }
    mixed_long
}

/// Whether a user agent claims MSIE 7.0 with a Trident token (Emotet's fixed UA since 2019).
pub fn msie7_trident(user_agent: &str) -> bool {
    user_agent.contains("MSIE 7.0") && user_agent.contains("Trident/")
}

/// Whether `referer` names the request's own host (port ignored) and path — Emotet sets
/// `Referer` to the C2 URL itself, with or without the `http://` scheme.
pub fn referer_is_self(referer: &str, host: &str, uri: &str) -> bool {
    let referer = referer.trim();
    let without_scheme = ["http://", "https://"]
        .iter()
        .find_map(|s| {
            referer
                .get(..s.len())
                .filter(|p| p.eq_ignore_ascii_case(s))
                .map(|_| &referer[s.len()..])
        })
        .unwrap_or(referer);
    let (ref_authority, ref_path) = match without_scheme.find('/') {
        Some(i) => without_scheme.split_at(i),
        None => (without_scheme, "/"),
    };
    let strip_port = |a: &str| -> String {
        let a = a.trim();
        if a.starts_with('[') {
            a.split_once(']')
                .map_or(a, |(h, _)| h)
                .trim_start_matches('[')
                .to_ascii_lowercase()
        } else {
            match a.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => {
                    h.to_ascii_lowercase()
                }
                _ => a.to_ascii_lowercase(),
            }
        }
    };
    // An absolute-form request target carries the authority itself.
    let own_path = match uri.find("://") {
        Some(i) => uri[i + 3..].find('/').map_or("/", |p| &uri[i + 3 + p..]),
        None => uri,
    };
    !host.trim().is_empty() && strip_port(ref_authority) == strip_port(host) && ref_path == own_path
}

/// The TrickBot command tail the path of `uri` ends in: `/81/`, `/83/` or `/90` (`/90/` counts as
/// `/90`).
pub fn trickbot_path_tail(uri: &str) -> Option<&'static str> {
    let path = path_of(uri);
    if path.ends_with("/81/") {
        Some("/81/")
    } else if path.ends_with("/83/") {
        Some("/83/")
    } else if path.ends_with("/90") || path.ends_with("/90/") {
        Some("/90")
    } else {
        None
    }
}

/// The path of a request target: query and fragment removed, authority of an absolute form
/// removed.
fn path_of(uri: &str) -> &str {
    let uri = match uri.find("://") {
        Some(i) => uri[i + 3..].find('/').map_or("/", |p| &uri[i + 3 + p..]),
        None => uri,
    };
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    &uri[..end]
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

fn trim_quotes(s: &[u8]) -> &[u8] {
    match s {
        [b'"', inner @ .., b'"'] => inner,
        _ => s,
    }
}

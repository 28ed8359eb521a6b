//! TLS handshakes: the ClientHello in the client bytes (JA3), the ServerHello (JA3S) and the server's
//! certificate chain in the server bytes.
//!
//! Handshake records are gathered first (a message may span several records, and a record may
//! hold several messages), up to [`MAX_CLIENT_HANDSHAKE`] / [`MAX_SERVER_HANDSHAKE`] bytes, stopping
//! at the first record of another type (ChangeCipherSpec, Alert, application data). Hello bodies
//! are decoded with `tls-parser`; the extension list is walked here so that every extension type
//! counts for JA3 even when `tls-parser` cannot decode its content. Certificates are decoded with
//! `x509-parser`.
//!
//! JA3 = `version,ciphers,extensions,groups,point_formats` (decimal, list items joined by `-`,
//! GREASE values `0x?a?a` removed from every list), JA3S = `version,cipher,extensions`, each with its
//! MD5 (salesforce/ja3 definition; spec `network.md` §8).
//!
//! In TLS 1.3 the server's Certificate message is encrypted: a ServerHello selecting 1.3 yields
//! [`Certificates::EncryptedTls13`], not an empty chain. Signatures are not verified (a
//! self-signed certificate is recognised by its subject being its issuer).

use md5::{Digest as _, Md5};
use sha1::Sha1;
use tls_parser::TlsExtension;

use super::{hex, text};

/// Handshake bytes gathered from the client before giving up on a ClientHello.
pub const MAX_CLIENT_HANDSHAKE: usize = 64 * 1024;
/// Handshake bytes gathered from the server (ServerHello, certificate chain, key exchange).
pub const MAX_SERVER_HANDSHAKE: usize = 256 * 1024;
/// Certificates of a chain decoded (the rest are counted).
pub const MAX_CERTS: usize = 10;
/// Handshake messages of the server looked at.
pub const MAX_SERVER_MESSAGES: usize = 32;
/// Names kept from a certificate's subjectAltName or a ClientHello's ALPN list.
pub const MAX_NAMES: usize = 32;
/// Longest text kept from a name (SNI, subject, issuer, SAN entry).
pub const MAX_TEXT: usize = 1024;
/// Largest record body allowed (2^14 plus the 2,048 bytes of expansion RFC 5246 allows).
const MAX_RECORD_BODY: usize = 16384 + 2048;

/// SHA-1 of Cobalt Strike's default team-server certificate (Elastic prebuilt rule).
pub const COBALT_STRIKE_SHA1: &str = "6ece5ece4192683d2d84e25b0ba7e04f9cb7eb7c";
/// MD5 of the same certificate.
pub const COBALT_STRIKE_MD5: &str = "950098276a495286eb2a2556fbab6d83";
/// Serial number of the same certificate (0x08BB00EE).
pub const COBALT_STRIKE_SERIAL: [u8; 4] = [0x08, 0xbb, 0x00, 0xee];

/// The `random` of a ServerHello that is a HelloRetryRequest (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

const RECORD_HANDSHAKE: u8 = 22;
const HS_CLIENT_HELLO: u8 = 1;
const HS_SERVER_HELLO: u8 = 2;
const HS_CERTIFICATE: u8 = 11;
const HS_SERVER_HELLO_DONE: u8 = 14;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_ALPN: u16 = 16;
const TLS13: u16 = 0x0304;

/// What went wrong reading a handshake. Offsets named "stream" count from the start of the bytes
/// given; "handshake" offsets count in the handshake bytes gathered from the records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("SSL 2.0 ClientHello (JA3 is defined for SSL 3.0 and later)")]
    Sslv2Hello,
    #[error(
        "TLS record at stream offset {offset}: bad header (type {content_type}, version {version:#06x})"
    )]
    RecordHeader {
        offset: usize,
        content_type: u8,
        version: u16,
    },
    #[error("TLS record at stream offset {offset}: length {len} exceeds 18,432")]
    RecordTooLong { offset: usize, len: usize },
    #[error("no handshake record: the stream starts with record type {content_type}")]
    NoHandshake { content_type: u8 },
    #[error(
        "handshake message at handshake offset {offset} needs {need} bytes, only {have} captured"
    )]
    Truncated {
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("handshake message at handshake offset {offset} is longer than the {limit}-byte limit")]
    TooLarge { offset: usize, limit: usize },
    #[error("handshake message at handshake offset {offset} has type {found}, expected {expected}")]
    UnexpectedMessage {
        offset: usize,
        found: u8,
        expected: &'static str,
    },
    #[error("malformed {what} at handshake offset {offset}")]
    Malformed { what: &'static str, offset: usize },
    #[error("certificate {index} of the chain: {reason}")]
    Certificate { index: usize, reason: String },
}

/// A decoded ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// Version in the first record header.
    pub record_version: u16,
    /// `legacy_version` of the ClientHello (771 = TLS 1.2), the JA3 version.
    pub version: u16,
    /// Cipher suites in order, GREASE included.
    pub ciphers: Vec<u16>,
    /// Extension types in order, GREASE included.
    pub extensions: Vec<u16>,
    /// `supported_groups` (elliptic curves), GREASE included.
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    /// `supported_versions`, GREASE included.
    pub supported_versions: Vec<u16>,
    /// First host name of the `server_name` extension.
    pub sni: Option<String>,
    /// ALPN protocol names offered (at most [`MAX_NAMES`]).
    pub alpn: Vec<String>,
    pub session_id_len: usize,
    /// Extension types whose content `tls-parser` could not decode (they still count for JA3).
    pub undecoded_extensions: Vec<u16>,
}

/// Whether a 16-bit value is a GREASE value (RFC 8701: 0x0a0a, 0x1a1a, … 0xfafa).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&item.to_string());
    }
    out
}

fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

impl ClientHello {
    /// The JA3 string.
    pub fn ja3(&self) -> String {
        let clean = |v: &[u16]| join(v.iter().copied().filter(|&x| !is_grease(x)));
        format!(
            "{},{},{},{},{}",
            self.version,
            clean(&self.ciphers),
            clean(&self.extensions),
            clean(&self.groups),
            join(self.point_formats.iter())
        )
    }

    /// MD5 of [`Self::ja3`], lower-case hex.
    pub fn ja3_md5(&self) -> String {
        md5_hex(self.ja3().as_bytes())
    }

    /// Whether TLS 1.3 is offered.
    pub fn offers_tls13(&self) -> bool {
        self.supported_versions.contains(&TLS13)
    }
}

/// A decoded ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub record_version: u16,
    /// `legacy_version` (771 for TLS 1.2 and 1.3), the JA3S version.
    pub version: u16,
    pub cipher: u16,
    /// Extension types in order.
    pub extensions: Vec<u16>,
    /// The version chosen through `supported_versions` (TLS 1.3), if the extension is there.
    pub selected_version: Option<u16>,
    /// ALPN protocol chosen.
    pub alpn: Option<String>,
    /// The ServerHello is a TLS 1.3 HelloRetryRequest.
    pub hello_retry_request: bool,
}

impl ServerHello {
    /// The JA3S string (`version,cipher,extensions`, GREASE removed from the extensions).
    pub fn ja3s(&self) -> String {
        format!(
            "{},{},{}",
            self.version,
            self.cipher,
            join(self.extensions.iter().copied().filter(|&x| !is_grease(x)))
        )
    }

    /// MD5 of [`Self::ja3s`], lower-case hex.
    pub fn ja3s_md5(&self) -> String {
        md5_hex(self.ja3s().as_bytes())
    }

    /// Whether the session is TLS 1.3 (certificates then travel encrypted).
    pub fn is_tls13(&self) -> bool {
        self.selected_version == Some(TLS13)
    }
}

/// Facts about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub der_len: usize,
    /// Subject as an RFC 4514-style string.
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// Serial number, big-endian hex without leading zero bytes.
    pub serial: String,
    /// notBefore / notAfter, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// SHA-1 and MD5 of the DER, lower-case hex.
    pub sha1: String,
    pub md5: String,
    /// Subject and issuer are the same name (byte-for-byte DER). The signature is not checked.
    pub self_signed: bool,
    /// DNS names and IP addresses of subjectAltName (at most [`MAX_NAMES`]).
    pub san: Vec<String>,
    /// SHA-1 or MD5 equals Cobalt Strike's default team-server certificate.
    pub cobalt_strike_default: bool,
    /// The serial is 0x08BB00EE, the default certificate's (weaker alone: any issuer may use it).
    pub cobalt_strike_serial: bool,
}

/// What the server's bytes say about certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Certificates {
    /// A Certificate message (TLS ≤ 1.2): the chain, leaf first, each certificate decoded or the
    /// error that stopped it; `total` counts the certificates beyond [`MAX_CERTS`] too.
    Chain {
        total: usize,
        certs: Vec<Result<CertInfo, TlsError>>,
    },
    /// TLS 1.3 was selected: the Certificate message is encrypted and cannot be read.
    EncryptedTls13,
    /// No Certificate message among the server's plaintext handshake messages (resumed session,
    /// anonymous or PSK suite, or the capture ends first).
    NotSeen,
    /// A Certificate message was there but could not be read.
    Unreadable(TlsError),
}

/// What the server sent in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSide {
    pub hello: ServerHello,
    pub certificates: Certificates,
    /// Types of the plaintext handshake messages seen, in order (at most [`MAX_SERVER_MESSAGES`]).
    pub messages: Vec<u8>,
}

impl ServerSide {
    /// The leaf certificate, when it was read.
    pub fn leaf(&self) -> Option<&CertInfo> {
        match &self.certificates {
            Certificates::Chain { certs, .. } => certs.first().and_then(|c| c.as_ref().ok()),
            _ => None,
        }
    }
}

/// Whether `client` opens with a TLS handshake record or an SSL 2.0 ClientHello.
pub fn looks_like_tls(client: &[u8]) -> bool {
    looks_like_tls_server(client) || looks_like_sslv2_hello(client)
}

/// Whether `data` opens with a TLS/SSL 3.0 handshake record header.
pub fn looks_like_tls_server(data: &[u8]) -> bool {
    matches!(data, [RECORD_HANDSHAKE, 3, 0..=4, ..])
}

/// Whether `data` opens with a plausible TLS record header of any type (ChangeCipherSpec, Alert,
/// Handshake, ApplicationData, Heartbeat), version SSL 3.0 to TLS 1.3, and a legal length.
pub fn looks_like_tls_record(data: &[u8]) -> bool {
    match data {
        [20..=24, 3, 0..=4, hi, lo, ..] => {
            usize::from(u16::from_be_bytes([*hi, *lo])) <= MAX_RECORD_BODY
        }
        _ => false,
    }
}

/// SSL 2.0 ClientHello: 2-byte header with the top bit set, message type 1, then a version from
/// 0x0002 to 0x0303.
fn looks_like_sslv2_hello(data: &[u8]) -> bool {
    matches!(data, [h, _, 1, 0, 2, ..] | [h, _, 1, 3, 0..=3, ..] if h & 0x80 != 0)
}

/// The ClientHello opening `client`: `None` when the bytes do not open with a TLS handshake record
/// (not TLS, or a TLS connection already running when the capture started — see
/// [`looks_like_tls_record`]). An SSL 2.0 ClientHello is `Some(Err(TlsError::Sslv2Hello))`.
pub fn tls_client_hello(client: &[u8]) -> Option<Result<ClientHello, TlsError>> {
    if looks_like_sslv2_hello(client) && !looks_like_tls_server(client) {
        return Some(Err(TlsError::Sslv2Hello));
    }
    if !looks_like_tls_server(client) {
        return None;
    }
    Some(client_hello(client))
}

/// The ServerHello and certificates opening `server`: `None` when the bytes do not open with a TLS
/// handshake record.
pub fn tls_server(server: &[u8]) -> Option<Result<ServerSide, TlsError>> {
    if !looks_like_tls_server(server) {
        return None;
    }
    Some(server_side(server))
}

/// Handshake bytes gathered from consecutive handshake records.
struct Gathered {
    bytes: Vec<u8>,
    record_version: u16,
    /// The records held more handshake bytes than the limit.
    over_limit: bool,
}

/// Gathers the bodies of the handshake records at the start of `stream`, stopping at the first
/// record of another type, at the end of the data (a cut record contributes what is there), at
/// `limit` bytes, or once `enough` says the gathered bytes suffice.
fn gather(
    stream: &[u8],
    limit: usize,
    enough: impl Fn(&[u8]) -> bool,
) -> Result<Gathered, TlsError> {
    let mut g = Gathered {
        bytes: Vec::new(),
        record_version: 0,
        over_limit: false,
    };
    let mut pos = 0usize;
    while let Some(header) = stream.get(pos..pos + 5) {
        let content_type = header[0];
        let version = u16::from_be_bytes([header[1], header[2]]);
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if header[1] != 3 || header[2] > 4 {
            if pos == 0 {
                return Err(TlsError::RecordHeader {
                    offset: pos,
                    content_type,
                    version,
                });
            }
            // Garbage after some handshake data: keep what was gathered.
            break;
        }
        if content_type != RECORD_HANDSHAKE {
            if pos == 0 {
                return Err(TlsError::NoHandshake { content_type });
            }
            break;
        }
        if len > MAX_RECORD_BODY {
            return Err(TlsError::RecordTooLong { offset: pos, len });
        }
        if pos == 0 {
            g.record_version = version;
        }
        let body_start = pos + 5;
        let body_end = body_start.saturating_add(len).min(stream.len());
        let body = &stream[body_start..body_end];
        let room = limit.saturating_sub(g.bytes.len());
        if body.len() > room {
            g.bytes.extend_from_slice(&body[..room]);
            g.over_limit = true;
            break;
        }
        g.bytes.extend_from_slice(body);
        if enough(&g.bytes) {
            break;
        }
        pos = body_start + len;
    }
    Ok(g)
}

/// One complete handshake message: type, offset in the handshake bytes, body.
#[derive(Clone, Copy)]
struct Message<'a> {
    kind: u8,
    offset: usize,
    body: &'a [u8],
}

/// The complete handshake messages (at most `max`), then why the walk stopped.
fn messages(
    hs: &[u8],
    over_limit: bool,
    limit: usize,
    max: usize,
) -> (Vec<Message<'_>>, Option<TlsError>) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < hs.len() && out.len() < max {
        let Some(h) = hs.get(pos..pos + 4) else {
            return (
                out,
                Some(TlsError::Truncated {
                    offset: pos,
                    need: 4,
                    have: hs.len() - pos,
                }),
            );
        };
        let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
        let start = pos + 4;
        let Some(body) = hs.get(start..start.saturating_add(len)) else {
            let have = hs.len() - start;
            let e = if over_limit {
                TlsError::TooLarge { offset: pos, limit }
            } else {
                TlsError::Truncated {
                    offset: pos,
                    need: len,
                    have,
                }
            };
            return (out, Some(e));
        };
        out.push(Message {
            kind: h[0],
            offset: pos,
            body,
        });
        pos = start + len;
    }
    (out, None)
}

fn client_hello(client: &[u8]) -> Result<ClientHello, TlsError> {
    // Enough once the first message is complete.
    let complete = |b: &[u8]| match b {
        [_, l0, l1, l2, ..] => {
            b.len() - 4 >= (usize::from(*l0) << 16 | usize::from(*l1) << 8 | usize::from(*l2))
        }
        _ => false,
    };
    let g = gather(client, MAX_CLIENT_HANDSHAKE, complete)?;
    let (msgs, err) = messages(&g.bytes, g.over_limit, MAX_CLIENT_HANDSHAKE, 1);
    let Some(&Message { kind, offset, body }) = msgs.first() else {
        return Err(err.unwrap_or(TlsError::Truncated {
            offset: 0,
            need: 4,
            have: 0,
        }));
    };
    if kind != HS_CLIENT_HELLO {
        return Err(TlsError::UnexpectedMessage {
            offset,
            found: kind,
            expected: "ClientHello",
        });
    }
    let malformed = |what| TlsError::Malformed { what, offset };
    let (rest, ch) =
        tls_parser::parse_tls_handshake_client_hello(body).map_err(|_| malformed("ClientHello"))?;
    if ch.ext.is_none() && !rest.is_empty() {
        return Err(malformed("ClientHello extensions block"));
    }
    let mut hello = ClientHello {
        record_version: g.record_version,
        version: ch.version.0,
        ciphers: ch.ciphers.iter().map(|c| c.0).collect(),
        extensions: Vec::new(),
        groups: Vec::new(),
        point_formats: Vec::new(),
        supported_versions: Vec::new(),
        sni: None,
        alpn: Vec::new(),
        session_id_len: ch.session_id.map_or(0, <[u8]>::len),
        undecoded_extensions: Vec::new(),
    };
    for raw in raw_extensions(ch.ext.unwrap_or_default(), offset)? {
        hello.extensions.push(raw.kind);
        match tls_parser::parse_tls_client_hello_extension(raw.whole) {
            Ok((_, ext)) => match ext {
                TlsExtension::SNI(names) => {
                    let host = names.iter().find(|(kind, _)| kind.0 == 0);
                    match host {
                        Some((_, name)) if hello.sni.is_none() => {
                            hello.sni = Some(text(name, MAX_TEXT));
                        }
                        Some(_) => {}
                        // tls-parser returns an empty list for a list it cannot split.
                        None => hello.undecoded_extensions.push(raw.kind),
                    }
                }
                TlsExtension::EllipticCurves(groups) => {
                    hello.groups = groups.iter().map(|g| g.0).collect();
                }
                TlsExtension::EcPointFormats(formats) => hello.point_formats = formats.to_vec(),
                TlsExtension::SupportedVersions(versions) => {
                    hello.supported_versions = versions.iter().map(|v| v.0).collect();
                }
                TlsExtension::ALPN(names) => {
                    hello.alpn = names
                        .iter()
                        .take(MAX_NAMES)
                        .map(|n| text(n, MAX_TEXT))
                        .collect();
                }
                _ => {}
            },
            Err(_) => hello.undecoded_extensions.push(raw.kind),
        }
    }
    Ok(hello)
}

/// One extension: its type, its data and the whole encoding (type and length included).
struct RawExtension<'a> {
    kind: u16,
    data: &'a [u8],
    whole: &'a [u8],
}

/// Splits an extensions block (without its 2-byte length) into extensions.
fn raw_extensions(block: &[u8], msg_offset: usize) -> Result<Vec<RawExtension<'_>>, TlsError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < block.len() {
        let Some(h) = block.get(pos..pos + 4) else {
            return Err(TlsError::Malformed {
                what: "extension header",
                offset: msg_offset,
            });
        };
        let kind = u16::from_be_bytes([h[0], h[1]]);
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let end = pos + 4 + len;
        let Some(data) = block.get(pos + 4..end) else {
            return Err(TlsError::Malformed {
                what: "extension length",
                offset: msg_offset,
            });
        };
        out.push(RawExtension {
            kind,
            data,
            whole: &block[pos..end],
        });
        pos = end;
    }
    Ok(out)
}

fn server_side(server: &[u8]) -> Result<ServerSide, TlsError> {
    // Enough once ServerHelloDone is in (TLS ≤ 1.2); TLS 1.3 stops at the first non-handshake record.
    let done = |b: &[u8]| {
        let (msgs, _) = messages(b, false, MAX_SERVER_HANDSHAKE, MAX_SERVER_MESSAGES);
        msgs.iter().any(|m| m.kind == HS_SERVER_HELLO_DONE) || msgs.len() >= MAX_SERVER_MESSAGES
    };
    let g = gather(server, MAX_SERVER_HANDSHAKE, done)?;
    let (msgs, walk_error) = messages(
        &g.bytes,
        g.over_limit,
        MAX_SERVER_HANDSHAKE,
        MAX_SERVER_MESSAGES,
    );
    let Some(&Message { kind, offset, body }) = msgs.first() else {
        return Err(walk_error.unwrap_or(TlsError::Truncated {
            offset: 0,
            need: 4,
            have: 0,
        }));
    };
    if kind != HS_SERVER_HELLO {
        return Err(TlsError::UnexpectedMessage {
            offset,
            found: kind,
            expected: "ServerHello",
        });
    }
    let (_, sh) =
        tls_parser::parse_tls_handshake_server_hello(body).map_err(|_| TlsError::Malformed {
            what: "ServerHello",
            offset,
        })?;
    let mut hello = ServerHello {
        record_version: g.record_version,
        version: sh.version.0,
        cipher: sh.cipher.0,
        extensions: Vec::new(),
        selected_version: None,
        alpn: None,
        hello_retry_request: sh.random == HELLO_RETRY_RANDOM,
    };
    for raw in raw_extensions(sh.ext.unwrap_or_default(), offset)? {
        hello.extensions.push(raw.kind);
        match (raw.kind, raw.data) {
            (EXT_SUPPORTED_VERSIONS, &[hi, lo]) => {
                hello.selected_version = Some(u16::from_be_bytes([hi, lo]));
            }
            // ALPN in a ServerHello: list length, then exactly one name.
            (EXT_ALPN, [_, _, n, name @ ..]) if usize::from(*n) == name.len() => {
                hello.alpn = Some(text(name, MAX_TEXT));
            }
            _ => {}
        }
    }
    let certificates = if hello.is_tls13() {
        Certificates::EncryptedTls13
    } else {
        match msgs.iter().find(|m| m.kind == HS_CERTIFICATE) {
            Some(m) => certificate_chain(m.body, m.offset),
            None => match walk_error {
                // The capture ends inside a message that may be the Certificate.
                Some(e) => Certificates::Unreadable(e),
                None => Certificates::NotSeen,
            },
        }
    };
    Ok(ServerSide {
        hello,
        certificates,
        messages: msgs.iter().map(|m| m.kind).collect(),
    })
}

fn certificate_chain(body: &[u8], offset: usize) -> Certificates {
    let chain = match tls_parser::parse_tls_handshake_msg_certificate(body) {
        Ok((_, tls_parser::TlsMessageHandshake::Certificate(c))) => c.cert_chain,
        _ => {
            return Certificates::Unreadable(TlsError::Malformed {
                what: "Certificate message",
                offset,
            });
        }
    };
    let certs = chain
        .iter()
        .take(MAX_CERTS)
        .enumerate()
        .map(|(i, c)| cert_info(c.data, i))
        .collect();
    Certificates::Chain {
        total: chain.len(),
        certs,
    }
}

/// Decodes one DER certificate.
pub fn cert_info(der: &[u8], index: usize) -> Result<CertInfo, TlsError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| TlsError::Certificate {
            index,
            reason: e.to_string(),
        })?;
    let tbs = &cert.tbs_certificate;
    let cn = |name: &x509_parser::x509::X509Name<'_>| {
        name.iter_common_name().next().map(|a| {
            a.as_str().map_or_else(
                |_| text(a.as_slice(), MAX_TEXT),
                |s| text(s.as_bytes(), MAX_TEXT),
            )
        })
    };
    let name_text = |name: &x509_parser::x509::X509Name<'_>| {
        let s = name.to_string();
        text(s.as_bytes(), MAX_TEXT)
    };
    let serial = {
        let raw = cert.raw_serial();
        let first = raw
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(raw.len().saturating_sub(1));
        raw.get(first..).unwrap_or_default()
    };
    let mut san = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in ext.value.general_names.iter().take(MAX_NAMES) {
            match name {
                x509_parser::extensions::GeneralName::DNSName(n) => {
                    san.push(text(n.as_bytes(), MAX_TEXT))
                }
                x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                    4 => san.push(format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])),
                    16 => {
                        let mut octets = [0u8; 16];
                        octets.copy_from_slice(ip);
                        san.push(std::net::Ipv6Addr::from(octets).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let sha1 = hex(&Sha1::digest(der));
    let md5 = md5_hex(der);
    Ok(CertInfo {
        der_len: der.len(),
        subject: name_text(tbs.subject()),
        issuer: name_text(tbs.issuer()),
        subject_cn: cn(tbs.subject()),
        issuer_cn: cn(tbs.issuer()),
        serial: hex(serial),
        not_before: tbs.validity().not_before.timestamp(),
        not_after: tbs.validity().not_after.timestamp(),
        self_signed: tbs.subject().as_raw() == tbs.issuer().as_raw(),
        san,
        cobalt_strike_default: sha1 == COBALT_STRIKE_SHA1 || md5 == COBALT_STRIKE_MD5,
        cobalt_strike_serial: serial == COBALT_STRIKE_SERIAL,
        sha1,
        md5,
    })
}

//! The records handed to the caller, and how each is built from one line's fields.

use std::net::IpAddr;

use crate::capture::{ConnEnd, ConnRecord, ConnState, Proto, is_internal};

use super::IssueKind;
use super::fields::F;
use super::source::{Get, Source};

/// One conn.log (or `open_conn`) line.
///
/// `conn` is the same record the capture path produces, so beacon scoring and the other
/// analytics take both alike:
/// * `conn.uid` is [`uid_hash`] of the Zeek uid string (kept in [`ZeekConn::uid`]); join http,
///   ssl, dns and smtp records to it with `uid_hash(&rec.uid)` or by the string. A line without a
///   uid gets `1 << 63 | line number` (never equal to a hash, which has the top bit clear).
/// * `local_orig` / `local_resp`: the logged value when set (Zeek's `Site::local_nets`), else
///   [`crate::capture::is_internal`] of the address, as the capture path does.
/// * unset `duration`, byte and packet counts are 0; an unset `history` is empty; an unset
///   `conn_state` is `OTH` (an unknown one too, with a field error).
/// * `end` is [`ConnEnd::Closed`] for conn.log (Zeek does not log why a connection was
///   removed) and [`ConnEnd::EndOfCapture`] for `open_conn`.
/// * the payload hook is empty: `first_*_payload` and `datagrams` are empty, the gaps `false`.
#[derive(Clone, Debug)]
pub struct ZeekConn {
    pub conn: ConnRecord,
    /// Zeek's uid (`CHhAvVGS1DHFjwGM9`); empty when the line had none.
    pub uid: String,
    /// Protocols Zeek recognised (`http`, `ssl,http`, …).
    pub service: Option<String>,
    /// Bytes Zeek saw as missing (lost packets / gaps).
    pub missed_bytes: u64,
    pub tunnel_parents: Vec<String>,
    /// From zeek-open-connections' `open_conn`: the connection was still open when logged.
    pub open: bool,
}

/// One dns.log line.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekDns {
    /// Epoch seconds.
    pub ts: f64,
    pub uid: String,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    /// `udp` or `tcp` (`None` when unset or another value).
    pub proto: Option<Proto>,
    pub trans_id: Option<u16>,
    /// Seconds from query to reply.
    pub rtt: Option<f64>,
    pub query: Option<String>,
    pub qclass: Option<u16>,
    pub qclass_name: Option<String>,
    pub qtype: Option<u16>,
    pub qtype_name: Option<String>,
    pub rcode: Option<u16>,
    pub rcode_name: Option<String>,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    /// Answer strings as Zeek writes them (addresses, names, `TXT 12 text…`).
    pub answers: Vec<String>,
    /// One TTL (seconds) per answer.
    pub ttls: Vec<f64>,
    pub rejected: bool,
}

/// One http.log (or `open_http`) line: one request/response pair.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekHttp {
    pub ts: f64,
    pub uid: String,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    /// Position of the request in the connection (1-based).
    pub trans_depth: Option<u64>,
    pub method: Option<String>,
    /// `Host` header value (may be a bare IP or `IP:port`).
    pub host: Option<String>,
    pub uri: Option<String>,
    pub referrer: Option<String>,
    pub version: Option<String>,
    pub user_agent: Option<String>,
    pub origin: Option<String>,
    /// Uncompressed body lengths (0 when unset).
    pub request_body_len: u64,
    pub response_body_len: u64,
    pub status_code: Option<u16>,
    pub status_msg: Option<String>,
    pub username: Option<String>,
    pub tags: Vec<String>,
    pub proxied: Vec<String>,
    pub orig_filenames: Vec<String>,
    /// MIME types of the request body as Zeek's file analysis sniffed them.
    pub orig_mime_types: Vec<String>,
    pub resp_filenames: Vec<String>,
    pub resp_mime_types: Vec<String>,
    /// From zeek-open-connections' `open_http`.
    pub open: bool,
}

/// One ssl.log (or `open_ssl`) line.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekSsl {
    pub ts: f64,
    pub uid: String,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    /// `TLSv12`, `TLSv13`, …
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub curve: Option<String>,
    /// SNI; `None` when the client sent none.
    pub server_name: Option<String>,
    pub resumed: bool,
    pub last_alert: Option<String>,
    pub next_protocol: Option<String>,
    pub established: bool,
    pub ssl_history: Option<String>,
    /// SHA-256 fingerprints of the server chain (Zeek ≥ 6), leaf first.
    pub cert_chain_fps: Vec<String>,
    pub client_cert_chain_fps: Vec<String>,
    /// Leaf certificate subject / issuer (RFC 2253-like strings, `CN=…,O=…`).
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub client_subject: Option<String>,
    pub client_issuer: Option<String>,
    pub sni_matches_cert: Option<bool>,
    /// OpenSSL's verdict from `validate-certs.zeek` (`ok`, `self signed certificate`, …).
    pub validation_status: Option<String>,
    /// JA3 / JA3S MD5s (salesforce/ja3 Zeek package).
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    /// From zeek-open-connections' `open_ssl`.
    pub open: bool,
}

impl ZeekSsl {
    /// Is the server's leaf certificate self-signed? `Some(true)` when `validation_status` is
    /// OpenSSL's depth-0 message (`self signed certificate`, or `self-signed certificate` in
    /// OpenSSL 3), or subject and issuer are the same non-empty string; `Some(false)` when either
    /// piece of evidence is there and says otherwise (`self signed certificate in certificate
    /// chain` is an untrusted self-signed **root**, not a self-signed leaf); `None` when the log
    /// has neither.
    pub fn self_signed(&self) -> Option<bool> {
        let status = self.validation_status.as_deref().map(|s| {
            let s = s.trim().to_ascii_lowercase();
            s == "self signed certificate" || s == "self-signed certificate"
        });
        let names = match (self.subject.as_deref(), self.issuer.as_deref()) {
            (Some(s), Some(i)) if !s.is_empty() && !i.is_empty() => Some(s == i),
            _ => None,
        };
        match (status, names) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (None, None) => None,
            _ => Some(false),
        }
    }
}

/// One smtp.log line: one message transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct ZeekSmtp {
    pub ts: f64,
    pub uid: String,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    pub trans_depth: Option<u64>,
    pub helo: Option<String>,
    pub mailfrom: Option<String>,
    pub rcptto: Vec<String>,
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub reply_to: Option<String>,
    pub msg_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub subject: Option<String>,
    pub x_originating_ip: Option<IpAddr>,
    pub first_received: Option<String>,
    pub second_received: Option<String>,
    pub last_reply: Option<String>,
    /// Hosts the message passed through (`Received` headers and the connection).
    pub path: Vec<String>,
    pub user_agent: Option<String>,
    /// STARTTLS was used.
    pub tls: bool,
    pub is_webmail: bool,
}

/// One record of a log the reader understands.
#[derive(Clone, Debug)]
pub enum ZeekRecord {
    Conn(ZeekConn),
    Dns(ZeekDns),
    Http(ZeekHttp),
    Ssl(ZeekSsl),
    Smtp(ZeekSmtp),
}

impl ZeekRecord {
    /// Epoch seconds of the record.
    pub fn ts(&self) -> f64 {
        match self {
            ZeekRecord::Conn(c) => c.conn.ts,
            ZeekRecord::Dns(r) => r.ts,
            ZeekRecord::Http(r) => r.ts,
            ZeekRecord::Ssl(r) => r.ts,
            ZeekRecord::Smtp(r) => r.ts,
        }
    }
}

/// Stable 63-bit hash of a Zeek uid (FNV-1a 64 with the top bit cleared), used as
/// [`ConnRecord::uid`] for conn.log records.
pub fn uid_hash(uid: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in uid.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h & !(1 << 63)
}

const CONN_STATES: [ConnState; 13] = [
    ConnState::S0,
    ConnState::S1,
    ConnState::Sf,
    ConnState::Rej,
    ConnState::S2,
    ConnState::S3,
    ConnState::Rsto,
    ConnState::Rstr,
    ConnState::Rstos0,
    ConnState::Rstrh,
    ConnState::Sh,
    ConnState::Shr,
    ConnState::Oth,
];

/// Zeek's `conn_state` spelling → [`ConnState`] (the inverse of [`ConnState::as_str`]).
pub fn parse_conn_state(s: &str) -> Option<ConnState> {
    let s = s.trim();
    CONN_STATES
        .iter()
        .copied()
        .find(|c| c.as_str().eq_ignore_ascii_case(s))
}

fn parse_proto(s: &str) -> Option<Proto> {
    match s.trim().to_ascii_lowercase().as_str() {
        "tcp" => Some(Proto::Tcp),
        "udp" => Some(Proto::Udp),
        "icmp" | "icmp6" | "icmpv6" => Some(Proto::Icmp),
        _ => None,
    }
}

struct Id {
    ts: f64,
    uid: String,
    orig_h: IpAddr,
    orig_p: u16,
    resp_h: IpAddr,
    resp_p: u16,
}

fn id<S: Source>(g: &mut Get<'_, S>) -> Result<Id, IssueKind> {
    Ok(Id {
        ts: g.req_time(F::Ts)?,
        uid: g.str(F::Uid).unwrap_or_default(),
        orig_h: g.req_addr(F::OrigH)?,
        orig_p: g.req_port(F::OrigP)?,
        resp_h: g.req_addr(F::RespH)?,
        resp_p: g.req_port(F::RespP)?,
    })
}

/// The record of one line; `Ok(None)` when a conn.log `proto` is `unknown_transport` (or another
/// protocol the capture types lack).
pub(super) fn build<S: Source>(
    g: &mut Get<'_, S>,
    kind: super::ZeekKind,
    open: bool,
    line: u64,
) -> Result<Option<ZeekRecord>, IssueKind> {
    use super::ZeekKind as K;
    let id = id(g)?;
    Ok(match kind {
        K::Conn => conn(g, id, open, line)?.map(ZeekRecord::Conn),
        K::Dns => Some(ZeekRecord::Dns(dns(g, id))),
        K::Http => Some(ZeekRecord::Http(http(g, id, open))),
        K::Ssl => Some(ZeekRecord::Ssl(ssl(g, id, open))),
        K::Smtp => Some(ZeekRecord::Smtp(smtp(g, id))),
    })
}

fn conn<S: Source>(
    g: &mut Get<'_, S>,
    id: Id,
    open: bool,
    line: u64,
) -> Result<Option<ZeekConn>, IssueKind> {
    let proto = match g.str(F::Proto) {
        Some(p) => parse_proto(&p),
        None => match g.u64(F::IpProto) {
            Some(6) => Some(Proto::Tcp),
            Some(17) => Some(Proto::Udp),
            Some(1 | 58) => Some(Proto::Icmp),
            Some(_) => None,
            None => return Err(IssueKind::Missing { field: "proto" }),
        },
    };
    let Some(proto) = proto else {
        return Ok(None);
    };
    let conn_state = match g.str(F::ConnState) {
        None => ConnState::Oth,
        Some(s) => match parse_conn_state(&s) {
            Some(c) => c,
            None => {
                g.errors.push(super::source::FieldError {
                    field: F::ConnState,
                    value: super::value::excerpt(s.as_bytes()),
                });
                ConnState::Oth
            }
        },
    };
    let local_orig = g
        .bool(F::LocalOrig)
        .unwrap_or_else(|| is_internal(id.orig_h));
    let local_resp = g
        .bool(F::LocalResp)
        .unwrap_or_else(|| is_internal(id.resp_h));
    let uid_num = if id.uid.is_empty() {
        1 << 63 | line
    } else {
        uid_hash(&id.uid)
    };
    let conn = ConnRecord {
        uid: uid_num,
        ts: id.ts,
        orig_h: id.orig_h,
        orig_p: id.orig_p,
        resp_h: id.resp_h,
        resp_p: id.resp_p,
        proto,
        duration: g.f64(F::Duration).unwrap_or(0.0).max(0.0),
        orig_bytes: g.u64(F::OrigBytes).unwrap_or(0),
        resp_bytes: g.u64(F::RespBytes).unwrap_or(0),
        conn_state,
        local_orig,
        local_resp,
        history: g.str(F::History).unwrap_or_default(),
        orig_pkts: g.u64(F::OrigPkts).unwrap_or(0),
        orig_ip_bytes: g.u64(F::OrigIpBytes).unwrap_or(0),
        resp_pkts: g.u64(F::RespPkts).unwrap_or(0),
        resp_ip_bytes: g.u64(F::RespIpBytes).unwrap_or(0),
        end: if open {
            ConnEnd::EndOfCapture
        } else {
            ConnEnd::Closed
        },
        first_orig_payload: Vec::new(),
        first_resp_payload: Vec::new(),
        orig_payload_gap: false,
        resp_payload_gap: false,
        datagrams: Vec::new(),
    };
    Ok(Some(ZeekConn {
        conn,
        uid: id.uid,
        service: g.str(F::Service),
        missed_bytes: g.u64(F::MissedBytes).unwrap_or(0),
        tunnel_parents: g.list(F::TunnelParents),
        open,
    }))
}

fn dns<S: Source>(g: &mut Get<'_, S>, id: Id) -> ZeekDns {
    ZeekDns {
        ts: id.ts,
        uid: id.uid,
        orig_h: id.orig_h,
        orig_p: id.orig_p,
        resp_h: id.resp_h,
        resp_p: id.resp_p,
        proto: g.str(F::Proto).and_then(|p| parse_proto(&p)),
        trans_id: g.u16(F::TransId),
        rtt: g.f64(F::Rtt),
        query: g.str(F::Query),
        qclass: g.u16(F::Qclass),
        qclass_name: g.str(F::QclassName),
        qtype: g.u16(F::Qtype),
        qtype_name: g.str(F::QtypeName),
        rcode: g.u16(F::Rcode),
        rcode_name: g.str(F::RcodeName),
        aa: g.bool(F::Aa).unwrap_or(false),
        tc: g.bool(F::Tc).unwrap_or(false),
        rd: g.bool(F::Rd).unwrap_or(false),
        ra: g.bool(F::Ra).unwrap_or(false),
        answers: g.list(F::Answers),
        ttls: g.f64_list(F::Ttls),
        rejected: g.bool(F::Rejected).unwrap_or(false),
    }
}

fn http<S: Source>(g: &mut Get<'_, S>, id: Id, open: bool) -> ZeekHttp {
    ZeekHttp {
        ts: id.ts,
        uid: id.uid,
        orig_h: id.orig_h,
        orig_p: id.orig_p,
        resp_h: id.resp_h,
        resp_p: id.resp_p,
        trans_depth: g.u64(F::TransDepth),
        method: g.str(F::Method),
        host: g.str(F::Host),
        uri: g.str(F::Uri),
        referrer: g.str(F::Referrer),
        version: g.str(F::Version),
        user_agent: g.str(F::UserAgent),
        origin: g.str(F::Origin),
        request_body_len: g.u64(F::RequestBodyLen).unwrap_or(0),
        response_body_len: g.u64(F::ResponseBodyLen).unwrap_or(0),
        status_code: g.u16(F::StatusCode),
        status_msg: g.str(F::StatusMsg),
        username: g.str(F::Username),
        tags: g.list(F::Tags),
        proxied: g.list(F::Proxied),
        orig_filenames: g.list(F::OrigFilenames),
        orig_mime_types: g.list(F::OrigMimeTypes),
        resp_filenames: g.list(F::RespFilenames),
        resp_mime_types: g.list(F::RespMimeTypes),
        open,
    }
}

fn ssl<S: Source>(g: &mut Get<'_, S>, id: Id, open: bool) -> ZeekSsl {
    ZeekSsl {
        ts: id.ts,
        uid: id.uid,
        orig_h: id.orig_h,
        orig_p: id.orig_p,
        resp_h: id.resp_h,
        resp_p: id.resp_p,
        version: g.str(F::Version),
        cipher: g.str(F::Cipher),
        curve: g.str(F::Curve),
        server_name: g.str(F::ServerName),
        resumed: g.bool(F::Resumed).unwrap_or(false),
        last_alert: g.str(F::LastAlert),
        next_protocol: g.str(F::NextProtocol),
        established: g.bool(F::Established).unwrap_or(false),
        ssl_history: g.str(F::SslHistory),
        cert_chain_fps: g.list(F::CertChainFps),
        client_cert_chain_fps: g.list(F::ClientCertChainFps),
        subject: g.str(F::Subject),
        issuer: g.str(F::Issuer),
        client_subject: g.str(F::ClientSubject),
        client_issuer: g.str(F::ClientIssuer),
        sni_matches_cert: g.bool(F::SniMatchesCert),
        validation_status: g.str(F::ValidationStatus),
        ja3: g.str(F::Ja3),
        ja3s: g.str(F::Ja3s),
        open,
    }
}

fn smtp<S: Source>(g: &mut Get<'_, S>, id: Id) -> ZeekSmtp {
    ZeekSmtp {
        ts: id.ts,
        uid: id.uid,
        orig_h: id.orig_h,
        orig_p: id.orig_p,
        resp_h: id.resp_h,
        resp_p: id.resp_p,
        trans_depth: g.u64(F::TransDepth),
        helo: g.str(F::Helo),
        mailfrom: g.str(F::Mailfrom),
        rcptto: g.list(F::Rcptto),
        date: g.str(F::Date),
        from: g.str(F::From),
        to: g.list(F::To),
        cc: g.list(F::Cc),
        reply_to: g.str(F::ReplyTo),
        msg_id: g.str(F::MsgId),
        in_reply_to: g.str(F::InReplyTo),
        subject: g.str(F::Subject),
        x_originating_ip: g.addr(F::XOriginatingIp),
        first_received: g.str(F::FirstReceived),
        second_received: g.str(F::SecondReceived),
        last_reply: g.str(F::LastReply),
        path: g.list(F::SmtpPath),
        user_agent: g.str(F::UserAgent),
        tls: g.bool(F::Tls).unwrap_or(false),
        is_webmail: g.bool(F::IsWebmail).unwrap_or(false),
    }
}

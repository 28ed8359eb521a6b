//! Column names the reader knows, which log each belongs to, and guessing the log type from a set
//! of names when neither `#path`, `_path` nor the file name tells it.
//!
//! Field lists: Zeek's `base/protocols/{conn,dns,http,ssl,smtp}/main.zeek` (plus
//! `ssl/files.zeek`, `policy/protocols/ssl/validate-certs.zeek`, the salesforce/ja3 package's
//! `ja3`/`ja3s`, and `ip_proto` of Zeek 8), fields older Zeek versions logged
//! (`cert_chain_fuids`, `client_cert_chain_fuids`), RITA's `agent_hostname`/`agent_uuid`, and
//! names common exporters add (`_path`, `_write_ts`, `_system_name`, `community_id`).

use super::ZeekKind;

macro_rules! fields {
    ($($v:ident = $n:literal,)*) => {
        /// One known column name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum F { $($v,)* }

        /// Number of [`F`] values (size of the per-line slot table).
        pub(super) const COUNT: usize = [$(F::$v,)*].len();

        impl F {
            pub(super) fn name(self) -> &'static str {
                match self { $(F::$v => $n,)* }
            }
            pub(super) fn from_name(s: &str) -> Option<F> {
                match s { $($n => Some(F::$v),)* _ => None }
            }
        }
    };
}

fields! {
    // Common to every log.
    Ts = "ts",
    Uid = "uid",
    OrigH = "id.orig_h",
    OrigP = "id.orig_p",
    RespH = "id.resp_h",
    RespP = "id.resp_p",
    VlanId = "id.vlan",
    InnerVlan = "id.inner_vlan",
    Path = "_path",
    WriteTs = "_write_ts",
    SystemName = "_system_name",
    AgentHostname = "agent_hostname",
    AgentUuid = "agent_uuid",
    CommunityId = "community_id",
    // conn.log
    Proto = "proto",
    Service = "service",
    Duration = "duration",
    OrigBytes = "orig_bytes",
    RespBytes = "resp_bytes",
    ConnState = "conn_state",
    LocalOrig = "local_orig",
    LocalResp = "local_resp",
    MissedBytes = "missed_bytes",
    History = "history",
    OrigPkts = "orig_pkts",
    OrigIpBytes = "orig_ip_bytes",
    RespPkts = "resp_pkts",
    RespIpBytes = "resp_ip_bytes",
    TunnelParents = "tunnel_parents",
    IpProto = "ip_proto",
    OrigL2Addr = "orig_l2_addr",
    RespL2Addr = "resp_l2_addr",
    OrigCc = "orig_cc",
    RespCc = "resp_cc",
    Vlan = "vlan",
    InnerVlanConn = "inner_vlan",
    // dns.log
    TransId = "trans_id",
    Rtt = "rtt",
    Query = "query",
    Qclass = "qclass",
    QclassName = "qclass_name",
    Qtype = "qtype",
    QtypeName = "qtype_name",
    Rcode = "rcode",
    RcodeName = "rcode_name",
    Aa = "AA",
    Tc = "TC",
    Rd = "RD",
    Ra = "RA",
    Z = "Z",
    Answers = "answers",
    Ttls = "TTLs",
    Rejected = "rejected",
    // http.log (and smtp.log's trans_depth / user_agent)
    TransDepth = "trans_depth",
    Method = "method",
    Host = "host",
    Uri = "uri",
    Referrer = "referrer",
    Version = "version",
    UserAgent = "user_agent",
    Origin = "origin",
    RequestBodyLen = "request_body_len",
    ResponseBodyLen = "response_body_len",
    StatusCode = "status_code",
    StatusMsg = "status_msg",
    InfoCode = "info_code",
    InfoMsg = "info_msg",
    Tags = "tags",
    Username = "username",
    Password = "password",
    Proxied = "proxied",
    OrigFuids = "orig_fuids",
    OrigFilenames = "orig_filenames",
    OrigMimeTypes = "orig_mime_types",
    RespFuids = "resp_fuids",
    RespFilenames = "resp_filenames",
    RespMimeTypes = "resp_mime_types",
    // ssl.log
    VersionNum = "version_num",
    Cipher = "cipher",
    Curve = "curve",
    ServerName = "server_name",
    Resumed = "resumed",
    LastAlert = "last_alert",
    NextProtocol = "next_protocol",
    Established = "established",
    SslHistory = "ssl_history",
    CertChainFps = "cert_chain_fps",
    ClientCertChainFps = "client_cert_chain_fps",
    CertChainFuids = "cert_chain_fuids",
    ClientCertChainFuids = "client_cert_chain_fuids",
    Subject = "subject",
    Issuer = "issuer",
    ClientSubject = "client_subject",
    ClientIssuer = "client_issuer",
    SniMatchesCert = "sni_matches_cert",
    ValidationStatus = "validation_status",
    ValidationCode = "validation_code",
    Ja3 = "ja3",
    Ja3s = "ja3s",
    // smtp.log
    Helo = "helo",
    Mailfrom = "mailfrom",
    Rcptto = "rcptto",
    Date = "date",
    From = "from",
    To = "to",
    Cc = "cc",
    ReplyTo = "reply_to",
    MsgId = "msg_id",
    InReplyTo = "in_reply_to",
    XOriginatingIp = "x_originating_ip",
    FirstReceived = "first_received",
    SecondReceived = "second_received",
    LastReply = "last_reply",
    SmtpPath = "path",
    Tls = "tls",
    Fuids = "fuids",
    IsWebmail = "is_webmail",
}

/// Is `f` a column of `kind`'s log (used or knowingly ignored)? Anything else is counted in
/// [`super::ZeekStats::unknown_fields`].
pub(super) fn belongs(kind: ZeekKind, f: F) -> bool {
    use F::*;
    let common = matches!(
        f,
        Ts | Uid
            | OrigH
            | OrigP
            | RespH
            | RespP
            | VlanId
            | InnerVlan
            | Path
            | WriteTs
            | SystemName
            | AgentHostname
            | AgentUuid
            | CommunityId
    );
    common
        || match kind {
            ZeekKind::Conn => matches!(
                f,
                Proto
                    | Service
                    | Duration
                    | OrigBytes
                    | RespBytes
                    | ConnState
                    | LocalOrig
                    | LocalResp
                    | MissedBytes
                    | History
                    | OrigPkts
                    | OrigIpBytes
                    | RespPkts
                    | RespIpBytes
                    | TunnelParents
                    | IpProto
                    | OrigL2Addr
                    | RespL2Addr
                    | OrigCc
                    | RespCc
                    | Vlan
                    | InnerVlanConn
            ),
            ZeekKind::Dns => matches!(
                f,
                Proto
                    | TransId
                    | Rtt
                    | Query
                    | Qclass
                    | QclassName
                    | Qtype
                    | QtypeName
                    | Rcode
                    | RcodeName
                    | Aa
                    | Tc
                    | Rd
                    | Ra
                    | Z
                    | Answers
                    | Ttls
                    | Rejected
            ),
            ZeekKind::Http => matches!(
                f,
                TransDepth
                    | Method
                    | Host
                    | Uri
                    | Referrer
                    | Version
                    | UserAgent
                    | Origin
                    | RequestBodyLen
                    | ResponseBodyLen
                    | StatusCode
                    | StatusMsg
                    | InfoCode
                    | InfoMsg
                    | Tags
                    | Username
                    | Password
                    | Proxied
                    | OrigFuids
                    | OrigFilenames
                    | OrigMimeTypes
                    | RespFuids
                    | RespFilenames
                    | RespMimeTypes
            ),
            ZeekKind::Ssl => matches!(
                f,
                VersionNum
                    | Version
                    | Cipher
                    | Curve
                    | ServerName
                    | Resumed
                    | LastAlert
                    | NextProtocol
                    | Established
                    | SslHistory
                    | CertChainFps
                    | ClientCertChainFps
                    | CertChainFuids
                    | ClientCertChainFuids
                    | Subject
                    | Issuer
                    | ClientSubject
                    | ClientIssuer
                    | SniMatchesCert
                    | ValidationStatus
                    | ValidationCode
                    | Ja3
                    | Ja3s
            ),
            ZeekKind::Smtp => matches!(
                f,
                TransDepth
                    | Helo
                    | Mailfrom
                    | Rcptto
                    | Date
                    | From
                    | To
                    | Cc
                    | ReplyTo
                    | MsgId
                    | InReplyTo
                    | Subject
                    | XOriginatingIp
                    | FirstReceived
                    | SecondReceived
                    | LastReply
                    | SmtpPath
                    | UserAgent
                    | Tls
                    | Fuids
                    | IsWebmail
            ),
        }
}

/// Guess the log type from the columns present (`has(f)`), for JSON without `_path` and TSV
/// without `#path` when the file name does not tell. Needs the connection 4-tuple plus fields
/// only one of the five logs has.
pub(super) fn guess(has: impl Fn(F) -> bool) -> Option<ZeekKind> {
    use F::*;
    if !(has(Ts) && has(OrigH) && has(RespH)) {
        return None;
    }
    if has(ConnState) || has(OrigIpBytes) || has(RespIpBytes) || has(History) && has(Duration) {
        Some(ZeekKind::Conn)
    } else if has(Mailfrom) || has(Rcptto) || has(Helo) || has(LastReply) {
        Some(ZeekKind::Smtp)
    } else if has(Query) && (has(Qtype) || has(QtypeName) || has(Rcode) || has(TransId))
        || has(Answers)
    {
        Some(ZeekKind::Dns)
    } else if has(Cipher)
        || has(ServerName)
        || has(Ja3)
        || has(Established)
        || has(ValidationStatus)
        || has(SslHistory)
        || has(Curve)
    {
        Some(ZeekKind::Ssl)
    } else if has(Method) || has(Uri) || has(StatusCode) || has(UserAgent) && has(Host) {
        Some(ZeekKind::Http)
    } else {
        None
    }
}

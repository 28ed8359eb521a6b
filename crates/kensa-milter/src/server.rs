//! The milter service: listens (TCP or a Unix socket), runs one [`Session`] per MTA connection on
//! tokio, scans on the blocking pool, and ends each message as the policy says.
//!
//! Nothing is lost (gateway spec §2, §4): a message is only discarded after the store has committed
//! it (`Store::put` returns after the transaction is durable); if that fails the MTA gets a
//! tempfail and keeps the message. If kensa crashes or stops answering, the MTA applies its
//! `milter_default_action` (recommended: `tempfail`, or `quarantine` to hold mail in Postfix's
//! hold queue). While a scan runs, a progress reply is sent every few seconds so Postfix's
//! `milter_content_timeout` never fires on a slow attachment; the scan itself is bounded by
//! `scan_timeout` (what does not fit is reported incomplete and handled by policy).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kensa_store::{NewMessage, Store};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::codec::{MAX_PACKET, Reply, decode_command, encode_reply};
use crate::config::{Config, Listen};
use crate::judge::{Judgement, Outcome, display_subject, failed, judge, outcome};
use crate::session::{Message, Session, Step};

/// How often a waiting or scanning message sends a progress reply.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// A connection idle this long is closed (Postfix reuses connections; it reconnects as needed).
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Why a connection ended early. Logged; the MTA applies its default action to its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("quarantine store: {0}")]
    Store(#[from] kensa_store::StoreError),
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol: {0}")]
    Protocol(#[from] crate::codec::CodecError),
    #[error("connection idle for {0:?}")]
    Idle(Duration),
}

/// What every connection shares.
pub struct Milter {
    pub config: Arc<Config>,
    pub store: Store,
    scans: Semaphore,
}

impl Milter {
    /// Open the store named in the configuration.
    pub async fn new(config: Config) -> Result<Arc<Milter>, ServeError> {
        let store = Store::open(&config.store).await?;
        let scans = Semaphore::new(config.max_scans);
        Ok(Arc::new(Milter {
            config: Arc::new(config),
            store,
            scans,
        }))
    }
}

/// Listen as configured and serve until the process ends.
pub async fn serve(milter: Arc<Milter>) -> Result<(), ServeError> {
    match milter.config.listen.clone() {
        Listen::Inet(addr) => {
            let l = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|source| ServeError::Listen { addr, source })?;
            serve_tcp(l, milter).await
        }
        #[cfg(unix)]
        Listen::Unix(path) => {
            // A socket left by an earlier run is replaced; anything else at that path is not
            // touched (bind then fails and says so).
            use std::os::unix::fs::FileTypeExt;
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
                let _ = std::fs::remove_file(&path);
            }
            let l = tokio::net::UnixListener::bind(&path).map_err(|source| ServeError::Listen {
                addr: path.display().to_string(),
                source,
            })?;
            loop {
                let (stream, _) = l.accept().await?;
                tokio::spawn(connection(stream, milter.clone(), || {}));
            }
        }
        #[cfg(not(unix))]
        Listen::Unix(path) => Err(ServeError::Listen {
            addr: path.display().to_string(),
            source: std::io::Error::other("unix sockets need a Unix system"),
        }),
    }
}

/// Serve connections from a bound TCP listener (tests bind port 0 and pass it here).
pub async fn serve_tcp(l: tokio::net::TcpListener, milter: Arc<Milter>) -> Result<(), ServeError> {
    loop {
        let (stream, _) = l.accept().await?;
        let _ = stream.set_nodelay(true);
        let ack = quick_ack(&stream);
        tokio::spawn(connection(stream, milter.clone(), ack));
    }
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    milter: Arc<Milter>,
    after_read: impl Fn(),
) {
    if let Err(e) = session(stream, &milter, after_read).await {
        eprintln!("kensa milter: connection closed: {e}");
    }
}

/// Acknowledge what the MTA sent at once instead of after the delayed-ACK timer (40 ms on Linux).
/// Postfix writes a macro packet and then its command as two writes, and its socket waits for the
/// ACK of the first before sending the second (Nagle): with delayed ACKs here, every message
/// lost ~44 ms (bench/milter.sh measured it). Linux clears TCP_QUICKACK as it goes, so it is set
/// again after every read.
fn quick_ack(stream: &tokio::net::TcpStream) -> impl Fn() + use<> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = stream.as_raw_fd();
        move || {
            let one: libc::c_int = 1;
            // SAFETY: `fd` is this connection's socket, open for as long as the session that
            // calls this runs; the option value is a live c_int of the size passed.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_QUICKACK,
                    (&raw const one).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = stream;
        || {}
    }
}

async fn send<S: AsyncWrite + Unpin>(w: &mut S, replies: &[Reply]) -> std::io::Result<()> {
    if replies.is_empty() {
        return Ok(());
    }
    let mut out = Vec::new();
    for r in replies {
        encode_reply(r, &mut out);
    }
    w.write_all(&out).await?;
    w.flush().await
}

/// Drive one connection until the MTA quits or breaks the protocol.
pub async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    milter: &Milter,
    after_read: impl Fn(),
) -> Result<(), ServeError> {
    let mut s = Session::new(milter.config.max_message_size);
    let mut buf: Vec<u8> = Vec::with_capacity(64 << 10);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        // Decode every complete packet in the buffer before reading more.
        while let Some((cmd, used)) = decode_command(&buf, MAX_PACKET)? {
            buf.drain(..used);
            match s.on_command(cmd) {
                Step::Reply(r) => send(&mut stream, &r).await?,
                Step::Close => return Ok(()),
                Step::Judge(msg) => finish(&mut stream, milter, &s, msg).await?,
            }
        }
        let n = tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk))
            .await
            .map_err(|_| ServeError::Idle(IDLE_TIMEOUT))??;
        if n == 0 {
            return Ok(());
        }
        after_read();
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Judge one message (sending progress while waiting) and send its end-of-message replies.
async fn finish<S: AsyncWrite + Unpin>(
    stream: &mut S,
    milter: &Milter,
    s: &Session,
    msg: Message,
) -> Result<(), ServeError> {
    let msg = Arc::new(msg);
    let j = {
        let permit = async {
            let p = milter.scans.acquire().await;
            let m = msg.clone();
            let cfg = milter.config.clone();
            let r = tokio::task::spawn_blocking(move || judge(&m, &cfg)).await;
            drop(p);
            r
        };
        tokio::pin!(permit);
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        tick.tick().await;
        // The scan stops itself at `scan_timeout`; this outer limit catches a scanner that does not
        // (a bug) and a message that waited too long for a free scan slot (overload): either way
        // the message is handled by `on_error`, before the MTA's own timeout would hit.
        let hard = tokio::time::sleep(milter.config.scan_timeout * 2 + Duration::from_secs(5));
        tokio::pin!(hard);
        loop {
            tokio::select! {
                r = &mut permit => break match r {
                    Ok(j) => j,
                    Err(e) => failed(&msg, &milter.config, &format!("scanner crashed: {e}")),
                },
                _ = tick.tick() => send(stream, &[Reply::Progress]).await?,
                _ = &mut hard => break failed(
                    &msg,
                    &milter.config,
                    "no result in time (a scan overran, or too many messages were waiting)",
                ),
            }
        }
    };
    let replies = match outcome(&msg, &j, s.actions) {
        Outcome::Deliver(mut r) | Outcome::Hold(mut r) => {
            r.push(Reply::Accept);
            r
        }
        Outcome::Quarantine => match milter.store.put(&record(milter, &msg, &j)).await {
            Ok(id) => {
                log(&msg, &j, &format!("quarantined as #{id}"));
                vec![Reply::Discard]
            }
            Err(e) => {
                eprintln!(
                    "kensa milter: {}: quarantine write failed, tempfail: {e}",
                    queue(&msg)
                );
                return Ok(send(stream, &[Reply::TempFail]).await?);
            }
        },
        Outcome::Reject(text) => vec![Reply::ReplyCode(text)],
        Outcome::Discard => vec![Reply::Discard],
        Outcome::Tempfail => vec![Reply::TempFail],
    };
    if !matches!(replies.first(), Some(Reply::Discard)) {
        log(&msg, &j, "");
    }
    Ok(send(stream, &replies).await?)
}

fn queue(msg: &Message) -> &str {
    msg.queue_id.as_deref().unwrap_or("NOQUEUE")
}

/// One line per message: queue ID, action, verdict, score and hash — never message content.
fn log(msg: &Message, j: &Judgement, extra: &str) {
    eprintln!(
        "kensa milter: {} action={} verdict={} score={:.2} sha256={} {}",
        sanitize(queue(msg)),
        j.decision.action,
        j.report.verdict.as_str(),
        j.report.score,
        j.sha256,
        extra
    );
}

/// Only printable ASCII reaches the log (queue IDs come from the MTA, but still).
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

fn record(milter: &Milter, msg: &Message, j: &Judgement) -> NewMessage {
    let mut symbols: Vec<(String, f64)> = Vec::new();
    for f in &j.report.findings {
        match symbols.iter_mut().find(|(s, _)| s == f.symbol) {
            Some((_, w)) => *w = w.max(f.weight),
            None => symbols.push((f.symbol.to_string(), f.weight)),
        }
    }
    NewMessage {
        queue_id: msg.queue_id.clone(),
        message_id: j.message_id.clone(),
        gateway: milter.config.gateway.clone(),
        envelope_from: msg.sender.clone(),
        envelope_rcpts: msg.recipients.clone(),
        subject: j.subject.clone().or_else(|| display_subject(msg)),
        verdict: j.report.verdict.as_str().to_string(),
        score: j.report.score,
        threshold: j.report.threshold,
        action: j.decision.action.as_str().to_string(),
        reason: j.decision.reason.clone(),
        symbols,
        findings_json: serde_json::to_string(&j.report.findings).unwrap_or_else(|_| "[]".into()),
        attachment_names: j.attachments.iter().map(|(n, _)| n.clone()).collect(),
        part_hashes: j.attachments.iter().map(|(_, h)| h.clone()).collect(),
        raw: msg.raw(),
        received_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    }
}

//! Type sniffing from bytes (spec §1 step 2). The name is never trusted: it only gives the type the
//! sender *claims*, which is compared with the sniffed one.

use memchr::memmem;

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    Empty,
    /// OLE / Compound File Binary (.doc, .xls, .ppt, .msg, vbaProject.bin, encrypted OOXML).
    Ole,
    /// A ZIP archive or an OOXML/ODF package.
    Zip,
    SevenZip,
    Rar,
    Gzip,
    Lnk,
    OneNote,
    Iso,
    Vhd,
    Vhdx,
    Rtf,
    Pe,
    Pdf,
    /// An RFC 5322 message.
    Mail,
    /// A Unix mbox file: one or more messages, each after a `From ` line.
    Mbox,
    Html,
    ActiveMime,
    Sylk,
    Image,
    Text,
    Unknown,
}

impl FileType {
    pub fn name(self) -> &'static str {
        match self {
            FileType::Empty => "empty",
            FileType::Ole => "ole",
            FileType::Zip => "zip",
            FileType::SevenZip => "7z",
            FileType::Rar => "rar",
            FileType::Gzip => "gzip",
            FileType::Lnk => "lnk",
            FileType::OneNote => "onenote",
            FileType::Iso => "iso",
            FileType::Vhd => "vhd",
            FileType::Vhdx => "vhdx",
            FileType::Rtf => "rtf",
            FileType::Pe => "pe",
            FileType::Pdf => "pdf",
            FileType::Mail => "mail",
            FileType::Mbox => "mbox",
            FileType::Html => "html",
            FileType::ActiveMime => "activemime",
            FileType::Sylk => "sylk",
            FileType::Image => "image",
            FileType::Text => "text",
            FileType::Unknown => "unknown",
        }
    }

    /// Archives and disk images: their members are files of their own.
    pub fn is_container(self) -> bool {
        matches!(
            self,
            FileType::Zip
                | FileType::SevenZip
                | FileType::Rar
                | FileType::Gzip
                | FileType::Iso
                | FileType::Vhd
                | FileType::Vhdx
        )
    }
}

const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const LNK_CLSID: &[u8] = b"\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46";
const ONENOTE_GUID: &[u8] = b"\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3";

/// Sniff the type of `data` from its bytes alone.
pub fn sniff(data: &[u8]) -> FileType {
    if data.is_empty() {
        return FileType::Empty;
    }
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(OLE_MAGIC) {
        return FileType::Ole;
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return FileType::Zip;
    }
    if starts(b"7z\xBC\xAF\x27\x1C") {
        return FileType::SevenZip;
    }
    if starts(b"Rar!\x1A\x07") {
        return FileType::Rar;
    }
    if starts(b"\x1F\x8B") {
        return FileType::Gzip;
    }
    if data.len() >= 20 && starts(b"\x4C\x00\x00\x00") && &data[4..20] == LNK_CLSID {
        return FileType::Lnk;
    }
    if starts(ONENOTE_GUID) {
        return FileType::OneNote;
    }
    if data.get(0x8001..0x8006) == Some(b"CD001") {
        return FileType::Iso;
    }
    if starts(b"vhdxfile") {
        return FileType::Vhdx;
    }
    if starts(b"conectix")
        || (data.len() >= 512 && data[data.len() - 512..].starts_with(b"conectix"))
    {
        return FileType::Vhd;
    }
    if starts(b"{\\rt") {
        return FileType::Rtf;
    }
    if starts(b"MZ") {
        return FileType::Pe;
    }
    if starts(b"%PDF-") {
        return FileType::Pdf;
    }
    if starts(b"ActiveMime") {
        return FileType::ActiveMime;
    }
    if starts(b"ID;P") || starts(b"ID;") {
        return FileType::Sylk;
    }
    if starts(b"\xFF\xD8\xFF")
        || starts(b"\x89PNG\r\n\x1A\n")
        || starts(b"GIF8")
        || starts(b"BM") && data.len() > 26 && data[6..10] == [0, 0, 0, 0]
    {
        return FileType::Image;
    }
    // UDF-only images and raw FAT/NTFS volumes (`.img`), which Windows mounts like an ISO.
    if data.len() >= 512 && data[510..512] == [0x55, 0xAA] && crate::iso::detect(data).is_some()
        || data.len() > 0x8000 && crate::iso::detect(data).is_some()
    {
        return FileType::Iso;
    }
    let head = &data[..data.len().min(4096)];
    if is_mbox_start(head) {
        return FileType::Mbox;
    }
    if looks_like_header_block(head) {
        return FileType::Mail;
    }
    let lower: Vec<u8> = head.iter().take(1024).map(u8::to_ascii_lowercase).collect();
    let trimmed = trim_start(&lower);
    if trimmed.starts_with(b"<!doctype html")
        || trimmed.starts_with(b"<html")
        || memmem::find(&lower, b"<script").is_some()
        || memmem::find(&lower, b"<body").is_some()
    {
        return FileType::Html;
    }
    if is_text(head) {
        return FileType::Text;
    }
    // A ZIP may be preceded by junk: find the end-of-central-directory record near the end.
    if find_zip_eocd(data).is_some() {
        return FileType::Zip;
    }
    FileType::Unknown
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        .unwrap_or(s.len());
    &s[n..]
}

fn after_first_line(s: &[u8]) -> &[u8] {
    match memchr::memchr(b'\n', s) {
        Some(i) => &s[i + 1..],
        None => &[],
    }
}

/// Header names that make a block of `Name: value` lines a message header.
const MAIL_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "received",
    "return-path",
    "message-id",
    "mime-version",
    "delivered-to",
    "content-type",
    "reply-to",
    "cc",
    "x-mailer",
    "sender",
    "references",
    "in-reply-to",
    "dkim-signature",
    "authentication-results",
    "x-original-to",
    "thread-index",
];

/// The first lines are `Name: value` headers (or their folded continuations), with at least two
/// well-known message headers among them. Reads the bytes in place and stops at the first empty line,
/// so a check costs at most the header block it looks at (the mbox splitter relies on that).
fn looks_like_header_block(head: &[u8]) -> bool {
    let mut known = 0;
    let mut lines = 0;
    for raw in head.split(|&b| b == b'\n').take(60) {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Some(&first) = line.first() else {
            break;
        };
        lines += 1;
        if first == b' ' || first == b'\t' {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return false;
        };
        let name = &line[..colon];
        if name.is_empty()
            || !name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return false;
        }
        if MAIL_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
        {
            known += 1;
        }
    }
    lines > 0 && known >= 2 || (lines > 0 && known >= 1 && lines <= 2)
}

/// `From ` followed on the next lines by a message header block: the start of an mbox message.
pub fn is_mbox_start(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    head.starts_with(b"From ") && looks_like_header_block(after_first_line(head))
}

/// Mostly printable: UTF-8 or 8-bit text with few control characters.
fn is_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let bad = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C | 0x1B))
        .count();
    bad * 100 <= head.len()
}

/// An OLE file holding an `EncryptedPackage` stream: an encrypted OOXML document, which is OLE by
/// design and so rightly named .docx/.xlsx/.pptx.
pub fn is_encrypted_ooxml(data: &[u8]) -> bool {
    const NAME: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    data.starts_with(OLE_MAGIC) && memmem::find(data, NAME).is_some()
}

/// The offset of a ZIP end-of-central-directory record in the last 64 KiB + 22 bytes.
pub fn find_zip_eocd(data: &[u8]) -> Option<usize> {
    let from = data.len().saturating_sub(65_557);
    memmem::rfind(&data[from..], b"PK\x05\x06").map(|i| from + i)
}

/// The type a file name claims, by its extension.
pub fn claimed_type(name: &str) -> Option<FileType> {
    let ext = name.rsplit_once('.')?.1.trim().to_ascii_lowercase();
    Some(match ext.as_str() {
        "doc" | "dot" | "xls" | "xlt" | "xla" | "ppt" | "pps" | "pot" | "msg" | "pub" | "vsd" => {
            FileType::Ole
        }
        "docx" | "docm" | "dotx" | "dotm" | "xlsx" | "xlsm" | "xlsb" | "xltx" | "xltm" | "xlam"
        | "pptx" | "pptm" | "ppsx" | "ppsm" | "potx" | "potm" | "zip" | "jar" | "odt" | "ods"
        | "odp" => FileType::Zip,
        "7z" => FileType::SevenZip,
        "rar" => FileType::Rar,
        "gz" | "tgz" => FileType::Gzip,
        "lnk" => FileType::Lnk,
        "one" => FileType::OneNote,
        "iso" => FileType::Iso,
        "vhd" => FileType::Vhd,
        "vhdx" => FileType::Vhdx,
        "rtf" => FileType::Rtf,
        "exe" | "dll" | "scr" | "cpl" | "sys" | "ocx" => FileType::Pe,
        "pdf" => FileType::Pdf,
        "eml" => FileType::Mail,
        "mbox" => FileType::Mbox,
        "htm" | "html" | "shtml" | "hta" => FileType::Html,
        "slk" => FileType::Sylk,
        "jpg" | "jpeg" | "png" | "gif" | "bmp" => FileType::Image,
        "txt" | "csv" | "log" => FileType::Text,
        _ => return None,
    })
}

/// The type `name` claims, when the content `data` (sniffed as `sniffed`) contradicts it. Only
/// known-against-known disagreements count: text formats that legitimately carry other text (HTML in
/// .txt, a header-looking CSV) do not, nor does an encrypted OOXML document, which is OLE by design.
pub fn mismatch(name: &str, data: &[u8], sniffed: FileType) -> Option<FileType> {
    use FileType::*;
    let claimed = claimed_type(name)?;
    let textual = |t| matches!(t, Text | Html | Mail | Mbox | Sylk);
    let agrees = claimed == sniffed
        || sniffed == Empty
        || (textual(claimed) && textual(sniffed))
        || (claimed == Mbox && sniffed == Mail)
        || (claimed == Zip && sniffed == Ole && is_encrypted_ooxml(data));
    // Word opens RTF and HTML saved as .doc; still worth an info finding, so not excused.
    (!agrees).then_some(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(sniff(b""), FileType::Empty);
        assert_eq!(
            sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"),
            FileType::Ole
        );
        assert_eq!(sniff(b"PK\x03\x04rest"), FileType::Zip);
        assert_eq!(sniff(b"{\\rtf1\\ansi"), FileType::Rtf);
        assert_eq!(sniff(b"{\\rt junk"), FileType::Rtf);
        assert_eq!(sniff(b"MZ\x90\x00"), FileType::Pe);
        let mut lnk = b"\x4C\x00\x00\x00".to_vec();
        lnk.extend_from_slice(LNK_CLSID);
        assert_eq!(sniff(&lnk), FileType::Lnk);
        let mut iso = vec![0u8; 0x8010];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(sniff(&iso), FileType::Iso);
    }

    #[test]
    fn mail_mbox_text_html() {
        assert_eq!(
            sniff(b"From: a@b.c\nTo: d@e.f\nSubject: hi\n\nbody"),
            FileType::Mail
        );
        assert_eq!(
            sniff(b"From someone@x  Thu Aug 22 12:00:00 2002\nReturn-Path: <a@b>\nSubject: x\n\nb"),
            FileType::Mbox
        );
        assert_eq!(sniff(b"hello world, plain text\n"), FileType::Text);
        assert_eq!(sniff(b"<html><body>x</body></html>"), FileType::Html);
        assert_eq!(sniff(b"Dear: customer\nthis is not mail"), FileType::Text);
    }

    #[test]
    fn zip_after_junk() {
        let mut data = b"junk junk junk \x00\x01\x02".to_vec();
        data.extend_from_slice(b"PK\x05\x06");
        data.extend_from_slice(&[0u8; 18]);
        assert_eq!(sniff(&data), FileType::Zip);
    }

    #[test]
    fn names_and_mismatch() {
        assert_eq!(claimed_type("invoice.DOC"), Some(FileType::Ole));
        assert_eq!(claimed_type("renamed.jpg"), Some(FileType::Image));
        assert_eq!(claimed_type("noext"), None);
        assert_eq!(
            mismatch("a.jpg", b"PK", FileType::Zip),
            Some(FileType::Image)
        );
        assert_eq!(
            mismatch("a.xls", b"text", FileType::Text),
            Some(FileType::Ole)
        );
        assert_eq!(mismatch("a.txt", b"<html>", FileType::Html), None);
        assert_eq!(mismatch("a.docx", b"PK", FileType::Zip), None);
        assert_eq!(mismatch("noext", b"PK", FileType::Zip), None);
        let mut encrypted = OLE_MAGIC.to_vec();
        encrypted.extend_from_slice(b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0");
        assert_eq!(mismatch("a.docx", &encrypted, FileType::Ole), None);
        assert_eq!(
            mismatch("a.docx", OLE_MAGIC, FileType::Ole),
            Some(FileType::Zip)
        );
    }
}

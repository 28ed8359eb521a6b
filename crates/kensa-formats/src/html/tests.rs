//! Smuggling pages are written here in the style of public write-ups (atob → Uint8Array → Blob →
//! createObjectURL → `a.download` → `click()`, char-code arrays, reversed base64, SVG with a
//! script) around real payload files: spreadsheets from the calamine corpus (ZIP), a Word file
//! from the oletools corpus (OLE) and a shortcut from `testdata/lnk` (LNK). The ISO and PE
//! payloads are built bytewise from their format facts (`CD001` at 0x8001; `MZ`, `e_lfanew` at
//! 0x3C pointing at `PE\0\0`). Benign pages: `testdata/html` (see its README) and the HTML mails
//! of the SpamAssassin corpus.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");

fn corpus(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/{rel}")).expect("corpus file")
}

fn testdata(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}/{rel}")).expect("testdata file")
}

fn small_xlsx() -> Vec<u8> {
    corpus("office/calamine/inlineStr_cdata.xlsx")
}

/// 56 KB: its base64 is past the 50 KB strong threshold.
fn big_xlsx() -> Vec<u8> {
    corpus("office/calamine/picture.xlsx")
}

fn clean_doc() -> Vec<u8> {
    corpus("office/oletools/msodde/harmless-clean.doc")
}

fn shortcut() -> Vec<u8> {
    testdata("lnk/lnk-rs-windows-powershell.lnk")
}

/// An ISO 9660 image head: system area, then a primary volume descriptor (type 1, `CD001`,
/// version 1) at 0x8000, then the set terminator (type 255).
fn iso_image() -> Vec<u8> {
    let mut d = vec![0u8; 0x9000];
    d[0x8000] = 1;
    d[0x8001..0x8006].copy_from_slice(b"CD001");
    d[0x8006] = 1;
    d[0x8800] = 255;
    d[0x8801..0x8806].copy_from_slice(b"CD001");
    d
}

/// A PE head: `MZ`, `e_lfanew` = 0x80, `PE\0\0`, machine i386, then padding.
fn tiny_pe() -> Vec<u8> {
    let mut d = vec![0u8; 1536];
    d[..2].copy_from_slice(b"MZ");
    d[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    d[0x80..0x84].copy_from_slice(b"PE\0\0");
    d[0x84..0x86].copy_from_slice(&0x14Cu16.to_le_bytes());
    d
}

fn b64(d: &[u8]) -> String {
    STANDARD.encode(d)
}

fn chunks(s: &str, n: usize) -> Vec<&str> {
    s.as_bytes()
        .chunks(n)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect()
}

fn limits() -> HtmlLimits {
    HtmlLimits::default()
}

fn only_blob(r: &HtmlScan) -> &Blob {
    assert_eq!(r.blobs.len(), 1, "{:?}", summary(r));
    &r.blobs[0]
}

fn summary(r: &HtmlScan) -> Vec<(usize, usize, &str, FileType, usize)> {
    r.blobs
        .iter()
        .map(|b| (b.offset, b.encoded_len, b.encoding, b.kind, b.data.len()))
        .collect()
}

/// The classic page: a base64 ZIP rebuilt by atob/Uint8Array/Blob and clicked.
fn atob_page(payload: &[u8]) -> String {
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Invoice</title></head>
<body>
<p>Your document is being downloaded.</p>
<p>Password: <b>abc123</b></p>
<script>
function b64ToArr(b) {{ var s = window.atob(b); var n = s.length; var a = new Uint8Array(n);
  for (var i = 0; i < n; i++) {{ a[i] = s.charCodeAt(i); }} return a; }}
var file = '{}';
var data = b64ToArr(file);
var blob = new Blob([data], {{type: 'application/zip'}});
var a = document.createElement('a');
document.body.appendChild(a);
a.style = 'display: none';
var url = window.URL.createObjectURL(blob);
a.href = url;
a.download = 'invoice_2022.zip';
a.click();
window.URL.revokeObjectURL(url);
</script>
</body></html>
"#,
        b64(payload)
    )
}

#[test]
fn atob_blob_click_page() {
    let zip = small_xlsx();
    let page = atob_page(&zip);
    let r = scan(page.as_bytes(), limits());
    for p in [
        "atob",
        "uint8array",
        "new_blob",
        "create_object_url",
        "download_property",
        "click",
    ] {
        assert!(r.patterns.contains(&p), "{p} missing from {:?}", r.patterns);
    }
    assert!(!r.patterns.contains(&"large_encoded_blob"));
    let blob = only_blob(&r);
    assert_eq!(blob.kind, FileType::Zip);
    assert_eq!(blob.encoding, "base64");
    assert_eq!(blob.data, zip);
    assert!(!blob.truncated);
    assert_eq!(blob.name.as_deref(), Some("invoice_2022.zip"));
    assert_eq!(blob.encoded_len, b64(&zip).len());
    assert_eq!(&page.as_bytes()[blob.offset..blob.offset + 4], b"UEsD");
    // The decoded bytes are the spreadsheet itself: the ZIP reader lists its parts.
    let z = crate::zip::Zip::open(&blob.data, 64).expect("decoded zip opens");
    assert!(z.entries.iter().any(|e| e.name == "[Content_Types].xml"));
    assert_eq!(r.download_names, vec!["invoice_2022.zip".to_string()]);
    let text = visible_text(page.as_bytes(), 1 << 16);
    assert!(text.contains("Password: abc123"), "{text}");
    assert!(!text.contains("atob") && !text.contains("UEsD"), "{text}");
}

#[test]
fn char_code_array_with_ms_save_blob() {
    let zip = small_xlsx();
    let numbers: Vec<String> = zip.iter().map(u8::to_string).collect();
    let lines: Vec<String> = numbers.chunks(24).map(|c| c.join(",")).collect();
    let page = format!(
        "<html><body><script>\nvar d = [\n{}\n];\nvar blob = new Blob([new Uint8Array(d)], \
         {{type: 'application/octet-stream'}});\nif (navigator.msSaveOrOpenBlob) {{ \
         navigator.msSaveOrOpenBlob(blob, \"report.zip\"); }}\n</script></body></html>",
        lines.join(",\n")
    );
    let r = scan(page.as_bytes(), limits());
    assert!(r.patterns.contains(&"ms_save_blob"), "{:?}", r.patterns);
    assert!(r.patterns.contains(&"uint8array"));
    let blob = only_blob(&r);
    assert_eq!((blob.kind, blob.encoding), (FileType::Zip, "char-codes"));
    assert_eq!(blob.data, zip);
    assert_eq!(blob.name.as_deref(), Some("report.zip"));
}

#[test]
fn reversed_base64_large_and_chunked() {
    let zip = big_xlsx();
    let reversed: String = b64(&zip).chars().rev().collect();
    let mut script = String::from("var r = \"\";\n");
    for piece in chunks(&reversed, 1000) {
        script.push_str(&format!("r += \"{piece}\";\n"));
    }
    let page = format!(
        "<html><body><p>ZIP のパスワード: 7781</p><script>{script}\
         var bin = atob(r.split(\"\").reverse().join(\"\"));\
         var u = new Uint8Array(bin.length); for (var i = 0; i < bin.length; i++) u[i] = \
         bin.charCodeAt(i);\
         var l = document.createElement(\"a\"); l.href = URL.createObjectURL(new Blob([u])); \
         l.setAttribute(\"download\", \"Scan_0412.zip\"); l.click();</script></body></html>"
    );
    let r = scan(page.as_bytes(), limits());
    for p in [
        "atob",
        "reversed_string",
        "large_encoded_blob",
        "download_property",
    ] {
        assert!(r.patterns.contains(&p), "{p} missing from {:?}", r.patterns);
    }
    let blob = only_blob(&r);
    assert_eq!(
        (blob.kind, blob.encoding),
        (FileType::Zip, "base64-reversed")
    );
    assert_eq!(blob.data, zip);
    assert!(blob.encoded_len > STRONG_LITERAL_LEN);
    assert_eq!(blob.name.as_deref(), Some("Scan_0412.zip"));
    assert!(r.largest_run >= reversed.len());
    assert!(visible_text(page.as_bytes(), 4096).contains("ZIP のパスワード: 7781"));
}

#[test]
fn svg_with_script_carrying_an_iso() {
    let iso = iso_image();
    let pieces: Vec<String> = chunks(&b64(&iso), 76)
        .iter()
        .map(|p| format!("'{p}'"))
        .collect();
    let svg = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">
<text x="10" y="40">Password: 4411</text>
<script type="text/javascript"><![CDATA[
var s = {};
var b = Uint8Array.from(atob(s), function (c) {{ return c.charCodeAt(0); }});
var f = new Blob([b], {{type: "application/x-iso9660-image"}});
if (window.navigator.msSaveBlob) {{ window.navigator.msSaveBlob(f, "scan.iso"); }}
]]></script>
</svg>"#,
        pieces.join(" +\n    ")
    );
    let r = scan(svg.as_bytes(), limits());
    for p in [
        "svg_script",
        "atob",
        "uint8array",
        "new_blob",
        "ms_save_blob",
    ] {
        assert!(r.patterns.contains(&p), "{p} missing from {:?}", r.patterns);
    }
    let blob = only_blob(&r);
    assert_eq!((blob.kind, blob.encoding), (FileType::Iso, "base64"));
    assert_eq!(blob.data, iso);
    assert_eq!(blob.name.as_deref(), Some("scan.iso"));
    let text = visible_text(svg.as_bytes(), 4096);
    assert_eq!(text, "Password: 4411");
}

#[test]
fn data_uri_anchor_with_download_attribute() {
    let doc = clean_doc();
    let page = format!(
        "<html><body><a id=\"x\" href=\"data:application/octet-stream;base64,{}\" \
         download=\"statement.doc\">Open</a><script>document.getElementById('x').click();\
         </script></body></html>",
        b64(&doc)
    );
    let r = scan(page.as_bytes(), limits());
    for p in ["data_uri_archive", "download_attribute", "click"] {
        assert!(r.patterns.contains(&p), "{p} missing from {:?}", r.patterns);
    }
    let blob = only_blob(&r);
    assert_eq!(blob.kind, FileType::Ole);
    assert_eq!(blob.data, doc);
    assert_eq!(blob.mime.as_deref(), Some("application/octet-stream"));
    assert_eq!(blob.name.as_deref(), Some("statement.doc"));
}

#[test]
fn unescape_percent_run_carrying_a_shortcut() {
    let lnk = shortcut();
    let escaped: String = lnk.iter().map(|b| format!("%{b:02X}")).collect();
    let page = format!(
        "<html><script>var p = unescape(\"{escaped}\"); var a = document.createElement('a'); \
         a.href = 'data:application/octet-stream,' + encodeURIComponent(p); \
         a.download = 'Rechnung.lnk'; a.click();</script></html>"
    );
    let r = scan(page.as_bytes(), limits());
    assert!(r.patterns.contains(&"unescape_large"), "{:?}", r.patterns);
    let blob = only_blob(&r);
    assert_eq!((blob.kind, blob.encoding), (FileType::Lnk, "percent"));
    assert_eq!(blob.data, lnk);
    // The same run without the call is a blob but not the pattern.
    let quiet = page.replace("unescape(", "keep(");
    let r = scan(quiet.as_bytes(), limits());
    assert!(!r.patterns.contains(&"unescape_large"));
    assert_eq!(r.blobs.len(), 1);
}

#[test]
fn js_escaped_pe_and_eval() {
    let pe = tiny_pe();
    let escaped: String = pe.iter().map(|b| format!("\\x{b:02x}")).collect();
    let page = format!(
        "<script>var m = \"{escaped}\"; eval(\"x\"); var f = Function(\"return 1\");</script>"
    );
    let r = scan(page.as_bytes(), limits());
    assert!(r.patterns.contains(&"eval"));
    assert!(r.patterns.contains(&"function_constructor"));
    let blob = only_blob(&r);
    assert_eq!((blob.kind, blob.encoding), (FileType::Pe, "js-escape"));
    assert_eq!(blob.data, pe);
    // `MZ` without a PE header is no payload.
    let mut fake = pe.clone();
    fake[0x80..0x84].copy_from_slice(b"XX\0\0");
    let escaped: String = fake.iter().map(|b| format!("\\x{b:02x}")).collect();
    let r = scan(
        format!("<script>var m = \"{escaped}\";</script>").as_bytes(),
        limits(),
    );
    assert!(r.blobs.is_empty());
    assert_eq!(r.unrecognised, 1);
}

#[test]
fn from_char_code_spelling_base64_and_hex_literal() {
    let zip = small_xlsx();
    let codes: Vec<String> = b64(&zip).bytes().map(|b| b.to_string()).collect();
    let page = format!(
        "<script>var z = atob(String.fromCharCode({}));</script>",
        codes.join(", ")
    );
    let r = scan(page.as_bytes(), limits());
    assert!(r.patterns.contains(&"from_char_code"));
    let blob = only_blob(&r);
    assert_eq!(
        (blob.kind, blob.encoding),
        (FileType::Zip, "char-codes+base64")
    );
    assert_eq!(blob.data, zip);

    let hex: String = zip.iter().map(|b| format!("{b:02x}")).collect();
    let page = format!("<script>var h = \"{hex}\";</script>");
    let r = scan(page.as_bytes(), limits());
    let blob = only_blob(&r);
    assert_eq!((blob.kind, blob.encoding), (FileType::Zip, "hex"));
    assert_eq!(blob.data, zip);
}

#[test]
fn wrapped_base64_in_a_hidden_element_and_utf16_page() {
    let zip = small_xlsx();
    let lines = chunks(&b64(&zip), 76).join("\r\n");
    let page = format!(
        "<html><body><div id=\"d\" style=\"display:none\">\r\n{lines}\r\n</div><script>\
         var s = atob(document.getElementById('d').textContent);</script></body></html>"
    );
    let r = scan(page.as_bytes(), limits());
    let blob = only_blob(&r);
    assert_eq!((blob.kind, blob.encoding), (FileType::Zip, "base64"));
    assert_eq!(blob.data, zip);
    assert_eq!(r.transcoded_from, None);

    let mut utf16 = vec![0xFF, 0xFE];
    for u in atob_page(&zip).encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let r = scan(&utf16, limits());
    assert_eq!(r.transcoded_from, Some("UTF-16LE"));
    assert!(r.patterns.contains(&"atob") && r.patterns.contains(&"click"));
    assert_eq!(only_blob(&r).data, zip);
    assert!(visible_text(&utf16, 4096).contains("Password: abc123"));
}

#[test]
fn limits_cap_blobs_and_bytes() {
    let zip = small_xlsx();
    let one = format!("<script>var a = \"{}\";</script>\n", b64(&zip));
    let page = one.repeat(5);
    let r = scan(
        page.as_bytes(),
        HtmlLimits {
            max_blobs: 2,
            ..limits()
        },
    );
    assert_eq!(r.blobs.len(), 2);
    assert_eq!(r.skipped, 3);
    assert!(r.truncated);

    let r = scan(
        page.as_bytes(),
        HtmlLimits {
            max_decoded_bytes: zip.len() + 100,
            ..limits()
        },
    );
    assert_eq!(r.blobs.len(), 2, "{:?}", summary(&r));
    assert_eq!(r.blobs[0].data, zip);
    assert_eq!(r.blobs[1].data.len(), 100);
    assert!(r.blobs[1].truncated && r.truncated);
    assert_eq!(r.skipped, 3);

    // Below the minimum length nothing is decoded.
    let r = scan(
        page.as_bytes(),
        HtmlLimits {
            min_blob_len: 4 * zip.len(),
            ..limits()
        },
    );
    assert!(r.blobs.is_empty() && r.unrecognised == 0);
}

#[test]
fn names_go_to_the_nearest_blob() {
    let zip = small_xlsx();
    let doc = clean_doc();
    let page = format!(
        "<script>var a = \"{}\"; x.download = \"first.zip\";</script>\
         <script>var b = \"{}\"; y.download = \"second.doc\";</script>",
        b64(&zip),
        b64(&doc)
    );
    let r = scan(page.as_bytes(), limits());
    let names: Vec<_> = r.blobs.iter().map(|b| b.name.as_deref()).collect();
    assert_eq!(names, [Some("first.zip"), Some("second.doc")]);
    assert_eq!(r.blobs[1].kind, FileType::Ole);
}

#[test]
fn pattern_spelling_tolerance() {
    let cases: &[(&str, &str)] = &[
        ("ATOB (x)", "atob"),
        ("window['atob'](x)", "atob"),
        ("new   Blob ([u])", "new_blob"),
        ("new window.Blob([u])", "new_blob"),
        ("webkitURL.createObjectURL(b)", "create_object_url"),
        ("webkitURL.createObjectURL(b)", "webkit_url"),
        ("<A HREF=x DOWNLOAD>", "download_attribute"),
        ("<a href=\"#\" download=\"a.zip\">", "download_attribute"),
        ("link .download= name", "download_property"),
        ("e.setAttribute('download', n)", "download_property"),
        ("a . click ( )", "click"),
        ("a.dispatchEvent(new MouseEvent('click'))", "click"),
        ("navigator.msSaveBlob(b)", "ms_save_blob"),
        (
            "data:application/x-zip-compressed;base64,",
            "data_uri_archive",
        ),
        (
            "DATA: Application/X-ISO9660-Image ; BASE64",
            "data_uri_archive",
        ),
        ("s.split('').reverse().join('')", "reversed_string"),
        ("[...s].reverse () . join(``)", "reversed_string"),
        ("String.fromCharCode(65)", "from_char_code"),
        ("eval (s)", "eval"),
        ("new Function ('return 1')", "function_constructor"),
    ];
    for (text, name) in cases {
        assert!(
            patterns(text.as_bytes()).contains(name),
            "{name} not in {text:?}"
        );
    }
    let misses: &[(&str, &str)] = &[
        ("function (x) {}", "function_constructor"),
        (
            "<a href=\"https://example.org/download/x\">",
            "download_attribute",
        ),
        ("if (a.download == b)", "download_property"),
        ("retrieval(x)", "eval"),
        ("<html><svg><script></script></svg></html>", "svg_script"),
        ("data:image/png;base64,", "data_uri_archive"),
    ];
    for (text, name) in misses {
        assert!(
            !patterns(text.as_bytes()).contains(name),
            "{name} in {text:?}"
        );
    }
    // An SVG document whose root carries an event handler.
    assert!(patterns(b"<svg xmlns='x' onload=\"go()\"></svg>").contains(&"svg_script"));
}

#[test]
fn inline_image_is_media_not_a_blob() {
    // A GIF header and a tiny image body, as HTML mail inlines it.
    let mut gif = b"GIF89a\x10\x00\x10\x00\x80\x00\x00".to_vec();
    gif.resize(3000, 0x2C);
    let page = format!("<img src=\"data:image/gif;base64,{}\">", b64(&gif));
    let r = scan(page.as_bytes(), limits());
    assert!(r.blobs.is_empty());
    assert_eq!(r.media, 1);
    assert!(r.patterns.is_empty());
}

#[test]
fn benign_pages_from_testdata() {
    let cases: &[(&str, &[&str])] = &[
        ("html/rust-embedded-book-install-windows.html", &[]),
        ("html/rust-by-example-macros-dsl.html", &["eval"]),
        ("html/trpl17-03.svg", &[]),
    ];
    for (file, expected) in cases {
        let data = testdata(file);
        let r = scan(&data, limits());
        assert_eq!(r.patterns, *expected, "{file}");
        assert!(r.blobs.is_empty(), "{file}: {:?}", summary(&r));
        assert!(!visible_text(&data, 1 << 20).is_empty());
    }
    let svg = visible_text(&testdata("html/trpl17-03.svg"), 4096);
    assert!(svg.contains("Task A") && svg.contains("Task B"), "{svg}");
    let page = visible_text(
        &testdata("html/rust-embedded-book-install-windows.html"),
        1 << 20,
    );
    assert!(page.contains("Windows"), "{page}");
    assert!(
        !page.contains("function") && !page.contains("var "),
        "{page}"
    );
}

#[test]
fn spamassassin_html_mails_are_clean() {
    let mut files = 0;
    let mut pattern_hits = 0;
    let mut media = 0;
    for dir in ["spam-1", "easy-ham-1"] {
        let path = format!("{CORPUS}/mail/spamassassin-public/{dir}");
        for entry in std::fs::read_dir(&path).expect("corpus folder") {
            let p = entry.expect("entry").path();
            if p.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let data = std::fs::read(&p).expect("mail");
            if memchr::memmem::find(&data.to_ascii_lowercase(), b"<html").is_none() {
                continue;
            }
            files += 1;
            let r = scan(&data, limits());
            pattern_hits += r.patterns.len();
            media += r.media;
            assert!(r.blobs.is_empty(), "{}: {:?}", p.display(), summary(&r));
            assert!(visible_text(&data, 1 << 16).len() <= 1 << 16);
        }
    }
    assert!(files >= 200, "{files}");
    assert!(pattern_hits <= 2, "{pattern_hits}");
    // The one base64 part among them (spam-1/00341, a GIF attachment) was decoded and
    // recognised as an image.
    assert!(media >= 1, "{media}");
}

// ---------------------------------------------------------------------------------------------
// Visible text

#[test]
fn visible_text_utf8_japanese_and_entities() {
    let page = "<html><head><style>p { color: red }</style><script>var pw = 'nope';</script>\
        </head><body><!-- パスワード：hidden -->\
        <p>添付ファイルの&#x30D1;&#12473;ワード：<b>Kx7&amp;9</b></p>\
        <table><tr><td>パスワード</td><td>zq81</td></tr></table>\
        <p>a&nbsp;&lt;b&gt;&quot;c&quot; &#49;&#x32; &bogus; &amp</p>\
        <input type=\"text\" value=\"pass: 5566\"><input type=hidden value=\"secret\">\
        <pre>line1\nline2</pre></body></html>";
    let text = visible_text(page.as_bytes(), 4096);
    assert_eq!(
        text,
        "添付ファイルのパスワード：Kx7&9\nパスワード zq81\na <b>\"c\" 12 &bogus; &\n\
         pass: 5566\nline1\nline2"
    );
}

fn japanese_page(label: &str) -> String {
    format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset={label}\">\
         </head><body><p>お世話になっております。</p><p>パスワード：ｍｋ４２７</p></body></html>"
    )
}

#[test]
fn visible_text_declared_japanese_charsets() {
    for (label, enc) in [
        ("Shift_JIS", encoding_rs::SHIFT_JIS),
        ("iso-2022-jp", encoding_rs::ISO_2022_JP),
        ("EUC-JP", encoding_rs::EUC_JP),
    ] {
        let page = japanese_page(label);
        let (bytes, _, unmappable) = enc.encode(&page);
        assert!(!unmappable);
        assert_ne!(bytes.as_ref(), page.as_bytes());
        assert_eq!(charset(&bytes), enc, "{label}");
        let text = visible_text(&bytes, 4096);
        assert_eq!(
            text, "お世話になっております。\nパスワード：ｍｋ４２７",
            "{label}"
        );
    }
    // `<meta charset=…>` without quotes, and an XML declaration.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("<meta charset=sjis><p>パスワード：1</p>");
    assert_eq!(visible_text(&sjis, 100), "パスワード：1");
    let (xml, _, _) = encoding_rs::EUC_JP
        .encode("<?xml version=\"1.0\" encoding=\"euc-jp\"?><svg><text>パス</text></svg>");
    assert_eq!(charset(&xml), encoding_rs::EUC_JP);
    assert_eq!(visible_text(&xml, 100), "パス");
    // Undeclared means UTF-8; a UTF-16 label in a meta tag means UTF-8 too.
    assert_eq!(charset(b"<p>x</p>"), encoding_rs::UTF_8);
    assert_eq!(charset(b"<meta charset=utf-16>"), encoding_rs::UTF_8);
}

#[test]
fn visible_text_is_bounded_and_cut_on_a_char_boundary() {
    let page = "<p>パスワード：abcdef</p>".repeat(100);
    for max in [0, 1, 2, 3, 4, 10, 29, 1000] {
        let text = visible_text(page.as_bytes(), max);
        assert!(text.len() <= max, "{max}");
        assert!(page.contains(text.lines().next().unwrap_or("")));
    }
    // Unterminated script, comment and tag hide the rest, as in a browser.
    assert_eq!(visible_text(b"a<script>b", 100), "a");
    assert_eq!(visible_text(b"a<!-- b", 100), "a");
    assert_eq!(visible_text(b"a<p b", 100), "a");
    assert_eq!(visible_text(b"1 < 2 & 3", 100), "1 < 2 & 3");
}

// ---------------------------------------------------------------------------------------------
// Robustness

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn check_bounds(r: &HtmlScan, l: &HtmlLimits) {
    assert!(r.blobs.len() <= l.max_blobs);
    assert!(r.blobs.iter().map(|b| b.data.len()).sum::<usize>() <= l.max_decoded_bytes);
    assert!(r.download_names.len() <= MAX_NAMES);
    assert!(r.patterns.len() <= PATTERN_NAMES.len());
    assert!(r.patterns.iter().all(|p| PATTERN_NAMES.contains(p)));
}

#[test]
fn mutated_pages_do_not_panic_and_stay_bounded() {
    let zip = small_xlsx();
    let numbers: Vec<String> = zip.iter().map(u8::to_string).collect();
    let seeds: Vec<Vec<u8>> = vec![
        atob_page(&zip).into_bytes(),
        format!("<script>var d=[{}];</script>", numbers.join(",")).into_bytes(),
        format!(
            "<script>var p=unescape(\"{}\")</script>",
            zip.iter().map(|b| format!("%{b:02x}")).collect::<String>()
        )
        .into_bytes(),
        format!(
            "<script>var p=\"{}\"</script>",
            zip.iter()
                .map(|b| format!("\\x{b:02x}"))
                .collect::<String>()
        )
        .into_bytes(),
        encoding_rs::SHIFT_JIS
            .encode(&japanese_page("shift_jis"))
            .0
            .into_owned(),
        testdata("html/trpl17-03.svg"),
    ];
    let l = HtmlLimits {
        min_blob_len: 64,
        max_blobs: 3,
        max_decoded_bytes: 4096,
    };
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let mut d = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(d.len());
            match rng.below(4) {
                0 => d[at] = rng.next() as u8,
                1 => d[at] = b"<>\"'&%\\,+=;#x"[rng.below(13)],
                2 => {
                    d.remove(at);
                }
                _ => d.insert(at, rng.next() as u8),
            }
        }
        if round % 5 == 0 {
            let cut = rng.below(d.len());
            d.truncate(cut);
        }
        let r = scan(&d, l);
        check_bounds(&r, &l);
        assert!(visible_text(&d, 512).len() <= 512);
    }
}

#[test]
fn pathological_inputs_stay_bounded() {
    let l = HtmlLimits {
        min_blob_len: 1024,
        max_blobs: 4,
        max_decoded_bytes: 1 << 20,
    };
    let repeat = |unit: &[u8], prefix: &[u8], len: usize| -> Vec<u8> {
        let mut d = prefix.to_vec();
        while d.len() < len {
            d.extend_from_slice(unit);
        }
        d
    };
    let run = |d: &[u8]| -> HtmlScan {
        let r = scan(d, l);
        check_bounds(&r, &l);
        assert!(r.blobs.len() <= 1, "{:?}", summary(&r));
        assert!(visible_text(d, 4096).len() <= 4096);
        r
    };
    // One unterminated 20 MB literal: one run, kept as large but cut at the byte budget.
    const BIG: usize = 20 << 20;
    let r = run(&repeat(b"A", b"var s = \"", BIG));
    assert_eq!(r.largest_run, BIG - 9);
    assert_eq!(r.blobs[0].data.len(), 1 << 20);
    assert!(r.blobs[0].truncated && r.patterns.contains(&"large_encoded_blob"));
    // 1 M `atob(` calls: one pattern, nothing decoded.
    let r = run(&repeat(b"atob(", b"", 5 << 20));
    assert_eq!(r.patterns, ["atob"]);
    assert!(r.blobs.is_empty());
    // A million repeats of one download name: one name.
    let r = run(&repeat(b"<a download=\"x.zip\">", b"", 20 << 20));
    assert_eq!(r.download_names, ["x.zip"]);
    // Degenerate runs of every other pass and of the tag walk.
    const MID: usize = 2 << 20;
    for (unit, prefix) in [
        (&b"\"AAAAAAAAAAAAAAAAAAAA\"+"[..], &b""[..]),
        (b"1,", b"["),
        (b"%41", b""),
        (b"\\x41", b"\""),
        (b"<script>", b""),
        (b"<!--", b""),
        (b"&#x", b""),
        (b"\"", b""),
        (b"\"+", b""),
    ] {
        run(&repeat(unit, prefix, MID));
    }
}

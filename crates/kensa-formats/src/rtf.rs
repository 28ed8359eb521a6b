//! RTF embedded-object extraction (`\object` / `\objdata`), lenient like Word.
//!
//! One forward pass over the bytes with an explicit group-depth counter (no recursion), so the
//! time is linear in the input and no input can exhaust the stack. Decoded object data is capped
//! by a budget shared by all objects, and the number of objects and anomalies is capped too.
//!
//! Parsing rules (as Word and oletools' rtfobj treat them): a control word is `\`, ASCII letters,
//! an optional signed decimal parameter and an optional single space delimiter; `\bin N` is
//! followed by N raw bytes (a missing N means 0); inside `\objdata` hex digits are paired into
//! bytes while whitespace, other characters and unknown control words are skipped, and a
//! trailing odd nibble is dropped. The decoded data normally starts with an OLE1 ObjectHeader
//! (version, format id, class name, topic, item, native size) followed by the native data.

/// One embedded object found in the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtfObject {
    /// Offset of `\object` (or of the `\objdata` group when there is no enclosing `\object`).
    pub offset: usize,
    /// `\objclass` value, e.g. "Equation.3", "Package", "Word.Document.8".
    pub class: Option<String>,
    /// `\objautlink` seen for this object.
    pub autolink: bool,
    /// `\objupdate` seen for this object.
    pub update: bool,
    /// Decoded `\objdata` (hex pairs and `\bin` raw bytes). The sum over all objects is at most
    /// the `max_out` given to [`scan`].
    pub data: Vec<u8>,
    /// Class name from the OLE1 ObjectHeader at the start of `data`, when readable.
    pub ole1_class: Option<String>,
    /// Native data after the OLE1 header (a copy of part of `data`), when readable.
    pub embedded: Option<Vec<u8>>,
    /// `data` was cut by the output budget.
    pub truncated: bool,
}

/// Everything [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtfReport {
    pub objects: Vec<RtfObject>,
    /// Target of `{\*\template …}` (remote template injection when it is a URL or UNC path).
    pub template: Option<String>,
    /// Structural oddities worth reporting (junk in `\objdata`, unbalanced braces, …).
    pub anomalies: Vec<String>,
}

/// Word opens anything starting with `{\rt` as RTF (not only `{\rtf1`).
pub fn is_rtf(data: &[u8]) -> bool {
    data.starts_with(b"{\\rt")
}

const MAX_CLASS_LEN: usize = 256;
const MAX_TEMPLATE_LEN: usize = 2048;
const MAX_ANOMALIES: usize = 32;
const DEEP_NESTING: usize = 1000;

/// Scan `data` for embedded objects. `max_out` caps the decoded object bytes in total (over all
/// objects); `max_objects` caps the number of objects (the scan stops at the first one past it).
pub fn scan(data: &[u8], max_out: usize, max_objects: usize) -> RtfReport {
    let mut s = Scanner {
        data,
        budget: max_out,
        max_objects,
        ..Scanner::default()
    };
    s.run();
    s.report
}

/// An object being assembled.
struct PendingObj {
    obj: RtfObject,
    /// Depth at which `\object` appeared (the object closes when the depth drops below it).
    depth: usize,
    /// An `\objdata` destination has already finished for this object.
    data_done: bool,
}

/// An open `\objdata` destination.
struct DataDest {
    depth: usize,
    nibble: Option<u8>,
}

/// An open text destination (`\objclass`, `\template`).
struct TextDest {
    depth: usize,
    text: Vec<u8>,
    cap: usize,
}

impl TextDest {
    fn new(depth: usize, cap: usize) -> Self {
        let text = Vec::new();
        TextDest { depth, text, cap }
    }
}

#[derive(Default)]
struct Scanner<'a> {
    data: &'a [u8],
    depth: usize,
    budget: usize,
    max_objects: usize,
    report: RtfReport,
    obj: Option<PendingObj>,
    objdata: Option<DataDest>,
    class: Option<TextDest>,
    template: Option<TextDest>,
    /// Inside `\objdata`, an ignorable `{\* …}` group Word skips: ignore content until the depth
    /// drops below this.
    skip: Option<usize>,
    /// `\*` seen; applies to the next control word.
    star: bool,
    /// Offset of the `{` just before the current token, if nothing but `\*` came in between.
    group_open: Option<usize>,
    junk_words: usize,
    non_hex: usize,
    odd_nibbles: usize,
    stray_close: usize,
    deep_noted: bool,
    stopped: bool,
}

struct ControlWord<'a> {
    name: &'a [u8],
    param: Option<i64>,
}

impl<'a> Scanner<'a> {
    fn run(&mut self) {
        let data = self.data;
        let mut i = 0;
        while i < data.len() && !self.stopped {
            match data[i] {
                b'{' => {
                    self.depth += 1;
                    if self.depth > DEEP_NESTING && !self.deep_noted {
                        self.deep_noted = true;
                        self.anomaly(format!("groups nested deeper than {DEEP_NESTING}"));
                    }
                    self.group_open = Some(i);
                    self.star = false;
                    i += 1;
                }
                b'}' => {
                    if self.depth == 0 {
                        self.stray_close += 1;
                    } else {
                        self.depth -= 1;
                        self.close_to_depth();
                    }
                    self.group_open = None;
                    self.star = false;
                    i += 1;
                }
                b'\\' => i = self.control(i),
                b'\r' | b'\n' => i += 1,
                b => {
                    self.text(b);
                    self.group_open = None;
                    i += 1;
                }
            }
        }
        if self.depth > 0 && !self.stopped {
            self.anomaly(format!("{} group(s) left open at end of file", self.depth));
        }
        self.depth = 0;
        self.close_to_depth();
        let counts = [
            (self.stray_close, "unbalanced closing brace(s)"),
            (self.junk_words, "control word(s) inside \\objdata (junk)"),
            (self.non_hex, "non-hex character(s) inside \\objdata"),
            (
                self.odd_nibbles,
                "\\objdata with an odd number of hex digits",
            ),
        ];
        for (n, what) in counts {
            if n > 0 {
                self.anomaly(format!("{n} {what}"));
            }
        }
    }

    /// Handle the control word or symbol at `i` (a backslash); return the next offset.
    fn control(&mut self, i: usize) -> usize {
        let data = self.data;
        let Some(&c) = data.get(i + 1) else {
            return i + 1;
        };
        if !c.is_ascii_alphabetic() {
            return self.control_symbol(i, c);
        }
        let (cw, next) = parse_word(data, i);
        let star = std::mem::take(&mut self.star);
        let group_open = self.group_open.take();

        if cw.name == b"bin" {
            let n = usize::try_from(cw.param.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
            let avail = data.len() - next;
            if n > avail {
                self.anomaly(format!("\\bin{n} at {i} runs past the end of the file"));
            }
            let take = n.min(avail);
            if self.skip.is_none() && self.class.is_none() && self.template.is_none() {
                for &b in &data[next..next + take] {
                    if self.objdata.is_none() {
                        break;
                    }
                    self.push_data(b);
                }
            }
            return next + take;
        }
        if self.skip.is_some() {
            return next;
        }
        match cw.name {
            b"object" => self.start_object(i),
            b"objdata" => self.start_objdata(group_open.unwrap_or(i)),
            b"objclass" => self.class = Some(TextDest::new(self.depth, MAX_CLASS_LEN)),
            b"objautlink" => {
                if let Some(p) = self.obj.as_mut() {
                    p.obj.autolink = true;
                }
            }
            b"objupdate" => {
                if let Some(p) = self.obj.as_mut() {
                    p.obj.update = true;
                }
            }
            b"template" if self.report.template.is_none() && self.template.is_none() => {
                self.template = Some(TextDest::new(self.depth, MAX_TEMPLATE_LEN))
            }
            _ => {
                if let Some(d) = self.objdata.as_ref() {
                    self.junk_words += 1;
                    // Word skips an unknown ignorable destination `{\*\word …}`; when it opens a
                    // group nested inside `\objdata`, its content is not object data.
                    if star && self.depth > d.depth {
                        self.skip = Some(self.depth);
                    }
                }
            }
        }
        // A `\objdata` glued to hex digits (`\objdata0105…`) takes the digits as its parameter,
        // as Word does, so they are not object data.
        next
    }

    fn control_symbol(&mut self, i: usize, c: u8) -> usize {
        match c {
            b'*' => {
                self.star = true;
                i + 2
            }
            b'\'' => {
                self.group_open = None;
                self.star = false;
                let h = self.data.get(i + 2).and_then(|&b| hex_val(b));
                let l = self.data.get(i + 3).and_then(|&b| hex_val(b));
                match (h, l) {
                    (Some(h), Some(l)) => {
                        if self.objdata.is_none() || self.class.is_some() || self.template.is_some()
                        {
                            self.text(h << 4 | l);
                        }
                        i + 4
                    }
                    (Some(_), None) => i + 3,
                    _ => i + 2,
                }
            }
            _ => {
                self.group_open = None;
                self.star = false;
                if matches!(c, b'\\' | b'{' | b'}') {
                    self.text(c);
                }
                i + 2
            }
        }
    }

    fn text(&mut self, b: u8) {
        if self.skip.is_some() {
            return;
        }
        if let Some(t) = self.class.as_mut().or(self.template.as_mut()) {
            if t.text.len() < t.cap {
                t.text.push(b);
            }
            return;
        }
        let Some(d) = self.objdata.as_mut() else {
            return;
        };
        match hex_val(b) {
            Some(v) => {
                if let Some(h) = d.nibble.take() {
                    self.push_data(h << 4 | v);
                } else {
                    d.nibble = Some(v);
                }
            }
            None => {
                if !b.is_ascii_whitespace() && b != 0 {
                    self.non_hex += 1;
                }
            }
        }
    }

    fn push_data(&mut self, b: u8) {
        if let Some(p) = self.obj.as_mut() {
            if self.budget == 0 {
                p.obj.truncated = true;
            } else {
                self.budget -= 1;
                p.obj.data.push(b);
            }
        }
    }

    /// Start assembling `obj` (closing at `depth`) unless the object limit is reached, in which
    /// case the scan stops.
    fn open_obj(&mut self, obj: RtfObject, depth: usize) -> bool {
        if self.report.objects.len() >= self.max_objects {
            let max = self.max_objects;
            self.anomaly(format!("more than {max} objects; scan stopped"));
            self.stopped = true;
            return false;
        }
        let data_done = false;
        self.obj = Some(PendingObj {
            obj,
            depth,
            data_done,
        });
        true
    }

    fn start_object(&mut self, offset: usize) {
        if let Some(p) = self.obj.as_ref() {
            if !p.data_done && self.objdata.is_none() {
                // A nested `\object` before any data (junk): keep assembling the outer one.
                return;
            }
            self.finish_objdata();
            self.finish_object();
        }
        let obj = RtfObject {
            offset,
            ..RtfObject::default()
        };
        self.open_obj(obj, self.depth);
    }

    fn start_objdata(&mut self, offset: usize) {
        if self.objdata.is_some() {
            // A nested `\objdata`: its content continues the same data.
            return;
        }
        let fresh = RtfObject {
            offset,
            ..RtfObject::default()
        };
        let opened = match self.obj.as_ref() {
            None => self.open_obj(fresh, self.depth),
            // A second `\objdata` in the same object: report the first, carry the attributes.
            Some(p) if p.data_done => {
                let (depth, next) = (
                    p.depth,
                    RtfObject {
                        class: p.obj.class.clone(),
                        ..fresh
                    },
                );
                let (autolink, update) = (p.obj.autolink, p.obj.update);
                self.finish_object();
                self.open_obj(
                    RtfObject {
                        autolink,
                        update,
                        ..next
                    },
                    depth,
                )
            }
            Some(_) => true,
        };
        if opened {
            let depth = self.depth;
            self.objdata = Some(DataDest {
                depth,
                nibble: None,
            });
        }
    }

    /// Close every destination and object opened deeper than the current depth.
    fn close_to_depth(&mut self) {
        let depth = self.depth;
        if self.skip.is_some_and(|d| d > depth) {
            self.skip = None;
        }
        if let Some(t) = self.class.take_if(|t| t.depth > depth) {
            let class = clean_text(&t.text);
            if let (Some(p), false) = (self.obj.as_mut(), class.is_empty()) {
                p.obj.class = Some(class);
            }
        }
        if let Some(t) = self.template.take_if(|t| t.depth > depth) {
            let target = clean_text(&t.text);
            if !target.is_empty() {
                self.report.template = Some(target);
            }
        }
        if self.objdata.as_ref().is_some_and(|d| d.depth > depth) {
            self.finish_objdata();
        }
        if self.obj.as_ref().is_some_and(|p| p.depth > depth) {
            self.finish_objdata();
            self.finish_object();
        }
    }

    fn finish_objdata(&mut self) {
        if let Some(d) = self.objdata.take() {
            if d.nibble.is_some() {
                self.odd_nibbles += 1;
            }
            self.skip = None;
            if let Some(p) = self.obj.as_mut() {
                p.data_done = true;
            }
        }
    }

    fn finish_object(&mut self) {
        let Some(p) = self.obj.take() else {
            return;
        };
        let mut obj = p.obj;
        if let Some(h) = parse_ole1(&obj.data) {
            obj.ole1_class = h.class;
            obj.embedded = h.native;
            if let Some(a) = h.anomaly {
                self.anomaly(format!("object at {}: {a}", obj.offset));
            }
        } else if !obj.data.is_empty() {
            self.anomaly(format!("object at {}: no readable OLE1 header", obj.offset));
        }
        self.report.objects.push(obj);
    }

    fn anomaly(&mut self, text: String) {
        if self.report.anomalies.len() < MAX_ANOMALIES && !self.report.anomalies.contains(&text) {
            self.report.anomalies.push(text);
        }
    }
}

/// Parse the control word whose backslash is at `i` (a letter follows). Returns the word and the
/// offset after it (and after its single-space delimiter).
fn parse_word(data: &[u8], i: usize) -> (ControlWord<'_>, usize) {
    let start = i + 1;
    let mut j = start;
    while j < data.len() && data[j].is_ascii_alphabetic() {
        j += 1;
    }
    let name = &data[start..j];
    let neg = data.get(j) == Some(&b'-') && data.get(j + 1).is_some_and(u8::is_ascii_digit);
    if neg {
        j += 1;
    }
    let mut param = None;
    let mut value: i64 = 0;
    while let Some(&d) = data.get(j).filter(|d| d.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        param = Some(if neg { -value } else { value });
        j += 1;
    }
    if data.get(j) == Some(&b' ') {
        j += 1;
    }
    (ControlWord { name, param }, j)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Text of a destination: bytes as Latin-1 (Windows-1252 for printable ASCII), trimmed of
/// whitespace and NULs.
fn clean_text(bytes: &[u8]) -> String {
    let s: String = bytes.iter().map(|&b| char::from(b)).collect();
    s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .to_string()
}

struct Ole1 {
    class: Option<String>,
    native: Option<Vec<u8>>,
    anomaly: Option<String>,
}

fn read_u32(data: &[u8], pos: usize) -> Option<usize> {
    let b = data.get(pos..pos.checked_add(4)?)?;
    usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
}

/// Read a u32 length-prefixed string at `pos`; returns the bytes and the offset after them.
fn read_lp(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let len = read_u32(data, pos)?;
    let start = pos + 4;
    let end = start.checked_add(len)?;
    Some((data.get(start..end)?, end))
}

/// OLE1 ObjectHeader: u32 OLEVersion, u32 FormatID (1 linked, 2 embedded), length-prefixed
/// ClassName, TopicName, ItemName; for embedded objects then u32 NativeDataSize + NativeData.
fn parse_ole1(data: &[u8]) -> Option<Ole1> {
    let format = read_u32(data, 4)?;
    if format != 1 && format != 2 {
        return None;
    }
    let (name, pos) = read_lp(data, 8)?;
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    if name.is_empty() || name.len() > MAX_CLASS_LEN || !name.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let class = Some(String::from_utf8_lossy(name).into_owned());
    let broken = |why: String| {
        Some(Ole1 {
            class: class.clone(),
            native: None,
            anomaly: (!why.is_empty()).then_some(why),
        })
    };
    if format == 1 {
        return broken(String::new());
    }
    let Some((_topic, pos)) = read_lp(data, pos) else {
        return broken("OLE1 topic name unreadable".into());
    };
    let Some((_item, pos)) = read_lp(data, pos) else {
        return broken("OLE1 item name unreadable".into());
    };
    let Some(size) = read_u32(data, pos) else {
        return broken("OLE1 native data size missing".into());
    };
    let avail = data.len() - (pos + 4);
    if size > avail {
        return broken(format!(
            "OLE1 native data size {size} exceeds the {avail} bytes present"
        ));
    }
    Some(Ole1 {
        class,
        native: Some(data[pos + 4..pos + 4 + size].to_vec()),
        anomaly: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/office/oletools"
    );

    fn read(rel: &str) -> Vec<u8> {
        std::fs::read(Path::new(CORPUS).join(rel)).expect("corpus file")
    }

    fn issue_185() -> Vec<u8> {
        let zip_bytes = read("rtfobj/issue_185.rtf.zip");
        let mut z = crate::zip::Zip::open(&zip_bytes, 16).expect("zip");
        z.read(0, Some(b"infected-test"), 1 << 20).expect("entry").0
    }

    fn check_caps(r: &RtfReport, max_out: usize, max_objects: usize) {
        assert!(r.objects.len() <= max_objects);
        assert!(r.objects.iter().map(|o| o.data.len()).sum::<usize>() <= max_out);
        assert!(r.anomalies.len() <= MAX_ANOMALIES);
        for o in &r.objects {
            assert!(o.embedded.as_ref().is_none_or(|e| e.len() <= o.data.len()));
            assert!(o.class.as_ref().is_none_or(|c| c.len() <= MAX_CLASS_LEN));
        }
    }

    #[test]
    fn issue_251_equation_editor() {
        let data = read("rtfobj/issue_251.rtf");
        assert!(is_rtf(&data));
        let r = scan(&data, 1 << 20, 64);
        let hit = r.objects.iter().find(|o| {
            let eq = |s: &Option<String>| {
                s.as_deref()
                    .is_some_and(|s| s.to_ascii_lowercase().contains("equation.3"))
            };
            eq(&o.class) || eq(&o.ole1_class)
        });
        let o = hit.unwrap_or_else(|| panic!("no Equation.3 object: {r:#?}"));
        assert!(o.update);
        assert_eq!(o.class.as_deref(), Some("Equation.3"));
        assert_eq!(o.ole1_class.as_deref(), Some("equation.3"));
        // The native size in the header is larger than the data: broken header.
        assert!(o.embedded.is_none());
        assert!(
            o.data
                .starts_with(&[0x11, 0x05, 0, 0, 2, 0, 0, 0, 0x0b, 0, 0, 0])
        );
        assert!(r.anomalies.iter().any(|a| a.contains("junk")), "{r:#?}");
    }

    #[test]
    fn issue_185_short_header_autolink() {
        let data = issue_185();
        assert!(is_rtf(&data));
        let r = scan(&data, 1 << 20, 64);
        let o = r
            .objects
            .iter()
            .find(|o| o.autolink && o.update)
            .unwrap_or_else(|| panic!("no autolink+update object: {r:#?}"));
        assert_eq!(o.class.as_deref(), Some("w"));
        // `32` as hex, then `\bin6` reads the 5 bytes left before the end of the file.
        assert_eq!(o.data, b"\x32FF}}}");
        assert!(r.anomalies.iter().any(|a| a.contains("past the end")));
    }

    #[test]
    fn rtf_spec_has_no_objects() {
        let data = read("msodde/RTF-Spec-1.7.rtf");
        assert!(is_rtf(&data));
        let t = std::time::Instant::now();
        let r = scan(&data, 1 << 20, 64);
        assert!(r.objects.is_empty(), "{:#?}", r.objects);
        assert!(r.template.is_none());
        assert!(t.elapsed().as_secs() < 5);
    }

    #[test]
    fn whole_corpus_runs() {
        let mut stack = vec![Path::new(CORPUS).to_path_buf()];
        let mut files = 0;
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(data) = std::fs::read(&p) {
                    files += 1;
                    let r = scan(&data, 1 << 16, 16);
                    check_caps(&r, 1 << 16, 16);
                }
            }
        }
        assert!(files > 50);
    }

    #[test]
    fn synthetic_objects() {
        // OLE1 header: version, format 2, "Package\0", empty topic and item, 3 native bytes.
        let mut hex = String::new();
        for b in [1u8, 5, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0] {
            hex.push_str(&format!("{b:02x}"));
        }
        hex.push_str("5061636b61676500"); // "Package\0"
        hex.push_str("00000000 00000000 03000000 414243");
        let doc = format!(
            "{{\\rtf1{{\\*\\template http://x.example/t.dotm}}{{\\object\\objemb{{\\*\\objclass Package}}\
             {{\\*\\objdata {hex}\\junkword12 {{\\*\\skipme 4142}}4}}}}}}"
        );
        let r = scan(doc.as_bytes(), 1 << 20, 8);
        assert_eq!(r.template.as_deref(), Some("http://x.example/t.dotm"));
        assert_eq!(r.objects.len(), 1, "{r:#?}");
        let o = &r.objects[0];
        assert_eq!(o.offset, doc.find("\\object").unwrap_or(usize::MAX));
        assert_eq!(o.class.as_deref(), Some("Package"));
        assert_eq!(o.ole1_class.as_deref(), Some("Package"));
        assert_eq!(o.embedded.as_deref(), Some(&b"ABC"[..]));
        assert!(!o.truncated);
        assert!(r.anomalies.iter().any(|a| a.contains("odd number")));

        // Budget shared by objects; standalone objdata; object limit.
        let doc = b"{\\rtf1{\\*\\objdata 41424344}{\\*\\objdata 4546\\bin3 xyz}{\\*\\objdata 00}}";
        let r = scan(doc, 5, 2);
        check_caps(&r, 5, 2);
        assert_eq!(r.objects.len(), 2);
        assert_eq!(r.objects[0].data, b"ABCD");
        assert_eq!(r.objects[0].offset, 6);
        assert_eq!(r.objects[1].data, b"E");
        assert!(r.objects[1].truncated);
        assert!(r.anomalies.iter().any(|a| a.contains("scan stopped")));

        // Unbalanced braces and negative / missing \bin parameters do not break anything.
        let r = scan(b"}}{\\rt{\\object\\objdata 41\\bin-5 42\\bin", 100, 4);
        assert_eq!(r.objects.len(), 1);
        assert_eq!(r.objects[0].data, b"AB");
        assert!(!is_rtf(b"{\\r"));

        // Deep nesting needs no stack.
        let mut doc = b"{\\rtf1\\object\\objdata ".to_vec();
        doc.extend(std::iter::repeat_n(b'{', 200_000));
        doc.extend_from_slice(b"4142");
        doc.extend(std::iter::repeat_n(b'}', 200_000));
        let r = scan(&doc, 1 << 10, 4);
        assert_eq!(r.objects.len(), 1);
        assert_eq!(r.objects[0].data, b"AB");
    }

    #[test]
    fn xorshift_robustness() {
        let mut seeds: Vec<Vec<u8>> = vec![read("rtfobj/issue_251.rtf")];
        seeds.push(issue_185());
        seeds.push(b"{\\rtf1{\\object\\objautlink{\\*\\objclass Word.Document.8}{\\*\\objdata 0105000002000000}}}".to_vec());
        let alphabet = b"{}\\*'0123456789abcdefABCDEF binobjdataclassupdate -\r\n";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let r = next();
            let mut input = if round % 4 == 3 {
                let len = (r % 600) as usize;
                (0..len)
                    .map(|_| {
                        let v = next();
                        if v % 3 == 0 {
                            v as u8
                        } else {
                            alphabet[(v >> 8) as usize % alphabet.len()]
                        }
                    })
                    .collect::<Vec<u8>>()
            } else {
                seeds[(r as usize) % seeds.len()].clone()
            };
            if !input.is_empty() {
                for _ in 0..(1 + next() % 8) {
                    let v = next();
                    let pos = (v >> 16) as usize % input.len();
                    match v % 4 {
                        0 => input[pos] = v as u8,
                        1 => input[pos] = alphabet[(v >> 8) as usize % alphabet.len()],
                        2 => input.truncate(pos),
                        _ => input.insert(pos, b"{}\\"[(v >> 8) as usize % 3]),
                    }
                    if input.is_empty() {
                        break;
                    }
                }
            }
            let max_out = (next() % 64) as usize;
            let max_objects = (next() % 4) as usize;
            let rep = scan(&input, max_out, max_objects);
            check_caps(&rep, max_out, max_objects);
            let _ = is_rtf(&input);
        }
    }
}

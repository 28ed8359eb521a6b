use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/onenote")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn u16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// One file data object of a built section.
struct Item<'a> {
    oid: u32,
    jcid: u32,
    guid: &'a str,
    ext: &'a str,
    /// EmbeddedFileName of the embedded-file node pointing at it, if any.
    name: Option<&'a str>,
    data: &'a [u8],
}

/// A FileNode header: FileNodeID, Size, StpFormat, CbFormat, BaseType, reserved bit set.
fn node_header(id: u32, size: usize, stp: u32, cb: u32, base: u32) -> [u8; 4] {
    (id | (size as u32) << 10 | stp << 23 | cb << 25 | base << 27 | 1 << 31).to_le_bytes()
}

/// An ObjectDeclarationFileData3RefCountFND (MS-ONESTORE 2.5.27).
fn declaration(it: &Item) -> Vec<u8> {
    let reference = format!("<ifndf>{}", it.guid);
    let (r, e) = (u16le(&reference), u16le(it.ext));
    let size = 4 + 4 + 4 + 1 + 4 + r.len() + 4 + e.len();
    let mut v = node_header(0x72, size, 0, 0, 0).to_vec();
    v.extend_from_slice(&it.oid.to_le_bytes());
    v.extend_from_slice(&it.jcid.to_le_bytes());
    v.push(1);
    v.extend_from_slice(&(r.len() as u32 / 2).to_le_bytes());
    v.extend_from_slice(&r);
    v.extend_from_slice(&(e.len() as u32 / 2).to_le_bytes());
    v.extend_from_slice(&e);
    assert_eq!(v.len(), size);
    v
}

/// The ObjectSpaceObjectPropSet of a jcidEmbeddedFileNode (MS-ONESTORE 2.6.1, MS-ONE 2.2.32):
/// OIDs stream (container, icon), then a PropertySet holding a 4-byte property, an ArrayOf-
/// PropertyValues with one nested set, EmbeddedFileContainer, PictureContainer and the name.
fn embedded_file_node(container: u32, name: &str) -> Vec<u8> {
    let mut v = 0x8000_0002u32.to_le_bytes().to_vec();
    v.extend_from_slice(&container.to_le_bytes());
    v.extend_from_slice(&0x99u32.to_le_bytes());
    let prids: [u32; 5] = [
        0x1400_1D7A,
        0x4000_1D77,
        0x2000_1D9B,
        0x2000_1C3F,
        0x1C00_1D9C,
    ];
    v.extend_from_slice(&(prids.len() as u16).to_le_bytes());
    for p in prids {
        v.extend_from_slice(&p.to_le_bytes());
    }
    v.extend_from_slice(&0x49BB_73BDu32.to_le_bytes());
    // ArrayOfPropertyValues: one nested PropertySet with a one-byte and a Bool property.
    v.extend_from_slice(&1u32.to_le_bytes());
    v.extend_from_slice(&0x4400_0001u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&0x0C00_3401u32.to_le_bytes());
    v.extend_from_slice(&0x8800_3402u32.to_le_bytes());
    v.push(7);
    let n = u16le(&format!("{name}\0"));
    v.extend_from_slice(&(n.len() as u32).to_le_bytes());
    v.extend_from_slice(&n);
    v
}

/// A FileDataStoreObject (MS-ONESTORE 2.6.13) with its padding and footer.
fn store_object(data: &[u8]) -> Vec<u8> {
    let mut v = FILE_DATA_HEADER.to_vec();
    v.extend_from_slice(&(data.len() as u64).to_le_bytes());
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(data);
    v.resize(v.len().next_multiple_of(8), 0);
    v.extend_from_slice(&FILE_DATA_FOOTER);
    v
}

/// A section built bytewise following MS-ONESTORE: the header GUID, the declarations and
/// embedded-file property sets, one FileDataStoreObjectReferenceFND per item (8-byte stp, 4-byte
/// cb), then the FileDataStoreObjects at 8-byte boundaries. Returns the bytes and each object's
/// offset.
fn build(items: &[Item]) -> (Vec<u8>, Vec<usize>) {
    let mut v = FILE_TYPE_ONE.to_vec();
    v.resize(1024, 0);
    for it in items {
        v.extend_from_slice(&declaration(it));
        if let Some(name) = it.name {
            v.extend_from_slice(&embedded_file_node(it.oid, name));
        }
    }
    let objects: Vec<Vec<u8>> = items.iter().map(|it| store_object(it.data)).collect();
    let mut at = (v.len() + 32 * items.len()).next_multiple_of(8);
    let mut offsets = Vec::new();
    for (it, obj) in items.iter().zip(&objects) {
        v.extend_from_slice(&node_header(0x94, 32, 0, 0, 1));
        v.extend_from_slice(&(at as u64).to_le_bytes());
        v.extend_from_slice(&(obj.len() as u32).to_le_bytes());
        v.extend_from_slice(&parse_guid(it.guid).expect("test GUID"));
        offsets.push(at);
        at += obj.len();
    }
    v.resize(v.len().next_multiple_of(8), 0);
    for obj in &objects {
        v.extend_from_slice(obj);
    }
    (v, offsets)
}

const WSF: &[u8] = b"<job id=\"a\"><script language=\"VBScript\">CreateObject(\"WScript.Shell\").Run \"cmd /c calc\"</script></job>\r\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
const HTA: &[u8] =
    b"<html><hta:application/><script>new ActiveXObject('WScript.Shell')</script></html>";

fn lure() -> Vec<Item<'static>> {
    vec![
        Item {
            oid: 0x22,
            jcid: JCID_EMBEDDED_FILE,
            guid: "{5B79BBB9-AEB8-444A-81AD-3A671634E27C}",
            ext: ".wsf",
            name: Some("invoice.wsf"),
            data: WSF,
        },
        Item {
            oid: 0x23,
            jcid: JCID_PICTURE,
            guid: "{869F8706-A464-4947-B774-E0A0AE40CD1E}",
            ext: ".png",
            name: None,
            data: PNG,
        },
        Item {
            oid: 0x124,
            jcid: JCID_EMBEDDED_FILE,
            guid: "{00000001-0002-0003-0405-060708090A0B}",
            ext: ".hta",
            name: Some("請求書.hta"),
            data: HTA,
        },
    ]
}

#[test]
fn guid_text_to_stored_bytes() {
    assert_eq!(
        parse_guid("{BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}"),
        Some(FILE_DATA_HEADER)
    );
    assert_eq!(
        parse_guid("{71FBA722-0F79-4A0B-BB13-899256426B24}"),
        Some(FILE_DATA_FOOTER)
    );
    assert_eq!(
        parse_guid("{7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}"),
        Some(FILE_TYPE_ONE)
    );
    assert_eq!(parse_guid("{7B5C52E4-D88C-4DA7-AEB1-5378D02996}"), None);
    assert_eq!(parse_guid("7B5C52E4-D88C-4DA7-AEB1-5378D02996D3"), None);
    assert_eq!(parse_guid("{7B5C52E4-D88C-4DA7-AEB1-5378D02996ZZ}"), None);
}

/// Real file: Microsoft's protocol test suite section with an attached .docx and its icon.
#[test]
fn real_section_with_attached_docx() {
    let data = fixture("OneWithFileData.one");
    assert!(is_onenote(&data));
    let one = carve(&data, 16, 1 << 20);
    assert_eq!(one.problems, vec![]);
    assert!(!one.truncated && !one.encrypted);
    assert_eq!(one.files.len(), 2);

    let docx = &one.files[0];
    assert_eq!((docx.offset, docx.declared_len), (14560, 14660));
    assert_eq!(docx.data, 14596..14596 + 14660);
    assert!(docx.footer_ok && !docx.truncated);
    assert_eq!(docx.kind, DataKind::EmbeddedFile);
    assert_eq!(docx.extension.as_deref(), Some(".docx"));
    assert_eq!(docx.name.as_deref(), Some("testing.docx"));
    let bytes = docx.bytes(&data);
    assert!(bytes.starts_with(b"PK\x03\x04"));
    assert!(
        crate::sniff::find_zip_eocd(bytes).is_some(),
        "the whole .docx"
    );

    // The icon: cbLength 718 is padded to 720 + 36 - the footer is at +760, not +754.
    let icon = &one.files[1];
    assert_eq!((icon.offset, icon.declared_len), (29560, 718));
    assert!(icon.footer_ok);
    assert_eq!(icon.kind, DataKind::Picture);
    assert_eq!(icon.extension.as_deref(), Some(".png"));
    assert_eq!(icon.name, None);
    assert!(icon.bytes(&data).starts_with(b"\x89PNG"));
    assert!(icon.bytes(&data).ends_with(b"IEND\xAE\x42\x60\x82"));

    assert_eq!(one.names[0], "testing.docx");
    assert!(one.names.contains(
        &r"E:\Works\Protocol team\Test Suites\Package upgrade for 2019\FileSyncandWOPI\testing.docx"
            .to_owned()
    ));
    assert!(
        one.names.iter().all(|n| n.ends_with(".docx")),
        "{:?}",
        one.names
    );
}

/// Real file: a page with one picture (one-extract's test file).
#[test]
fn real_section_with_a_picture() {
    let data = fixture("example.one");
    let one = carve(&data, 16, 1 << 20);
    assert_eq!(one.problems, vec![]);
    assert_eq!(one.files.len(), 1);
    let png = &one.files[0];
    assert_eq!((png.offset, png.declared_len), (28808, 1906));
    assert!(png.footer_ok);
    assert_eq!(png.kind, DataKind::Picture);
    assert_eq!(png.extension.as_deref(), Some(".png"));
    assert!(png.bytes(&data).starts_with(b"\x89PNG"));
    assert_eq!(one.names, vec!["clip_image013.png".to_owned()]);
}

/// Real file: text only (Apache Tika's test file): nothing to carve, and nothing wrong.
#[test]
fn real_section_without_files() {
    let data = fixture("testOneNote2016.one");
    assert!(is_onenote(&data));
    let one = carve(&data, 16, 1 << 20);
    assert_eq!(one, OneNote::default());
}

#[test]
fn built_lure_with_scripts_and_picture() {
    let items = lure();
    let (data, offsets) = build(&items);
    let one = carve(&data, 16, 1 << 20);
    assert_eq!(one.problems, vec![]);
    assert_eq!(one.files.len(), 3);
    for ((f, it), at) in one.files.iter().zip(&items).zip(&offsets) {
        assert_eq!(f.offset, *at);
        assert_eq!(f.bytes(&data), it.data);
        assert!(f.footer_ok && !f.truncated);
        assert_eq!(f.extension.as_deref(), Some(it.ext));
        assert_eq!(f.name.as_deref(), it.name);
    }
    assert_eq!(one.files[0].kind, DataKind::EmbeddedFile);
    assert_eq!(one.files[1].kind, DataKind::Picture);
    assert_eq!(one.files[2].kind, DataKind::EmbeddedFile);
    assert_eq!(one.names, vec!["invoice.wsf", "請求書.hta"]);
}

#[test]
fn missing_footer_still_returns_the_data() {
    let (mut data, offsets) = build(&lure());
    let footer = offsets[0] + (36 + WSF.len()).next_multiple_of(8);
    assert_eq!(data[footer..footer + 16], FILE_DATA_FOOTER);
    data[footer] ^= 0xFF;
    let one = carve(&data, 16, 1 << 20);
    assert_eq!(
        one.problems,
        vec![OneNoteProblem::FooterMissing {
            offset: offsets[0],
            expected: footer
        }]
    );
    let f = &one.files[0];
    assert!(!f.footer_ok && !f.truncated);
    assert_eq!(f.bytes(&data), WSF);
    assert_eq!(f.name.as_deref(), Some("invoice.wsf"));
    assert_eq!(one.files.len(), 3, "the search goes on after a bad object");
}

#[test]
fn length_past_the_end_is_cut_not_trusted() {
    let (mut data, offsets) = build(&lure());
    let last = offsets[2];
    for declared in [u64::MAX, (data.len() - last) as u64, 1 << 40] {
        data[last + 16..last + 24].copy_from_slice(&declared.to_le_bytes());
        let one = carve(&data, 16, usize::MAX);
        let f = &one.files[2];
        assert!(f.truncated && !f.footer_ok);
        assert_eq!(f.declared_len, declared);
        assert_eq!(f.data, last + 36..data.len());
        assert_eq!(
            one.problems,
            vec![OneNoteProblem::LengthPastEnd {
                offset: last,
                declared,
                available: data.len() - last - 36
            }]
        );
    }
    // A header GUID with no room for cbLength.
    let mut cut = b"junk".to_vec();
    cut.extend_from_slice(&FILE_DATA_HEADER);
    cut.extend_from_slice(&[1, 0, 0]);
    let one = carve(&cut, 16, 100);
    assert_eq!(one.files.len(), 1);
    assert!(one.files[0].truncated && one.files[0].data.is_empty());
    assert!(
        one.problems
            .contains(&OneNoteProblem::HeaderCut { offset: 4 })
    );
    assert!(one.problems.contains(&OneNoteProblem::NoHeader));
}

#[test]
fn caps_on_count_and_bytes() {
    let (data, offsets) = build(&lure());
    let one = carve(&data, 2, 1 << 20);
    assert_eq!(one.files.len(), 2);
    assert!(one.truncated);
    assert_eq!(
        one.problems,
        vec![OneNoteProblem::TooManyFiles {
            offset: offsets[2],
            max: 2
        }]
    );

    let one = carve(&data, 16, 10);
    assert!(one.truncated);
    assert_eq!(one.files.len(), 3);
    assert_eq!(one.files[0].bytes(&data), &WSF[..10]);
    assert!(one.files[0].truncated && one.files[0].footer_ok);
    assert!(one.files[1].data.is_empty() && one.files[2].data.is_empty());
    assert_eq!(
        one.problems,
        vec![OneNoteProblem::BudgetExhausted {
            offset: offsets[0],
            max: 10
        }]
    );
}

#[test]
fn many_header_guids() {
    let mut data = FILE_TYPE_ONE.to_vec();
    for _ in 0..100_000 {
        data.extend_from_slice(&FILE_DATA_HEADER);
    }
    let one = carve(&data, 100, 1 << 20);
    assert_eq!(one.files.len(), 100);
    assert!(one.truncated);
    assert_eq!(
        one.problems.last(),
        Some(&OneNoteProblem::TooManyFiles {
            offset: 16 + 100 * 16,
            max: 100
        })
    );
    // Each object reads the next header as its length: far past the end, so cut at the end.
    assert!(one.files.iter().all(|f| !f.footer_ok && f.truncated));
    let total: usize = one.files.iter().map(|f| f.data.len()).sum();
    assert!(total <= 1 << 20);

    // Thousands of declarations and property-set anchors: caps hold, nothing is linked.
    let mut noise = FILE_TYPE_ONE.to_vec();
    for _ in 0..20_000 {
        noise.extend_from_slice(&u16le("<ifndf>"));
        noise.extend_from_slice(&PRID_EMBEDDED_FILE_CONTAINER.to_le_bytes());
        noise.push(0x94);
    }
    let one = carve(&noise, 100, 1 << 20);
    assert_eq!(one, OneNote::default());
}

#[test]
fn a_validated_object_is_skipped_whole() {
    // A section attached inside a section: its objects are the outer file's data.
    let (inner, _) = build(&lure());
    let (outer, offsets) = build(&[Item {
        oid: 0x30,
        jcid: JCID_EMBEDDED_FILE,
        guid: "{A0A0A0A0-B1B1-C2C2-D3D3-E4E4E4E4E4E4}",
        ext: ".one",
        name: Some("notes.one"),
        data: &inner,
    }]);
    let one = carve(&outer, 16, usize::MAX);
    assert_eq!(one.problems, vec![]);
    assert_eq!(one.files.len(), 1);
    assert_eq!(one.files[0].offset, offsets[0]);
    assert_eq!(one.files[0].bytes(&outer), &inner[..]);
    assert_eq!(
        one.names,
        vec!["notes.one"],
        "names inside the data are not the section's"
    );
    let cut = carve(&outer, 16, 100);
    assert!(cut.truncated && cut.files[0].footer_ok);
    assert_eq!(
        cut.names,
        vec!["notes.one"],
        "the data past the budget is still skipped"
    );
    let again = carve(one.files[0].bytes(&outer), 16, usize::MAX);
    assert_eq!(again.files.len(), 3);
}

#[test]
fn shared_compact_id_links_no_name() {
    let mut items = lure();
    items[2].oid = items[0].oid;
    let (data, _) = build(&items);
    let one = carve(&data, 16, 1 << 20);
    assert_eq!(one.files[0].name, None);
    assert_eq!(one.files[2].name, None);
    assert_eq!(one.files[0].extension.as_deref(), Some(".wsf"));
    assert_eq!(one.names, vec!["invoice.wsf", "請求書.hta"], "still listed");
}

#[test]
fn name_like_strings() {
    let mut data = FILE_TYPE_ONE.to_vec();
    // As in StringInStorageBuffers: a u32 count before each string; one stray byte puts the
    // following strings at odd offsets.
    let strings = [
        "click.lnk",
        " Open.hta",
        "notes",
        "dots.",
        ".png",
        "a b.",
        "x.toolongext",
        &format!("{}.vbs", "a".repeat(300)),
        r"C:\Users\x\AppData\Local\Temp\run.cmd",
    ];
    for (i, s) in strings.iter().enumerate() {
        if i == 3 {
            data.push(0);
        }
        data.extend_from_slice(&(s.encode_utf16().count() as u32).to_le_bytes());
        data.extend_from_slice(&u16le(s));
    }
    let one = carve(&data, 16, 100);
    assert_eq!(
        one.names,
        vec![
            "click.lnk",
            "Open.hta",
            r"C:\Users\x\AppData\Local\Temp\run.cmd"
        ]
    );

    let mut many = Vec::new();
    for i in 0..300 {
        many.extend_from_slice(&u16le(&format!("f{i}.js")));
        many.extend_from_slice(&[0, 0]);
    }
    let one = carve(&many, 16, 100);
    assert_eq!(one.names.len(), MAX_NAMES);
    assert!(one.truncated);
    assert!(matches!(
        one.problems.last(),
        Some(OneNoteProblem::TooManyNames { max: 256, .. })
    ));
}

#[test]
fn password_protected_and_external_data() {
    let (mut data, _) = build(&lure());
    data.extend_from_slice(
        b"<encryption xmlns=\"http://schemas.microsoft.com/office/2006/encryption\"><keyEncryptor uri=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"/></encryption>",
    );
    let one = carve(&data, 16, 1 << 20);
    assert!(one.encrypted);
    assert!(matches!(one.problems[0], OneNoteProblem::Encrypted { .. }));

    // `<file>` data lives in the notebook's onefiles folder, not in the section.
    let mut ext = FILE_TYPE_ONE.to_vec();
    let r = u16le("<file>payload.bin");
    let e = u16le(".vbs");
    let size = 4 + 4 + 4 + 1 + 4 + r.len() + 4 + e.len();
    ext.extend_from_slice(&node_header(0x72, size, 0, 0, 0));
    ext.extend_from_slice(&0x22u32.to_le_bytes());
    ext.extend_from_slice(&JCID_EMBEDDED_FILE.to_le_bytes());
    ext.push(1);
    ext.extend_from_slice(&(r.len() as u32 / 2).to_le_bytes());
    let at = ext.len();
    ext.extend_from_slice(&r);
    ext.extend_from_slice(&(e.len() as u32 / 2).to_le_bytes());
    ext.extend_from_slice(&e);
    let one = carve(&ext, 16, 100);
    assert_eq!(
        one.problems,
        vec![OneNoteProblem::ExternalData {
            offset: at,
            reference: "<file>payload.bin".into()
        }]
    );
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// Deterministic mutations of the real and built files: no panic, output within the limits.
#[test]
fn mutated_inputs() {
    let seeds = [
        fixture("OneWithFileData.one"),
        fixture("example.one"),
        fixture("testOneNote2016.one"),
        build(&lure()).0,
    ];
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..3000 {
        let mut d = seeds[round % seeds.len()].clone();
        let edits = 1 + xorshift(&mut x) % 16;
        for _ in 0..edits {
            let at = (xorshift(&mut x) as usize) % d.len().max(1);
            match xorshift(&mut x) % 6 {
                0 => d.truncate(at),
                1 => {
                    let end = (at + 16).min(d.len());
                    d.splice(at..end, FILE_DATA_HEADER);
                }
                2 => {
                    let end = (at + 8).min(d.len());
                    d.splice(at..end, xorshift(&mut x).to_le_bytes());
                }
                3 => d
                    .splice(
                        at..at,
                        u16le("<ifndf>{00000000-0000-0000-0000-000000000000}"),
                    )
                    .for_each(drop),
                _ => {
                    if let Some(b) = d.get_mut(at) {
                        *b ^= xorshift(&mut x) as u8;
                    }
                }
            }
        }
        let max_files = 1 + round % 5;
        let max_total = round * 37 % 20_000;
        let one = carve(&d, max_files, max_total);
        assert!(one.files.len() <= max_files);
        let total: usize = one.files.iter().map(|f| f.data.len()).sum();
        assert!(total <= max_total);
        assert!(one.files.iter().all(|f| f.data.end <= d.len()));
        assert!(one.names.len() <= MAX_NAMES);
        assert!(
            one.names
                .iter()
                .all(|n| n.encode_utf16().count() <= MAX_NAME_UNITS)
        );
        assert!(one.problems.len() <= 2 * max_files + 4 + MAX_DECLS);
    }
}

use super::*;
use crate::ole::tests::{corpus, droppers, ole_in_zip};

fn extract_all(data: &[u8], limits: &VbaLimits) -> Vec<VbaProject> {
    match OleFile::parse(data) {
        Ok(mut ole) => extract(&mut ole, limits).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

fn dropper_projects(prefix: &str, limits: &VbaLimits) -> (usize, Vec<VbaProject>) {
    let (_, data) = droppers()
        .into_iter()
        .find(|(n, _)| n.starts_with(prefix))
        .expect(prefix);
    let mut ole = OleFile::parse(&data).expect(prefix);
    (ole.padded_bytes(), extract(&mut ole, limits).expect(prefix))
}

#[test]
fn emotet_droppers_yield_autoexec_modules() {
    let droppers = droppers();
    assert_eq!(droppers.len(), 50);
    let (mut auto_open, mut document_open) = (0, 0);
    for (name, data) in &droppers {
        let mut ole = OleFile::parse(data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(has_vba_storage(&ole), "{name}");
        let projects = extract(&mut ole, &VbaLimits::default()).expect(name);
        let has = |needle: &str| {
            projects.iter().flat_map(|p| &p.modules).any(|m| {
                m.source.to_ascii_lowercase().contains(needle)
                    && m.source.contains("Attribute VB_Name")
            })
        };
        if has("autoopen") {
            auto_open += 1;
        } else if has("document_open") {
            document_open += 1;
        } else {
            panic!("{name}: no auto-exec module in {projects:#?}");
        }
    }
    assert_eq!((auto_open, document_open), (48, 2));
}

#[test]
fn droppers_odd_structures() {
    let limits = VbaLimits::default();
    // Bare VBA-project container: the project sits under a root storage "\x0B_<digits>".
    let (_, projects) = dropper_projects("3a5842ef", &limits);
    assert!(
        projects[0].storage.starts_with("\u{b}_"),
        "{:?}",
        projects[0].storage
    );
    assert_eq!(projects[0].modules.len(), 14);
    // Two modules left out of PROJECT (hidden from the editor), decoy ASCII stream names.
    let (_, projects) = dropper_projects("008e80cd", &limits);
    assert_eq!(projects[0].hidden_modules, ["Y12454", "Z62968"]);
    assert_eq!(projects[0].modules.len(), 3);
    assert!(
        projects[0]
            .anomalies
            .iter()
            .any(|a| a.contains("ASCII stream name"))
    );
    // Truncated file: read after zero padding.
    let (padded, projects) = dropper_projects("b1de096e", &limits);
    assert!(padded > 0);
    assert_eq!(projects[0].modules.len(), 18);
    assert!(
        projects[0]
            .anomalies
            .iter()
            .any(|a| a.contains("truncated"))
    );
}

#[test]
fn oletools_and_calamine_samples() {
    let limits = VbaLimits::default();
    let docm = corpus("office/oletools/oleform/oleform-PR314.docm");
    let projects = extract_all(&ole_in_zip(&docm).expect("vbaProject.bin"), &limits);
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].storage, "");
    assert!(
        projects[0]
            .modules
            .iter()
            .any(|m| m.source.contains("Frame1_Click"))
    );
    assert!(!projects[0].form_strings.is_empty());

    let xlsm = corpus("office/calamine/vba.xlsm");
    let projects = extract_all(&ole_in_zip(&xlsm).expect("vbaProject.bin"), &limits);
    assert!(
        projects
            .iter()
            .flat_map(|p| &p.modules)
            .any(|m| m.source.contains("MsgBox"))
    );

    let doc = corpus("office/oletools/msodde/harmless-clean.doc");
    let mut ole = OleFile::parse(&doc).expect("ole");
    assert!(!has_vba_storage(&ole));
    assert!(extract(&mut ole, &limits).expect("extract").is_empty());
    // PowerPoint 97-2003 keeps VBA in a compressed blob: out of scope, must not panic.
    let _ = extract_all(
        &corpus("office/oletools/olevba/sample_with_vba.ppt"),
        &limits,
    );
}

#[test]
fn limits_cap_modules_and_bytes() {
    let limits = VbaLimits {
        max_module_bytes: 1 << 20,
        max_total_bytes: 1 << 20,
        max_modules: 3,
    };
    let (_, projects) = dropper_projects("27c6a5ea", &limits);
    assert_eq!(projects[0].modules.len(), 3);
    assert!(projects[0].limit_hit);
    let tiny = VbaLimits {
        max_module_bytes: 100,
        max_total_bytes: 150,
        max_modules: 100,
    };
    let (_, projects) = dropper_projects("27c6a5ea", &tiny);
    let total: usize = projects[0].modules.iter().map(|m| m.source.len()).sum();
    assert!(total <= 150, "{total}");
    assert!(projects[0].limit_hit);
}

#[test]
fn dir_and_project_parsing() {
    fn rec(d: &mut Vec<u8>, id: u16, data: &[u8]) {
        d.extend_from_slice(&id.to_le_bytes());
        d.extend_from_slice(&(data.len() as u32).to_le_bytes());
        d.extend_from_slice(data);
    }
    let mut d = Vec::new();
    rec(&mut d, 0x01, &[0, 0, 0, 0]);
    rec(&mut d, 0x4A, &[1, 0, 0, 0]);
    rec(&mut d, 0x03, &932u16.to_le_bytes());
    d.extend_from_slice(&[0x09, 0, 4, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    rec(&mut d, 0x0F, &1u16.to_le_bytes());
    rec(&mut d, 0x19, b"Module1");
    rec(&mut d, 0x1A, b"Module1");
    rec(&mut d, 0x31, &0x123u32.to_le_bytes());
    rec(&mut d, 0x21, &[]);
    rec(&mut d, 0x2B, &[]);
    rec(&mut d, 0x10, &[]);
    let info = parse_dir(&d, "dir").expect("dir");
    assert_eq!(info.codepage, Some(932));
    assert_eq!(info.modules.len(), 1);
    assert_eq!(info.modules[0].offset, Some(0x123));
    assert_eq!(info.modules[0].kind, Some(ModuleKind::Procedural));
    assert!(info.anomalies.is_empty(), "{:?}", info.anomalies);
    assert!(parse_dir(&d[..d.len() - 20], "dir").is_ok());
    assert!(matches!(
        parse_dir(&[0xFF; 40], "dir"),
        Err(VbaError::Dir { .. })
    ));
    assert_eq!(encoding_for_codepage(932), encoding_rs::SHIFT_JIS);
    assert_eq!(encoding_for_codepage(1251), encoding_rs::WINDOWS_1251);
    assert_eq!(encoding_for_codepage(28592), encoding_rs::ISO_8859_2);
    assert_eq!(encoding_for_codepage(1), encoding_rs::WINDOWS_1252);

    let text = "ID=\"{1}\"\r\nDocument=ThisDocument/&H00000000\r\nModule=M1\r\nClass=C1\r\n\
                BaseClass=UserForm1\r\nName=\"P\"\r\n[Workspace]\r\nModule=Ignored\r\n";
    assert_eq!(
        project_module_names(text),
        ["ThisDocument", "M1", "C1", "UserForm1"]
    );
    let runs = printable_runs(
        b"\x01Hello world\x00ab\x02C\x00a\x00p\x00t\x00i\x00o\x00n\x00",
        10,
    );
    assert_eq!(runs, ["Hello world", "Caption"]);
    assert_eq!(printable_runs(b"12345\x0067890", 1), ["12345"]);
}

#[test]
fn wrong_module_offset_is_searched() {
    let text = b"Attribute VB_Name = \"M\"\r\nSub AutoOpen()\r\nEnd Sub\r\n";
    let mut stream = vec![0xAAu8; 100];
    stream.extend_from_slice(&crate::ovba::tests::compress(text));
    let mut p = VbaProject::default();
    let src = module_source(&stream, Some(100), 1 << 20, "m", &mut p);
    assert_eq!(src.as_deref(), Some(&text[..]));
    assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
    for bad in [Some(7), Some(5000), None] {
        let mut p = VbaProject::default();
        let src = module_source(&stream, bad, 1 << 20, "m", &mut p);
        assert_eq!(src.as_deref(), Some(&text[..]), "{bad:?}");
        assert!(
            p.anomalies.iter().any(|a| a.contains("by search")),
            "{bad:?}"
        );
    }
    let mut p = VbaProject::default();
    assert_eq!(
        module_source(&[0xAA; 50], Some(3), 1 << 20, "m", &mut p),
        None
    );
}

#[test]
fn unusable_dir_falls_back_to_stream_search() {
    let (_, mut data) = droppers()
        .into_iter()
        .find(|(n, _)| n.starts_with("fc3a2f00"))
        .unwrap();
    let dir = OleFile::parse(&data)
        .unwrap()
        .read_stream("Macros/VBA/dir", 1 << 20)
        .unwrap();
    let at = memchr::memmem::find(&data, &dir[..64]).expect("dir bytes in the file");
    data[at] = 0x07; // container signature
    let mut ole = OleFile::parse(&data).expect("ole");
    let projects = extract(&mut ole, &VbaLimits::default()).expect("extract");
    let p = &projects[0];
    assert!(
        p.anomalies.iter().any(|a| a.contains("dir unusable")),
        "{:?}",
        p.anomalies
    );
    assert_eq!(p.modules.len(), 14);
    assert!(p.modules.iter().all(|m| m.kind == ModuleKind::Unknown));
    assert!(
        p.modules
            .iter()
            .any(|m| m.source.to_ascii_lowercase().contains("autoopen"))
    );
}

use super::*;
use crate::regexport::text::mutate::for_each_variant;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/listing/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ft(s: &str) -> u64 {
    parse_last_write_time(s).unwrap()
}

#[test]
fn kensa_layout() {
    let l = parse_listing(&fixture("kensa-listing.csv")).unwrap();
    assert_eq!(l.format, "kensa-csv");
    assert_eq!(l.problems, vec![]);
    assert_eq!(l.entries.len(), 7);
    assert_eq!(
        l.entries[0],
        FileEntry {
            path: r"C:\Users\A\AppData\Local\Abcd".into(),
            is_dir: true,
            size: None,
            mtime: Some(ft("2026-11-29T03:04:05.1234567Z")),
            mz: None,
        }
    );
    let payload = &l.entries[1];
    assert_eq!(
        (payload.is_dir, payload.size, payload.mz),
        (false, Some(254_976), Some(true))
    );
    assert_eq!(
        filetime_to_rfc3339(payload.mtime.unwrap()),
        "2026-11-22T03:04:05.1234567Z"
    );
    // EmoCheck v5's gap (host.md §1.6): directory written exactly 7 days after the file.
    let gap = l.entries[0].mtime.unwrap() - payload.mtime.unwrap();
    assert_eq!(gap / 1_000_000, 6_048_000);
    assert_eq!(l.entries[2].mz, Some(false));
    assert_eq!(
        l.entries[4].path,
        r"C:\Users\A\AppData\Local\テスト\更新.exe"
    );
    assert_eq!(
        l.entries[4].mtime.map(filetime_to_rfc3339).as_deref(),
        Some("2026-11-20T11:22:33.0000001Z")
    );
    assert_eq!(l.entries[5].mz, None);
    assert!(l.entries[6].is_dir);
}

#[test]
fn powershell_en_us_and_ja_jp_agree() {
    let en = parse_listing(&fixture("powershell-en-us.csv")).unwrap();
    let ja = parse_listing(&fixture("powershell-ja-jp.csv")).unwrap();
    for l in [&en, &ja] {
        assert_eq!(l.format, "powershell-csv");
        assert_eq!(l.problems, vec![]);
        assert_eq!(l.entries.len(), 4);
        assert!(l.entries[0].is_dir && l.entries[0].size.is_none());
        assert!(l.entries.iter().all(|e| e.mz.is_none()));
    }
    let times = |l: &Listing| l.entries.iter().map(|e| e.mtime).collect::<Vec<_>>();
    assert_eq!(times(&en), times(&ja));
    assert_eq!(
        times(&en),
        [
            Some(ft("2026-11-29T03:04:05Z")),
            Some(ft("2026-11-22T03:04:05Z")),
            Some(ft("2026-11-22T12:00:00Z")),
            Some(ft("2026-01-02T23:59:59Z")),
        ]
    );
    assert_eq!(en.entries[3].path, r"C:\Users\Public\Documents\a b, c.dll");
    assert_eq!(en.entries[3].size, Some(1024));
    assert_eq!(
        ja.entries[1].path,
        r"C:\Users\田中\AppData\Local\Abcd\qehxk.xwa"
    );

    // The same export written as UTF-16LE (`Export-Csv -Encoding Unicode`) reads the same.
    let text = String::from_utf8(fixture("powershell-ja-jp.csv")).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text::utf16le(text.trim_start_matches('\u{feff}')));
    assert_eq!(parse_listing(&utf16).unwrap(), ja);
}

#[test]
fn bad_fields_are_reported_and_entries_kept() {
    let data = concat!(
        "Length,FullName,LastWriteTimeUtc,MZ,Extra\n", // 1: any order, no Attributes, extra column
        "12,C:\\a.exe,2026-11-22T03:04:05Z,TRUE,x\n",  // 2
        ",C:\\dir,2026-11-22T03:04:05Z,,\n",           // 3: empty Length, no Attributes → directory
        "-1,C:\\b.exe,22/11/2026 03:04:05,maybe,\n",   // 4: three bad fields
        "5,,2026-11-22T03:04:05Z,false,\n",            // 5: no path → skipped
        "7,C:\\short\n",                               // 6: short record
        "\"unterminated,C:\\x\n",                      // 7..: quote runs to the end
    );
    let l = parse_listing(data.as_bytes()).unwrap();
    assert_eq!(l.format, "kensa-csv");
    let paths: Vec<&str> = l.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, [r"C:\a.exe", r"C:\dir", r"C:\b.exe", r"C:\short"]);
    assert_eq!(l.entries[0].mz, Some(true));
    assert!(l.entries[1].is_dir && !l.entries[0].is_dir);
    assert_eq!(
        (l.entries[2].size, l.entries[2].mtime, l.entries[2].mz),
        (None, None, None)
    );
    assert_eq!((l.entries[3].size, l.entries[3].mtime), (Some(7), None));
    let fields: Vec<(usize, &str)> = l
        .problems
        .iter()
        .map(|p| match p {
            ListingError::BadField { line, field, .. } => (*line, *field),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        [
            (4, "Length"),
            (4, "LastWriteTimeUtc"),
            (4, "MZ"),
            (5, "FullName"),
            (7, "FullName")
        ],
        "line 7's open quote swallows the rest, leaving no FullName field"
    );
}

#[test]
fn numeric_attributes_and_rejections() {
    let l = parse_listing(b"FullName,Attributes\nC:\\d,16\nC:\\f,32\nC:\\g,Archive, Directory\n")
        .unwrap();
    let dirs: Vec<bool> = l.entries.iter().map(|e| e.is_dir).collect();
    assert_eq!(
        dirs,
        [true, false, false],
        "unquoted `Archive, Directory` splits into two fields"
    );
    let l = parse_listing(b"FullName,Attributes\nC:\\g,\"Archive, Directory\"\n").unwrap();
    assert!(l.entries[0].is_dir);

    assert_eq!(parse_listing(b""), Err(ListingError::Empty));
    assert_eq!(parse_listing(b"\xEF\xBB\xBF\r\n"), Err(ListingError::Empty));
    assert_eq!(
        parse_listing(b"Name,Length\nx,1\n"),
        Err(ListingError::UnknownFormat {
            first_line: "Name,Length".into()
        })
    );
    assert!(matches!(
        parse_listing(b"#TYPE x\n"),
        Err(ListingError::UnknownFormat { .. })
    ));
    let big = vec![b'x'; MAX_INPUT_BYTES + 1];
    assert!(matches!(
        parse_listing(&big),
        Err(ListingError::TooLarge { .. })
    ));
}

#[test]
fn problem_list_is_capped() {
    let mut s = String::from("FullName,Length\n");
    for _ in 0..(MAX_PROBLEMS + 10) {
        s.push_str("C:\\x,notanumber\n");
    }
    let l = parse_listing(s.as_bytes()).unwrap();
    assert_eq!(l.entries.len(), MAX_PROBLEMS + 10);
    assert_eq!(l.problems.len(), MAX_PROBLEMS + 1);
    assert_eq!(
        l.problems.last(),
        Some(&ListingError::TooManyProblems { max: MAX_PROBLEMS })
    );
}

#[test]
fn mutated_listings_never_panic_and_stay_bounded() {
    let seeds = vec![
        fixture("kensa-listing.csv"),
        fixture("powershell-en-us.csv"),
        fixture("powershell-ja-jp.csv"),
    ];
    let mut ok = 0;
    for_each_variant(&seeds, 4000, |data| {
        let Ok(l) = parse_listing(data) else { return };
        ok += 1;
        let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
        assert!(l.entries.len() <= lines);
        assert!(l.problems.len() <= MAX_PROBLEMS + 1);
        for e in &l.entries {
            assert!(!e.path.is_empty() && e.path.len() <= data.len() * 3);
            if let Some(t) = e.mtime {
                let _ = filetime_to_rfc3339(t);
            }
        }
    });
    assert!(ok > 1000, "most variants keep their header ({ok})");
}

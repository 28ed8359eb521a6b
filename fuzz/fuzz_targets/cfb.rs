//! OLE / CFB: parse, list, read every stream (1 MiB each), then VBA project extraction.
#![no_main]

use kensa_formats::ole::OleFile;
use kensa_formats::vba::{self, VbaLimits};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(mut ole) = OleFile::parse(data) else {
        return;
    };
    let streams: Vec<String> = ole
        .entries()
        .iter()
        .filter(|e| e.is_stream)
        .map(|e| e.path.clone())
        .collect();
    for path in &streams {
        let _ = ole.read_stream_prefix(path, CAP);
    }
    let _ = vba::has_vba_storage(&ole);
    let _ = vba::extract(&mut ole, &VbaLimits::default());
});

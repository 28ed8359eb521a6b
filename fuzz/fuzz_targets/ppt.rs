//! PowerPoint 97-2003: the ExOleObjStg records of a `PowerPoint Document` stream, each embedded
//! storage then opened as OLE with VBA extraction. An OLE input is read as kensa reads a .ppt (its
//! `PowerPoint Document` stream, 1 MiB cap); any other input is taken as the stream itself.
#![no_main]

use kensa_formats::ole::OleFile;
use kensa_formats::ppt;
use kensa_formats::vba::{self, VbaLimits};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 20;

fn storages(stream: &[u8]) {
    for e in ppt::embedded_storages(stream, CAP, 4 * CAP, 256) {
        if let Ok(mut ole) = OleFile::parse(&e.data) {
            let _ = vba::extract(&mut ole, &VbaLimits::default());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut ole) = OleFile::parse(data) else {
        storages(data);
        return;
    };
    if let Some(path) = ole.find_streams("PowerPoint Document").into_iter().next()
        && let Ok((stream, _)) = ole.read_stream_prefix(&path, CAP)
    {
        storages(&stream);
    }
});

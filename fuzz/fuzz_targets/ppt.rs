//! PowerPoint 97-2003: the ExOleObjStg records of a `PowerPoint Document` stream, each embedded
//! storage then opened as OLE with VBA extraction. An OLE input is read as kensa reads a .ppt (its
//! `PowerPoint Document` stream, 1 MiB cap); any other input is taken as the stream itself.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("ppt", data));

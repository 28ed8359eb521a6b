//! Pure parsers over bytes. Nothing here does I/O, and nothing may panic on any input:
//! every function takes a byte slice (and limits), and returns data or an error with the offset.

pub mod dde;
pub mod decrypt;
pub mod lnk;
pub mod ole;
pub mod ole10native;
pub mod ovba;
pub mod pad;
pub mod ppt;
pub mod rtf;
pub mod sniff;
pub mod vba;
pub mod vba_scan;
pub mod xlm;
pub mod zip;

//! OLE / Compound File Binary (MS-CFB) access on top of the `cfb` crate.
// STUB: to be written (see task description).

//! VBA project extraction from an OLE file (MS-OVBA `dir` stream, modules).
// STUB: to be written.

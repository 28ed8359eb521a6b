//! Type sniffing from bytes.

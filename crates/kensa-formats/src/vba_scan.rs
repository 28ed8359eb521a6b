//! Keyword and IOC scan of VBA source text (mraptor A/W/X sets, olevba-style context keywords).
// STUB: to be written.

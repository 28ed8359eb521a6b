//! ZIP listing and guarded extraction (ZipCrypto, WinZip AES) on the `zip` crate.

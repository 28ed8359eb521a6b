//! Inflated files (spec §2.12): Emotet padded documents and DLLs with zeros (or one repeated junk
//! byte) past 500 MB, so that scanners with a size limit skipped them, inside a ZIP of well under a
//! megabyte. [`read_stripped`] streams such a file in constant memory: long runs of one byte value
//! are counted, not kept, so what is analysed is the real content plus short stretches of the runs.
//!
//! Runs are found at chunk granularity (64 KiB, aligned to the start of the stream): a chunk holding
//! one byte value throughout extends the current run, any other chunk ends it. The first
//! [`KEEP_RUN`] bytes of every run are kept; the excess is held back. When content follows a run
//! and the run fits under the cap, it is put back, so a zero-filled region inside a document keeps
//! its offsets; only trailing runs (Emotet's padding after the CFB sectors or PE sections) and runs
//! too large for the cap are dropped. When such a large run sits in the middle, the offsets after it
//! move, which the container parsers see as a damaged file and report.

use std::io::{self, Read};

/// Chunk size of the run detector.
const CHUNK: usize = 64 << 10;
/// Bytes of each run that are kept in place.
pub const KEEP_RUN: u64 = 1 << 20;

/// What was read.
#[derive(Debug, Default)]
pub struct Stripped {
    /// The kept bytes: at most the cap given to [`read_stripped`].
    pub data: Vec<u8>,
    /// Bytes read from the source in all (kept and dropped).
    pub total: u64,
    /// Bytes of runs that were dropped.
    pub padding: u64,
    /// The byte value of the longest dropped run (0 for zero padding).
    pub pad_byte: u8,
    /// The kept bytes reached the cap, or the source was longer than `max_read`: not everything was
    /// read.
    pub cut: bool,
}

/// Read `source` to its end (at most `max_read` bytes), keeping at most `cap` bytes with long runs
/// of one byte value dropped past their first [`KEEP_RUN`] bytes. Memory: `cap` plus one chunk.
pub fn read_stripped(mut source: impl Read, cap: usize, max_read: u64) -> io::Result<Stripped> {
    let mut out = Stripped::default();
    let mut chunk = vec![0u8; CHUNK];
    let mut run: Option<(u8, u64)> = None;
    let mut longest_dropped = 0u64;
    let mut dropped_in_run = 0u64;
    // Bytes of the current run dropped so far: put back if content follows and they fit, so a
    // zero-filled region inside a document keeps its offsets.
    let mut pending = 0u64;
    loop {
        if out.total >= max_read {
            // One more byte tells whether the source really goes on.
            let mut probe = [0u8; 1];
            out.cut |= read_full(&mut source, &mut probe)? > 0;
            break;
        }
        let want = usize::try_from((max_read - out.total).min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = read_full(&mut source, &mut chunk[..want])?;
        if n == 0 {
            break;
        }
        let part = &chunk[..n];
        out.total += n as u64;
        // One byte value throughout; compared as slices (memcmp) to stay fast in debug builds.
        let uniform = part[1..] == part[..n - 1];
        let mut keep = true;
        let continues = uniform && matches!(run, Some((b, _)) if b == part[0]);
        if !continues && pending > 0 {
            // The run ended and content follows: restore the run when it fits under the cap;
            // otherwise it stays dropped (offsets after it move) and counts as padding.
            let room = cap.saturating_sub(out.data.len()) as u64;
            if pending <= room
                && let Some((b, _)) = run
            {
                let len = out.data.len() + pending as usize;
                out.data.resize(len, b);
                out.padding -= pending;
            }
            pending = 0;
        }
        if uniform {
            let len = match run {
                Some((b, len)) if b == part[0] => len + n as u64,
                _ => {
                    dropped_in_run = 0;
                    n as u64
                }
            };
            run = Some((part[0], len));
            if len > KEEP_RUN {
                keep = false;
                out.padding += n as u64;
                pending += n as u64;
                dropped_in_run += n as u64;
                if dropped_in_run > longest_dropped {
                    longest_dropped = dropped_in_run;
                    out.pad_byte = part[0];
                }
            }
        } else {
            run = None;
        }
        if keep {
            let room = cap.saturating_sub(out.data.len());
            out.data.extend_from_slice(&part[..n.min(room)]);
            if n > room {
                out.cut = true;
                break;
            }
        }
    }
    Ok(out)
}

/// Fill `buf` as far as the source allows; returns the bytes read (short only at the end).
fn read_full(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that yields `len` copies of one byte without holding them.
    struct Repeat {
        byte: u8,
        left: u64,
    }

    impl Read for Repeat {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = usize::try_from(self.left.min(buf.len() as u64)).unwrap_or(buf.len());
            buf[..n].fill(self.byte);
            self.left -= n as u64;
            Ok(n)
        }
    }

    fn repeat(byte: u8, len: u64) -> Repeat {
        Repeat { byte, left: len }
    }

    #[test]
    fn zero_padding_after_content_is_dropped() {
        let head: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 + 1).collect();
        let tail = b"MZ tail payload".to_vec();
        let src = head
            .as_slice()
            .chain(repeat(0, 300 << 20))
            .chain(tail.as_slice());
        let s = read_stripped(src, 64 << 20, 1 << 30).expect("reads");
        assert_eq!(s.total, head.len() as u64 + (300 << 20) + tail.len() as u64);
        assert!(!s.cut);
        assert_eq!(s.pad_byte, 0);
        // The head, at most KEEP_RUN + two partial chunks of zeros, and the tail are kept.
        assert!(s.data.starts_with(&head));
        assert!(s.data.ends_with(&tail));
        assert!(s.padding >= (300 << 20) - KEEP_RUN - 2 * CHUNK as u64);
        assert!(s.data.len() as u64 <= head.len() as u64 + KEEP_RUN + 2 * CHUNK as u64 + 16);
    }

    #[test]
    fn short_runs_and_junk_runs() {
        // A 512 KiB zero region stays in place; a long run of 0x20 junk is dropped like zeros.
        let data: Vec<u8> = [vec![1u8; 10], vec![0u8; 512 << 10], vec![2u8; 10]].concat();
        let s = read_stripped(data.as_slice(), 1 << 30, 1 << 30).expect("reads");
        assert_eq!(s.data, data);
        assert_eq!(s.padding, 0);
        let s = read_stripped(repeat(0x20, 50 << 20), 1 << 30, 1 << 30).expect("reads");
        assert_eq!(s.pad_byte, 0x20);
        assert_eq!(s.data.len() as u64, KEEP_RUN);
        assert_eq!(s.padding, (50 << 20) - KEEP_RUN);
    }

    #[test]
    fn caps_are_reported() {
        let noise: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let s = read_stripped(noise.as_slice(), 1_000_000, 1 << 30).expect("reads");
        assert!(s.cut);
        assert_eq!(s.data, noise[..1_000_000]);
        let s = read_stripped(repeat(0, 10 << 20), 1 << 30, 4 << 20).expect("reads");
        assert!(s.cut, "longer than max_read");
        assert_eq!(s.total, 4 << 20);
        let s = read_stripped(repeat(0, 4 << 20), 1 << 30, 4 << 20).expect("reads");
        assert!(!s.cut, "exactly max_read");
    }

    /// A 5 MiB zero region inside a file (a CFB's unused sectors, a PE's .bss) is put back: the
    /// bytes after it keep their offsets, and nothing is called padding.
    #[test]
    fn inner_runs_that_fit_are_restored() {
        let data: Vec<u8> = [vec![1u8; 100], vec![0u8; 5 << 20], b"MZ after".to_vec()].concat();
        let s = read_stripped(data.as_slice(), 64 << 20, 1 << 30).expect("reads");
        assert_eq!(s.data, data);
        assert_eq!(s.padding, 0);
        // Too large for the cap: dropped, counted, and what follows is still read.
        let s = read_stripped(data.as_slice(), 2 << 20, 1 << 30).expect("reads");
        assert!(s.padding > 0 && s.data.ends_with(b"MZ after"));
    }
}

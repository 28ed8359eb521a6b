//! MS-OVBA 2.4.1 decompression, lenient as Office is.
//!
//! A compressed container is one signature byte followed by chunks. Each chunk starts with a
//! little-endian u16 header: bits 0–11 hold the chunk size minus 3, bits 12–14 should be `0b011`,
//! bit 15 says whether the chunk is compressed (when clear, 4096 raw bytes follow). A compressed
//! chunk is a run of token sequences: one flag byte, then up to eight tokens, where a clear flag bit
//! is a literal byte and a set bit a two-byte copy token. A chunk decodes to at most 4096 bytes.
//!
//! Leniency (Office accepts all of these, so a scanner must too):
//! - the container signature may be `0x01` (spec) or `0x05` (accepted by Word);
//! - chunk signature bits other than `0b011` are counted, not rejected;
//! - a copy token reaching before the chunk start reads earlier output (as a whole-buffer decoder
//!   does); one reaching before the start of all output is clamped to it; with no output at all the
//!   token is skipped;
//! - a truncated chunk or token ends decoding with what was decoded so far.
//!
//! Output never exceeds the caller's `max_out`, and the output buffer is never grown past it.

use thiserror::Error;

/// Largest number of bytes one chunk decodes to.
pub const CHUNK_MAX: usize = 4096;

/// Most containers [`find_compressed_source`] returns.
pub const MAX_FOUND_CONTAINERS: usize = 1024;

/// How far before a `\x00Attribut` hit [`find_compressed_source`] looks for a container start when
/// the hit is not right after a container header.
const BACKTRACK_WINDOW: usize = 64;

/// Within how many decoded bytes `Attribut` must appear for a carved container to count.
const ATTRIBUT_NEAR_START: usize = 256;

/// Most candidate starts [`find_compressed_source`] tries per call, and the input each trial may
/// read: hostile data full of `\x00Attribut` costs at most 4096 × 16 KiB of decoding.
const MAX_PROBES: usize = 4096;
const PROBE_INPUT: usize = 16 * 1024;

/// Errors of [`decompress`]: only a container that cannot start is an error; damage further in
/// yields the bytes decoded up to it (see [`Decompressed`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OvbaError {
    /// No byte at all where a compressed container should start.
    #[error("empty compressed container (offset {offset})")]
    Empty { offset: usize },
    /// The first byte is neither `0x01` nor `0x05`.
    #[error("bad compressed container signature 0x{found:02X} at offset {offset}")]
    BadSignature { found: u8, offset: usize },
}

/// A decompression result with what was tolerated on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decompressed {
    /// The decoded bytes (at most `max_out`).
    pub data: Vec<u8>,
    /// Input bytes used, signature byte included.
    pub consumed: usize,
    /// The input ended inside a chunk header, a chunk or a copy token.
    pub truncated_input: bool,
    /// Decoding stopped because `max_out` bytes were produced.
    pub hit_limit: bool,
    /// Copy tokens whose offset reached before the chunk start (read earlier output, clamped or
    /// skipped).
    pub bad_offsets: usize,
    /// Chunk headers whose signature bits were not `0b011`.
    pub odd_chunk_signatures: usize,
}

/// Decompresses an MS-OVBA compressed container, producing at most `max_out` bytes.
///
/// Errors only when `input` is empty or does not start with `0x01`/`0x05`; everything else is
/// tolerated (see the module documentation).
pub fn decompress(input: &[u8], max_out: usize) -> Result<Vec<u8>, OvbaError> {
    decompress_detailed(input, max_out).map(|d| d.data)
}

/// Like [`decompress`], also telling what was tolerated.
pub fn decompress_detailed(input: &[u8], max_out: usize) -> Result<Decompressed, OvbaError> {
    decode(input, max_out, false)
}

/// Output buffer that never holds, nor reserves room for, more than `max` bytes.
struct Sink {
    buf: Vec<u8>,
    max: usize,
}

impl Sink {
    fn new(max: usize, hint: usize) -> Self {
        Sink {
            buf: Vec::with_capacity(hint.min(max)),
            max,
        }
    }

    fn is_full(&self) -> bool {
        self.buf.len() >= self.max
    }

    /// Makes room for one more byte without growing past `max`. False when full.
    fn room(&mut self) -> bool {
        if self.is_full() {
            return false;
        }
        if self.buf.len() == self.buf.capacity() {
            let left = self.max.saturating_sub(self.buf.len());
            let grow = self.buf.len().max(CHUNK_MAX).min(left);
            self.buf.reserve_exact(grow);
        }
        true
    }

    fn push(&mut self, b: u8) -> bool {
        if !self.room() {
            return false;
        }
        self.buf.push(b);
        true
    }

    fn extend(&mut self, bytes: &[u8]) -> bool {
        let left = self.max.saturating_sub(self.buf.len());
        let take = bytes.len().min(left);
        let part = bytes.get(..take).unwrap_or_default();
        // No-op when there is room already; never reserves past `max`.
        self.buf.reserve_exact(take);
        self.buf.extend_from_slice(part);
        take == bytes.len()
    }
}

fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let b = data.get(at..end)?;
    Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
}

/// Splits a copy token into (length, offset) given `produced` bytes already decoded in the chunk.
fn split_copy_token(token: u16, produced: usize) -> (usize, usize) {
    let need = if produced <= 1 {
        0
    } else {
        usize::BITS - (produced - 1).leading_zeros()
    };
    let bits = need.clamp(4, 12);
    let length_mask = 0xFFFFu16 >> bits;
    let length = usize::from(token & length_mask) + 3;
    let offset = usize::from(token >> (16 - bits)) + 1;
    (length, offset)
}

/// The decoder. `carving` stops at a chunk (after the first) whose signature bits are wrong: in
/// arbitrary bytes that is where the container most likely ended.
fn decode(input: &[u8], max_out: usize, carving: bool) -> Result<Decompressed, OvbaError> {
    let Some(&sig) = input.first() else {
        return Err(OvbaError::Empty { offset: 0 });
    };
    if sig != 0x01 && sig != 0x05 {
        return Err(OvbaError::BadSignature {
            found: sig,
            offset: 0,
        });
    }
    let mut res = Decompressed::default();
    let mut out = Sink::new(max_out, input.len().saturating_mul(2));
    let mut pos = 1usize;
    let mut chunk_index = 0usize;
    while pos < input.len() {
        if out.is_full() {
            res.hit_limit = true;
            break;
        }
        let Some(header) = le_u16(input, pos) else {
            res.truncated_input = true;
            pos = input.len();
            break;
        };
        if (header >> 12) & 0x7 != 0b011 {
            if carving && chunk_index > 0 {
                break;
            }
            res.odd_chunk_signatures += 1;
        }
        let body = pos.saturating_add(2);
        if header & 0x8000 == 0 {
            // Raw chunk: 4096 bytes whatever the size field says.
            let want_end = body.saturating_add(CHUNK_MAX);
            let end = want_end.min(input.len());
            if end < want_end {
                res.truncated_input = true;
            }
            let raw = input.get(body..end).unwrap_or_default();
            if !out.extend(raw) {
                res.hit_limit = true;
            }
            pos = end;
        } else {
            let size = usize::from(header & 0x0FFF) + 3;
            let want_end = pos.saturating_add(size);
            let end = want_end.min(input.len());
            if end < want_end {
                res.truncated_input = true;
            }
            let tokens = input.get(body..end).unwrap_or_default();
            decode_chunk(tokens, &mut out, &mut res);
            pos = end.max(body.min(input.len()));
        }
        chunk_index += 1;
    }
    if out.is_full() && pos < input.len() {
        res.hit_limit = true;
    }
    res.consumed = pos.min(input.len());
    res.data = out.buf;
    Ok(res)
}

/// Decodes the token sequences of one compressed chunk into `out`.
fn decode_chunk(tokens: &[u8], out: &mut Sink, res: &mut Decompressed) {
    let chunk_start = out.buf.len();
    let mut i = 0usize;
    while let Some(&flags) = tokens.get(i) {
        i += 1;
        for bit in 0..8 {
            if i >= tokens.len() {
                return;
            }
            let produced = out.buf.len().saturating_sub(chunk_start);
            if produced >= CHUNK_MAX {
                // A chunk may not decode to more than 4096 bytes: ignore the rest of it.
                return;
            }
            if flags & (1 << bit) == 0 {
                let lit = tokens.get(i).copied().unwrap_or_default();
                i += 1;
                if !out.push(lit) {
                    res.hit_limit = true;
                    return;
                }
                continue;
            }
            let Some(token) = le_u16(tokens, i) else {
                res.truncated_input = true;
                return;
            };
            i += 2;
            let (length, mut offset) = split_copy_token(token, produced);
            let have = out.buf.len();
            if offset > produced {
                res.bad_offsets += 1;
                if have == 0 {
                    continue;
                }
                offset = offset.min(have);
            }
            let length = length.min(CHUNK_MAX - produced);
            let src = have - offset;
            for k in 0..length {
                let Some(b) = out.buf.get(src + k).copied() else {
                    break;
                };
                if !out.push(b) {
                    res.hit_limit = true;
                    return;
                }
            }
        }
    }
}

/// Finds compressed containers in arbitrary bytes whose decompression starts with `Attribut` (or
/// holds it within the first 256 decoded bytes), and returns their decompressed texts.
///
/// A module's compressed source starts with eight literals, so its first bytes are the signature,
/// a two-byte chunk header and a zero flag byte followed by `Attribut`: the search looks for
/// `\x00Attribut` and then for the container start just before it (or, if the header was altered,
/// within 64 bytes before it). `max_out` bounds the total of all returned texts; at most
/// [`MAX_FOUND_CONTAINERS`] are returned, in file order, none overlapping another.
pub fn find_compressed_source(data: &[u8], max_out: usize) -> Vec<Vec<u8>> {
    find_compressed_source_at(data, max_out)
        .into_iter()
        .map(|(_, text)| text)
        .collect()
}

/// Like [`find_compressed_source`], with the offset of each container's signature byte.
pub fn find_compressed_source_at(data: &[u8], max_out: usize) -> Vec<(usize, Vec<u8>)> {
    const NEEDLE: &[u8] = b"\x00Attribut";
    let mut found = Vec::new();
    let mut budget = max_out;
    let mut resume = 0usize;
    let finder = memchr::memmem::Finder::new(NEEDLE);
    let mut search_from = 0usize;
    let mut probes = MAX_PROBES;
    while found.len() < MAX_FOUND_CONTAINERS && budget > 0 && probes > 0 {
        let Some(rest) = data.get(search_from..) else {
            break;
        };
        let Some(rel) = finder.find(rest) else {
            break;
        };
        let hit = search_from + rel;
        search_from = hit + 1;
        if let Some((start, res)) = container_before(data, hit, resume, budget, &mut probes) {
            budget = budget.saturating_sub(res.data.len());
            resume = start.saturating_add(res.consumed.max(1));
            search_from = search_from.max(resume);
            found.push((start, res.data));
        }
    }
    found
}

/// Looks for a container starting at `hit - 3` (the usual layout) or, failing that, anywhere in
/// the window before it, whose output holds `Attribut` near its start. `floor` is where the
/// previous container ended: no candidate may start before it.
fn container_before(
    data: &[u8],
    hit: usize,
    floor: usize,
    budget: usize,
    probes: &mut usize,
) -> Option<(usize, Decompressed)> {
    let mut probe = |start: usize, exact: bool| -> Option<Decompressed> {
        *probes = probes.checked_sub(1)?;
        let slice = data.get(start..)?;
        let head_input = slice.get(..PROBE_INPUT).unwrap_or(slice);
        let head = decode(head_input, ATTRIBUT_NEAR_START + 8, true).ok()?;
        let ok = if exact {
            head.data.starts_with(b"Attribut")
        } else {
            memchr::memmem::find(&head.data, b"Attribut").is_some()
        };
        if !ok {
            return None;
        }
        decode(slice, budget, true).ok()
    };
    let usual = hit.checked_sub(3)?;
    if usual < floor {
        return None;
    }
    if matches!(data.get(usual), Some(0x01 | 0x05))
        && let Some(res) = probe(usual, true)
    {
        return Some((usual, res));
    }
    let low = usual.saturating_sub(BACKTRACK_WINDOW).max(floor);
    for start in (low..usual).rev() {
        if !matches!(data.get(start), Some(0x01 | 0x05)) {
            continue;
        }
        match le_u16(data, start + 1) {
            Some(h) if h & 0x8000 != 0 => {}
            _ => continue,
        }
        if let Some(res) = probe(start, false) {
            return Some((start, res));
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plain greedy MS-OVBA compressor, for tests only.
    pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x01];
        for chunk in data.chunks(CHUNK_MAX) {
            let mut body: Vec<u8> = Vec::new();
            let mut pos = 0;
            while pos < chunk.len() {
                let flag_at = body.len();
                body.push(0);
                for bit in 0..8 {
                    if pos >= chunk.len() {
                        break;
                    }
                    let bits = if pos <= 1 {
                        4
                    } else {
                        (usize::BITS - (pos - 1).leading_zeros()).clamp(4, 12)
                    };
                    let max_len = (0xFFFFusize >> bits) + 3;
                    let max_off = (1usize << (16 - bits)).min(pos).min(1024);
                    let mut best = (0, 0);
                    for off in 1..=max_off {
                        let mut len = 0;
                        while len < max_len
                            && pos + len < chunk.len()
                            && chunk[pos + len] == chunk[pos + len - off]
                        {
                            len += 1;
                        }
                        if len > best.0 {
                            best = (len, off);
                        }
                    }
                    if best.0 >= 3 {
                        let token = (((best.1 - 1) << (16 - bits)) | (best.0 - 3)) as u16;
                        body.extend_from_slice(&token.to_le_bytes());
                        body[flag_at] |= 1 << bit;
                        pos += best.0;
                    } else {
                        body.push(chunk[pos]);
                        pos += 1;
                    }
                }
            }
            if body.len() > CHUNK_MAX {
                assert_eq!(chunk.len(), CHUNK_MAX, "incompressible partial chunk");
                out.extend_from_slice(&0x3FFFu16.to_le_bytes());
                out.extend_from_slice(chunk);
            } else {
                let header = 0xB000u16 | (body.len() as u16 - 1);
                out.extend_from_slice(&header.to_le_bytes());
                out.extend_from_slice(&body);
            }
        }
        out
    }

    #[test]
    fn empty_and_bad_signature() {
        assert_eq!(decompress(&[], 10), Err(OvbaError::Empty { offset: 0 }));
        assert_eq!(
            decompress(&[0x02, 0x00], 10),
            Err(OvbaError::BadSignature {
                found: 2,
                offset: 0
            })
        );
        assert_eq!(decompress(&[0x01], 10), Ok(Vec::new()));
    }

    #[test]
    fn literal_only_chunk() {
        let input = [0x01, 0x03, 0xB0, 0x00, b'a', b'b', b'c'];
        let d = decompress_detailed(&input, 100).unwrap();
        assert_eq!(d.data, b"abc");
        assert_eq!(d.consumed, input.len());
        assert!(!d.truncated_input && !d.hit_limit && d.bad_offsets == 0);
    }

    #[test]
    fn overlapping_copy_token() {
        // 'a', then copy offset 1 length 8 (d = 1: 4 offset bits, token 0x0005).
        let input = [0x01, 0x03, 0xB0, 0x02, b'a', 0x05, 0x00];
        assert_eq!(decompress(&input, 100).unwrap(), b"aaaaaaaaa");
        // "abc" then offset 3 length 6 (d = 3: token (2 << 14) | 3 = 0x8003).
        let input = [0x01, 0x05, 0xB0, 0x08, b'a', b'b', b'c', 0x03, 0x80];
        assert_eq!(decompress(&input, 100).unwrap(), b"abcabcabc");
    }

    #[test]
    fn ms_ovba_example() {
        // The worked example of MS-OVBA 3.2.3.
        let input = [
            0x01, 0x2F, 0xB0, 0x00, 0x23, 0x61, 0x61, 0x61, 0x62, 0x63, 0x64, 0x65, 0x82, 0x66,
            0x00, 0x70, 0x61, 0x67, 0x68, 0x69, 0x6A, 0x01, 0x38, 0x08, 0x61, 0x6B, 0x6C, 0x00,
            0x30, 0x6D, 0x6E, 0x6F, 0x70, 0x06, 0x71, 0x02, 0x70, 0x04, 0x10, 0x72, 0x73, 0x74,
            0x75, 0x76, 0x10, 0x77, 0x78, 0x79, 0x7A, 0x00, 0x3C,
        ];
        assert_eq!(
            decompress(&input, 1000).unwrap(),
            b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
        );
    }

    #[test]
    fn uncompressed_chunk() {
        let raw: Vec<u8> = (0..CHUNK_MAX).map(|i| (i * 7 % 251) as u8).collect();
        let mut input = vec![0x01, 0xFF, 0x3F];
        input.extend_from_slice(&raw);
        input.extend_from_slice(&[0x03, 0xB0, 0x00, b'x', b'y', b'z']);
        let d = decompress_detailed(&input, 1 << 20).unwrap();
        assert_eq!(&d.data[..CHUNK_MAX], &raw[..]);
        assert_eq!(&d.data[CHUNK_MAX..], b"xyz");
        assert_eq!(d.consumed, input.len());
        // A raw chunk cut short yields what is there.
        let d = decompress_detailed(&input[..100], 1 << 20).unwrap();
        assert_eq!(d.data, &raw[..97]);
        assert!(d.truncated_input);
    }

    #[test]
    fn truncated_input() {
        let input = [0x01, 0x05, 0xB0, 0x08, b'a', b'b', b'c', 0x03, 0x80];
        for cut in 1..input.len() {
            let d = decompress_detailed(&input[..cut], 100).unwrap();
            assert!(b"abc".starts_with(&d.data), "{cut}: {:?}", d.data);
            assert!(d.truncated_input || cut == 1, "{cut}");
        }
        // A lone header byte.
        assert!(
            decompress_detailed(&[0x01, 0x05], 10)
                .unwrap()
                .truncated_input
        );
    }

    #[test]
    fn bad_offsets_are_clamped_or_skipped() {
        // First token a copy: nothing to copy from, skipped.
        let input = [0x01, 0x03, 0xB0, 0x01, 0x05, 0x00, b'z'];
        let d = decompress_detailed(&input, 100).unwrap();
        assert_eq!(d.data, b"z");
        assert_eq!(d.bad_offsets, 1);
        // "ab", then offset 4 (> 2 produced): clamped to the start of the output.
        // d = 2: bits 4, token (3 << 12) | 0 = 0x3000, length 3.
        let input = [0x01, 0x04, 0xB0, 0x04, b'a', b'b', 0x00, 0x30];
        let d = decompress_detailed(&input, 100).unwrap();
        assert_eq!(d.data, b"ababa");
        assert_eq!(d.bad_offsets, 1);
        // A copy at the start of a second chunk reads the end of the first one (offset 3,
        // length 3: d = 0, token 0x2000).
        let input = [
            0x01, 0x03, 0xB0, 0x00, b'a', b'b', b'c', 0x02, 0xB0, 0x01, 0x00, 0x20,
        ];
        let d = decompress_detailed(&input, 100).unwrap();
        assert_eq!(d.data, b"abcabc");
        assert_eq!(d.bad_offsets, 1);
    }

    #[test]
    fn lenient_signatures() {
        let mut input = vec![0x05, 0x03, 0xB0, 0x00, b'a', b'b', b'c'];
        assert_eq!(decompress(&input, 100).unwrap(), b"abc");
        input[0] = 0x01;
        input[2] = 0x80; // chunk signature bits 000 instead of 011
        let d = decompress_detailed(&input, 100).unwrap();
        assert_eq!(d.data, b"abc");
        assert_eq!(d.odd_chunk_signatures, 1);
    }

    #[test]
    fn output_is_capped() {
        let text = b"Attribute VB_Name = \"Module1\"\r\n".repeat(500);
        let packed = compress(&text);
        for max in [0, 1, 100, 4096, 5000] {
            let d = decompress_detailed(&packed, max).unwrap();
            assert_eq!(d.data, &text[..max]);
            assert!(d.hit_limit);
            assert!(d.data.capacity() <= max, "{max}: {}", d.data.capacity());
        }
    }

    #[test]
    fn round_trip() {
        let mut text = Vec::new();
        for i in 0..3000 {
            text.extend_from_slice(format!("Dim v{i} As Long: v{i} = {}\r\n", i * 31).as_bytes());
        }
        for len in [0, 1, 7, 4095, 4096, 4097, 9000, text.len()] {
            let packed = compress(&text[..len]);
            assert_eq!(
                decompress(&packed, usize::MAX).unwrap(),
                &text[..len],
                "{len}"
            );
        }
        let noise: Vec<u8> = (0..10_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(decompress(&compress(&noise), usize::MAX).unwrap(), noise);
    }

    #[test]
    fn finds_sources_in_arbitrary_bytes() {
        let a = b"Attribute VB_Name = \"A\"\r\nSub AutoOpen()\r\nEnd Sub\r\n".to_vec();
        let b = b"Attribute VB_Name = \"B\"\r\nSub X()\r\nEnd Sub\r\n".to_vec();
        let mut blob = vec![0xEEu8; 100];
        blob.extend_from_slice(&compress(&a));
        blob.extend_from_slice(&[0x00, 0x41, 0x74, 0x74]);
        blob.extend_from_slice(&[0x11u8; 50]);
        blob.extend_from_slice(&compress(&b));
        let found = find_compressed_source_at(&blob, 1 << 20);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, 100);
        assert!(found[0].1.starts_with(&a));
        assert!(found[1].1.starts_with(&b));
        // The total is bounded by max_out.
        let found = find_compressed_source(&blob, 10);
        assert_eq!(found, vec![a[..10].to_vec()]);
        assert!(find_compressed_source(b"\x00Attribut", 100).is_empty());
        assert!(find_compressed_source(&[], 100).is_empty());
    }

    #[test]
    fn random_bytes_stay_bounded() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..3000usize {
            let mut buf: Vec<u8> = (0..(round % 700) + 1)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            buf[0] = if round % 2 == 0 { 0x01 } else { 0x05 };
            if round % 3 == 0 && buf.len() > 9 {
                buf[1..10].copy_from_slice(b"\x00Attribut");
            }
            let max = round % 5000;
            let d = decompress_detailed(&buf, max).unwrap();
            assert!(d.data.len() <= max && d.consumed <= buf.len());
            let found: usize = find_compressed_source(&buf, max).iter().map(Vec::len).sum();
            assert!(found <= max);
        }
    }

    /// Round trip on real module sources: decompress, recompress, decompress again.
    #[test]
    fn round_trip_real_modules() {
        let mut checked = 0;
        for (name, data) in crate::ole::tests::droppers().into_iter().take(10) {
            let mut ole = crate::ole::OleFile::parse(&data).expect(&name);
            let module_paths: Vec<String> = ole
                .entries()
                .iter()
                .filter(|e| {
                    e.is_stream
                        && e.path.contains("/VBA/")
                        && !e.path.contains("_VBA_")
                        && !e.path.contains("__SRP")
                        && !e.path.ends_with("/dir")
                })
                .map(|e| e.path.clone())
                .collect();
            for path in module_paths {
                let stream = ole.read_stream(&path, 1 << 24).expect(&path);
                for text in find_compressed_source(&stream, 1 << 24) {
                    assert!(text.starts_with(b"Attribut"), "{path}");
                    assert_eq!(
                        decompress(&compress(&text), usize::MAX).unwrap(),
                        text,
                        "{path}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 20, "{checked}");
    }
}

//! PowerPoint 97-2003: the storages embedded in the `PowerPoint Document` stream.
//!
//! A .ppt keeps its VBA project, and every embedded OLE object, as an ExOleObjStg record
//! (type 0x1011): instance 1 holds a u32 decompressed size and a zlib stream, instance 0 the bytes
//! as they are (MS-PPT 2.10.34/35). The record walk steps into containers (version 0xF) and over
//! atoms, so every step moves forward by at least 8 bytes and the walk ends.

use std::io::Read;

const EX_OLE_OBJ_STG: u16 = 0x1011;

/// One embedded storage: where its record starts in the stream, and its (decompressed) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    pub offset: usize,
    pub data: Vec<u8>,
    /// The data was cut at `max_out`.
    pub truncated: bool,
}

/// Every ExOleObjStg of a `PowerPoint Document` stream: at most `max_items`, each at most
/// `max_out` bytes, all together at most `max_total` bytes (a few kilobytes of zlib can each
/// inflate to `max_out`, so the total needs its own bound). Records that do not decompress are
/// skipped.
pub fn embedded_storages(
    stream: &[u8],
    max_out: usize,
    max_total: usize,
    max_items: usize,
) -> Vec<Embedded> {
    let mut out = Vec::new();
    let mut total = 0usize;
    let mut pos = 0usize;
    while out.len() < max_items && total < max_total {
        let max_out = max_out.min(max_total - total);
        let Some(h) = stream.get(pos..pos + 8) else {
            break;
        };
        let ver_inst = u16::from_le_bytes([h[0], h[1]]);
        let ty = u16::from_le_bytes([h[2], h[3]]);
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        let body_start = pos + 8;
        if ver_inst & 0xF == 0xF {
            pos = body_start; // a container: its children follow
            continue;
        }
        let body_end = body_start.saturating_add(len).min(stream.len());
        if ty == EX_OLE_OBJ_STG {
            let body = &stream[body_start..body_end];
            let item = if ver_inst >> 4 == 1 {
                inflate(body.get(4..).unwrap_or_default(), max_out)
            } else {
                Some((
                    body[..body.len().min(max_out)].to_vec(),
                    body.len() > max_out,
                ))
            };
            if let Some((data, truncated)) = item.filter(|(d, _)| !d.is_empty()) {
                total += data.len();
                out.push(Embedded {
                    offset: pos,
                    data,
                    truncated,
                });
            }
        }
        pos = body_end.max(pos + 8);
    }
    out
}

fn inflate(zlib: &[u8], max_out: usize) -> Option<(Vec<u8>, bool)> {
    let mut data = Vec::new();
    let limit = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
    // A truncated zlib stream still yields what was decoded before the error.
    let _ = flate2::read::ZlibDecoder::new(zlib)
        .take(limit)
        .read_to_end(&mut data);
    let truncated = data.len() > max_out;
    data.truncate(max_out);
    (!data.is_empty()).then_some((data, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn record(ver_inst: u16, ty: u16, body: &[u8]) -> Vec<u8> {
        let mut r = ver_inst.to_le_bytes().to_vec();
        r.extend_from_slice(&ty.to_le_bytes());
        r.extend_from_slice(&(body.len() as u32).to_le_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn finds_compressed_and_plain_storages_inside_containers() {
        let payload = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 an OLE file".to_vec();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&payload).expect("compress");
        let mut compressed = (payload.len() as u32).to_le_bytes().to_vec();
        compressed.extend_from_slice(&z.finish().expect("finish"));
        let mut inner = record(0x0000, 0x0FBA, b"atom"); // some atom to step over
        inner.extend(record(0x0010, EX_OLE_OBJ_STG, &compressed));
        inner.extend(record(0x0000, EX_OLE_OBJ_STG, b"plain bytes"));
        let stream = record(0x000F, 0x03E8, &inner); // a container holding them
        let found = embedded_storages(&stream, 1 << 20, 1 << 20, 10);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].data, payload);
        assert_eq!(found[1].data, b"plain bytes");
        assert_eq!(
            embedded_storages(&stream, 4, 1 << 20, 10)[0].data.len(),
            4,
            "capped"
        );
        assert_eq!(
            embedded_storages(&stream, 1 << 20, 1 << 20, 1).len(),
            1,
            "item cap"
        );
    }

    /// Many records of zeros that each inflate to the per-item cap: the total stays in budget.
    #[test]
    fn total_output_is_bounded() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; 1 << 20]).expect("compress");
        let mut body = (1u32 << 20).to_le_bytes().to_vec();
        body.extend_from_slice(&z.finish().expect("finish"));
        let mut stream = Vec::new();
        for _ in 0..40 {
            stream.extend(record(0x0010, EX_OLE_OBJ_STG, &body));
        }
        assert!(
            stream.len() < 64 << 10,
            "40 MiB of output from a small stream"
        );
        let found = embedded_storages(&stream, 1 << 20, 3 << 20, 256);
        let total: usize = found.iter().map(|e| e.data.len()).sum();
        assert_eq!(total, 3 << 20);
        assert_eq!(found.len(), 3);
        // A budget that ends inside a record cuts that record and stops.
        let found = embedded_storages(&stream, 1 << 20, (1 << 20) + 10, 256);
        assert_eq!(found.len(), 2);
        assert!(found[1].truncated && found[1].data.len() == 10);
    }

    #[test]
    fn hostile_bytes_end_without_panic() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for n in 0..3000 {
            let mut buf = Vec::with_capacity(n % 300);
            for _ in 0..(n % 300) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push(x as u8);
            }
            let _ = embedded_storages(&buf, 1 << 16, 1 << 18, 16);
        }
        // Lengths pointing past the end, and zero-length atoms.
        let _ = embedded_storages(
            &[0, 0, 0x11, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2],
            1 << 16,
            1 << 18,
            16,
        );
        assert!(embedded_storages(&[0u8; 64], 1 << 16, 1 << 18, 16).is_empty());
    }
}

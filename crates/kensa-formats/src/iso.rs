//! Disk images mailed to bypass Mark-of-the-Web (spec §2.9): ISO 9660 (with Joliet) is listed file
//! by file; UDF, raw FAT/NTFS `.img`, VHD and VHDX are only recognised.
//!
//! Emotet, Qakbot and IcedID shipped `.iso`/`.img`/`.vhd` attachments because, before November 2022,
//! Windows did not pass the Zone.Identifier of the container to the files inside once it was
//! mounted. The payload is usually an LNK next to a hidden DLL or script.
//!
//! **ISO 9660 (ECMA-119).** 2048-byte logical sectors. Volume descriptors start at sector 16
//! (byte 32768): byte 0 type (0 boot record, 1 primary, 2 supplementary, 255 terminator), `CD001`
//! at 1..6. A supplementary descriptor is Joliet when its escape sequence at 88 is `%/@`, `%/C` or
//! `%/E`; Joliet names are UCS-2 big-endian. Logical block size: both-endian u16 at 128 (the
//! little-endian half is read); root directory record: 34 bytes at 156; volume label at 40..72.
//! Directory record: length @0, extent LBA @2 and data length @10 (both-endian u32, the
//! little-endian half is read), flags @25 (bit 0 hidden, bit 1 directory, bit 7 more extents
//! follow), file unit size @26 and interleave gap @27, name length @32, name @33. The names `\0`
//! and `\1` are "." and "..". A record never crosses a 2048-byte sector: a zero length byte means
//! the rest of the sector is padding. `;1` version suffixes and an empty extension's trailing `.`
//! are dropped. Rock Ridge entries in the system-use area are ignored.
//!
//! **Which tree.** Windows shows the Joliet tree, so its names (long, Unicode) are listed. The
//! primary tree is walked too: a file (non-empty) whose extent is not in the Joliet listing is
//! appended under its primary name, with a note, so nothing readable is left unscanned. Without
//! Joliet the primary tree is listed.
//!
//! **Detection only.** UDF (ECMA-167 volume recognition sequence `BEA01`/`NSR02`/`NSR03`/`TEA01`
//! from sector 16; UDF-only images have no `CD001`), FAT (`0x55AA` at 510 and `FAT` at 0x36 or
//! `FAT32` at 0x52), NTFS (`NTFS    ` at 3), VHD (`conectix` at 0 or in the last 512-byte footer)
//! and VHDX (`vhdxfile` at 0). [`open`] returns them with `listed == false`: the caller must report
//! them as not inspected, never as clean. An ISO that also carries UDF descriptors (a UDF bridge
//! image, as `genisoimage -udf` makes) is listed through ISO 9660 with a note: Windows mounts such
//! an image through UDF, whose tree is not read here.
//!
//! **Limits.** At most 64 descriptors are read. The walk is breadth-first and per tree reads at
//! most 32 levels, paths of at most 1,024 bytes, 4,096 directories and 16 MiB of directory
//! records; it stops at the caller's `max_files`. A directory extent met twice (a loop or a
//! cross-link) is walked once. Hitting a limit, or a directory that runs past the input, sets
//! `truncated`. A file whose extent runs past the input is still listed; [`ImageFile::readable`]
//! says how many of its bytes are present.

use std::collections::{HashSet, VecDeque};

/// ISO 9660 logical sector size; descriptors and directory records are laid out in these.
const SECTOR: usize = 2048;
/// The volume descriptor set starts at sector 16.
const FIRST_DESCRIPTOR: usize = 16 * SECTOR;
const MAX_DESCRIPTORS: usize = 64;
const MAX_DEPTH: usize = 32;
const MAX_DIRS: usize = 4096;
const MAX_DIR_BYTES: u64 = 16 << 20;
/// A directory whose path is longer than this is not entered (Windows' own limit is 260
/// characters); this bounds the memory held by queued directories and listed paths.
const MAX_PATH_BYTES: usize = 1024;
const MAX_NOTES: usize = 32;
/// Fixed part of a directory record before the name.
const RECORD_HEAD: usize = 33;

const FLAG_HIDDEN: u8 = 0x01;
const FLAG_DIRECTORY: u8 = 0x02;
const FLAG_MULTI_EXTENT: u8 = 0x80;

/// What kind of disk image the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// ISO 9660. `joliet`: from [`detect`], a Joliet supplementary descriptor is present; from
    /// [`open`], the listing uses its names. `udf`: UDF volume recognition descriptors follow the
    /// ISO ones (a UDF bridge image).
    Iso9660 { joliet: bool, udf: bool },
    /// UDF without ISO 9660 descriptors: recognised, not listed.
    Udf,
    /// A raw FAT12/16/32 volume (`.img`): recognised, not listed.
    Fat,
    /// A raw NTFS volume: recognised, not listed.
    Ntfs,
    /// A Virtual PC / Hyper-V virtual disk: recognised, not listed.
    Vhd,
    /// A Hyper-V VHDX virtual disk: recognised, not listed.
    Vhdx,
}

impl ImageKind {
    /// A short name for reports: `ISO 9660`, `UDF`, `FAT`, `NTFS`, `VHD`, `VHDX`.
    pub fn name(&self) -> &'static str {
        match self {
            ImageKind::Iso9660 { .. } => "ISO 9660",
            ImageKind::Udf => "UDF",
            ImageKind::Fat => "FAT",
            ImageKind::Ntfs => "NTFS",
            ImageKind::Vhd => "VHD",
            ImageKind::Vhdx => "VHDX",
        }
    }
}

/// A disk image and, for ISO 9660, the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskImage {
    pub kind: ImageKind,
    /// True when the file system was walked. False for UDF/FAT/NTFS/VHD/VHDX: `files` is empty
    /// because they were not read, not because there are none.
    pub listed: bool,
    /// Files in walk order (breadth-first, directory order).
    pub files: Vec<ImageFile>,
    /// The listing may be incomplete: a limit was hit or a directory could not be read in full
    /// (`notes` says which).
    pub truncated: bool,
    /// Volume label of the listed tree, when not blank.
    pub label: Option<String>,
    /// Facts and damage worth showing (at most 32, then a final "more notes" line).
    pub notes: Vec<String>,
}

/// One file of an ISO 9660 tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// `/DIR/NAME.EXT`, names as stored (Joliet or primary), without the `;1` version.
    pub path: String,
    /// The hidden (existence) flag, which Explorer honours.
    pub hidden: bool,
    /// Byte offset of the file's first extent in the image.
    pub offset: u64,
    /// Size the directory declares (all extents).
    pub size: u64,
    /// Bytes of the file [`file_bytes`] returns: less than `size` when the extent runs past the
    /// input or the file is split into extents that do not follow each other.
    pub readable: u64,
}

impl ImageFile {
    /// Not all of the declared bytes can be read.
    pub fn is_truncated(&self) -> bool {
        self.readable < self.size
    }
}

/// Why bytes are not a disk image that can be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IsoError {
    #[error("offset 0: no ISO 9660, UDF, FAT, NTFS, VHD or VHDX signature")]
    NotDiskImage,
    #[error("offset {offset}: ISO 9660 descriptors hold no primary or Joliet volume descriptor")]
    NoVolume { offset: usize },
    #[error("offset {offset}: ISO 9660 logical block size is {value}, not 512, 1024 or 2048")]
    BlockSize { offset: usize, value: u16 },
    #[error("offset {offset}: ISO 9660 root directory record is not a directory record")]
    BadRoot { offset: usize },
    #[error("offset {offset}: ISO 9660 root directory (extent at {extent}) is past the input")]
    RootPastEnd { offset: usize, extent: u64 },
}

/// Cheap check for the type sniffer: which disk image the bytes are, if any. Reads at most 64
/// descriptors from sector 16, the first sector and the last 512 bytes.
pub fn detect(data: &[u8]) -> Option<ImageKind> {
    if data.starts_with(b"vhdxfile") {
        return Some(ImageKind::Vhdx);
    }
    if is_vhd(data) {
        return Some(ImageKind::Vhd);
    }
    let set = scan_descriptors(data);
    if set.cd001 {
        return Some(ImageKind::Iso9660 {
            joliet: set.joliet.is_some(),
            udf: set.udf,
        });
    }
    if set.udf || udf_at_4k(data) {
        return Some(ImageKind::Udf);
    }
    boot_sector_kind(data)
}

/// Open a disk image: list an ISO 9660 tree (at most `max_files` files), or say which
/// unlisted kind it is.
pub fn open(data: &[u8], max_files: usize) -> Result<DiskImage, IsoError> {
    let kind = detect(data).ok_or(IsoError::NotDiskImage)?;
    let ImageKind::Iso9660 { udf, .. } = kind else {
        return Ok(unlisted(kind, data));
    };
    let set = scan_descriptors(data);
    let mut image = list_iso(data, &set, max_files)?;
    if let ImageKind::Iso9660 { udf: u, .. } = &mut image.kind {
        *u = udf;
    }
    if udf {
        image.notes.insert(
            0,
            "UDF descriptors present too: Windows mounts the UDF tree, which was not read".into(),
        );
    }
    if let Some(at) = set.boot {
        image
            .notes
            .insert(0, format!("El Torito boot record at offset {at}"));
    }
    Ok(image)
}

/// The bytes of `f` that are present in `data` (`f.readable` of them), without copying.
pub fn file_bytes<'a>(data: &'a [u8], f: &ImageFile) -> &'a [u8] {
    let start = usize::try_from(f.offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let len = usize::try_from(f.readable).unwrap_or(usize::MAX);
    let end = start.saturating_add(len).min(data.len());
    data.get(start..end).unwrap_or_default()
}

/// A result for an image whose files are not read.
fn unlisted(kind: ImageKind, data: &[u8]) -> DiskImage {
    let mut notes = vec![format!(
        "{} image: its file system is not parsed, files not listed",
        kind.name()
    )];
    if kind == ImageKind::Vhd {
        notes.push(vhd_disk_type(data));
    }
    DiskImage {
        kind,
        listed: false,
        files: Vec::new(),
        truncated: false,
        label: None,
        notes,
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures

fn get(data: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    data.get(at..at.checked_add(len)?)
}

fn u16_le(data: &[u8], at: usize) -> Option<u16> {
    let b = get(data, at, 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_le(data: &[u8], at: usize) -> Option<u32> {
    let b = get(data, at, 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// `conectix` at the start (dynamic disks keep a copy there) or in the footer. Virtual PC before
/// 2004 wrote a 511-byte footer, so that position is checked as well.
fn is_vhd(data: &[u8]) -> bool {
    let at = |off: Option<usize>| off.and_then(|o| get(data, o, 8)) == Some(b"conectix");
    data.starts_with(b"conectix")
        || at(data.len().checked_sub(512))
        || at(data.len().checked_sub(511))
}

/// The footer's disk type (big-endian u32 at 60): 2 fixed, 3 dynamic, 4 differencing.
fn vhd_disk_type(data: &[u8]) -> String {
    let footer = [
        data.len().checked_sub(512),
        data.len().checked_sub(511),
        Some(0),
    ]
    .into_iter()
    .flatten()
    .find(|&o| get(data, o, 8) == Some(b"conectix"));
    let kind = footer
        .and_then(|o| get(data, o.saturating_add(60), 4))
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    match kind {
        Some(2) => "VHD disk type: fixed".into(),
        Some(3) => "VHD disk type: dynamic".into(),
        Some(4) => "VHD disk type: differencing".into(),
        Some(n) => format!("VHD disk type: unknown ({n})"),
        None => "VHD footer incomplete".into(),
    }
}

/// A FAT or NTFS boot sector: `0x55AA` at 510 and the file-system name at its place.
fn boot_sector_kind(data: &[u8]) -> Option<ImageKind> {
    if get(data, 510, 2)? != [0x55, 0xAA] {
        return None;
    }
    if get(data, 3, 8) == Some(b"NTFS    ") {
        Some(ImageKind::Ntfs)
    } else if get(data, 0x52, 5) == Some(b"FAT32") || get(data, 0x36, 3) == Some(b"FAT") {
        Some(ImageKind::Fat)
    } else {
        None
    }
}

/// What the descriptors from sector 16 hold.
#[derive(Debug, Default)]
struct DescriptorSet {
    cd001: bool,
    udf: bool,
    /// Offsets of the first primary and the first Joliet descriptor, and of a boot record.
    primary: Option<usize>,
    joliet: Option<usize>,
    boot: Option<usize>,
}

/// Read the volume descriptor set and the UDF volume recognition sequence after it, one 2048-byte
/// sector each, stopping at an unknown identifier, `TEA01` or the descriptor cap.
fn scan_descriptors(data: &[u8]) -> DescriptorSet {
    let mut set = DescriptorSet::default();
    let mut iso_done = false;
    for i in 0..MAX_DESCRIPTORS {
        let Some(at) = i
            .checked_mul(SECTOR)
            .and_then(|o| o.checked_add(FIRST_DESCRIPTOR))
        else {
            break;
        };
        let Some(head) = get(data, at, 6) else { break };
        match &head[1..6] {
            b"CD001" => {
                set.cd001 = true;
                if !iso_done {
                    iso_done = note_iso_descriptor(data, at, head[0], &mut set);
                }
            }
            b"BEA01" | b"NSR02" | b"NSR03" => set.udf = true,
            b"TEA01" => {
                set.udf = true;
                break;
            }
            // Other ECMA-167 / ECMA-168 recognition descriptors may sit between these.
            b"BOOT2" | b"CDW02" => {}
            _ => break,
        }
    }
    set
}

/// Record one `CD001` descriptor; true at the set terminator.
fn note_iso_descriptor(data: &[u8], at: usize, kind: u8, set: &mut DescriptorSet) -> bool {
    match kind {
        0 => {
            set.boot.get_or_insert(at);
        }
        1 => {
            set.primary.get_or_insert(at);
        }
        2 if is_joliet(data, at) => {
            set.joliet.get_or_insert(at);
        }
        255 => return true,
        _ => {}
    }
    false
}

fn is_joliet(data: &[u8], at: usize) -> bool {
    matches!(
        at.checked_add(88).and_then(|o| get(data, o, 3)),
        Some(b"%/@" | b"%/C" | b"%/E")
    )
}

/// UDF on 4096-byte-sector media: the recognition sequence uses one 4096-byte sector per
/// descriptor, so the second one sits at 36864.
fn udf_at_4k(data: &[u8]) -> bool {
    (0..4).any(|i| {
        let at = FIRST_DESCRIPTOR + i * 4096;
        matches!(get(data, at + 1, 5), Some(b"BEA01" | b"NSR02" | b"NSR03"))
    })
}

// ---------------------------------------------------------------------------------------------
// ISO 9660 listing

/// One volume (primary or Joliet) ready to walk.
struct Volume {
    joliet: bool,
    block: u64,
    root_extent: u64,
    root_size: u64,
    label: Option<String>,
}

/// Read the volume descriptor at `at`: block size, root directory and label.
fn read_volume(data: &[u8], at: usize, joliet: bool) -> Result<Volume, IsoError> {
    let block = u16_le(data, at + 128).ok_or(IsoError::BadRoot { offset: at + 128 })?;
    if !matches!(block, 512 | 1024 | 2048) {
        return Err(IsoError::BlockSize {
            offset: at + 128,
            value: block,
        });
    }
    let root_at = at + 156;
    let root = get(data, root_at, 34)
        .and_then(parse_record)
        .filter(|r| r.flags & FLAG_DIRECTORY != 0)
        .ok_or(IsoError::BadRoot { offset: root_at })?;
    let block = u64::from(block);
    let root_extent = u64::from(root.lba) * block;
    if root_extent >= data.len() as u64 {
        return Err(IsoError::RootPastEnd {
            offset: root_at,
            extent: root_extent,
        });
    }
    let label = get(data, at + 40, 32).map(|b| decode_text(b, joliet));
    Ok(Volume {
        joliet,
        block,
        root_extent,
        root_size: u64::from(root.size),
        label: label
            .map(|l| l.trim_matches([' ', '\0']).to_string())
            .filter(|l| !l.is_empty()),
    })
}

/// Walk the preferred tree (Joliet, else primary) and add what only the other tree reaches.
fn list_iso(data: &[u8], set: &DescriptorSet, max_files: usize) -> Result<DiskImage, IsoError> {
    let joliet = set.joliet.map(|at| read_volume(data, at, true));
    let primary = set.primary.map(|at| read_volume(data, at, false));
    let mut notes = Notes::default();
    let (main, other) = match (joliet, primary) {
        (Some(Ok(j)), p) => (j, p),
        (Some(Err(e)), Some(Ok(p))) => {
            notes.push(format!("Joliet tree unusable ({e}); primary tree listed"));
            (p, None)
        }
        (None, Some(p)) => (p?, None),
        (Some(Err(e)), _) => return Err(e),
        (None, None) => {
            return Err(IsoError::NoVolume {
                offset: FIRST_DESCRIPTOR,
            });
        }
    };
    let mut walk = Walker::new(data, &main, max_files, notes);
    walk.run(&main);
    let mut image = DiskImage {
        kind: ImageKind::Iso9660 {
            joliet: main.joliet,
            udf: false,
        },
        listed: true,
        files: walk.files,
        truncated: walk.truncated,
        label: main.label,
        notes: Vec::new(),
    };
    let mut notes = walk.notes;
    match other {
        // An already incomplete listing gains nothing from the second walk but noise.
        Some(Ok(_)) if image.truncated => {}
        Some(Ok(p)) => add_primary_only(data, &p, max_files, &mut image, &mut notes),
        Some(Err(e)) => notes.push(format!("primary tree unusable: {e}")),
        None => {}
    }
    image.notes = notes.finish();
    Ok(image)
}

/// Walk the primary tree behind a Joliet listing and append the non-empty files whose extent the
/// Joliet tree does not reach.
fn add_primary_only(
    data: &[u8],
    vol: &Volume,
    max_files: usize,
    image: &mut DiskImage,
    notes: &mut Notes,
) {
    let mut walk = Walker::new(data, vol, max_files, Notes::default());
    walk.run(vol);
    for n in walk.notes.items {
        notes.push(format!("primary tree: {n}"));
    }
    image.truncated |= walk.truncated;
    let seen: HashSet<(u64, u64)> = image.files.iter().map(|f| (f.offset, f.size)).collect();
    let mut extra = 0usize;
    for f in walk.files {
        if f.size == 0 || seen.contains(&(f.offset, f.size)) {
            continue;
        }
        if image.files.len() >= max_files {
            if !image.truncated {
                image.truncated = true;
                notes.push(format!("more than {max_files} files"));
            }
            break;
        }
        notes.push(format!("{} is only in the primary tree", f.path));
        image.files.push(f);
        extra += 1;
    }
    if extra > 0 {
        notes.push(format!("{extra} file(s) are hidden from the Joliet tree"));
    }
}

/// Notes capped at MAX_NOTES.
#[derive(Default)]
struct Notes {
    items: Vec<String>,
    dropped: usize,
}

impl Notes {
    fn push(&mut self, note: String) {
        if self.items.len() < MAX_NOTES {
            self.items.push(note);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.items
                .push(format!("{} more notes not kept", self.dropped));
        }
        self.items
    }
}

/// A parsed directory record.
#[derive(Debug)]
struct Record<'a> {
    len: usize,
    lba: u32,
    size: u32,
    flags: u8,
    unit: u8,
    gap: u8,
    name: &'a [u8],
}

/// Parse the record at the start of `b` (which may hold more after it).
fn parse_record(b: &[u8]) -> Option<Record<'_>> {
    let len = usize::from(*b.first()?);
    let name_len = usize::from(*b.get(32)?);
    if len < RECORD_HEAD + name_len.max(1) || len > b.len() {
        return None;
    }
    Some(Record {
        len,
        lba: u32_le(b, 2)?,
        size: u32_le(b, 10)?,
        flags: *b.get(25)?,
        unit: *b.get(26)?,
        gap: *b.get(27)?,
        name: get(b, RECORD_HEAD, name_len)?,
    })
}

/// Joliet text is UCS-2 big-endian (UTF-16 surrogates accepted); primary text is read as Latin-1
/// (its d-characters and a-characters are ASCII).
fn decode_text(raw: &[u8], joliet: bool) -> String {
    if joliet {
        let units = raw
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    }
}

/// A name as Windows shows it: `;version` and an empty extension's `.` removed.
fn decode_name(raw: &[u8], joliet: bool) -> String {
    let mut name = decode_text(raw, joliet);
    if let Some(semi) = name.find(';') {
        name.truncate(semi);
    }
    if name.ends_with('.') {
        name.pop();
    }
    name
}

/// A directory waiting to be read.
struct PendingDir {
    offset: u64,
    size: u64,
    path: String,
    depth: usize,
}

/// A file whose records are still arriving (multi-extent).
struct PendingFile {
    name: Vec<u8>,
    file: ImageFile,
    /// Bytes that follow each other from `file.offset`.
    contiguous: u64,
    split: bool,
}

/// Breadth-first walk of one tree, with its caps.
struct Walker<'a> {
    data: &'a [u8],
    joliet: bool,
    block: u64,
    max_files: usize,
    files: Vec<ImageFile>,
    notes: Notes,
    truncated: bool,
    visited: HashSet<u64>,
    dirs: usize,
    dir_bytes: u64,
    /// A cap was hit: stop reading.
    stop: bool,
}

impl<'a> Walker<'a> {
    fn new(data: &'a [u8], vol: &Volume, max_files: usize, notes: Notes) -> Self {
        Walker {
            data,
            joliet: vol.joliet,
            block: vol.block,
            max_files,
            files: Vec::new(),
            notes,
            truncated: false,
            visited: HashSet::new(),
            dirs: 0,
            dir_bytes: 0,
            stop: false,
        }
    }

    fn run(&mut self, vol: &Volume) {
        let mut queue = VecDeque::new();
        queue.push_back(PendingDir {
            offset: vol.root_extent,
            size: vol.root_size,
            path: String::new(),
            depth: 0,
        });
        while let Some(dir) = queue.pop_front() {
            if self.stop {
                break;
            }
            self.read_dir(&dir, &mut queue);
        }
    }

    fn limit(&mut self, note: String) {
        self.truncated = true;
        self.stop = true;
        self.notes.push(note);
    }

    /// Read one directory's records; queue its subdirectories, list its files.
    fn read_dir(&mut self, dir: &PendingDir, queue: &mut VecDeque<PendingDir>) {
        let shown = if dir.path.is_empty() { "/" } else { &dir.path };
        if !self.visited.insert(dir.offset) {
            let note = format!("directory {shown} reuses an extent already read (loop)");
            self.notes.push(note);
            return;
        }
        let len = self.data.len() as u64;
        let end = dir.offset.saturating_add(dir.size);
        if end > len {
            self.truncated = true;
            let note = format!("directory {shown} runs past the end of the input");
            self.notes.push(note);
        }
        let (start, end) = (dir.offset.min(len), end.min(len));
        self.dir_bytes = self.dir_bytes.saturating_add(end - start);
        if self.dir_bytes > MAX_DIR_BYTES {
            return self.limit(format!("more than {MAX_DIR_BYTES} bytes of directories"));
        }
        // Both bounds are at most the input length, so they fit in usize.
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let end = usize::try_from(end).unwrap_or(usize::MAX);
        let mut pending: Option<PendingFile> = None;
        let mut pos = start;
        while pos < end && !self.stop {
            let sector_end = (pos / SECTOR)
                .saturating_add(1)
                .saturating_mul(SECTOR)
                .min(end);
            let rest = self.data.get(pos..sector_end).unwrap_or_default();
            if rest.first().is_none_or(|&b| b == 0) {
                pos = sector_end;
                continue;
            }
            let Some(rec) = parse_record(rest) else {
                let note =
                    format!("bad directory record at offset {pos} in {shown}; sector skipped");
                self.notes.push(note);
                pos = sector_end;
                continue;
            };
            pos += rec.len;
            self.on_record(&rec, dir, &mut pending, queue);
        }
        if let Some(p) = pending.take() {
            self.finish_file(p);
        }
    }

    fn on_record(
        &mut self,
        rec: &Record<'_>,
        dir: &PendingDir,
        pending: &mut Option<PendingFile>,
        queue: &mut VecDeque<PendingDir>,
    ) {
        if rec.name == [0] || rec.name == [1] {
            return;
        }
        let offset = u64::from(rec.lba).saturating_mul(self.block);
        if rec.flags & FLAG_DIRECTORY != 0 {
            if let Some(p) = pending.take() {
                self.finish_file(p);
            }
            let path = format!("{}/{}", dir.path, decode_name(rec.name, self.joliet));
            if dir.depth + 1 > MAX_DEPTH || path.len() > MAX_PATH_BYTES {
                self.truncated = true;
                let note = format!(
                    "{path}: deeper than {MAX_DEPTH} levels or {MAX_PATH_BYTES} bytes, not read"
                );
                self.notes.push(note);
                return;
            }
            self.dirs += 1;
            if self.dirs > MAX_DIRS {
                return self.limit(format!("more than {MAX_DIRS} directories"));
            }
            queue.push_back(PendingDir {
                offset,
                size: u64::from(rec.size),
                path,
                depth: dir.depth + 1,
            });
            return;
        }
        let size = u64::from(rec.size);
        // A continuation of the multi-extent file in progress?
        if let Some(p) = pending.as_mut().filter(|p| p.name == rec.name) {
            if !p.split && offset == p.file.offset.saturating_add(p.contiguous) {
                p.contiguous = p.contiguous.saturating_add(size);
            } else {
                p.split = true;
            }
            p.file.size = p.file.size.saturating_add(size);
        } else {
            if let Some(p) = pending.take() {
                self.finish_file(p);
            }
            let path = format!("{}/{}", dir.path, decode_name(rec.name, self.joliet));
            let contiguous = if rec.unit != 0 || rec.gap != 0 {
                self.notes.push(format!(
                    "{path} is interleaved; only its first unit is read"
                ));
                size.min(u64::from(rec.unit).saturating_mul(self.block))
            } else {
                size
            };
            *pending = Some(PendingFile {
                name: rec.name.to_vec(),
                file: ImageFile {
                    path,
                    hidden: rec.flags & FLAG_HIDDEN != 0,
                    offset,
                    size,
                    readable: 0,
                },
                contiguous,
                split: false,
            });
        }
        if rec.flags & FLAG_MULTI_EXTENT == 0
            && let Some(p) = pending.take()
        {
            self.finish_file(p);
        }
    }

    /// List a file once its last extent is known.
    fn finish_file(&mut self, p: PendingFile) {
        if self.stop {
            return;
        }
        if self.files.len() >= self.max_files {
            return self.limit(format!("more than {} files", self.max_files));
        }
        let mut file = p.file;
        if p.split {
            let note = format!(
                "{}: extents are not contiguous; only the first run is read",
                file.path
            );
            self.notes.push(note);
        }
        let present = (self.data.len() as u64).saturating_sub(file.offset);
        file.readable = p.contiguous.min(file.size).min(present);
        if file.readable < file.size && !p.split {
            let note = format!("{} runs past the end of the input", file.path);
            self.notes.push(note);
        }
        self.files.push(file);
    }
}

#[cfg(test)]
mod tests;

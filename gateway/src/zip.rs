//! The zip a folder of a message (and "download all") is read as: entries
//! stored, not compressed (documents are mostly compressed already, and a
//! stored entry costs no CPU), names in UTF-8, the CRC-32 in a data
//! descriptor after each entry, and ZIP64 records only where a size or an
//! offset needs them. The layout follows from the entries' names and sizes
//! alone, so the length is known before the first byte (`Content-Length`,
//! a listing's size), and with every CRC-32 known (noted when each file's
//! upload ended) any byte of it can be made without the bytes before it: a
//! download resumed in the middle, an SFTP read at any offset.

use crate::Timestamp;

const LIMIT: u64 = 0xFFFF_FFFF;
const LOCAL_HEADER: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL: u32 = 0x0201_4b50;
/// Bit 3: sizes and CRC-32 follow the data; bit 11: the name is UTF-8.
const FLAGS: u16 = 0x0808;
/// Made by Unix (for the permissions in the external attributes), 4.5 (ZIP64).
const MADE_BY: u16 = 0x0300 | 45;

/// One entry of a zip: a file, or a folder (its name ends in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// Its path in the zip, `/` between the parts.
    pub name: String,
    /// Bytes (0 for a folder).
    pub size: u64,
    /// The CRC-32 of its bytes, when known before they are read.
    pub crc: Option<u32>,
    /// When it last changed.
    pub modified: Timestamp,
}

impl ZipEntry {
    /// A file of `size` bytes.
    pub fn file(name: &str, size: u64, crc: Option<u32>, modified: Timestamp) -> ZipEntry {
        // Nothing to read, nothing to sum.
        let crc = if size == 0 { Some(0) } else { crc };
        ZipEntry { name: name.to_owned(), size, crc, modified }
    }

    /// A folder, so that an empty one arrives too.
    pub fn folder(name: &str, modified: Timestamp) -> ZipEntry {
        ZipEntry { name: format!("{}/", name.trim_end_matches('/')), size: 0, crc: Some(0), modified }
    }

    fn is_folder(&self) -> bool {
        self.name.ends_with('/')
    }

    fn zip64(&self) -> bool {
        self.size >= LIMIT
    }

    fn header_len(&self) -> u64 {
        30 + self.name.len() as u64 + if self.zip64() { 20 } else { 0 }
    }

    fn descriptor_len(&self) -> u64 {
        if self.zip64() { 24 } else { 16 }
    }

    fn central_len(&self, offset: u64) -> u64 {
        let extra = if self.zip64() { 16 } else { 0 } + if offset >= LIMIT { 8 } else { 0 };
        46 + self.name.len() as u64 + if extra > 0 { 4 + extra } else { 0 }
    }

    /// MS-DOS time and date, UTC, from 1980 (the earliest a zip can say).
    fn dos_time(&self) -> (u16, u16) {
        let at = time::OffsetDateTime::from_unix_timestamp(self.modified.as_millis() / 1000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        if at.year() < 1980 || at.year() > 2107 {
            return (0, 0x0021);
        }
        let time = (u16::from(at.hour()) << 11) | (u16::from(at.minute()) << 5) | u16::from(at.second() / 2);
        let year = u16::try_from(at.year() - 1980).unwrap_or(0);
        let date = (year << 9) | (u16::from(u8::from(at.month())) << 5) | u16::from(at.day());
        (time, date)
    }
}

/// Where a byte of the zip lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// In entry `i`'s local header, `at` bytes in.
    Header(usize, u64),
    /// In entry `i`'s bytes.
    Data(usize, u64),
    /// In entry `i`'s data descriptor.
    Descriptor(usize, u64),
    /// In the central directory and the end records.
    Central(u64),
}

/// The layout of a zip of these entries.
#[derive(Debug, Clone)]
pub struct ZipLayout {
    entries: Vec<ZipEntry>,
    /// Where each entry's local header starts.
    offsets: Vec<u64>,
    central_at: u64,
    len: u64,
}

fn u16_of(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn u32_or_max(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl ZipLayout {
    /// Lay the entries out, in their order.
    pub fn new(entries: Vec<ZipEntry>) -> ZipLayout {
        let mut offsets = Vec::with_capacity(entries.len());
        let mut at = 0;
        let mut central = 0;
        for e in &entries {
            offsets.push(at);
            central += e.central_len(at);
            at += e.header_len() + e.size + e.descriptor_len();
        }
        let zip64 = entries.len() >= 0xFFFF || at >= LIMIT || central >= LIMIT;
        let end = 22 + if zip64 { 56 + 20 } else { 0 };
        ZipLayout { entries, offsets, central_at: at, len: at + central + end }
    }

    /// The whole zip's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds no entry (it is still a valid zip).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in their order.
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// Entry `i`'s CRC-32, found by reading its bytes.
    pub(crate) fn set_crc(&mut self, i: usize, crc: u32) {
        if let Some(e) = self.entries.get_mut(i) {
            e.crc = Some(crc);
        }
    }

    /// Where byte `pos` (below [`ZipLayout::len`]) lies.
    pub(crate) fn locate(&self, pos: u64) -> Part {
        if pos >= self.central_at {
            return Part::Central(pos - self.central_at);
        }
        let i = self.offsets.partition_point(|&o| o <= pos).saturating_sub(1);
        let (e, mut at) = (&self.entries[i], pos - self.offsets[i]);
        if at < e.header_len() {
            return Part::Header(i, at);
        }
        at -= e.header_len();
        if at < e.size {
            return Part::Data(i, at);
        }
        Part::Descriptor(i, at - e.size)
    }

    /// Where entry `i`'s bytes start.
    pub(crate) fn data_at(&self, i: usize) -> u64 {
        self.offsets[i] + self.entries[i].header_len()
    }

    /// Entry `i`'s local header.
    pub(crate) fn header(&self, i: usize) -> Vec<u8> {
        let e = &self.entries[i];
        let (time, date) = e.dos_time();
        let mut b = Vec::with_capacity(usize::try_from(e.header_len()).unwrap_or(0));
        put32(&mut b, LOCAL_HEADER);
        put16(&mut b, if e.zip64() { 45 } else { 20 });
        put16(&mut b, FLAGS);
        put16(&mut b, 0); // stored
        put16(&mut b, time);
        put16(&mut b, date);
        put32(&mut b, 0); // CRC-32, in the descriptor
        let sizes = if e.zip64() { u32::MAX } else { 0 };
        put32(&mut b, sizes);
        put32(&mut b, sizes);
        put16(&mut b, u16_of(e.name.len()));
        put16(&mut b, if e.zip64() { 20 } else { 0 });
        b.extend_from_slice(e.name.as_bytes());
        if e.zip64() {
            put16(&mut b, 0x0001);
            put16(&mut b, 16);
            put64(&mut b, 0);
            put64(&mut b, 0);
        }
        b
    }

    /// Entry `i`'s data descriptor, once its CRC-32 is known.
    pub(crate) fn descriptor(&self, i: usize) -> Option<Vec<u8>> {
        let e = &self.entries[i];
        let mut b = Vec::with_capacity(24);
        put32(&mut b, DESCRIPTOR);
        put32(&mut b, e.crc?);
        if e.zip64() {
            put64(&mut b, e.size);
            put64(&mut b, e.size);
        } else {
            put32(&mut b, u32_or_max(e.size));
            put32(&mut b, u32_or_max(e.size));
        }
        Some(b)
    }

    /// The central directory and the end records, once every CRC-32 is known.
    pub(crate) fn central(&self) -> Option<Vec<u8>> {
        let mut b = Vec::new();
        for (e, &offset) in self.entries.iter().zip(&self.offsets) {
            let mut extra = Vec::new();
            if e.zip64() {
                put64(&mut extra, e.size);
                put64(&mut extra, e.size);
            }
            if offset >= LIMIT {
                put64(&mut extra, offset);
            }
            let (time, date) = e.dos_time();
            put32(&mut b, CENTRAL);
            put16(&mut b, MADE_BY);
            put16(&mut b, if extra.is_empty() { 20 } else { 45 });
            put16(&mut b, FLAGS);
            put16(&mut b, 0);
            put16(&mut b, time);
            put16(&mut b, date);
            put32(&mut b, e.crc?);
            let size = if e.zip64() { u32::MAX } else { u32_or_max(e.size) };
            put32(&mut b, size);
            put32(&mut b, size);
            put16(&mut b, u16_of(e.name.len()));
            put16(&mut b, if extra.is_empty() { 0 } else { u16_of(extra.len() + 4) });
            put16(&mut b, 0); // comment
            put16(&mut b, 0); // disk
            put16(&mut b, 0); // internal attributes
            // rwxr-xr-x folder (and the MS-DOS folder bit), or rw-r--r-- file.
            put32(&mut b, if e.is_folder() { (0o040_755 << 16) | 0x10 } else { 0o100_644 << 16 });
            put32(&mut b, if offset >= LIMIT { u32::MAX } else { u32_or_max(offset) });
            b.extend_from_slice(e.name.as_bytes());
            if !extra.is_empty() {
                put16(&mut b, 0x0001);
                put16(&mut b, u16_of(extra.len()));
                b.extend_from_slice(&extra);
            }
        }
        let (cd_offset, cd_size) = (self.central_at, b.len() as u64);
        let count = self.entries.len() as u64;
        let zip64 = count >= 0xFFFF || cd_offset >= LIMIT || cd_size >= LIMIT;
        if zip64 {
            put32(&mut b, 0x0606_4b50);
            put64(&mut b, 44);
            put16(&mut b, MADE_BY);
            put16(&mut b, 45);
            put32(&mut b, 0);
            put32(&mut b, 0);
            put64(&mut b, count);
            put64(&mut b, count);
            put64(&mut b, cd_size);
            put64(&mut b, cd_offset);
            put32(&mut b, 0x0706_4b50);
            put32(&mut b, 0);
            put64(&mut b, cd_offset + cd_size);
            put32(&mut b, 1);
        }
        let small = |n: u64| if zip64 { u32::MAX } else { u32_or_max(n) };
        let entries = if zip64 { u16::MAX } else { u16::try_from(count).unwrap_or(u16::MAX) };
        put32(&mut b, 0x0605_4b50);
        put16(&mut b, 0);
        put16(&mut b, 0);
        put16(&mut b, entries);
        put16(&mut b, entries);
        put32(&mut b, small(cd_size));
        put32(&mut b, small(cd_offset));
        put16(&mut b, 0);
        Some(b)
    }
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole zip of these files, made part by part as a reader would.
    fn zip_of(files: &[(&str, &[u8])]) -> (ZipLayout, Vec<u8>) {
        let at = Timestamp::from_millis(1_780_000_000_000);
        let entries = files
            .iter()
            .map(|(n, d)| match n.strip_suffix('/') {
                Some(folder) => ZipEntry::folder(folder, at),
                None => ZipEntry::file(n, d.len() as u64, Some(crc32fast::hash(d)), at),
            })
            .collect();
        let layout = ZipLayout::new(entries);
        let mut out = Vec::new();
        while (out.len() as u64) < layout.len() {
            match layout.locate(out.len() as u64) {
                Part::Header(i, 0) => out.extend(layout.header(i)),
                Part::Data(i, 0) => out.extend_from_slice(files[i].1),
                Part::Descriptor(i, 0) => out.extend(layout.descriptor(i).unwrap_or_default()),
                Part::Central(0) => out.extend(layout.central().unwrap_or_default()),
                other => panic!("a part begins in the middle: {other:?}"),
            }
        }
        (layout, out)
    }

    #[test]
    fn the_length_is_known_in_advance_and_every_byte_is_located() {
        let files: &[(&str, &[u8])] =
            &[("Bijlagen/", b""), ("Bijlagen/a.pdf", b"%PDF-1.4 hello"), ("Bijlagen/überblick", b"text")];
        let (layout, zip) = zip_of(files);
        assert_eq!(zip.len() as u64, layout.len());
        assert_eq!(layout.locate(0), Part::Header(0, 0));
        assert_eq!(layout.locate(layout.data_at(1) + 3), Part::Data(1, 3));
        assert_eq!(layout.locate(layout.len() - 1), Part::Central(layout.len() - 1 - layout.central_at));
    }

    #[test]
    fn python_reads_it_back() -> Result<(), Box<dyn std::error::Error>> {
        let files: &[(&str, &[u8])] =
            &[("B/", b""), ("B/a.pdf", b"%PDF-1.4 hello"), ("B/leeg/", b""), ("B/überblick.txt", b"text")];
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("B.zip");
        std::fs::write(&path, zip_of(files).1)?;
        let script = "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                      print('|'.join(i.filename+'='+z.read(i).decode()+'@'+str(i.date_time[0]) for i in z.infolist()))";
        let out = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output()?;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            String::from_utf8(out.stdout)?.trim(),
            "B/=@2026|B/a.pdf=%PDF-1.4 hello@2026|B/leeg/=@2026|B/überblick.txt=text@2026"
        );
        Ok(())
    }

    #[test]
    fn zip64_appears_only_where_needed() {
        let at = Timestamp::from_millis(0);
        let small = ZipLayout::new(vec![ZipEntry::file("a", 10, Some(1), at)]);
        assert_eq!(small.len(), 30 + 1 + 10 + 16 + 46 + 1 + 22);
        let big = ZipLayout::new(vec![ZipEntry::file("a", 5 << 30, Some(1), at), ZipEntry::file("b", 1, Some(1), at)]);
        let central = big.central().unwrap_or_default();
        assert_eq!(big.len() - big.central_at, central.len() as u64);
        assert_eq!(big.header(0).len(), 30 + 1 + 20);
        assert_eq!(big.descriptor(0).map(|d| d.len()), Some(24));
    }

    #[test]
    fn an_unknown_crc_holds_back_what_follows_the_bytes() {
        let at = Timestamp::from_millis(0);
        let mut layout = ZipLayout::new(vec![ZipEntry::file("a", 3, None, at)]);
        assert_eq!(layout.descriptor(0), None);
        assert_eq!(layout.central(), None);
        layout.set_crc(0, crc32fast::hash(b"abc"));
        assert!(layout.descriptor(0).is_some() && layout.central().is_some());
    }
}

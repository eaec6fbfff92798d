//! A streaming zip writer for "download all": entries are stored (the
//! documents are mostly compressed already), the CRC-32 follows each entry in
//! a data descriptor, names are UTF-8, and ZIP64 records appear only where a
//! size or an offset needs them. The sizes are known in advance, so the total
//! length is too (`Content-Length`, a progress bar in the browser).

use bytes::{BufMut, Bytes, BytesMut};

const LIMIT: u64 = 0xFFFF_FFFF;
/// 1980-01-01 00:00, the earliest DOS date.
const DOS_DATE: u16 = 0x0021;

struct Entry {
    name: String,
    size: u64,
    crc: u32,
    offset: u64,
}

impl Entry {
    fn zip64(&self) -> bool {
        self.size >= LIMIT
    }
}

/// Writes the framing around the documents' bytes, which the caller streams.
#[derive(Default)]
pub struct ZipWriter {
    entries: Vec<Entry>,
    offset: u64,
    crc: crc32fast::Hasher,
}

fn local_header_len(name: &str, size: u64) -> u64 {
    30 + name.len() as u64 + if size >= LIMIT { 20 } else { 0 }
}

fn descriptor_len(size: u64) -> u64 {
    if size >= LIMIT { 24 } else { 16 }
}

fn central_len(name: &str, size: u64, offset: u64) -> u64 {
    let mut extra = 0;
    if size >= LIMIT {
        extra += 16;
    }
    if offset >= LIMIT {
        extra += 8;
    }
    46 + name.len() as u64 + if extra > 0 { 4 + extra } else { 0 }
}

/// The length of the whole zip of these (name, size) entries.
pub fn total_len(entries: &[(String, u64)]) -> u64 {
    let mut offset = 0;
    let mut central = 0;
    for (name, size) in entries {
        central += central_len(name, *size, offset);
        offset += local_header_len(name, *size) + size + descriptor_len(*size);
    }
    offset + central + end_len(entries.len(), offset, central)
}

fn end_len(count: usize, cd_offset: u64, cd_size: u64) -> u64 {
    let zip64 = count >= 0xFFFF || cd_offset >= LIMIT || cd_size >= LIMIT;
    22 + if zip64 { 56 + 20 } else { 0 }
}

fn u16_of(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn u32_or_max(n: u64) -> u32 {
    u32::try_from(n).ok().filter(|&v| v != u32::MAX).unwrap_or(u32::MAX)
}

impl ZipWriter {
    /// The local header of the next entry.
    pub fn begin(&mut self, name: &str, size: u64) -> Bytes {
        let entry = Entry { name: name.to_owned(), size, crc: 0, offset: self.offset };
        let zip64 = entry.zip64();
        let mut b = BytesMut::with_capacity(local_header_len(name, size) as usize);
        b.put_u32_le(0x0403_4b50);
        b.put_u16_le(if zip64 { 45 } else { 20 });
        b.put_u16_le(0x0808); // data descriptor follows; UTF-8 name
        b.put_u16_le(0); // stored
        b.put_u16_le(0);
        b.put_u16_le(DOS_DATE);
        b.put_u32_le(0);
        b.put_u32_le(if zip64 { u32::MAX } else { 0 });
        b.put_u32_le(if zip64 { u32::MAX } else { 0 });
        b.put_u16_le(u16_of(name.len()));
        b.put_u16_le(if zip64 { 20 } else { 0 });
        b.put_slice(name.as_bytes());
        if zip64 {
            b.put_u16_le(0x0001);
            b.put_u16_le(16);
            b.put_u64_le(0);
            b.put_u64_le(0);
        }
        self.offset += b.len() as u64;
        self.crc = crc32fast::Hasher::new();
        self.entries.push(entry);
        b.freeze()
    }

    /// Bytes of the current entry, as they are sent.
    pub fn data(&mut self, piece: &[u8]) {
        self.crc.update(piece);
        self.offset += piece.len() as u64;
    }

    /// The data descriptor that closes the current entry.
    pub fn end_entry(&mut self) -> Bytes {
        let crc = std::mem::take(&mut self.crc).finalize();
        let mut b = BytesMut::with_capacity(24);
        if let Some(e) = self.entries.last_mut() {
            e.crc = crc;
            b.put_u32_le(0x0807_4b50);
            b.put_u32_le(crc);
            if e.zip64() {
                b.put_u64_le(e.size);
                b.put_u64_le(e.size);
            } else {
                b.put_u32_le(u32_or_max(e.size));
                b.put_u32_le(u32_or_max(e.size));
            }
        }
        self.offset += b.len() as u64;
        b.freeze()
    }

    /// The central directory and the end records.
    pub fn finish(self) -> Bytes {
        let cd_offset = self.offset;
        let mut b = BytesMut::new();
        for e in &self.entries {
            let mut extra = BytesMut::new();
            if e.zip64() {
                extra.put_u64_le(e.size);
                extra.put_u64_le(e.size);
            }
            if e.offset >= LIMIT {
                extra.put_u64_le(e.offset);
            }
            let needed = if extra.is_empty() { 20 } else { 45 };
            b.put_u32_le(0x0201_4b50);
            b.put_u16_le(0x0300 | 45); // made by: Unix, 4.5
            b.put_u16_le(needed);
            b.put_u16_le(0x0808);
            b.put_u16_le(0);
            b.put_u16_le(0);
            b.put_u16_le(DOS_DATE);
            b.put_u32_le(e.crc);
            b.put_u32_le(if e.zip64() { u32::MAX } else { u32_or_max(e.size) });
            b.put_u32_le(if e.zip64() { u32::MAX } else { u32_or_max(e.size) });
            b.put_u16_le(u16_of(e.name.len()));
            b.put_u16_le(if extra.is_empty() { 0 } else { u16_of(extra.len() + 4) });
            b.put_u16_le(0); // comment
            b.put_u16_le(0); // disk
            b.put_u16_le(0); // internal attributes
            b.put_u32_le(0o100_644 << 16); // a regular file, rw-r--r--
            b.put_u32_le(if e.offset >= LIMIT { u32::MAX } else { u32_or_max(e.offset) });
            b.put_slice(e.name.as_bytes());
            if !extra.is_empty() {
                b.put_u16_le(0x0001);
                b.put_u16_le(u16_of(extra.len()));
                b.put_slice(&extra);
            }
        }
        let cd_size = b.len() as u64;
        let count = self.entries.len() as u64;
        let zip64 = count >= 0xFFFF || cd_offset >= LIMIT || cd_size >= LIMIT;
        if zip64 {
            let eocd64 = cd_offset + cd_size;
            b.put_u32_le(0x0606_4b50);
            b.put_u64_le(44);
            b.put_u16_le(0x0300 | 45);
            b.put_u16_le(45);
            b.put_u32_le(0);
            b.put_u32_le(0);
            b.put_u64_le(count);
            b.put_u64_le(count);
            b.put_u64_le(cd_size);
            b.put_u64_le(cd_offset);
            b.put_u32_le(0x0706_4b50);
            b.put_u32_le(0);
            b.put_u64_le(eocd64);
            b.put_u32_le(1);
        }
        let small = |n: u64| if zip64 { u32::MAX } else { u32_or_max(n) };
        b.put_u32_le(0x0605_4b50);
        b.put_u16_le(0);
        b.put_u16_le(0);
        b.put_u16_le(if zip64 { u16::MAX } else { u16::try_from(count).unwrap_or(u16::MAX) });
        b.put_u16_le(if zip64 { u16::MAX } else { u16::try_from(count).unwrap_or(u16::MAX) });
        b.put_u32_le(small(cd_size));
        b.put_u32_le(small(cd_offset));
        b.put_u16_le(0);
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut z = ZipWriter::default();
        let mut out = Vec::new();
        for (name, data) in files {
            out.extend_from_slice(&z.begin(name, data.len() as u64));
            z.data(data);
            out.extend_from_slice(data);
            out.extend_from_slice(&z.end_entry());
        }
        out.extend_from_slice(&z.finish());
        out
    }

    #[test]
    fn the_length_is_known_in_advance() {
        let files: &[(&str, &[u8])] = &[("a.pdf", b"%PDF-1.4 hello"), ("überblick.txt", b"text"), ("e.txt", b"")];
        let zip = zip_of(files);
        let entries: Vec<(String, u64)> = files.iter().map(|(n, d)| ((*n).to_owned(), d.len() as u64)).collect();
        assert_eq!(zip.len() as u64, total_len(&entries));
    }

    #[test]
    fn python_reads_it_back() -> Result<(), Box<dyn std::error::Error>> {
        let files: &[(&str, &[u8])] = &[("a.pdf", b"%PDF-1.4 hello"), ("überblick.txt", b"text")];
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("all.zip");
        std::fs::write(&path, zip_of(files))?;
        let script = "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                      print('|'.join(n+'='+z.read(n).decode() for n in z.namelist()))";
        let out = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output()?;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout)?.trim(), "a.pdf=%PDF-1.4 hello|überblick.txt=text");
        Ok(())
    }
}

//! Throughput of the document store against plain file copies on the same
//! disk, and the peak memory of the process.
//!
//! ```text
//! cargo run --release --example store_bench -- <dir> <size-bytes> [cold]
//! ```
//!
//! Writes `size` bytes through stage/write/commit in 1 MiB writes and reads
//! them back through open/next_chunk, then compares with copying and
//! reading a plain file of the same size with a 1 MiB buffer. The copy is
//! fsynced because a commit is. Ratios are throughput ratios: above 1 means
//! the store was faster.
//!
//! Reads normally hit the page cache, since everything was just written.
//! With `cold` (root only) the page cache is dropped before each read, so
//! both reads come from the disk.

use std::error::Error;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use gateway::store::{BlobId, DocumentKey, Store};

const BUF_LEN: usize = 1 << 20;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(size)) = (args.next(), args.next()) else {
        eprintln!("usage: store_bench <dir> <size-bytes> [cold]");
        std::process::exit(2);
    };
    let size: u64 = size.parse()?;
    let cold = match args.next().as_deref() {
        None => false,
        Some("cold") => true,
        Some(other) => return Err(format!("unknown option {other:?}").into()),
    };
    let work = Path::new(&dir).join(format!("store-bench-{}", std::process::id()));
    fs::create_dir_all(&work)?;
    let outcome = run(&work, size, cold).await;
    fs::remove_dir_all(&work)?;
    outcome
}

async fn run(work: &Path, size: u64, cold: bool) -> Result<(), Box<dyn Error>> {
    let mut block = pattern(BUF_LEN);

    let source = work.join("plain-source");
    let copy = work.join("plain-copy");
    write_plain(&source, &mut block, size)?;
    let started = Instant::now();
    copy_plain(&source, &copy)?;
    let plain_copy = started.elapsed();

    let store = Store::open_local(&work.join("store"), 0)?;
    let (id, key) = (BlobId::generate()?, DocumentKey::generate()?);
    let started = Instant::now();
    let mut writer = store.stage(&id, &key).await?;
    for (index, len) in blocks(size).enumerate() {
        stamp(&mut block, index);
        writer.write(&block[..len]).await?;
    }
    let committed = writer.commit().await?;
    let store_write = started.elapsed();

    let started = Instant::now();
    let mut reader = store.open(&id, &key, committed.size, 0..committed.size, committed.inline.clone()).await?;
    let mut read = 0;
    while let Some(piece) = reader.next_chunk().await? {
        read += piece.len() as u64;
    }
    let store_read = started.elapsed();
    if read != size {
        return Err(format!("store read {read} bytes of {size}").into());
    }

    if cold {
        drop_page_cache()?;
    }
    let started = Instant::now();
    let plain_read_len = read_plain(&copy)?;
    let plain_read = started.elapsed();
    if plain_read_len != size {
        return Err(format!("plain read {plain_read_len} bytes of {size}").into());
    }

    println!("size                    {size} bytes ({:.1} MiB)", mib(size));
    report("plain copy (fsync)", size, plain_copy);
    report("store write (commit)", size, store_write);
    report("plain read", size, plain_read);
    report("store read", size, store_read);
    let ratio = |plain: Duration, store: Duration| plain.as_secs_f64() / store.as_secs_f64();
    println!("store_write/plain_copy  {:.3}", ratio(plain_copy, store_write));
    println!("store_read/plain_read   {:.3}", ratio(plain_read, store_read));
    println!("peak rss                {:.1} MiB", peak_rss_mib()?);
    Ok(())
}

/// Lengths of the 1 MiB writes that make up `size` bytes.
fn blocks(size: u64) -> impl Iterator<Item = usize> {
    let full = size / BUF_LEN as u64;
    let tail = (size % BUF_LEN as u64) as usize;
    (0..full).map(|_| BUF_LEN).chain((tail > 0).then_some(tail))
}

/// Non-zero pseudo-random bytes (xorshift64).
fn pattern(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8 | 1
        })
        .collect()
}

/// Makes each block differ from the others.
fn stamp(block: &mut [u8], index: usize) {
    block[..8].copy_from_slice(&(index as u64 | 1 << 63).to_le_bytes());
}

fn write_plain(path: &Path, block: &mut [u8], size: u64) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    for (index, len) in blocks(size).enumerate() {
        stamp(block, index);
        file.write_all(&block[..len])?;
    }
    file.sync_all()
}

fn copy_plain(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut source = File::open(from)?;
    let mut target = File::create(to)?;
    let mut buf = vec![0; BUF_LEN];
    loop {
        let n = source.read(&mut buf)?;
        if n == 0 {
            break;
        }
        target.write_all(&buf[..n])?;
    }
    target.sync_all()
}

fn read_plain(path: &Path) -> std::io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buf = vec![0; BUF_LEN];
    let mut total = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// Writes back and then evicts all clean pages, system-wide.
fn drop_page_cache() -> std::io::Result<()> {
    std::process::Command::new("sync").status()?;
    fs::write("/proc/sys/vm/drop_caches", "1")
}

fn report(what: &str, size: u64, took: Duration) {
    let rate = mib(size) / took.as_secs_f64();
    println!("{what:<23} {:>8.3} s  {rate:>8.1} MiB/s", took.as_secs_f64());
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Peak resident set size, from `VmHWM` in /proc/self/status.
fn peak_rss_mib() -> Result<f64, Box<dyn Error>> {
    let status = fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .ok_or("no VmHWM in /proc/self/status")?
        .trim()
        .parse()?;
    Ok(kib / 1024.0)
}

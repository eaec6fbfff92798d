//! What the process asks of the operating system: an allocator that gives
//! memory back, and file descriptors for the connections it admits.

/// glibc raises its mmap threshold to the largest mmapped block freed so far
/// (up to 32 MiB). The Argon2id hash made at start (19 MiB, the decoy for
/// unknown accounts) would so put every later hash in the heap of the thread
/// that ran it, which keeps those pages after the hash; with the threshold
/// fixed, blocks of 4 MiB and more are mmapped and given back when freed.
/// glibc also gives threads up to eight heaps per core, each keeping what was
/// freed in it; uploads move between threads, so one heap per core keeps
/// ten concurrent uploads' peak lower (measured with `scripts/bench-sftp`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune_allocator() {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only sets a parameter of the allocator, which takes its
    // own lock; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_allocator() {}

/// Give the pages freed since the last call back to the system, so that
/// memory taken by a burst of connections does not stay with the process.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_freed_memory() {
    // SAFETY: malloc_trim takes the allocator's locks itself.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed_memory() {}

/// Descriptors kept beside the connections: the database, the store's files,
/// the jobs, the logs.
const SPARE_DESCRIPTORS: u64 = 1024;

/// Descriptors one admitted connection may hold: its socket and the file of
/// the document it reads or writes.
const DESCRIPTORS_PER_CONNECTION: u64 = 2;

/// Raise the soft limit on open files to what the connection caps of both
/// listeners need; where the hard limit is lower, lower the caps to fit
/// and say so. Returns the limit in force.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn descriptors_for(limits: &mut gateway::Limits) -> u64 {
    let both = u64::from(limits.connections_of(gateway::Listener::Https))
        + u64::from(limits.connections_of(gateway::Listener::Sftp));
    let need = both * DESCRIPTORS_PER_CONNECTION + SPARE_DESCRIPTORS;
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write the struct given, nothing else.
    let have = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) != 0 {
            return u64::MAX;
        }
        if current.rlim_cur < need && current.rlim_max > current.rlim_cur {
            let raised = libc::rlimit { rlim_cur: need.min(current.rlim_max), rlim_max: current.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                current = raised;
            }
        }
        current.rlim_cur
    };
    let budget = have.saturating_sub(SPARE_DESCRIPTORS) / DESCRIPTORS_PER_CONNECTION;
    if limits.fit_into(budget) {
        tracing::warn!(
            open_files = have,
            wanted = both,
            https = limits.connections_of(gateway::Listener::Https),
            sftp = limits.connections_of(gateway::Listener::Sftp),
            "the open-file limit is lower than the connection caps need; fewer connections are admitted"
        );
    }
    have
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn descriptors_for(_limits: &mut gateway::Limits) -> u64 {
    u64::MAX
}

//! A WebDAV request's head as a client writes it: a line with the method
//! and path, header lines (`Destination`, `If`, `Depth`, `Overwrite`,
//! `Timeout`, `Authorization`…), an empty line, a body. The door's own
//! reading (the screen before sign-in, `Destination`, `Authorization`, the
//! XML body's screen) and dav-server's of the rest, as the door runs it over
//! an in-memory tree: an answer or a refusal, never a panic. A destination
//! taken stays below `/dav/`; a lock's owner is kept so that it reads back.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use std::time::SystemTime;

use common::{Request, runtime};
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsStream, OpenOptions, ReadDirMeta,
};
use dav_server::memfs::MemFs;
use dav_server::memls::MemLs;
use futures_util::future::{self, BoxFuture};
use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use webdav::fuzzing::{basic, climbs_out, destination, percent_decode, request};

/// dav-server's in-memory filesystem in place of the core's tree, which
/// keeps its root as the core keeps the top of a caller's tree: never
/// removed, moved or written over (the in-memory one panics at that).
#[derive(Clone)]
struct Stand(Box<MemFs>);

fn root(path: &DavPath) -> bool {
    path.as_rel_ospath().as_os_str().is_empty()
}

fn refused<'a, T: Send + 'a>() -> FsFuture<'a, T> {
    Box::pin(future::ready(Err(FsError::Forbidden)))
}

impl DavFileSystem for Stand {
    fn open<'a>(&'a self, path: &'a DavPath, options: OpenOptions) -> FsFuture<'a, Box<dyn DavFile>> {
        self.0.open(path, options)
    }

    fn read_dir<'a>(&'a self, path: &'a DavPath, meta: ReadDirMeta) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        self.0.read_dir(path, meta)
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        self.0.metadata(path)
    }

    fn symlink_metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        self.0.symlink_metadata(path)
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.0.create_dir(path)
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        if root(path) { refused() } else { self.0.remove_dir(path) }
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        if root(path) { refused() } else { self.0.remove_file(path) }
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        if root(from) || root(to) { refused() } else { self.0.rename(from, to) }
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        if root(to) { refused() } else { self.0.copy(from, to) }
    }

    fn set_accessed<'a>(&'a self, path: &'a DavPath, tm: SystemTime) -> FsFuture<'a, ()> {
        self.0.set_accessed(path, tm)
    }

    fn set_modified<'a>(&'a self, path: &'a DavPath, tm: SystemTime) -> FsFuture<'a, ()> {
        self.0.set_modified(path, tm)
    }

    fn have_props<'a>(&'a self, path: &'a DavPath) -> BoxFuture<'a, bool> {
        self.0.have_props(path)
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        self.0.patch_props(path, patch)
    }

    fn get_props<'a>(&'a self, path: &'a DavPath, do_content: bool) -> FsFuture<'a, Vec<DavProp>> {
        self.0.get_props(path, do_content)
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp) -> FsFuture<'a, Vec<u8>> {
        self.0.get_prop(path, prop)
    }

    fn get_quota(&self) -> FsFuture<'_, (u64, Option<u64>)> {
        self.0.get_quota()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(head) = Request::parse(data) else { return };
    let Some(uri) = head.target else { return };
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let _ = (climbs_out(path), percent_decode(path));
    if let Ok(Some(taken)) = destination(&head.headers) {
        assert!(taken.starts_with("/dav/") && taken.split('/').filter(|s| !s.is_empty()).count() > 1, "{taken:?}");
        assert!(!taken.contains('\\') && taken.split('/').all(|s| s != ".." && s != "."), "{taken:?}");
    }
    for (_, value) in head.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
        if let Some((user, _)) = basic(value) {
            assert!(!user.contains(':'), "{user:?}");
        }
    }
    runtime().block_on(async {
        let (fs, locks) = (Stand(MemFs::new()), MemLs::new());
        for (method, uri, body) in [("MKCOL", "/dav/outbox/", &b""[..]), ("PUT", "/dav/outbox/a.pdf", b"%PDF-1.7\n")] {
            request(Box::new(fs.clone()), locks.clone(), method, uri, &[], body).await.expect("the tree is made");
        }
        let answer = request(Box::new(fs), locks, head.method, uri, &head.headers, head.body).await;
        let Some(answer) = answer else { return };
        assert!((100..600).contains(&answer.status));
        for owner in &answer.owners {
            assert!(!owner.given || (owner.written.is_some() && owner.parses_back), "{owner:?}");
        }
    });
});

//! A PROPFIND, PROPPATCH or LOCK body as a client sends it: screened by the
//! door (size, UTF-8, no document type or entities), then read by
//! dav-server as the door runs it over an in-memory tree, each body as all
//! three: an answer or a refusal, never a panic. A lock's owner is kept so
//! that it reads back, and what a PROPPATCH set is listed by a PROPFIND in a
//! multistatus that parses.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::runtime;
use dav_server::memfs::MemFs;
use dav_server::memls::MemLs;
use libfuzzer_sys::fuzz_target;
use webdav::MAX_XML_BODY;
use webdav::fuzzing::{request, xml_body};

const ALLPROP: &[u8] = b"<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>";

fuzz_target!(|body: &[u8]| {
    runtime().block_on(async {
        match xml_body(body).await {
            Ok(read) => {
                assert_eq!(read, body, "a body is passed on as it came");
                let upper = body.to_ascii_uppercase();
                let declares = |what: &[u8]| upper.windows(what.len()).any(|w| w == what);
                assert!(!declares(b"<!DOCTYPE") && !declares(b"<!ENTITY"));
            }
            Err(413) => assert!(body.len() > MAX_XML_BODY),
            Err(415) => assert!(std::str::from_utf8(body).is_err()),
            Err(status) => assert_eq!(status, 400),
        }
        let (fs, locks) = (MemFs::new(), MemLs::new());
        for (method, uri, body) in [("MKCOL", "/dav/outbox/", &b""[..]), ("PUT", "/dav/outbox/a.pdf", b"%PDF-1.7\n")] {
            request(fs.clone(), locks.clone(), method, uri, &[], body).await.expect("the tree is made");
        }
        let asked: [(&str, &str, &[(&str, &[u8])]); 3] = [
            ("PROPFIND", "/dav/outbox/", &[("depth", b"1")]),
            ("PROPPATCH", "/dav/outbox/a.pdf", &[]),
            ("LOCK", "/dav/outbox/new.txt", &[("timeout", b"Second-600")]),
        ];
        let mut patched = false;
        for (method, uri, headers) in asked {
            let answer = request(fs.clone(), locks.clone(), method, uri, headers, body).await.expect("an answer");
            patched |= method == "PROPPATCH" && answer.status == 207;
            for owner in &answer.owners {
                assert!(!owner.given || (owner.written.is_some() && owner.parses_back), "{owner:?}");
            }
        }
        if patched {
            let depth: &[(&str, &[u8])] = &[("depth", b"0")];
            let listed = request(fs, locks, "PROPFIND", "/dav/outbox/a.pdf", depth, ALLPROP).await.expect("an answer");
            assert_eq!(listed.status, 207);
            if let Err(e) = xmltree::Element::parse(&listed.body[..]) {
                panic!("{e}: {}", String::from_utf8_lossy(&listed.body));
            }
        }
    });
});

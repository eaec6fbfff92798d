//! What an SFTP client sends on the `sftp` channel, read as the door's
//! session loop reads it: packets framed by their length (a bad length ends
//! the session, and nothing larger than a packet is ever allocated), each
//! decoded into a request or answered BAD_MESSAGE with the id where a
//! request's would be, never a panic. The paths a request names are taken
//! to their place in the tree, a `posix-rename`'s two among them.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::runtime;
use gateway::tree::TreePath;
use libfuzzer_sys::fuzz_target;
use sftp::fuzzing::{MAX_BODY, decode, read_packet, request_id};

fuzz_target!(|data: &[u8]| {
    let mut stream = data;
    loop {
        let before = stream.len();
        let Ok(Some(body)) = runtime().block_on(read_packet(&mut stream)) else { break };
        assert!(!body.is_empty() && body.len() <= MAX_BODY, "a packet of {} bytes", body.len());
        assert_eq!(before - stream.len(), 4 + body.len(), "a packet is its length and that many bytes");
        let decoded = match decode(&body) {
            Ok(decoded) => decoded,
            Err(id) => {
                assert_eq!(id, request_id(&body));
                continue;
            }
        };
        if let Some(id) = decoded.id {
            assert_eq!(id, request_id(&body), "a request is answered with its own id");
        }
        let renamed = decoded.rename.iter().flatten().flat_map(|(from, to)| [from, to]);
        for path in decoded.paths.iter().chain(renamed) {
            let shown = TreePath::parse(path).display();
            assert!(shown.starts_with('/'), "{path:?} became {shown:?}");
            let _ = TreePath::parse(path).place();
        }
    }
});

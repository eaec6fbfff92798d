//! What a load balancer (or anyone on a trusted address) puts before a
//! connection: a PROXY header, v1 or v2, read off the stream. Any bytes give
//! an address, none, or a refusal, never a panic; what is read is the
//! header alone, so what follows it is left whole. The same bytes as
//! `X-Forwarded-For` values and as the list of trusted proxies are taken or
//! refused alike.
#![no_main]

use std::net::IpAddr;

use gateway::proxied::{TrustedProxies, read_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let mut rest = data;
    let read = runtime.block_on(read_header(&mut rest));
    if read.is_ok() {
        assert!(rest.len() < data.len(), "a header was read off the front");
        assert!(data.ends_with(rest), "what follows the header is left as it was");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = TrustedProxies::parse(text);
        let trusted = TrustedProxies::parse("10.0.0.0/8, 2001:db8::/32").expect("a list");
        let peer = IpAddr::from([10, 0, 0, 1]);
        let client = trusted.forwarded_client(peer, text.split('\n'));
        assert!(client == peer || !trusted.contains(client), "the client is never a trusted proxy but the peer");
    }
});

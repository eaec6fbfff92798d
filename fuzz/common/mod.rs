//! What several targets share: one runtime for the doors' async readers, and
//! a request's head and body read from the fuzzer's bytes as text.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// One single-threaded runtime for the whole run.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"))
}

/// A request as a client writes it: a line with the method and target,
/// header lines, an empty line, a body.
#[allow(dead_code, reason = "read by the targets of requests, not by every target that shares the runtime")]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request line's second word, if it has one.
    pub target: Option<&'a str>,
    /// Names as written, values without the spaces around them.
    pub headers: Vec<(&'a str, &'a [u8])>,
    pub body: &'a [u8],
}

#[allow(dead_code, reason = "read by the targets of requests, not by every target that shares the runtime")]
impl<'a> Request<'a> {
    /// The request in `data`; lines end in LF or CRLF. `None` when the first
    /// line is not text.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let end = [&b"\r\n\r\n"[..], b"\n\n"]
            .iter()
            .filter_map(|sep| data.windows(sep.len()).position(|w| w == *sep).map(|at| (at, sep.len())))
            .min();
        let (head, body) = match end {
            Some((at, len)) => (&data[..at], &data[at + len..]),
            None => (data, &[][..]),
        };
        let mut lines = head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let first = std::str::from_utf8(lines.next()?).ok()?;
        let mut words = first.split(' ');
        let (method, target) = (words.next()?, words.next());
        let headers = lines
            .filter_map(|line| {
                let colon = line.iter().position(|&b| b == b':')?;
                Some((std::str::from_utf8(&line[..colon]).ok()?, line[colon + 1..].trim_ascii()))
            })
            .collect();
        Some(Request { method, target, headers, body })
    }

    /// The first header of that name, in any case.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

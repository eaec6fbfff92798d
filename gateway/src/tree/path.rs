//! Paths of the virtual tree (SPEC section 4), canonicalised once, component by
//! component, at the edge: `.` and empty components vanish, `..` goes up but
//! never above `/`, and the result is one of four kinds of place. There is no
//! real filesystem behind the tree, so no path can lead out of it; a path that
//! names nothing is simply not found, whatever it looks like.

use crate::transfer::Folder;

/// The longest path accepted, in bytes (longer ones name nothing).
const MAX_PATH_BYTES: usize = 4096;

/// A canonical path: the components under `/`, none of them empty, `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePath(Vec<String>);

impl TreePath {
    /// Canonicalise a client's path (already decoded from the protocol: a
    /// WebDAV door percent-decodes it first); a relative path is taken from
    /// `/`, the home of every user.
    pub fn parse(raw: &str) -> TreePath {
        let mut parts: Vec<String> = Vec::new();
        for component in raw.split('/') {
            match component {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name.to_owned()),
            }
        }
        TreePath(parts)
    }

    /// The path as the client sees it: `/`, `/outbox`, `/outbox/x/a.pdf`.
    pub fn display(&self) -> String {
        if self.0.is_empty() { "/".to_owned() } else { format!("/{}", self.0.join("/")) }
    }

    /// The place this path names in the tree, if it can name one at all.
    pub fn place(&self) -> Option<Place> {
        if self.0.iter().map(|c| c.len() + 1).sum::<usize>() > MAX_PATH_BYTES {
            return None;
        }
        match self.0.as_slice() {
            [] => Some(Place::Root),
            [folder] => Folder::parse(folder).map(Place::Folder),
            [folder, message] => Folder::parse(folder).map(|f| Place::Message(f, message.clone())),
            [folder, message, rest @ ..] => {
                Folder::parse(folder).map(|f| Place::File(f, message.clone(), rest.join("/")))
            }
        }
    }
}

/// A place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `/`
    Root,
    /// `/outbox`, `/sent`, `/inbox`
    Folder(Folder),
    /// `/<folder>/<message>`
    Message(Folder, String),
    /// `/<folder>/<message>/<path>`: a file, or a folder in a draft, by
    /// its path in the message (`scan.pdf`, `Bijlagen/2026/scan.pdf`).
    File(Folder, String, String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(raw: &str) -> Option<Place> {
        TreePath::parse(raw).place()
    }

    #[test]
    fn paths_are_canonicalised_component_by_component() {
        let cases = [
            ("", "/"),
            (".", "/"),
            ("/", "/"),
            ("//outbox//x/", "/outbox/x"),
            ("outbox/./x/../y", "/outbox/y"),
            ("/../../../etc/passwd", "/etc/passwd"),
            ("/outbox/x/../../../..", "/"),
            ("..\\..\\etc", "/..\\..\\etc"),
            ("/outbox/%2e%2e/x", "/outbox/%2e%2e/x"),
        ];
        for (raw, canonical) in cases {
            assert_eq!(TreePath::parse(raw).display(), canonical, "{raw:?}");
        }
    }

    #[test]
    fn only_the_three_folders_and_what_is_under_them_name_places() {
        assert_eq!(place("/"), Some(Place::Root));
        assert_eq!(place("/sent"), Some(Place::Folder(Folder::Sent)));
        assert_eq!(place("/outbox/x"), Some(Place::Message(Folder::Outbox, "x".into())));
        assert_eq!(place("inbox/x/a.pdf"), Some(Place::File(Folder::Inbox, "x".into(), "a.pdf".into())));
        assert_eq!(place("/outbox/x/a//b/c.pdf"), Some(Place::File(Folder::Outbox, "x".into(), "a/b/c.pdf".into())));
        for nowhere in ["/etc", "/etc/passwd", "/Outbox", "/outbox/x/../../../root/.ssh/id"] {
            assert_eq!(place(nowhere), None, "{nowhere}");
        }
        assert_eq!(place(&format!("/outbox/{}", "a".repeat(5000))), None);
    }
}

//! Dead properties (PROPPATCH): kept in memory by the door, per caller and
//! path, for as long as the process runs. Windows writes its Win32 times and
//! attributes this way and reads them back within a session; nothing of a
//! message depends on them, so they are not worth a table. Bounded: at most
//! [`MAX_NODES`] paths and [`MAX_PER_NODE`] properties of [`MAX_VALUE`] bytes
//! each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use dav_server::fs::DavProp;

const MAX_NODES: usize = 20_000;
const MAX_PER_NODE: usize = 32;
const MAX_VALUE: usize = 4096;

/// The dead properties of every caller's tree.
#[derive(Debug, Clone, Default)]
pub struct Props(Arc<Mutex<HashMap<String, Vec<DavProp>>>>);

fn same(a: &DavProp, b: &DavProp) -> bool {
    a.name == b.name && a.namespace == b.namespace
}

impl Props {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Vec<DavProp>>) -> T) -> T {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut map)
    }

    /// Set (`true`) or remove properties; each gets its own status.
    pub fn patch(&self, key: &str, patch: Vec<(bool, DavProp)>) -> Vec<(StatusCode, DavProp)> {
        self.with(|map| {
            let full = map.len() >= MAX_NODES && !map.contains_key(key);
            let mut out = Vec::new();
            for (set, prop) in patch {
                let shown = DavProp { xml: None, ..prop.clone() };
                if !set {
                    if let Some(list) = map.get_mut(key) {
                        list.retain(|p| !same(p, &prop));
                    }
                    out.push((StatusCode::OK, shown));
                    continue;
                }
                let too_big = prop.xml.as_ref().is_some_and(|x| x.len() > MAX_VALUE);
                if full || too_big {
                    out.push((StatusCode::INSUFFICIENT_STORAGE, shown));
                    continue;
                }
                let list = map.entry(key.to_owned()).or_default();
                list.retain(|p| !same(p, &prop));
                if list.len() >= MAX_PER_NODE {
                    out.push((StatusCode::INSUFFICIENT_STORAGE, shown));
                    continue;
                }
                list.push(prop);
                out.push((StatusCode::OK, shown));
            }
            out
        })
    }

    /// Every property of a node (names only unless `content`).
    pub fn get_all(&self, key: &str, content: bool) -> Vec<DavProp> {
        self.with(|map| {
            map.get(key)
                .map(|list| {
                    list.iter().map(|p| if content { p.clone() } else { DavProp { xml: None, ..p.clone() } }).collect()
                })
                .unwrap_or_default()
        })
    }

    /// One property's value.
    pub fn get(&self, key: &str, prop: &DavProp) -> Option<Vec<u8>> {
        self.with(|map| map.get(key)?.iter().find(|p| same(p, prop)).and_then(|p| p.xml.clone()))
    }

    /// After a MOVE: the properties go along.
    pub fn rename(&self, from: &str, to: &str) {
        self.with(|map| {
            let below = format!("{from}/");
            let keys: Vec<String> = map.keys().filter(|k| *k == from || k.starts_with(&below)).cloned().collect();
            for k in keys {
                if let Some(v) = map.remove(&k) {
                    map.insert(format!("{to}{}", &k[from.len()..]), v);
                }
            }
        })
    }

    /// After a COPY of one document.
    pub fn copy(&self, from: &str, to: &str) {
        self.with(|map| {
            if let Some(v) = map.get(from).cloned() {
                map.insert(to.to_owned(), v);
            }
        })
    }

    /// After a DELETE.
    pub fn remove_below(&self, key: &str) {
        self.with(|map| {
            let below = format!("{key}/");
            map.retain(|k, _| k != key && !k.starts_with(&below));
        })
    }
}

//! The path-to-place parser every door uses: canonical once, idempotent,
//! never above `/`.
#![no_main]

use gateway::tree::TreePath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let path = TreePath::parse(raw);
    let shown = path.display();
    assert!(shown.starts_with('/'), "{shown:?}");
    assert!(shown.split('/').skip(1).all(|part| part != "." && part != ".."), "{shown:?}");
    let again = TreePath::parse(&shown);
    assert_eq!(again.display(), shown, "canonical once");
    let _ = path.place();
});

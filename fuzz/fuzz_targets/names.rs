//! A document, folder or path name as a client sends it (SFTP, WebDAV, the
//! web): refused with a reason, or accepted as a name that cannot lead
//! anywhere but into its draft.
#![no_main]

use gateway::policy::name::{FileName, NameRules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let rules = NameRules::default();
    for parsed in [FileName::parse(raw, &rules), FileName::parse_path(raw, &rules), FileName::parse_folder(raw, &rules)]
    {
        let Ok(name) = parsed else { continue };
        let name = name.as_str();
        assert!(!name.is_empty());
        assert!(!name.contains('\0') && !name.contains('\\'), "{name:?}");
        assert!(name.split('/').all(|part| !part.is_empty() && part != "." && part != ".."), "{name:?}");
        assert!(!name.starts_with('/'), "{name:?}");
    }
});

//! The embedded default of mail and SMS: one file per message in the data
//! folder, named after its outbox id. Written to a hidden temporary name and
//! renamed, so a reader never sees half a message, and a second delivery of
//! the same message after a crash replaces the first instead of adding one.

use std::io::Write;
use std::path::{Path, PathBuf};

use gateway::outbox::Failure;

/// Write `bytes` as `dir/name`, atomically and durably.
pub(crate) async fn write_atomically(dir: PathBuf, name: String, bytes: Vec<u8>) -> Result<(), Failure> {
    tokio::task::spawn_blocking(move || write_now(&dir, &name, &bytes))
        .await
        .map_err(|e| Failure::Transient(format!("the writer stopped: {e}")))?
        .map_err(|e| Failure::Transient(format!("cannot write the message file: {e}")))
}

fn write_now(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, dir.join(name))?;
    // The rename is durable only once the folder is.
    std::fs::File::open(dir)?.sync_all()
}

/// An outbox id is a file name only when it is plain letters and digits.
pub(crate) fn file_name(id: &str, extension: &str) -> Result<String, Failure> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Failure::Permanent(format!("the message id {id:?} is not a file name")));
    }
    Ok(format!("{id}.{extension}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rewrite_replaces_and_leaves_no_temporary_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let sub = dir.path().join("mail");
        write_atomically(sub.clone(), "abc.eml".into(), b"one".to_vec()).await.map_err(|e| format!("{e:?}"))?;
        write_atomically(sub.clone(), "abc.eml".into(), b"two".to_vec()).await.map_err(|e| format!("{e:?}"))?;
        let names: Vec<_> = std::fs::read_dir(&sub)?.flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("abc.eml")]);
        assert_eq!(std::fs::read(sub.join("abc.eml"))?, b"two");
        Ok(())
    }

    #[test]
    fn only_plain_ids_become_file_names() {
        assert!(file_name("abc123", "eml").is_ok());
        assert!(file_name("../etc/passwd", "eml").is_err());
        assert!(file_name("", "eml").is_err());
    }
}

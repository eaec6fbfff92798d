//! How real SFTP clients upload by default, each ending in a draft that holds
//! exactly the bytes sent and is sent: both rclones (Debian's writes in
//! place, the current one through `name.XXXXXX.partial`).

use crate::door::{Koerier, TestResult};
use crate::rclone::{self, Rclone, Release, Remote};

/// `rclone copy` of a folder into a draft, read back, `rclone moveto` into
/// /sent: the recipient gets the mail and the SMS.
fn rclone_round_trip(release: Release) -> TestResult {
    let mut k = Koerier::new()?;
    let jan = k.user("jan@minvws.nl", "Jan Jansen", "staff")?;
    k.start()?;
    let rclone = Rclone::new(release, Remote::sftp(k.port, &jan.email, &jan.password))?;
    let work = tempfile::tempdir()?;
    rclone::copy_check_and_send(&rclone, work.path(), "dossier")?;
    assert!(rclone::recipient_told(&k.path().join("data")), "piet gets the mail and the SMS code");
    k.stop()
}

#[test]
fn debian_rclone_copies_a_folder_into_a_draft_over_sftp_and_sends_it() -> TestResult {
    rclone_round_trip(Release::Debian)
}

#[test]
fn current_rclone_copies_a_folder_into_a_draft_over_sftp_and_sends_it() -> TestResult {
    rclone_round_trip(Release::Current)
}

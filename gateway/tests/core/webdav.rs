//! What the WebDAV door needs from the core: app passwords (WebDAV only,
//! counted failures), locks kept in the database (scoped to their owner,
//! expiring, capped), a replacing upload that leaves the old document alone
//! until it finishes, and client files refused with their own reason.

use std::time::Duration;

use gateway::lock::{LockRequest, MAX_LOCK_TIME, MAX_LOCKS_PER_OWNER};
use gateway::upload::UploadMode;
use gateway::{Door, Error, Origin};

use crate::bed::{Bed, pdf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn webdav() -> Origin {
    Origin::new(Door::Webdav, Some([192, 0, 2, 9].into()))
}

#[tokio::test]
async fn an_app_password_opens_webdav_only_and_is_stored_hashed() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let made = bed.gw.create_app_password_as_admin(&bed.admin, "jan@minvws.nl", "laptop").await?;
    assert!(made.secret.starts_with(gateway::app_password::PREFIX) && made.secret.len() >= 45, "long and random");
    assert!(!format!("{made:?}").contains(&made.secret), "the secret never shows in Debug");

    let session = bed.gw.authenticate_app_password("Jan@minvws.nl", &made.secret, webdav()).await?;
    assert_eq!(session.email(), "jan@minvws.nl");
    for door in [Door::Sftp, Door::Web, Door::Cli] {
        let refused = bed.gw.authenticate_app_password("jan@minvws.nl", &made.secret, Origin::new(door, None)).await;
        assert!(matches!(refused, Err(Error::BadCredentials)), "{door:?}: {refused:?}");
    }
    let password_door = bed.gw.authenticate_password("jan@minvws.nl", &made.secret, webdav()).await;
    assert!(matches!(password_door, Err(Error::BadCredentials)), "not an account password");
    let other = bed.staff("kees@minvws.nl").await?;
    let wrong_account = bed.gw.authenticate_app_password("kees@minvws.nl", &made.secret, webdav()).await;
    assert!(matches!(wrong_account, Err(Error::BadCredentials)));

    // Stored only as a hash: the secret appears in no file of the data folder.
    for file in bed.files() {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!bytes.windows(made.secret.len()).any(|w| w == made.secret.as_bytes()), "{}", file.display());
    }
    let listed = bed.gw.app_passwords(&jan).await?;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
    assert!(bed.gw.app_passwords(&other).await?.is_empty());
    bed.gw.revoke_app_password(&jan, &listed[0].id).await?;
    let revoked = bed.gw.authenticate_app_password("jan@minvws.nl", &made.secret, webdav()).await;
    assert!(matches!(revoked, Err(Error::BadCredentials)));
    Ok(())
}

#[tokio::test]
async fn wrong_app_passwords_count_in_the_shared_failure_store() -> TestResult {
    let bed = Bed::new().await?;
    bed.staff("jan@minvws.nl").await?;
    let rules = &bed.gw.settings().rules;
    let limit = rules.account_failures_per_hour.min(rules.ip_failures_per_30min);
    for _ in 0..limit {
        let r = bed.gw.authenticate_app_password("jan@minvws.nl", "kdav-wrong", webdav()).await;
        assert!(matches!(r, Err(Error::BadCredentials)));
    }
    let right_password = bed.gw.authenticate_password("jan@minvws.nl", crate::bed::PASSWORD, webdav()).await;
    assert!(matches!(right_password, Err(Error::RateLimited)), "{right_password:?}");
    Ok(())
}

fn request(path: &str, shared: bool, deep: bool, timeout: Option<Duration>) -> LockRequest {
    LockRequest { path: path.into(), owner: Some("<D:href>jan</D:href>".into()), shared, deep, timeout }
}

#[tokio::test]
async fn locks_are_kept_per_owner_expire_and_are_capped() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let kees = bed.staff("kees@minvws.nl").await?;

    let lock = bed.gw.lock(&jan, request("/outbox/x/", false, true, None)).await?.map_err(|l| l.token)?;
    assert_eq!(lock.path, "/outbox/x");
    assert_eq!(lock.timeout, MAX_LOCK_TIME, "an infinite lock gets the maximum");
    let conflict = bed.gw.lock(&jan, request("/outbox/x/a.pdf", false, false, None)).await?;
    assert_eq!(conflict.err().map(|l| l.token), Some(lock.token.clone()), "the deep lock is in the way");
    assert!(bed.gw.lock(&kees, request("/outbox/x/a.pdf", false, false, None)).await?.is_ok(), "another tree");
    assert!(bed.gw.locks(&kees).await?.iter().all(|l| l.token != lock.token));
    assert!(!bed.gw.unlock(&kees, "/outbox/x", &lock.token).await?, "nobody releases another's lock");

    // Kept in the database: another node (a restarted core) sees it.
    let other_node = bed.restart().await?;
    assert_eq!(other_node.locks(&jan).await?.len(), 1);

    // Refreshing extends it; without a refresh it lapses after ten minutes.
    bed.advance(Duration::from_secs(500));
    let refreshed = bed.gw.refresh_lock(&jan, "/outbox/x/a.pdf", &lock.token, Some(Duration::from_secs(3600))).await?;
    assert_eq!(refreshed.map(|l| l.timeout), Some(MAX_LOCK_TIME));
    bed.advance(Duration::from_secs(500));
    assert_eq!(bed.gw.locks(&jan).await?.len(), 1, "refreshed 500 s ago");
    bed.advance(Duration::from_secs(101));
    assert!(bed.gw.locks(&jan).await?.is_empty(), "lapsed");
    assert!(bed.gw.lock(&jan, request("/outbox/x/a.pdf", false, false, None)).await?.is_ok());

    // Unlock and delete.
    let b = bed.gw.lock(&jan, request("/outbox/y", true, false, Some(Duration::from_secs(60)))).await?;
    let b = b.map_err(|l| l.token)?;
    assert!(bed.gw.lock(&jan, request("/outbox/y", true, false, None)).await?.is_ok(), "shared with shared");
    assert!(bed.gw.unlock(&jan, "/outbox/y", &b.token).await?);
    bed.gw.delete_locks(&jan, "/outbox").await?;
    assert!(bed.gw.locks(&jan).await?.is_empty());

    // The cap.
    for i in 0..MAX_LOCKS_PER_OWNER {
        bed.gw.lock(&jan, request(&format!("/outbox/d{i}"), false, false, None)).await?.map_err(|l| l.token)?;
    }
    let over = bed.gw.lock(&jan, request("/outbox/one-more", false, false, None)).await;
    assert!(matches!(over, Err(Error::Forbidden(_))), "{over:?}");
    Ok(())
}

#[tokio::test]
async fn a_replacing_upload_leaves_the_old_document_until_it_finishes() -> TestResult {
    let bed = Bed::new().await?;
    let jan = bed.staff("jan@minvws.nl").await?;
    let draft = bed.gw.create_draft(&jan, "x").await?;
    let first = pdf("first version");
    bed.put(&jan, &draft.id, "a.pdf", &first).await?;

    // Dropped halfway: abandoned, the first version is intact.
    let mut upload = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Replace).await?;
    upload.write(&pdf("second")[..10]).await?;
    let complete = |docs: Vec<gateway::upload::DocumentInfo>| {
        docs.into_iter()
            .filter(|d| d.state == gateway::upload::DocumentState::Complete)
            .map(|d| (d.name, d.size))
            .collect::<Vec<_>>()
    };
    assert_eq!(complete(bed.gw.documents(&jan, &draft.id).await?), vec![("a.pdf".into(), first.len() as u64)]);
    upload.abandon().await?;
    let read = bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await?;
    assert_eq!(read, first);
    assert_eq!(bed.gw.documents(&jan, &draft.id).await?.len(), 1, "nothing left of the abandoned upload");

    // Refused by the content check: the first version is intact.
    let mut upload = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Replace).await?;
    upload.write(b"MZ this is not a pdf").await?;
    assert!(matches!(upload.finish().await, Err(Error::ContentMismatch { .. })));
    assert_eq!(bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await?, first);

    // Finished: the new version takes its place, once.
    let second = pdf("the second version, longer");
    let mut upload = bed.gw.begin_upload(&jan, &draft.id, "a.pdf", UploadMode::Replace).await?;
    upload.write(&second).await?;
    upload.finish().await?;
    assert_eq!(complete(bed.gw.documents(&jan, &draft.id).await?), vec![("a.pdf".into(), second.len() as u64)]);
    assert_eq!(bed.gw.read_document(&jan, &draft.id, "a.pdf", None).await?.read_all().await?, second);
    Ok(())
}

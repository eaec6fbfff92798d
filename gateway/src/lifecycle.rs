//! The jobs that keep the rules true over time: drafts whose upload window
//! closed unsent are aborted; sent messages past their retention expire (each
//! document key destroyed, the blobs deleted, the metadata kept); orphans of a
//! crash are swept. One node at a time runs them, under a lease in the database.

use std::collections::HashSet;
use std::time::Duration;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{documents, leases, transfers};
use crate::error::Result;
use crate::outbox::Outgoing;
use crate::session::Origin;
use crate::store::BlobId;
use crate::{Door, Gateway, Language, Timestamp};

/// What one run of the jobs did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleReport {
    /// Drafts aborted because their window closed.
    pub aborted: usize,
    /// Messages expired and purged.
    pub expired: usize,
    /// Blobs deleted (of aborted and expired messages, and orphans).
    pub blobs_deleted: usize,
    /// Unfinished uploads swept (of no draft any more).
    pub staging_swept: usize,
}

/// How long the jobs lease lasts unless renewed: a node killed in a round
/// is taken over this long after, within one round's interval (30 s).
const LEASE_TTL: Duration = Duration::from_secs(30);

/// How often a round that is still running renews its lease.
const LEASE_RENEW: Duration = Duration::from_secs(10);

/// The database's clock, in milliseconds since the epoch.
fn database_now(conn: &mut AnyConnection) -> Result<i64> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let expression = match conn {
        AnyConnection::Sqlite(_) => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        AnyConnection::Postgresql(_) => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    };
    Ok(diesel::select(sql::<BigInt>(expression)).get_result(conn)?)
}

impl Gateway {
    /// Take or renew a named lease for `ttl`; false when another node holds
    /// it. Timed by the database's clock, the one every node shares, so a
    /// node whose clock runs ahead neither takes a lease early nor holds
    /// one too long.
    pub(crate) async fn take_lease(&self, name: &'static str, ttl: Duration) -> Result<bool> {
        let node = self.node.clone();
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let own = (!self.clock.is_world_time()).then(|| self.now().as_millis());
        self.db
            .write(move |conn| {
                let now = match own {
                    Some(now) => now,
                    None => database_now(conn)?,
                };
                let n = diesel::update(
                    leases::table
                        .filter(leases::name.eq(name))
                        .filter(leases::holder.eq(&node).or(leases::expires_at.lt(now))),
                )
                .set((leases::holder.eq(&node), leases::expires_at.eq(now.saturating_add(ttl))))
                .execute(conn)?;
                Ok(n == 1)
            })
            .await
    }

    /// Let go of a lease this node holds, so that another takes it at once
    /// instead of waiting for it to lapse.
    pub(crate) async fn release_lease(&self, name: &'static str) -> Result<()> {
        let node = self.node.clone();
        self.db
            .write(move |conn| {
                diesel::update(leases::table.filter(leases::name.eq(name)).filter(leases::holder.eq(&node)))
                    .set(leases::expires_at.eq(0_i64))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Let go of the lifecycle lease: at a clean stop, and after a one-off
    /// run (`koerier purge`), so that the jobs go on elsewhere at once.
    pub async fn release_lifecycle_lease(&self) -> Result<()> {
        self.release_lease("lifecycle").await
    }

    /// Run the lifecycle jobs once, if no other node is running them. The
    /// lease is held only while they run, renewed every [`LEASE_RENEW`]: a
    /// node killed between two rounds holds nothing, and one killed during
    /// a round holds it for at most [`LEASE_TTL`] more.
    pub async fn run_lifecycle(&self) -> Result<Option<LifecycleReport>> {
        if !self.take_lease("lifecycle", LEASE_TTL).await? {
            return Ok(None);
        }
        let renewing = {
            let this = self.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE_RENEW).await;
                    match this.take_lease("lifecycle", LEASE_TTL).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("the jobs lease went to another node during a long round");
                            break;
                        }
                        Err(e) => tracing::warn!(error = %e, "could not renew the jobs lease"),
                    }
                }
            })
        };
        let round = self.lifecycle_round().await;
        renewing.abort();
        self.release_lease("lifecycle").await?;
        round.map(Some)
    }

    /// The moment a round of the jobs goes by: the database's clock, which
    /// every node shares, as the leases are timed (a clock a test moves is
    /// its own time). So a node whose clock runs fast aborts no window and
    /// expires no message early, and one whose clock runs slow none late.
    async fn shared_now(&self) -> Result<Timestamp> {
        if !self.clock.is_world_time() {
            return Ok(self.now());
        }
        Ok(Timestamp::from_millis(self.db.read(database_now).await?))
    }

    async fn lifecycle_round(&self) -> Result<LifecycleReport> {
        let now = self.shared_now().await?;
        let mut report = LifecycleReport { aborted: self.abort_overdue(now).await?, ..Default::default() };
        report.expired = self.expire_due(now).await?;
        let (blobs, staging) = self.sweep().await?;
        report.blobs_deleted = blobs;
        report.staging_swept = staging;
        self.prune_failures(now).await?;
        Ok(report)
    }

    /// Abort drafts whose window closed: delete what was uploaded, keep why.
    async fn abort_overdue(&self, now: Timestamp) -> Result<usize> {
        let window = self.settings.rules.upload_window;
        let cutoff = now.minus(window).as_millis();
        let this = self.clone();
        self.db
            .write(move |conn| {
                let overdue: Vec<crate::transfer::TransferRow> = transfers::table
                    .filter(transfers::state.eq("draft"))
                    .filter(transfers::window_started_at.le(cutoff))
                    .select(crate::transfer::TransferRow::as_select())
                    .load(conn)?;
                let reason = format!(
                    "the upload window of {} closed before the message was sent",
                    humantime::format_duration(window)
                );
                for row in &overdue {
                    diesel::update(transfers::table.find(&row.id))
                        .set((
                            transfers::state.eq("aborted"),
                            transfers::aborted_at.eq(Some(now.as_millis())),
                            transfers::abort_reason.eq(Some(&reason)),
                        ))
                        .execute(conn)?;
                    destroy_documents(conn, &row.id, now)?;
                    let language = Language::parse(&row.language)?;
                    this.enqueue(
                        conn,
                        Outgoing::mail("window-aborted", language, &row.sender_email)
                            .param("name", row.name.as_str())
                            .param("subject", row.subject.as_str())
                            .param("reason", reason.as_str())
                            .transfer(&row.id)
                            .caused_by(row.owner_id.as_deref()),
                    )?;
                    this.event(&Origin::new(Door::System, None), "transfer-aborted")
                        .transfer(&row.id)
                        .detail(&reason)
                        .record(conn)?;
                }
                Ok(overdue.len())
            })
            .await
    }

    /// Expire sent messages at the end of their retention. Reads are refused
    /// from that instant anyway; this destroys the keys and marks the metadata.
    async fn expire_due(&self, now: Timestamp) -> Result<usize> {
        let this = self.clone();
        self.db
            .write(move |conn| {
                let due: Vec<String> = transfers::table
                    .filter(transfers::state.eq("sent"))
                    .filter(transfers::expires_at.le(now.as_millis()))
                    .select(transfers::id)
                    .load(conn)?;
                for id in &due {
                    diesel::update(transfers::table.find(id))
                        .set((transfers::state.eq("expired"), transfers::purged_at.eq(Some(now.as_millis()))))
                        .execute(conn)?;
                    let n = destroy_documents(conn, id, now)?;
                    this.event(&Origin::new(Door::System, None), "transfer-expired")
                        .transfer(id)
                        .detail(&format!("{n} document keys destroyed"))
                        .record(conn)?;
                }
                Ok(due.len())
            })
            .await
    }

    /// Delete every blob that no complete document refers to, and every
    /// staged upload that no unfinished document refers to. Runs after the
    /// database has let go of them, so a crash in between is healed here.
    async fn sweep(&self) -> Result<(usize, usize)> {
        // The store first, the records second (see `Store::listing`): an
        // upload that begins in between is not in the listing, so it stays.
        let listing = self.store.listing().await?;
        // One statement, so one snapshot: read as two queries, a document
        // finishing in between was in neither answer, and its blob was taken.
        let live: HashSet<String> = self
            .db
            .read(|conn| {
                Ok(documents::table
                    .filter(documents::state.eq_any(["complete", "uploading"]))
                    .select(documents::id)
                    .load::<String>(conn)?
                    .into_iter()
                    .collect())
            })
            .await?;
        // A committed blob of a document still marked uploading is the moment
        // between the store's commit and the database's: it is kept.
        let keep = |id: &BlobId| live.contains(id.as_str());
        Ok(self.store.sweep(listing, &keep).await?)
    }
}

/// Crypto-shred the documents of a transfer: the wrapped keys go first, in the
/// transaction, with the blobs kept in the rows; the files follow in the sweep. The properties a client kept on
/// the message and its documents go with them.
pub(crate) fn destroy_documents(conn: &mut AnyConnection, transfer_id: &str, now: Timestamp) -> Result<usize> {
    crate::properties::delete_all(conn, transfer_id)?;
    Ok(diesel::update(
        documents::table.filter(documents::transfer_id.eq(transfer_id)).filter(documents::state.ne("deleted")),
    )
    .set((
        documents::state.eq("deleted"),
        documents::key_sealed.eq(None::<Vec<u8>>),
        documents::inline_blob.eq(None::<Vec<u8>>),
        documents::deleted_at.eq(Some(now.as_millis())),
    ))
    .execute(conn)?)
}

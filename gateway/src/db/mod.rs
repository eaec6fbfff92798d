//! The database: one Diesel connection type for SQLite and PostgreSQL, a pool,
//! the embedded migrations, and the bridge that keeps blocking database work off
//! the async runtime.

pub mod schema;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

/// One connection type, two backends. Built explicitly from the URL's scheme:
/// `AnyConnection::establish` would try each backend and hide why the right one failed.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, for production and several nodes.
    Postgresql(diesel::PgConnection),
    /// SQLite, the embedded default.
    Sqlite(diesel::SqliteConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Serialise, until this transaction ends, the transactions that name
/// `key`: on PostgreSQL a transaction-level advisory lock on its hash; on
/// SQLite nothing, for its writes go one at a time already.
pub(crate) fn lock_for_transaction(conn: &mut AnyConnection, key: &str) -> crate::error::Result<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` or a plain file path.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// The backend of a URL, and the string to hand to the driver.
    pub fn of(url: &str) -> Result<(Backend, String)> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok((Backend::Postgres, url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok((Backend::Sqlite, path.to_owned()))
        } else if url.contains("://") {
            Err(Error::Invalid(format!(
                "database url scheme not supported: use sqlite:// or postgres:// (got {})",
                url.split("://").next().unwrap_or_default()
            )))
        } else {
            Ok((Backend::Sqlite, url.to_owned()))
        }
    }
}

/// Connection establishment with explicit per-backend errors.
#[derive(Clone)]
struct Manager {
    backend: Backend,
    target: String,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let conn = match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.target).map(AnyConnection::Postgresql),
            Backend::Sqlite => diesel::SqliteConnection::establish(&self.target).map(AnyConnection::Sqlite),
        };
        conn.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        diesel::sql_query("SELECT 1").execute(conn).map(|_| ()).map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// SQLite needs its settings per connection: WAL for concurrent readers, a busy
/// timeout instead of instant failure, and foreign keys (off by default).
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(_) = conn {
            for pragma in [
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = FULL",
                "PRAGMA busy_timeout = 10000",
                "PRAGMA foreign_keys = ON",
            ] {
                diesel::sql_query(pragma).execute(conn).map_err(diesel::r2d2::Error::QueryError)?;
            }
        }
        Ok(())
    }
}

/// The pool, shared by every operation of the core.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite has one writer, so this process writes through connections of
    /// its own, one at a time: writers queue here instead of failing with
    /// `SQLITE_BUSY` when a read transaction upgrades. Made on the first write.
    sqlite_writer: Arc<Mutex<Option<Writer>>>,
    manager: Manager,
}

/// The SQLite writer: one connection, set to the flush level of each write
/// when it differs from the last one's (`synchronous = FULL` syncs the WAL
/// at commit, `NORMAL` leaves that to the next commit at `FULL`).
///
/// One connection rather than one per level: SQLite drops a connection's
/// page cache whenever another connection has written, so two writers
/// taking turns, as uploads begin and finish, read every page they touch
/// again (some 40 reads per uploaded document). Setting the level is a
/// statement Diesel does not keep prepared, far cheaper than those reads.
struct Writer {
    conn: AnyConnection,
    level: Flush,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

type Conn = PooledConnection<Manager>;

impl Db {
    /// Connect (without migrating). The password of a URL never reaches an error message.
    pub fn connect(url: &str) -> Result<Db> {
        let (backend, target) = Backend::of(url)?;
        let max_size = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            // A server can drop a PostgreSQL connection, so each is tested
            // (`SELECT 1`) before use; an SQLite connection is a file handle
            // that does not go away, and testing it compiled that statement
            // anew for every database call.
            .test_on_check_out(backend == Backend::Postgres)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(Manager { backend, target: target.clone() })
            .map_err(|e| {
                Error::Internal(format!("cannot open the database ({backend:?}): {}", redact(&e.to_string())))
            })?;
        Ok(Db { pool, backend, sqlite_writer: Arc::new(Mutex::new(None)), manager: Manager { backend, target } })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Apply the pending embedded migrations of this backend; returns their names.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        self.write(|conn| {
            let applied = match conn {
                AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
                AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
            }
            .map_err(|e| Error::Internal(format!("migration failed: {e}")))?;
            Ok(applied.iter().map(ToString::to_string).collect())
        })
        .await
    }

    /// Run read-only work on a pooled connection, off the async runtime.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        blocking(move || {
            let mut conn = checkout(&pool)?;
            work(&mut conn)
        })
        .await
    }

    /// Run work in one transaction, off the async runtime. Everything the work
    /// writes (the event and the mail it causes) commits together or not at all,
    /// and is on disk when this returns.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.transaction(Flush::AtCommit, work).await
    }

    /// Like [`Db::write`], for a change that must be visible to everyone at
    /// once but need not survive a crash on its own: it is not flushed to
    /// disk at commit, and the next flushed commit takes it along. What a
    /// crash may lose here must be nothing a client was promised: the row of
    /// an upload that has not finished, whose staging file the sweep removes.
    pub async fn write_unflushed<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.transaction(Flush::Later, work).await
    }

    async fn transaction<T, F>(&self, flush: Flush, work: F) -> Result<T>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => {
                let (writer, manager) = (self.sqlite_writer.clone(), self.manager.clone());
                blocking(move || {
                    // A writer that panicked may have left its transaction
                    // open: its connection is dropped and a new one made.
                    let mut slot = writer.lock().unwrap_or_else(|poisoned| {
                        let mut slot = poisoned.into_inner();
                        *slot = None;
                        slot
                    });
                    let writer = match &mut *slot {
                        Some(writer) => writer,
                        empty => empty.insert(Writer::open(&manager)?),
                    };
                    writer.set_level(flush)?;
                    immediate(&mut writer.conn, work)
                })
                .await
            }
            Backend::Postgres => {
                let pool = self.pool.clone();
                blocking(move || {
                    let mut pooled = checkout(&pool)?;
                    pooled.transaction(|conn| {
                        if flush == Flush::Later {
                            diesel::sql_query("SET LOCAL synchronous_commit = off").execute(conn)?;
                        }
                        work(conn)
                    })
                })
                .await
            }
        }
    }
}

/// A write transaction on SQLite, begun with `BEGIN IMMEDIATE`: it takes
/// the write lock first, waiting for it as long as the busy timeout allows.
/// A deferred transaction whose first statement reads would fail at once
/// ("database is locked") when another process, say an operator's command
/// beside `serve`, wrote in between: SQLite cannot upgrade its snapshot.
fn immediate<T, F>(conn: &mut AnyConnection, work: F) -> Result<T>
where
    F: FnOnce(&mut AnyConnection) -> Result<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Tx = <AnyConnection as Connection>::TransactionManager;
    if let AnyConnection::Sqlite(sqlite) = conn {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    } else {
        Tx::begin_transaction(conn)?;
    }
    match work(conn) {
        Ok(value) => match Tx::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = Tx::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = Tx::rollback_transaction(conn);
            Err(e)
        }
    }
}

impl Writer {
    fn open(manager: &Manager) -> Result<Writer> {
        // The pragmas leave every connection at FULL.
        Ok(Writer { conn: Self::connect(manager)?, level: Flush::AtCommit })
    }

    fn set_level(&mut self, level: Flush) -> Result<()> {
        if self.level != level {
            let pragma = match level {
                Flush::AtCommit => "PRAGMA synchronous = FULL",
                Flush::Later => "PRAGMA synchronous = NORMAL",
            };
            diesel::sql_query(pragma).execute(&mut self.conn)?;
            self.level = level;
        }
        Ok(())
    }

    fn connect(manager: &Manager) -> Result<AnyConnection> {
        use diesel::r2d2::ManageConnection as _;
        let mut conn = manager
            .connect()
            .map_err(|e| Error::internal("cannot open the database for writing", redact(&e.to_string())))?;
        SqlitePragmas
            .on_acquire(&mut conn)
            .map_err(|e| Error::internal("cannot set up the database connection", redact(&e.to_string())))?;
        Ok(conn)
    }
}

/// When a write reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// Before the write returns.
    AtCommit,
    /// With the next write that flushes.
    Later,
}

fn checkout(pool: &Pool<Manager>) -> Result<Conn> {
    pool.get().map_err(|e| Error::internal("no database connection", redact(&e.to_string())))
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal("database task failed", e))?
}

/// Strip a password from anything that looks like a URL with credentials.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split_inclusive(char::is_whitespace) {
        match (word.find("://"), word.find('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                out.push_str(&word[..scheme + 3]);
                out.push_str("***");
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(Backend::of("postgres://u@h/db").map(|b| b.0).ok(), Some(Backend::Postgres));
        assert_eq!(Backend::of("postgresql://u@h/db").map(|b| b.0).ok(), Some(Backend::Postgres));
        assert_eq!(Backend::of("sqlite:///tmp/x.db").map(|b| b.1).ok(), Some("/tmp/x.db".to_owned()));
        assert_eq!(Backend::of("data/koerier.db").map(|b| b.0).ok(), Some(Backend::Sqlite));
        assert!(Backend::of("mysql://h/db").is_err());
    }

    #[derive(diesel::QueryableByName)]
    struct Synchronous {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }

    fn synchronous(conn: &mut AnyConnection) -> Result<i32> {
        Ok(diesel::sql_query("PRAGMA synchronous").get_result::<Synchronous>(conn)?.synchronous)
    }

    #[tokio::test]
    async fn a_flushed_write_syncs_at_commit_and_an_unflushed_one_does_not() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::internal("tempdir", e))?;
        let db = Db::connect(&dir.path().join("k.db").to_string_lossy())?;
        // In turns, as uploads begin (unflushed) and finish (flushed), and
        // twice in a row at each level.
        for _ in 0..2 {
            assert_eq!(db.write(synchronous).await?, 2, "FULL: the WAL is synced at commit");
            assert_eq!(db.write_unflushed(synchronous).await?, 1, "NORMAL: synced by the next flushed commit");
            assert_eq!(db.write_unflushed(synchronous).await?, 1, "still NORMAL");
            assert_eq!(db.write(synchronous).await?, 2, "FULL again");
            assert_eq!(db.write(synchronous).await?, 2, "still FULL");
        }
        Ok(())
    }

    #[test]
    fn redact_hides_passwords() {
        let s = redact("cannot connect to postgres://koerier:hunter2@db:5432/k now");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("postgres://***@db:5432/k"), "{s}");
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |dir: &str| {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            v.sort();
            v
        };
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
        let sqlite = names(&format!("{root}/sqlite"));
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, names(&format!("{root}/postgres")));
    }
}

//! Group commit: SQLite has one writer, and with durable commits each commit waits for its
//! sync to stable storage. This process's writers take turns on one connection; those that
//! queued up behind each other share one transaction, each in a savepoint of its own, and the
//! last of the group commits for all: one sync for the group instead of one per writer. A
//! writer is answered only once the commit holding its work has succeeded, so what it
//! acknowledges is as durable as with a commit of its own; when the group's commit fails, every
//! writer of the group fails (`Unavailable`) and none of their work is applied.
//!
//! No crate offers this for sqlx's SQLite driver (SQLite itself has no group commit), hence
//! this module.
//!
//! Each write runs in a task of its own, so that a request dropped half-way (its deadline, a
//! client gone) cannot leave its savepoint half done inside a group others commit.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use giftwire_core::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::oneshot;

use super::errors::db_err;

/// What a write's work returns: its statements on the connection it is given.
pub(super) type WorkFuture<'c, T> =
    Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'c>>;

/// A write's work, inside the transaction it is given.
type Work<T> = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> WorkFuture<'c, T> + Send>;

/// Writers in one group at most: bounds how long the first of them waits for its answer.
const MAX_GROUP: usize = 32;
/// How long a writer of a group waits for the group's commit before it looks for itself
/// (the writer that was to commit may have given up waiting for its turn).
const COMMIT_FALLBACK: Duration = Duration::from_millis(20);

/// The outcome of a group's commit, shared by its writers.
type Outcome = Result<(), Arc<StoreError>>;

/// An open transaction that queued writers add to.
struct Group {
    id: u64,
    conn: PoolConnection<Sqlite>,
    /// The writers whose work is in the group, waiting for its commit.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// A writer's savepoint is open: its task died half-way (a panic), and the group cannot
    /// be committed.
    in_savepoint: bool,
}

/// This process's writers of one database.
#[derive(Clone)]
pub(super) struct Writer {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    turn: Arc<tokio::sync::Mutex<Option<Group>>>,
    /// Writers waiting for their turn: while there are any, the writer whose turn it is leaves
    /// the group open for them.
    queued: AtomicUsize,
    groups: AtomicU64,
    /// How long a writer waits for its turn before the database counts as unavailable.
    timeout: Duration,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("queued", &self.inner.queued.load(Ordering::Relaxed))
            .finish()
    }
}

fn unavailable(message: &str) -> StoreError {
    StoreError::Unavailable(message.to_owned().into())
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(conn).await.map(|_| ())
}

impl Writer {
    pub(super) fn new(pool: SqlitePool, timeout: Duration) -> Writer {
        Writer {
            inner: Arc::new(Inner {
                pool,
                turn: Arc::default(),
                queued: AtomicUsize::new(0),
                groups: AtomicU64::new(0),
                timeout,
            }),
        }
    }

    /// Runs `work` in a transaction and returns its result once the transaction is committed.
    /// `work` failing rolls back its own statements only, and its error is returned.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WorkFuture<'c, T> + Send + 'static,
    {
        let work: Work<T> = Box::new(work);
        let inner = self.inner.clone();
        match tokio::spawn(async move { inner.write(work).await }).await {
            Ok(result) => result,
            Err(e) => Err(StoreError::Internal(Box::new(e))),
        }
    }
}

impl Inner {
    async fn write<T>(&self, work: Work<T>) -> Result<T, StoreError> {
        self.queued.fetch_add(1, Ordering::AcqRel);
        let turn = tokio::time::timeout(self.timeout, self.turn.clone().lock_owned()).await;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        let mut turn = turn.map_err(|_| unavailable("the writers ahead did not finish in time"))?;

        if turn.as_ref().is_some_and(|g| g.in_savepoint) {
            // The writer before died inside its savepoint: nothing of this group may commit.
            fail(turn.take(), died_half_way());
        }
        // The first writer of a group needs no savepoint: should its work fail, the group holds
        // nothing else and is rolled back whole.
        let first = turn.is_none();
        if first {
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            exec(&mut conn, "BEGIN IMMEDIATE").await.map_err(db_err)?;
            *turn = Some(Group {
                id: self.groups.fetch_add(1, Ordering::Relaxed),
                conn,
                waiting: Vec::new(),
                in_savepoint: false,
            });
        }
        let group = turn.as_mut().expect("a group is open");
        let id = group.id;
        if !first && let Err(e) = exec(&mut group.conn, "SAVEPOINT writer").await {
            let cause = group_failure(e);
            fail(turn.take(), cause.clone());
            return Err(shared_err(&cause));
        }
        group.in_savepoint = true;
        let done = work(&mut group.conn).await;
        let ended = match (&done, first) {
            (Ok(_), true) => Ok(()),
            (Ok(_), false) => exec(&mut group.conn, "RELEASE writer").await,
            (Err(_), true) => exec(&mut group.conn, "ROLLBACK").await,
            (Err(_), false) => exec(&mut group.conn, "ROLLBACK TO writer; RELEASE writer").await,
        };
        group.in_savepoint = false;
        if let Err(e) = ended {
            // SQLite rolls a whole transaction back on some errors (a full disk, an I/O error):
            // the group is gone, with the work of every writer in it.
            let cause = group_failure(e);
            fail(turn.take(), cause.clone());
            return Err(done.err().unwrap_or_else(|| shared_err(&cause)));
        }
        let queued = self.queued.load(Ordering::Acquire) > 0;
        let value = match done {
            // Rolled back whole: the group is over.
            Err(e) if first => {
                turn.take();
                return Err(e);
            }
            // This writer's statements are undone; the group (which holds the work of at least
            // one writer before, waiting for its commit) goes on without them while more are
            // queued to join it.
            Err(e) => {
                if !queued {
                    // Its writers hear how it went; this one's answer is its own error.
                    let _ = commit(turn.take()).await;
                }
                return Err(e);
            }
            Ok(value) => value,
        };
        let group = turn.as_mut().expect("a group is open");
        if !queued || group.waiting.len() + 1 >= MAX_GROUP {
            let outcome = commit(turn.take()).await;
            return answer(value, outcome);
        }
        let (tx, mut rx) = oneshot::channel();
        group.waiting.push(tx);
        drop(turn);
        // The next writer commits the group, or one after it; should none come (the one queued
        // gave up waiting for its turn), this writer commits it itself.
        loop {
            match tokio::time::timeout(COMMIT_FALLBACK, &mut rx).await {
                Ok(outcome) => {
                    let outcome = outcome
                        .unwrap_or_else(|_| Err(Arc::new(unavailable("the commit was lost"))));
                    return answer(value, outcome);
                }
                Err(_) => {
                    let mut turn = self.turn.clone().lock_owned().await;
                    match turn.as_ref() {
                        // Committed here, the outcome reaches this writer through `rx` too.
                        Some(g) if g.id == id && !g.in_savepoint => {
                            let _ = commit(turn.take()).await;
                        }
                        // Holding the turn, with a savepoint open: the writer that opened it
                        // died half-way (a panic), and the group cannot be committed.
                        Some(g) if g.id == id => fail(turn.take(), died_half_way()),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// A writer's answer once its group's commit is known.
fn answer<T>(value: T, outcome: Outcome) -> Result<T, StoreError> {
    outcome.map(|()| value).map_err(|cause| shared_err(&cause))
}

fn died_half_way() -> Arc<StoreError> {
    Arc::new(StoreError::Internal(
        "a writer of the group died half-way".into(),
    ))
}

/// Commits a group, tells the writers waiting for it how it went, and returns that.
async fn commit(group: Option<Group>) -> Outcome {
    let Some(mut group) = group else {
        return Ok(());
    };
    let outcome = match exec(&mut group.conn, "COMMIT").await {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = exec(&mut group.conn, "ROLLBACK").await;
            group.conn.close_on_drop();
            Err(group_failure(e))
        }
    };
    for writer in group.waiting {
        let _ = writer.send(outcome.clone());
    }
    outcome
}

/// Ends a group that cannot commit: its writers fail with `cause`, its connection is closed
/// (closing rolls back what SQLite had not rolled back already).
fn fail(group: Option<Group>, cause: Arc<StoreError>) {
    let Some(mut group) = group else { return };
    group.conn.close_on_drop();
    for writer in group.waiting {
        let _ = writer.send(Err(cause.clone()));
    }
}

/// The cause of a group's failure from one of its statements (`SAVEPOINT`, `RELEASE`,
/// `ROLLBACK TO`, `COMMIT`): whatever SQLite says (a savepoint gone because SQLite rolled the
/// whole transaction back after a full disk, say), the group's writers meet a storage failure.
fn group_failure(e: sqlx::Error) -> Arc<StoreError> {
    Arc::new(match db_err(e) {
        StoreError::Internal(source) => StoreError::Unavailable(source),
        other => other,
    })
}

/// Each writer's error when the group it was in failed: the group's cause, of the same kind
/// (a storage failure stays `Unavailable`).
fn shared_err(cause: &Arc<StoreError>) -> StoreError {
    let shared = Box::new(SharedCause(cause.clone()));
    match cause.as_ref() {
        StoreError::Internal(_) => StoreError::Internal(shared),
        _ => StoreError::Unavailable(shared),
    }
}

/// The cause of a group's failure, as each of its writers reports it.
#[derive(Debug)]
struct SharedCause(Arc<StoreError>);

impl std::fmt::Display for SharedCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the transaction shared with other writers failed: {}",
            self.0
        )
    }
}

impl std::error::Error for SharedCause {}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;

    async fn writer() -> (Writer, SqlitePool, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        (Writer::new(pool.clone(), Duration::from_secs(5)), pool, dir)
    }

    async fn rows(pool: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// Inserts `n` after `pause`, then fails when `fail`.
    async fn insert(
        writer: &Writer,
        n: i64,
        pause: Duration,
        fail: bool,
    ) -> Result<i64, StoreError> {
        writer
            .write(move |conn| {
                Box::pin(async move {
                    tokio::time::sleep(pause).await;
                    sqlx::query("INSERT INTO t (n) VALUES (?1)")
                        .bind(n)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    if fail {
                        return Err(StoreError::Conflict(format!("{n} refused")));
                    }
                    Ok(n)
                })
            })
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_that_queue_up_share_commits_and_each_is_answered_after_its_commit() {
        let (writer, pool, _dir) = writer().await;
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(
                    async move { insert(&writer, n, Duration::from_millis(2), false).await },
                )
            })
            .collect();
        for (n, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap().unwrap(), n as i64);
            // Answered means committed: another connection sees it.
            let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM t WHERE n = ?1")
                .bind(n as i64)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(seen, 1);
        }
        assert_eq!(rows(&pool).await, (0..20).collect::<Vec<_>>());
        let groups = writer.inner.groups.load(Ordering::Relaxed);
        assert!(
            groups < 20,
            "20 queued writers committed in {groups} groups"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_writer_undoes_its_own_statements_only() {
        let (writer, pool, _dir) = writer().await;
        let tasks: Vec<_> = (0..12)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    insert(&writer, n, Duration::from_millis(2), n % 3 == 0).await
                })
            })
            .collect();
        for (n, task) in tasks.into_iter().enumerate() {
            let result = task.await.unwrap();
            if n % 3 == 0 {
                assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
            } else {
                assert_eq!(result.unwrap(), n as i64);
            }
        }
        assert_eq!(rows(&pool).await, vec![1, 2, 4, 5, 7, 8, 10, 11]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_panics_half_way_leaves_nothing_behind_and_writing_goes_on() {
        let (writer, pool, _dir) = writer().await;
        let panicked = writer
            .write(|conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n) VALUES (666)")
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    if std::hint::black_box(true) {
                        panic!("a defect half-way through a write");
                    }
                    Ok(())
                })
            })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Internal(_))),
            "{panicked:?}"
        );
        assert_eq!(insert(&writer, 1, Duration::ZERO, false).await.unwrap(), 1);
        assert_eq!(rows(&pool).await, vec![1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_whose_caller_goes_away_still_completes_whole() {
        let (writer, pool, _dir) = writer().await;
        let dropped = tokio::time::timeout(
            Duration::from_millis(10),
            insert(&writer, 7, Duration::from_millis(100), false),
        )
        .await;
        assert!(dropped.is_err(), "the caller gave up first");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rows(&pool).await, vec![7]);
        assert_eq!(insert(&writer, 8, Duration::ZERO, false).await.unwrap(), 8);
        assert_eq!(rows(&pool).await, vec![7, 8]);
    }
}

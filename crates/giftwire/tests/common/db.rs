//! Fresh databases for tests, shared by the test binaries: an SQLite file in a temporary folder,
//! or a PostgreSQL schema of its own in the database of `GIFTWIRE_TEST_POSTGRES_URL`.

/// The two backends every conformance test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database: an SQLite file in a temporary folder, or a schema of its own in the
/// PostgreSQL database of `GIFTWIRE_TEST_POSTGRES_URL` (dropped when this is).
pub struct TestDb {
    pub url: String,
    pg_schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

static SCHEMAS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("giftwire.db");
                TestDb {
                    url: format!("sqlite://{}", path.display()),
                    pg_schema: None,
                    _dir: dir,
                }
            }
            Backend::Postgres => {
                let base = std::env::var("GIFTWIRE_TEST_POSTGRES_URL")
                    .expect("GIFTWIRE_TEST_POSTGRES_URL is set for the PostgreSQL half");
                let schema = format!(
                    "gwt_{}_{}_{}",
                    std::process::id(),
                    SCHEMAS.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
                    rand::random::<u32>()
                );
                let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
                    .await
                    .expect("connect to GIFTWIRE_TEST_POSTGRES_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut admin)
                    .await
                    .expect("create a test schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    pg_schema: Some((base, schema)),
                    _dir: dir,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, schema)) = self.pg_schema.take() else {
            return;
        };
        // Best effort, on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
                    .await
                    .ok()?;
                sqlx::query("SET lock_timeout = '10s'")
                    .execute(&mut admin)
                    .await
                    .ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        })
        .join();
    }
}

/// The sealing key file every `giftwire` process a test binary starts is given (one per test
/// process, in a temporary folder), so that none writes one into the working directory.
#[allow(dead_code)]
pub fn sealing_key_file() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
        .join("giftwire.sealing-key")
        .leak()
}

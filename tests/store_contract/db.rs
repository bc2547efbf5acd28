//! A fresh, empty store of either backend, and more handles on it (as separate anfu
//! instances would have).

use anfu::store::{PgStore, SqliteStore, Store};
use std::sync::Arc;

pub enum Place {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres(crate::pg::TestDb),
}

pub struct Db {
    /// The first handle.
    pub store: Arc<dyn Store>,
    pub place: Place,
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = format!("sqlite://{}", dir.path().join("anfu.db").display());
        let place = Place::Sqlite { url, _dir: dir };
        Db {
            store: open(&place).await,
            place,
        }
    }

    pub async fn postgres() -> Db {
        let place = Place::Postgres(crate::pg::TestDb::create().await);
        Db {
            store: open(&place).await,
            place,
        }
    }

    /// Another handle on the same database: its own connections, like another instance.
    pub async fn another(&self) -> Arc<dyn Store> {
        open(&self.place).await
    }

    /// Runs `sql` on the database directly (what an older version left behind).
    pub async fn raw(&self, sql: &str) {
        match &self.place {
            Place::Sqlite { url, .. } => {
                let pool = sqlx::SqlitePool::connect(url).await.expect("SQLite");
                sqlx::raw_sql(sql).execute(&pool).await.expect("raw SQL");
                pool.close().await;
            }
            Place::Postgres(db) => {
                let pool = sqlx::PgPool::connect(&db.url).await.expect("PostgreSQL");
                sqlx::raw_sql(sql).execute(&pool).await.expect("raw SQL");
                pool.close().await;
            }
        }
    }

    pub fn url(&self) -> &str {
        match &self.place {
            Place::Sqlite { url, .. } => url,
            Place::Postgres(db) => &db.url,
        }
    }
}

async fn open(place: &Place) -> Arc<dyn Store> {
    match place {
        Place::Sqlite { url, .. } => Arc::new(SqliteStore::open(url).await.expect("SQLite store")),
        Place::Postgres(db) => Arc::new(PgStore::open(&db.url).await.expect("PostgreSQL store")),
    }
}

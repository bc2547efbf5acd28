//! What only one backend has: PostgreSQL's concurrent first start and URL selection,
//! SQLite's upgrade of a database that may hold duplicate open tickets.

mod postgres {
    use anfu::store::{PgStore, Store};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn instances_starting_together_migrate_once() {
        let db = crate::pg::TestDb::create().await;
        let (a, b, c) = tokio::join!(
            PgStore::open(&db.url),
            PgStore::open(&db.url),
            PgStore::open(&db.url)
        );
        let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
        a.ping().await.unwrap();
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let (applied, latest): (i64, i64) =
            sqlx::query_as("SELECT count(*), max(version) FROM anfu_migrations")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(applied, latest, "each migration once");
        pool.close().await;
    }

    /// A message accepted while a worker claims its conversation's waiting job: either the
    /// worker reads it, or a new job waits for it. Commits are slowed (a deferred trigger
    /// sleeps at commit) so the worker comes between the accept's insert and its commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn message_accepted_while_its_job_is_claimed_is_not_lost() {
        use crate::cases::{msg, quiet};
        let db = crate::pg::TestDb::create().await;
        let store: Arc<dyn Store> = Arc::new(PgStore::open(&db.url).await.unwrap());
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql
               AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON messages
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();",
        )
        .execute(&pool)
        .await
        .unwrap();
        assert!(store
            .accept("s", "taobao", &msg("m1", "c", "a"))
            .await
            .unwrap());
        let accepting = {
            let store = store.clone();
            tokio::spawn(async move { store.accept("s", "taobao", &msg("m2", "c", "b")).await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let process = |job: anfu::store::Job| {
            let store = store.clone();
            async move {
                let ids = store.unprocessed("s", "c", 500).await.unwrap();
                let ids = ids.iter().map(|m| m.id).collect();
                store
                    .commit_processing(quiet(&job, ids), 60_000)
                    .await
                    .unwrap();
            }
        };
        // The worker, while the second accept commits.
        if let Some(job) = store.claim_job(60_000).await.unwrap() {
            process(job).await;
        }
        assert!(accepting.await.unwrap().unwrap());
        while let Some(job) = store.claim_job(60_000).await.unwrap() {
            process(job).await;
        }
        let left = store.unprocessed("s", "c", 500).await.unwrap();
        assert!(left.is_empty(), "{} message(s) without a job", left.len());
        pool.close().await;
    }

    /// A database of the version before sink names: its references and queued notices name
    /// sinks by position; the upgrade keeps them, and the first start renames them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upgrade_keeps_sinks_named_by_position_until_they_are_renamed() {
        let db = crate::pg::TestDb::create().await;
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE anfu_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let scripts = [
            include_str!("../../migrations/postgres/0001_init.sql"),
            include_str!("../../migrations/postgres/0002_sla_warning.sql"),
            include_str!("../../migrations/postgres/0003_sink_refs.sql"),
            include_str!("../../migrations/postgres/0004_one_open_handoff.sql"),
        ];
        for (i, script) in scripts.iter().enumerate() {
            sqlx::raw_sql(script).execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO anfu_migrations VALUES ($1, 0)")
                .bind(i as i64 + 1)
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::raw_sql(crate::only::OLD_SINK_ROWS)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let store: Arc<dyn Store> = Arc::new(PgStore::open(&db.url).await.unwrap());
        crate::only::renamed_by_position(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn storage_url_selects_postgres() {
        let db = crate::pg::TestDb::create().await;
        for url in [
            db.url.clone(),
            db.url.replacen("postgres://", "postgresql://", 1),
        ] {
            let state = anfu::build(crate::only::config(&url)).await.unwrap();
            state.store.ping().await.unwrap();
        }
        // Nothing listens on port 1: the error says it is the database.
        let err = anfu::build(crate::only::config("postgres://anfu@127.0.0.1:1/anfu"))
            .await
            .err()
            .expect("no database there")
            .to_string();
        assert!(err.contains("database"), "{err}");
    }
}

mod sqlite {
    use anfu::store::{SqliteStore, Store};

    #[tokio::test]
    async fn storage_url_selects_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let state = anfu::build(crate::only::config(&url)).await.unwrap();
        state.store.ping().await.unwrap();
    }

    /// A database of the version before sink names: its references and queued notices name
    /// sinks by position; the upgrade keeps them, and the first start renames them.
    #[tokio::test]
    async fn upgrade_keeps_sinks_named_by_position_until_they_are_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let options: sqlx::sqlite::SqliteConnectOptions = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let old = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::raw_sql("CREATE TABLE anfu_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            .execute(&old)
            .await
            .unwrap();
        let scripts = [
            include_str!("../../migrations/sqlite/0001_init.sql"),
            include_str!("../../migrations/sqlite/0002_job_indexes.sql"),
            include_str!("../../migrations/sqlite/0003_enqueue_trigger.sql"),
            include_str!("../../migrations/sqlite/0004_sla_breach.sql"),
            include_str!("../../migrations/sqlite/0005_sla_warning.sql"),
            include_str!("../../migrations/sqlite/0006_sink_refs.sql"),
            include_str!("../../migrations/sqlite/0007_one_open_handoff.sql"),
        ];
        for (i, script) in scripts.iter().enumerate() {
            sqlx::raw_sql(script).execute(&old).await.unwrap();
            sqlx::query("INSERT INTO anfu_migrations VALUES (?, 0)")
                .bind(i as i64 + 1)
                .execute(&old)
                .await
                .unwrap();
        }
        sqlx::raw_sql(crate::only::OLD_SINK_ROWS)
            .execute(&old)
            .await
            .unwrap();
        old.close().await;
        let store: std::sync::Arc<dyn Store> =
            std::sync::Arc::new(SqliteStore::open(&url).await.unwrap());
        crate::only::renamed_by_position(&store).await;
    }

    /// Before migration 7 a lease race could leave two unresolved tickets for one
    /// conversation; the upgrade keeps the one the conversation points at.
    #[tokio::test]
    async fn upgrade_resolves_duplicate_open_tickets() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let options: sqlx::sqlite::SqliteConnectOptions = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let old = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let scripts = [
            include_str!("../../migrations/sqlite/0001_init.sql"),
            include_str!("../../migrations/sqlite/0002_job_indexes.sql"),
            include_str!("../../migrations/sqlite/0003_enqueue_trigger.sql"),
            include_str!("../../migrations/sqlite/0004_sla_breach.sql"),
        ];
        sqlx::raw_sql("CREATE TABLE anfu_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            .execute(&old)
            .await
            .unwrap();
        for (i, script) in scripts.iter().enumerate() {
            sqlx::raw_sql(script).execute(&old).await.unwrap();
            sqlx::query("INSERT INTO anfu_migrations VALUES (?, 0)")
                .bind(i as i64 + 1)
                .execute(&old)
                .await
                .unwrap();
        }
        let card =
            serde_json::to_string(&crate::cases::card("c", anfu::domain::Priority::P2)).unwrap();
        // c1: 1 and 2 unresolved, the conversation points at 1; c2: 3 and 4, no pointer;
        // c3: one open, one resolved.
        for (id, conversation, status) in [
            (1, "c1", "open"),
            (2, "c1", "claimed"),
            (3, "c2", "open"),
            (4, "c2", "open"),
            (5, "c3", "open"),
            (6, "c3", "resolved"),
        ] {
            sqlx::query("INSERT INTO handoffs (id, shop, conversation_id, status, priority, sla_due_at, card, created_at, updated_at) VALUES (?, 's', ?, ?, 'P2', 0, ?, 0, 0)")
                .bind(id)
                .bind(conversation)
                .bind(status)
                .bind(&card)
                .execute(&old)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO conversations (shop, conversation_id, open_handoff) VALUES ('s', 'c1', 1)",
        )
        .execute(&old)
        .await
        .unwrap();
        old.close().await;

        let store = SqliteStore::open(&url).await.unwrap();
        let mut statuses = Vec::new();
        for id in 1..=6 {
            let h = store.handoff(id).await.unwrap();
            statuses.push(h.status.clone());
            let closed_by_upgrade = h.notes.iter().any(|n| n.author == "anfu");
            assert_eq!(closed_by_upgrade, id == 2 || id == 3, "ticket {id}");
        }
        assert_eq!(
            statuses,
            ["open", "resolved", "resolved", "open", "open", "resolved"]
        );
    }
}

/// A configuration of the service on `storage_url` with the repository's data.
pub fn config(storage_url: &str) -> anfu::config::Config {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        "[server]\nagent_token = \"t\"\n[storage]\nurl = \"{storage_url}\"\n\
         [data]\nintents = \"{root}/intents\"\nreplies = \"{root}/replies\"\n"
    );
    anfu::config::Config::from_layers(Some(&text), None, Vec::new()).expect("a valid config")
}

/// A ticket (the first: id 1), what sink 1 made for it, and notices queued for sinks 0 and 1,
/// as the version before sink names wrote them (the card is not read here).
pub const OLD_SINK_ROWS: &str = r#"
INSERT INTO handoffs (shop, conversation_id, status, priority, sla_due_at, card, created_at, updated_at)
  VALUES ('s', 'c', 'open', 'P2', 0, '{}', 0, 0);
INSERT INTO sink_refs (handoff_id, sink, external_ref, created_at) VALUES (1, 1, 'cw-9', 0);
INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at)
  VALUES ('notify', 's', 'c', '{"sink":0,"handoff_id":1,"event":"created"}', 'pending', 0, 0, 0),
         ('notify', 's', 'c', '{"sink":1,"handoff_id":1,"event":"updated"}', 'dead', 0, 0, 0);
"#;

/// Starting with sinks `team` and `cw` renamed what [`OLD_SINK_ROWS`] named by position.
#[allow(clippy::unwrap_used)] // a test body, shared by both backends' tests
pub async fn renamed_by_position(store: &std::sync::Arc<dyn anfu::store::Store>) {
    let names = ["team".to_string(), "cw".to_string()];
    assert_eq!(
        store.sink_ref(1, "1").await.unwrap().as_deref(),
        Some("cw-9")
    );
    assert_eq!(store.adopt_sink_names(&names).await.unwrap(), 2);
    assert_eq!(
        store.sink_ref(1, "cw").await.unwrap().as_deref(),
        Some("cw-9")
    );
    let jobs = store.jobs(None).await.unwrap();
    let sink = |status: &str| {
        let job = jobs.iter().find(|j| j.status == status).unwrap();
        job.payload["sink"].clone()
    };
    assert_eq!(sink("pending"), "team");
    assert_eq!(sink("dead"), 1, "dead letters are left as they were");
    assert_eq!(store.adopt_sink_names(&names).await.unwrap(), 0, "once");
}

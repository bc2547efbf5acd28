//! The writer thread's order, sharing and failure handling.

use super::*;
use crate::store::sqlite::failure::db_error;

#[tokio::test]
async fn a_panicking_write_is_an_error_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::open(&dir.path().join("w.db"), 0).unwrap();
    writer
        .run(|c| c.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)"))
        .await
        .unwrap()
        .unwrap();
    let panicked = writer
        .run_in(Turn::Alone, |c| {
            c.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
                .unwrap();
            panic!("a bug in a use case");
        })
        .await;
    assert!(panicked.unwrap_err().is_outage());
    // Its transaction was rolled back; the writer still writes, and a duplicate is a
    // unique violation the store recognises.
    let rows: i64 = writer
        .run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows, 0);
    let duplicate = writer
        .run(|c| {
            in_transaction(c, |c| {
                c.execute("INSERT INTO t VALUES (2)", [])?;
                c.execute("INSERT INTO t VALUES (2)", [])
            })
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(crate::store::rows::is_unique_violation(&db_error(
        duplicate
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_waiting_go_before_writes_queued_earlier() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::open(&dir.path().join("w.db"), 0).unwrap();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let queue = |turn: Turn, name: &'static str| {
        let (writer, order) = (writer.clone(), order.clone());
        let handle = tokio::spawn(async move {
            writer
                .run_in(turn, move |_| order.lock().unwrap().push(name))
                .await
        });
        // Long enough for the spawned task to have queued its work.
        std::thread::sleep(Duration::from_millis(50));
        handle
    };
    // Hold the writer thread while a worker's write and then a webhook group queue up.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (holding, hold) = std::sync::mpsc::channel::<()>();
    let busy = {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer
                .run(move |_| {
                    holding.send(()).unwrap();
                    held.recv().unwrap()
                })
                .await
        })
    };
    hold.recv().unwrap();
    let worker = queue(Turn::InOrder, "worker write");
    let webhooks = queue(Turn::First, "webhook group");
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();
    worker.await.unwrap().unwrap();
    webhooks.await.unwrap().unwrap();
    assert_eq!(*order.lock().unwrap(), ["webhook group", "worker write"]);
}

#[test]
fn work_queued_before_the_close_still_runs() {
    let (first, first_rx) = crossbeam_channel::unbounded::<Queued>();
    let (other, other_rx) = crossbeam_channel::unbounded::<Queued>();
    let nothing = || Queued {
        work: Box::new(|_| Box::new(|_| {})),
        shares: true,
    };
    other.send(nothing()).unwrap();
    other.send(nothing()).unwrap();
    drop((first, other));
    assert!(next_work(&first_rx, &other_rx).is_some());
    assert!(next_work(&first_rx, &other_rx).is_some());
    assert!(next_work(&first_rx, &other_rx).is_none());
}

/// Holds the writer thread (inside a shared transaction) until the returned sender is used
/// or dropped, so that the writes queued meanwhile are taken together.
async fn hold(writer: &Writer) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (holding, hold) = std::sync::mpsc::channel::<()>();
    let writer = writer.clone();
    let busy = tokio::spawn(async move {
        writer
            .run(move |_| {
                holding.send(()).unwrap();
                let _ = held.recv();
            })
            .await
            // A later write may take the shared transaction down with it.
            .ok();
    });
    hold.recv().unwrap();
    (release, busy)
}

/// A writer on a new file capped at `max_pages` (0: no cap), with `schema` created.
async fn writer_on(path: &Path, max_pages: u64, schema: &'static str) -> Writer {
    let writer = Writer::open(path, max_pages).unwrap();
    writer
        .run_in(Turn::Alone, move |c| c.execute_batch(schema))
        .await
        .unwrap()
        .unwrap();
    writer
}

fn count(path: &Path) -> i64 {
    let reader = Connection::open(path).unwrap();
    reader
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_together_share_a_commit_and_are_answered_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let writer = writer_on(&path, 0, "CREATE TABLE t (x INTEGER)").await;
    let (release, busy) = hold(&writer).await;
    let mut writes = Vec::new();
    for x in 0..6 {
        let writer = writer.clone();
        writes.push(tokio::spawn(async move {
            writer
                .run(move |c| {
                    let shared = !c.is_autocommit();
                    in_transaction(c, |c| c.execute("INSERT INTO t VALUES (?1)", [x]))?;
                    if x == 2 {
                        panic!("a bug in one use case of the batch");
                    }
                    Ok::<bool, rusqlite::Error>(shared)
                })
                .await
        }));
        // Queued in this order.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    release.send(()).unwrap();
    busy.await.unwrap();
    for (x, write) in writes.into_iter().enumerate() {
        let answer = write.await.unwrap();
        if x == 2 {
            assert!(answer.unwrap_err().is_outage(), "the panic is an error");
            continue;
        }
        assert!(
            answer.unwrap().unwrap(),
            "write {x} ran in the shared transaction"
        );
        // Answered only once committed: another connection sees it.
        let seen: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM t WHERE x = ?1", [x as i64], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(seen, 1, "write {x} is visible once answered");
    }
    // The panicking use case's own insert was rolled back, the others' kept.
    assert_eq!(count(&path), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_never_claims_a_write_a_full_database_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let schema = "CREATE TABLE t (x INTEGER); CREATE TABLE big (b BLOB)";
    let writer = writer_on(&path, 40, schema).await;
    let (release, busy) = hold(&writer).await;
    let small = |x: i64| {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer
                .run(move |c| c.execute("INSERT INTO t VALUES (?1)", [x]))
                .await
        })
    };
    let before = small(1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let filler = {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer
                .run(|c| {
                    // Past the 40-page cap: SQLITE_FULL.
                    c.execute("INSERT INTO big VALUES (zeroblob(400000))", [])
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after = small(2);
    tokio::time::sleep(Duration::from_millis(20)).await;
    release.send(()).unwrap();
    busy.await.unwrap();
    let full = filler.await.unwrap().unwrap().unwrap_err();
    assert!(StoreError::from(full).is_full());
    // Whatever SQLite rolled back, a write answered Ok is in the file and one that was not
    // answered Ok is not.
    let mut answered = 0;
    for write in [before, after] {
        if matches!(write.await.unwrap(), Ok(Ok(1))) {
            answered += 1;
        }
    }
    assert_eq!(count(&path), answered);
}

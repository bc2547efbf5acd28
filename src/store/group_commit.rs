//! Group commit of accepted webhooks, for both backends: every message that arrives while
//! the previous group is being written goes into the next transaction, so a burst of
//! webhooks costs one commit (one durable flush) per group instead of one per message. Each
//! webhook is acknowledged only once its group is durable (persist before ack); a redelivery
//! is told apart by the database (the unique message key), in the group or across groups.
//! A backend supplies the group's SQL (`commit_group`) and what makes it durable.

use super::StoreError;
use crate::domain::BuyerMessage;
use tokio::sync::{mpsc, oneshot};

/// Messages committed together in one transaction at most.
pub(super) const MAX_GROUP: usize = 256;

/// One webhook message waiting for the next group commit.
pub(super) struct AcceptRequest {
    pub shop: String,
    pub platform: String,
    pub message: BuyerMessage,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

/// The sending side, held by the store: one `accept` is one request.
#[derive(Clone)]
pub(super) struct Accepts(mpsc::Sender<AcceptRequest>);

/// A new queue of accepts, and its receiving side for the committer.
pub(super) fn channel() -> (Accepts, mpsc::Receiver<AcceptRequest>) {
    let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
    (Accepts(tx), rx)
}

impl Accepts {
    /// Queues the message for the next group and waits until its group is durable: whether
    /// the message was new.
    pub async fn accept(
        &self,
        shop: &str,
        platform: &str,
        message: &BuyerMessage,
    ) -> Result<bool, StoreError> {
        let (done, answer) = oneshot::channel();
        let request = AcceptRequest {
            shop: shop.to_string(),
            platform: platform.to_string(),
            message: message.clone(),
            done,
        };
        let gone = || StoreError::Unavailable("the store's committer has stopped".into());
        self.0.send(request).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The next group: the first request to arrive and every one already waiting behind it, up
/// to [`MAX_GROUP`]. None once every sender is gone.
pub(super) async fn next_group(
    queue: &mut mpsc::Receiver<AcceptRequest>,
) -> Option<Vec<AcceptRequest>> {
    let first = queue.recv().await?;
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(next) => group.push(next),
            Err(_) => break,
        }
    }
    Some(group)
}

/// A group's failure, kept per request (the error is not `Clone`): whether the disk was
/// full, and the message.
pub(super) struct Failed {
    pub full: bool,
    pub message: String,
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        Failed {
            full: e.is_full(),
            message: e.to_string(),
        }
    }
}

/// Answers every webhook of the group: each one's "was new" once durable, or the group's
/// failure (the platform redelivers; nothing was acknowledged).
pub(super) fn answer(group: Vec<AcceptRequest>, outcome: Result<Vec<bool>, Failed>) {
    match outcome {
        Ok(inserted) => {
            for (request, new) in group.into_iter().zip(inserted) {
                let _ = request.done.send(Ok(new));
            }
        }
        Err(Failed { full, message }) => {
            tracing::error!(%message, "group commit failed; the platform will redeliver");
            let message = format!("group commit failed: {message}");
            for request in group {
                let _ = request.done.send(Err(if full {
                    StoreError::Full(message.clone())
                } else {
                    StoreError::Unavailable(message.clone())
                }));
            }
        }
    }
}

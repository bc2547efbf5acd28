//! The webhooks the load sends: signed Taobao-style buyer messages, made one at a time or
//! prepared before a closed loop.

use anfu::config::TopSignMethod;
use anfu::standin::sign;
use std::sync::atomic::{AtomicU64, Ordering};

pub const APP_KEY: &str = "12345678";
pub const SECRET: &str = "bench-secret";
const TEXTS: &[&str] = &[
    "衣服开线了,质量太差,我要退货",
    "快递三天没动了,到底什么时候到啊",
    "收到的杯子碎了一个,麻烦补发",
    "请问这款有没有大一码的",
    "什么破东西!!!再不退款我就差评",
    "颜色和图片差太多了,要求退款",
];

static NEXT_ID: AtomicU64 = AtomicU64::new(1_000_000_000_000);

/// A signed webhook; `chars` > 0 makes the buyer's text that long (the texts repeated).
pub fn signed_request(base: &str, chars: usize) -> (String, String, Vec<u8>) {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let first = (id % TEXTS.len() as u64) as usize;
    let text: String = if chars == 0 {
        TEXTS[first].to_string()
    } else {
        TEXTS[first..]
            .iter()
            .chain(TEXTS.iter())
            .cycle()
            .flat_map(|t| t.chars().chain(['。']))
            .take(chars)
            .collect()
    };
    let content = serde_json::json!({"conversation_id": format!("c{id}"), "buyer_nick": "tb_bench",
        "text": text, "sent_at": "2026-11-05 14:03:21"});
    let body = serde_json::json!({"topic": "taobao_im_BuyerMessage", "msg_id": id.to_string(),
        "content": content.to_string()})
    .to_string()
    .into_bytes();
    let query = sign::taobao_query(APP_KEY, SECRET, TopSignMethod::HmacSha256, &body);
    (
        id.to_string(),
        format!("{base}/webhooks/taobao/bench?{query}"),
        body,
    )
}

/// Signed webhooks made before a closed loop starts, so that the loop's client sends
/// prepared requests to anfu as it does to the echo server: the ratio then compares the
/// servers, not the client's JSON and signing work on the same two cores. About what
/// `secs` of the fastest ack phase seen can send; past it the loop signs as it goes.
pub fn prepared(
    pick: &(dyn Fn() -> String + Send + Sync),
    chars: usize,
    secs: u64,
) -> Vec<(String, Vec<u8>)> {
    let n = (secs as usize * PREPARED_PER_SEC).min(400_000);
    (0..n)
        .map(|_| {
            let (_, url, body) = signed_request(&pick(), chars);
            (url, body)
        })
        .collect()
}

/// Requests prepared per second of a closed loop (anfu's acks have stayed under 20 000/s).
const PREPARED_PER_SEC: usize = 30_000;

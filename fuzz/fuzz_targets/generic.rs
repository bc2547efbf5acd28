#![no_main]
//! Generic (Standard Webhooks): verify on arbitrary id/timestamp/signature headers + body, and
//! parse on the body.
use anfu::platform::generic::{self, SignatureHeaders};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "shops.rs"]
mod shops;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    id: Option<&'a str>,
    timestamp: Option<&'a str>,
    signature: Option<&'a str>,
    body: &'a [u8],
}

fuzz_target!(|data: &[u8]| {
    // The whole input as a body, so JSON seeds reach parse as they are.
    let _ = generic::parse(data);
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let shop = shops::shop("gen");
    let headers = SignatureHeaders {
        id: input.id,
        timestamp: input.timestamp,
        signature: input.signature,
    };
    let _ = generic::verify(shop, &headers, input.body);
    let _ = generic::parse(input.body);
});

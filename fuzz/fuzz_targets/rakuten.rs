#![no_main]
//! Rakuten: verify on an arbitrary (or missing) Authorization header, and parse on the body.
use anfu::platform::rakuten;
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "shops.rs"]
mod shops;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    authorization: Option<&'a str>,
    body: &'a [u8],
}

fuzz_target!(|data: &[u8]| {
    // The whole input as a body, so JSON seeds reach parse as they are.
    let _ = rakuten::parse(data);
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let shop = shops::shop("rk");
    let _ = rakuten::verify(shop, input.authorization);
    if let Ok(messages) = rakuten::parse(input.body) {
        for m in &messages {
            let _ = rakuten::shop_id_of(&m.conversation_id);
        }
    }
});

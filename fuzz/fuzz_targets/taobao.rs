#![no_main]
//! Taobao: verify on an arbitrary query string + body, and parse on the body alone (verify
//! refuses almost everything, so parse must be reached directly too).
use anfu::platform::taobao;
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "shops.rs"]
mod shops;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    query: &'a str,
    body: &'a [u8],
}

fuzz_target!(|data: &[u8]| {
    // The whole input as a body, so JSON seeds reach parse as they are.
    let _ = taobao::parse(data);
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let shop = shops::shop("tb");
    if taobao::verify(shop, input.query, input.body).is_ok() {
        let _ = taobao::parse(input.body);
    }
    let _ = taobao::parse(input.body);
});

//! A well-formed WebAssembly component that is not a ferry plugin: it
//! exports `acme:widgets/render`, so installing it must be refused clearly.

wit_bindgen::generate!({ world: "widget", path: "wit" });

pub struct Widget;

impl exports::acme::widgets::render::Guest for Widget {
    fn render(input: String) -> String {
        input
    }
}

#[cfg(target_arch = "wasm32")]
export!(Widget);

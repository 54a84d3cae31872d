//! A bare Tauri window: the yardstick `tests/benches/window.rs` measures the desktop app against.
//! The same Tauri, WebKit, config and window size as Keyward, and none of Keyward: no vault, no
//! commands, no tray, no UI, a page that only marks when it has been painted. What the app costs
//! beyond this window (start-up time, memory) is Keyward's own.
//!
//!     cargo build --release -p keyward-desktop --example bare_window

/// The page: one paragraph, and the same `keyward:ready` mark the inventory sets once its rows
/// are painted, so one script reads both under WebDriver. Without it, the page reports the mark
/// to its protocol, which writes the line Keyward's shell logs for it (`window_started`). Served
/// by a protocol of its own (as Keyward's pages come from Tauri's), without a CSP, so its one
/// inline script runs.
const PAGE: &str = "<!doctype html><title>bare</title><p>A bare Tauri window.</p>\
<script>requestAnimationFrame(() => setTimeout(() => {\
const m = performance.mark('keyward:ready'), began = performance.timeOrigin;\
fetch(`bare://localhost/started?at=${began + m.startTime}&began=${began}`);\
}))</script>";

fn main() {
    let mut context = tauri::generate_context!("../tauri.conf.json");
    for window in &mut context.config_mut().app.windows {
        window.url = tauri::WebviewUrl::CustomProtocol("bare://localhost/".parse().expect("the bare page's URL"));
    }
    tauri::Builder::default()
        .register_uri_scheme_protocol("bare", |_, request| {
            if request.uri().path() == "/started" {
                let query = request.uri().query().unwrap_or_default().replace('&', " ");
                eprintln!("keyward_desktop::startup: Rows {query}");
            }
            tauri::http::Response::builder()
                .header("Content-Type", "text/html")
                .body(PAGE.as_bytes().to_vec())
                .expect("a response")
        })
        .run(context)
        .expect("the bare window runs");
}

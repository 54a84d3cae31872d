fn main() {
    // The config lives at the workspace root (the user's layout); paths inside it resolve from there.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json")).expect("tauri build");
}

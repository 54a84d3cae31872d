//! The .deb (issue 14): `scripts/package.sh` builds it with cargo-deb from the built binaries; it
//! holds the desktop app, the CLI, a desktop entry and the icon; unpacked, its own binary starts
//! and shows the first-run card in a real window (Xvfb), and its CLI runs.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use keyward_tests::Home;
use keyward_tests::webdriver::Session;

use crate::desktop::{prerequisites, start_driver};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn the_package_holds_the_app_its_entry_and_icon_and_its_binary_starts() {
    let Some(driver) = prerequisites() else { return };
    if Command::new("cargo").args(["deb", "--version"]).output().map(|o| !o.status.success()).unwrap_or(true) {
        assert!(
            std::env::var_os("KEYWARD_REQUIRE_E2E").is_none(),
            "cargo-deb is missing (scripts/install-deps.sh --test)"
        );
        eprintln!("skipped: cargo-deb is missing");
        return;
    }
    let _heavy = keyward_tests::heavy_test();
    let out = tempfile::tempdir().unwrap();
    // The debug binaries the test run already built: the same package, faster to make.
    let made = Command::new("bash")
        .arg(repo().join("scripts/package.sh"))
        .args(["--profile", "dev", "--output"])
        .arg(out.path())
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let deb = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(deb.ends_with(".deb"), "{deb}");

    let info = Command::new("dpkg-deb").args(["--info", &deb]).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Package: keyward"), "{info}");
    assert!(info.contains("libwebkit2gtk-4.1-0"), "its runtime libraries are declared: {info}");

    let root = out.path().join("root");
    let unpacked = Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root).status().unwrap();
    assert!(unpacked.success());
    let entry = std::fs::read_to_string(root.join("usr/share/applications/keyward.desktop")).unwrap();
    assert!(entry.contains("Exec=keyward-desktop") && entry.contains("Icon=keyward"), "{entry}");
    assert!(root.join("usr/share/icons/hicolor/256x256/apps/keyward.png").exists());
    let version = Command::new(root.join("usr/bin/keyward")).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("keyward"), "the packaged CLI runs");

    // The packaged app, started as the desktop entry would, on a new home: the first-run card.
    let home = Home::new();
    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &root.join("usr/bin/keyward-desktop")).expect("the packaged binary starts");
    app.wait_for("[data-testid=explore-demo]", Duration::from_secs(30)).unwrap();
}

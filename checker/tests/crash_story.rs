//! `checker verify` shows a power-loss test's crash story as the task's
//! failure, in place of the panic's first lines.
//!
//! The fixture course (`tests/fixtures/power-loss`) has one lesson whose
//! stub acknowledges a commit without syncing it; its test runs the log on
//! `simfs::SimFs` and panics with a `CrashStory`.

mod common;

use std::path::Path;
use std::process::Command;

use common::copy_dir;

#[test]
fn verify_tells_the_story_of_a_lost_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/power-loss");
    copy_dir(&fixture, dir.path());
    let simfs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../support/simfs");
    let simfs = simfs.canonicalize().expect("support/simfs exists");
    let manifest = dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read the fixture's manifest");
    let text = text.replace("SIMFS_PATH", simfs.to_str().expect("a UTF-8 path"));
    std::fs::write(&manifest, text).expect("point the fixture at simfs");

    let out = Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("--root")
        .arg(dir.path())
        .args(["verify", "01-log"])
        .env_remove("CARGO_TARGET_DIR")
        .env("NO_COLOR", "1")
        .output()
        .expect("run the checker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!(
        "{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the stub's task fails:\n{all}");
    for line in [
        "t1_every_commit_survives_a_power_cut:",
        "Power lost after op 3: write /data/log @0, 12 bytes.",
        "op 3: write /data/log @0, 12 bytes   <- the power was cut here",
        "Durable then: /data/log, 0 of 12 bytes (never synced).",
        "Lost: the first record, acknowledged at op 3, is missing after the power cut.",
        "Why: /data/log was never synced before the first record was acknowledged at op 3",
        "Likely fix: acknowledge a write only after a sync_data that follows it has returned.",
    ] {
        assert!(
            stdout.contains(line),
            "verify's output lacks {line:?}:\n{all}"
        );
    }
    assert!(
        !stdout.contains("panicked at"),
        "the story replaces the panic's location line:\n{all}"
    );
}

//! The simulated disk keeps exactly what was synced, and tells the story.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use simfs::{CrashStory, Fs, FsFile, OpenOptions, RealFs, SimFs};

fn p(path: &str) -> &Path {
    Path::new(path)
}

fn create(fs: &dyn Fs, path: &str) -> Box<dyn FsFile> {
    fs.open(
        p(path),
        OpenOptions::new().read(true).write(true).create(true),
    )
    .unwrap()
}

#[test]
fn unsynced_bytes_are_lost_and_synced_ones_kept() {
    let fs = SimFs::with_dirs(&["/db"]).unwrap();
    let mut file = create(&fs, "/db/a");
    fs.sync_dir(p("/db")).unwrap();
    file.write_all(b"one").unwrap();
    file.sync_data().unwrap();
    file.write_all(b"two").unwrap();
    assert_eq!(
        fs.read(p("/db/a")).unwrap(),
        b"onetwo",
        "reads see the page cache"
    );
    assert_eq!(fs.crash().read(p("/db/a")).unwrap(), b"one");
}

#[test]
fn a_new_name_needs_a_directory_sync() {
    let fs = SimFs::with_dirs(&["/db"]).unwrap();
    let file = create(&fs, "/db/a");
    file.sync_all().unwrap();
    assert!(
        !fs.crash().exists(p("/db/a")).unwrap(),
        "the name was never synced"
    );
    fs.sync_dir(p("/db")).unwrap();
    assert!(fs.crash().exists(p("/db/a")).unwrap());
}

#[test]
fn a_new_directory_needs_its_parent_synced() {
    let fs = SimFs::new();
    fs.create_dir(p("/db")).unwrap();
    create(&fs, "/db/a");
    fs.sync_dir(p("/db")).unwrap();
    assert!(!fs.crash().exists(p("/db")).unwrap());
    fs.sync_dir(p("/")).unwrap();
    assert!(fs.crash().exists(p("/db/a")).unwrap());
}

#[test]
fn a_rename_is_durable_only_after_a_directory_sync() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    let mut old = create(&fs, "/d/target");
    old.write_all(b"old").unwrap();
    old.sync_all().unwrap();
    fs.sync_dir(p("/d")).unwrap();
    let mut new = create(&fs, "/d/tmp");
    new.write_all(b"new").unwrap();
    new.sync_all().unwrap();
    fs.rename(p("/d/tmp"), p("/d/target")).unwrap();
    assert_eq!(fs.read(p("/d/target")).unwrap(), b"new");
    let crashed = fs.crash();
    assert_eq!(crashed.read(p("/d/target")).unwrap(), b"old");
    assert!(
        !crashed.exists(p("/d/tmp")).unwrap(),
        "tmp was never durable"
    );
    fs.sync_dir(p("/d")).unwrap();
    let crashed = fs.crash();
    assert_eq!(crashed.read(p("/d/target")).unwrap(), b"new");
    assert_eq!(
        crashed.read_dir(p("/d")).unwrap(),
        vec!["target".to_owned()]
    );
}

#[test]
fn a_rename_of_an_unsynced_file_can_publish_an_empty_file() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    let mut new = create(&fs, "/d/tmp");
    new.write_all(b"new").unwrap();
    fs.rename(p("/d/tmp"), p("/d/target")).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    assert_eq!(fs.crash().read(p("/d/target")).unwrap(), b"");
}

#[test]
fn a_failed_sync_loses_its_data_for_good() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    let mut file = create(&fs, "/d/a");
    fs.sync_dir(p("/d")).unwrap();
    file.write_all(b"lost").unwrap();
    fs.fail_sync(1);
    let error = file.sync_data().unwrap_err();
    assert_eq!(error.raw_os_error(), Some(5), "{error}");
    file.sync_data().unwrap();
    assert_eq!(
        fs.read(p("/d/a")).unwrap(),
        b"lost",
        "the cache still has it"
    );
    assert_eq!(
        fs.crash().read(p("/d/a")).unwrap(),
        b"",
        "the disk does not"
    );
}

#[test]
fn enospc_and_short_writes() {
    let fs = SimFs::new();
    let mut file = create(&fs, "/a");
    fs.fail_write(2);
    file.write_all(b"ok").unwrap();
    assert_eq!(file.write(b"no").unwrap_err().raw_os_error(), Some(28));
    fs.short_writes(3);
    assert_eq!(file.write(b"abcdef").unwrap(), 3);
    file.write_all(b"xyz").unwrap();
    assert_eq!(fs.read(p("/a")).unwrap(), b"okabcxyz");
}

#[test]
fn positions_append_seek_and_pwrite_behave_like_std() {
    let fs = SimFs::new();
    let mut file = create(&fs, "/a");
    file.write_all(b"hello world").unwrap();
    file.seek(SeekFrom::Start(6)).unwrap();
    let mut word = String::new();
    file.read_to_string(&mut word).unwrap();
    assert_eq!(word, "world");
    file.write_all_at(b"W", 6).unwrap();
    let mut appender = fs.open(p("/a"), OpenOptions::new().append(true)).unwrap();
    appender.write_all(b"!").unwrap();
    appender.write_all_at(b"?", 0).unwrap();
    assert_eq!(fs.read(p("/a")).unwrap(), b"hello World!?");
    file.set_len(5).unwrap();
    assert_eq!(file.len().unwrap(), 5);
    let mut buf = [0u8; 5];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"hello");
}

#[test]
fn the_same_option_mistakes_fail_on_both_disks() {
    let dir = tempfile::tempdir().unwrap();
    let real = RealFs;
    let sim = SimFs::new();
    let cases = [
        *OpenOptions::new().read(true).create(true),
        OpenOptions::new(),
        *OpenOptions::new().write(true),
    ];
    for options in cases {
        let on_real = real.open(&dir.path().join("x"), &options).is_ok();
        let on_sim = sim.open(p("/x"), &options).is_ok();
        assert_eq!(on_real, on_sim, "{options:?}");
    }
    create(&sim, "/x");
    let new = *OpenOptions::new().write(true).create_new(true);
    assert!(sim.open(p("/x"), &new).is_err());
    assert!(real.open(&dir.path().join("y"), &new).is_ok());
    assert!(real.open(&dir.path().join("y"), &new).is_err());
}

#[test]
fn the_real_disk_does_what_std_does() {
    let dir = tempfile::tempdir().unwrap();
    let fs = RealFs;
    let path = dir.path().join("sub/file");
    fs.create_dir_all(&dir.path().join("sub")).unwrap();
    let mut file = create(&fs, path.to_str().unwrap());
    file.write_all(b"abc").unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(&dir.path().join("sub")).unwrap();
    fs.rename(&path, &dir.path().join("sub/moved")).unwrap();
    assert_eq!(fs.read_dir(&dir.path().join("sub")).unwrap(), vec!["moved"]);
    assert_eq!(fs.len(&dir.path().join("sub/moved")).unwrap(), 3);
    fs.remove_file(&dir.path().join("sub/moved")).unwrap();
    assert!(!fs.exists(&dir.path().join("sub/moved")).unwrap());
}

#[test]
fn the_power_cut_stops_every_later_operation() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    fs.cut_power_after(2);
    let mut file = create(&fs, "/d/a");
    file.write_all(b"x").unwrap();
    assert!(file.write_all(b"y").is_err());
    assert!(file.sync_data().is_err());
    assert_eq!(fs.read(p("/d/a")).unwrap(), b"x", "reads still work");
    assert_eq!(fs.op_count(), 2);
    assert!(fs.power_is_cut());
}

#[test]
fn torn_crashes_keep_sector_aligned_prefixes_and_are_seeded() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    let mut file = create(&fs, "/d/a");
    fs.sync_dir(p("/d")).unwrap();
    let written: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8 + 1).collect();
    file.write_all(&written).unwrap();
    let mut lengths = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let bytes = fs.crash_torn(seed).read(p("/d/a")).unwrap();
        assert_eq!(
            bytes,
            fs.crash_torn(seed).read(p("/d/a")).unwrap(),
            "seeded"
        );
        assert!(bytes.len().is_multiple_of(512) || bytes.len() == written.len());
        let zeroed = bytes.iter().all(|b| *b == 0);
        assert!(
            zeroed || bytes == written[..bytes.len()],
            "a prefix, or zeros"
        );
        lengths.insert(bytes.len());
    }
    assert_eq!(
        lengths.into_iter().collect::<Vec<_>>(),
        vec![0, 512, 1024, 1536, 2000],
        "every cut is reachable"
    );
}

#[test]
fn the_story_names_the_missing_sync() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    let mut log = create(&fs, "/d/log");
    fs.sync_dir(p("/d")).unwrap();
    log.write_all(b"first").unwrap();
    log.sync_data().unwrap();
    log.write_all(b"second").unwrap();
    let acked = fs.op_count();
    log.write_all(b"third").unwrap();
    let story = CrashStory::new(&fs)
        .of(9)
        .lost("record 2", "/d/log", acked)
        .render();
    assert!(
        story.starts_with("Power lost after op 6 of 9: write /d/log @11, 5 bytes."),
        "{story}"
    );
    assert!(
        story.contains("Durable then: /d/log, 5 of 16 bytes (last synced at op 4)."),
        "{story}"
    );
    assert!(
        story.contains("Lost: record 2, acknowledged at op 5"),
        "{story}"
    );
    assert!(
        story.contains("last synced at op 4, but the bytes written at op 5"),
        "{story}"
    );
}

#[test]
fn the_story_names_the_missing_directory_sync() {
    let fs = SimFs::with_dirs(&["/d"]).unwrap();
    let mut log = create(&fs, "/d/log");
    log.write_all(b"first").unwrap();
    log.sync_data().unwrap();
    let acked = fs.op_count();
    let story = CrashStory::new(&fs)
        .lost("record 1", "/d/log", acked)
        .render();
    assert!(story.contains("no file named /d/log"), "{story}");
    assert!(story.contains("sync the directory"), "{story}");
}

#[test]
fn locks_belong_to_an_open_file_and_die_with_it() {
    let fs = SimFs::new();
    let first = create(&fs, "/LOCK");
    assert!(first.try_lock().unwrap());
    let clone = first.try_clone().unwrap();
    assert!(clone.try_lock().unwrap(), "a clone shares the open file");
    let second = create(&fs, "/LOCK");
    assert!(!second.try_lock().unwrap(), "another open file is refused");
    drop(first);
    assert!(!second.try_lock().unwrap(), "the clone still holds it");
    drop(clone);
    assert!(
        second.try_lock().unwrap(),
        "closing every handle releases it"
    );
    second.unlock().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("LOCK");
    let real = create(&RealFs, path.to_str().unwrap());
    assert!(real.try_lock().unwrap());
    assert!(!create(&RealFs, path.to_str().unwrap()).try_lock().unwrap());
}

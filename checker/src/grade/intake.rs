//! Taking submissions in: one folder, `.zip` or `.tar.gz` per student,
//! unpacked safely, and the student's `exercises/` located inside it.
//!
//! Archives are untrusted: entries that would land outside the target
//! (absolute paths, `..`), links and special files are skipped, and the
//! total size and entry count are capped.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Largest total of unpacked bytes per submission.
const MAX_UNPACKED_BYTES: u64 = 256 << 20;
/// Most entries per archive.
const MAX_ENTRIES: usize = 50_000;

/// One student's submission as found in the submissions folder.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The student's name: the folder's name, or the archive's without its extension.
    pub student: String,
    pub path: PathBuf,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Zip,
    TarGz,
}

/// Every submission in `dir`, sorted by student. Other files are reported
/// on stderr and skipped.
pub fn discover(dir: &Path) -> Result<Vec<Submission>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the submissions folder {}", dir.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let submission = if path.is_dir() {
            Some((name.clone(), Kind::Folder))
        } else if let Some(stem) = name.strip_suffix(".zip") {
            Some((stem.to_string(), Kind::Zip))
        } else if let Some(stem) = name
            .strip_suffix(".tar.gz")
            .or_else(|| name.strip_suffix(".tgz"))
        {
            Some((stem.to_string(), Kind::TarGz))
        } else {
            eprintln!("skipping {}: not a folder, .zip or .tar.gz", path.display());
            None
        };
        if let Some((student, kind)) = submission {
            found.push(Submission {
                student,
                path,
                kind,
            });
        }
    }
    // Names that read the same (two non-UTF-8 names with one lossy
    // spelling, `ada` and `ada.zip`) are kept apart with a suffix.
    found.sort_by(|a, b| (&a.student, &a.path).cmp(&(&b.student, &b.path)));
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for submission in &mut found {
        let count = seen.entry(submission.student.clone()).or_default();
        *count += 1;
        if *count > 1 {
            eprintln!(
                "note: two submissions read as student `{}`; {} is graded as `{}~{count}`",
                submission.student,
                submission.path.display(),
                submission.student
            );
            submission.student = format!("{}~{count}", submission.student);
        }
    }
    Ok(found)
}

/// The submission's files on disk: the folder itself, or the archive
/// unpacked into `scratch` (emptied first).
pub fn unpack(submission: &Submission, scratch: &Path) -> Result<PathBuf> {
    if submission.kind == Kind::Folder {
        return Ok(submission.path.clone());
    }
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)
            .with_context(|| format!("cannot clear {}", scratch.display()))?;
    }
    std::fs::create_dir_all(scratch)?;
    let file = File::open(&submission.path)
        .with_context(|| format!("cannot open {}", submission.path.display()))?;
    match submission.kind {
        Kind::Zip => unzip(file, scratch),
        Kind::TarGz => untar(file, scratch),
        Kind::Folder => unreachable!("handled above"),
    }
    .with_context(|| format!("cannot unpack {}", submission.path.display()))?;
    Ok(scratch.to_path_buf())
}

/// Every symbolic link inside `dir`, relative to it, found without
/// following any.
pub fn links(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, path: &Path, found: &mut Vec<PathBuf>) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() {
            let relative = path.strip_prefix(root).unwrap_or(path);
            found.push(if relative.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                relative.to_path_buf()
            });
        } else if meta.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(root, &entry.path(), found);
            }
        }
    }
    // The submissions folder is the instructor's: a link naming a whole
    // submission (Gradescope's `run_autograder` makes one) is followed.
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut found = Vec::new();
    walk(&root, &root, &mut found);
    found.sort();
    found
}

/// A relative path made only of normal components, or `None`.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!clean.as_os_str().is_empty()).then_some(clean)
}

/// Writes one unpacked file, counting bytes against the cap.
fn write_entry(
    target: &Path,
    relative: &Path,
    mut reader: impl Read,
    budget: &mut u64,
) -> Result<()> {
    let path = target.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut out =
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let copied = std::io::copy(&mut (&mut reader).take(*budget + 1), &mut out)?;
    if copied > *budget {
        bail!(
            "the archive unpacks to more than {} MiB",
            MAX_UNPACKED_BYTES >> 20
        );
    }
    *budget -= copied;
    Ok(())
}

fn unzip(file: File, target: &Path) -> Result<()> {
    let mut archive = zip::ZipArchive::new(file)?;
    if archive.len() > MAX_ENTRIES {
        bail!("the archive has more than {MAX_ENTRIES} entries");
    }
    let mut budget = MAX_UNPACKED_BYTES;
    for i in 0..archive.len() {
        let entry = archive.by_index(i)?;
        let is_link = entry
            .unix_mode()
            .is_some_and(|mode| mode & 0o170000 == 0o120000);
        let Some(relative) = entry.enclosed_name().and_then(|p| safe_relative(&p)) else {
            continue;
        };
        if entry.is_dir() || is_link {
            continue;
        }
        write_entry(target, &relative, entry, &mut budget)?;
    }
    Ok(())
}

fn untar(file: File, target: &Path) -> Result<()> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut budget = MAX_UNPACKED_BYTES;
    for (count, entry) in archive.entries()?.enumerate() {
        if count >= MAX_ENTRIES {
            bail!("the archive has more than {MAX_ENTRIES} entries");
        }
        let entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let Some(relative) = safe_relative(&entry.path()?) else {
            continue;
        };
        write_entry(target, &relative, entry, &mut budget)?;
    }
    Ok(())
}

/// The folder in the submission that holds the lesson folders: one named
/// `exercises` if there is one, else the shallowest folder holding a
/// `<lesson>/src`. A `solutions` folder never counts.
pub fn find_exercises(dir: &Path, lesson_ids: &[&str]) -> Option<PathBuf> {
    let holds_lessons = |d: &Path| lesson_ids.iter().any(|id| d.join(id).join("src").is_dir());
    let mut level = vec![dir.to_path_buf()];
    for _depth in 0..4 {
        let named = level
            .iter()
            .find(|d| d.file_name().is_some_and(|n| n == "exercises") && holds_lessons(d));
        if let Some(found) = named.or_else(|| level.iter().find(|d| holds_lessons(d))) {
            return Some(found.clone());
        }
        let mut next = Vec::new();
        for d in &level {
            let Ok(entries) = std::fs::read_dir(d) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let skip = name.to_string_lossy().starts_with('.')
                    || name == "target"
                    || name == "solutions";
                if !skip && entry.file_type().is_ok_and(|t| t.is_dir()) {
                    next.push(entry.path());
                }
            }
        }
        next.sort();
        level = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn finds_exercises_in_a_repo_copy_a_bare_copy_or_a_nested_folder() {
        let root = tempfile::tempdir().unwrap();
        for layout in [
            "repo/exercises/01-threads/src",
            "bare/01-threads/src",
            "nested/top/exercises/01-threads/src",
        ] {
            std::fs::create_dir_all(root.path().join(layout)).unwrap();
        }
        std::fs::create_dir_all(root.path().join("repo/solutions/01-threads/src")).unwrap();
        let ids = ["01-threads"];
        assert_eq!(
            find_exercises(&root.path().join("repo"), &ids).unwrap(),
            root.path().join("repo/exercises")
        );
        assert_eq!(
            find_exercises(&root.path().join("bare"), &ids).unwrap(),
            root.path().join("bare")
        );
        assert_eq!(
            find_exercises(&root.path().join("nested"), &ids).unwrap(),
            root.path().join("nested/top/exercises")
        );
        std::fs::create_dir_all(root.path().join("empty/x")).unwrap();
        assert!(find_exercises(&root.path().join("empty"), &ids).is_none());
    }

    #[test]
    fn discovers_folders_and_archives_by_student() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("ada")).unwrap();
        std::fs::write(root.path().join("bob.zip"), b"").unwrap();
        std::fs::write(root.path().join("cy.tar.gz"), b"").unwrap();
        std::fs::write(root.path().join("notes.txt"), b"").unwrap();
        let found = discover(root.path()).unwrap();
        let names: Vec<(&str, Kind)> = found.iter().map(|s| (s.student.as_str(), s.kind)).collect();
        assert_eq!(
            names,
            [
                ("ada", Kind::Folder),
                ("bob", Kind::Zip),
                ("cy", Kind::TarGz)
            ]
        );
    }

    #[test]
    fn colliding_names_are_kept_apart() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("ada")).unwrap();
        std::fs::write(root.path().join("ada.zip"), b"").unwrap();
        let names: Vec<String> = discover(root.path())
            .unwrap()
            .into_iter()
            .map(|s| s.student)
            .collect();
        assert_eq!(names, ["ada", "ada~2"]);
    }

    #[test]
    fn unzips_safely_skipping_escaping_entries() {
        let root = tempfile::tempdir().unwrap();
        let zip_path = root.path().join("eve.zip");
        let mut writer = zip::ZipWriter::new(File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        writer
            .start_file("exercises/01-threads/src/lib.rs", options)
            .unwrap();
        writer.write_all(b"pub fn f() {}").unwrap();
        writer.start_file("../escape.txt", options).unwrap();
        writer.write_all(b"nope").unwrap();
        writer.finish().unwrap();
        let submission = Submission {
            student: "eve".into(),
            path: zip_path,
            kind: Kind::Zip,
        };
        let out = unpack(&submission, &root.path().join("unpacked")).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("exercises/01-threads/src/lib.rs")).unwrap(),
            "pub fn f() {}"
        );
        assert!(!root.path().join("escape.txt").exists());
    }

    #[test]
    fn untars_regular_files_only() {
        let root = tempfile::tempdir().unwrap();
        let tar_path = root.path().join("cy.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            File::create(&tar_path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(gz);
        let data = b"pub fn g() {}";
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "cy/exercises/01-threads/src/lib.rs", &data[..])
            .unwrap();
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        link.set_cksum();
        builder
            .append_link(&mut link, "cy/evil", "/etc/passwd")
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();
        let submission = Submission {
            student: "cy".into(),
            path: tar_path,
            kind: Kind::TarGz,
        };
        let out = unpack(&submission, &root.path().join("unpacked")).unwrap();
        assert!(out.join("cy/exercises/01-threads/src/lib.rs").is_file());
        assert!(!out.join("cy/evil").exists());
    }

    #[test]
    fn rejects_unsafe_relative_paths() {
        assert_eq!(
            safe_relative(Path::new("a/./b")),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(safe_relative(Path::new("../a")), None);
        assert_eq!(safe_relative(Path::new("/etc/passwd")), None);
    }
}

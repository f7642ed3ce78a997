//! `kv`: a command-line client for the lesson 11 store.
//!
//! ```sh
//! cargo run -p engine-solution --bin kv -- put apple red
//! cargo run -p engine-solution --bin kv -- get apple
//! cargo run -p engine-solution --bin kv -- scan a z
//! cargo run -p engine-solution --bin kv -- stats
//! cargo run -p engine-solution --bin kv -- bench --ops 20000 --threads 4
//! ```
//!
//! The store lives in `./kv-data` unless `--dir` says otherwise, and every
//! command opens it, does its work and closes it, so the data round-trips
//! across runs. A second `kv` on the same directory while one runs gets a
//! clear "locked" error.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use clap::{Parser, Subcommand};
use engine::{Config, Db, DbError, Show, WritePath};

/// A small LSM key-value store on a directory.
#[derive(Debug, Parser)]
#[command(name = "kv", version, about)]
struct Cli {
    /// The store's directory (created if it does not exist).
    #[arg(long, global = true, default_value = "kv-data")]
    dir: PathBuf,
    /// Use the single-writer path (group commit) instead of the locked one.
    #[arg(long, global = true)]
    single_writer: bool,
    /// Acknowledge writes once the kernel has them, without fdatasync.
    #[arg(long, global = true)]
    no_sync: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sets KEY to VALUE.
    Put { key: String, value: String },
    /// Prints the value of KEY (exit status 1 if it has none).
    Get { key: String },
    /// Deletes KEY.
    Delete { key: String },
    /// Prints every key and value from FROM (inclusive) to TO (exclusive).
    Scan {
        from: Option<String>,
        to: Option<String>,
    },
    /// Prints the store's shape: memtable, tables, flushes, compactions.
    Stats,
    /// Flushes the memtable and merges every SSTable into one.
    Compact,
    /// Writes OPS keys from THREADS threads, reads them back, and prints
    /// the throughput. Uses keys `bench-...`; run it on a scratch `--dir`.
    Bench {
        #[arg(long, default_value_t = 20_000)]
        ops: usize,
        #[arg(long, default_value_t = 4)]
        threads: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = io::stdout().lock();
    match run(cli, &mut out) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kv: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command, writing its output to `out`.
fn run(cli: Cli, out: &mut dyn Write) -> Result<ExitCode, DbError> {
    let config = Config {
        write_path: if cli.single_writer {
            WritePath::SingleWriter
        } else {
            WritePath::Locked
        },
        sync_writes: !cli.no_sync,
        ..Config::default()
    };
    let db = Db::open(&cli.dir, config)?;
    let mut code = ExitCode::SUCCESS;
    match cli.command {
        Command::Put { key, value } => db.put(key.as_bytes(), value.as_bytes())?,
        Command::Get { key } => match db.get(key.as_bytes())? {
            Some(value) => writeln!(out, "{}", String::from_utf8_lossy(&value))?,
            None => {
                eprintln!("kv: {key:?} not found");
                code = ExitCode::from(1);
            }
        },
        Command::Delete { key } => db.delete(key.as_bytes())?,
        Command::Scan { from, to } => {
            let from = from.map(String::into_bytes).unwrap_or_default();
            let pairs = match to {
                Some(to) => db.scan(from..to.into_bytes())?,
                None => db.scan(from..)?,
            };
            for (k, v) in pairs {
                writeln!(out, "{}\t{}", Show(&k), Show(&v))?;
            }
        }
        Command::Stats => {
            let s = db.stats()?;
            writeln!(out, "directory        {}", cli.dir.display())?;
            writeln!(out, "write path       {:?}", s.write_path)?;
            writeln!(out, "memtable bytes   {}", s.memtable_bytes)?;
            writeln!(out, "frozen memtables {}", s.frozen_memtables)?;
            writeln!(out, "sstables         {}", s.tables)?;
            writeln!(out, "sstable bytes    {}", s.table_bytes)?;
            writeln!(out, "sstable entries  {}", s.table_entries)?;
        }
        Command::Compact => db.compact()?,
        Command::Bench { ops, threads } => bench(Arc::new(db), ops, threads.max(1), out)?,
    }
    Ok(code)
}

/// The `bench` command.
fn bench(db: Arc<Db>, ops: usize, threads: usize, out: &mut dyn Write) -> Result<(), DbError> {
    let per = ops.div_ceil(threads);
    let key = |t: usize, i: usize| format!("bench-{t:02}-{i:09}").into_bytes();
    let started = Instant::now();
    thread::scope(|s| -> Result<(), DbError> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let db = &db;
                s.spawn(move || -> Result<(), DbError> {
                    for i in 0..per {
                        db.put(&key(t, i), &[b'v'; 100])?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| DbError::Poisoned)??;
        }
        Ok(())
    })?;
    let put_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut found = 0;
    for t in 0..threads {
        for i in 0..per {
            found += usize::from(db.get(&key(t, i))?.is_some());
        }
    }
    let get_secs = started.elapsed().as_secs_f64();
    let total = per * threads;
    let stats = db.stats()?;
    writeln!(
        out,
        "put: {total} keys from {threads} threads in {put_secs:.2} s = {:.0} puts/s ({:?} path, {} syncs)",
        total as f64 / put_secs,
        stats.write_path,
        stats.wal_syncs
    )?;
    writeln!(
        out,
        "get: {found} of {total} keys found in {get_secs:.2} s = {:.0} gets/s (1 thread)",
        total as f64 / get_secs
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The CLI, run as separate processes: this test binary runs itself
    //! again (`--exact tests::child --ignored`) with the CLI's arguments in
    //! an environment variable, so that each command really is a new
    //! process that opens the store from disk.

    use std::env;
    use std::process::Command;

    use super::*;

    const ARGS_ENV: &str = "KV_TEST_ARGS";

    /// Runs `kv ARGS` in a new process; its status and stdout.
    fn kv(args: &[&str]) -> (bool, String) {
        let output = Command::new(env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "tests::child",
                "--ignored",
                "--nocapture",
                "--quiet",
            ])
            .env(ARGS_ENV, args.join("\u{1f}"))
            .output()
            .expect("run the child");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let status_line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("kv-exit: "))
            .map(str::trim)
            .map(String::from);
        (
            status_line.as_deref() == Some("0"),
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("kv-out: "))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    #[test]
    fn put_then_get_in_new_processes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().to_str().expect("utf-8 path");
        assert!(kv(&["kv", "--dir", d, "put", "apple", "red"]).0, "put");
        assert!(kv(&["kv", "--dir", d, "put", "banana", "yellow"]).0, "put");
        assert_eq!(
            kv(&["kv", "--dir", d, "get", "apple"]),
            (true, "red".to_string()),
            "a value put by one process is read back by another"
        );
        assert!(kv(&["kv", "--dir", d, "delete", "apple"]).0, "delete");
        assert!(
            !kv(&["kv", "--dir", d, "get", "apple"]).0,
            "get of a deleted key exits with status 1"
        );
        assert!(kv(&["kv", "--dir", d, "--single-writer", "put", "cherry", "dark"]).0);
        assert_eq!(
            kv(&["kv", "--dir", d, "scan"]),
            (
                true,
                "\"banana\"\t\"yellow\"\n\"cherry\"\t\"dark\"".to_string()
            ),
            "scan lists every live pair in key order"
        );
        let (ok, stats) = kv(&["kv", "--dir", d, "stats"]);
        assert!(ok && stats.contains("sstables"), "stats: {stats}");
    }

    /// The child process of the test above: runs the CLI with the
    /// arguments from the environment and prints what it wrote.
    #[test]
    #[ignore = "entry point of the CLI test's child process"]
    fn child() {
        let Ok(args) = env::var(ARGS_ENV) else { return };
        let cli = Cli::parse_from(args.split('\u{1f}'));
        let mut out = Vec::new();
        let code = match run(cli, &mut out) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("kv: {e}");
                ExitCode::FAILURE
            }
        };
        for line in String::from_utf8_lossy(&out).lines() {
            println!("kv-out: {line}");
        }
        println!("kv-exit: {}", if code == ExitCode::SUCCESS { 0 } else { 1 });
    }
}

//! `downloader-solution`: download URLs concurrently, with progress bars.
//!
//! ```sh
//! cargo run -p downloader-solution -- URL... --out DIR --jobs 4 \
//!     [--limit-rate 1M] [--sha256 URL=HEX] [--retries 4] [--timeout 30] [--no-resume]
//! cargo run -p downloader-solution -- check URL... [--concurrency 10] [--timeout 5]
//! ```
//!
//! Try it against the lesson's fault server:
//! `cargo run -p fault-server --example serve` prints URLs to use.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use downloader::{CheckOptions, Config, Event, Job, RetryPolicy, check_urls, download_all};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Download files over HTTP, several at once, with retries, resume,
/// checksums and a bandwidth limit.
#[derive(Debug, Parser)]
#[command(
    name = "downloader-solution",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    get: GetArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check whether URLs are up (200 OK), and how fast they answer.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct GetArgs {
    /// The URLs to download (http:// only).
    #[arg(required = true)]
    urls: Vec<String>,
    /// The directory to save into (created if missing).
    #[arg(short, long, default_value = ".")]
    out: PathBuf,
    /// How many downloads run at once.
    #[arg(short, long, default_value_t = 4)]
    jobs: usize,
    /// Total bandwidth limit in bytes per second, such as 500K, 2M or 1G.
    #[arg(long, value_parser = parse_rate)]
    limit_rate: Option<u64>,
    /// The SHA-256 a download must have, as URL=HEX (may be repeated).
    #[arg(long = "sha256", value_name = "URL=HEX", value_parser = parse_checksum)]
    checksums: Vec<(String, String)>,
    /// Attempts per download, the first included.
    #[arg(long, default_value_t = 4)]
    retries: u32,
    /// Seconds the server may stay silent before a download times out.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Start over instead of continuing .part files.
    #[arg(long)]
    no_resume: bool,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The URLs to check.
    #[arg(required = true)]
    urls: Vec<String>,
    /// How many checks run at once.
    #[arg(short, long, default_value_t = 10)]
    concurrency: usize,
    /// Seconds each check may take.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Check(args)) => check(&args),
        None => get(cli.get),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Parses `500`, `500K`, `2M`, `1.5G` (powers of 1024) into bytes per second.
fn parse_rate(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let scale: f64 = match unit.to_ascii_uppercase().trim_end_matches("/S") {
        "" | "B" => 1.0,
        "K" | "KB" | "KIB" => 1024.0,
        "M" | "MB" | "MIB" => 1024.0 * 1024.0,
        "G" | "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown unit `{other}` (use K, M or G)")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a rate such as 500K or 2M"))?;
    let rate = value * scale;
    if !(rate >= 1.0 && rate.is_finite()) {
        return Err(format!("`{text}` is not a positive rate"));
    }
    Ok(rate as u64)
}

/// Parses `URL=HEX` with a 64-digit hex SHA-256.
fn parse_checksum(text: &str) -> Result<(String, String), String> {
    let (url, hex) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("`{text}` is not URL=HEX"))?;
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("`{hex}` is not a SHA-256 (64 hex digits)"));
    }
    Ok((url.to_string(), hex.to_ascii_lowercase()))
}

fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("{what} must be a positive number of seconds"))
}

/// The file name a URL is saved under: its last path segment, or
/// `index.html` if it has none.
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = path.split_once("://").map_or(path, |(_, rest)| {
        rest.split_once('/').map_or("", |(_, p)| p)
    });
    match after_host.rsplit('/').next().unwrap_or("") {
        "" => "index.html".to_string(),
        "." | ".." => "download".to_string(),
        name => name.to_string(),
    }
}

fn make_jobs(args: &GetArgs) -> Result<Vec<Job>, String> {
    let mut checksums: HashMap<&str, &str> = HashMap::new();
    for (url, hex) in &args.checksums {
        if !args.urls.contains(url) {
            return Err(format!("--sha256 names {url}, which is not among the URLs"));
        }
        checksums.insert(url, hex);
    }
    let mut names = HashSet::new();
    let mut jobs = Vec::new();
    for url in &args.urls {
        let name = file_name(url);
        if !names.insert(name.clone()) {
            return Err(format!(
                "two URLs would both be saved as {name}; download them in separate runs"
            ));
        }
        let mut job = Job::new(url.clone(), args.out.join(&name));
        if let Some(hex) = checksums.get(url.as_str()) {
            job = job.with_sha256(*hex);
        }
        jobs.push(job);
    }
    Ok(jobs)
}

fn get(args: GetArgs) -> Result<ExitCode, String> {
    let jobs = make_jobs(&args)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let (tx, rx) = mpsc::channel();
    let config = Config {
        jobs: args.jobs,
        retry: RetryPolicy {
            max_attempts: args.retries,
            ..RetryPolicy::default()
        },
        timeout: seconds(args.timeout, "--timeout")?,
        rate_limit: args.limit_rate,
        resume: !args.no_resume,
        progress: Some(tx),
        ..Config::default()
    };

    let bars = Bars::new(&jobs);
    let started = Instant::now();
    let results = thread::scope(|scope| {
        let jobs = &jobs;
        // The worker owns `config`, and with it the last sender: when the
        // downloads end, the channel closes and the loop below ends.
        let worker = scope.spawn(move || download_all(jobs, &config));
        for event in rx {
            bars.show(&event);
        }
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    let elapsed = started.elapsed();

    let (mut ok, mut failed, mut bytes) = (0, 0, 0u64);
    for (job, result) in jobs.iter().zip(&results) {
        match result {
            Ok(done) => {
                ok += 1;
                bytes += done.bytes;
                let resumed = if done.resumed_from > 0 {
                    format!(", resumed at {}", human(done.resumed_from))
                } else {
                    String::new()
                };
                println!(
                    "ok    {} ({}{resumed}, {} attempt(s))",
                    job.dest.display(),
                    human(done.bytes),
                    done.attempts
                );
            }
            Err(e) => {
                failed += 1;
                println!("FAIL  {}: {e}", job.url);
            }
        }
    }
    println!(
        "\n{ok} downloaded, {failed} failed; {} in {:.2} s ({}/s)",
        human(bytes),
        elapsed.as_secs_f64(),
        human((bytes as f64 / elapsed.as_secs_f64().max(1e-9)) as u64)
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One progress bar per job: the file name, the bar, and a status message.
struct Bars {
    bars: Vec<ProgressBar>,
    _multi: MultiProgress,
}

impl Bars {
    fn new(jobs: &[Job]) -> Self {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template(
            "{prefix:20!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>3} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bars = jobs
            .iter()
            .map(|job| {
                let name = job
                    .dest
                    .file_name()
                    .map_or_else(|| job.url.clone(), |n| n.to_string_lossy().into_owned());
                let bar = multi.add(ProgressBar::new(0).with_style(style.clone()));
                bar.set_prefix(name);
                bar.set_message("waiting");
                bar
            })
            .collect();
        Self {
            bars,
            _multi: multi,
        }
    }

    fn show(&self, event: &Event) {
        match event {
            Event::Started { job, .. } => self.bars[*job].set_message("connecting"),
            Event::Receiving { job, from, total } => {
                let bar = &self.bars[*job];
                match total {
                    Some(total) => bar.set_length(*total),
                    None => bar.unset_length(),
                }
                bar.set_position(*from);
                bar.reset_eta();
                bar.set_message(if *from > 0 { "resumed" } else { "" });
            }
            Event::Progress { job, bytes } => self.bars[*job].set_position(*bytes),
            Event::Retrying {
                job,
                attempt,
                delay,
                error,
            } => self.bars[*job].set_message(format!(
                "attempt {attempt} failed ({error}); again in {delay:.1?}"
            )),
            Event::Finished { job, .. } => self.bars[*job].finish_with_message("done"),
            Event::Failed { job, error } => {
                self.bars[*job].abandon_with_message(format!("FAILED: {error}"));
            }
        }
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode, String> {
    let options = CheckOptions {
        concurrency: args.concurrency,
        timeout: seconds(args.timeout, "--timeout")?,
    };
    let report = check_urls(&args.urls, &options);
    for check in &report.checks {
        match &check.outcome {
            Ok(latency) => println!("UP    {:>8.1?}  {}", latency, check.url),
            Err(e) => println!("DOWN            {}: {e}", check.url),
        }
    }
    let average = report
        .average_latency
        .map_or_else(|| "-".to_string(), |d| format!("{d:.1?}"));
    println!(
        "\n{} up, {} down, average latency {average}",
        report.up, report.down
    );
    Ok(if report.down == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Bytes in KiB, MiB or GiB.
fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("500"), Ok(500));
        assert_eq!(parse_rate("2K"), Ok(2048));
        assert_eq!(parse_rate("1.5M"), Ok(1_572_864));
        assert_eq!(parse_rate("1g"), Ok(1 << 30));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("3X").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(file_name("http://h:1/a/b.iso"), "b.iso");
        assert_eq!(file_name("http://h:1/a/b.iso?x=1"), "b.iso");
        assert_eq!(file_name("http://h:1/"), "index.html");
        assert_eq!(file_name("http://h:1"), "index.html");
        assert_eq!(file_name("http://h:1/a/.."), "download");
    }

    #[test]
    fn checksums() {
        let hex = "ab".repeat(32);
        assert_eq!(
            parse_checksum(&format!("http://h/x?a=b={hex}")),
            Ok(("http://h/x?a=b".to_string(), hex.clone()))
        );
        assert!(parse_checksum("http://h/x=abc").is_err());
    }
}

//! Colour, only where it helps: on a terminal, and never with `NO_COLOR`
//! set (<https://no-color.org>) or `TERM=dumb`.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A foreground colour for a word of output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Green,
    Red,
    Yellow,
    Cyan,
    Bold,
    Dim,
}

impl Colour {
    fn code(self) -> &'static str {
        match self {
            Colour::Green => "32",
            Colour::Red => "31",
            Colour::Yellow => "33",
            Colour::Cyan => "36",
            Colour::Bold => "1",
            Colour::Dim => "2",
        }
    }
}

/// Whether standard output gets colours.
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        decide(
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::env::var("TERM").is_ok_and(|t| t == "dumb"),
            std::io::stdout().is_terminal(),
        )
    })
}

fn decide(no_colour: bool, dumb: bool, terminal: bool) -> bool {
    terminal && !no_colour && !dumb
}

/// `text` in `colour` when colours are on, else unchanged.
pub fn paint(text: &str, colour: Colour) -> String {
    if enabled() {
        format!("\x1b[{}m{text}\x1b[0m", colour.code())
    } else {
        text.to_string()
    }
}

/// The colour of a status word in a table ("pass", "FAIL", "TIMEOUT" ...).
pub fn status_colour(word: &str) -> Option<Colour> {
    let word = word.trim().trim_start_matches('[').trim_end_matches(']');
    match word {
        "pass" | "passed" | "done" => Some(Colour::Green),
        "FAIL" | "COMPILE ERROR" | "BUILD ERROR" | "CRASH" | "NO TESTS" | "ERROR" => {
            Some(Colour::Red)
        }
        "TIMEOUT" | "changed" => Some(Colour::Yellow),
        "skipped" | "not run" | "-" => Some(Colour::Dim),
        _ => None,
    }
}

/// Colours a table cell that holds a status word, keeping its padding.
pub fn status_cell(padded: &str) -> String {
    match status_colour(padded) {
        Some(colour) if enabled() => {
            let word = padded.trim_end();
            let pad = &padded[word.len()..];
            format!("{}{pad}", paint(word, colour))
        }
        _ => padded.to_string(),
    }
}

/// A spinner on a terminal with colours on; nothing otherwise.
pub fn spinner(message: &str) -> ProgressBar {
    if !enabled() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_or_dumb() {
        assert!(decide(false, false, true));
        assert!(!decide(true, false, true), "NO_COLOR turns colours off");
        assert!(!decide(false, true, true), "TERM=dumb turns colours off");
        assert!(!decide(false, false, false), "a pipe gets plain text");
    }

    #[test]
    fn status_words_get_their_colours() {
        assert_eq!(status_colour("[pass]"), Some(Colour::Green));
        assert_eq!(status_colour("FAIL   "), Some(Colour::Red));
        assert_eq!(status_colour("[TIMEOUT]"), Some(Colour::Yellow));
        assert_eq!(status_colour("t1"), None);
    }
}

//! Single keys for `checker watch`: on a terminal, input is switched to
//! non-canonical mode without echo, so `h` acts at once without Enter. The
//! old settings come back on exit, on Ctrl-C and on `q`.

use std::io::{IsTerminal, Read};
use std::sync::Mutex;
use std::sync::mpsc::Sender;

/// The terminal settings to restore, while key mode is on.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Turns key mode on when standard input is a terminal. Returns whether it
/// did.
pub fn enter_key_mode() -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    // SAFETY: termios is plain old data; tcgetattr fills it in.
    let mut settings: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is open (it is a terminal) and `settings` is valid.
    if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut settings) } != 0 {
        return false;
    }
    let saved = settings;
    settings.c_lflag &= !(libc::ICANON | libc::ECHO);
    settings.c_cc[libc::VMIN] = 1;
    settings.c_cc[libc::VTIME] = 0;
    // SAFETY: as above; ISIG stays on, so Ctrl-C still interrupts.
    if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &settings) } != 0 {
        return false;
    }
    *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved);
    true
}

/// Puts the terminal back as it was, if key mode is on. Safe to call twice.
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(settings) = saved {
        // SAFETY: restores settings read from the same descriptor.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &settings);
        }
    }
}

/// Reads standard input on a thread of its own and sends each key that is
/// not white space, mapped through `wrap`; sends `closed` at end of input.
pub fn spawn_key_reader<E: Send + 'static>(tx: Sender<E>, wrap: fn(char) -> E, closed: E) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut byte = [0u8; 1];
        loop {
            match stdin.read(&mut byte) {
                Ok(1) => {
                    let key = char::from(byte[0]);
                    if !key.is_whitespace() && tx.send(wrap(key)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(_) | Err(_) => {
                    let _ = tx.send(closed);
                    return;
                }
            }
        }
    });
}

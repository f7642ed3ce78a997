//! Preloaded into every graded test process (`LD_PRELOAD`), this library
//! replaces libc's `exit`.
//!
//! libtest runs each test on a thread of its own and reports the result
//! from the main thread. `std::process::exit(0)` called by the code under
//! test would end the process with status 0 before libtest says anything,
//! which looks like a pass to anyone who reads only the status. Here an
//! `exit` from any thread but the main one ends the process with
//! [`EXIT_FROM_TEST_THREAD`] instead, and the grader reports the test as
//! failed. An `exit` from the main thread (libtest finishing) is passed on
//! to the real `exit` unchanged.

use std::ffi::{c_int, c_void};

/// The status a process ends with when code on a test's thread calls `exit`.
/// The checker's `libtest` module knows this number.
pub const EXIT_FROM_TEST_THREAD: c_int = 86;

/// libc's `exit`, as seen by every caller in a preloaded process.
///
/// # Safety
/// Called by C and Rust code exactly like libc's `exit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exit(status: c_int) -> ! {
    // SAFETY: plain system calls without memory arguments.
    let on_main_thread =
        unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long };
    if !on_main_thread {
        // SAFETY: _exit ends the process at once; nothing can be unsound after it.
        unsafe { libc::_exit(EXIT_FROM_TEST_THREAD) }
    }
    // SAFETY: RTLD_NEXT finds the next `exit` after this library: libc's.
    let real: *mut c_void = unsafe { libc::dlsym(libc::RTLD_NEXT, c"exit".as_ptr()) };
    if real.is_null() {
        // SAFETY: as above.
        unsafe { libc::_exit(status) }
    }
    // SAFETY: the symbol is libc's `exit`, whose signature this is.
    let real: extern "C" fn(c_int) -> ! = unsafe { std::mem::transmute(real) };
    real(status)
}

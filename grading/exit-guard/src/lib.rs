//! Preloaded into every graded test process (`LD_PRELOAD`), this library
//! makes sure that a status of 0 means libtest finished and reported.
//!
//! libtest runs each test on a thread of its own and reports the result
//! from the main thread. `std::process::exit(0)` called by the code under
//! test would end the process with status 0 before libtest says anything,
//! which looks like a pass to anyone who reads only the status. Here an
//! `exit` from any thread but the main one ends the process with
//! [`EXIT_FROM_TEST_THREAD`] instead, and the grader reports the test as
//! failed. Each route has a status of its own, so that the grader can say
//! which one was taken.
//!
//! In the test process itself (the grader sets `CHECKER_EXIT_GUARD=strict`,
//! which this library removes at once, so the programs a test starts are
//! not judged), two more routes are closed:
//! - an `exit(0)` before `main` returned (from a constructor hidden in the
//!   student's code, for instance) ends it with [`EXIT_BEFORE_MAIN_RETURNED`];
//! - replacing the test process with another program (`exec`, which safe
//!   Rust reaches through `CommandExt::exec`) ends it with [`EXEC_OF_TEST`],
//!   so that `/bin/echo` cannot print libtest's lines and exit 0 in its place.
//!
//! What remains is code that leaves the process through raw system calls;
//! that needs `unsafe`, which the grader reports.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

/// The status a process ends with when code on a test's thread calls `exit`.
/// The checker's `libtest` module knows these numbers.
pub const EXIT_FROM_TEST_THREAD: c_int = 86;
/// The status when the test process calls `exit(0)` before `main` returned.
pub const EXIT_BEFORE_MAIN_RETURNED: c_int = 87;
/// The status when the test process tries to `exec` another program.
pub const EXEC_OF_TEST: c_int = 88;

/// Whether this process is the graded test process.
static STRICT: AtomicBool = AtomicBool::new(false);
/// The test process's pid (a forked child has another).
static TEST_PID: AtomicI32 = AtomicI32::new(0);
/// Set once the program's `main` has returned.
static MAIN_RETURNED: AtomicBool = AtomicBool::new(false);
/// The program's real `main`, wrapped by [`__libc_start_main`].
static REAL_MAIN: AtomicUsize = AtomicUsize::new(0);

type Main = unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;

/// Runs when the library is loaded, before the program's own constructors.
extern "C" fn on_load() {
    resolve_exec();
    // SAFETY: getenv/unsetenv on static C strings, before any thread exists.
    unsafe {
        let value = libc::getenv(c"CHECKER_EXIT_GUARD".as_ptr());
        if !value.is_null() && libc::strcmp(value, c"strict".as_ptr()) == 0 {
            STRICT.store(true, Ordering::SeqCst);
            TEST_PID.store(libc::getpid(), Ordering::SeqCst);
        }
        libc::unsetenv(c"CHECKER_EXIT_GUARD".as_ptr());
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;

/// Ends the process with a failing `status` that names the route, at once.
fn fail(status: c_int) -> ! {
    // SAFETY: _exit ends the process; nothing can be unsound after it.
    unsafe { libc::_exit(status) }
}

/// Whether this is the graded test process (not a child it forked).
fn is_test_process() -> bool {
    // SAFETY: getpid has no preconditions.
    STRICT.load(Ordering::SeqCst) && unsafe { libc::getpid() } == TEST_PID.load(Ordering::SeqCst)
}

/// The next definition of `name` after this library: libc's.
fn next(name: &std::ffi::CStr) -> *mut c_void {
    // SAFETY: RTLD_NEXT with a NUL-terminated name.
    unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) }
}

/// glibc's program start, wrapped so that the guard knows when `main` returned.
///
/// # Safety
/// Called by the program's `_start` exactly like glibc's.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __libc_start_main(
    main: Main,
    argc: c_int,
    argv: *mut *mut c_char,
    init: *mut c_void,
    fini: *mut c_void,
    rtld_fini: *mut c_void,
    stack_end: *mut c_void,
) -> c_int {
    type Start = unsafe extern "C" fn(
        Main,
        c_int,
        *mut *mut c_char,
        *mut c_void,
        *mut c_void,
        *mut c_void,
        *mut c_void,
    ) -> c_int;
    REAL_MAIN.store(main as usize, Ordering::SeqCst);
    let real = next(c"__libc_start_main");
    if real.is_null() {
        fail(EXIT_FROM_TEST_THREAD);
    }
    // SAFETY: the symbol is glibc's `__libc_start_main`, whose signature this is.
    let real: Start = unsafe { std::mem::transmute(real) };
    // SAFETY: the arguments are passed on unchanged, with `main` wrapped.
    unsafe { real(wrapped_main, argc, argv, init, fini, rtld_fini, stack_end) }
}

unsafe extern "C" fn wrapped_main(
    argc: c_int,
    argv: *mut *mut c_char,
    envp: *mut *mut c_char,
) -> c_int {
    // SAFETY: REAL_MAIN holds the program's `main`, stored just before.
    let main: Main = unsafe { std::mem::transmute(REAL_MAIN.load(Ordering::SeqCst)) };
    // SAFETY: called exactly as glibc would call it.
    let code = unsafe { main(argc, argv, envp) };
    MAIN_RETURNED.store(true, Ordering::SeqCst);
    code
}

/// libc's `exit`, as seen by every caller in a preloaded process.
///
/// # Safety
/// Called by C and Rust code exactly like libc's `exit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn exit(status: c_int) -> ! {
    // SAFETY: plain system calls without memory arguments.
    let on_main_thread =
        unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long };
    let early_success = status == 0 && is_test_process() && !MAIN_RETURNED.load(Ordering::SeqCst);
    if !on_main_thread {
        fail(EXIT_FROM_TEST_THREAD);
    }
    if early_success {
        fail(EXIT_BEFORE_MAIN_RETURNED);
    }
    let real = next(c"exit");
    if real.is_null() {
        // SAFETY: as in `fail`.
        unsafe { libc::_exit(status) }
    }
    // SAFETY: the symbol is libc's `exit`, whose signature this is.
    let real: extern "C" fn(c_int) -> ! = unsafe { std::mem::transmute(real) };
    real(status)
}

type Exec = unsafe extern "C" fn(*const c_char, *const *const c_char) -> c_int;
type ExecEnv =
    unsafe extern "C" fn(*const c_char, *const *const c_char, *const *const c_char) -> c_int;

/// Fails the test process when it would replace itself with another program.
fn refuse_exec_of_test_process() {
    if is_test_process() {
        fail(EXEC_OF_TEST);
    }
}

/// libc's exec functions, looked up at load time: after a `fork` in a
/// threaded program, the child may neither allocate nor call `dlsym`.
static REAL_EXEC: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];
const EXEC_NAMES: [&std::ffi::CStr; 4] = [c"execv", c"execvp", c"execve", c"execvpe"];

fn resolve_exec() {
    for (slot, name) in REAL_EXEC.iter().zip(EXEC_NAMES) {
        slot.store(next(name) as usize, Ordering::SeqCst);
    }
}

macro_rules! guarded_exec {
    ($name:ident, $index:expr, $kind:ty, ($($arg:ident: $ty:ty),*)) => {
        /// libc's function of the same name, refused in the test process itself.
        ///
        /// # Safety
        /// Called exactly like libc's.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> c_int {
            refuse_exec_of_test_process();
            let real = REAL_EXEC[$index].load(Ordering::SeqCst) as *mut c_void;
            if real.is_null() {
                return -1;
            }
            // SAFETY: the symbol is libc's function of this name and signature.
            let real: $kind = unsafe { std::mem::transmute(real) };
            // SAFETY: the arguments are passed on unchanged.
            unsafe { real($($arg),*) }
        }
    };
}

guarded_exec!(execv, 0, Exec, (path: *const c_char, argv: *const *const c_char));
guarded_exec!(execvp, 1, Exec, (file: *const c_char, argv: *const *const c_char));
guarded_exec!(execve, 2, ExecEnv, (path: *const c_char, argv: *const *const c_char, envp: *const *const c_char));
guarded_exec!(execvpe, 3, ExecEnv, (file: *const c_char, argv: *const *const c_char, envp: *const *const c_char));

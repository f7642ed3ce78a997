//! One module per subcommand.

pub mod bench;
pub mod dev_bugs;
pub mod dev_check;
pub mod dev_new;
pub mod doctor;
pub mod hint;
pub mod list;
pub mod reset;
pub mod solution;
pub mod status;
pub mod verify;
pub mod watch;

//! Helpers shared by lesson 09's test files.

use std::env;

use wal::Record;

/// The records with LSNs 1, 2, ... and these payloads.
pub fn records(payloads: &[Vec<u8>]) -> Vec<Record> {
    payloads
        .iter()
        .zip(1..)
        .map(|(payload, lsn)| Record {
            lsn,
            payload: payload.clone(),
        })
        .collect()
}

/// A size from the environment variable `name`, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    match env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}")),
        Err(_) => default,
    }
}

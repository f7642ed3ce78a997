//! Graded tests: work in progress.

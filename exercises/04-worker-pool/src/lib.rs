//! Lesson 04-worker-pool: work in progress.

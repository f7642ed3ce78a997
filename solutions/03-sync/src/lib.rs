//! Lesson 03-sync: work in progress.

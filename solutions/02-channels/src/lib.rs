//! Lesson 02-channels: work in progress.

//! Lesson 06: memory-mapped files.

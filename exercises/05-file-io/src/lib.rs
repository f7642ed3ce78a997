//! Lesson 05: file I/O done right.

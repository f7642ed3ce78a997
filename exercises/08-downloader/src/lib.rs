//! Lesson 08: a concurrent HTTP downloader.

//! Lesson 07: batch file processing.

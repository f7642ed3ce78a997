//! A fault-injecting HTTP test server on 127.0.0.1.

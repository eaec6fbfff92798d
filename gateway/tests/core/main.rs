//! Tests of the core through the `Gateway` facade, on the backend named by
//! `KOERIER_TEST_DATABASE` (`sqlite`, the default, or a `postgres://` URL of a
//! server where each test makes its own database). Each test has its own
//! context: a data folder, a database and a clock standing still.

mod access;
mod bed;
mod links;
mod names;
mod outbox;
mod properties;
mod reports;
mod rules;
mod staff;
mod storage;
mod tree;
mod webdav;

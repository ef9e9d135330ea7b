//! Tests of read_delimited.

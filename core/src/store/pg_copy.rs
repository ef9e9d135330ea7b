//! Rows in PostgreSQL's binary `COPY` format, for the new issue rows of bulk writes.
//!
//! `COPY ... FROM STDIN (FORMAT binary)` lets the server insert rows in multi-row batches
//! without parsing text or unnesting arrays: on an import into an empty store it took about
//! a third off the server's time per issue row against the `UNNEST` upsert. The format is the one the PostgreSQL documentation describes under `COPY`, "Binary
//! Format": a fixed header, then per row a 16-bit field count and each field as a 32-bit
//! length (−1 for NULL) and the value in the type's binary form, then a −1 trailer.

use crate::{Error, Result};

/// The header: signature, flags (no OIDs), header extension length (none).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Milliseconds from the Unix epoch to PostgreSQL's, 2000-01-01T00:00:00Z.
const POSTGRES_EPOCH_MILLIS: i64 = 946_684_800_000;

/// The earliest timestamptz PostgreSQL accepts (4714-11-24 00:00:00 BC), in microseconds
/// from its epoch; the latest is `END_MICROS` (294277-01-01, excluded).
const MIN_MICROS: i64 = -211_813_488_000_000_000;
const END_MICROS: i64 = 9_223_371_331_200_000_000;

/// A `COPY` body being written.
pub(crate) struct BinaryRows {
    bytes: Vec<u8>,
}

impl BinaryRows {
    /// An empty body with room for about `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> BinaryRows {
        let mut bytes = Vec::with_capacity(capacity + HEADER.len() + 2);
        bytes.extend_from_slice(HEADER);
        BinaryRows { bytes }
    }

    /// Starts a row of `fields` fields; each field follows with one call below.
    pub fn row(&mut self, fields: i16) -> &mut Self {
        self.bytes.extend_from_slice(&fields.to_be_bytes());
        self
    }

    /// An `int8` field.
    pub fn int8(&mut self, value: i64) -> &mut Self {
        self.bytes.extend_from_slice(&8i32.to_be_bytes());
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A nullable `int8` field.
    pub fn opt_int8(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int8(value),
            None => self.null(),
        }
    }

    /// A `boolean` field.
    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.bytes.extend_from_slice(&1i32.to_be_bytes());
        self.bytes.push(u8::from(value));
        self
    }

    /// A NULL field, of any type.
    pub fn null(&mut self) -> &mut Self {
        self.bytes.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    /// A `text` field (free of NUL, as [`super::rows::prepare`] leaves every text).
    pub fn text(&mut self, value: &str) -> Result<&mut Self> {
        let length = i32::try_from(value.len())
            .map_err(|_| Error::invalid("text", format!("{} bytes is too long", value.len())))?;
        self.bytes.extend_from_slice(&length.to_be_bytes());
        self.bytes.extend_from_slice(value.as_bytes());
        Ok(self)
    }

    /// A nullable `text` field.
    pub fn opt_text(&mut self, value: Option<&str>) -> Result<&mut Self> {
        match value {
            Some(value) => self.text(value),
            None => Ok(self.null()),
        }
    }

    /// A `timestamptz` field from milliseconds since the Unix epoch; an instant PostgreSQL
    /// cannot hold is refused (as `to_timestamp` refuses it) rather than stored as infinity.
    pub fn timestamptz(&mut self, what: &str, millis: i64) -> Result<&mut Self> {
        let micros = millis
            .checked_sub(POSTGRES_EPOCH_MILLIS)
            .and_then(|since| since.checked_mul(1000))
            .filter(|micros| (MIN_MICROS..END_MICROS).contains(micros))
            .ok_or_else(|| {
                Error::invalid(
                    what,
                    format!("{millis} ms from 1970 is outside what PostgreSQL can store"),
                )
            })?;
        Ok(self.int8(micros))
    }

    /// A nullable `timestamptz` field; see [`BinaryRows::timestamptz`].
    pub fn opt_timestamptz(&mut self, what: &str, millis: Option<i64>) -> Result<&mut Self> {
        match millis {
            Some(millis) => self.timestamptz(what, millis),
            None => Ok(self.null()),
        }
    }

    /// The finished body.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_the_documented_bytes() {
        let mut rows = BinaryRows::with_capacity(0);
        rows.row(3).int8(7).boolean(true);
        rows.opt_text(None).expect("null");
        let bytes = rows.finish();
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&[0, 3]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        expected.extend_from_slice(&[0, 0, 0, 1, 1]);
        expected.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(bytes, expected);
        assert_eq!(HEADER.len(), 19);
    }

    #[test]
    fn instants_count_microseconds_from_2000() {
        let mut rows = BinaryRows::with_capacity(0);
        rows.timestamptz("at", POSTGRES_EPOCH_MILLIS + 1).expect("in range");
        assert_eq!(&rows.bytes[HEADER.len() + 4..], &1000i64.to_be_bytes());
        let mut rows = BinaryRows::with_capacity(0);
        rows.timestamptz("at", 0).expect("1970");
        assert_eq!(&rows.bytes[HEADER.len() + 4..], &(-946_684_800_000_000i64).to_be_bytes());
    }

    #[test]
    fn instants_postgres_cannot_hold_are_refused_by_name() {
        let mut rows = BinaryRows::with_capacity(0);
        for millis in [i64::MAX, i64::MIN, 9_300_000_000_000_000] {
            let fault = rows.timestamptz("resolved time", millis).err().expect("refused");
            assert!(fault.to_string().contains("resolved time"), "{fault}");
        }
    }
}

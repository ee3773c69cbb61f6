//! Rows encoded straight into PostgreSQL's binary COPY format in one buffer, sent with a
//! single `COPY … FROM STDIN (FORMAT binary)`. Every integer column is `bigint`, every
//! text `text`, so a field is a length and its big-endian bytes; no per-field type
//! dispatch as in the driver's `BinaryCopyInWriter`.

use crate::StoreError;
use std::io::Write;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// A COPY payload being built.
pub(crate) struct CopyBuf {
    buf: Vec<u8>,
    columns: i16,
    rows: u64,
}

impl CopyBuf {
    pub(crate) fn new(columns: usize) -> CopyBuf {
        let mut buf = Vec::with_capacity(64 * 1024);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        CopyBuf {
            buf,
            columns: i16::try_from(columns).unwrap_or(i16::MAX),
            rows: 0,
        }
    }

    /// Starts a row; the caller then adds exactly `columns` fields.
    pub(crate) fn row(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&self.columns.to_be_bytes());
        self.rows += 1;
        self
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// An unsigned value into a `bigint`: one above `i64::MAX` cannot be stored.
    pub(crate) fn uint(&mut self, v: u64) -> Result<&mut Self, StoreError> {
        let v = i64::try_from(v).map_err(|_| StoreError::Unstorable {
            reason: format!("{v} does not fit a PostgreSQL bigint"),
        })?;
        Ok(self.int(v))
    }

    pub(crate) fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub(crate) fn float(&mut self, v: f64) -> &mut Self {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
        self
    }

    pub(crate) fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) => self.float(v),
            None => self.null(),
        }
    }

    pub(crate) fn boolean(&mut self, v: bool) -> &mut Self {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(v));
        self
    }

    pub(crate) fn text(&mut self, v: &str) -> &mut Self {
        let len = i32::try_from(v.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(v.as_bytes());
        self
    }

    pub(crate) fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// Text written in place by `f` (an address, a number), without a temporary String.
    pub(crate) fn text_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes());
        f(&mut self.buf);
        let len = i32::try_from(self.buf.len() - at - 4).unwrap_or(i32::MAX);
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        self
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    #[cfg(test)]
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// Sends the rows with `COPY {target} FROM STDIN (FORMAT binary)`.
    pub(crate) fn send(
        mut self,
        tx: &mut postgres::Transaction<'_>,
        target: &str,
    ) -> Result<u64, postgres::Error> {
        if self.rows == 0 {
            return Ok(0);
        }
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        let mut w = tx.copy_in(&format!("COPY {target} FROM STDIN (FORMAT binary)"))?;
        // A write error here is the connection failing; finish() reports it as such.
        let _ = w.write_all(&self.buf);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_its_field_count_then_length_prefixed_fields() {
        let mut c = CopyBuf::new(3);
        c.row().int(1).text("ab").null();
        let body = &c.buf[SIGNATURE.len() + 8..];
        assert_eq!(
            body,
            &[
                0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff,
                0xff
            ]
        );
        assert_eq!(c.rows(), 1);
    }

    #[test]
    fn text_written_in_place_gets_its_length() {
        let mut c = CopyBuf::new(1);
        c.row().text_with(|b| b.extend_from_slice(b"10.0.0.1"));
        let body = &c.buf[SIGNATURE.len() + 8 + 2..];
        assert_eq!(&body[..4], &8i32.to_be_bytes());
        assert_eq!(&body[4..], b"10.0.0.1");
    }

    #[test]
    fn an_unsigned_value_past_bigint_is_unstorable() {
        let mut c = CopyBuf::new(1);
        assert!(matches!(
            c.row().uint(u64::MAX),
            Err(StoreError::Unstorable { .. })
        ));
    }
}

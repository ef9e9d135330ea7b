//! A buffered byte scanner over JSON text that finds where each value ends without
//! building it, so that a large document can be read one record at a time.
//!
//! It tracks only what decides where a value ends: strings (with their escapes) and the
//! depth of objects and arrays. Whether a value is well-formed is left to serde_json, which
//! parses each value the scanner cuts out; the scanner keeps the position of every byte it
//! still holds, so serde's line and column inside a value become the line and column in
//! the whole input.

use std::io::Read;

use crate::{Error, Position, Result};

/// Bytes read from the input at a time.
const CHUNK: usize = 256 * 1024;

/// JSON text read through a growing window; bytes before the window are gone.
pub(super) struct Scanner<R> {
    reader: R,
    /// The window: bytes not yet released.
    buf: Vec<u8>,
    /// Next byte of `buf` to look at.
    pub(super) at: usize,
    /// Line (from 1) of `buf[0]`.
    line: u64,
    /// Bytes before `buf[0]` on its line.
    column: u64,
    eof: bool,
    source_name: String,
}

impl<R: Read> Scanner<R> {
    /// A scanner at the start of `reader`, past a UTF-8 byte order mark if there is one.
    pub(super) fn new(source_name: &str, reader: R) -> Result<Self> {
        let mut scanner = Scanner {
            reader,
            buf: Vec::with_capacity(CHUNK),
            at: 0,
            line: 1,
            column: 0,
            eof: false,
            source_name: source_name.to_owned(),
        };
        while scanner.buf.len() < 3 && scanner.fill()? {}
        if scanner.buf.starts_with(b"\xEF\xBB\xBF") {
            // Positions count from after the mark, as they did when it was cut off first.
            scanner.buf.drain(..3);
        }
        Ok(scanner)
    }

    /// The bytes from `start` to `end` of the window.
    pub(super) fn slice(&self, start: usize, end: usize) -> &[u8] {
        &self.buf[start..end]
    }

    /// The bytes from `start` to the end of what has been read so far.
    pub(super) fn rest(&self, start: usize) -> &[u8] {
        &self.buf[start..]
    }

    /// Reads more input onto the end of the window; false at the end of the input.
    fn fill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let read = loop {
            match self.reader.read(&mut self.buf[old..]) {
                Ok(read) => break read,
                Err(fault) if fault.kind() == std::io::ErrorKind::Interrupted => {}
                Err(fault) => {
                    self.buf.truncate(old);
                    return Err(super::super::io_fault(&self.source_name, fault));
                }
            }
        };
        self.buf.truncate(old + read);
        self.eof = read == 0;
        Ok(read > 0)
    }

    /// Drops the bytes before `at` from the window, keeping their lines counted. Done only
    /// once they are many, so that moving the rest costs little.
    pub(super) fn release(&mut self) {
        if self.at < CHUNK {
            return;
        }
        let gone = &self.buf[..self.at];
        match gone.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += gone.iter().filter(|&&b| b == b'\n').count() as u64;
                self.column = (gone.len() - last - 1) as u64;
            }
            None => self.column += gone.len() as u64,
        }
        self.buf.drain(..self.at);
        self.at = 0;
    }

    /// The next byte that is not whitespace, moving `at` onto it; `None` at the end.
    pub(super) fn peek(&mut self) -> Result<Option<u8>> {
        loop {
            while let Some(&byte) = self.buf.get(self.at) {
                if !byte.is_ascii_whitespace() {
                    return Ok(Some(byte));
                }
                self.at += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Where the value starting at `at` ends (exclusive), reading as much input as it
    /// needs; `None` when the input ends first. Numbers and literals end at the next
    /// delimiter or at the end of the input.
    pub(super) fn value_end(&mut self) -> Result<Option<usize>> {
        let start = self.at;
        let mut state = match self.buf.get(start) {
            Some(b'{' | b'[') => Nesting { depth: 0, in_string: false, escaped: false },
            Some(b'"') => Nesting { depth: 0, in_string: true, escaped: false },
            Some(_) => return self.scalar_end(),
            None => return Ok(None),
        };
        let mut index = if state.in_string { start + 1 } else { start };
        loop {
            if let Some(end) = state.scan(&self.buf, &mut index) {
                return Ok(Some(end));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn scalar_end(&mut self) -> Result<Option<usize>> {
        let mut index = self.at;
        loop {
            while let Some(&byte) = self.buf.get(index) {
                if matches!(byte, b',' | b']' | b'}' | b':') || byte.is_ascii_whitespace() {
                    return Ok(Some(index));
                }
                index += 1;
            }
            if !self.fill()? {
                return Ok(Some(index));
            }
        }
    }

    /// Line (from 1) and column (bytes before it on its line, as serde_json counts) of
    /// `buf[index]`.
    pub(super) fn position_of(&self, index: usize) -> (u64, u64) {
        let before = &self.buf[..index.min(self.buf.len())];
        match before.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                let lines = before.iter().filter(|&&b| b == b'\n').count() as u64;
                (self.line + lines, (before.len() - last - 1) as u64)
            }
            None => (self.line, self.column + before.len() as u64),
        }
    }

    /// The position of `buf[index]` for an error, columns counted from 1.
    pub(super) fn error_position(&self, index: usize) -> Position {
        let (line, column) = self.position_of(index);
        Position::LineColumn { line, column: column + 1 }
    }

    /// Where serde_json's fault at (`line`, `column`) of the value starting at
    /// `buf[start]` sits in the whole input.
    pub(super) fn translate(&self, start: usize, line: u64, column: u64) -> Position {
        let (start_line, start_column) = self.position_of(start);
        match line {
            0 => Position::Whole,
            1 => Position::LineColumn { line: start_line, column: start_column + column },
            _ => Position::LineColumn { line: start_line + line - 1, column },
        }
    }

    /// The error for input that ends inside the document, at its last byte as serde_json
    /// reports it.
    pub(super) fn truncated(&self) -> Error {
        // Everything is read by now; the window holds the end of the input.
        let (line, column) = self.position_of(self.buf.len());
        let position = Position::LineColumn { line, column };
        Error::input(&self.source_name, position, "the JSON ends early - the file looks truncated")
    }

    /// The error for a byte at `at` that JSON does not allow there.
    pub(super) fn unexpected(&self, expected: &str) -> Error {
        let found = self.buf.get(self.at).map_or(' ', |&b| b as char);
        let why = format!("this is not valid JSON (found `{found}`, expected {expected})");
        Error::input(&self.source_name, self.error_position(self.at), why)
    }

    /// Succeeds when only whitespace follows.
    pub(super) fn expect_end(&mut self) -> Result<()> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => {
                let why = "this is not valid JSON (trailing characters)";
                Err(Error::input(&self.source_name, self.error_position(self.at + 1), why))
            }
        }
    }

    /// Reads the rest of the input and returns the whole window, from its first byte.
    pub(super) fn into_window(mut self) -> Result<Vec<u8>> {
        while self.fill()? {}
        Ok(self.buf)
    }
}

/// Where a scan inside an object, array or string stands.
struct Nesting {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    /// Scans `buf` from `*index`; the end of the value (exclusive) once found, else `None`
    /// with `*index` at the end of `buf`, to carry on when more input arrived.
    fn scan(&mut self, buf: &[u8], index: &mut usize) -> Option<usize> {
        let mut i = *index;
        while i < buf.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                // Most bytes of JIRA data are text: skip to the next quote or backslash.
                match quote_or_backslash(&buf[i..]) {
                    None => i = buf.len(),
                    Some(offset) => {
                        i += offset;
                        if buf[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                            if self.depth == 0 {
                                return Some(i + 1);
                            }
                        }
                        i += 1;
                    }
                }
                continue;
            }
            match buf[i] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        *index = i;
        None
    }
}

/// Position of the first `"` or `\` in `bytes`, looking at eight bytes at a time: a byte
/// equal to the one sought is a zero byte of the word XORed with it, and the lowest zero
/// byte of a word is found exactly by the borrow trick (false hits only ever sit above a
/// true one).
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut buffer = [0u8; 8];
        buffer.copy_from_slice(word);
        let word = u64::from_le_bytes(buffer);
        let found = zero_bytes(word ^ QUOTES) | zero_bytes(word ^ BACKSLASHES);
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    let rest = words.remainder().iter().position(|&b| b == b'"' || b == b'\\');
    rest.map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::quote_or_backslash;

    #[test]
    fn finds_the_first_quote_or_backslash_at_every_offset() {
        let naive = |bytes: &[u8]| bytes.iter().position(|&b| b == b'"' || b == b'\\');
        // Bytes next in value to the ones sought, high bytes and UTF-8 text around them.
        let filler = "a!#[\x7f\u{e9}\u{80}]\u{2019}".as_bytes();
        for length in 0..40 {
            let base: Vec<u8> = filler.iter().copied().cycle().take(length).collect();
            assert_eq!(quote_or_backslash(&base), naive(&base));
            for at in 0..length {
                for sought in [b'"', b'\\'] {
                    let mut bytes = base.clone();
                    bytes[at] = sought;
                    if at + 3 < length {
                        bytes[at + 3] = b'"';
                    }
                    assert_eq!(quote_or_backslash(&bytes), Some(at), "{bytes:?}");
                    assert_eq!(quote_or_backslash(&bytes), naive(&bytes));
                }
            }
        }
    }
}

//! The portable dump format: plain text, one key/value pair per line, hex-encoded, so trees
//! move between versions and machines (in the spirit of `mdb_dump`). `docs/dump-format.md`
//! is its reference; in short:
//!
//! ```text
//! nevar-dump 1            first line, once: the format and its version
//! tree=users              one section per tree: header lines `name=value` ...
//! entries=2
//! HEADER=END              ... up to this line
//!  616c696365 61646d696e  a space, the key in hex, a space, the value in hex
//!  626f62 726561646572    (keys in ascending order, as `dump` writes them)
//! DATA=END                end of the section; another `tree=` may follow
//! ```
//!
//! Header fields: `tree=NAME` (a name without control characters) or `tree-hex=HEX` (any
//! name), required; `entries=N`, optional, checked on load so a cut-off dump is an error.
//! Unknown fields are errors: a newer format bumps the version.

use std::io::{BufRead, Write};

use nevar::{ReadTxn, Result as DbResult};

/// The first line of every dump.
pub const MAGIC_LINE: &str = "nevar-dump 1";

/// A malformed dump, with the 1-based line where it went wrong.
#[derive(Debug)]
pub struct DumpError {
    pub line: u64,
    pub what: String,
}

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "dump line {}: {}", self.line, self.what)
    }
}

/// Writes the trees `names` of snapshot `read` as one dump.
pub fn write_dump(read: &ReadTxn, names: &[String], out: &mut impl Write) -> DbResult<()> {
    let io = |source| nevar::Error::Io {
        op: "write dump",
        source,
    };
    writeln!(out, "{MAGIC_LINE}").map_err(io)?;
    for name in names {
        let tree = read.open_tree(name)?;
        if name.chars().any(char::is_control) {
            writeln!(out, "tree-hex={}", hex::encode(name)).map_err(io)?;
        } else {
            writeln!(out, "tree={name}").map_err(io)?;
        }
        writeln!(out, "entries={}\nHEADER=END", tree.len()?).map_err(io)?;
        let mut line = String::new();
        for item in tree.iter()? {
            let (key, value) = item?;
            line.clear();
            line.push(' ');
            line.push_str(&hex::encode(key));
            line.push(' ');
            line.push_str(&hex::encode(value));
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(io)?;
        }
        writeln!(out, "DATA=END").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// A key and its value.
pub type Pair = (Vec<u8>, Vec<u8>);

/// One section's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub tree: String,
    pub entries: Option<u64>,
}

/// Reads a dump section by section, pair by pair.
pub struct DumpReader<R> {
    input: R,
    line: String,
    line_no: u64,
}

impl<R: BufRead> DumpReader<R> {
    /// Starts reading, checking the first line.
    pub fn new(input: R) -> Result<DumpReader<R>, DumpError> {
        let mut reader = DumpReader {
            input,
            line: String::new(),
            line_no: 0,
        };
        match reader.next_line()? {
            Some((_, MAGIC_LINE)) => Ok(reader),
            Some((no, other)) if other.starts_with("nevar-dump ") => {
                Err(fail(no, format!("unsupported dump version {other:?}")))
            }
            _ => Err(fail(
                1,
                format!("not a nevar dump (expected {MAGIC_LINE:?})"),
            )),
        }
    }

    /// The line last read, for error messages.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next section's header, or `None` at the end of the input.
    pub fn next_section(&mut self) -> Result<Option<Section>, DumpError> {
        let (mut tree, mut entries) = (None, None);
        loop {
            let at_end = self.line_no + 1;
            let Some((no, line)) = self.next_line()? else {
                return match tree {
                    None => Ok(None),
                    Some(_) => Err(fail(at_end, "input ends inside a header".into())),
                };
            };
            if line == "HEADER=END" {
                let tree = tree.ok_or_else(|| fail(no, "section has no tree= line".into()))?;
                return Ok(Some(Section { tree, entries }));
            }
            let Some((field, value)) = line.split_once('=') else {
                return Err(fail(no, format!("expected a header line, found {line:?}")));
            };
            match field {
                "tree" => tree = Some(value.to_owned()),
                "tree-hex" => {
                    let bytes = hex::decode(value).map_err(|e| fail(no, e.to_string()))?;
                    let name = String::from_utf8(bytes)
                        .map_err(|_| fail(no, "tree name is not UTF-8".into()))?;
                    tree = Some(name);
                }
                "entries" => {
                    let n = value
                        .parse()
                        .map_err(|_| fail(no, format!("bad entry count {value:?}")))?;
                    entries = Some(n);
                }
                other => return Err(fail(no, format!("unknown header field {other:?}"))),
            }
        }
    }

    /// The next pair of the current section, or `None` at its `DATA=END`.
    pub fn next_pair(&mut self) -> Result<Option<Pair>, DumpError> {
        let at_end = self.line_no + 1;
        let Some((no, line)) = self.next_line()? else {
            return Err(fail(at_end, "input ends before DATA=END".into()));
        };
        if line == "DATA=END" {
            return Ok(None);
        }
        let pair = line
            .strip_prefix(' ')
            .and_then(|rest| rest.split_once(' '))
            .ok_or_else(|| fail(no, "expected \" KEYHEX VALUEHEX\" or DATA=END".into()))?;
        let key = hex::decode(pair.0).map_err(|e| fail(no, format!("key: {e}")))?;
        let value = hex::decode(pair.1).map_err(|e| fail(no, format!("value: {e}")))?;
        Ok(Some((key, value)))
    }

    /// The next line with its number, without its line ending; `None` at the end.
    fn next_line(&mut self) -> Result<Option<(u64, &str)>, DumpError> {
        self.line.clear();
        match self.input.read_line(&mut self.line) {
            Ok(0) => Ok(None),
            Ok(_) => {
                self.line_no += 1;
                Ok(Some((
                    self.line_no,
                    self.line.trim_end_matches(['\n', '\r']),
                )))
            }
            Err(e) => Err(fail(self.line_no + 1, e.to_string())),
        }
    }
}

fn fail(line: u64, what: String) -> DumpError {
    DumpError { line, what }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<(Section, Vec<Pair>)>, DumpError> {
        let mut reader = DumpReader::new(text.as_bytes())?;
        let mut out = Vec::new();
        while let Some(section) = reader.next_section()? {
            let mut pairs = Vec::new();
            while let Some(pair) = reader.next_pair()? {
                pairs.push(pair);
            }
            out.push((section, pairs));
        }
        Ok(out)
    }

    #[test]
    fn parses_sections_empty_keys_and_values() {
        let text = "nevar-dump 1\ntree=a\nentries=2\nHEADER=END\n  00\n 6b \nDATA=END\n\
                    tree-hex=620a63\nHEADER=END\nDATA=END\n";
        let parsed = read_all(text).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0.tree, "a");
        assert_eq!(parsed[0].0.entries, Some(2));
        assert_eq!(
            parsed[0].1,
            vec![(vec![], vec![0]), (b"k".to_vec(), vec![])]
        );
        assert_eq!(parsed[1].0.tree, "b\nc");
        assert!(parsed[1].1.is_empty());
    }

    #[test]
    fn rejects_malformed_input_with_its_line() {
        let cases = [
            ("", 1),
            ("nevar-dump 2\n", 1),
            ("nevar-dump 1\ntree=a\nHEADER=END\n 6b 7\nDATA=END\n", 4),
            ("nevar-dump 1\ntree=a\nHEADER=END\n 6b 76\n", 5),
            ("nevar-dump 1\nentries=1\nHEADER=END\n", 3),
            ("nevar-dump 1\ntree=a\ncolour=red\nHEADER=END\n", 3),
            ("nevar-dump 1\ntree=a\nHEADER=END\n6b 76\nDATA=END\n", 4),
        ];
        for (text, line) in cases {
            let err = read_all(text).expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
    }
}

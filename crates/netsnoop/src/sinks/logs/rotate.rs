//! An append-only file that rotates by size (`file`, `file.1` … `file.N`), never splitting
//! an entry, and starts every new file with its header (the CSV column names).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    header: Vec<u8>,
    out: BufWriter<File>,
    size: u64,
    rotations: u64,
}

impl RotatingFile {
    /// Opens `path` for appending, writing `header` first if the file is new or empty.
    pub fn open(path: &Path, max_bytes: u64, keep: u32, header: &str) -> io::Result<Self> {
        let (out, size) = open_append(path, header.as_bytes())?;
        Ok(RotatingFile {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(1),
            keep,
            header: header.as_bytes().to_vec(),
            out,
            size,
            rotations: 0,
        })
    }

    /// Appends one whole entry, rotating first if it would push the file past the limit.
    /// An entry larger than the limit still goes in whole, alone in a fresh file.
    pub fn write_entry(&mut self, entry: &[u8]) -> io::Result<()> {
        let has_entries = self.size > self.header.len() as u64;
        if has_entries && self.size + entry.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.out.write_all(entry)?;
        self.size += entry.len() as u64;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many times this writer rotated its file.
    pub fn rotations(&self) -> u64 {
        self.rotations
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if self.keep == 0 {
            fs::remove_file(&self.path)?;
        } else {
            // Shift file.(k-1) → file.k from the oldest down; file.keep is overwritten.
            for k in (1..self.keep).rev() {
                let from = numbered(&self.path, k);
                if from.exists() {
                    fs::rename(&from, numbered(&self.path, k + 1))?;
                }
            }
            fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        let (out, size) = open_append(&self.path, &self.header)?;
        self.out = out;
        self.size = size;
        self.rotations += 1;
        Ok(())
    }
}

/// `anomalies.csv` → `anomalies.csv.3`.
pub fn numbered(path: &Path, k: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{k}"));
    PathBuf::from(name)
}

fn open_append(path: &Path, header: &[u8]) -> io::Result<(BufWriter<File>, u64)> {
    let file = crate::fsmode::open_append(path)?;
    let mut size = file.metadata()?.len();
    let mut out = BufWriter::new(file);
    if size == 0 && !header.is_empty() {
        out.write_all(header)?;
        out.flush()?;
        size = header.len() as u64;
    }
    Ok((out, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    #[test]
    fn a_full_file_rotates_and_the_new_one_starts_with_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        let mut f = RotatingFile::open(&p, 30, 3, "h1,h2\n").unwrap();
        for i in 0..10 {
            f.write_entry(format!("row{i},xxxx\n").as_bytes()).unwrap();
        }
        f.flush().unwrap();
        // 6 header bytes + 11 per row: two rows per file.
        assert_eq!(read(&p), "h1,h2\nrow8,xxxx\nrow9,xxxx\n");
        assert_eq!(read(&numbered(&p, 1)), "h1,h2\nrow6,xxxx\nrow7,xxxx\n");
        assert_eq!(read(&numbered(&p, 3)), "h1,h2\nrow2,xxxx\nrow3,xxxx\n");
        assert!(!numbered(&p, 4).exists(), "only `keep` old files remain");
        assert_eq!(f.rotations(), 4);
    }

    #[test]
    fn keeping_none_restarts_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.log");
        let mut f = RotatingFile::open(&p, 10, 0, "").unwrap();
        for e in ["aaaaaa\n", "bbbbbb\n", "cccccc\n"] {
            f.write_entry(e.as_bytes()).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(read(&p), "cccccc\n");
        assert!(!numbered(&p, 1).exists());
    }

    #[test]
    fn reopening_appends_without_a_second_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        for row in ["1\n", "2\n"] {
            let mut f = RotatingFile::open(&p, 1000, 2, "h\n").unwrap();
            f.write_entry(row.as_bytes()).unwrap();
            f.flush().unwrap();
        }
        assert_eq!(read(&p), "h\n1\n2\n");
    }

    #[test]
    fn an_entry_larger_than_the_limit_is_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.log");
        let mut f = RotatingFile::open(&p, 8, 1, "").unwrap();
        f.write_entry(b"small\n").unwrap();
        f.write_entry(b"a much longer entry\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&p), "a much longer entry\n");
        assert_eq!(read(&numbered(&p, 1)), "small\n");
    }
}

//! For tests: a directory of its own for a database file, removed when dropped (a test
//! that fails leaves nothing behind either).

use std::path::{Path, PathBuf};

pub struct Scratch(PathBuf);

impl Scratch {
    /// A new, empty directory; `name` makes it recognisable among other tests'.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "ll-db-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// The database file's path in it (not created).
    pub fn file(&self) -> PathBuf {
        self.0.join("db.sqlite")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

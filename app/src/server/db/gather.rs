//! The writer's WAL, written with one system call per commit instead of two per page.
//!
//! SQLite appends a commit to the WAL as frames and writes each with two `pwrite`s: its
//! 24-byte header, then the page. A team expense commits about ten frames: twenty
//! system calls, each paying ext4's per-call work (about 12 % of the write's CPU;
//! ARCHITECTURE.md, "The write path", ninth session). This VFS, which only the writer
//! connection uses ([`open`], for `inline::InlineConnection`), wraps `unix-excl` (the VFS
//! of every other connection of the process, `db::SQLITE_VFS`) and
//! gathers the WAL's contiguous writes in memory. It writes what it gathered, in one
//! call:
//! - after a commit frame's page (SQLite writes the frame's header, then its page), and
//!   at a commit frame's header that does not continue what is held (SQLite rewriting
//!   checksums after a large transaction writes the commit's header last, alone). A
//!   commit's frames are in the file before SQLite publishes them in the WAL index,
//!   where readers and the checkpointer look for frames, and a failed write fails the
//!   commit, as it did;
//! - before anything else is asked of the WAL file (a read, a write somewhere else, a
//!   sync, its size, a truncation, a lock, a file control), so SQLite never meets a
//!   file that differs from what it wrote;
//! - when 64 KiB have gathered (a larger commit, or a transaction larger than the page
//!   cache, which spills frames before its commit).
//!
//! What a transaction that is rolled back gathered is dropped at the rollback (the
//! connection's rollback hook calls [`discard`]) and at close. Those frames were never
//! published; written later, after the write lock is gone, they could land on frames
//! another connection had committed at the same place. So outside a write transaction
//! nothing is held, and the file's bytes change in the order SQLite wrote them.
//!
//! Everything else (the database file, and every other call) goes straight to the
//! wrapped VFS, called "default" below. Its functions are the `unix` family's, which
//! keep one lock table and one WAL index per file for the whole process (under
//! `unix-excl`, in memory), so this connection's locks and the other connections'
//! still meet as before.

use std::{
    ffi::{c_int, c_void, CStr},
    mem::size_of,
    path::Path,
    ptr,
    sync::OnceLock,
};

use rusqlite::{ffi, OpenFlags};

/// The VFS's name, as `sqlite3_open_v2` is given it.
const NAME: &CStr = c"liveledger-gather";

/// The VFS every SQLite connection of the process opens its file with, sqlx's and the
/// writer's (`inline`, through this module's VFS, which wraps it): SQLite's
/// `unix-excl`. (Here, at the bottom of `db`, so that `db` and `inline` both reach it
/// downwards.) The first connection
/// takes an exclusive lock on the file for the whole process, so no other process can
/// open the database while the server runs, and in return the connections of this one
/// coordinate in memory: the WAL index lives in the heap instead of a `-shm` file, and
/// taking and releasing its locks (six times per write, three per read transaction) is
/// no longer a `fcntl` system call each (issue 12; ARCHITECTURE, "The write path").
/// A second server on the same file would not see the first one's writes live anyway
/// (instances share events through PostgreSQL only); now it refuses to start.
pub const SQLITE_VFS: &str = "unix-excl";

/// A WAL frame's header: page number, the database's size after a commit (0 in every
/// frame but a commit's last), salts and checksums.
const FRAME_HEADER: usize = 24;

/// Written out when this much has gathered, commit or not. The `unix` VFS writes at
/// most 128 KiB in one call (`seekAndWriteFd` masks the length with `0x1ffff`): a
/// longer write is cut short and read as a full disk. So what is held is written in
/// pieces of at most this size, a commit of a few dozen pages in one.
const GATHER_LIMIT: usize = 64 * 1024;

/// An open WAL file: SQLite's `sqlite3_file` first (its methods are [`METHODS`]), the
/// default VFS's file for it right after this struct in the same allocation.
#[repr(C)]
struct Gathered {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    held: Vec<u8>,
    /// Where `held` goes in the file.
    at: i64,
    /// The last write was a commit frame's header: its page comes next.
    commit_page_next: bool,
    /// Writes made to the file (what the tests count).
    writes: u64,
}

/// The wrapped VFS ([`SQLITE_VFS`]; "default" in this module), found once, when this
/// one is registered.
struct DefaultVfs(*mut ffi::sqlite3_vfs);

// SAFETY: SQLite's VFS objects are never freed and are safe to use from any thread.
unsafe impl Send for DefaultVfs {}
unsafe impl Sync for DefaultVfs {}

static REGISTERED: OnceLock<Result<DefaultVfs, c_int>> = OnceLock::new();

/// Registers the VFS (once per process).
fn register() -> Result<*mut ffi::sqlite3_vfs, c_int> {
    let registered = REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find` initialises SQLite; a built-in VFS lives as long
        // as the process. The copy keeps its functions: the `unix` VFS's own use of
        // the VFS object they are given is `xOpen`'s, which is replaced here and calls
        // the original with the original object (whose name is what makes `unix-excl`
        // exclusive: `unixOpen` compares it).
        unsafe {
            let Ok(wrapped) = std::ffi::CString::new(SQLITE_VFS) else {
                return Err(ffi::SQLITE_ERROR);
            };
            let real = ffi::sqlite3_vfs_find(wrapped.as_ptr());
            if real.is_null() {
                return Err(ffi::SQLITE_ERROR);
            }
            let mut ours: ffi::sqlite3_vfs = ptr::read(real);
            ours.szOsFile = (size_of::<Gathered>() + (*real).szOsFile as usize) as c_int;
            ours.zName = NAME.as_ptr();
            ours.pNext = ptr::null_mut();
            ours.xOpen = Some(open_file);
            let ours = Box::leak(Box::new(ours));
            match ffi::sqlite3_vfs_register(ours, 0) {
                ffi::SQLITE_OK => Ok(DefaultVfs(real)),
                rc => Err(rc),
            }
        }
    });
    match registered {
        Ok(DefaultVfs(real)) => Ok(*real),
        Err(rc) => Err(*rc),
    }
}

/// Opens the writer's connection on this VFS, with the rollback hook that drops what a
/// rolled-back transaction gathered.
pub fn open(path: &Path, flags: OpenFlags) -> rusqlite::Result<rusqlite::Connection> {
    register().map_err(|rc| rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None))?;
    let name = NAME.to_str().expect("the VFS's name is ASCII");
    let conn = rusqlite::Connection::open_with_flags_and_vfs(path, flags, name)?;
    // SAFETY: the handle is open; the hook's argument is that handle, which outlives
    // the hook (closing the connection removes it).
    unsafe {
        let db = conn.handle();
        ffi::sqlite3_rollback_hook(db, Some(rolled_back), db as *mut c_void);
    }
    Ok(conn)
}

unsafe extern "C" fn rolled_back(db: *mut c_void) {
    // SAFETY: the argument is the connection's handle (see `open`).
    unsafe { discard(db as *mut ffi::sqlite3) }
}

/// The WAL file of `db`'s main database, when it is open on this VFS.
unsafe fn wal_of<'a>(db: *mut ffi::sqlite3) -> Option<&'a mut Gathered> {
    let mut file: *mut ffi::sqlite3_file = ptr::null_mut();
    // SAFETY: `db` is an open handle; the file control only reads the pager's journal
    // (in WAL mode, the WAL) file pointer.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            db,
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_JOURNAL_POINTER,
            &mut file as *mut *mut ffi::sqlite3_file as *mut c_void,
        )
    };
    // SAFETY: a file whose methods are ours was made by `open_file` as a `Gathered`.
    (rc == ffi::SQLITE_OK && !file.is_null() && unsafe { ptr::eq((*file).pMethods, &METHODS) })
        .then(|| unsafe { &mut *(file as *mut Gathered) })
}

/// Drops what the WAL of `db` holds: called when its transaction is rolled back.
///
/// # Safety
/// `db` is an open connection, not in use by another thread.
unsafe fn discard(db: *mut ffi::sqlite3) {
    // SAFETY: as the caller promises.
    if let Some(wal) = unsafe { wal_of(db) } {
        wal.held.clear();
        wal.commit_page_next = false;
    }
}

/// How many writes the WAL of `conn` has made to its file (`None`: not on this VFS, or
/// no WAL open yet).
#[cfg(test)]
fn writes(conn: &rusqlite::Connection) -> Option<u64> {
    // SAFETY: the connection is open and borrowed, so not in use elsewhere.
    unsafe { wal_of(conn.handle()) }.map(|wal| wal.writes)
}

/// `file` as the `Gathered` it is, its default VFS's file, and that file's methods.
unsafe fn real<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a mut Gathered,
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
) {
    // SAFETY: SQLite calls these methods only with files `open_file` made.
    unsafe {
        let wal = &mut *(file as *mut Gathered);
        let real = wal.real;
        (wal, real, &*(*real).pMethods)
    }
}

impl Gathered {
    /// Writes out what is held: one write, or one per 64 KiB.
    fn write_out(&mut self) -> c_int {
        self.commit_page_next = false;
        if self.held.is_empty() {
            return ffi::SQLITE_OK;
        }
        // SAFETY: `real` is the open file `open_file` made; its methods are the
        // default VFS's.
        let Some(write) = (unsafe { (*(*self.real).pMethods).xWrite }) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let mut rc = ffi::SQLITE_OK;
        let mut at = self.at;
        for piece in self.held.chunks(GATHER_LIMIT) {
            // SAFETY: as above; `piece` is readable for its length.
            rc = unsafe {
                write(
                    self.real,
                    piece.as_ptr() as *const c_void,
                    piece.len() as c_int,
                    at,
                )
            };
            self.writes += 1;
            if rc != ffi::SQLITE_OK {
                break;
            }
            at += piece.len() as i64;
        }
        self.held.clear();
        rc
    }
}

unsafe extern "C" fn open_file(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Ok(default) = register() else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY: `default` is the default VFS; `file` points at `szOsFile` bytes, enough
    // for the default VFS's file (alone, or after a `Gathered`).
    unsafe {
        let Some(open) = (*default).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            // Not the WAL: the default VFS's file, with its own methods, and nothing of ours.
            return open(default, name, file, flags, out_flags);
        }
        let real = (file as *mut u8).add(size_of::<Gathered>()) as *mut ffi::sqlite3_file;
        (*real).pMethods = ptr::null();
        let rc = open(default, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // SQLite closes only files whose methods are set: close the real one here.
            if let Some(close) = (*real).pMethods.as_ref().and_then(|m| m.xClose) {
                close(real);
            }
            (*file).pMethods = ptr::null();
            return rc;
        }
        ptr::write(
            file as *mut Gathered,
            Gathered {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                real,
                held: Vec::new(),
                at: 0,
                commit_page_next: false,
                writes: 0,
            },
        );
        ffi::SQLITE_OK
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite hands `amount` readable bytes at `data`.
    let (wal, bytes) = unsafe {
        (
            real(file).0,
            std::slice::from_raw_parts(data as *const u8, amount.max(0) as usize),
        )
    };
    let commit_page = std::mem::take(&mut wal.commit_page_next);
    let follows = !wal.held.is_empty() && offset == wal.at + wal.held.len() as i64;
    if !wal.held.is_empty() && !follows {
        let rc = wal.write_out();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    if wal.held.is_empty() {
        wal.at = offset;
    }
    wal.held.extend_from_slice(bytes);
    let commit_header = bytes.len() == FRAME_HEADER && bytes[4..8] != [0; 4];
    // A commit frame's header that continues what is held is a new frame after the
    // commit's others: its page comes next, and all are written out then. Anywhere else
    // it may be SQLite rewriting the checksums of frames it wrote already, the commit
    // frame's header last, with no page after it: written out at once. (A commit of a
    // single frame, or one whose frames were just written out at the size limit, so
    // takes two writes: its header, then its page, as the flag below still asks.)
    let rc = if commit_page || (commit_header && !follows) || wal.held.len() >= GATHER_LIMIT {
        wal.write_out()
    } else {
        ffi::SQLITE_OK
    };
    wal.commit_page_next = commit_header;
    rc
}

/// Forwards a method to the default VFS's file after writing out what is held.
macro_rules! after_writing_out {
    ($name:ident, $method:ident ( $($arg:ident : $ty:ty),* )) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            // SAFETY: `file` is a file `open_file` made.
            let (wal, real, methods) = unsafe { real(file) };
            let rc = wal.write_out();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            match methods.$method {
                // SAFETY: the default VFS's method, on its own file.
                Some(method) => unsafe { method(real, $($arg),*) },
                None => ffi::SQLITE_IOERR,
            }
        }
    };
}

after_writing_out!(read, xRead(buf: *mut c_void, amount: c_int, offset: i64));
after_writing_out!(truncate, xTruncate(size: i64));
after_writing_out!(sync, xSync(flags: c_int));
after_writing_out!(file_size, xFileSize(size: *mut i64));
after_writing_out!(lock, xLock(level: c_int));
after_writing_out!(unlock, xUnlock(level: c_int));
after_writing_out!(check_reserved_lock, xCheckReservedLock(out: *mut c_int));
after_writing_out!(file_control, xFileControl(op: c_int, arg: *mut c_void));
after_writing_out!(shm_map, xShmMap(page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void));
after_writing_out!(shm_lock, xShmLock(offset: c_int, n: c_int, flags: c_int));
after_writing_out!(shm_unmap, xShmUnmap(delete: c_int));
after_writing_out!(fetch, xFetch(offset: i64, amount: c_int, out: *mut *mut c_void));
after_writing_out!(unfetch, xUnfetch(offset: i64, page: *mut c_void));

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: `file` is a file `open_file` made; SQLite closes it once, then frees it.
    unsafe {
        let (_, real, methods) = real(file);
        // What is held at close was never committed (a commit writes out its frames).
        let rc = match methods.xClose {
            Some(close) => close(real),
            None => ffi::SQLITE_OK,
        };
        ptr::drop_in_place(file as *mut Gathered);
        rc
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: `file` is a file `open_file` made.
    let (_, real, methods) = unsafe { real(file) };
    // SAFETY: the default VFS's method, on its own file.
    methods.xSectorSize.map_or(4096, |f| unsafe { f(real) })
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: `file` is a file `open_file` made.
    let (_, real, methods) = unsafe { real(file) };
    // SAFETY: the default VFS's method, on its own file.
    methods
        .xDeviceCharacteristics
        .map_or(0, |f| unsafe { f(real) })
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: `file` is a file `open_file` made.
    let (_, real, methods) = unsafe { real(file) };
    if let Some(barrier) = methods.xShmBarrier {
        // SAFETY: the default VFS's method, on its own file.
        unsafe { barrier(real) }
    }
}

const _: () = assert!(
    size_of::<Gathered>().is_multiple_of(8),
    "the real file must stay aligned"
);

/// What the WAL of `conn` holds now (`None`: not on this VFS, or no WAL open yet).
#[cfg(test)]
fn held(conn: &rusqlite::Connection) -> Option<usize> {
    // SAFETY: the connection is open and borrowed, so not in use elsewhere.
    unsafe { wal_of(conn.handle()) }.map(|wal| wal.held.len())
}

#[cfg(test)]
mod tests {
    use super::{super::scratch::Scratch, *};

    // Of the pragmas every connection of the server gets, the two that decide how SQLite
    // writes the WAL.
    const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

    const FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
        .union(OpenFlags::SQLITE_OPEN_CREATE)
        .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

    /// The writer, as the driver opens it, on `t`, a table of 500-byte rows with two
    /// indexes (so a commit of a few rows is several frames), and `u`, the same without.
    fn writer(dir: &Scratch) -> rusqlite::Connection {
        let conn = open(&dir.file(), FLAGS).unwrap();
        conn.execute_batch(SQLITE_PRAGMAS).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, body TEXT NOT NULL);
             CREATE INDEX t_by_k ON t (k);
             CREATE INDEX t_by_body ON t (body);
             CREATE TABLE u (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, body TEXT NOT NULL);",
        )
        .unwrap();
        conn
    }

    /// A connection as the server's others are opened, on the VFS this one wraps.
    fn plain(file: &Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_with_flags_and_vfs(file, FLAGS, SQLITE_VFS).unwrap();
        conn.execute_batch(SQLITE_PRAGMAS).unwrap();
        conn
    }

    /// Rows `from..from + n` into `table`, their bodies starting with `tag`.
    fn insert(conn: &rusqlite::Connection, table: &str, from: i64, n: i64, tag: &str) {
        let mut insert = conn
            .prepare_cached(&format!(
                "INSERT INTO {table} (id, k, body) VALUES (?1, ?2, ?3)"
            ))
            .unwrap();
        for id in from..from + n {
            insert
                .execute((id, id * 7 % 101, format!("{tag}{id:>498}")))
                .unwrap();
        }
    }

    /// The rows of `table`, and those tagged `tag`.
    fn counted(conn: &rusqlite::Connection, table: &str, tag: &str) -> (i64, i64) {
        conn.query_row(
            &format!("SELECT count(*), count(*) FILTER (WHERE body LIKE ?1 || '%') FROM {table}"),
            [tag],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    /// The database as a process killed now would leave it: its file and its WAL as they
    /// are on disk, copied without the WAL index (so SQLite rebuilds it from the WAL's
    /// frames, checking every checksum), opened and found whole.
    fn as_left_on_disk(dir: &Scratch) -> (rusqlite::Connection, Scratch) {
        let copy = Scratch::new("gather-copy");
        std::fs::copy(dir.file(), copy.file()).unwrap();
        let wal = |d: &Scratch| d.dir().join("db.sqlite-wal");
        std::fs::copy(wal(dir), wal(&copy)).unwrap();
        let conn = plain(&copy.file());
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        (conn, copy)
    }

    #[test]
    fn a_commit_is_in_the_file_when_it_returns_and_is_written_at_once() {
        let dir = Scratch::new("gather-commit");
        let conn = writer(&dir);
        let wal_size = || std::fs::metadata(dir.dir().join("db.sqlite-wal")).map_or(0, |m| m.len());
        for round in 0..30 {
            let before = writes(&conn).unwrap_or(0);
            let wal_before = wal_size();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            insert(&conn, "t", round * 10, 10, "a");
            conn.execute_batch("COMMIT").unwrap();
            let frames = (wal_size() - wal_before) / (FRAME_HEADER as u64 + 4096);
            let made = writes(&conn).unwrap() - before;
            assert!(frames >= 4, "round {round}: a commit of {frames} frames");
            // One write of all the frames; the first commit also writes the WAL's
            // header, which is synced on its own.
            let most = if round == 0 { 2 } else { 1 };
            assert!(
                made <= most,
                "round {round}: {frames} frames in {made} writes"
            );
            assert_eq!(held(&conn), Some(0), "nothing held after a commit");
            let rows = (round + 1) * 10;
            assert_eq!(counted(&as_left_on_disk(&dir).0, "t", "a"), (rows, rows));
        }
    }

    /// A transaction larger than the page cache writes frames before its commit, and
    /// SQLite writes a page again in place when it changes after that, then rewrites the
    /// checksums of the frames from there on, the commit frame's header included, after
    /// the commit frame. That last header must reach the file too.
    #[test]
    fn a_large_transaction_with_pages_written_twice_is_whole_on_disk() {
        let dir = Scratch::new("gather-large");
        let conn = writer(&dir);
        conn.execute_batch("PRAGMA cache_size = 8").unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        insert(&conn, "t", 0, 2_000, "b");
        conn.execute("UPDATE t SET k = k + 1 WHERE id % 3 = 0", [])
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(held(&conn), Some(0));
        let (copy, _dir) = as_left_on_disk(&dir);
        assert_eq!(counted(&copy, "t", "b"), (2_000, 2_000));
        let moved: i64 = copy
            .query_row("SELECT sum(k) - sum(id * 7 % 101) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(moved, 667, "the update's rows, as committed");
    }

    /// Frames a rolled-back transaction wrote (held, here) are dropped, not written
    /// later over the frames another connection committed at the same place.
    #[test]
    fn frames_of_a_rolled_back_transaction_never_reach_the_file() {
        let dir = Scratch::new("gather-rollback");
        let conn = writer(&dir);
        insert(&conn, "u", 0, 10, "c");
        // An empty WAL: the rollback then reads nothing back from it (the committed
        // pages it reloads are all in the database file), so nothing but the rollback
        // hook lets go of what is held.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        // Appends only (a table without indexes): the pages that spill out of the small
        // cache are not read again, so their frames stay held until the rollback.
        conn.execute_batch("PRAGMA cache_size = 8; BEGIN IMMEDIATE")
            .unwrap();
        insert(&conn, "u", 1_000, 100, "x");
        assert!(
            held(&conn).unwrap() > 0,
            "the spilled frames are held (else this test tests nothing)"
        );
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(held(&conn), Some(0));

        // Another connection commits where the rolled-back frames would have gone.
        let other = plain(&dir.file());
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        insert(&other, "u", 2_000, 100, "d");
        other.execute_batch("COMMIT").unwrap();

        // The writer reads (which writes out anything it still held), then commits.
        assert_eq!(counted(&conn, "u", "d"), (110, 100));
        insert(&conn, "u", 3_000, 1, "e");
        assert_eq!(counted(&as_left_on_disk(&dir).0, "u", "d"), (111, 100));
        let body: String = other
            .query_row("SELECT body FROM u WHERE id = 2099", [], |r| r.get(0))
            .unwrap();
        assert!(body.starts_with('d'), "{body}");
    }
}

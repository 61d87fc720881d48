//! The SQLite file: opening and checking it, its schema and migrations, and
//! the row-level operations. Everything here blocks; the async manager runs
//! it on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keystack_secrets_core::{Error, Result, Secret, SecretName, SecretPatch, SecretSchema};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::LocalError;
use crate::crypto::Cipher;
use crate::files::{check_header, check_private, create_dir, create_private_file};
use crate::key::{self, KeySource, StoreKey};

/// Marks the SQLite file as a Keystack store (`PRAGMA application_id`): "KSTK".
pub(crate) const APPLICATION_ID: i64 = 0x4B53_544B;

/// Migrations, in order; the schema version (`PRAGMA user_version`) is the
/// number of migrations applied. Append only: never edit a released entry.
const MIGRATIONS: &[&str] = &[
    // 1: key check and encrypted secrets.
    "CREATE TABLE meta (
         key   TEXT PRIMARY KEY,
         value BLOB NOT NULL
     ) STRICT;
     CREATE TABLE secrets (
         name       TEXT PRIMARY KEY,
         schema     TEXT NOT NULL,
         nonce      BLOB NOT NULL,
         ciphertext BLOB NOT NULL,
         created_at INTEGER NOT NULL,
         updated_at INTEGER NOT NULL
     ) STRICT;",
];

/// The schema version this build writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// An open, verified store.
#[derive(Debug)]
pub(crate) struct Store {
    conn: Connection,
    ctx: Context,
}

/// Everything but the connection, so that it can be borrowed while a
/// transaction holds the connection mutably.
#[derive(Debug)]
struct Context {
    path: PathBuf,
    cipher: Cipher,
    timeout_ms: u64,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Store {
    /// Opens (creating if needed) the store at `path`, checks it, and
    /// verifies the key. Nothing in an existing file is written before the key
    /// is known to be right.
    pub(crate) fn open(
        path: &Path,
        key_source: &KeySource,
        busy_timeout: Duration,
    ) -> Result<Self, LocalError> {
        let timeout_ms = u64::try_from(busy_timeout.as_millis()).unwrap_or(u64::MAX);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(dir)?;
        }
        create_private_file(path)?;
        check_header(path)?;
        let sqlite = |e| LocalError::sqlite(path, e, timeout_ms);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite)?;
        conn.busy_timeout(busy_timeout).map_err(sqlite)?;
        // Overwrite deleted rows with zeros rather than leaving them in free pages.
        conn.pragma_update(None, "secure_delete", true)
            .map_err(sqlite)?;

        // The cipher is replaced by the store's own before any row is read or
        // written: the key is only known once we know whether the store is new.
        let mut store = Self {
            conn,
            ctx: Context {
                path: path.to_owned(),
                cipher: Cipher::new(&StoreKey::generate()?),
                timeout_ms,
            },
        };
        let (application_id, version) = store.identity()?;
        // Another program's file is that first; then, before anything is
        // read or written, the folder and the file must be the user's alone.
        if application_id != 0 || version != 0 || store.has_tables()? {
            store.check_identity(application_id, version)?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            check_private(dir, true)?;
        }
        check_private(path, false)?;
        if application_id == 0 && version == 0 && store.initialize(key_source)? {
            return Ok(store);
        }
        // An existing store, or one another process initialized first.
        let (application_id, version) = store.identity()?;
        store.check_identity(application_id, version)?;
        store.ctx.cipher = Cipher::new(&store.load_existing_key(key_source)?);
        store.verify_key(key_source)?;
        if version < SCHEMA_VERSION {
            store.migrate()?;
        }
        Ok(store)
    }

    /// Whether the database holds any table (an empty file holds none).
    fn has_tables(&self) -> Result<bool, LocalError> {
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master)", [], |row| {
                row.get::<_, bool>(0)
            })
            .map_err(|e| self.ctx.sqlite(e))
    }

    fn identity(&self) -> Result<(i64, i64), LocalError> {
        let read = |pragma| {
            self.conn
                .pragma_query_value(None, pragma, |row| row.get::<_, i64>(0))
                .map_err(|e| self.ctx.sqlite(e))
        };
        Ok((read("application_id")?, read("user_version")?))
    }

    fn check_identity(&self, application_id: i64, version: i64) -> Result<(), LocalError> {
        if application_id != APPLICATION_ID {
            return Err(LocalError::NotAStore {
                path: self.ctx.path.clone(),
                detail: " (it is another program's SQLite database)".to_owned(),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(LocalError::NewerSchema {
                path: self.ctx.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version == 0 {
            return Err(LocalError::Corrupt {
                path: self.ctx.path.clone(),
                detail: "it is marked as a Keystack store but has no schema".to_owned(),
                source: None,
            });
        }
        Ok(())
    }

    fn load_existing_key(&self, key_source: &KeySource) -> Result<StoreKey, LocalError> {
        match key_source {
            KeySource::Key(key) => Ok(key.clone()),
            KeySource::File(key_path) if !key_path.exists() => Err(LocalError::KeyFileMissing {
                store: self.ctx.path.clone(),
                key: key_path.clone(),
            }),
            KeySource::File(key_path) => key::read_key_file(key_path),
            #[cfg(feature = "keyring")]
            KeySource::Keyring(entry) => {
                entry
                    .read()?
                    .ok_or_else(|| LocalError::KeyringEntryMissing {
                        store: self.ctx.path.clone(),
                        entry: entry.describe(),
                    })
            }
        }
        .map_err(|e| match (e, key_source) {
            (LocalError::BadKey { problem, .. }, _) => LocalError::BadKey {
                origin: key_source.describe(),
                problem,
            },
            (e, _) => e,
        })
    }

    fn verify_key(&self, key_source: &KeySource) -> Result<(), LocalError> {
        let check: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'key_check_nonce'),
                        (SELECT value FROM meta WHERE key = 'key_check')",
                [],
                |row| {
                    Ok(row
                        .get::<_, Option<Vec<u8>>>(0)?
                        .zip(row.get::<_, Option<Vec<u8>>>(1)?))
                },
            )
            .map_err(|e| self.ctx.sqlite(e))?;
        let Some((nonce, ciphertext)) = check else {
            return Err(LocalError::Corrupt {
                path: self.ctx.path.clone(),
                detail: "its key check is missing".to_owned(),
                source: None,
            });
        };
        if self.ctx.cipher.verify_key_check(&nonce, &ciphertext) {
            Ok(())
        } else {
            Err(LocalError::WrongKey {
                store: self.ctx.path.clone(),
                key: key_source.describe(),
            })
        }
    }

    /// Sets up an empty file as a store, returning `false` if another
    /// process did so first (the immediate transaction serializes us; the
    /// caller then treats the store as an existing one).
    fn initialize(&mut self, key_source: &KeySource) -> Result<bool, LocalError> {
        let has_tables: bool = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master)", [], |row| {
                row.get(0)
            })
            .map_err(|e| self.ctx.sqlite(e))?;
        if has_tables {
            // Tables without our mark are another program's; with it, another
            // process initialized the store since we read its identity.
            let (application_id, _) = self.identity()?;
            if application_id == APPLICATION_ID {
                return Ok(false);
            }
            return Err(LocalError::NotAStore {
                path: self.ctx.path.clone(),
                detail: " (it is another program's SQLite database)".to_owned(),
            });
        }
        let key = match key_source {
            KeySource::Key(key) => Some(key.clone()),
            KeySource::File(path) if path.exists() => Some(key::read_key_file(path)?),
            KeySource::File(path) => Some(key::create_key_file(path)?),
            // Taken under the write lock below: a keyring entry, unlike a
            // key file, cannot be created exclusively.
            #[cfg(feature = "keyring")]
            KeySource::Keyring(_) => None,
        };
        if let Some(key) = &key {
            self.ctx.cipher = Cipher::new(key);
        }
        let ctx = &self.ctx;
        let sqlite = |e| ctx.sqlite(e);
        let (tx, version) = begin_immediate(&mut self.conn, &sqlite)?;
        if version != 0 {
            return Ok(false);
        }
        let locked_cipher = match key_source {
            #[cfg(feature = "keyring")]
            KeySource::Keyring(entry) => Some(Cipher::new(&entry.read_or_create()?)),
            _ => None,
        };
        let cipher = locked_cipher.as_ref().unwrap_or(&ctx.cipher);
        tx.execute_batch(MIGRATIONS[0]).map_err(&sqlite)?;
        let check = cipher.key_check()?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('key_check_nonce', ?1), ('key_check', ?2)",
            params![check.nonce.as_slice(), check.ciphertext],
        )
        .map_err(&sqlite)?;
        for migration in &MIGRATIONS[1..] {
            tx.execute_batch(migration).map_err(&sqlite)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(&sqlite)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(&sqlite)?;
        tx.commit().map_err(&sqlite)?;
        if let Some(cipher) = locked_cipher {
            self.ctx.cipher = cipher;
        }
        Ok(true)
    }

    /// Brings an older store up to [`SCHEMA_VERSION`], one migration per
    /// transaction, re-reading the version under the lock.
    fn migrate(&mut self) -> Result<(), LocalError> {
        let ctx = &self.ctx;
        let sqlite = |e| ctx.sqlite(e);
        loop {
            let (tx, version) = begin_immediate(&mut self.conn, &sqlite)?;
            let Some(migration) = usize::try_from(version)
                .ok()
                .and_then(|v| MIGRATIONS.get(v))
            else {
                return Ok(());
            };
            tx.execute_batch(migration).map_err(&sqlite)?;
            tx.pragma_update(None, "user_version", version + 1)
                .map_err(&sqlite)?;
            tx.commit().map_err(&sqlite)?;
        }
    }

    pub(crate) fn register(&mut self, secret: &Secret) -> Result<()> {
        let sealed =
            self.ctx
                .cipher
                .seal_values(secret.name(), secret.schema(), secret.values())?;
        let now = now();
        let inserted = self.conn.execute(
            "INSERT INTO secrets (name, schema, nonce, ciphertext, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                secret.name().as_str(),
                secret.schema().as_str(),
                sealed.nonce.as_slice(),
                sealed.ciphertext,
                now
            ],
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                Err(Error::AlreadyExists {
                    name: secret.name().clone(),
                })
            }
            Err(e) => Err(self.ctx.sqlite(e).into()),
        }
    }

    pub(crate) fn get(&mut self, name: &SecretName) -> Result<Secret> {
        self.ctx.read(&self.conn, name)
    }

    pub(crate) fn list(&mut self) -> Result<Vec<SecretName>> {
        let sqlite = |e| self.ctx.sqlite(e);
        let mut statement = self
            .conn
            .prepare_cached("SELECT name FROM secrets ORDER BY name")
            .map_err(sqlite)?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(sqlite)?;
        let mut names = Vec::new();
        for row in rows {
            let raw = row.map_err(sqlite)?;
            let name = SecretName::new(raw).map_err(|e| LocalError::Corrupt {
                path: self.ctx.path.clone(),
                detail: format!("it holds a row with an {e}"),
                source: None,
            })?;
            names.push(name);
        }
        Ok(names)
    }

    /// Read, patch and write back in one immediate transaction, so concurrent
    /// updates from any number of processes are serialized and none is lost.
    pub(crate) fn update(&mut self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let ctx = &self.ctx;
        let sqlite = |e| ctx.sqlite(e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let mut secret = ctx.read(&tx, name)?;
        secret.apply(patch)?;
        let sealed = ctx
            .cipher
            .seal_values(secret.name(), secret.schema(), secret.values())?;
        tx.execute(
            "UPDATE secrets SET nonce = ?2, ciphertext = ?3, updated_at = ?4 WHERE name = ?1",
            params![
                name.as_str(),
                sealed.nonce.as_slice(),
                sealed.ciphertext,
                now()
            ],
        )
        .map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
        Ok(secret)
    }

    pub(crate) fn delete(&mut self, name: &SecretName) -> Result<()> {
        let deleted = self
            .conn
            .execute("DELETE FROM secrets WHERE name = ?1", [name.as_str()])
            .map_err(|e| self.ctx.sqlite(e))?;
        if deleted == 0 {
            return Err(Error::NotFound { name: name.clone() });
        }
        Ok(())
    }

    pub(crate) fn delete_all(&mut self) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM secrets", [])
            .map_err(|e| self.ctx.sqlite(e))?)
    }

    /// Runs SQLite's full integrity check.
    pub(crate) fn verify(&mut self) -> Result<(), LocalError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(|e| self.ctx.sqlite(e))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(LocalError::Corrupt {
                path: self.ctx.path.clone(),
                detail: format!("integrity check: {result}"),
                source: None,
            })
        }
    }
}

/// Starts an immediate (write-locked) transaction and reads the schema
/// version under that lock.
fn begin_immediate<'c>(
    conn: &'c mut Connection,
    sqlite: &impl Fn(rusqlite::Error) -> LocalError,
) -> Result<(rusqlite::Transaction<'c>, i64), LocalError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    let version = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sqlite)?;
    Ok((tx, version))
}

impl Context {
    fn sqlite(&self, source: rusqlite::Error) -> LocalError {
        LocalError::sqlite(&self.path, source, self.timeout_ms)
    }

    /// Reads and decrypts one secret; a row that fails to decrypt or decode
    /// is reported as unreadable, never returned.
    fn read(&self, conn: &Connection, name: &SecretName) -> Result<Secret> {
        let row: Option<(String, Vec<u8>, Vec<u8>)> = conn
            .query_row(
                "SELECT schema, nonce, ciphertext FROM secrets WHERE name = ?1",
                [name.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|e| self.sqlite(e))?;
        let (schema, nonce, ciphertext) =
            row.ok_or_else(|| Error::NotFound { name: name.clone() })?;
        let unreadable = || LocalError::SecretUnreadable {
            path: self.path.clone(),
            name: name.clone(),
        };
        let schema: SecretSchema = schema.parse().map_err(|_| unreadable())?;
        let values = self
            .cipher
            .open_values(name, schema, &nonce, &ciphertext)
            .ok_or_else(unreadable)?;
        Ok(Secret::new(name.clone(), schema, values).map_err(|_| unreadable())?)
    }
}

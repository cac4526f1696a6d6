//! Where media files live: a local folder (the default, under the data
//! folder) or an S3-compatible bucket, both through `object_store`, so the
//! rest of the code never knows which.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::web::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};

/// An S3 bucket and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    /// For S3-compatible servers; `http://` endpoints are allowed.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    describe: String,
    /// A folder removed when the last handle goes (development and tests).
    _temporary: Option<Arc<TemporaryFolder>>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

struct TemporaryFolder(PathBuf);

impl Drop for TemporaryFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A stored object, or the part of it a range asked for.
pub struct Object {
    pub bytes: Bytes,
    /// The whole object's size.
    pub size: u64,
    /// Where `bytes` start in the object.
    pub offset: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// Why a read found nothing to send.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not stored")]
    NotFound,
    #[error(transparent)]
    Store(#[from] object_store::Error),
}

impl Storage {
    /// A folder on this machine (created when missing).
    pub fn local(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)
            .map_err(|e| anyhow::anyhow!("creating the media folder {}: {e}", root.display()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(root)?
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            describe: format!("local folder {}", root.display()),
            _temporary: None,
        })
    }

    /// A fresh folder under the system's temporary folder, removed when the
    /// last handle is dropped.
    pub fn temporary() -> anyhow::Result<Self> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "newsroom-media-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut storage = Self::local(&root)?;
        storage._temporary = Some(Arc::new(TemporaryFolder(root)));
        Ok(storage)
    }

    /// An S3 bucket (or an S3-compatible server).
    pub fn s3(config: &S3Config) -> anyhow::Result<Self> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                // S3-compatible servers answer at endpoint/bucket.
                .with_virtual_hosted_style_request(false);
        }
        if let Some(key) = &config.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("NEWSROOM_MEDIA_S3_*: {e}"))?;
        Ok(Self {
            store: Arc::new(store),
            describe: format!(
                "S3 bucket {} at {}",
                config.bucket,
                config.endpoint.as_deref().unwrap_or("AWS")
            ),
            _temporary: None,
        })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&path(key)?, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| anyhow::anyhow!("storing {key} in the {self:?}: {e}"))?;
        Ok(())
    }

    /// The object, or the bytes `range` of it (checked against its size
    /// by the caller, with [`Storage::size`]).
    pub async fn get(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Object, ReadError> {
        let location = path(key).map_err(|_| ReadError::NotFound)?;
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&location, options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Err(ReadError::NotFound),
            Err(e) => return Err(ReadError::Store(e)),
        };
        let size = result.meta.size;
        let offset = result.range.start;
        let last_modified = result.meta.last_modified;
        let bytes = result.bytes().await?;
        Ok(Object {
            bytes,
            size,
            offset,
            last_modified,
        })
    }

    /// The size of a stored object, if there is one.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, ReadError> {
        let location = path(key).map_err(|_| ReadError::NotFound)?;
        match self.store.head(&location).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(ReadError::Store(e)),
        }
    }

    /// Deletes `key` and everything under `key/` (a file's renditions).
    pub async fn delete_tree(&self, prefix: &str) -> anyhow::Result<usize> {
        use futures_util::StreamExt;
        let location = path(prefix)?;
        let mut listed = self.store.list(Some(&location));
        let mut gone = 0;
        while let Some(meta) = listed.next().await {
            let meta = meta?;
            self.store.delete(&meta.location).await?;
            gone += 1;
        }
        Ok(gone)
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A key as the store spells it; `..`, empty segments and control
/// characters are refused, so no key leaves the store's root.
fn path(key: &str) -> anyhow::Result<ObjectPath> {
    anyhow::ensure!(
        !key.is_empty() && key.len() <= 512 && !key.chars().any(char::is_control),
        "not a media key"
    );
    Ok(ObjectPath::parse(key)?)
}
